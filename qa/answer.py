"""Answerers: turn retrieved passages into a short answer whose sentences carry `[n]` markers.

The default is extractive: it quotes the sentences of the top passages that best answer the
question, and abstains when none is close enough. Reader comments are quoted as comments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from qa.chunk import split_sentences
from qa.dates import format_date, ordinal
from qa.embed import Embedder
from qa.intent import Intent, read_intent
from qa.lexical import analyze, fold
from qa.types import Answer, Citation, Hit

_OPEN_QUOTES = "“\"‘'«"
ABSTAIN = "The archive does not say."  # how an abstention starts; the LLM answerer asks for it verbatim
SHORTLIST = 12  # sentences embedded per question


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


def shortlist(question: str, sentences: Sequence[Sentence], n: int) -> list[Sentence]:
    """The `n` sentences sharing most terms with the question, in their original order: only
    these are embedded, which keeps answering fast on long passages."""
    if len(sentences) <= n:
        return list(sentences)
    terms = set(analyze(question))
    best = sorted(range(len(sentences)), key=lambda i: (-term_overlap(terms, sentences[i].text), i))[:n]
    return [sentences[i] for i in sorted(best)]


def with_context(question: str, hits: Sequence[Hit], picked: Sequence[Sentence], limit: int) -> list[Sentence]:
    """Add the neighbours a picked sentence needs: the line that introduces it ("From Reuters:"),
    and an adjacent sentence holding question terms the picked ones lack ("Map created by …")."""
    terms = set(analyze(question))
    covered = terms & set().union(*(set(analyze(s.text)) for s in picked))
    out = list(picked)
    have = {(s.hit, s.start) for s in picked}
    for s in picked:
        text = hits[s.hit].chunk.text
        spans = split_sentences(text)
        if (s.start, s.end) not in spans:
            continue
        i = spans.index((s.start, s.end))
        for j in (i - 1, i + 1):
            if not 0 <= j < len(spans) or (s.hit, spans[j][0]) in have or len(out) >= limit:
                continue
            neighbour = text[spans[j][0]:spans[j][1]]
            new = (terms & set(analyze(neighbour))) - covered
            if new or (j == i - 1 and neighbour.endswith(":")):
                out.append(Sentence(s.hit, spans[j][0], spans[j][1], neighbour, False))
                have.add((s.hit, spans[j][0]))
                covered |= new
    return out


def term_overlap(question_terms: set[str], sentence: str) -> float:
    """Share of the question's content terms that the sentence contains."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(analyze(sentence))) / len(question_terms)


class ExtractiveAnswerer:
    """Quote the best sentences, or abstain when the evidence is weak.

    Weak means both: the best sentence's relevance is under `min_relevance`, and it plus the top
    passage's dense cosine is under `min_evidence`. Fitted on MultiHop-RAG dev (149 null and 278
    answerable queries, `docs/benchmarks.md`): there this abstains on 86% of the null queries and
    5% of the answerable ones; either signal alone abstains on more answerable ones for the same
    recall, and the sum alone misfires on reader comments, whose cosines run low.
    """

    def __init__(self, embedder: Embedder, max_sentences: int = 2, passages: int = 4,
                 min_relevance: float = 0.35, min_evidence: float = 0.807, margin: float = 0.08) -> None:
        self.embedder = embedder
        self.max_sentences, self.passages = max_sentences, passages
        self.min_evidence, self.min_relevance, self.margin = min_evidence, min_relevance, margin

    def relevance(self, question: str, sentences: Sequence[Sentence]) -> np.ndarray:
        """Per sentence: meaning (cosine) and wording (term overlap), nudged by passage rank."""
        if not sentences:
            return np.zeros(0)
        q = self.embedder.embed_query(question)
        cos = self.embedder.embed_documents([s.text for s in sentences]) @ q
        terms = set(analyze(question))
        overlap = np.array([term_overlap(terms, s.text) for s in sentences])
        rank = np.array([s.hit for s in sentences], dtype=np.float64)
        return 0.55 * cos + 0.45 * overlap - 0.02 * rank

    def weak(self, best: float, hits: Sequence[Hit]) -> bool:
        dense = [h.dense_score for h in hits if h.dense_score is not None]
        return best < self.min_relevance and (not dense or best + max(dense) < self.min_evidence)

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        intent = read_intent(question)
        sentences = candidate_sentences(hits, self.passages)
        # "when …?" / "how many …?": only a sentence holding a time / a quantity can answer it
        sentences = shortlist(question, [s for s in sentences if intent.fits(s.text)], SHORTLIST)
        relevance = self.relevance(question, sentences)
        if not len(relevance) or self.weak(float(relevance.max()), hits):
            return abstention(question, hits)
        scores = relevance + preference(intent, [hits[s.hit] for s in sentences])
        best = float(scores.max())
        chosen = [i for i in np.argsort(-scores) if scores[i] >= best - self.margin][: self.max_sentences]
        picked = with_context(question, hits, [sentences[i] for i in chosen], self.max_sentences + 1)
        return compose(question, hits, sorted(picked, key=lambda s: (s.hit, s.start)), intent)


