"""Who holds a place, and since when: control events read from dated reports, newest first.

News about a place that changes hands reports the same crossing seized, retaken and seized again.
A question about a state of affairs ("who controls X?", "is X still held by …?", "has X changed
hands?", "what happened to X after June 2014?") is answered from the latest dated report that
addresses it, with the earlier changes as a short dated history. Pure: no model, no index.

    >>> read_state_question("Who controls the Tal Varesh crossing now?").subject
    'the Tal Varesh crossing'
    >>> [e.holder for e in control_events("Rebels seized the crossing on May 2, 2024.", "2024-05-03")]
    ['Rebels']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Literal

from qa.aliases import initials
from qa.dates import MONTH_PATTERN, MONTHS, RELATIVE_TIME, mentioned_dates, ordinal, resolve_day
from qa.text import analyze, fold, skeleton

Mode = Literal["current", "history", "since"]

_ASKS_HOLDER = (r"(?:who|which (?:group|side|force|forces|faction|party|country|army|militia|government)s?)\s+"
                r"(?:now\s+|currently\s+|still\s+|actually\s+)?"
                r"(?:controls?|holds?|runs?|occup(?:y|ies)|administers?|has|have|owns?|"
                r"(?:is|are) (?:now |currently |still )?(?:in (?:control|charge|possession) of|holding|controlling|"
                r"running|occupying))")
_TAIL = r"\s*(?:now|today|currently|at present|these days|at the moment|right now)?\s*[?.!]*\s*$"
_CURRENT = [
    re.compile(rf"^\s*{_ASKS_HOLDER}\s+(?P<x>.+?){_TAIL}", re.I),
    re.compile(r"^\s*(?:is|are)\s+(?P<x>.+?)\s+(?:still|now|currently)\s+(?:held|controlled|in|under|occupied|run)\b",
               re.I),
    re.compile(r"^\s*(?:who|which \w+)\s+(?:is|are)\s+(?:now\s+|currently\s+)?in\s+(?:control|charge)\s+of\s+"
               rf"(?P<x>.+?){_TAIL}", re.I),
    re.compile(rf"^\s*(?:what is|what's)\s+the\s+(?:current\s+)?(?:status|situation)\s+(?:of|at)\s+(?P<x>.+?){_TAIL}",
               re.I),
]
_HISTORY = [
    re.compile(r"^\s*(?:has|have|did)\s+(?P<x>.+?)\s+(?:changed|change)\s+hands\b", re.I),
    re.compile(r"^\s*how (?:many times|often) (?:has|have|did)\s+(?P<x>.+?)\s+(?:changed?|switched?) hands\b", re.I),
    re.compile(r"^\s*who (?:has|have) (?:held|controlled)\s+(?P<x>.+?)\s*[?.!]*\s*$", re.I),
    re.compile(r"^\s*(?:who|which \w+) (?:held|controlled)\s+(?P<x>.+?)\s+before\b", re.I),
    re.compile(r"^\s*what (?:has )?happened (?:to|at)\s+(?P<x>.+?)(?:\s+(?:after|since)\s+(?P<after>.+?))?"
               r"\s*[?.!]*\s*$", re.I),
    re.compile(r"^\s*(?:what is|tell me) the history of\s+(?P<x>.+?)\s*[?.!]*\s*$", re.I),
]


# "Since when has the Tal Varesh crossing been held?", "Since when does the YPG control Rabia?"
_SINCE = [
    re.compile(r"^\s*since when (?:has|have|had|is|are|was|were)\s+(?P<x>.+?)\s+(?:been\s+)?(?:held|controlled|run|"
               r"under\b.*|in\b.*|occupied|administered)\s*[?.!]*\s*$", re.I),
    re.compile(r"^\s*since when (?:has|have|does|do|did)\s+.+?\s+(?:held|controlled|run|occupied|hold|control|run|"
               r"occupy|administered|administer|been in control of)\s+(?P<x>.+?)\s*[?.!]*\s*$", re.I),
]


@dataclass(frozen=True)
class StateQuestion:
    """A question about who holds something: its subject, and whether it asks for the state or its history."""

    subject: str
    mode: Mode = "current"
    after: str | None = None  # ISO date: only changes after it ("what happened to X after June 2014?")

    @cached_property
    def names(self) -> list[str]:
        """The subject's distinctive terms, its name without the head noun:
        `the Tal Varesh crossing` -> tal, varesh."""
        capital = [w for w in re.findall(r"[\w'’\-]+", self.subject) if w[:1].isupper()]
        return analyze(" ".join(capital)) or analyze(self.subject)

    @cached_property
    def head(self) -> str | None:
        """The subject's last lower-case word, what a report calls it once named: "the crossing"."""
        words = re.findall(r"[\w'’\-]+", self.subject)
        return words[-1].lower() if words and words[-1].islower() and len(words) > 1 else None

    def by_head(self, text: str) -> bool:
        """The text calls the subject by its head noun: "the crossing", "the border crossing", not
        "the Trebil crossing" (another one)."""
        return self.head is not None and \
            re.search(rf"\b(?i:the) (?:[a-z]+ )?{re.escape(self.head)}\b", text) is not None


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def period_end(text: str) -> str | None:
    """The last day a phrase names: `June 2014` -> `2014-06-30`, `2014` -> `2014-12-31`, a full date itself."""
    if found := mentioned_dates(text):
        return found[0]
    if m := re.search(rf"\b({MONTH_PATTERN})\.?,?\s+(\d{{4}})\b", text, re.I):
        month = _month_number(m[1])
        return _month_end(int(m[2]), month).isoformat() if month else None
    if m := re.search(r"\b(1[89]\d\d|2\d\d\d)\b", text):
        return f"{m[1]}-12-31"
    return None


