"""The candidate context: everything the reranker's features read about one question's candidates,
built in one place from the first stage's scores and a narrow reader of the index.

The reader is a Protocol of by-row methods, so any index that offers them (`qa.index.IndexReader`)
can be read; nothing here knows how vectors or passages are stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Protocol

import numpy as np

from qa.embed.models import Span
from qa.text import analyze, split_sentences
from qa.tuning import TUNING, Tuning
from qa.types import Chunk

_PARTS = re.compile(r",|;|\?|\b(?:and|while|whereas|but|compared (?:to|with)|between|or)\b", re.I)


class CandidateReader(Protocol):
    """What the context reads from an index, by row."""

    def chunks(self, rows: Sequence[int]) -> list[Chunk]: ...
    def outlets(self, rows: Sequence[int]) -> list[str | None]: ...
    def sentence_block(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The rows' sentence vectors, row after row, and how many each row has."""
    def dense_scores(self, rows: Sequence[int], vector: np.ndarray) -> np.ndarray: ...
    def lexical_scores(self, query: str) -> np.ndarray: ...
    def idf(self, term: str) -> float: ...


class PartEmbedder(Protocol):
    """An embedder that gives each part of a question its own vector."""

    def embed_query_parts(self, text: str, spans: Sequence[Span]) -> np.ndarray: ...


def question_parts(question: str, min_terms: int = TUNING.part_min_terms) -> list[tuple[Span, list[str]]]:
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


def best_cosines(vectors: np.ndarray, counts: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Each row's highest cosine between one of its sentence vectors and each query (unit vectors,
    one per line of `queries`) -> (rows, queries); 0 for a row without sentences. `vectors` holds
    the rows' sentence vectors row after row, `counts` how many each row has.

    `best_cosines(np.array([[1, 0], [0, 1]]), np.array([2, 0]), np.array([[0.6, 0.8]]))` -> `[[0.8], [0.0]]`
    """
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    counts = np.asarray(counts, dtype=np.int64)
    out = np.zeros((len(counts), len(queries)), dtype=np.float32)
    if counts.sum():
        first = np.cumsum(counts) - counts  # where each row's sentences begin
        cos = np.asarray(vectors).astype(np.float32) @ queries.T
        has = counts > 0
        out[has] = np.maximum.reduceat(cos, first[has], axis=0)
    return out


def _bigrams(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:]))


@lru_cache(maxsize=16384)
def passage_terms(text: str) -> tuple[tuple[frozenset[str], ...], frozenset[tuple[str, str]]]:
    """The analysed term set of each sentence of a passage, and the passage's term bigrams
    (cached: candidates recur across questions)."""
    sentences = [analyze(text[start:end]) for start, end in split_sentences(text)]
    return tuple(frozenset(s) for s in sentences), frozenset(_bigrams([t for s in sentences for t in s]))


@lru_cache(maxsize=16384)
def title_terms(title: str) -> set[str]:
    return set(analyze(title))


@dataclass(frozen=True, eq=False)
class Context:
    """One question's candidates, aligned with `rows`: what the first stage knows of each, its
    passage, and the question's terms and parts. What several features share is computed once
    (the cached properties)."""

    question: str
    rows: list[int]
    chunks: list[Chunk]
    outlets: list[str | None]  # each candidate's outlet, None when unknown
    named_outlets: frozenset[str]  # outlets the question names
    dates: list[str]  # ISO dates the question names
    fused: np.ndarray  # score in the main fused list, 0 when absent
    sub: np.ndarray  # best score in a list restricted to a named outlet or date, 0 when absent
    lexical: np.ndarray  # raw BM25, 0 when not a lexical match
    dense: np.ndarray  # cosine to the question
    sentence_dense: np.ndarray  # best cosine of one of the chunk's sentences to the question, 0 when none
    parts_dense: np.ndarray  # (rows, parts): the same for each part of the question; no column without vectors
    idf_of: Callable[[str], float]
    tuning: Tuning = TUNING

    def __len__(self) -> int:
        return len(self.rows)

    @cached_property
    def analysed(self) -> list[str]:
        return analyze(self.question)

    @cached_property
    def idf(self) -> dict[str, float]:
        """The question's distinct terms, in order, with their IDF."""
        return {t: self.idf_of(t) for t in dict.fromkeys(self.analysed)}

    @cached_property
    def mass(self) -> float:
        """The question's IDF mass (1 when it has none)."""
        return sum(self.idf.values()) or 1.0

    @cached_property
    def bigrams(self) -> set[tuple[str, str]]:
        return _bigrams(self.analysed)

    @cached_property
    def parts(self) -> list[tuple[frozenset[str], float, set[tuple[str, str]]]]:
        """Each part of the question: its terms, their IDF mass (1 when none) and its bigrams."""
        idf = self.idf
        return [(frozenset(p), sum(idf.get(t, 0.0) for t in set(p)) or 1.0, _bigrams(p))
                for _, p in question_parts(self.question, self.tuning.part_min_terms)]

    @cached_property
    def passages(self) -> list[tuple[tuple[frozenset[str], ...], frozenset[tuple[str, str]]]]:
        """Each candidate's sentence term sets and bigrams."""
        return [passage_terms(c.text) for c in self.chunks]

    @cached_property
    def shared(self) -> list[list[frozenset[str]]]:
        """Each candidate's sentences that share a term with the question: the shared terms."""
        qset = frozenset(self.idf)
        return [[s & qset for s in sentences if not s.isdisjoint(qset)] for sentences, _ in self.passages]

    @cached_property
    def sentence_share(self) -> np.ndarray:
        """Each candidate's best single sentence's share of the question's IDF mass (float32)."""
        weigh = self.idf.__getitem__
        return np.asarray([max((sum(map(weigh, s)) for s in shared), default=0.0) / self.mass
                           for shared in self.shared], dtype=np.float32)

    @cached_property
    def doc_best(self) -> dict[str, float]:
        """Each document's best first-stage score (main or outlet/date list) among the candidates."""
        best: dict[str, float] = {}
        for c, f, s in zip(self.chunks, self.fused, self.sub):
            best[c.doc_id] = max(best.get(c.doc_id, 0.0), float(f), float(s))
        return best

    @cached_property
    def doc_rank(self) -> dict[str, int]:
        """Each document's rank (0 first) by its first candidate."""
        rank: dict[str, int] = {}
        for c in self.chunks:
            rank.setdefault(c.doc_id, len(rank))
        return rank

    @cached_property
    def part_terms(self) -> np.ndarray:
        """(rows, parts): each part's share of its IDF mass in the candidate's best sentence for it."""
        weigh = self.idf.__getitem__
        out = np.zeros((len(self.rows), len(self.parts)), dtype=np.float32)
        for i, shared in enumerate(self.shared):
            out[i] = [max((sum(map(weigh, s & p)) for s in shared), default=0.0) / m for p, m, _ in self.parts]
        return out


