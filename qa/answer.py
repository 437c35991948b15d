"""Answerers: turn retrieved passages into a short answer whose sentences carry `[n]` markers.

The default is extractive: it quotes the sentences of the top passages that best answer the
question, and abstains when none is close enough. Reader comments are quoted as comments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qa.chunk import split_sentences
from qa.embed import Embedder
from qa.lexical import analyze, fold
from qa.types import Answer, Citation, Hit

_OPEN_QUOTES = "“\"‘'«"


class Answerer(Protocol):
    def answer(self, question: str, hits: Sequence[Hit]) -> Answer: ...


@dataclass(frozen=True)
class Sentence:
    hit: int  # position in the hit list
    start: int
    end: int
    text: str
    quoted: bool  # it opens with a quotation mark: someone repeating it, not its author


def candidate_sentences(hits: Sequence[Hit], passages: int) -> list[Sentence]:
    """Sentences of the top passages. A sentence that occurs in several passages is kept once:
    where it is not in quotation marks, else where it comes first (an earlier comment)."""
    found: dict[str, Sentence] = {}
    order = sorted(range(min(passages, len(hits))),
                   key=lambda i: (hits[i].chunk.doc_id, hits[i].chunk.comment_index or -1, hits[i].chunk.start))
    for i in order:
        text = hits[i].chunk.text
        for s, e in split_sentences(text):
            sentence = text[s:e]
            if len(re.findall(r"\w+", sentence)) < 3:
                continue
            key = " ".join(re.findall(r"\w+", fold(sentence)))
            candidate = Sentence(i, s, e, sentence, sentence[0] in _OPEN_QUOTES)
            if key not in found or (found[key].quoted and not candidate.quoted):
                found[key] = candidate
    return sorted(found.values(), key=lambda c: (c.hit, c.start))


def term_overlap(question_terms: set[str], sentence: str) -> float:
    """Share of the question's content terms that the sentence contains."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(analyze(sentence))) / len(question_terms)


class ExtractiveAnswerer:
    """Quote the best sentences; abstain below `min_relevance` (calibrated on dev data)."""

    def __init__(self, embedder: Embedder, max_sentences: int = 2, passages: int = 4,
                 min_relevance: float = 0.35, margin: float = 0.08) -> None:
        self.embedder = embedder
        self.max_sentences, self.passages = max_sentences, passages
        self.min_relevance, self.margin = min_relevance, margin

    def score(self, question: str, sentences: Sequence[Sentence]) -> np.ndarray:
        """Per sentence: meaning (cosine) and wording (term overlap), nudged by passage rank."""
        if not sentences:
            return np.zeros(0)
        q = self.embedder.embed_query(question)
        cos = self.embedder.embed_documents([s.text for s in sentences]) @ q
        terms = set(analyze(question))
        overlap = np.array([term_overlap(terms, s.text) for s in sentences])
        rank = np.array([s.hit for s in sentences], dtype=np.float64)
        return 0.55 * cos + 0.45 * overlap - 0.02 * rank

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        sentences = candidate_sentences(hits, self.passages)
        scores = self.score(question, sentences)
        best = float(scores.max()) if len(scores) else 0.0
        if best < self.min_relevance:
            return abstention(question, hits)
        chosen = [i for i in np.argsort(-scores) if scores[i] >= best - self.margin][: self.max_sentences]
        picked = sorted((sentences[i] for i in chosen), key=lambda s: (s.hit, s.start))
        return compose(question, hits, picked)


def abstention(question: str, hits: Sequence[Hit]) -> Answer:
    text = (f"The archive does not say. Nothing retrieved answers “{question.strip()}”"
            + ("; the nearest passages are listed below." if hits else "."))
    return Answer(question, text, tuple(Citation(i + 1, h) for i, h in enumerate(hits)), abstained=True)


def compose(question: str, hits: Sequence[Hit], picked: Sequence[Sentence]) -> Answer:
    """Answer text from the picked sentences, grouped by passage, each group ending in `[n]`."""
    parts = []
    spans: dict[int, list[tuple[int, int]]] = {}
    for s in picked:
        spans.setdefault(s.hit, []).append((s.start, s.end))
    for i, used in spans.items():
        chunk = hits[i].chunk
        quote = " ".join(" ".join(chunk.text[a:b].split()) for a, b in used)
        if chunk.kind == "comment":
            parts.append(f"Reader comment by {chunk.author}: “{quote.strip(_OPEN_QUOTES + '”’')}” [{i + 1}]")
        else:
            parts.append(f"{quote} [{i + 1}]")
    citations = tuple(Citation(i + 1, h, tuple(spans.get(i, ()))) for i, h in enumerate(hits))
    return Answer(question, "\n".join(parts), citations)
