"""Hybrid search: dense (FAISS) and lexical (BM25) candidates, fused, filtered, capped per document."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

import numpy as np

from qa.config import Settings
from qa.dates import mentioned_dates, ordinal, parse_date
from qa.embed.models import Embedder
from qa.errors import BadQuestion
from qa.index import IndexReader
from qa.rerank import Context, Ranker, build_context
from qa.tuning import TUNING, Tuning
from qa.types import KINDS, Hit

log = logging.getLogger(__name__)
Mode = Literal["hybrid", "dense", "lexical"]


Ranked = tuple[np.ndarray, np.ndarray]  # rows, scores; best first


def rrf(rankings: Sequence[Sequence[int] | np.ndarray], k: int = TUNING.rrf_k) -> dict[int, float]:
    """Reciprocal-rank fusion: `rrf([[7, 3], [3]])` -> `{7: 1/61, 3: 1/62 + 1/61}`."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking):
            fused[int(row)] = fused.get(int(row), 0.0) + 1.0 / (k + rank + 1)
    return fused


def weighted(results: Sequence[Ranked | tuple[Sequence[int], Sequence[float]]],
             weights: Sequence[float]) -> dict[int, float]:
    """Weighted sum of per-list min-max normalised scores; a row missing from a list adds 0.

    `weighted([([1, 2], [0.9, 0.5]), ([2], [7.0])], [0.5, 0.5])` -> `{1: 0.5, 2: 0.5}`
    """
    fused: dict[int, float] = {}
    for (rows, scores), w in zip(results, weights):
        if len(rows) == 0:
            continue
        s = np.asarray(scores, dtype=np.float64)
        lo, hi = float(s.min()), float(s.max())
        norm = (s - lo) / (hi - lo) if hi > lo else np.ones_like(s)
        for row, value in zip(rows, norm):
            fused[int(row)] = fused.get(int(row), 0.0) + w * float(value)
    return fused


def cap_per_document(rows: Sequence[int] | np.ndarray, doc_of: np.ndarray, cap: int) -> list[int]:
    """Keep rows in order, at most `cap` from any one document."""
    taken: dict[int, int] = {}
    kept = []
    for row in rows:
        d = int(doc_of[row])
        if taken.get(d, 0) < cap:
            taken[d] = taken.get(d, 0) + 1
            kept.append(int(row))
    return kept


def interleave(lists: Sequence[Sequence[int]]) -> list[int]:
    """Round-robin merge without repeats: `interleave([[1, 2, 3], [4, 1]])` -> `[1, 4, 2, 3]`."""
    merged: dict[int, None] = {}
    for depth in range(max((len(x) for x in lists), default=0)):
        for ranking in lists:
            if depth < len(ranking):
                merged.setdefault(ranking[depth], None)
    return list(merged)


def mentioned_sources(question: str, names: Sequence[str]) -> list[int]:
    """Positions of the outlets a question names, as written (case matters: "Fortune" the
    magazine, not "fortune"); "The Independent - Sports" is matched as "Independent"."""
    return [i for i, name in enumerate(names) if (pattern := _outlet_pattern(name)) and pattern.search(question)]


@lru_cache(maxsize=4096)
def _outlet_pattern(name: str) -> re.Pattern[str] | None:
    """How a question writes an outlet: "The Independent - Sports" -> "Independent"; None when too short."""
    short = re.sub(r"^The\s+", "", re.split(r"\s+[-|]\s+", name)[0]).strip()
    return re.compile(rf"(?<![\w.]){re.escape(short)}(?!\w)") if len(short) >= 3 else None


@dataclass(frozen=True)
class Filters:
    kinds: tuple[str, ...] = KINDS
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None
    outlets: tuple[str, ...] = ()  # outlet names (any of them; case ignored); () for every outlet
    authors: tuple[str, ...] = ()  # article authors or commenters (any of them; case ignored); () for all

    def mask(self, index: IndexReader) -> np.ndarray | None:
        """Bool per row, or None when nothing is filtered out. An outlet or author the index does not
        know is a BadQuestion that names it."""
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise BadQuestion(f"Unknown kind {sorted(unknown)[0]!r}; use article, comment or all.")
        mask = np.ones(len(index), dtype=bool)
        if set(self.kinds) != set(KINDS):
            mask &= np.isin(index.kinds, [KINDS.index(k) for k in self.kinds])
        for bound, keep in ((self.date_from, np.greater_equal), (self.date_to, np.less_equal)):
            if bound:
                iso = parse_date(bound)
                if iso is None:
                    raise BadQuestion(f"Bad date {bound!r}; write it as YYYY-MM-DD.")
                mask &= (index.days >= 0) & keep(index.days, ordinal(iso))
        if self.outlets:
            mask &= np.isin(index.sources, _positions(self.outlets, index.source_names, "outlet"))
        if self.authors:
            codes, names = index.authors()
            mask &= np.isin(codes, _positions(self.authors, names, "author"))
        return None if mask.all() else mask