def _month_number(name: str) -> int:
    return MONTHS.get(name.lower().rstrip("."), 0)


def read_state_question(question: str) -> StateQuestion | None:
    """The subject and mode of a question about who holds something; None for any other question."""
    text = question.strip()
    for pattern in _SINCE:
        if m := pattern.match(text):
            return StateQuestion(_clean_subject(m["x"]), "since")
    for pattern in _CURRENT:
        if m := pattern.match(text):
            return StateQuestion(_clean_subject(m["x"]), "current")
    for pattern in _HISTORY:
        if m := pattern.match(text):
            after = period_end(m["after"]) if m.groupdict().get("after") else None
            return StateQuestion(_clean_subject(m["x"]), "history", after)
    return None


def _clean_subject(text: str) -> str:
    text = RELATIVE_TIME.sub("", text).strip()
    text = re.sub(r"\s+(?:now|today|currently|at present|anymore|any more|so far)$", "", text.strip(" ?.!,"),
                  flags=re.I)
    return re.sub(r"\s+", " ", text)


# --- control events in report text --------------------------------------------------------------

_GAIN = (r"seized|seizes|seize|captured|captures|capture|recaptured|recaptures|recapture|retook|retakes|retake|"
         r"retaken|overran|overrun|overruns|stormed|storms|occupied|liberated|took (?:full |back |over )?control of|"
         r"taken (?:full |back )?control of|take (?:full |back )?control of|takes (?:full |back )?control of|"
         r"regained(?: control of)?|took over|taken over|wrested(?: control of)?|"
         r"(?:have|has|had) (?:now |since )?(?:seized|captured|retaken|recaptured|taken)")
_HOLD = (r"controls|holds|hold|still holds?|maintains? control (?:of|over)|runs|now runs|administers|administer|"
         r"(?:is|are|was|were) (?:now )?(?:running|administering|manning|guarding)|"
         r"(?:remain|remains|remained|is|are|was|were) (?:firmly |still |now )?"
         r"in (?:full |firm |complete )?control of|(?:remain|remains|remained|stay|stays) in control of")
_GROUP = (r"forces|army|troops|soldiers|fighters|militants|rebels|insurgents|government|brigades?|militias?|"
          r"police|guards?|units?|garrison|group|jihadists|regime|state|battalions?|division|command|council|"
          r"authority|administration|committee|monitors|peacekeepers|mission")
