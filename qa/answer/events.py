"""Dated events about a subject, read from many reports: questions that ask for a timeline, a period, where
sources disagree or what readers said, and the events, merged across reports, that answer them. Pure: no
model, no index.

    >>> read_topic("Timeline of Al Qaim").subject
    'Al Qaim'
    >>> read_topic("What happened in Homs between February and April 2012?").date_from
    '2012-02-01'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from typing import Any, Literal

from qa.answer.timeline import (
    _GAIN,
    _HOLD,
    StateQuestion,
    _event_date,
    _month_end,
    concerns,
    control_events,
    holder_groups,
    strip_furniture,
)
from qa.answer.timeline import Event as ControlEvent
from qa.dates import MONTH_PATTERN, MONTHS, mentioned_dates, ordinal
from qa.text import STOPWORDS, analyze, fold, skeleton, split_sentences, stem
from qa.types import Chunk, Hit

TopicKind = Literal["timeline", "period", "disagree", "readers"]

_WHEN = (r"(?:in|during|between|from|since|after|before|until|by|over|throughout)\s+(?:(?:early|late|mid)[- ])?"
         rf"(?:(?:{MONTH_PATTERN})\.?\b|\d{{4}}\b|\d{{1,2}}\s+(?:{MONTH_PATTERN}))")
_TAIL = rf"(?:,?\s+(?P<when>{_WHEN}.*?))?\s*[?.!]*\s*$"
_NEWEST = re.compile(r"\b(newest|latest|most recent) first\b|\breverse (chronological )?order\b", re.I)
_NEWEST_TAIL = re.compile(r",?\s*(?:(?:newest|latest|most recent) first|in reverse(?: chronological)? order)\s*"
                          r"(?=[?.!]*\s*$)", re.I)
_PATTERNS: list[tuple[TopicKind, re.Pattern[str]]] = [
    ("readers", re.compile(r"^\s*what (?:did|do|have) (?:the )?(?:readers|commenters|comments|commentators)\s+"
                           rf"(?:say|said|think|write|written|made of)\s+(?:about|of|on)\s+(?P<x>.+?){_TAIL}", re.I)),
    ("readers", re.compile(r"^\s*(?:which|what) (?:readers|commenters|comments)\s+(?:disagreed?|disputed?|"
                           r"contradicted?|argued)\s+(?:with\s+)?(?:the\s+)?(?:article|report|story|reporting)"
                           rf"(?:\s+(?:about|on)\s+(?P<x>.+?))?{_TAIL}", re.I)),
    ("disagree", re.compile(r"^\s*(?:where|how|on what|do|did|does)\s+(?:do |did )?(?:the )?(?:reports|sources|"
                            r"accounts|outlets)\s+(?:disagree|differ|conflict|contradict each other)\s+"
                            rf"(?:about|on|over)\s+(?P<x>.+?){_TAIL}", re.I)),
    ("disagree", re.compile(r"^\s*(?:are there\s+)?(?:conflicting|contradictory|disputed)\s+(?:reports|accounts|"
                            rf"figures|claims)\s+(?:about|on|of|over)\s+(?P<x>.+?){_TAIL}", re.I)),
    ("timeline", re.compile(r"^\s*(?:(?:give|show|make)(?: me)?\s+)?(?:a\s+|the\s+)?(?:timeline|chronology)\s+"
                            rf"(?:of|for)\s+(?:the\s+events\s+(?:in|at|of)\s+)?(?P<x>.+?){_TAIL}", re.I)),
    ("timeline", re.compile(rf"^\s*how did\s+(?P<x>.+?)\s+(?:unfold|develop|happen|evolve|play out){_TAIL}", re.I)),
    ("timeline", re.compile(r"^\s*how (?:has|have|did)\s+(?:the\s+)?(?:control of|situation (?:in|at))\s+"
                            rf"(?P<x>.+?)\s+(?:changed?|developed?|evolved?){_TAIL}", re.I)),
    ("timeline", re.compile(rf"^\s*when (?:did|has|have)\s+(?P<x>.+?)\s+(?:change|changed) hands{_TAIL}", re.I)),
    ("timeline", re.compile(rf"^\s*what (?:has )?happened (?:to|at|in|around)\s+(?P<x>.+?){_TAIL}", re.I)),
    ("period", re.compile(r"^\s*what (?:did|does|has) the (?:archive|reports?|press|news)\s+(?:say|said|report|"
                          rf"reported|write|written)\s+(?:about|on)\s+(?P<x>.+?){_TAIL}", re.I)),
]


@dataclass(frozen=True)
class Topic:
    """A question about many reports on one subject: `kind` says what it wants; a window, when it names one."""

    kind: TopicKind
    subject: str
    newest_first: bool = False
    date_from: str | None = None  # ISO, inclusive
    date_to: str | None = None

    @cached_property
    def about(self) -> StateQuestion:
        """The subject as `qa.answer.timeline` reads one: its distinctive names and head noun."""
        return StateQuestion(self.subject)

    @property
    def windowed(self) -> bool:
        return bool(self.date_from or self.date_to)


def read_topic(question: str) -> Topic | None:
    """What a question about many reports asks, or None for any other question. A timeline that names a
    window is a period: `read_topic('What happened in Homs in 2012?').kind` -> `'period'`."""
    text = question.strip()
    newest = bool(_NEWEST.search(text))
    text = _NEWEST_TAIL.sub("", text)
    for kind, pattern in _PATTERNS:
        if m := pattern.match(text):
            subject = re.sub(r"\s+", " ", (m["x"] or "").strip(" ,?.!"))
            subject = re.sub(r"^(?:the\s+)?(?:events?|fighting|developments?)\s+(?:in|at|around)\s+", "", subject,
                             flags=re.I) if kind != "timeline" else subject
            if not subject and kind != "readers":
                return None
            start, end = window(m["when"]) if m["when"] else (None, None)
            if kind == "timeline" and (start or end) and not re.match(r"\s*(?:since|after)\b", m["when"], re.I):
                kind = "period"
            if kind == "period" and not (start or end):
                kind = "timeline"  # "what did the archive report about X?" with no window: all of it
            return Topic(kind, subject, newest, start, end)
    return None


_RANGE = re.compile(rf"\b(?:between|from)\s+(?P<m1>{MONTH_PATTERN})\.?(?:\s+(?P<y1>\d{{4}}))?\s+(?:and|to|until|-)\s+"
                    rf"(?P<m2>{MONTH_PATTERN})\.?\s+(?P<y2>\d{{4}})\b", re.I)
_YEARS = re.compile(r"\b(?:between|from)\s+(?P<y1>\d{4})\s+(?:and|to|until|-)\s+(?P<y2>\d{4})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b(?P<m>{MONTH_PATTERN})\.?,?\s+(?P<y>\d{{4}})\b", re.I)
_YEAR = re.compile(r"\b(?P<y>1[89]\d\d|2\d\d\d)\b")


def _month(name: str) -> int:
    return MONTHS.get(name.lower().rstrip("."), 0)


def _span(phrase: str) -> tuple[str, str] | None:
    """The first and last day a phrase names: a full date, a month and year, or a year."""
    if found := mentioned_dates(phrase):
        return found[0], found[0]
    if (m := _MONTH_YEAR.search(phrase)) and _month(m["m"]):
        y, mo = int(m["y"]), _month(m["m"])
        return date(y, mo, 1).isoformat(), _month_end(y, mo).isoformat()
    if m := _YEAR.search(phrase):
        return f"{m['y']}-01-01", f"{m['y']}-12-31"
    return None


def window(phrase: str) -> tuple[str | None, str | None]:
    """The dates a time phrase bounds, inclusive: `window('between February and April 2012')` ->
    `('2012-02-01', '2012-04-30')`; `since March 2025` -> `('2025-03-01', None)`; `before 2014` -> `(None,
    '2013-12-31')`."""
    if m := _RANGE.search(phrase):
        y2 = int(m["y2"])
        y1 = int(m["y1"]) if m["y1"] else y2
        return date(y1, _month(m["m1"]), 1).isoformat(), _month_end(y2, _month(m["m2"])).isoformat()
    if m := _YEARS.search(phrase):
        return f"{m['y1']}-01-01", f"{m['y2']}-12-31"
    found = _span(phrase)
    if found is None:
        return None, None
    first, last = found
    word = phrase.strip().split()[0].lower()
    if word in ("since", "from"):
        return first, None
    if word == "after":
        return date.fromordinal(ordinal(last) + 1).isoformat(), None
    if word in ("before",):
        return None, date.fromordinal(ordinal(first) - 1).isoformat()
    if word in ("until", "by"):
        return None, last
    return first, last


# --- events in reports -------------------------------------------------------------------------------

_DATED = re.compile(rf"\b(?:on |since |from |early |late )?(?:(?:{MONTH_PATTERN})\.? \d{{1,2}}\b|"
                    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\d{1,2} (?:"
                    rf"{MONTH_PATTERN})\b)", re.I)
FAR_BACK = 180  # days: a month and day this far before its report is taken for a day ahead
MAX_WORDS = 40  # words of a sentence quoted as an event's clause


# every verb and phrase `qa.answer.timeline.control_events` reads a holder from: a sentence without any is not read
# (its patterns cost a couple of milliseconds a sentence; this search, a few microseconds)
_HANDS_WORDS = re.compile(rf"\b(?:{_GAIN}|{_HOLD}|fell to|under|hands|behind|handed|turned|turns|given|gave|gives|"
                          r"transferred|transfers|passed|ceded|cedes|returned|(?:seized|captured|retaken|recaptured|"
                          r"taken|overrun|held|controlled|occupied|run|administered|governed|managed|operated|secured|"
                          r"manned|policed) by)\b", re.I)


# a word every alternative of `_HANDS_WORDS` holds: a sentence without any is not searched
_HANDS_KEYS = frozenset(
    "seized seizes seize captured captures capture recaptured recaptures recapture retook retakes retake retaken "
    "overran overrun overruns stormed storms occupied liberated took taken take takes regained wrested controls holds "
    "hold maintain maintains runs administers administer running administering manning guarding control fell under "
    "hands behind handed turned turns given gave gives transferred transfers passed ceded cedes returned held "
    "controlled run administered governed managed operated secured manned policed".split())
_WORD = re.compile(r"\w+")


def may_change_hands(sentence: str) -> bool:
    return not _HANDS_KEYS.isdisjoint(_WORD.findall(sentence.lower())) and _HANDS_WORDS.search(sentence) is not None


Memo = dict[tuple[str, str, int], Any]  # what one answer has read of a passage's sentences, read once


def events_in(sentence: str, chunk: Chunk, start: int, memo: Memo | None = None) -> list[ControlEvent]:
    """`qa.answer.timeline.control_events` of one sentence of a passage."""
    key = ("events", chunk.chunk_id, start)
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    found = control_events(sentence, chunk.published_at, start) if may_change_hands(sentence) else []
    if memo is not None:
        memo[key] = found
    return found


def sentences_of(chunk: Chunk, memo: Memo | None = None) -> list[tuple[int, int]]:
    key = ("spans", chunk.chunk_id, 0)
    if memo is None or key not in memo:
        spans = split_sentences(chunk.text)
        if memo is None:
            return spans
        memo[key] = spans
    return memo[key]  # type: ignore[no-any-return]


def _words(text: str, chunk: Chunk, start: int, memo: Memo | None) -> set[str]:
    """The terms of the sentence at `start` of `chunk` (-1: of its title and text), `analyze`d once per passage."""
    key = ("words", chunk.chunk_id, start)
    if memo is None:
        return set(analyze(text))
    if key not in memo:
        if start >= 0:  # a sentence of a passage `_sentence_words` could not split by offsets
            memo[key] = set(analyze(text))
        else:
            memo[key] = set(analyze(chunk.title)).union(*_sentence_words(chunk, memo))
    return memo[key]  # type: ignore[no-any-return]


def _sentence_words(chunk: Chunk, memo: Memo) -> list[set[str]]:
    """The terms of each sentence of a passage, from one pass over its text when folding keeps every character
    where it was (the words of a passage lie inside its sentences: only spaces lie between them)."""
    spans = sentences_of(chunk, memo)
    text = chunk.text
    folded = fold(text)
    if len(folded) != len(text) or not unicodedata.is_normalized("NFKD", text):
        return [_words(text[a:b], chunk, a, memo) for a, b in spans]
    found = [{stem(w) for w in _WORD.findall(folded, a, b) if w not in STOPWORDS} for a, b in spans]
    for (a, _), words in zip(spans, found):
        memo[("words", chunk.chunk_id, a)] = words
    return found


def names_in(text: str, chunk: Chunk, start: int, subject: StateQuestion, memo: Memo | None = None) -> bool:
    """`names(text, subject)` or, in a passage about it, its head noun ("the crossing"): `text` being the sentence at
    `start` of `chunk` (-1: its title and text)."""
    key = ("names", chunk.chunk_id, start)
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    found = names_among(_words(text, chunk, start, memo), subject) or (start >= 0 and subject.by_head(text))
    if memo is not None:
        memo[key] = found
    return found


@lru_cache(maxsize=1 << 16)
def _shape(term: str) -> str:
    return skeleton(term)


def names(text: str, subject: StateQuestion) -> bool:
    """`qa.answer.timeline.mentions`, with each word's spelling shape computed once: the text holds every distinctive
    term of the subject, or a word of the same consonants."""
    return names_among(set(analyze(text)), subject)


def names_among(words: set[str], subject: StateQuestion) -> bool:
    """`names` of a text whose terms are `words`."""
    missing = [t for t in subject.names if t not in words]
    if not missing:
        return True
    if not all(len(t) >= 3 and t.isalpha() for t in missing):
        return False
    shapes = {_shape(t) for t in missing}
    firsts = {t[0] for t in missing}  # a shape starts with its word's first letter
    found = {_shape(w) for w in words if w[:1] in firsts and len(w) >= 3 and w.isalpha()} & shapes
    return len(found) == len(shapes)


@dataclass(frozen=True)
class Report:
    """One report of an event: the sentence at `start:end` of hit number `hit`, and the day it gives."""

    hit: int
    start: int
    end: int
    day: str | None  # ISO date of the event: named in the sentence, else the report's date
    explicit: bool  # the sentence names the day
    clause: str
    holder: str | None = None  # who took or holds the subject, when the sentence says


@dataclass(frozen=True)
class Event:
    """An event as one or more reports give it: the first report's words and day, every report's citation."""

    reports: tuple[Report, ...]

    @property
    def first(self) -> Report:
        return self.reports[0]

    @property
    def day(self) -> str | None:
        return self.first.day

    @property
    def hits(self) -> list[int]:
        return list(dict.fromkeys(r.hit for r in self.reports))


def clause_of(sentence: str) -> str:
    """The sentence as one line, furniture dropped, cut to `MAX_WORDS` words with an ellipsis."""
    words = strip_furniture(sentence).split()
    return " ".join(words[:MAX_WORDS]) + (" …" if len(words) > MAX_WORDS else "")


def event_reports(topic: Topic, hits: Sequence[Hit], kinds: tuple[str, ...] = ("article",),
                  memo: Memo | None = None) -> list[Report]:
    """The sentences of `hits` that report something dated about the topic's subject: in a passage about it,
    a sentence naming it (or calling it by its head noun) that names a day, reports who took or holds it, or
    is the first of its passage to name it."""
    subject = topic.about
    found: list[Report] = []
    for i, hit in enumerate(hits):
        chunk = hit.chunk
        if chunk.kind not in kinds:
            continue
        passage_about = names_in(f"{chunk.title} {chunk.text}", chunk, -1, subject, memo)
        if not passage_about:
            continue
        lede = True
        for start, end in sentences_of(chunk, memo):
            sentence = chunk.text[start:end]
            if len(sentence.split()) < 4 or not names_in(sentence, chunk, start, subject, memo):
                continue
            events = [e for e in events_in(sentence, chunk, start, memo) if concerns(e, sentence, subject, True)]
            if not (events or lede or _DATED.search(sentence) or mentioned_dates(sentence)):
                continue
            lede = False
            if events and events[0].explicit:
                day, explicit = events[0].on, True
            else:  # "officials said on Tuesday it remains held": the day it was said
                day, explicit = _event_date(sentence, chunk.published_at)
            if explicit and chunk.published_at and ordinal(chunk.published_at) - ordinal(day) > FAR_BACK and \
                    not mentioned_dates(sentence):
                day, explicit = chunk.published_at, False  # "closed until June 10" is ahead, not a year back
            found.append(Report(i, start, end, day, explicit, clause_of(sentence),
                                events[0].holder if events else None))
    return found


def _terms(report: Report) -> set[str]:
    return set(analyze(report.clause))


def _same(a: Report, b: Report, ta: set[str], tb: set[str], groups: dict[str, int]) -> bool:
    """Two reports tell one event: the same day (or one of them undated by its words) and most words alike,
    or the same side taking the subject on the same day."""
    if a.explicit and b.explicit and a.day != b.day:
        return False
    if a.holder and b.holder and a.day == b.day and groups[a.holder] == groups[b.holder]:
        return True
    overlap = len(ta & tb) / max(1, min(len(ta), len(tb)))
    return overlap >= (0.6 if a.day == b.day else 0.75)


@lru_cache(maxsize=256)
def _least(m: int) -> int:
    """The fewest words `_same` lets two reports share when the shorter has `m` (more than `m`: none)."""
    return next((n for n in range(m + 1) if n / max(1, m) >= 0.6), m + 1)


def merge(reports: Sequence[Report], hits: Sequence[Hit]) -> list[Event]:
    """Reports of one event merged, the report naming its day first; events oldest first, undated last.

    Two reports are of one event when `_same` says so; a report that gives no day of its own joins a
    dated event it matches, so "the army had recaptured it" does not open an event on the report's date."""
    holders = list(dict.fromkeys(r.holder for r in reports if r.holder))  # each once: the grouping is quadratic
    group_of = dict(zip(holders, holder_groups(holders)))
    order = sorted(range(len(reports)), key=lambda i: (not reports[i].explicit, ordinal(reports[i].day) or 10**9,
                                                       ordinal(hits[reports[i].hit].chunk.published_at), i))
    events: list[list[Report]] = []
    terms: list[set[str]] = []
    # Only an event sharing the day, or enough words, can be the same one. Words ranked rarest first: two sets
    # sharing n words share one among the first len - n + 1 of each, so each event is indexed by all its words
    # (probed with a report's first words) and by its own first words (probed with all of a report's).
    all_terms = [_terms(r) for r in reports]
    df: dict[str, int] = {}
    for t in all_terms:
        for w in t:
            df[w] = df.get(w, 0) + 1
    by_term: dict[str, list[int]] = {}
    by_lead: dict[str, list[int]] = {}
    by_day: dict[str | None, list[int]] = {}
    seen: set[tuple[str, int, int]] = set()
    for i in order:
        r = reports[i]
        key = (hits[r.hit].chunk.doc_id, hits[r.hit].chunk.start + r.start, hits[r.hit].chunk.comment_index or -1)
        if key in seen:  # one sentence in two overlapping passages
            continue
        seen.add(key)
        t = all_terms[i]
        ranked = sorted(t, key=lambda w: (df[w], w))
        lead = ranked[:len(t) - _least(len(t)) + 1]
        near = set(by_day.get(r.day, ()))
        near.update(k for w in lead for k in by_term.get(w, ()) if len(terms[k]) >= len(t))
        near.update(k for w in t for k in by_lead.get(w, ()) if len(terms[k]) < len(t))
        k = next((k for k in sorted(near) if _same(events[k][0], r, terms[k], t, group_of)), None)
        if k is not None:
            events[k].append(r)
            continue
        for w in t:
            by_term.setdefault(w, []).append(len(events))
        for w in lead:
            by_lead.setdefault(w, []).append(len(events))
        by_day.setdefault(r.day, []).append(len(events))
        events.append([r])
        terms.append(t)
    merged = [Event(tuple(g)) for g in events]
    return sorted(merged, key=lambda e: (e.day is None, ordinal(e.day), ordinal(hits[e.first.hit].chunk.published_at)))


def in_window(event: Event, topic: Topic) -> bool:
    """The event's day falls in the topic's window (an undated event does not)."""
    if not topic.windowed:
        return True
    if event.day is None:
        return False
    day = ordinal(event.day)
    return (not topic.date_from or day >= ordinal(topic.date_from)) and (not topic.date_to or day <= ordinal(
        topic.date_to))
