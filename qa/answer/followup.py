"""Follow-up questions → standalone search queries, from the conversation so far, without a model.

A chat question such as "and who held it before that?" means nothing to a search index on its own.
`rewrite` decides whether a question leans on earlier turns (a pronoun, a leading "and", "what about
X?", or a very short question with no name of its own) and, if so, carries the salient phrases of the
last query into it:

    >>> rewrite("and who held it before that?", ["Who controls the Tal Varesh crossing?"]).query
    'who held the Tal Varesh crossing before that?'

A question about what readers said also narrows the search to reader comments (`kinds`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.timeline import read_state_question
from qa.text import CONVERSATION_STOPWORDS, NAME_PARTICLES
from qa.tuning import TUNING
from qa.types import Kind

_WORD = re.compile(r"[^\W_][\w'’\-]*")
_STOP = CONVERSATION_STOPWORDS
# Lower-case words allowed inside a name when a capitalised word follows: "Al Qaim", "Bay of Pigs".
_NAME_JOINERS = NAME_PARTICLES | {"of"}
_CONNECTOR = re.compile(r"^\s*(?:and|but|so|also|then|ok(?:ay)?|well)\b[\s,]*", re.IGNORECASE)
_WHAT_ABOUT = re.compile(r"^\s*(?:(?:and|but|so)\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*[?.!]*\s*$",
                         re.IGNORECASE)
_ANAPHORA = [
    re.compile(r"\b(?:it|its|itself|they|them|their|theirs|he|him|his|she|her|hers)\b", re.IGNORECASE),
    re.compile(r"\b(?:before|after|since|than|about|like|besides|during|until|from|of)\s+(?:that|this|then)\b",
               re.IGNORECASE),
    re.compile(r"^\s*(?:why|when|how|where|who|is|was|did|does)\s+(?:that|this)\b", re.IGNORECASE),
    re.compile(r"\b(?:that one|the same|there|then)\s*[?.!]*\s*$", re.IGNORECASE),
]
_READERS = re.compile(r"\b(?:readers?|commenters?|comments?(?: section)?|reader comments)\b", re.IGNORECASE)
_ABOUT_TAIL = re.compile(r"\(about [^)]*\)\s*$")
_SINCE_WHEN = re.compile(r"^\s*(?:(?:and|but|so)\s+)?since when\b(?:\s+(?:has|have|is|was|did|does)\s+(?:it|that|they|"
                         r"this)(?:\s+been)?(?:\s+(?:held|controlled|the case|so|happened))?)?\s*[?.!]*\s*$", re.I)
_IT = re.compile(r"\bit\b", re.IGNORECASE)
SHORT_WORDS = TUNING.short_words  # a question this short, naming nothing, is a follow-up ("Why?", "Who else?")


@dataclass(frozen=True)
class Rewrite:
    """What to search for a question asked in a conversation."""

    question: str
    query: str  # standalone: the question itself when it needs no context
    context: tuple[str, ...] = ()  # phrases brought in from earlier turns
    kinds: tuple[Kind, ...] | None = None  # None: as the page's settings say; ("comment",) for "what did readers say"

    @property
    def changed(self) -> bool:
        return self.query != self.question


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and word.lower() not in _STOP


def names(text: str) -> list[str]:
    """Runs of capitalised words, skipping question words at the start; a name after "the" keeps its
    head noun. `names("Who controls the Al Waleed crossing?")` -> `['the Al Waleed crossing']`"""
    words = [(m.group(), m.start()) for m in _WORD.finditer(text)]
    found, i = [], 0
    while i < len(words):
        if not _capitalised(words[i][0]):
            i += 1
            continue
        j = i + 1
        while j < len(words) and (_capitalised(words[j][0]) or (
                words[j][0].lower() in _NAME_JOINERS and j + 1 < len(words) and _capitalised(words[j + 1][0]))):
            j += 1
        run = [w for w, _ in words[i:j]]
        definite = i > 0 and words[i - 1][0].lower() == "the"
        if definite and j < len(words) and words[j][0].islower() and words[j][0] not in _STOP:
            run.append(words[j][0])  # "the Tal Varesh crossing": the head noun belongs to the name
            j += 1
        found.append(("the " if definite else "") + " ".join(run))
        i = j
    return found


def noun_phrases(text: str) -> list[str]:
    """Fallback when nothing is capitalised: content words after "the"/"a", else all content words.
    `noun_phrases("who controls the border crossing?")` -> `['the border crossing']`"""
    words = [w for w in _WORD.findall(text)]
    found = []
    for i, w in enumerate(words):
        if w.lower() in {"the", "a", "an"}:
            run = []
            for nxt in words[i + 1:i + 5]:
                if nxt.lower() in _STOP:
                    break
                run.append(nxt)
            if run:
                found.append(("the " if w.lower() == "the" else "") + " ".join(run))
    if found:
        return found
    content = [w for w in words if w.lower() not in _STOP and len(w) > 2]
    return [" ".join(content)] if content else []


def salient(text: str) -> list[str]:
    """The phrases a follow-up question may be about: names first, else noun phrases."""
    return names(text) or noun_phrases(text)


def _bare(phrase: str) -> str:
    return phrase[4:] if phrase.lower().startswith("the ") else phrase


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(_bare(phrase))}\b", text, re.IGNORECASE) is not None


def is_followup(question: str) -> bool:
    """True when the question leans on an earlier turn. A question that names something of its own
    is taken as standalone unless it opens with "and"/"but"/"so" or is "what about X?"; one with a
    pronoun, one with no subject at all, and a very short one are follow-ups."""
    if _CONNECTOR.match(question) or _WHAT_ABOUT.match(question):
        return True
    if names(question):
        return False
    if any(p.search(question) for p in _ANAPHORA) or not salient(question):
        return True  # a pronoun, or nothing of its own to search for ("what did readers say?")
    return len(_WORD.findall(question)) <= SHORT_WORDS


def rewrite(question: str, previous: Sequence[str]) -> Rewrite:
    """A standalone query for `question` given the earlier standalone queries (oldest first)."""
    question = question.strip()
    kinds: tuple[Kind, ...] | None = ("comment",) if _READERS.search(question) else None
    context = next((p for q in reversed(previous) if (p := salient(q))), [])
    if not context or not is_followup(question):
        return Rewrite(question, question, (), kinds)
    # the last question that stood on its own ("who controls X?"), not a follow-up that leaned on it
    # ("who held X before that?", "Since when? (about X)")
    last = next((q for q in reversed(previous) if salient(q) and not _ANAPHORA[1].search(q)
                 and not _ABOUT_TAIL.search(q)), next(q for q in reversed(previous) if salient(q)))
    if _SINCE_WHEN.match(question) and (state := read_state_question(last)) is not None:
        # "Since when?" after "Who controls X?" asks since when X has been held
        return Rewrite(question, f"Since when has {state.subject} been held?", (state.subject,), kinds)
    if m := _WHAT_ABOUT.match(question):
        subject = m["x"]
        # "What about Y?" after "Who controls X?" and "Since when?" asks who controls Y
        last = next((q for q in reversed(previous) if salient(q) and not _ANAPHORA[1].search(q)
                     and not _ABOUT_TAIL.search(q) and getattr(read_state_question(q), "mode", "") != "since"), last)
        if _READERS.fullmatch(re.sub(r"^the\s+", "", subject, flags=re.IGNORECASE)):
            return Rewrite(question, last, tuple(context), kinds)  # "what about the readers?"
        # "what about Al Qaim?" after "Who controls the Tal Varesh crossing?" -> "Who controls Al Qaim?"
        query = re.sub(re.escape(context[-1]), lambda _: subject, last, count=1, flags=re.IGNORECASE)
        if query != last:
            return Rewrite(question, query, (), kinds)
    body = _CONNECTOR.sub("", question, count=1) or question
    missing = [p for p in context if not _contains(body, p)]
    if missing and _IT.search(body):
        # "it" names a thing, and the last phrase of the earlier question is most often the thing asked about
        body = _IT.sub(lambda _: missing[-1], body, count=1)
        missing = missing[:-1]
    query = body + (f" (about {', '.join(missing)})" if missing else "")
    return Rewrite(question, query, tuple(p for p in context if _contains(query, p)), kinds)