_PASSIVE = re.compile(
    r"\b(?P<v>fell to|(?:was|were|has been|had been|is|are) (?:now |also |\w+ly )*"
    r"(?:seized|captured|retaken|recaptured|taken|"
    r"overrun|held|controlled|occupied|run|administered|governed|managed|operated|secured|manned|policed) by|"
    r"(?:handed|turned|given)(?: back)?(?: over)?(?: control)?(?: (?:on|last|early on|late on) \w+)? to|"
    r"(?:transferred|passed|ceded|returned)(?: (?:on|last) \w+)? to|"
    r"(?:is|are|was|were|remains?|remained|stays?|has been|had been) (?:now )?"
    r"(?:firmly |still |back )?(?:under (?:the )?(?:full |firm |complete |effective )?(?:control|command) of|"
    r"in the hands of))"
    r"\s+(?P<h>(?:the )?[\w'’\-]+(?: (?:of|and|the|al|el)? ?[\w'’\-]+){0,6}?)(?=[,.;:)]|\s+(?:on|in|since|after|"
    r"before|when|while|as|for|until|and|who|which|following|during|last|this|by|at|along|with|near|from|just|amid|"
    r"days|weeks|months|later|earlier|together|under|pending|after|amid|officials|residents|witnesses)\b|$)", re.I)
_UNDER = re.compile(r"\b(?P<v>(?:remains?|remained|is|are|was|were|stays?|back|firmly|still|now)(?: \w+)? under)\s+"
                    r"(?P<h>(?:the )?[A-Z][\w'’\-]*(?: [A-Z][\w'’\-]*){0,4}|government|rebel|army|militant)"
                    r"\s+control\b")
# "Ostra remains under the Ostra Municipal Council": held by that body (a named one, not "under fire")
_UNDER_BODY = re.compile(r"\b(?P<v>(?:remains?|remained|is|are|was|were|stays?|now|still)(?: \w+)? under)\s+"
                         r"(?P<h>the [A-Z][\w'’\-]*(?: (?:of )?[A-Z][\w'’\-]*){0,5})(?!\s+(?:control|command|"
                         r"rule|siege|fire|attack))\b")
_HANDS = re.compile(r"\b(?P<v>(?:remains?|remained|is|are|was|were|stays?|back|still|now)(?: \w+)? in)\s+"
                    r"(?P<h>government|rebel|army|militant|(?!the\b|its\b|their\b)[A-Z][\w'’\-]*)\s+hands\b", re.I)
# "Government troops handed the bridge over to the civil council": the receiver gains it
_HANDOVER = re.compile(r"\b(?P<v>(?:handed|hands|turned|turns|transferred|transfers|ceded|cedes|gave|gives)"
                       r"(?: over)?(?: control of)?)\s+(?P<t>[^,;.]{2,60}?)\s+(?:back\s+)?(?:over\s+)?to\s+"
                       r"(?P<h>(?:the )?[\w'’\-]+(?: (?:of|and|the|al|el)? ?[\w'’\-]+){0,5}?)"
                       r"(?=[,.;:)]|\s+(?:on|in|since|after|before|when|while|as|for|until|and|who|which|under|"
                       r"following|during|last|this|by|at|with|amid|pending)\b|$)", re.I)
# "Brega is now behind NTC lines", "the town lies behind rebel lines": held by that side
_LINES = re.compile(r"\b(?P<v>(?:is|are|was|were|remains?|remained|lies|lay|stays?|now|firmly|still|back)(?: \w+)? "
                    r"behind)\s+(?P<h>government|rebel|army|militant|opposition|regime|[A-Z][\w'’\-]*"
                    r"(?: [A-Z][\w'’\-]*){0,2})\s+(?:front[- ])?lines\b")
# Page furniture that wire copy leaves in front of a sentence: "Full Article", "WRAPUP 9-", "UPDATE 2-"
_FURNITURE = re.compile(r"(?:\b(?:full article|read more|related coverage|related|advertisement|share this|"
                        r"click here)\b[\s:>»|-]*|\b(?:WRAPUP|UPDATE|REFILE|EXCLUSIVE|ANALYSIS|FACTBOX|"
                        r"CORRECTED|RPT|INSIGHT)(?:\s+\d+)?\s*-\s*)", re.I)


def strip_furniture(text: str) -> str:
    """The text with wire-page furniture blanked to spaces, offsets kept: `strip_furniture('Full Article Rebels hold
    it')` reads as '             Rebels hold it'."""
    return _FURNITURE.sub(lambda m: " " * len(m.group()), text)


_ACTIVE_TAIL = (r"\s+(?:(?:now|still|again|briefly|fully|later|then|reportedly|finally|quickly|also|continue to|"
                rf"continues to|continued to)\s+)*(?P<v>{_GAIN}|{_HOLD})\b(?=\s+(?:it|them|the|of|\w))")
