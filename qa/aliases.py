"""Name aliases found in the archive itself: acronyms and the names they stand for.

Three patterns, all from the text, none from a hand list:
- a definition: `Iraqi Security Forces (ISF)`;
- a gloss: `Daesh (an Arabic acronym for the Islamic State)`;
- initials: `ISIS` in a document that also says `Islamic State of Iraq and the Sham`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from qa.text import NAME_LINKS, NAME_PARTICLES, fold

_CONNECTORS = NAME_LINKS | NAME_PARTICLES  # skipped when spelling out initials
_CAP = r"[A-Z][\w'’\-]*"
_JOINER = "|".join(re.escape(w) for w in sorted(_CONNECTORS))
_PHRASE = rf"{_CAP}(?:\s+(?:(?:{_JOINER})\s+)*{_CAP}){{1,8}}"
_DEFINITION = re.compile(rf"({_PHRASE})\s+\(([A-Z][A-Z0-9]{{1,6}}s?)\)")
_GLOSS = re.compile(
    rf"\b({_CAP}(?:\s+{_CAP})?)\s+\((?:an?\s+)?(?:[A-Z]\w+\s+)?(?:acronym|abbreviation|short)\s+(?:for|of)\s+"
    rf"(?:the\s+)?({_PHRASE}|{_CAP})\)"
)
_ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")
_CANDIDATE = re.compile(_PHRASE)


def initials(phrase: str) -> str:
    """`initials('Islamic State of Iraq and the Sham')` -> `'ISIS'` (connecting words skipped)."""
    words = [w for w in re.split(r"\s+", phrase) if w.lower() not in _CONNECTORS]
    return "".join(w[0] for w in words).upper()


def _trim(phrase: str) -> str:
    """Drop a leading article: `The Islamic State` -> `Islamic State`."""
    return re.sub(r"^(?:The|A|An)\s+", "", phrase.strip())


def aliases_in(text: str) -> set[tuple[str, str]]:
    """(short, long) pairs, folded to lower case, found in one document's text."""
    pairs = set()
    for long, short in _DEFINITION.findall(text):
        long = _trim(long)
        words = long.split()
        # keep the words the acronym spells, counted back from the parenthesis
        n = len(short.rstrip("s"))
        significant = [i for i, w in enumerate(words) if w.lower() not in _CONNECTORS]
        if len(significant) > n:
            long = " ".join(words[significant[-n]:])
        pairs.add((fold(short), fold(long)))
    for short, long in _GLOSS.findall(text):
        pairs.add((fold(short), fold(_trim(long))))
    acronyms = set(_ACRONYM.findall(text))
    if acronyms:
        for phrase in _CANDIDATE.findall(text):
            phrase = _trim(phrase)
            if initials(phrase) in acronyms:
                pairs.add((fold(initials(phrase)), fold(phrase)))
    return {(s, long) for s, long in pairs if s != long and len(s) >= 2}


def build_aliases(texts: Iterable[str], min_count: int = 1) -> dict[str, list[str]]:
    """Map each name to the other names it was defined as, in both directions."""
    counts: dict[tuple[str, str], int] = {}
    for text in texts:
        count_aliases(text, counts)
    return alias_table(counts, min_count)


def count_aliases(text: str, counts: dict[tuple[str, str], int]) -> None:
    """Add one text's (short, long) definitions to `counts` (for a single pass over many texts)."""
    for pair in aliases_in(text):
        counts[pair] = counts.get(pair, 0) + 1


def alias_table(counts: dict[tuple[str, str], int], min_count: int = 1) -> dict[str, list[str]]:
    """The table `build_aliases` makes, from the definitions counted over the texts."""
    table: dict[str, set[str]] = {}
    for (short, long), n in counts.items():
        if n >= min_count:
            table.setdefault(short, set()).add(long)
            table.setdefault(long, set()).add(short)
    return {name: sorted(others) for name, others in table.items()}


@lru_cache(maxsize=65536)
def _words(text: str) -> str:
    """The text's words, single-spaced (cached: the table's names recur in every query)."""
    return " ".join(re.findall(r"\w+", text))


def expand(query: str, table: dict[str, list[str]]) -> list[str]:
    """Names the query uses that have aliases, and those aliases:
    `expand('who is daesh', {'daesh': ['islamic state']})` -> `['islamic state']`."""
    folded = f" {_words(fold(query))} "
    found = []
    for name, others in table.items():
        if f" {_words(name)} " in folded:
            found += [o for o in others if f" {o} " not in folded]
    return sorted(set(found))
