"""The one home of text handling: folding, words, stop words, name particles, stemming, sentences.

Every module that compares words reads them from here, so the index, the reranker and the
answerer agree on what a term is:

    >>> analyze("The crossings of Al-Waleed’s forces")
    ['cross', 'al', 'waleed', 'forc']

Stems are Snowball English (PyStemmer): "news" and "new" stay apart, "states" and "state" meet.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

# Words too common to search for: the lexical index drops them, the answerer ignores them.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves s t said says""".split()
)
# Question words: a conversation's follow-up test needs them apart from the other stop words.
QUESTION_WORDS = frozenset({"who", "whom", "whose", "what", "when", "where", "why", "how", "which"})
# Words of talk about a conversation ("tell me", "what did readers say"): never the subject of a follow-up.
CHAT_WORDS = frozenset(
    """also else still many much may might must since us done yes say tell told know think happen happened
    ok okay please readers reader comments comment commenters commenter people""".split()
)
# What a follow-up question's subject is never made of.
CONVERSATION_STOPWORDS = STOPWORDS | QUESTION_WORDS | CHAT_WORDS
# Lower-case particles inside personal and place names: "Al Qaim", "Ursula von der Leyen", "Osama bin Laden".
NAME_PARTICLES = frozenset({"al", "el", "de", "del", "da", "di", "du", "la", "van", "von", "der", "bin", "ibn"})
# Short words that join the capitalised words of a multi-word name: "Bay of Pigs", "Iraq and the Levant".
NAME_LINKS = frozenset({"of", "and", "the", "in", "for", "on", "&"})

_WORD = re.compile(r"\w+")
_STEMMER = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """`'Al-Walíd’s'` -> `'al-walid's'`: compatibility-normalised, accents dropped, lower case."""
    decomposed = unicodedata.normalize("NFKD", text)
    if not decomposed.isascii():  # drop the combining marks: each distinct character looked up once
        marks = {ord(ch): None for ch in set(decomposed) if unicodedata.combining(ch)}
        if marks:
            decomposed = decomposed.translate(marks)
    return decomposed.lower().replace("’", "'")


def words(text: str) -> list[str]:
    """The folded words of a text, stop words kept: `words('Al-Walíd’s post')` -> `['al', 'walid', 's', 'post']`."""
    return _WORD.findall(fold(text))


