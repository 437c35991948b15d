"""Claims reports make about a subject (who holds it, how many were killed or wounded) and the pairs of
claims that cannot both be true: two holders for the same time, two tolls for the same event. Pure.

    >>> [(c.what, c.value) for c in counts("Officials said 14 people had been killed in Tesk.")]
    [('people killed', 14)]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from qa.answer.events import (
    _DATED,
    Memo,
    clause_of,
    events_in,
    names,
    names_in,
    report_end,
    sentences_of,
    undated,
)
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
_HURT = r"(?P<v>killed|dead|died|wounded|injured|missing|displaced|returned)"
_COMBATANTS = r"(?P<noun>men|soldiers|fighters|troops|servicemen|militiamen|policemen|officers)"
_COUNT = [
    re.compile(rf"\b{_NUM}\s+(?:[a-z]+\s+)?{_VICTIM}\s+(?:(?:had|have|has)\s+been|were|was|are|had|have)\s+"
               rf"(?:\w+ly\s+|now\s+|already\s+)?{_HURT}\b", re.I),
    re.compile(rf"\b{_NUM}\s+(?:[a-z]+\s+)?{_VICTIM}\s+{_HURT}\b", re.I),
    re.compile(rf"\b(?P<v>killing|killed|wounding|wounded|injuring|injured)\s+(?:at least\s+)?{_NUM}\s+"
               r"(?P<noun>[a-z]+)\b", re.I),
    # "31 civilian deaths", "the deaths of 12 soldiers"
    re.compile(rf"\b{_NUM}\s+(?P<noun>[a-z]+)\s+(?P<v>deaths)\b", re.I),
    # "the Southern Shield said it lost 6 men": a side's own dead
    re.compile(rf"\b(?P<v>lost|loses|lose)\s+(?:(?:at least|more than|over|up to|some|about)\s+)?{_NUM}\s+"
               rf"(?:of (?:its|their|his|our) (?:own )?)?{_COMBATANTS}\b", re.I),
    # "the government puts the toll at 1,150", "put the death toll at 40"
    re.compile(rf"\b(?P<v>puts?|putting|raised|lowered|revised)\s+(?:the|its|their|his|her)\s+(?:[a-z]+\s+)?"
               rf"(?P<noun>toll)\s+(?:at|to)\s+(?:(?:at least|more than|over|up to|some|about)\s+)?{_NUM}", re.I),
]
_ANY_HURT = re.compile(r"\b(?:killed|dead|died|deaths|wounded|injured|missing|displaced|returned|killing|wounding|"
                       r"injuring|lost|loses|lose|toll)\b", re.I)
_HURT_WORDS = {"killed", "dead", "died", "wounded", "injured", "missing", "displaced", "returned"}
# the words each `_COUNT` pattern needs (one of): a pattern is tried only on a sentence holding one
_CUES = [_HURT_WORDS, _HURT_WORDS, {"killing", "killed", "wounding", "wounded", "injuring", "injured"}, {"deaths"},
         {"lost", "loses", "lose"}, {"toll"}]
# a bound written before a number: "at least 11" is no dispute with 23
_LOWER = re.compile(r"\b(?:at least|more than|over|upwards of|no fewer than|not less than)\s+$", re.I)
_UPPER = re.compile(r"\b(?:at most|fewer than|less than|no more than)\s+$", re.I)  # "up to 60" claims about 60
# "14 people" and "31 people" count the same victims; kept as they are
_NOT_VICTIM = {"people", "person", "men", "women", "children", "police", "personnel"}
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


_STATE_SIDE = re.compile(r"\b(?:army|armed forces|military|troops|government|ministry|soldiers|police)\b", re.I)
_ARMED_GROUP = re.compile(r"\b(?:militia|rebels?|insurgents?|fighters|movement|front|group)\b|(?<!^)(?<![.:] )\b[A-Z]")


def _loser(before: str) -> str | None:
    """Whose men a side says it lost, from the words before "lost": an army's are soldiers, an armed group's
    (named, or called a militia) fighters; None when the words do not say."""
    before = before[-80:]
    if _STATE_SIDE.search(before):
        return "soldiers"
    if _ARMED_GROUP.search(before.lstrip()):
        return "fighters"
    return None


def _plural(noun: str) -> str:
    last = noun.split()[-1]
    return last if last.endswith("s") or last in _NOT_VICTIM else last + "s"


@dataclass(frozen=True)
class Count:
    what: str  # "soldiers killed"
    value: int
    bound: str = ""  # "min" for "at least 11", "max" for "up to 60", else ""


def counts(sentence: str) -> list[Count]:
    """Tolls a sentence states: a number of people killed, dead, wounded or missing."""
    if not _ANY_HURT.search(sentence):  # what every toll pattern needs, searched first: they are slow
        return []
    cues = {w.lower() for w in _ANY_HURT.findall(sentence)}
    found: dict[int, Count] = {}
    for pattern, needs in zip(_COUNT, _CUES):
        if cues.isdisjoint(needs):
            continue
        for m in pattern.finditer(sentence):
            value = number_value(m["n"])
            noun = m["noun"].split()[-1].lower()
            if value is None or not noun.isalpha() or noun in ("of", "and", "the", "had", "were", "more"):
                continue
            v = m["v"].lower()
            hurt = "killed" if v in ("killed", "dead", "died", "killing", "deaths", "lost", "loses", "lose", "put",
                                     "puts", "putting", "raised", "lowered", "revised") else \
                v if v in ("missing", "displaced", "returned") else "wounded"
            if hurt in ("displaced", "returned") and m.re is not _COUNT[0] and m.re is not _COUNT[1]:
                continue
            victims = "people" if noun == "toll" else _plural(noun)
            if v in ("lost", "loses", "lose") and noun == "men":  # "the army lost 100 men": its soldiers
                victims = _loser(sentence[:m.start()]) or victims
            before = sentence[max(0, m.start("n") - 24):m.start("n")]
            bound = "min" if _LOWER.search(before) else "max" if _UPPER.search(before) else ""
            found.setdefault(m.start("n"), Count(f"{victims} {hurt}", value, bound))
    return [found[k] for k in sorted(found)]


Aspect = Literal["holder", "count", "fix", "fixed"]


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
    bound: str = ""  # a number given as a bound: "min" ("at least 11"), "max" ("up to 60")
    ref: tuple[int, int] | None = None  # a "fixed" claim: the (hit, start) of the correction that denies it
    on_subject: bool = True  # a correction's sentence (or the one it corrects) names the subject


@dataclass(frozen=True)
class Pair:
    a: Claim
    b: Claim
    what: str  # what they disagree on: "who holds it", "soldiers killed"


# a sentence that corrects another: "the pass fell on Friday night, not Saturday", "Only 14 ships are waiting,
# not 22", "they lost not 40 fighters but more than 200", "nearer 250 than 400"; `wrong` is what it denies
_FIX = [re.compile(r"\w[^;:]*?,\s+(?:and\s+)?not\s+(?:on\s+|in\s+)?(?P<wrong>[\w£$€.,' -]{1,30}?)\s*"
                   r"(?:[.!?;](?=\s|$)|$)"),
        re.compile(r"\bnot\s+(?P<wrong>\d[\d,.]*(?:\s+[a-z]+)?)\s+but\b"),
        re.compile(r"\bnearer\s+\d[\d,.]*\s+than\s+(?P<wrong>\d[\d,.]*)\b")]
_FIX_CUE = re.compile(r"\b(?:not|nearer)\b")
_STOP = set("""the a an of in on at to for by and or but not no was were is are be been has had have it its
this that these those with from as than then there their they them he she his her we our you your i my me
said says say just only all any more most some about after before over into out up down on off who which what
when where why how did do does now still also very""".split())
_WORD = re.compile(r"[a-z][a-z'-]+")
_DATE_WORD = re.compile(rf"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|{MONTH_PATTERN})\b", re.I)
_FIX_MIN_SHARED = 2  # content words a corrected sentence shares with its correction


def _fix(sentence: str) -> str | None:
    """What a correcting sentence denies: a number, a day or a phrase of at most four words; None when it
    corrects nothing."""
    if not _FIX_CUE.search(sentence):
        return None
    for pattern in _FIX:
        if m := pattern.search(sentence):
            wrong = m["wrong"].strip(" ,.'")
            if wrong and len(wrong.split()) <= 4 and (re.search(r"\d", wrong) or _DATE_WORD.search(wrong)
                                                     or len(wrong.split()) <= 2):
                return wrong
    return None


def _content(text: str) -> set[str]:
    """Its words that say what it is about, cut to five letters ("counted" and "count" are one)."""
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP}


def _fixed(fix: Claim, sentences: Sequence[tuple[int, int, int, str]], hits: Sequence[Hit],
           on_subject: Callable[[int, int, str], bool]) -> Claim | None:
    """The sentence a correction answers: one that states what it denies and shares its words, reported no
    later, the article a comment sits under first, else the one sharing most words."""
    wrong = re.compile(rf"(?<![\w.,]){re.escape(fix.value)}(?![\w]|[.,]\d)", re.I)
    own = _content(wrong.sub(" ", fix.clause))
    fixer = hits[fix.hit].chunk
    best: tuple[tuple[int, int, int], tuple[int, int, int, str]] | None = None
    for i, start, end, sentence in sentences:
        if (i, start) == (fix.hit, fix.start) or not wrong.search(sentence) or _fix(sentence) == fix.value:
            continue
        chunk = hits[i].chunk
        if fix.reported and chunk.published_at and chunk.published_at[:10] > fix.reported[:10]:
            continue
        shared = len(own & _content(wrong.sub(" ", sentence)))
        under = chunk.doc_id == fixer.doc_id and chunk.kind == "article" and fixer.kind == "comment"
        # the article a comment sits under needs fewer: one word, none for a number of two digits or more
        if shared < (_FIX_MIN_SHARED if not under else 0 if re.fullmatch(r"\D?\d[\d,.]+\D*", fix.value) else 1):
            continue
        rank = (int(under), shared,
                -abs(ordinal(fix.reported) - ordinal(chunk.published_at)))
        if best is None or rank > best[0]:
            best = rank, (i, start, end, sentence)
    if best is None:
        return None
    i, start, end, sentence = best[1]
    chunk = hits[i].chunk
    return Claim(i, start, end, clause_of(sentence), chunk.published_at, chunk.published_at, False, "fixed",
                 fix.value, fix.what, ref=(fix.hit, fix.start), on_subject=on_subject(i, start, sentence))


def claims_about(subject: StateQuestion, hits: Sequence[Hit], comments: bool = True,
                 memo: Memo | None = None, fixes: bool = False, parts: Sequence[StateQuestion] = ()) -> list[Claim]:
    """Holder and toll claims about the subject in `hits` (articles, and comments unless told not to); with
    `fixes`, also sentences that correct another ("…on Friday, not Saturday") with the sentence they correct;
    with `parts` (the names in a subject of several: "the Southern Shield's dead at Brask"), a sentence of a
    report naming the subject may name one of them only ("the Southern Shield said it lost 6 men")."""
    found: list[Claim] = []
    read: list[tuple[int, int, int, str]] = []  # every sentence of the reports retrieved, for `fixes`
    seen: set[tuple[str, int | None, int]] = set()
    for i, hit in enumerate(hits):
        chunk = hit.chunk
        if chunk.kind == "comment" and not comments:
            continue
        about = names_in(f"{chunk.title} {chunk.text}", chunk, -1, subject, memo)
        if not (about or fixes):
            continue
        ends = report_end(chunk)
        after_named = False
        for start, end in sentences_of(chunk, memo):
            if start >= ends:
                break
            key = (chunk.doc_id, chunk.comment_index, chunk.start + start)
            if key in seen:
                continue
            seen.add(key)
            sentence = chunk.text[start:end]
            if fixes:  # a correction is read in any report retrieved: whether it is about the subject is the
                # asker's to judge (`on_subject` says whether its sentence names it)
                read.append((i, start, end, sentence))
                if wrong := _fix(sentence):
                    what = "the number" if re.search(r"\d", wrong) else "the day" if _DATE_WORD.search(wrong) \
                        else "what it says"
                    found.append(Claim(i, start, end, clause_of(sentence), chunk.published_at, chunk.published_at,
                                       False, "fix", wrong, what,
                                       on_subject=names_in(sentence, chunk, start, subject, memo)))
            named = about and (chunk.kind == "comment" or names_in(sentence, chunk, start, subject, memo)
                               or any(names(sentence, part) for part in parts))
            # with `parts`, a toll told in the sentence after one naming the subject is about it too ("…drove the
            # Southern Shield out of Brask. The army said 40 militia fighters had been killed.")
            carried = bool(parts) and about and not named and after_named
            after_named = named
            if not (named or carried):
                continue
            holders = [] if carried else [e for e in events_in(sentence, chunk, start, memo)
                                          if concerns(e, sentence, subject, True)]
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
                                   str(c.value), c.what, bound=c.bound))
    if fixes:
        def names_at(i: int, start: int, sentence: str) -> bool:
            return names_in(sentence, hits[i].chunk, start, subject, memo)

        found += [f for f in (_fixed(c, read, hits, names_at) for c in found if c.aspect == "fix") if f is not None]
    return found


def _doc(hits: Sequence[Hit], c: Claim) -> tuple[str, int | None]:
    return hits[c.hit].chunk.doc_id, hits[c.hit].chunk.comment_index


def _span(c: Claim) -> tuple[float, float]:
    value = float(c.value)
    return (value, float("inf")) if c.bound == "min" else (0.0, value) if c.bound == "max" else (value, value)


def _consistent(a: Claim, b: Claim) -> bool:
    """Both numbers can hold: "at least 11" and 23, "up to 60" and 14."""
    (lo_a, hi_a), (lo_b, hi_b) = _span(a), _span(b)
    return lo_a <= hi_b and lo_b <= hi_a


_SINCE = re.compile(r"\bsince\s+(?:the\s+)?(\w+(?:\s+\w+)?)", re.I)
_STOCKS = ("displaced", "returned")  # numbers that change from day to day: compared on the same day only


def _rise(a: Claim, b: Claim) -> bool:
    """A running total counted from the same start ("since 9 March") that a later report gives higher: the
    count grew, no report disputes it."""
    since_a, since_b = _SINCE.search(a.clause), _SINCE.search(b.clause)
    if not (since_a and since_b and since_a[1].lower() == since_b[1].lower()) or a.reported == b.reported:
        return False
    early, late = sorted((a, b), key=lambda c: ordinal(c.reported))
    return float(late.value) > float(early.value)


def _count_pairs(claims: Sequence[Claim]) -> list[Pair]:
    """Two tolls of the same victims that differ, about the same time: the same named day, else reported
    within `_SAME_TIME` days of each other (a named day of one against the other's report); not a bound the
    other number meets ("at least 11" and 23), nor a running total that grew; numbers of people displaced or
    returned only when reported on the same day."""
    pairs = []
    tolls = [c for c in claims if c.aspect == "count"]
    for j, b in enumerate(tolls):
        for a in tolls[:j]:
            if a.what != b.what or a.value == b.value or (a.hit, a.start) == (b.hit, b.start) or _consistent(a, b) \
                    or _rise(a, b):
                continue
            if a.what.endswith(_STOCKS) and abs(ordinal(a.reported) - ordinal(b.reported)) > 1:
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


def _fix_pairs(claims: Sequence[Claim]) -> list[Pair]:
    """Each correction with the sentence it corrects."""
    fixes = {(c.hit, c.start): c for c in claims if c.aspect == "fix"}
    return [Pair(fixes[c.ref], c, c.what) for c in claims if c.aspect == "fixed" and c.ref in fixes]


def disagreements(claims: Sequence[Claim], hits: Sequence[Hit] | None = None) -> list[Pair]:
    """Pairs of claims that cannot both hold, newest first (by the newer side's report date), each pair once."""
    pairs = _fix_pairs(claims) + _count_pairs(claims) + (_holder_pairs(claims, hits) if hits is not None else [])
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
