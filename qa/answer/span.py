"""The short answer a name question asks for, taken verbatim from a quoted sentence.

"Who …?", "Which company …?", "What organisation …?" are answered first by a name: the candidates
are the capitalised phrases of the candidate sentences that the question does not already say,
scored by a logistic model (`qa.answer.picker.AnswerModel.span`, fitted by `eval/fit_answerer.py`) on
how the passages support each: the picker's score of the best sentence holding it, how many of
the top passages and sentences name it, whether a title names it, its shape.

    >>> [p.text for p in name_phrases("Shares of Alphabet rose after Sundar Pichai spoke in New York.")]
    ['Shares of Alphabet', 'Sundar Pichai', 'New York']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.answer.intent import read_intent
from qa.answer.picker import SPAN_FEATURES, Candidate
from qa.text import analyze, fold
from qa.types import Hit

_NAME = re.compile(r"(?:[A-Z][\w'’&.\-]*|[A-Z]{2,})(?:\s+(?:(?:of|and|the|de|al|for|&)\s+)?(?:[A-Z][\w'’&.\-]*|\d+))*")
_ASKS_NAME = re.compile(r"^\s*(?:(?:according to [^,]+,\s*)?(?:who|whom|whose|which|what)\b)", re.I)
_ASKS_PERSON = re.compile(r"^\s*(?:according to [^,]+,\s*)?(?:who|whom|whose)\b|\b(?:which|what) (?:person|individual|"
                          r"executive|ceo|founder|player|athlete|politician|official|commander|general|author|"
                          r"reporter|journalist|figure|man|woman)\b", re.I)
_PERSON_NOUN = re.compile(r"\b(?:which|what|who (?:is|was) the) (?:\w+ )?(?:person|individual|executive|ceo|founder|"
                          r"player|athlete|politician|official|commander|general|judge|governor|director|minister|"
                          r"president|mayor|envoy|ambassador|spokesman|spokeswoman|captain|author|reporter|"
                          r"journalist|man|woman)\b", re.I)
_STOP_START = {"like", "unlike", "including", "against", "via", "per",
               "the", "a", "an", "this", "that", "these", "those", "in", "on", "at", "but", "and", "it", "he", "she",
               "they", "we", "i", "his", "her", "their", "its", "when", "while", "after", "before", "as", "if",
               "for", "with", "from", "by", "to", "of", "so", "yet", "also", "however", "meanwhile", "still", "is",
               "once", "how", "what", "why", "who", "where", "which", "current", "former", "ceo", "cto", "cfo",
               "chair", "president", "qb", "mr", "mrs", "ms", "dr", "sir", "last", "next", "every", "each", "all",
               "both", "many", "some", "our", "your", "my", "top", "best", "here", "there", "today"}


@dataclass(frozen=True)
class Phrase:
    text: str
    start: int  # offset in its sentence


def name_phrases(sentence: str) -> list[Phrase]:
    """Runs of capitalised words (joined by "of", "and", "the", "&"), a leading function word dropped."""
    out = []
    runs = []
    for m in _NAME.finditer(sentence):  # a run crossing a full stop ("… Android. Epic …") is two runs
        offset = m.start()
        for piece in re.split(r"(?<=[a-z0-9]{3}\.)\s+", m.group()):
            runs.append((piece, offset))
            offset += len(piece) + 1
    for raw, start in runs:
        text = re.split(r"[’']s\b", raw)[0].rstrip(".’'")
        words = text.split()
        while words and words[0].lower() in _STOP_START:
            start += len(words[0]) + 1
            words = words[1:]
        while words and words[-1].lower() in ("of", "and", "the", "for", "&", "de", "al"):
            words = words[:-1]
        if words and not any(w in _PRONOUNS for w in words):  # "Sam and I" names no one
            out.append(Phrase(" ".join(words), start))
    return out


_PRONOUNS = {"I", "We", "You", "He", "She", "They", "It", "My", "Our", "Your", "His", "Her", "Their", "Its", "I'm",
             "I’m", "We're", "We’re"}


def full_name(name: str, hits: Sequence[Hit], passages: int = 5) -> str:
    """A surname as the passages write it in full: "Altman" -> "Sam Altman" where a top passage says
    "Sam Altman" (the most frequent such form); the name itself otherwise."""
    if " " in name.strip() or not name[:1].isupper():
        return name
    forms: dict[str, int] = {}
    for h in hits[:passages]:
        for p in name_phrases(h.chunk.text):
            words = p.text.split()
            if 2 <= len(words) <= 3 and words[-1] == name and all(w[:1].isupper() for w in words):
                forms[p.text] = forms.get(p.text, 0) + 1
    return max(forms, key=lambda f: (forms[f], -len(f))) if forms else name


def asks_name(question: str) -> bool:
    """"Who …?", "Which company …?", "What is the name of …?": a question a name answers; not "What
    did readers say …?" or "Which date …?"."""
    text = re.sub(r"^\s*according to [^,]+,\s*", "", question, flags=re.I)
    if re.match(r"^\s*(?:who|whom|whose)\b", text, re.I):
        return True
    if re.match(r"^\s*what(?:'s| is| was) the name of\b", text, re.I):
        return True
    m = re.match(r"^\s*(?:which|what)\s+(\w+)", text, re.I)
    return m is not None and m[1].lower() not in _NOT_A_NAME


