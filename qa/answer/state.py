"""Answers about a state of affairs: the latest dated report first, then the dated changes before it.

`answer_state` reads the control events (`qa.answer.timeline`) in the passages retrieved for the question
and for its subject, and writes "As of DATE, HOLDER holds X [n]." with the quote that says so, since
when, and a short history newest first. Only articles lead; reader comments are opinion, not reporting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.answer.extractive import Writer
from qa.answer.timeline import Event, StateQuestion, concerns, control_events, held_since, holder_groups, mentions
from qa.dates import format_date, ordinal
from qa.text import analyze, split_sentences
from qa.tuning import TUNING
from qa.types import Answer, Citation, Hit, TimelinePoint

HISTORY = TUNING.history  # earlier changes listed under the current state
CLAUSE_CHARS = 160  # of a timeline point's quoted clause


@dataclass(frozen=True)
class Found:
    event: Event
    hit: int  # position in the hit list


def _about(sentence: str, passage_about: bool, subject: StateQuestion) -> bool:
    return mentions(sentence, subject) or (passage_about and subject.by_head(sentence))


def find_events(subject: StateQuestion, hits: Sequence[Hit]) -> list[Found]:
    """Control events about the subject in the articles among `hits`, oldest first, each event once."""
    found: list[Found] = []
    for i, hit in enumerate(hits):
        chunk = hit.chunk
        if chunk.kind != "article":
            continue
        about = mentions(f"{chunk.title} {chunk.text}", subject)
        for start, end in split_sentences(chunk.text):
            sentence = chunk.text[start:end]
            if _about(sentence, about, subject):
                found += [Found(e, i) for e in control_events(sentence, chunk.published_at, start)
                          if concerns(e, sentence, subject, about)]
    return _dedupe(found)


def _dedupe(found: list[Found]) -> list[Found]:
    """One event per holder and day (the earliest report of it); a gain the sentence gives no date for is
    dropped when the same side's gain is dated in some report ("twelve days after the Brigades recaptured …")."""
    groups = holder_groups([f.event.holder for f in found])
    dated_gains = {(g, f.event.day) for f, g in zip(found, groups) if f.event.kind == "gain" and f.event.explicit}
    kept: dict[tuple[int, int, str], Found] = {}
    for f, g in zip(found, groups):
        e = f.event
        if e.kind == "gain" and not e.explicit and any(gg == g and day <= ordinal(e.reported)
                                                      for gg, day in dated_gains):
            continue
        # two sides do not take a place on the same day: one gain a day, told by its most named holder
        key = (-1 if e.kind == "gain" and e.explicit else g, e.day, e.kind)
        if key not in kept or _better(f, kept[key]):
            kept[key] = f
    return sorted(kept.values(), key=lambda f: (f.event.day, ordinal(f.event.reported), f.event.kind == "hold"))


def _named(holder: str) -> int:
    return sum(w[:1].isupper() for w in holder.split())


def _better(a: Found, b: Found) -> bool:
    """The report to keep of one event: the one naming its holder more fully, then the earliest."""
    return (-_named(a.event.holder), ordinal(a.event.reported)) < (-_named(b.event.holder), ordinal(b.event.reported))


def _verb(holder: str) -> str:
    last = (re.findall(r"\w+", holder) or [""])[-1]
    return "hold" if last.endswith("s") and not last.endswith("ss") and not last.isupper() else "holds"


class _Numbers:
    """Citation numbers in order of first use; hits nobody cited follow, so the nearest passages stay listed."""

    def __init__(self, hits: Sequence[Hit]) -> None:
        self.hits = hits
        self.order: list[int] = []
        self.spans: dict[int, set[tuple[int, int]]] = {}
        self.marked: list[Found] = []
        self.w = Writer()

    def mark(self, f: Found) -> None:
        if f not in self.marked:
            self.marked.append(f)
        if f.hit not in self.order:
            self.order.append(f.hit)
        self.spans.setdefault(f.hit, set()).add((f.event.start, f.event.end))
        self.w.mark(self.order.index(f.hit) + 1)

    def says(self, event: Event, subject: str) -> None:
        """`the Brigades recaptured SUBJECT`, the holder and verb as the report wrote them."""
        if event.passive:
            self.w.own(f"{subject} ")
            self.w.copy(re.sub(r"\b(?:\w+ly|now|also|still)\s+", "", event.verb))
            self.w.own(" ")
            self.w.copy(event.holder)
        else:
            self.w.copy(event.holder)
            self.w.own(" ")
            self.w.copy(event.verb)
            self.w.own(f" {subject}")

    def quote(self, f: Found) -> None:
        self.w.own(": “")
        self.w.copy(" ".join(self.hits[f.hit].chunk.text[f.event.start:f.event.end].split()).strip("“”\""))
        self.w.own("”")

    def history(self, found: Sequence[Found]) -> None:
        """`Before that: 21 May 2024 — Valdorian government forces recaptured it [3]; …`"""
        self.w.own("\nBefore that: ")
        for k, f in enumerate(found):
            self.w.own(("; " if k else "") + f"{format_date(f.event.on)} — ")
            if f.event.kind == "gain":
                self.says(f.event, "it")
            else:
                self.w.own("reported held by ")
                self.w.copy(f.event.holder)
            self.w.own(" ")
            self.mark(f)
        self.w.own(".")

    def answer(self, question: str, nearest: int) -> Answer:
        order = self.order + [i for i in range(min(nearest, len(self.hits))) if i not in self.order]
        citations = tuple(Citation(n + 1, self.hits[i], tuple(sorted(self.spans.get(i, ()))))
                          for n, i in enumerate(order))
        return replace(self.w.answer(question, citations), timeline=self.timeline())

    def timeline(self) -> tuple[TimelinePoint, ...]:
        """The dated events the answer cites, oldest first: day, the sentence that reports it, its `[n]`, holder."""
        points = []
        for f in sorted((f for f in self.marked if f.event.on), key=lambda f: (f.event.day, f.hit)):
            clause = " ".join(self.hits[f.hit].chunk.text[f.event.start:f.event.end].split())
            if len(clause) > CLAUSE_CHARS:
                clause = clause[:CLAUSE_CHARS - 1].rstrip() + "…"
            points.append(TimelinePoint(str(f.event.on)[:10], clause, self.order.index(f.hit) + 1, f.event.holder))
        return tuple(points)