def _positions(wanted: Sequence[str], names: Sequence[str], what: str) -> list[int]:
    """Positions in `names` of each wanted name, case and spacing ignored; BadQuestion for one not there."""
    def key(name: str) -> str:
        return " ".join(name.split()).casefold()

    by_key: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        by_key.setdefault(key(name), []).append(i)
    out = []
    for name in wanted:
        found = by_key.get(key(name))
        if not found:
            shown = " ".join(name.split())[:80]
            raise BadQuestion(f"No {what} named {shown!r} in this index; check the spelling "
                              f"(an {what} is matched whole, case ignored).")
        out += found
    return out


@dataclass
class FirstStage:
    """The fused lists of one question: the main one and one per outlet or date it names."""

    lists: list[list[int]]  # the main list, then one per outlet or date named; each best first
    fused: dict[int, float]  # score in the main list
    sub: dict[int, float]  # best score in the head (`Tuning.sub_depth`) of an outlet or date list
    score: dict[int, float]  # every listed row's score: in the main list, else in the first list holding it
    dense: dict[int, float]  # cosine, for dense candidates
    lexical: dict[int, float]  # BM25, for lexical candidates
    sources: list[int]  # outlets named, as positions in index.source_names
    dates: list[str]  # ISO dates named

    @cached_property
    def ordered(self) -> list[int]:
        """The lists interleaved."""
        return interleave(self.lists)