_NOT_A_NAME = {"is", "are", "was", "were", "did", "does", "do", "has", "have", "had", "will", "would", "can", "could",
               "should", "might", "may", "date", "day", "year", "month", "time", "number", "amount", "percentage",
               "proportion", "kind", "type", "sort", "happened", "happens", "about", "if", "else"}


_PLACE_BEFORE = re.compile(r"\b(?:in|at|near|from|into|to|outside|across|around|towards?|via|through|of the town of|"
                           r"of the city of|of the village of)\s+(?:the\s+)?$")
NOT_PERSON_TAIL = {"state", "army", "forces", "force", "government", "ministry", "police", "party", "front", "units",
                    "brigades", "council", "news", "agency", "province", "crossing", "border", "city", "town",
                    "river", "airport", "base", "republic", "kingdom", "coalition", "command", "department", "office",
                    "journal", "times", "post", "press", "group", "bank", "port", "hills", "marshes", "valley",
                    "region", "district", "county", "island", "islands", "sea", "bay", "road", "street", "bridge",
                    "company", "inc", "corp", "ltd", "co", "trial", "court", "club", "team", "league", "association",
                    "union", "institute", "university", "school", "hospital", "commission", "committee",
                   "division", "guard", "guards", "house", "international", "reuters", "monday", "tuesday",
                   "wednesday", "thursday", "friday", "saturday", "sunday"}


def not_a_person(name: str, texts: Sequence[str]) -> bool:
    """A name the passages treat as a place or an organisation: its last word names a kind of place or
    body ("Port", "Brigades", "Ministry"), a pronoun is among its words ("Sam and I"), or most of its
    mentions follow "in", "at", "near", "from" … ("fighting in Tal Varesh")."""
    words = name.split()
    if words[-1].lower().strip(".") in NOT_PERSON_TAIL or words[0].lower() in ("port", "mount", "lake", "fort") \
            or any(w in ("I", "We", "We're", "I'm") for w in words):
        return True
    pattern = re.compile(rf"\b{re.escape(fold(name))}\b")
    before = [t[max(0, m.start() - 30):m.start()] for t in texts for m in pattern.finditer(t)]
    return bool(before) and sum(bool(_PLACE_BEFORE.search(b)) for b in before) * 2 >= len(before)


_TITLE_BEFORE = re.compile(r"\b(?:mr|mrs|ms|dr|sir|judge|gen|general|col|colonel|capt|captain|president|minister|"
                           r"governor|mayor|director|commander|envoy|ambassador|spokesman|spokeswoman|chief|head|"
                           r"leader|deputy|ceo|founder|chairman|secretary|officer|lawyer|prosecutor|analyst|"
                           r"quarterback|coach|player|star|singer|actor|author|reporter)\.?\s+$")
_PERSON_AFTER = re.compile(r"^(?:\s*,\s*(?:the|a|an|who|whose|\d+|[a-z]+ (?:of|at|for)\b)|\s+(?:said|says|told|"
                           r"added|wrote|argued|stated|explained|noted|claimed|denied|confirmed|announced|testified|"
                           r"pleaded|is|was|has|had)\b|['’]s (?:wife|husband|son|daughter|lawyer|career|death)\b)")


def spoken_of_as_person(name: str, texts: Sequence[str]) -> bool:
    """Some mention reads as a person's: after a title or role ("Judge Katarina Orsolic", "director
    Dragan Motte"), or followed by an apposition or a verb of speech ("Vesna Kolar, governor of …",
    "Orsolic said")."""
    words = fold(name).split()
    forms = [" ".join(words)] + ([words[-1]] if len(words) > 1 and len(words[-1]) > 3 else [])  # "Orsolic said"
    pattern = re.compile(rf"\b(?:{'|'.join(re.escape(f) for f in forms)})\b")
    for t in texts:
        for m in pattern.finditer(t):
            before, after = t[max(0, m.start() - 30):m.start()], t[m.end():m.end() + 40]
            if _TITLE_BEFORE.search(before) or _PERSON_AFTER.match(after):
                return True
    return False


_PLURAL = re.compile(r"^\s*(?:according to [^,]+,\s*)?(?:(?:which|what) (?:two|three|four|both|pair|\w+s)\b|"
                     r"who (?:are|were)\b|(?:which|what) \w+ (?:are|were|have)\b)", re.I)