_ACTIVE = re.compile(rf"(?P<h>[^,;:“”\"]{{2,90}}?){_ACTIVE_TAIL}", re.I)
_AFTER_HOLDER = re.compile(_ACTIVE_TAIL, re.I)  # what follows `_ACTIVE`'s holder: tried at each space
_SPACE_OR_BAR = re.compile(r"\s|(?P<bar>[,;:“”\"])")  # where a holder may end; what it may not hold
# what `_ACTIVE` needs somewhere in a sentence: searched first, as `_ACTIVE` itself is slow on a sentence without it
_ACTIVE_VERB = re.compile(rf"\b(?:{_GAIN}|{_HOLD})\b(?=\s+(?:it|them|the|of|\w))", re.I)
_CLAUSE = re.compile(r".*(?:[.!?]\s+|\btold\s+\S+\s+|\b(?:claimed|reported|that|after|when|while|as|since|because|"
                     r"but|and|said|says|where|which|before|"
                     r"until|as|with|once|although|though|said that|unless|if|whether|lest)\s+|^)", re.I | re.S)
_LEAD = re.compile(r"^(?:(?:on|in|by|early|late|last|this|just|days|weeks|then|now|however|meanwhile|"
                   r"according to [\w\s]+?)\b[^A-Z]*?)+(?=[A-Z])")
_SUBJECT = re.compile(rf"^((?:the |The )?(?:[A-Z][\w'’\-]*\s+){{0,5}}(?:[A-Z][\w'’\-]*|{_GROUP}))\b(?=\s+[a-z])")
_PASSIVE_END = re.compile(r"\b(?:was|were|been|being|be|is|are|a|an|the|of|to|and|or|their|its)(?:\s+\w+ly)*\s*$", re.I)
_PRONOUN = re.compile(r"^(?:it|they|he|she|we|this|that|which|who|there|its|their)$", re.I)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_DAY = re.compile(rf"\b(?:on |since |from )?({MONTH_PATTERN})\.? (\d{{1,2}})(?:st|nd|rd|th)?\b(?!,? \d{{4}})",
                        re.I)
_WEEKDAY = re.compile(r"\b(?:on |early on |late on |early |late )?(monday|tuesday|wednesday|thursday|friday|saturday|"
                      r"sunday)\b", re.I)


@dataclass(frozen=True)
class Event:
    """One report of who held the subject: `gain` (took it) or `hold` (holds it as of the report)."""

    holder: str
    verb: str  # as written: "recaptured", "remains under"
    kind: Literal["gain", "hold"]
    on: str | None  # ISO date of the event: named in the sentence, else the report's date
    reported: str | None  # the report's date
    start: int  # the sentence's span in its passage
    end: int
    explicit: bool = False  # `on` is a date the sentence names, not the report's date
    passive: bool = False  # the verb comes before the holder: "fell to", "under the control of"
    verb_at: tuple[int, int] = (0, 0)  # the verb's span in the sentence

    @property
    def day(self) -> int:
        return ordinal(self.on)


def _holder(raw: str) -> str | None:
    """A plausible holder phrase: the last clause of `raw`, leading adverbials dropped, capitalised or a group noun."""
    text = _CLAUSE.sub("", strip_furniture(raw).strip()) if raw else ""
    text = _LEAD.sub("", text).strip(" ,")
    text = re.sub(r"^(?:and|but|so|then)\s+", "", text, flags=re.I)
    words = text.split()
    if not words or len(words) > 9 or _PRONOUN.match(text) or _PRONOUN.match(words[0]):
        return None
    if not (any(w[:1].isupper() for w in words) or re.search(rf"\b(?:{_GROUP})\b", text, re.I)):
        return None
    return text


def _event_date(sentence: str, reported: str | None, after: int = 0) -> tuple[str | None, bool]:
    """The date an event in `sentence` happened: a full date, else a month and day or a weekday
    resolved against the report's date (the latest such day not after it), else the report's date."""
    tail = sentence[after:]
    if found := mentioned_dates(tail):
        return found[0], True
    if reported:  # "March 20", "on Sunday": the latest such day not after the report
        m = _MONTH_DAY.search(tail)
        day = resolve_day(f"{m[1]} {m[2]}", reported) if m else None
        if day is None and (m := _WEEKDAY.search(tail)):
            day = resolve_day(m[1], reported)
        if day is not None:
            return day, True
    return reported, False