def skeleton(term: str) -> str:
    """First letter, then consonants without repeats: `waleed` and `walid` -> `wld`."""
    rest = re.sub(r"[aeiouy]", "", term[1:])
    return term[0] + re.sub(r"(.)\1+", r"\1", rest)


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Snowball English stem of a folded word: `stem('crossings')` -> `'cross'`, `stem('news')` -> `'news'`."""
    return str(_STEMMER.stemWord(word))


def analyze(text: str) -> list[str]:
    """Terms of a text: folded words, stop words dropped, stemmed.
    `analyze('The crossings of Al Waleed')` -> `['cross', 'al', 'waleed']`."""
    return [stem(w) for w in _WORD.findall(fold(text)) if w not in STOPWORDS]


def analyze_many(texts: Iterable[str]) -> list[list[str]]:
    """`analyze` over many texts, each distinct word stemmed once (what an index build calls)."""
    folded = [[w for w in _WORD.findall(fold(t)) if w not in STOPWORDS] for t in texts]
    unique = sorted({w for ws in folded for w in ws})
    stems = dict(zip(unique, _STEMMER.stemWords(unique)))
    return [[stems[w] for w in ws] for ws in folded]


# ---- sentences ---------------------------------------------------------------------------------

ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen lt col maj capt sgt cpl pvt adm cmdr gov sen rep pres st jr sr rev inc ltd co corp "
    "bros dept univ ft mt vs etc al jan feb mar apr jun jul aug sep sept oct nov dec approx est".split()
)
_NUMBERED = frozenset({"no", "nos", "vol", "pp"})  # "No. 5", "pp. 12"
_TIMES = frozenset({"a.m", "p.m"})
# After "5 p.m." these continue the sentence ("at 5 p.m. Monday."); anything else capitalised starts one.
_AFTER_TIME = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december jan feb mar apr jun jul aug sep sept oct nov dec "
    "et est edt ct cst cdt mt mst mdt pt pst pdt gmt utc bst cet cest local".split()
)
_LAST_WORD = re.compile(r"(\S+)\.$")
_INITIALS = re.compile(r"(?:[a-z]\.)+[a-z]")  # "a.j" of "A.J. Hinch", "u.s" of "U.S."
_BOUNDARY = re.compile(r"[.!?…]+[\"”’)\]]*(?=\s)|\n")
# A quotation mark opens after a space or bracket and before a word; it closes after a word and before a
# space or punctuation. Straight and curly marks are read alike (articles mix them).
_QUOTE_MARK = re.compile(r"[\"“”]")
_OPENS_AFTER = frozenset(" \t\n\r([—–-")  # a mark opens after these (or at the start) ...
_CLOSES_BEFORE = frozenset(" \t\n\r.,;:!?)]—–-")  # ... and closes before these (or at the end)
MAX_QUOTATION = 600  # characters; a longer "quotation", or one a line break cuts, is a stray mark
_TIME_ENDS = tuple(f"{d}{t}" for t in ("a.m", "p.m") for d in "0123456789")


def _continues(text: str, start: int, stop: int, end: int) -> bool:
    """True when the full stop ending `text[start:stop]` is not a sentence end (an abbreviation,
    initials, a time, a numbered reference, or a lower-case word next)."""
    word = _LAST_WORD.search(text, max(start, stop - 48), stop)
    token = word.group(1).lower().lstrip("(\"“‘'") if word else ""
    following = text[end:end + 16].lstrip()
    if following[:1].islower():
        return True
    if token in _TIMES or token.endswith(_TIME_ENDS):
        nxt = re.match(r"\w+", following)
        return nxt is not None and nxt.group().lower() in _AFTER_TIME
    if token in _NUMBERED:
        return following[:1].isdigit()
    return token in ABBREVIATIONS or len(token) == 1 or _INITIALS.fullmatch(token) is not None


def quotations(text: str) -> list[tuple[int, int]]:
    """Spans of the quotations in a text, each from its opening mark to past its closing one:
    `quotations('He said, "Go. Now." Then')` -> `[(9, 19)]`. A mark that opens nothing it closes
    within `MAX_QUOTATION` characters on the same line is ignored."""
    found: list[tuple[int, int]] = []
    opened: int | None = None
    for m in _QUOTE_MARK.finditer(text):
        i, mark = m.start(), m.group()
        before, after = text[i - 1:i], text[i + 1:i + 2]
        if mark != "”" and (not before or before in _OPENS_AFTER) and after and not after.isspace() \
                and after not in "\"“”":
            opened = i
        elif mark != "“" and opened is not None and before and not before.isspace() and (
                not after or after in _CLOSES_BEFORE):
            if i + 1 - opened <= MAX_QUOTATION and "\n" not in text[opened:i]:
                found.append((opened, i + 1))
            opened = None
    return found


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, whitespace trimmed. Line breaks end sentences; "Nov. 25", "U.S.", "A.J. Hinch"
    and "at 5 p.m. Monday" do not, nor does a full stop inside a quotation.

    `split_sentences("Hi there. Gen. Smith came.\\nOk")` -> `[(0, 9), (10, 26), (27, 29)]`
    """
    quotes = quotations(text)
    starts = [s for s, _ in quotes]
    spans, start = [], 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if m.group() != "\n":
            i = bisect.bisect_left(starts, m.start()) - 1
            if i >= 0 and end < quotes[i][1]:
                continue  # inside a quotation that closes later
            if m.group()[0] == "." and _continues(text, start, m.start() + 1, end):
                continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        piece = text[s:e]
        s2 = s + len(piece) - len(piece.lstrip())
        e2 = e - (len(piece) - len(piece.rstrip()))
        if e2 > s2:
            trimmed.append((s2, e2))
    return trimmed


def plural(n: int, noun: str) -> str:
    """A count and its noun: `plural(1, 'document')` -> `'1 document'`; `plural(1200, 'chunk')` -> `'1,200 chunks'`"""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