class Retriever:
    """Search over one index. `reranker` reorders hybrid candidates (when `settings.rerank` is on and
    it fits the embedding model and the question: `ranker`); without one the first stage ranks alone."""

    def __init__(self, index: IndexReader, embedder: Embedder, settings: Settings, reranker: Ranker | None = None,
                 tuning: Tuning = TUNING) -> None:
        self.index, self.embedder, self.settings = index, embedder, settings
        self.reranker, self.tuning = reranker, tuning
        self._members: dict[int, np.ndarray] | None = None
        self._warned = False

    def _fused(self, query: str, vector: np.ndarray | None, mask: np.ndarray | None,
               mode: Mode) -> tuple[list[int], dict[int, float], Ranked, Ranked]:
        """Candidates of both retrievers under `mask`, fused and ordered best first."""
        s = self.settings
        none: Ranked = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        dense = self.index.dense_search(vector, s.depth, mask) if vector is not None else none
        lexical = self.index.lexical_search(query, s.depth, mask) if mode != "dense" else none
        if mode == "hybrid" and s.fusion == "rrf":
            fused = rrf([dense[0], lexical[0]], self.tuning.rrf_k)
        elif mode == "hybrid":
            fused = weighted([dense, lexical], [s.dense_weight, 1.0 - s.dense_weight])
        else:
            fused = {int(r): float(v) for r, v in zip(*(dense if mode == "dense" else lexical))}
        return sorted(fused, key=lambda r: (-fused[r], r)), fused, dense, lexical

    def first_stage(self, query: str, vector: np.ndarray | None, mask: np.ndarray | None,
                    mode: Mode = "hybrid") -> FirstStage:
        """The main fused list, and (when `split_sources`) one list for each outlet the question
        names ("as reported by TechCrunch … and Fortune") and each date it names ("published on
        October 13th, 2023"), interleaved so evidence from every source it compares comes early."""
        ordered, fused, dense, lexical = self._fused(query, vector, mask, mode)
        lists, score = [ordered], dict(fused)
        sub: dict[int, float] = {}
        sources = mentioned_sources(query, self.index.source_names) if self.settings.split_sources else []
        dates = mentioned_dates(query) if self.settings.split_sources else []
        subsets = [self.index.sources == source for source in sources]
        subsets += [self.index.days == ordinal(d) for d in dates]
        for sub_mask in subsets:
            if mask is not None:
                sub_mask &= mask
            if not sub_mask.any():
                continue
            sub_ordered, sub_fused, _, _ = self._fused(query, vector, sub_mask, mode)
            lists.append(sub_ordered)
            for row, value in sub_fused.items():
                score.setdefault(row, value)
            for row in sub_ordered[:self.tuning.sub_depth]:
                sub[row] = max(sub.get(row, 0.0), sub_fused[row])
        return FirstStage(lists, fused, sub, score, dict(zip(dense[0].tolist(), dense[1].tolist())),
                          dict(zip(lexical[0].tolist(), lexical[1].tolist())), sources, dates)

    def ranker(self, query: str | None = None) -> Ranker | None:
        """The reranker when `rerank` is on, it was fitted on this embedding model's cosines
        (another model's run on another scale) and, given a query, on questions no longer than it
        (`Ranker.fits`); otherwise None: the first stage ranks alone."""
        ranker = self.reranker
        if not self.settings.rerank or ranker is None:
            return None
        if ranker.model != self.embedder.model_id:
            if not self._warned:
                log.info("The reranker was fitted for %s, not %s; ranking with the first stage only.",
                         ranker.model, self.embedder.model_id)
                self._warned = True
            return None
        return ranker if query is None or ranker.fits(query) else None

    def members(self, doc: int) -> np.ndarray:
        """Rows of one document (by its number in `index.doc_rows`)."""
        if self._members is None:
            order = np.argsort(self.index.doc_rows, kind="stable")
            bounds = np.flatnonzero(np.diff(self.index.doc_rows[order])) + 1
            self._members = {int(self.index.doc_rows[g[0]]): g for g in np.split(order, bounds) if len(g)}
        return self._members.get(doc, np.zeros(0, dtype=np.int64))

    def candidates(self, query: str, vector: np.ndarray, stage: FirstStage, mask: np.ndarray | None) -> Context:
        """What the reranker sees: the head of every first-stage list, and every chunk of the
        documents they lead with (evidence is often a plain sentence deep in a matching article)."""
        s, t = self.settings, self.tuning
        rows = interleave([stage.lists[0][: s.depth]] + [sub[:t.sub_depth] for sub in stage.lists[1:]])
        taken = set(rows)
        for doc in list(dict.fromkeys(int(self.index.doc_rows[r]) for r in rows))[:t.expand_docs]:
            extra = [int(r) for r in self.members(doc) if int(r) not in taken and (mask is None or mask[r])]
            rows.extend(extra)
            taken.update(extra)
        names = self.index.source_names
        return build_context(query, vector, rows, self.index, self.embedder, stage.fused, stage.sub,
                             {names[i] for i in stage.sources}, stage.dates, t)

    def search(self, query: str, k: int | None = None, filters: Filters = Filters(),
               mode: Mode = "hybrid") -> list[Hit]:
        """The best `k` passages for the query, best first: the first stage's candidates, reordered
        by the reranker (`rerank`, hybrid mode), at most `per_doc` from one document."""
        s = self.settings
        k = k or s.k
        mask = filters.mask(self.index)
        if mask is not None and not mask.any():
            return []
        vector = self.embedder.embed_query(query) if mode != "lexical" else None
        stage = self.first_stage(query, vector, mask, mode)
        dense_of, lexical_of = dict(stage.dense), dict(stage.lexical)
        ranker = self.ranker(query) if mode == "hybrid" and stage.ordered else None
        if ranker is not None and vector is not None:
            context = self.candidates(query, vector, stage, mask)
            score = dict(zip(context.rows, ranker.score_context(context).tolist()))
            dense_of.update(zip(context.rows, context.dense.tolist()))
            lexical_of.update((r, v) for r, v in zip(context.rows, context.lexical.tolist()) if v > 0)
            by_row = dict(zip(context.rows, context.chunks))
            ordered = sorted(context.rows, key=lambda r: (-score[r], r))
        else:
            score = stage.score
            ordered, by_row = stage.ordered, {}
        rows = cap_per_document(ordered, self.index.doc_rows, s.per_doc)[:k]
        missing = [r for r in rows if r not in by_row]
        by_row.update(zip(missing, self.index.chunks(missing)))
        chunks = [by_row[r] for r in rows]
        metas = self.index.meta(rows)
        sentences = self.index.sentence_vectors(rows)
        return [
            Hit(chunk=c, score=score[r], rank=i + 1, dense_score=dense_of.get(r),
                lexical_score=lexical_of.get(r), source=meta.source, url=meta.url, path=meta.path,
                sentences=vectors if len(vectors) else None)
            for i, (r, c, meta, vectors) in enumerate(zip(rows, chunks, metas, sentences))
        ]