def _search_active(text: str, pos: int, endpos: int) -> re.Match[str] | None:
    """`_ACTIVE.search(text, pos, endpos)`, tried only at its first possible start: the leftmost one within 90
    characters, and no bar character, before a space where `_AFTER_HOLDER` matches."""
    bar = pos - 1
    for s in _SPACE_OR_BAR.finditer(text, pos, endpos):
        if s["bar"]:
            bar = s.start()
        elif (start := max(pos, bar + 1, s.start() - 90)) <= s.start() - 2 and \
                _AFTER_HOLDER.match(text, s.start(), endpos):
            return _ACTIVE.match(text, start, endpos)  # the starts before `start` reach no verb
    return None


def _active(sentence: str) -> Iterator[re.Match[str]]:
    """`_ACTIVE.finditer(sentence)`, searched only near the verbs it needs: its holder is at most 90 characters
    before the verb, so each search starts a little before the next verb and stops a little after it (a
    search over the whole sentence tries every position after the last verb, at a millisecond a sentence)."""
    pos = 0
    for v in _ACTIVE_VERB.finditer(sentence):
        if v.start() < pos:
            continue
        m = _search_active(sentence, max(pos, v.start() - 160), min(len(sentence), v.end() + 40))
        if m is not None:
            pos = m.end()
            yield m


def control_events(sentence: str, reported: str | None, start: int = 0) -> list[Event]:
    """The control events one sentence reports, in order of appearance (none when no holder is named)."""
    end = start + len(sentence)
    found: list[tuple[int, Event]] = []
    sentence = strip_furniture(sentence)
    low = sentence.lower()  # a word each pattern needs, looked for first: the patterns are slow to fail
    for pattern, needs in ((_PASSIVE, ""), (_UNDER, "under"), (_UNDER_BODY, "under"), (_HANDS, "hands"),
                           (_LINES, "behind")):
        for m in pattern.finditer(sentence) if needs in low else ():
            holder = _holder(m["h"]) if pattern is _PASSIVE else m["h"]
            if holder:
                gain = pattern is _PASSIVE and bool(re.search(r"fell|seized|captured|retaken|recaptured|taken|overrun|"
                                                              r"handed|turned|given|transferred|passed|ceded|returned",
                                                              m["v"], re.I))
                on, explicit = _event_date(sentence, reported, m.start("v")) if gain else (reported, False)
                found.append((m.start(), Event(holder.strip(), m["v"], "gain" if gain else "hold", on, reported,
                                               start, end, explicit, True, m.span("v"))))
    hands_over = any(w in low for w in ("hand", "turn", "transfer", "cede", "gave", "give"))
    for m in _HANDOVER.finditer(sentence) if hands_over else ():
        holder = _holder(m["h"])
        if holder:
            on, explicit = _event_date(sentence, reported, m.end())
            found.append((m.start("v"), Event(holder, m["v"], "gain", on, reported, start, end, explicit, False,
                                              m.span("v"))))
    for m in _active(sentence):
        if any(abs(m.start("v") - at) < 3 for at, _ in found):
            continue
        gain = re.match(_GAIN, m["v"], re.I) is not None
        if not gain and re.search(r"\band\s*$", m["h"]):  # "Government forces repelled … and remain in control"
            lead = _SUBJECT.match(sentence)
            holder = _holder(lead[1]) if lead else None
        elif _PASSIVE_END.search(m["h"]):
            continue  # "the crossing was captured" names no holder; "a captured outpost" is no event
        else:
            holder = _holder(m["h"])
        if not holder:
            continue
        on, explicit = _event_date(sentence, reported, m.end()) if gain else (reported, False)
        found.append((m.start("v"), Event(holder, m["v"], "gain" if gain else "hold", on, reported, start, end,
                                          explicit, False, m.span("v"))))
    return [e for at, e in sorted(found, key=lambda p: p[0]) if not _CLAIMED.search(sentence[:at])]


# "accounts linked to the militia claimed that its fighters retook Ostra": a claim reports no change of hands
_CLAIMED = re.compile(r"\b(?:claim(?:ed|s)?|alleg(?:ed|es|ing)|rumou?r(?:ed|s)?|unconfirmed|unverified)\b(?![^.;]*\b"
                      r"(?:confirmed|verified)\b)", re.I)


