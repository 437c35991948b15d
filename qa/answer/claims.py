"""Claims reports make about a subject (who holds it, how many were killed or wounded) and the pairs of
claims that cannot both be true: two holders for the same time, two tolls for the same event. Pure.

    >>> [(c.what, c.value) for c in counts("Officials said 14 people had been killed in Tesk.")]
    [('people killed', 14)]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from qa.answer.events import _DATED, Memo, clause_of, events_in, names_in, report_end, sentences_of, undated
from qa.answer.timeline import StateQuestion, _event_date, concerns, holder_groups
from qa.dates import MONTH_PATTERN, ordinal
from qa.types import Hit

_UNITS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                     "fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_WORD_NUMBER = (rf"(?:(?:{'|'.join(_TENS)})(?:[- ](?:{'|'.join(list(_UNITS)[1:10])}))?|"
                rf"{'|'.join(sorted(_UNITS, key=len, reverse=True))}|a hundred|one hundred)")
_NUM = rf"(?P<n>\d{{1,3}}(?:,\d{{3}})*|{_WORD_NUMBER})"
_VICTIM = r"(?P<noun>[a-z]+(?: [a-z]+)?)"
_HURT = r"(?P<v>killed|dead|died|wounded|injured|missing)"
_COUNT = [
    re.compile(rf"\b{_NUM}\s+(?:[a-z]+\s+)?{_VICTIM}\s+(?:(?:had|have|has)\s+been|were|was|are|had|have)\s+"
               rf"(?:\w+ly\s+)?{_HURT}\b", re.I),
    re.compile(rf"\b{_NUM}\s+(?:[a-z]+\s+)?{_VICTIM}\s+{_HURT}\b", re.I),
    re.compile(rf"\b(?P<v>killing|killed|wounding|wounded|injuring|injured)\s+(?:at least\s+)?{_NUM}\s+"
               r"(?P<noun>[a-z]+)\b", re.I),
]
_ANY_HURT = re.compile(r"\b(?:killed|dead|died|wounded|injured|missing|killing|wounding|injuring)\b", re.I)
_NOT_VICTIM = {"people", "person"}  # "14 people" and "31 people" count the same victims; kept as they are
# a gain told without its day that looks back ("after the IDRB seized it in March") dates nothing
_LOOKS_BACK = re.compile(rf"\b(?:{MONTH_PATTERN})\b|\b(?:1[89]|20)\d\d\b|\b(?:ago|had|earlier|previously|before|"
                         r"last (?:week|month|year)|since)\b", re.I)
_NAMED = re.compile(r"\b[A-Z]")
# the day a toll was given, not of the deaths: "the ministry said on Monday", "told reporters on March 3"
_SAID_ON = re.compile(r"\b(?:said|says|told [\w ]{1,30}?|announced|reported|confirmed)\s+(?:on|late on|early on)\s+"
                      r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
                      rf"(?:{MONTH_PATTERN})\.? \d{{1,2}}(?:,? \d{{4}})?)\b", re.I)
_SAME_TIME = 35  # days: two undated-by-their-words tolls this close count the same fighting


def number_value(text: str) -> int | None:
    """`number_value('Thirty-one')` -> `31`; `number_value('1,150')` -> `1150`."""
    t = text.lower().replace(",", "")
    if t.isdigit():
        return int(t)
    if t in ("a hundred", "one hundred"):
        return 100
    parts = re.split(r"[- ]", t)
    if parts[0] in _TENS:
        return _TENS[parts[0]] + (_UNITS.get(parts[1], 0) if len(parts) > 1 else 0)
    return _UNITS.get(t)


def _plural(noun: str) -> str:
    last = noun.split()[-1]
    return last if last.endswith("s") or last in _NOT_VICTIM else last + "s"


@dataclass(frozen=True)
class Count:
    what: str  # "soldiers killed"
    value: int


def counts(sentence: str) -> list[Count]:
    """Tolls a sentence states: a number of people killed, dead, wounded or missing."""
    if not _ANY_HURT.search(sentence):  # what every toll pattern needs, searched first: they are slow
        return []
    found: dict[int, Count] = {}
    for pattern in _COUNT:
        for m in pattern.finditer(sentence):
            value = number_value(m["n"])
            noun = m["noun"].split()[-1]
            if value is None or not noun.isalpha() or noun in ("of", "and", "the", "had", "were", "more"):
                continue
            hurt = "killed" if m["v"].lower() in ("killed", "dead", "died", "killing") else \
                "missing" if m["v"].lower() == "missing" else "wounded"
            found.setdefault(m.start("n"), Count(f"{_plural(noun)} {hurt}", value))
    return [found[k] for k in sorted(found)]


Aspect = Literal["holder", "count"]


@dataclass(frozen=True)
class Claim:
    """What one sentence of a report or comment states about the subject."""

    hit: int
    start: int
    end: int
    clause: str
    reported: str | None  # the report's (or comment's) date
    day: str | None  # the day the claim is about
    explicit: bool  # the sentence names that day
    aspect: Aspect
    value: str  # the holder as written, or the number
    what: str  # "who holds it", "soldiers killed"
    gain: bool = False  # a holder claim that says the holder took it (else holds it)


@dataclass(frozen=True)
class Pair:
    a: Claim
    b: Claim
    what: str  # what they disagree on: "who holds it", "soldiers killed"


def claims_about(subject: StateQuestion, hits: Sequence[Hit], comments: bool = True,
                 memo: Memo | None = None) -> list[Claim]:
    """Holder and toll claims about the subject in `hits` (articles, and comments unless told not to)."""
    found: list[Claim] = []
    seen: set[tuple[str, int | None, int]] = set()
    for i, hit in enumerate(hits):
        chunk = hit.chunk
        if chunk.kind == "comment" and not comments:
            continue
        about = names_in(f"{chunk.title} {chunk.text}", chunk, -1, subject, memo)
        if not about:
            continue
        ends = report_end(chunk)
        for start, end in sentences_of(chunk, memo):
            if start >= ends:
                break
            key = (chunk.doc_id, chunk.comment_index, chunk.start + start)
            if key in seen:
                continue
            seen.add(key)
            sentence = chunk.text[start:end]
            if not (chunk.kind == "comment" or names_in(sentence, chunk, start, subject, memo)):
                continue
            holders = [e for e in events_in(sentence, chunk, start, memo) if concerns(e, sentence, subject, True)]
            tolls = counts(sentence)
            if not (holders or tolls):
                continue
            clause = clause_of(sentence)
            for e in holders:
                found.append(Claim(i, start, end, clause, chunk.published_at, e.on, e.explicit, "holder", e.holder,
                                   "who holds it", e.kind == "gain"))
            if tolls:
                told = undated(sentence)
                day, explicit = _event_date(told, chunk.published_at) if _DATED.search(told) else \
                    (chunk.published_at, False)
                if explicit and _SAID_ON.search(told) and not _DATED.search(_SAID_ON.sub("", told)):
                    day, explicit = chunk.published_at, False  # "31 were killed last month, the ministry said on
                    # Monday": the day it was said, not of the deaths
            for c in tolls:
                found.append(Claim(i, start, end, clause, chunk.published_at, day, explicit, "count",
                                   str(c.value), c.what))
    return found


def _doc(hits: Sequence[Hit], c: Claim) -> tuple[str, int | None]:
    return hits[c.hit].chunk.doc_id, hits[c.hit].chunk.comment_index


def _count_pairs(claims: Sequence[Claim]) -> list[Pair]:
    """Two tolls of the same victims that differ, about the same time: the same named day, else reported
    within `_SAME_TIME` days of each other (a named day of one against the other's report)."""
    pairs = []
    tolls = [c for c in claims if c.aspect == "count"]
    for j, b in enumerate(tolls):
        for a in tolls[:j]:
            if a.what != b.what or a.value == b.value or (a.hit, a.start) == (b.hit, b.start):
                continue
            if a.explicit and b.explicit and a.day != b.day:
                continue
            if abs(ordinal(a.day) - ordinal(b.day)) > (7 if a.explicit or b.explicit else _SAME_TIME):
                continue
            pairs.append(Pair(a, b, a.what))
    return pairs


def _holder_pairs(claims: Sequence[Claim], hits: Sequence[Hit]) -> list[Pair]:
    """A report that the subject is held by one side, against the latest report before it that the other
    side took it (and no report between of the first side taking it back); two sides reported taking it on
    the same named day."""
    said = [c for c in claims if c.aspect == "holder" and _NAMED.search(c.value)]  # "the group" names no side
    names = list(dict.fromkeys(c.value for c in said))  # each phrase once: the grouping is quadratic
    group = dict(zip(names, holder_groups(names)))
    gains = sorted((c for c in said if c.gain and c.day and hits[c.hit].chunk.kind == "article"
                    and (c.explicit or not _LOOKS_BACK.search(c.clause))), key=lambda c: ordinal(c.day))
    days = [ordinal(c.day) for c in gains]
    pairs: list[Pair] = []
    for h in said:
        if h.gain and hits[h.hit].chunk.kind == "article":
            continue
        if not h.reported:
            continue
        if hits[h.hit].chunk.kind == "comment":  # a comment answers the article it sits under first
            own = [c for c in said if hits[c.hit].chunk.kind == "article" and
                   hits[c.hit].chunk.doc_id == hits[h.hit].chunk.doc_id and group[c.value] != group[h.value]]
            if own:
                pairs.append(Pair(h, own[-1], "who holds it"))
                continue
        # the latest gain by then in another report (gains are oldest first)
        latest = next((g for g in reversed(gains[:bisect_right(days, ordinal(h.reported))])
                       if _doc(hits, g) != _doc(hits, h)), None)
        if latest is None:
            continue
        if group[latest.value] != group[h.value] and not (h.gain and ordinal(h.day) > ordinal(latest.day)):
            pairs.append(Pair(h, latest, "who holds it"))
    for j, b in enumerate(gains):
        for a in gains[:j]:
            if a.explicit and b.explicit and a.day == b.day and group[a.value] != group[b.value]:
                pairs.append(Pair(a, b, "who took it"))
    return pairs


def disagreements(claims: Sequence[Claim], hits: Sequence[Hit] | None = None) -> list[Pair]:
    """Pairs of claims that cannot both hold, newest first (by the newer side's report date), each pair once."""
    pairs = _count_pairs(claims) + (_holder_pairs(claims, hits) if hits is not None else [])
    seen: set[frozenset[tuple[int, int]]] = set()
    out = []
    for p in pairs:
        key = frozenset({(p.a.hit, p.a.start), (p.b.hit, p.b.start)})
        if key not in seen:
            seen.add(key)
            out.append(p)
    return sorted(out, key=lambda p: -max(ordinal(p.a.reported), ordinal(p.b.reported)))


def contradictions(claims: Sequence[Claim], hits: Sequence[Hit]) -> list[Pair]:
    """Comments that state another holder or toll than the article they sit under, as (comment, article)."""
    out = []
    for p in disagreements(claims, hits):
        a, b = p.a, p.b
        if hits[a.hit].chunk.kind == "article":
            a, b = b, a
        if hits[a.hit].chunk.kind == "comment" and hits[b.hit].chunk.kind == "article":
            out.append(Pair(a, b, p.what))
    return out
