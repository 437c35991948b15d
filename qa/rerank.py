"""Second-stage ranking: a small network over signals the first stage ignores.

The fused first stage scores a chunk by its BM25 and cosine alone. A question's evidence often sits in
one sentence that repeats the question's wording ("whether a team will lead at the end of a certain
quarter") or means the same (the best cosine between the question and one of the chunk's sentence
vectors; and between each part of the question and a sentence, since a multi-part question asks
one thing of each source and the passage that answers one part best stands out), in the report of
the outlet or the day the question names, in an article whose other chunks also match, and near the
top of a news story. Each of those is a feature here; the weights are
fitted on MultiHop-RAG dev queries by `eval/train_rerank.py` and shipped in `qa/data/rerank.json`
(the same for every archive; nothing reads a benchmark's answers at query time).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.dates import ordinal
from qa.embed import Span
from qa.lexical import BM25Index
from qa.text import analyze, split_sentences
from qa.types import Chunk

FEATURES = ("fused", "lexical", "dense", "sub", "source", "date", "doc", "sentence", "phrase", "lead", "title",
            "doc_rank", "in_doc", "part", "part_phrase", "sentence_dense", "part_dense", "part_dense_cover",
            "part_cover")
WEIGHTS_FILE = Path(__file__).parent / "data" / "rerank.json"

_PARTS = re.compile(r",|;|\?|\b(?:and|while|whereas|but|compared (?:to|with)|between|or)\b", re.I)


@lru_cache(maxsize=16384)
def _passage(text: str) -> tuple[tuple[frozenset[str], ...], frozenset[tuple[str, str]]]:
    """The analysed term set of each sentence of a passage, and the passage's term bigrams
    (cached: candidates recur across questions)."""
    sentences = [analyze(text[start:end]) for start, end in split_sentences(text)]
    return tuple(frozenset(s) for s in sentences), frozenset(_bigrams([t for s in sentences for t in s]))


def question_parts(question: str, min_terms: int = 3) -> list[tuple[Span, list[str]]]:
    """The question cut at commas and conjunctions into parts of at least `min_terms` analysed
    terms (a short piece joins the one before it): a multi-hop question asks one thing of each source.
    Each part is its character span in the question (separators between joined pieces included)
    and its terms (separators left out).

    `question_parts('Did TechCrunch report the fraud trial, and did Fortune report the jury verdict?')`
    -> `[((0, 37), ['techcrunch', 'report', 'fraud', 'trial']), ((42, 78), ['fortun', 'report', 'jury', 'verdict'])]`
    """
    bounds = [0, *(i for m in _PARTS.finditer(question) for i in m.span()), len(question)]
    parts: list[tuple[Span, list[str]]] = []
    for start, end in zip(bounds[::2], bounds[1::2]):
        terms = analyze(question[start:end])
        if parts and len(parts[-1][1]) < min_terms:
            (first, _), joined = parts[-1]
            parts[-1] = ((first, end), joined + terms)
        elif terms:
            parts.append(((start, end), terms))
    if len(parts) > 1 and len(parts[-1][1]) < min_terms:
        (_, end), terms = parts.pop()
        (first, _), joined = parts[-1]
        parts[-1] = ((first, end), joined + terms)
    return parts


def _bigrams(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:]))


@dataclass(frozen=True)
class Candidates:
    """What the first stage knows of each candidate row, aligned with `rows`."""

    rows: list[int]
    fused: np.ndarray  # score in the main fused list, 0 when absent
    sub: np.ndarray  # best score in a list restricted to a named outlet or date, 0 when absent
    lexical: np.ndarray  # raw BM25, 0 when not a lexical candidate
    dense: np.ndarray  # cosine to the question
    sentence_dense: np.ndarray  # best cosine of one of the chunk's sentences to the question, 0 when none
    parts_dense: np.ndarray  # (rows, parts): the same for each part of the question; no column without vectors


def features(question: str, cands: Candidates, chunks: Sequence[Chunk], sources: Sequence[str | None],
             named_sources: set[str], dates: Sequence[str], lexical: BM25Index) -> np.ndarray:
    """One row of `FEATURES` per candidate; every column is scaled to about [0, 1]."""
    n = len(cands.rows)
    x = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if n == 0:
        return x
    analysed = analyze(question)
    terms = list(dict.fromkeys(analysed))
    idf = {t: lexical.idf(t) for t in terms}
    mass = sum(idf.values()) or 1.0
    qset = frozenset(terms)
    q_bigrams = _bigrams(analysed)
    parts = [(frozenset(p), sum(idf.get(t, 0.0) for t in set(p)) or 1.0, _bigrams(p))
             for _, p in question_parts(question)]
    weigh = idf.__getitem__
    lex_max = float(cands.lexical.max()) or 1.0
    days = [ordinal(d) for d in dates]
    doc_best: dict[str, float] = {}
    doc_rank: dict[str, int] = {}
    for c, f, s in zip(chunks, cands.fused, cands.sub):
        doc_best[c.doc_id] = max(doc_best.get(c.doc_id, 0.0), float(f), float(s))
        doc_rank.setdefault(c.doc_id, len(doc_rank))
    title_terms: dict[str, set[str]] = {}
    part_terms = np.zeros((n, len(parts)), dtype=np.float32)
    for i, (c, source) in enumerate(zip(chunks, sources)):
        sentences, passage = _passage(c.text)
        shared = [s & qset for s in sentences if not s.isdisjoint(qset)]
        best = max((sum(map(weigh, s)) for s in shared), default=0.0)
        if c.title not in title_terms:
            title_terms[c.title] = set(analyze(c.title))
        day = ordinal(c.published_at) if c.published_at else -1
        x[i] = (
            cands.fused[i],
            cands.lexical[i] / lex_max,
            max(float(cands.dense[i]), 0.0),
            cands.sub[i],
            float(source in named_sources) if named_sources else 0.0,
            max((math.exp(-abs(day - d) / 3.0) for d in days), default=0.0) if day >= 0 else 0.0,
            doc_best[c.doc_id],
            best / mass,
            len(q_bigrams & passage) / max(len(q_bigrams), 1),
            1.0 / (1.0 + c.start / 2000.0) if c.kind == "article" else 0.0,
            sum(idf[t] for t in title_terms[c.title] if t in idf) / mass,
            1.0 / (1.0 + doc_rank[c.doc_id]),
            0.0,
            0.0,  # part: below, with part_cover
            max((len(b & passage) / max(len(b), 1) for _, _, b in parts), default=0.0),
            max(float(cands.sentence_dense[i]), 0.0),
            0.0,  # part_dense, part_dense_cover and part_cover: below, from every candidate at once
            0.0,
            0.0,
        )
        # each part's share of its IDF mass in the chunk's best sentence for it
        part_terms[i] = [max((sum(map(weigh, s & p)) for s in shared), default=0.0) / m for p, m, _ in parts]
    # how a chunk's sentence match compares with the best of its own document's candidates
    sentence = x[:, FEATURES.index("sentence")]
    best_in_doc: dict[str, float] = {}
    for c, v in zip(chunks, sentence):
        best_in_doc[c.doc_id] = max(best_in_doc.get(c.doc_id, 0.0), float(v))
    x[:, FEATURES.index("in_doc")] = [v - best_in_doc[c.doc_id] for c, v in zip(chunks, sentence)]
    if parts:
        x[:, FEATURES.index("part")] = part_terms.max(axis=1)
        x[:, FEATURES.index("part_cover")] = part_cover(part_terms)
    if cands.parts_dense.shape[1]:
        x[:, FEATURES.index("part_dense")] = np.maximum(cands.parts_dense.max(axis=1), 0.0)
        x[:, FEATURES.index("part_dense_cover")] = part_cover(cands.parts_dense)
    return x


def part_cover(scores: np.ndarray) -> np.ndarray:
    """1 / the best rank a candidate reaches among all candidates on any one part of the question
    (`scores` is candidates x parts, by terms or by sentence vectors): the passage that answers one
    part best stands out even when another passage matches the whole question better.

    `part_cover(np.array([[0.9, 0.1], [0.8, 0.7], [0.2, 0.3]]))` -> `[1.0, 1.0, 0.5]`
    """
    if not scores.size:
        return np.zeros(len(scores), dtype=np.float32)
    ranks = np.argsort(np.argsort(-scores, axis=0, kind="stable"), axis=0, kind="stable") + 1
    return (1.0 / ranks.min(axis=1)).astype(np.float32)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


@dataclass(frozen=True)
class Ranker:
    """A one-hidden-layer network over standardised features; `score` is the estimated chance that
    a passage holds evidence for the question. A linear model over the same features ranked worse
    on held-out questions (MRR@10 0.683 against 0.713, `docs/benchmarks.md`): the signals interact
    (a phrase match counts for more in the outlet the question names)."""

    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray  # (features, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden,)
    b2: float
    model: str = ""  # the embedding model whose cosines it was fitted on
    min_terms: int = 0  # the fewest distinct terms of a question it was fitted on

    def fits(self, question: str) -> bool:
        """The question is as long as those it was fitted on. A network fitted on long multi-part
        questions extrapolates badly on short ones (a 4-term question's best sentence covers all of
        it, which never happens there), so those are ranked by the first stage alone."""
        return len(set(analyze(question))) >= self.min_terms

    def score(self, x: np.ndarray) -> np.ndarray:
        hidden = np.maximum(((x - self.mean) / self.std) @ self.w1 + self.b1, 0.0)
        return _sigmoid(hidden @ self.w2 + self.b2)

    def to_json(self, **info: object) -> str:
        arrays = {k: getattr(self, k).tolist() for k in ("mean", "std", "w1", "b1", "w2")}
        return json.dumps({"features": list(FEATURES), **arrays, "b2": self.b2, "info": {"model": self.model, **info}})

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Ranker:
        """Raises ValueError for a file fitted on other features or with arrays of the wrong shape."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES):
            raise ValueError(f"{path} was fitted for features {data.get('features')}, not {list(FEATURES)}")
        f = len(FEATURES)
        arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("mean", "std", "w1", "b1", "w2")}
        h = arrays["w1"].shape[1] if arrays["w1"].ndim == 2 else -1
        if (arrays["w1"].shape != (f, h) or arrays["mean"].shape != (f,) or arrays["std"].shape != (f,)
                or arrays["b1"].shape != (h,) or arrays["w2"].shape != (h,)):
            raise ValueError(f"{path} has arrays of the wrong shape for {f} features")
        info = data.get("info", {})
        return cls(**arrays, b2=float(data["b2"]), model=str(info.get("model", "")),
                   min_terms=int(info.get("min_terms", 0)))