# Heads a report may leave off a place's name ("Tal Varesh" for "the Tal Varesh crossing")
_PLACE_HEADS = {"crossing", "border", "bridge", "town", "city", "village", "port", "pass", "dam", "base", "airport",
                "province", "district", "region", "area", "valley", "river", "field", "oilfield", "checkpoint", "post",
                "camp", "hill", "island", "road", "highway", "quay", "harbour", "harbor", "governorate"}


def concerns(event: Event, sentence: str, subject: StateQuestion, passage_about: bool) -> bool:
    """The event is about the subject: what was taken or held ("seized THE CROSSING", "THE CROSSING fell to")
    names it, calls it by its head noun in a passage about it, or is a pronoun there ("retook it")."""
    a, b = event.verb_at
    thing = sentence[max(0, a - 90):a] if event.passive else sentence[b:b + 90]
    if event.passive:
        thing = re.split(r"[.;]\s", thing)[-1]
    else:
        thing = re.split(r"[,;.]\s|\s(?:on|in|after|before|from|and|when|while|with|since)\s", thing)[0]
    if mentions(thing, subject):
        # "the Wenlow library": a building or service named after a town is not the town's ferry
        return subject.head is None or subject.head in _PLACE_HEADS or re.search(
            rf"\b{re.escape(subject.head)}\b", thing, re.I) is not None
    if not passage_about:
        return False
    if subject.head is None and re.search(r"\bthe (?:town|city|village|port|settlement)\b", thing):
        return True  # "… withdrew from Velna and the army took over the town"
    if (named := re.search(r"([A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)*),?\s+which\s*$", thing)) is not None:
        return mentions(named[1], subject)  # "Amber Bridge, which remains under X": the bridge, not the subject
    return re.search(r"\b(?:it|them|which)\b", thing) is not None or subject.by_head(thing)


def mentions(text: str, subject: StateQuestion) -> bool:
    """The text names the subject: every distinctive term, or another spelling of it (same consonants)."""
    words = set(analyze(text))
    shapes = {skeleton(w) for w in words if w.isalpha() and len(w) >= 3}
    return all(t in words or (len(t) >= 3 and t.isalpha() and skeleton(t) in shapes) for t in subject.names)


def same_holder(a: str, b: str) -> bool:
    """Two holder phrases name the same side: they share a distinctive word, or one is the other's acronym.
    `same_holder('the Iron Dawn Brigades', 'IDRB')` is False (initials differ); `('IDRB', 'Iron Dawn Revolutionary
    Brigades')` is True."""
    generic = {"the", "of", "and", "fighters", "forces", "troops", "units", "militants", "group", "soldiers", "men"}
    wa = {w for w in re.findall(r"\w+", fold(a)) if w not in generic}
    wb = {w for w in re.findall(r"\w+", fold(b)) if w not in generic}
    if wa & wb:
        return True
    acronyms_a = {w for w in re.findall(r"\b[A-Z]{2,6}\b", a)}
    acronyms_b = {w for w in re.findall(r"\b[A-Z]{2,6}\b", b)}
    inner_a = re.sub(r"\([^)]*\)", "", a).strip()
    inner_b = re.sub(r"\([^)]*\)", "", b).strip()
    return bool(acronyms_a & {initials(inner_b)} or acronyms_b & {initials(inner_a)} or acronyms_a & acronyms_b)


def holder_groups(holders: list[str]) -> list[int]:
    """A group number per holder phrase, joining phrases linked by `same_holder` through any chain:
    "the Brigades" ~ "Iron Dawn Revolutionary Brigades" ~ "IDRB"."""
    parent = list(range(len(holders)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(holders)):
        for j in range(i):
            if same_holder(holders[i], holders[j]):
                parent[root(i)] = root(j)
    return [root(i) for i in range(len(holders))]


def held_since(events: list[Event]) -> Event | None:
    """In events oldest first, the gain that began the latest holder's unbroken run (None if not reported)."""
    if not events:
        return None
    groups = holder_groups([e.holder for e in events])
    since = None
    for e, group in zip(reversed(events), reversed(groups)):
        if group != groups[-1]:
            break
        if e.kind == "gain":
            since = e
    return since