def asks_plural(question: str) -> bool:
    """"Which two celebrities …?", "Which companies …?", "Who are …?": more than one name answers it."""
    return bool(_PLURAL.search(question)) and not re.match(r"^\s*(?:which|what) (?:news|series|species|process|"
                                                             r"business|class|status|address)\b", question, re.I)


def singular(phrases: list[Phrase]) -> list[Phrase]:
    """"DraftKings and FanDuel" as two names, for a question one name answers."""
    out = []
    for p in phrases:
        start = p.start
        for part in p.text.split(" and "):
            if part.strip():
                out.append(Phrase(part.strip(), start))
            start += len(part) + 5
    return out


def mention_pattern(name: str) -> re.Pattern[str]:
    """Mentions of a name in folded text; a person's name also by the surname alone, as news writes it
    after the first mention ("Sam Bankman-Fried" … "Bankman-Fried said")."""
    words = fold(name).split()
    person = 2 <= len(words) <= 3 and all(w[:1].isupper() for w in name.split()) and len(words[-1]) > 3 \
        and words[-1] not in NOT_PERSON_TAIL
    forms = [" ".join(words)] + ([words[-1]] if person else [])
    return re.compile(rf"\b(?:{'|'.join(re.escape(f) for f in forms)})\b")


@dataclass(frozen=True)
class SpanCandidate:
    text: str
    sentence: int  # index among the candidate sentences holding it with the best picker score


def span_candidates(question: str, hits: Sequence[Hit], sentences: Sequence[Candidate],
                    logits: np.ndarray, passages: int = 5) -> tuple[list[SpanCandidate], np.ndarray]:
    """Name phrases of the candidate sentences, and one row of `SPAN_FEATURES` for each."""
    q_terms = set(analyze(question))
    person = float(_ASKS_PERSON.search(question) is not None)
    plural = asks_plural(question)
    typed_person = _PERSON_NOUN.search(question) is not None  # "which judge …"; a bare "who" may be a group
    found: dict[str, dict] = {}
    readers = read_intent(question).comments
    for i, s in enumerate(sentences):
        if hits[s.hit].chunk.kind == "comment" and not readers:
            continue  # a reader's remark never supplies the short answer to a question about the news
        for p in (name_phrases(s.text) if plural else singular(name_phrases(s.text))):
            key = " ".join(re.findall(r"\w+", fold(p.text)))
            if not key or len(key) < 2:
                continue
            entry = found.setdefault(key, {"text": p.text, "best": i, "sentences": 0, "first": 0.0})
            entry["sentences"] += 1
            if logits[i] > logits[entry["best"]]:
                entry["best"], entry["text"] = i, p.text
            if p.start == 0:
                entry["first"] = 1.0
    for h in range(min(passages, len(hits))):  # a title names what its article is about
        mine = [i for i, s in enumerate(sentences) if s.hit == h]
        if not mine:
            continue
        quote = max(mine, key=lambda i: logits[i])
        for p in name_phrases(hits[h].chunk.title):
            key = " ".join(re.findall(r"\w+", fold(p.text)))
            if key and len(key) >= 2 and key not in found:
                found[key] = {"text": p.text, "best": quote, "sentences": 0, "first": 0.0}
    if not found:
        return [], np.zeros((0, len(SPAN_FEATURES)), dtype=np.float32)
    texts = [fold(f"{h.chunk.title} {h.chunk.text}") for h in hits[:passages]]
    bodies = [fold(h.chunk.text) for h in hits[:passages]]
    titles = [fold(h.chunk.title) for h in hits[:passages]]
    cands, rows = [], []
    for e in found.values():
        pattern = mention_pattern(e["text"])
        terms = set(analyze(e["text"]))
        words = e["text"].split()
        if terms and terms <= q_terms:
            continue  # what the question already names is not what it asks for
        in_body = sum(bool(pattern.search(t)) for t in bodies)
        if typed_person and (not_a_person(e["text"], bodies) or not spoken_of_as_person(e["text"], bodies)):
            continue  # "Who is the governor …?" is not answered by "Tal Varesh" or "Iron Dawn"
        if (not in_body and len(words) > 3) or len(words) > 5:
            continue  # a title's run of capitals ("Best Golf Betting Sites and Apps") names nothing the text says
        rows.append([
            float(logits[e["best"]]),
            float(sum(bool(pattern.search(t)) for t in texts)),
            float(e["sentences"]),
            float(any(pattern.search(t) for t in titles)),
            float(len(words) == 1),
            float(len(words) >= 4),
            len(terms & q_terms) / len(terms) if terms else 1.0,
            person,
            person * float(2 <= len(words) <= 3 and all(w[:1].isupper() for w in words)),
            e["first"],
            float(e["text"].isupper()),
            float(bool(re.search(r"\s(?:and|&)\s", e["text"]))),
            1.0 - person,
            float(in_body),
        ])
        cands.append(SpanCandidate(e["text"], e["best"]))
    return cands, np.array(rows, dtype=np.float32).reshape(-1, len(SPAN_FEATURES))
