"""Does a sentence hold what the question asks for? Typed checks for near misses: pure, no model.

A question that asks for an attribute of its subject — a number ("how many fighters …", "what is
the population of …"), a time for an event ("when did the army retake …"), the holder of an office
("who was the prime minister …"), a name ("what is the name of the hotel …") — is answered only
by a sentence that says that attribute. A sentence about the subject that does not ("the town fell
on Friday" for "what is the population of the town?") is a near miss: the archive does not say.

    >>> ask = read_ask("What is the population of the town of Al Qaim?")
    >>> ask.kind, ask.raw
    ('number', 'the population')
    >>> holds(ask, "Al Qaim, a town of about 150,000 people, fell on Friday.")
    False
    >>> holds(ask, "The population of Al Qaim is about 150,000.")
    True

Questions it cannot type ("why …", "which town …") get no check (`read_ask` returns None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from qa.answer.picker import with_variants
from qa.answer.span import NOT_PERSON_TAIL
from qa.dates import MONTH_PATTERN
from qa.text import analyze, words

Kind = Literal["number", "time", "office", "name"]

_AUX = r"(?:were|was|did|does|do|is|are|has|have|had|will|would|can|could|should|might|may)"
_LEAD = re.compile(r"^\s*(?:according to [^,]+,\s*|(?:and|but|so)\s+)", re.I)
# "How many Islamic State fighters were killed …?" -> head "fighters"; "how much customs revenue does …"
_HOW_MANY = re.compile(rf"^\s*how\s+(?:many|much)\s+(?!{_AUX}\b)(?P<h>(?:[\w’'\-]+\s+){{0,5}}?[\w’'\-]+?)\s+"
                       rf"(?:{_AUX}|of|in|at|"
                       r"on|for|from|per|a|each|every)\b", re.I)
_HOW = re.compile(r"^\s*how\s+(?:many|much|far|long|old|big|large|tall|wide|deep|high)\b", re.I)
# "What is the population of X?", "What was the death toll in …?": an attribute that is a quantity
_QUANTITY = re.compile(r"^\s*what(?:'s|\s+is|\s+was|\s+are|\s+were)\s+the\s+(?:(?:estimated|total|annual|current)\s+)?"
                       r"(?P<h>population|number|death toll|toll|cost|price|budget|revenue|size|area|length|"
                       r"distance|range|strength|salary|value)\s+(?:of|in|at|for|on)\b", re.I)
_WHEN = re.compile(rf"^\s*(?:since\s+)?when\s+{_AUX}\b|^\s*(?:on|in|by|at)?\s*(?:what|which)\s+"
                   r"(?:date|day|year|month)\b", re.I)
# "What is the name of the hotel at the Al Waleed crossing?": a named feature of a place, whose name a
# report prints beside its kind ("the Rasheed hotel"). Not "the name of the company that …", whose
# answer is a name said on its own ("Spotify erased …").
_NAME_OF = re.compile(r"^\s*(?i:what(?:'s|\s+is|\s+was)\s+the\s+names?\s+of\s+(?:the\s+|a\s+|an\s+)?"
                      r"(?P<h>[\w\-]+)\s+(?:at|in|on|near|outside|inside|where)\s+(?:the\s+)?)[A-Z]")


# Offices a news report prints beside the holder's name ("Prime Minister Nouri al-Maliki",
# "Gen. Lloyd Austin"): a sentence naming someone without the office does not say who holds it.
OFFICES: dict[str, str] = {
    "prime minister": r"prime minister|premier|\bPM\b",
    "president": r"president",
    "vice president": r"vice[- ]president",
    "general": r"\bgen(?:eral|\.)|\b(?:lt|maj|brig)\.? gen",
    "admiral": r"\badm(?:iral|\.)",
    "colonel": r"\bcol(?:onel|\.)",
    "commander": r"command(?:er|ing officer|s|ed)\b|\bcmdr\.?",
    "defence minister": r"defen[cs]e minister|minister of defen[cs]e|defen[cs]e secretary|secretary of defen[cs]e",
    "foreign minister": r"foreign minister|minister of foreign affairs|foreign secretary|secretary of state",
    "minister": r"minister",
    "governor": r"governor",
    "mayor": r"mayor",
    "king": r"\bking\b",
    "emir": r"\bemir\b|\bamir\b",
    "ambassador": r"ambassador|envoy",
    "spokesman": r"spokes(?:man|woman|person)",
    "chief of staff": r"chief of (?:the )?(?:general )?staff",
    "chairman": r"chair(?:man|woman|person)?\b",
    "captain": r"\bcapt(?:ain|\.)",
}
_OFFICE_ASK = re.compile(  # case matters for the modifiers only: "US general", not "prime" as a name
    r"^\s*(?i:who\s+(?:is|was|were|are|has been|had been)\s+(?:the\s+)?|(?:which|what)\s+|"
    r"what(?:'s|\s+is|\s+was)\s+the\s+name\s+of\s+(?:the\s+)?)"
    r"(?:(?:[A-Z][\w.\-]*|(?i:former|current|then|acting|top|senior|deputy|interim|new))\s+){0,3}?"
    rf"(?P<o>(?i:{'|'.join(sorted(OFFICES, key=len, reverse=True))}))s?\b")

# A control event and its families: "retake" is not "take" ("when did the army retake X?" is not
# answered by "X was captured on June 22").
_RETAKE = r"re-?took|re-?take[sn]?|re-?taking|recaptur\w*|regain\w*|reclaim\w*|liberat\w*|took back|taken back|" \
          r"take back|won back|win back|wrested back|back under"
_TAKE = r"took|take[sn]?|taking|seiz\w*|captur\w*|overr[au]n\w*|stormed|storm(?:s|ing)?|fell|fall(?:s|en)?|" \
        r"occup(?:y|ied|ies)"
_VERB_FAMILIES = (("retake", re.compile(rf"\b(?:{_RETAKE})\b", re.I)),
                  ("take", re.compile(rf"\b(?:{_RETAKE}|{_TAKE})\b", re.I)))
_QUESTION_VERBS = (("retake", re.compile(rf"\b(?:{_RETAKE})\b", re.I)),
                   ("take", re.compile(rf"\b(?:{_TAKE})\b", re.I)))

_DATE_LIKE = re.compile(
    rf"\b(?:(?:{MONTH_PATTERN})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    rf"(?:{MONTH_PATTERN})\b\.?(?:,?\s+\d{{4}})?|(?:in|since|by|of|from|until|before|after)\s+(?:\d{{4}}|the\s+\d{{4}}s)|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}|\d{1,2}\s*[ap]\.?m\.?)", re.I)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|"
    r"millions?|billions?|dozens?|scores of|half|several|a few|a handful|no one|none)\b", re.I)
_TIME = re.compile(
    rf"\b(?:(?:{MONTH_PATTERN})\b\.?|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|yesterday|today|tonight|"
    r"(?:last|this|next|early|late|earlier|later) (?:this )?(?:morning|night|week|month|year|spring|summer|autumn|"
    r"fall|winter)|(?:\d+|a|one|two|three|four|five|six) (?:days?|weeks?|months?|years?) (?:ago|earlier|later|before|"
    r"after)|last night|\d{4}s?|"
    r"\d{1,2}(?:st|nd|rd|th))\b", re.I)
_NAME_WORD = r"(?:[A-Z][\w'’\-]+|[A-Z]{2,}|al-[A-Z][\w'’\-]+|al|bin|ibn|de|van|von)"
_PERSON = re.compile(rf"\b[A-Z][\w'’\-]+(?:\s+{_NAME_WORD}){{1,3}}\b")


@dataclass(frozen=True)
class Ask:
    """What a question asks for: its `kind`, and the words a sentence answering it must say."""

    kind: Kind
    head: frozenset[str] = frozenset()  # analysed terms of the attribute ("population", "fighters", "hotel")
    office: str | None = None  # for kind "office": the office asked about ("prime minister")
    verb: str | None = None  # for kind "time": the control-event family asked about ("retake", "take")
    target: frozenset[str] = frozenset()  # for kind "time" with a verb: the folded names of what was taken
    raw: str = ""  # the attribute in the question's words ("hotel", "the number of fighters")

    def describe(self) -> str:
        """What was asked, in a few words: "The passages retrieved do not give …"."""
        if self.kind == "office":
            return f"who the {self.office} was"
        if self.kind == "name":
            return f"the name of the {self.raw}"
        if self.kind == "time":
            return "a date for it"
        return self.raw or "that figure"


def _head(words: str) -> frozenset[str]:
    """The last word of a noun phrase, analysed: "Islamic State fighters" -> {"fighter"}."""
    terms = analyze(words.split()[-1]) if words.split() else []
    return frozenset(terms)


def read_ask(question: str) -> Ask | None:
    """The typed attribute a question asks for, or None when it asks for nothing this module checks."""
    text = _LEAD.sub("", question).strip()
    if (m := _OFFICE_ASK.match(text)) and not re.match(r"\s+[A-Z][\w\-]*['’]s\b", text[m.end():]):
        office = m["o"].lower()  # not "Who was Colonel Kemp's deputy?", which asks for the deputy
        return Ask("office", frozenset(analyze(office)), office=office, raw=office)
    if m := _NAME_OF.match(text):
        return Ask("name", _head(m["h"]), raw=m["h"].lower())
    if m := _HOW_MANY.match(text):
        many = "number" if re.match(r"^\s*how\s+many", text, re.I) else "amount"
        return Ask("number", _head(m["h"]), raw=f"the {many} of {m['h']}")
    if m := _QUANTITY.match(text):
        return Ask("number", frozenset(analyze(m["h"])), raw=f"the {m['h'].lower()}")
    if _HOW.match(text):
        return Ask("number")
    if _WHEN.match(text):
        found = next(((name, m) for name, pattern in _QUESTION_VERBS if (m := pattern.search(text))), None)
        if found is None:
            return Ask("time")
        name, m = found
        # what was taken: before a passive verb ("when was the Al Walid crossing captured"), after an active one
        passive = re.match(r"^\s*(?:since\s+)?when\s+(?:was|were|had|has)\s+(?P<o>.+?)\s+(?:\w+ly\s+)?(?:been\s+)?$",
                           text[:m.start()], re.I)
        phrase = passive["o"] if passive else re.split(r"\b(?:after|before|from|in|on|during|when|while|by|and)\b|[,?]",
                                                      text[m.end():], maxsplit=1)[0]
        names = " ".join(w for w in phrase.split() if w[:1].isupper())
        return Ask("time", verb=name, target=frozenset(w for w in words(names) if len(w) >= 4))
    return None


def _spelt(sentence: str, names: frozenset[str]) -> set[str]:
    """The sentence's terms, with each of `names` it spells another way ("Walid" for "Waleed")."""
    return with_variants(set(words(sentence)), set(names))


