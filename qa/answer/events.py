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
    _MONTH_DAY,
    StateQuestion,
    _event_date,
    _month_end,
    concerns,
    control_events,
    holder_groups,
    strip_furniture,
)
from qa.answer.timeline import Event as ControlEvent
from qa.dates import MONTH_PATTERN, MONTHS, mentioned_dates, ordinal, resolve_day
from qa.text import STOPWORDS, analyze, fold, skeleton, split_sentences, stem
from qa.types import Chunk, Hit

TopicKind = Literal["timeline", "period", "disagree", "readers"]

_SEASON = r"spring|summer|autumn|fall|winter"
_PART = (r"(?:first|second|third|fourth|last|final)\s+(?:half|quarter|(?:two|three|four|five|six|\d{1,2})\s+months)"
         r"|(?:early|late|mid)[- ]?\d{4}")
_WHEN = (r"(?:in|during|between|from|since|after|before|until|by|over|throughout)\s+(?:the\s+)?"
         rf"(?:(?:early|late|mid)[- ])?(?:(?:{MONTH_PATTERN})\.?\b|\d{{4}}\b|\d{{1,2}}\s+(?:{MONTH_PATTERN})|"
         rf"(?:{_SEASON})\b|{_PART})")
_TAIL = rf"(?:,?\s+(?P<when>{_WHEN}.*?))?\s*[?.!]*\s*$"
_NEWEST = re.compile(r"\b(newest|latest|most recent) first\b|\breverse (chronological )?order\b", re.I)
_NEWEST_TAIL = re.compile(r",?\s*(?:(?:newest|latest|most recent) first|in reverse(?: chronological)? order)\s*"
                          r"(?=[?.!]*\s*$)", re.I)
_WHOLE_WAR = re.compile(r",?\s+(?:since|over|during|throughout|in)\s+the\s+(?:\w+\s+)?(?:fighting|war|siege|conflict|"
                        r"crisis)(?:\s+(?:began|started))?$", re.I)
_PATTERNS: list[tuple[TopicKind | Literal["source"], re.Pattern[str]]] = [
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
    ("timeline", re.compile(rf"^\s*what (?:has )?happened (?:to|at|in|around|with)\s+(?P<x>.+?){_TAIL}", re.I)),
    # "Who has run the Aske ferry in 2025?": with a window, what happened to it then (without one, who holds it)
    ("timeline", re.compile(r"^\s*who (?:has|have) (?:run|held|controlled|owned|managed|operated|administered)\s+"
                            rf"(?P<x>.+?)(?=,?\s+{_WHEN}){_TAIL}", re.I)),
    ("timeline", re.compile(rf"^\s*how did\s+(?P<x>.+?)\s+(?:pass|come|fall)\s+(?:in)?to\b.*?{_TAIL}", re.I)),
    # "Who has held X, and when did it change hands?", "Who has held X?": the holders over time
    ("timeline", re.compile(r"^\s*who (?:has|have) (?:run|held|controlled|owned|managed|operated|administered)\s+"
                            r"(?P<x>.+?)(?:,?\s+and\s+when\s+(?:did|has|have)\s+(?:it|they)\s+(?:change|changed)\s+"
                            rf"hands)?{_TAIL}", re.I)),
    ("timeline", re.compile(rf"^\s*what (?:is|was) the history of\s+(?:the\s+)?(?:control of\s+)?(?P<x>.+?){_TAIL}",
                            re.I)),
    ("timeline", re.compile(rf"^\s*(?:what|which (?P<x2>.+?))\s+(?:has |have )?changed hands(?:\s+in\s+"
                            rf"(?P<x>(?-i:[A-Z]).*?))?{_TAIL}", re.I)),
    ("period", re.compile(r"^\s*what (?:did|does|has) the (?:archive|reports?|press|news)\s+(?:say|said|report|"
                          rf"reported|write|written)\s+(?:about|on)\s+(?P<x>.+?){_TAIL}", re.I)),
    # "What did the wire report about Tesk in May?", "What did the Courier report between July and October?": a
    # source's reports in a window (only with one: "what did the minister write about X?" asks for the minister)
    ("source", re.compile(r"^\s*what (?:did|does|has|have) (?:the )?(?:[\w'’-]+\s+){1,3}?(?:report|reported|write|"
                          r"written|publish|published|cover|covered)(?:\s+(?:about|on|from)\s+(?P<x>.+?))?"
                          rf"{_TAIL}", re.I)),
]


