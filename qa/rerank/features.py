"""The reranker's features: a registry of `name -> function(context)`, each giving one value per
candidate, scaled to about [0, 1].

A new feature is one function here, registered with `@feature("name")`; `eval/train_rerank.py` fits
every registered feature, and the weights file lists the features it was fitted on by name, so a model
reads its columns by name, never by position.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from qa.dates import ordinal
from qa.rerank.context import Context, title_terms

Feature = Callable[[Context], np.ndarray]
FEATURES: dict[str, Feature] = {}


def feature(name: str) -> Callable[[Feature], Feature]:
    """Register a feature under `name` (registration order is the order training sees)."""
    def register(fn: Feature) -> Feature:
        if name in FEATURES:
            raise ValueError(f"feature {name!r} is registered twice")
        FEATURES[name] = fn
        return fn
    return register


def feature_matrix(context: Context, names: Sequence[str]) -> np.ndarray:
    """(candidates, names): each named feature's column, float32."""
    x = np.zeros((len(context), len(names)), dtype=np.float32)
    if len(context):
        for j, name in enumerate(names):
            x[:, j] = FEATURES[name](context)
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


def _column(values: Sequence[float] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


# Registered in the order of the shipped weights file's columns (a refit sees them in this order).


@feature("fused")
def fused(c: Context) -> np.ndarray:
    """Score in the main fused list."""
    return c.fused


@feature("lexical")
def lexical(c: Context) -> np.ndarray:
    """BM25 against the best candidate's."""
    top = float(c.lexical.max()) or 1.0
    return _column([v / top for v in c.lexical])


@feature("dense")
def dense(c: Context) -> np.ndarray:
    """Cosine to the question, never below 0."""
    return _column([max(float(v), 0.0) for v in c.dense])


@feature("sub")
def sub(c: Context) -> np.ndarray:
    """Best score in the head of an outlet or date list."""
    return c.sub


@feature("source")
def source(c: Context) -> np.ndarray:
    """From an outlet the question names."""
    if not c.named_outlets:
        return np.zeros(len(c), dtype=np.float32)
    return _column([float(o in c.named_outlets) for o in c.outlets])


@feature("date")
def date(c: Context) -> np.ndarray:
    """Nearness of the passage's date to the nearest date the question names."""
    days = [ordinal(d) for d in c.dates]
    scale = c.tuning.date_days
    out = []
    for chunk in c.chunks:
        day = ordinal(chunk.published_at) if chunk.published_at else -1
        out.append(max((math.exp(-abs(day - d) / scale) for d in days), default=0.0) if day >= 0 else 0.0)
    return _column(out)


@feature("doc")
def doc(c: Context) -> np.ndarray:
    """The best first-stage score of the passage's document."""
    return _column([c.doc_best[chunk.doc_id] for chunk in c.chunks])


@feature("sentence")
def sentence(c: Context) -> np.ndarray:
    """The best single sentence's share of the question's IDF mass."""
    return c.sentence_share


@feature("phrase")
def phrase(c: Context) -> np.ndarray:
    """Share of the question's term pairs found in the passage."""
    q = c.bigrams
    return _column([len(q & passage) / max(len(q), 1) for _, passage in c.passages])


@feature("lead")
def lead(c: Context) -> np.ndarray:
    """Near the top of a news story."""
    scale = c.tuning.lead_chars
    return _column([1.0 / (1.0 + chunk.start / scale) if chunk.kind == "article" else 0.0 for chunk in c.chunks])


@feature("title")
def title(c: Context) -> np.ndarray:
    """The title's share of the question's IDF mass."""
    idf = c.idf
    return _column([sum(idf[t] for t in title_terms(chunk.title) if t in idf) / c.mass for chunk in c.chunks])


@feature("doc_rank")
def doc_rank(c: Context) -> np.ndarray:
    """1 / (1 + the document's rank among the candidates' documents)."""
    return _column([1.0 / (1.0 + c.doc_rank[chunk.doc_id]) for chunk in c.chunks])


@feature("in_doc")
def in_doc(c: Context) -> np.ndarray:
    """The passage's `sentence` against the best of its own document's candidates (0 for the best)."""
    values = c.sentence_share
    best: dict[str, float] = {}
    for chunk, v in zip(c.chunks, values):
        best[chunk.doc_id] = max(best.get(chunk.doc_id, 0.0), float(v))
    return _column([v - best[chunk.doc_id] for chunk, v in zip(c.chunks, values)])


@feature("part")
def part(c: Context) -> np.ndarray:
    """The best share of one part's IDF mass in one sentence."""
    return c.part_terms.max(axis=1) if c.parts else np.zeros(len(c), dtype=np.float32)


@feature("part_phrase")
def part_phrase(c: Context) -> np.ndarray:
    """The best share of one part's term pairs found in the passage."""
    return _column([max((len(b & passage) / max(len(b), 1) for _, _, b in c.parts), default=0.0)
                    for _, passage in c.passages])


@feature("sentence_dense")
def sentence_dense(c: Context) -> np.ndarray:
    """The best cosine of one sentence to the question, never below 0."""
    return _column([max(float(v), 0.0) for v in c.sentence_dense])


@feature("part_dense")
def part_dense(c: Context) -> np.ndarray:
    """The best cosine of one part to one sentence, never below 0 (0 without sentence vectors)."""
    if not c.parts_dense.shape[1]:
        return np.zeros(len(c), dtype=np.float32)
    return np.maximum(c.parts_dense.max(axis=1), 0.0)


@feature("part_dense_cover")
def part_dense_cover(c: Context) -> np.ndarray:
    """Whether the passage is the best candidate for some part by sentence cosine (`part_cover`)."""
    return part_cover(c.parts_dense) if c.parts_dense.shape[1] else np.zeros(len(c), dtype=np.float32)


@feature("part_cover")
def part_cover_terms(c: Context) -> np.ndarray:
    """The same by words: `part_cover` over each part's share of its IDF mass."""
    return part_cover(c.part_terms) if c.parts else np.zeros(len(c), dtype=np.float32)
