"""Run questions through an assistant (retrieval, then answering) and record what happened to each."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from qa.answer import answer_markers
from qa.errors import QAError
from qa.eval.metrics import (
    answer_correct,
    cited_numbers,
    direct_right,
    evidence_ranks,
    first_sentence_right,
    lead,
    passage_supports,
)
from qa.eval.questions import Question
from qa.search.retrieve import Filters
from qa.types import Answer, Hit


class Assistant(Protocol):
    """What evaluation needs of `qa.pipeline.Pipeline`."""

    def search(self, question: str, k: int | None = None, *, mode: Any = "hybrid",
               filters: Filters = ...) -> list[Hit]: ...
    def ask(self, question: str, *, filters: Filters = ...) -> Answer: ...


@dataclass(frozen=True)
class Retrieved:
    rank: int
    chunk_id: str
    doc_id: str
    kind: str
    score: float


@dataclass(frozen=True)
class Outcome:
    """One question's result. Answer fields are None when answering was skipped.

    `first_right`: the answer up to its first `[n]` (else its first sentence) holds a gold answer, or,
    for an unanswerable question, the answer abstained. `direct`: the short phrase the answer opens
    with (None when it gave none); `direct_right` judges it (None when none was given).
    `evidence_quoted`: the lenient figure, a gold answer anywhere in the answer text (None when the
    question is unanswerable)."""

    id: str
    type: str
    kind: str | None
    question: str
    answerable: bool
    evidence_ranks: tuple[int | None, ...]  # per evidence quote: rank of the first passage holding it
    retrieved: tuple[Retrieved, ...]
    retrieval_ms: float
    answer: str | None = None
    abstained: bool | None = None
    evidence_quoted: bool | None = None  # None for unanswerable questions
    cited: tuple[int, ...] = ()  # distinct [n] of the answer that name a real citation
    cited_support: tuple[bool, ...] = ()  # per cited passage: holds a gold quote or answer
    markers_valid: bool | None = None
    answer_ms: float | None = None  # ask(), its own retrieval included
    answering_ms: float | None = None  # ask() less a warm search like the one it makes: answering alone
    answer_type: str | None = None
    first_right: bool | None = None
    direct: str | None = None
    direct_right: bool | None = None


def judge_answer(question: Question, answer: Answer) -> dict[str, Any]:
    """The answer fields of an Outcome. An abstention never quotes the evidence nor gets its first
    sentence right on an answerable question. An LLM's reply (`direct` None) counts as no direct answer."""
    known = {c.n: c for c in answer.citations}
    cited = cited_numbers(answer_markers(answer), list(known))
    quoted = answer_correct(question.answers, answer.text)
    direct = None if answer.abstained or not (answer.direct or "").strip() else answer.direct
    return {
        "answer": answer.text,
        "abstained": answer.abstained,
        "evidence_quoted": None if quoted is None else quoted and not answer.abstained,
        "first_right": first_sentence_right(question.answers, lead(answer.text, answer.marks), answer.abstained),
        "direct": direct,
        "direct_right": None if direct is None else direct_right(question.answers, direct),
        "cited": tuple(cited),
        "cited_support": tuple(
            passage_supports(known[n].hit.chunk.text, question.quotes, question.answers) for n in cited
        ),
        "markers_valid": all(n in known for n in answer_markers(answer)),
    }


def evaluate_question(assistant: Assistant, question: Question, k: int = 10, mode: str = "hybrid",
                      answers: bool = True) -> Outcome:
    """Search the top k (timed), then, unless `answers` is off, ask the assistant (timed) and judge it.
    Answering alone is ask()'s time less that of the same search ask() makes, run just before it (the
    query's vector is then cached, as it is inside ask())."""
    try:
        start = time.perf_counter()
        window = Filters(date_from=question.date_from, date_to=question.date_to)
        hits = assistant.search(question.question, k, mode=mode, filters=window)
        retrieval_ms = (time.perf_counter() - start) * 1000
        judged: dict[str, Any] = {}
        if answers:
            # the search ask() makes, timed apart (warm, as it is inside ask): answering = ask - this
            start = time.perf_counter()
            assistant.search(question.question, filters=window)
            search_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            answer = assistant.ask(question.question, filters=window)
            answer_ms = (time.perf_counter() - start) * 1000
            judged = {**judge_answer(question, answer), "answer_ms": answer_ms,
                      "answering_ms": max(0.0, answer_ms - search_ms)}
    except QAError as exc:
        raise QAError(f"Question {question.id}: {exc}") from None
    return Outcome(
        id=question.id, type=question.type, kind=question.kind, answer_type=question.answer_type,
        question=question.question,
        answerable=question.answerable,
        evidence_ranks=tuple(evidence_ranks(question.quotes, [h.chunk.text for h in hits])),
        retrieved=tuple(Retrieved(h.rank, h.chunk.chunk_id, h.chunk.doc_id, h.chunk.kind, round(h.score, 6))
                        for h in hits),
        retrieval_ms=round(retrieval_ms, 3),
        **{key: round(v, 3) if key.endswith("_ms") else v for key, v in judged.items()},
    )


def evaluate(assistant: Assistant, questions: Sequence[Question], k: int = 10, mode: str = "hybrid",
             answers: bool = True, progress: bool = True) -> list[Outcome]:
    """Every question in order, with a progress bar on stderr."""
    from tqdm import tqdm

    bar: Iterable[Question] = tqdm(questions, desc="Evaluating", unit="q", disable=not progress,
                                   dynamic_ncols=True)
    return [evaluate_question(assistant, q, k, mode, answers) for q in bar]