@dataclass(frozen=True)
class Topic:
    """A question about many reports on one subject: `kind` says what it wants; a window, when it names one."""

    kind: TopicKind
    subject: str
    newest_first: bool = False
    date_from: str | None = None  # ISO, inclusive
    date_to: str | None = None
    history: bool = False  # a timeline asked for as such ("who has held X?"), not "what happened to X?"

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
            groups = m.groupdict()
            subject = re.sub(r"\s+", " ", (groups.get("x") or groups.get("x2") or "").strip(" ,?.!"))
            subject = re.sub(r"^(?:the\s+)?(?:events?|fighting|developments?)\s+(?:in|at|around)\s+", "", subject,
                             flags=re.I) if kind != "timeline" else subject
            subject = _WHOLE_WAR.sub("", subject)  # "since the fighting began": all of it, no window
            start, end = window(m["when"]) if m["when"] else (None, None)
            if not subject and not (kind == "readers" or start or end):
                return None  # "what did the wire report in May 2025?" asks for all of it in that window
            if kind == "source":
                if not (start or end):
                    continue
                kind = "period"
            if kind == "timeline" and (start or end) and not re.match(r"\s*(?:since|after)\b", m["when"], re.I):
                kind = "period"
            if kind == "period" and not (start or end):
                kind = "timeline"  # "what did the archive report about X?" with no window: all of it
            # "what happened to X?" and "who has held X since <a day>?" ask who holds it (now, or since then)
            history = kind == "timeline" and not re.match(r"\s*what (?:has )?happened\b", text, re.I) and not (
                m["when"] and re.match(r"\s*who\b", text, re.I))
            return Topic(kind, subject, newest, start, end, history=history)
    return None


_RANGE = re.compile(rf"\b(?:between|from|in)\s+(?P<m1>{MONTH_PATTERN})\.?(?:\s+(?P<y1>\d{{4}}))?\s+"
                    rf"(?:and|to|until|-)\s+(?P<m2>{MONTH_PATTERN})\.?\s+(?P<y2>\d{{4}})\b", re.I)
_YEARS = re.compile(r"\b(?:between|from)\s+(?P<y1>\d{4})\s+(?:and|to|until|-)\s+(?P<y2>\d{4})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b(?P<m>{MONTH_PATTERN})\.?,?\s+(?P<y>\d{{4}})\b", re.I)
_YEAR = re.compile(r"\b(?P<y>1[89]\d\d|2\d\d\d)\b")


def _month(name: str) -> int:
    return MONTHS.get(name.lower().rstrip("."), 0)


_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}
_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_SEASON_YEAR = re.compile(rf"\b(?P<s>{_SEASON})\s+(?:of\s+)?(?P<y>\d{{4}})\b", re.I)
_PART_YEAR = re.compile(r"\b(?P<which>first|second|third|fourth|last|final)\s+(?P<part>half|quarter|"
                        r"(?P<n>two|three|four|five|six|\d{1,2})\s+months)\s+of\s+(?P<y>\d{4})\b", re.I)
_EDGE_YEAR = re.compile(r"\b(?P<edge>early|mid|late)[- ]?(?P<y>\d{4})\b", re.I)


def _months(y: int, first: int, last: int) -> tuple[str, str]:
    """The first day of month `first` and the last of month `last` (the next year's when it comes before)."""
    return date(y, first, 1).isoformat(), _month_end(y + (last < first), last).isoformat()


