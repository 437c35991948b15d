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


def abstention(question: str, hits: Sequence[Hit]) -> Answer:
    text = (f"{ABSTAIN} Nothing retrieved answers “{question.strip()}”"
            + ("; the nearest passages are listed below." if hits else "."))
    return Answer(question, text, tuple(Citation(i + 1, h) for i, h in enumerate(hits)), abstained=True)


def join_quote(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Sentences of one passage as one quotation: adjacent ones joined by a space, a gap shown as " … ",
    and a quotation mark left open or unopened by the cut dropped.

    `join_quote('A b c. D e f. G h i.', [(0, 6), (14, 20)])` -> `'A b c. … G h i.'`
    """
    pieces, last = [], None
    for a, b in sorted(spans):
        piece = " ".join(text[a:b].split())
        if last is not None and text[last:a].strip():
            pieces.append("…")
        pieces.append(piece)
        last = b
    return balance_quotes(" ".join(pieces))


def balance_quotes(quote: str) -> str:
    """Close what the cut left open, open what it left closed: a quote starting mid-speech gets its
    opening mark back. `balance_quotes('under control,” said X.')` -> `'“under control,” said X.'`"""
    quote = quote.strip()
    opened, closed = quote.count("“"), quote.count("”")
    if closed > opened:
        quote = "“" * (closed - opened) + quote
    elif opened > closed:
        quote = quote + "”" * (opened - closed)
    if quote.count('"') % 2:
        quote = quote + '"' if quote.startswith('"') else '"' + quote
    return quote


def compose(question: str, hits: Sequence[Hit], picked: Sequence[Sentence],
            intent: Intent = Intent()) -> Answer:
    """Answer text from the picked sentences, grouped by passage, each group ending in `[n]`.
    Dated reporting says "As of DATE", newest first; comments are quoted as comments."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for s in picked:
        spans.setdefault(s.hit, []).append((s.start, s.end))
    order = sorted(spans, key=lambda i: (-ordinal(hits[i].chunk.published_at), i))
    dated = {hits[i].chunk.published_at for i in order if hits[i].chunk.kind == "article"} - {None}
    parts = []
    if intent.author:
        article = next((i for i in order if hits[i].chunk.kind == "article" and hits[i].chunk.author), None)
        if article is not None:
            chunk = hits[article].chunk
            parts.append(f"“{chunk.title}” was written by {chunk.author} [{article + 1}].")
    for i in order:
        chunk = hits[i].chunk
        quote = join_quote(chunk.text, spans[i])
        if chunk.kind == "comment":
            parts.append(f"Reader comment by {chunk.author}: “{quote.strip(_OPEN_QUOTES + '”’')}” [{i + 1}]")
        elif chunk.published_at and (len(dated) > 1 or intent.recent):
            parts.append(f"As of {format_date(chunk.published_at)}: {quote} [{i + 1}]")
        else:
            parts.append(f"{quote} [{i + 1}]")
    citations = tuple(Citation(i + 1, h, tuple(spans.get(i, ()))) for i, h in enumerate(hits))
    return Answer(question, "\n".join(parts), citations)