def _says(terms: frozenset[str], text: str) -> bool:
    return not terms or terms <= set(analyze(text))


def _people(sentence: str, question: str) -> list[str]:
    """Person-shaped names in the sentence (two to four capitalised words, not an organisation or a
    place by its last word) that the question does not already say."""
    asked = set(analyze(question))
    out = []
    for m in _PERSON.finditer(sentence):
        words = m.group().split()
        if words[0].lower() in ("the", "a", "an", "in", "on", "at", "but", "and", "when", "after", "as"):
            words = words[1:]
        if len(words) < 2 or words[-1].lower().strip("’'s") in NOT_PERSON_TAIL:
            continue
        terms = set(analyze(" ".join(words)))
        if terms and not terms <= asked:
            out.append(" ".join(words))
    return out


def _named_head(ask: Ask, sentence: str, question: str) -> bool:
    """A name beside the head word: "the Rasheed hotel", "Hotel Rasheed", "a hotel called Al Rasheed"."""
    head = re.escape(ask.raw.split()[-1]) if ask.raw else ""
    if not head:
        return False
    asked = set(analyze(question))
    name = r"((?:[A-Z][\w'’\-]*|al|el)(?:\s+(?:[A-Z][\w'’\-]*|al|el|of|de))*)"
    patterns = (rf"{name}\s+{head}s?\b", rf"\b{head}s?\s+{name}",
                rf"\b{head}s?,?\s+(?:called|named|known as|dubbed)\s+(?:the\s+)?{name}")
    for p in patterns:
        for m in re.finditer(p, sentence):
            words = m.group(1).split()
            while words and words[0].lower() in ("the", "a", "an", "this", "that", "its", "their"):
                words = words[1:]
            terms = set(analyze(" ".join(words)))
            if words and words[0][:1].isupper() and terms and not terms <= asked:
                return True
    # the head capitalised as part of a name: "the Baghdad Hotel"
    return bool(re.search(rf"\b[A-Z][\w'’\-]+\s+{head.capitalize()}s?\b", sentence))