def _part_of_year(phrase: str) -> tuple[str, str] | None:
    """"the autumn of 2024" -> September to November; "the first three months of 2025", "the second half of
    2024", "the last quarter of 2023", "early 2024" (its first four months)."""
    if m := _SEASON_YEAR.search(phrase):
        return _months(int(m["y"]), *_SEASONS[m["s"].lower()])
    if m := _PART_YEAR.search(phrase):
        part, y = m["part"].lower(), int(m["y"])
        size = 6 if part == "half" else 3 if part == "quarter" else int(_COUNT.get(m["n"].lower(), m["n"]))
        if not 1 <= size <= 12:
            return None
        k = {"first": 0, "second": 1, "third": 2, "fourth": 3}.get(m["which"].lower())
        first = 12 - size + 1 if k is None else k * size + 1
        return _months(y, first, first + size - 1) if first + size - 1 <= 12 else None
    if m := _EDGE_YEAR.search(phrase):
        first = {"early": 1, "mid": 5, "late": 9}[m["edge"].lower()]
        return _months(int(m["y"]), first, first + 3)
    return None


def _span(phrase: str) -> tuple[str, str] | None:
    """The first and last day a phrase names: a full date, a season or part of a year, a month and year, or a
    year."""
    if found := mentioned_dates(phrase):
        return found[0], found[0]
    if part := _part_of_year(phrase):
        return part
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
    found = control_events(undated(sentence), chunk.published_at, start) if may_change_hands(sentence) else []
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
    found = names_among(_words(text, chunk, start, memo), subject) or (
        start >= 0 and subject.head is not None and subject.head in text and subject.by_head(text))
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


# A wire dateline before a report's first sentence, "LISSA RIVER, Dessa, March 21 (Northgate Wire) - ", "BAGHDAD
# (Reuters) — ": the place and day it was filed, not the day of what it tells
_DATELINE = re.compile(rf"^\s*(?:[A-Z][A-Z'’.\-/ ]*[A-Z.](?:,[^,()\n]{{1,40}}?)*,?\s+)?(?:(?i:{MONTH_PATTERN})\.?\s+"
                       r"\d{1,2}(?:,?\s+\d{4})?\s+)?\([^()\n]{2,40}\)\s*[-–—]+\s")
# Links to other reports after the report itself: "Related coverage", "Read more", "See also"
_RELATED = re.compile(r"^[ \t]*(?:related(?:\s+(?:coverage|stories|articles|content|news|reading|links))?|read more|"
                      r"see also|more on this(?:\s+story)?|recommended(?:\s+reading)?|tags)[ \t]*:?[ \t]*$",
                      re.I | re.M)


def undated(sentence: str) -> str:
    """The sentence with its dateline, if it opens with one, blanked to spaces (offsets kept)."""
    return _DATELINE.sub(lambda m: " " * len(m.group()), sentence, count=1) if "(" in sentence else sentence


def report_end(chunk: Chunk) -> int:
    """Where a passage's report ends: at a "Related coverage" line (the headlines after it are other reports')."""
    m = _RELATED.search(chunk.text)
    return m.start() if m else len(chunk.text)


def clause_of(sentence: str) -> str:
    """The sentence as one line, dateline and furniture dropped, cut to `MAX_WORDS` words with an ellipsis."""
    words = strip_furniture(undated(sentence)).split()
    return " ".join(words[:MAX_WORDS]) + (" …" if len(words) > MAX_WORDS else "")


_DIGIT = re.compile(r"\d")
_ALLUDES = re.compile(r"\b(?:it|them|which|the (?:town|city|village|port|settlement))\b", re.I)


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
        ends = report_end(chunk)
        loose = topic.kind == "period" or names(chunk.title, subject)
        for start, end in sentences_of(chunk, memo):
            sentence = chunk.text[start:end]
            if start >= ends:
                break
            if len(sentence.split()) < 4:
                continue
            named = names_in(sentence, chunk, start, subject, memo)
            if not (named or loose):
                continue
            # what a report about the subject tells of a day counts though the sentence does not name it again:
            # in a period, any dated sentence or change of hands of a report naming it; in a timeline, a sentence
            # writing its day ("on April 22") in a report whose headline names it
            period = topic.kind == "period"
            if not (named or period or (_DIGIT.search(sentence) and _MONTH_DAY.search(undated(sentence)))):
                continue
            told = undated(sentence)
            # (`concerns` takes a sentence not naming the subject to mean it by a pronoun or "the town" only)
            may_concern = named or period or _ALLUDES.search(sentence) is not None
            events = [e for e in events_in(sentence, chunk, start, memo) if (period and not named) or
                      concerns(e, sentence, subject, True)] if may_concern else []
            if not (events or (lede and named) or (named or period) and _DATED.search(told) or mentioned_dates(told) or
                    _MONTH_DAY.search(told)):
                continue
            lede = lede and not named
            parts = [_dated_part(told, 0, len(told), events, chunk.published_at, None)]
            split = two_days(told)
            if len(split) > 1:  # "X withdrew on Saturday and Y took over the town on Sunday": two events
                first = _dated_part(told, *split[0], events, chunk.published_at, None)
                second = _dated_part(told, *split[1], events, chunk.published_at, first[2] if first[3] else None)
                if first[3] and second[3] and first[2] != second[2]:
                    parts = [first, second]
            for a, b, day, explicit, holder in parts:
                found.append(Report(i, start + a, start + b, day, explicit, clause_of(sentence[a:b]), holder))
    return found