def build_context(question: str, vector: np.ndarray, rows: Sequence[int], reader: CandidateReader,
                  embedder: PartEmbedder, fused: Mapping[int, float], sub: Mapping[int, float],
                  named_outlets: set[str], dates: Sequence[str], tuning: Tuning = TUNING) -> Context:
    """The context of `rows` for a question whose vector is `vector`: `fused` and `sub` are the
    first stage's scores (main list; best in an outlet or date list), `named_outlets` and `dates`
    what the question names. Each part of a multi-part question is embedded from the question's
    own pass (`embed_query_parts`)."""
    rows = list(rows)
    spans = [span for span, _ in question_parts(question, tuning.part_min_terms)]
    parts = embedder.embed_query_parts(question, spans) if len(spans) > 1 else vector[None]
    sentence = best_cosines(*reader.sentence_block(rows), np.vstack([vector, parts]))  # (rows, 1 + parts)
    dense = reader.dense_scores(rows, vector) if rows else np.zeros(0)
    return Context(
        question, rows, reader.chunks(rows), reader.outlets(rows), frozenset(named_outlets), list(dates),
        fused=np.array([fused.get(r, 0.0) for r in rows], dtype=np.float32),
        sub=np.array([sub.get(r, 0.0) for r in rows], dtype=np.float32),
        lexical=reader.lexical_scores(question)[rows].astype(np.float32),
        dense=np.asarray(dense, dtype=np.float32), sentence_dense=sentence[:, 0], parts_dense=sentence[:, 1:],
        idf_of=reader.idf, tuning=tuning)