def answer_state(question: str, subject: StateQuestion, hits: Sequence[Hit], nearest: int = 5,
                 window: str = "") -> Answer | None:
    """The latest holder with its date and quote, since when, and the earlier changes; None when no
    article among `hits` reports who holds the subject (the caller answers another way)."""
    # "the Castrel Water Board holds the Castrel Water Board": a holder that is the subject itself is none
    events = [f for f in find_events(subject, hits)
              if not set(analyze(f.event.holder)) <= set(analyze(subject.subject))]
    if subject.after:
        events = [f for f in events if not f.event.on or f.event.day > ordinal(subject.after)]
    if not events:
        return None
    dated = [f for f in events if f.event.on]
    undated = [f for f in events if not f.event.on]
    out = _Numbers(hits)
    w = out.w
    if undated and not any(hits[f.hit].chunk.published_at for f in events):
        # no report is dated: what the report says holds now leads; the dates it names are history
        first = undated[0]
        one = len({hits[f.hit].chunk.doc_id for f in undated}) == 1
        w.own(f"{'The' if one else 'An'} undated report says ")
        out.says(first.event, subject.subject)
        w.own(" ")
        out.mark(first)
        out.quote(first)
        for f in [f for f in undated[1:3] if f.event.holder != first.event.holder]:
            w.own("\nIt also says ")
            out.says(f.event, "it")
            w.own(" ")
            out.mark(f)
            w.own(".")
        if dated:
            out.history(list(reversed(dated[-HISTORY:])))
        return out.answer(question, nearest)
    if subject.after:
        w.own(f"After {format_date(subject.after)}:\n")
    if window:
        w.own(f"{window}: ")
    if dated and subject.mode == "since":
        latest = dated[-1]
        since = held_since([f.event for f in dated])
        since_found = next((f for f in dated if f.event is since), latest if latest.event.kind == "gain" else None)
        if since_found is None:  # the reports say who holds it, not when they took it
            return None
        w.copy(since_found.event.holder)
        w.own(f" has held {subject.subject} since {format_date(since_found.event.on)} ")
        out.mark(since_found)
        out.quote(since_found)
        if latest is not since_found:
            w.own(f"\nStill held as of {format_date(latest.event.reported or latest.event.on)} ")
            out.mark(latest)
            w.own(".")
        return replace(out.answer(question, nearest), direct=format_date(since_found.event.on))
    if dated:
        latest = dated[-1]
        e = latest.event
        # a direct answer names the holder: not "the authority's engineers", which stands for a name said earlier
        holder = e.holder if subject.mode == "current" and (re.search(r"\b[A-Z]", e.holder) or not re.search(
            r"['’]s\b", e.holder)) else None
        sides = len(set(holder_groups([f.event.holder for f in dated])))
        if subject.mode == "history" and not subject.after and sides > 1 and re.search(r"\bchanged? hands\b",
                                                                                         question, re.I):
            w.own("Yes. ")
        w.own(f"As of {format_date(e.reported or e.on)}, ")
        w.copy(e.holder)
        w.own(f" {_verb(e.holder)} {subject.subject} ")
        out.mark(latest)
        out.quote(latest)
        since = held_since([f.event for f in dated])
        since_found = next((f for f in dated if f.event is since), None)
        if since_found is not None and since_found is not latest:
            w.own(f"\nHeld since {format_date(since_found.event.on)}, when ")
            out.says(since_found.event, "it")
            w.own(" ")
            out.mark(since_found)
            w.own(".")
        earlier = [f for f in reversed(dated) if f is not latest and f is not since_found]
        if subject.mode == "current":
            earlier = [f for f in earlier if f.event.kind == "gain"]
        if earlier:
            out.history(earlier[:HISTORY])
        if not undated:
            return replace(out.answer(question, nearest), direct=holder)
    for f in undated[:2]:
        w.own("\n" if dated else "")
        w.own("The undated report says " if not dated and len(undated) == 1 else "An undated report says ")
        out.says(f.event, subject.subject)
        w.own(" ")
        out.mark(f)
        out.quote(f)
    return out.answer(question, nearest)