@lru_cache(maxsize=1)
def default_ranker() -> Ranker:
    return Ranker.load(WEIGHTS_FILE)


HIDDEN = 256  # the shipped model's hidden units (`fit`'s and `eval/train_rerank.py`'s default)
STEPS = 2000  # and its Adam steps


def fit(x: np.ndarray, y: np.ndarray, groups: np.ndarray, hidden: int = HIDDEN, steps: int = STEPS,
        l2: float = 1e-4, seed: int = 0, model: str = "", dtype: type[np.floating] = np.float32) -> Ranker:
    """Fit by full-batch Adam on the log loss. Each question's candidates are weighted so that
    every question counts the same, whatever its number of candidates or of relevant ones.
    Computed in `dtype` (float32 by default: faster than float64, `eval/bench_fit.py`, with the same
    held-out figures); the model is stored in float64. Deterministic for a given seed."""
    mean = x.mean(axis=0).astype(np.float64)
    std = x.std(axis=0).astype(np.float64)
    std[std < 1e-6] = 1.0
    z = ((x - mean) / std).astype(dtype)
    y = np.asarray(y, dtype=dtype)
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weight = 1.0 / counts[inverse]
    weight = (weight / weight.sum()).astype(dtype)
    rng = np.random.default_rng(seed)
    params = [p.astype(dtype) for p in (rng.normal(0.0, 0.3, (z.shape[1], hidden)), np.zeros(hidden),
                                        rng.normal(0.0, 0.3, hidden), np.zeros(1))]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    for step in range(1, steps + 1):
        h = np.maximum(z @ params[0] + params[1], 0.0)
        err = (_sigmoid(h @ params[2] + params[3]) - y) * weight
        dh = np.outer(err, params[2]) * (h > 0)
        grads = [z.T @ dh + l2 * params[0], dh.sum(axis=0), h.T @ err + l2 * params[2], np.array([err.sum()])]
        for p, g, a, b in zip(params, grads, m1, m2):
            a *= 0.9
            a += 0.1 * g
            b *= 0.999
            b += 0.001 * g * g
            p -= 0.01 * (a / (1 - 0.9**step)) / (np.sqrt(b / (1 - 0.999**step)) + 1e-8)
    w1, b1, w2, b2 = (p.astype(np.float64) for p in params)
    return Ranker(mean, std, w1, b1, w2, float(b2[0]), model)