def preference(intent: Intent, hits: Sequence[Hit]) -> np.ndarray:
    """Score nudges from what the question asks: comments when it asks about readers (reporting
    otherwise), and the latest dated passages when it asks how things stand now."""
    comment = np.array([h.chunk.kind == "comment" for h in hits], dtype=np.float64)
    nudge = 0.12 * comment if intent.comments else -0.05 * comment
    days = np.array([ordinal(h.chunk.published_at) for h in hits], dtype=np.float64)
    dated = days >= 0
    if intent.recent and dated.sum() > 1 and np.ptp(days[dated]) > 0:
        lo, span = days[dated].min(), np.ptp(days[dated])
        nudge = nudge + np.where(dated, 0.15 * (days - lo) / span, 0.0)
    return nudge


class Writer:
    """Answer text built piece by piece, keeping apart what the answerer writes (its words and
    `[n]` markers) from what it copies from the archive or the question: a `[1]` typed in a reader
    comment stays the comment's text. `w.own('A '); w.mark(1)` -> text `'A [1]'`, marks `((2, 5, 1),)`"""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.size = 0
        self.marks: list[tuple[int, int, int]] = []
        self.quoted: list[tuple[int, int]] = []

    def own(self, text: str) -> None:
        self.pieces.append(text)
        self.size += len(text)

    def copy(self, text: str) -> None:
        if text:
            self.quoted.append((self.size, self.size + len(text)))
            self.own(text)

    def mark(self, n: int) -> None:
        self.marks.append((self.size, self.size + len(f"[{n}]"), n))
        self.own(f"[{n}]")

    def answer(self, question: str, citations: tuple[Citation, ...], abstained: bool = False) -> Answer:
        return Answer(question, "".join(self.pieces), citations, abstained,
                      marks=tuple(self.marks), quoted=tuple(self.quoted))


def abstention(question: str, hits: Sequence[Hit]) -> Answer:
    w = Writer()
    w.own(f"{ABSTAIN} Nothing retrieved answers “")
    w.copy(question.strip())
    w.own("”" + ("; the nearest passages are listed below." if hits else "."))
    return w.answer(question, tuple(Citation(i + 1, h) for i, h in enumerate(hits)), abstained=True)


def compose(question: str, hits: Sequence[Hit], picked: Sequence[Sentence],
            intent: Intent = Intent()) -> Answer:
    """Answer text from the picked sentences, grouped by passage, each group ending in `[n]`.
    Dated reporting says "As of DATE", newest first; comments are quoted as comments."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for s in picked:
        spans.setdefault(s.hit, []).append((s.start, s.end))
    order = sorted(spans, key=lambda i: (-ordinal(hits[i].chunk.published_at), i))
    dated = {hits[i].chunk.published_at for i in order if hits[i].chunk.kind == "article"} - {None}
    w = Writer()
    if intent.author:
        article = next((i for i in order if hits[i].chunk.kind == "article" and hits[i].chunk.author), None)
        if article is not None:
            chunk = hits[article].chunk
            w.own("“")
            w.copy(chunk.title)
            w.own("” was written by ")
            w.copy(chunk.author or "")
            w.own(" ")
            w.mark(article + 1)
            w.own(".\n")
    for i in order:
        chunk = hits[i].chunk
        quote = " ".join(" ".join(chunk.text[a:b].split()) for a, b in spans[i])
        if chunk.kind == "comment":
            w.own("Reader comment by ")
            w.copy(chunk.author or "")
            w.own(": “")
            w.copy(quote.strip(_OPEN_QUOTES + "”’"))
            w.own("” ")
        elif chunk.published_at and (len(dated) > 1 or intent.recent):
            w.own(f"As of {format_date(chunk.published_at)}: ")
            w.copy(quote)
            w.own(" ")
        else:
            w.copy(quote)
            w.own(" ")
        w.mark(i + 1)
        w.own("\n")
    citations = tuple(Citation(i + 1, h, tuple(spans.get(i, ()))) for i, h in enumerate(hits))
    answer = w.answer(question, citations)
    return replace(answer, text=answer.text.removesuffix("\n"))