def _beside(office: str, person: str, sentence: str) -> bool:
    """The sentence gives `person` the office: "Prime Minister Nouri al-Maliki", "Nouri al-Maliki, the prime
    minister", "al-Maliki was elected president"; not "X was sworn in before the President"."""
    if re.search(rf"^(?:{office})", person, re.I):
        return True  # the office is written as the person's title
    name = re.escape(person)
    return bool(re.search(rf"(?:{office})\w*\.?(?:\s+of\s+(?:the\s+)?[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*)?,?\s+{name}"
                          rf"|{name}(?:,\s+(?:the\s+|a\s+)?|"
                          rf"\s+(?:is|was|became|becomes|as|has been)\s+(?:the\s+|a\s+)?|"
                          rf"\s+(?:was\s+|is\s+)?(?:elected|named|appointed|sworn in as)\s+(?:the\s+)?)"
                          rf"(?:[\w\-]+\s+){{0,2}}?(?:{office})", sentence, re.I))


def holds(ask: Ask, sentence: str, question: str = "") -> bool:
    """Whether `sentence` says what `ask` asks for (a number of the head, a time with the event's
    verb, a person with the office, a name beside the head word)."""
    if ask.kind == "number":
        text = sentence if not ask.head else _DATE_LIKE.sub(" ", sentence)
        return bool(_NUMBER.search(text)) and _says(ask.head, sentence)
    if ask.kind == "time":
        if not _TIME.search(sentence):
            return False
        if ask.verb is None:
            return True
        family = dict(_VERB_FAMILIES)[ask.verb]
        about = not ask.target or not ask.target.isdisjoint(_spelt(sentence, ask.target))
        return bool(family.search(sentence)) and about
    if ask.kind == "office":
        office = OFFICES.get(ask.office or "", "")
        return bool(office) and any(_beside(office, person, sentence) for person in _people(sentence, question))
    return _named_head(ask, sentence, question)
