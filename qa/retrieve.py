"""Hybrid search: dense (FAISS) and lexical (BM25) candidates, fused, filtered, capped per document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from qa.config import Settings
from qa.dates import ordinal, parse_date
from qa.embed import Embedder
from qa.errors import BadQuestion
from qa.store import Index
from qa.types import KINDS, Hit

Mode = Literal["hybrid", "dense", "lexical"]
RRF_K = 60


Ranked = tuple[np.ndarray, np.ndarray]  # rows, scores; best first


def rrf(rankings: Sequence[Sequence[int] | np.ndarray], k: int = RRF_K) -> dict[int, float]:
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
    found = []
    for i, name in enumerate(names):
        short = re.split(r"\s+[-|]\s+", name)[0]
        short = re.sub(r"^The\s+", "", short).strip()
        if len(short) >= 3 and re.search(rf"(?<![\w.]){re.escape(short)}(?!\w)", question):
            found.append(i)
    return found


@dataclass(frozen=True)
class Filters:
    kinds: tuple[str, ...] = KINDS
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None

    def mask(self, index: Index) -> np.ndarray | None:
        """Bool per row, or None when nothing is filtered out."""
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
        return None if mask.all() else mask


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index, self.embedder, self.settings = index, embedder, settings

    def _dense(self, vector: np.ndarray, depth: int, mask: np.ndarray | None) -> Ranked:
        import faiss

        params = None
        if mask is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, rows = self.index.vectors.search(vector.reshape(1, -1), min(depth, len(self.index)), params=params)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    def _fused(self, query: str, vector: np.ndarray | None, mask: np.ndarray | None,
               mode: Mode) -> tuple[list[int], dict[int, float], Ranked, Ranked]:
        """Candidates of both retrievers under `mask`, fused and ordered best first."""
        s = self.settings
        none: Ranked = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        dense = self._dense(vector, s.depth, mask) if vector is not None else none
        lexical = self.index.lexical.search(query, s.depth, mask) if mode != "dense" else none
        if mode == "hybrid" and s.fusion == "rrf":
            fused = rrf([dense[0], lexical[0]])
        elif mode == "hybrid":
            fused = weighted([dense, lexical], [s.dense_weight, 1.0 - s.dense_weight])
        else:
            fused = {int(r): float(v) for r, v in zip(*(dense if mode == "dense" else lexical))}
        return sorted(fused, key=lambda r: (-fused[r], r)), fused, dense, lexical

    def search(self, query: str, k: int | None = None, filters: Filters = Filters(),
               mode: Mode = "hybrid") -> list[Hit]:
        """The best `k` passages for the query, best first.

        When the question names outlets the index holds ("as reported by TechCrunch … and
        Fortune"), each named outlet is also searched on its own and the lists are interleaved,
        so evidence from every source the question compares reaches the top.
        """
        s = self.settings
        k = k or s.k
        mask = filters.mask(self.index)
        if mask is not None and not mask.any():
            return []
        vector = self.embedder.embed_query(query) if mode != "lexical" else None
        ordered, fused, dense, lexical = self._fused(query, vector, mask, mode)
        lists, score = [ordered], dict(fused)
        for source in (mentioned_sources(query, self.index.source_names) if s.split_sources else []):
            sub_mask = self.index.sources == source
            if mask is not None:
                sub_mask &= mask
            sub_ordered, sub_fused, _, _ = self._fused(query, vector, sub_mask, mode)
            lists.append(sub_ordered)
            for row, value in sub_fused.items():
                score.setdefault(row, value)
        rows = cap_per_document(interleave(lists), self.index.doc_rows, s.per_doc)[:k]
        dense_of = dict(zip(dense[0].tolist(), dense[1].tolist()))
        lexical_of = dict(zip(lexical[0].tolist(), lexical[1].tolist()))
        chunks = self.index.chunks(rows)
        docs = self.index.documents(sorted({c.doc_id for c in chunks}))
        return [
            Hit(chunk=c, score=score[r], rank=i + 1, dense_score=dense_of.get(r),
                lexical_score=lexical_of.get(r), source=docs[c.doc_id].source,
                url=docs[c.doc_id].url, path=docs[c.doc_id].path)
            for i, (r, c) in enumerate(zip(rows, chunks))
        ]