def _dated_part(told: str, a: int, b: int, events: Sequence[ControlEvent], reported: str | None,
                before: str | None) -> tuple[int, int, str | None, bool, str | None]:
    """The span `a:b` of a sentence with the day of what it tells (`before`: the day of the clause before it,
    for "the next day") and who took or holds the subject there."""
    own = [e for e in events if a <= e.verb_at[0] < b] if (a, b) != (0, len(told)) else list(events)
    if own and own[0].explicit:
        day, explicit = own[0].on, True
    elif before and _NEXT_DAY.search(told, a, b):
        day, explicit = date.fromordinal(ordinal(before) + 1).isoformat(), True
    else:  # "officials said on Tuesday it remains held": the day it was said
        day, explicit = event_date(" " * a + told[a:b], reported)
    if explicit and reported and ordinal(reported) - ordinal(day) > FAR_BACK and not mentioned_dates(told):
        day, explicit = reported, False  # "closed until June 10" is ahead, not a year back
    return a, b, day, explicit, own[0].holder if own else None


# a day phrase: a weekday, a month and day, a whole date, or the day after the one before
_DAY_PHRASE = re.compile(rf"\b(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
                         rf"(?:{MONTH_PATTERN})\.? \d{{1,2}}\b|\d{{1,2}} (?:{MONTH_PATTERN})\b|the next day|"
                         r"the following day|a day later)\b", re.I)
_NEXT_DAY = re.compile(r"\b(?:the next day|the following day|a day later)\b", re.I)
_AND = re.compile(r",? and |; ")


def two_days(sentence: str) -> list[tuple[int, int]]:
    """The sentence's clauses when it tells two things on two days joined by "and" ("… withdrew on Monday, and
    the militia took over the town the next day"): the spans before and after the "and" that lies between the
    two day phrases with at least three words after it; else the whole sentence."""
    if " and " not in sentence and "; " not in sentence:
        return [(0, len(sentence))]
    days = list(_DAY_PHRASE.finditer(sentence))
    if len(days) < 2:
        return [(0, len(sentence))]
    first, second = days[0], days[1]
    joins = [m for m in _AND.finditer(sentence, first.end(), second.start())
             if len(sentence[m.end():second.start()].split()) >= 3]
    if not joins:
        return [(0, len(sentence))]
    join = joins[-1]
    return [(0, join.start()), (join.end(), len(sentence))]


_WEEKDAY_PHRASE = re.compile(r"\b(?P<w>(?:last|this|on|early on|late on|early|late)\s+)?(?P<d>monday|tuesday|wednesday|"
                             r"thursday|friday|saturday|sunday)\b", re.I)


def event_date(sentence: str, reported: str | None) -> tuple[str | None, bool]:
    """`qa.answer.timeline._event_date` of a whole sentence, "last Tuesday" read as the Tuesday before the
    report's day (a report of a Tuesday, too)."""
    day, explicit = _event_date(sentence, reported)
    if explicit and day == reported and (m := _WEEKDAY_PHRASE.search(sentence)) and m["w"] and \
            m["w"].lower().startswith("last") and not mentioned_dates(sentence) and not _MONTH_DAY.search(sentence):
        day = resolve_day(f"last {m['d']}", reported) or day
    return day, explicit


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
