"""What a question asks for, read from its wording: pure, no model.

`read_intent("Which commenter said the hotel was a COC?")` -> about reader comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.dates import MONTH_PATTERN
from qa.text import analyze

_AUTHOR = re.compile(
    r"\b(who (wrote|authored|penned|reported)|author of|written by|whose (article|report|piece))\b", re.I
)
_COMMENT = re.compile(r"\b(comment(s|ed|er|ers)?|readers?|reader'?s'?|comment section)\b", re.I)
_NOW = re.compile(r"\b(now|current(ly)?|latest|most recent|still|today|at present|as of)\b", re.I)
# asks for a time or a quantity: at the start of the question or of a clause ("According to X, when …")
_AUX = r"(did|does|do|was|were|is|are|has|have|had|will|would|can|could|should|might|may)"
# "when" asks only when a verb follows: not "…, when they later advised …"
_ASKS_TIME = re.compile(
    rf"(^|[,;:]\s*)((since )?when {_AUX}\b|(on |in |by |at )?(what|which) (date|day|year|month|time)\b)", re.I)
_ASKS_NUMBER = re.compile(r"(^|[,;:]\s*)(how (many|much|far|long|old|big|large)\b|"
                          r"(what|which) (percentage|proportion|number|amount)\b)", re.I)
_TIME = re.compile(
    rf"\b(({MONTH_PATTERN})\b\.?|(mon|tues|wednes|thurs|fri|satur|sun)days?|yesterday|today|tonight|tomorrow|"
    r"(last|this|next|early|late|earlier|later) (this )?"
    r"(morning|night|week|month|year|spring|summer|autumn|fall|winter)|"
    r"\d+ (days?|weeks?|months?|years?)|(days?|weeks?|months?|years?) (ago|earlier|later|before|after)|"
    r"\d{4}s?|\d{1,2}(st|nd|rd|th)|\d{1,2}[:/.-]\d{1,2})\b", re.I)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?|"
    r"thousands?|millions?|billions?|dozens?|score[s]?|half|quarter|several|a few|single|double|twice)\b", re.I)


@dataclass(frozen=True)
class Intent:
    author: bool = False  # who wrote the article
    comments: bool = False  # about reader comments
    recent: bool = False  # the latest state of affairs
    expects: str | None = None  # "time" (when, on what date) or "number" (how many, how far)
    names: frozenset[str] = frozenset()  # analysed terms of the capitalised words after the first

    def fits(self, text: str) -> bool:
        """The text can answer a question that asks for a kind of answer: it holds a time / a
        quantity, and one of the names the question asks about (a date of something else does not
        answer "when did the YPG take Rabia?"). Any text fits a question that asks for no kind.

        `read_intent('How far is Fallujah from Baghdad?').fits('Fallujah is just 30 miles away')` -> `True`
        """
        if self.expects is None:
            return True
        if not (_TIME if self.expects == "time" else _NUMBER).search(text):
            return False
        return not self.names or not self.names.isdisjoint(analyze(text))


def read_intent(question: str) -> Intent:
    """`read_intent('Who wrote the article on Al Qaim?').author` -> `True`"""
    comments = bool(_COMMENT.search(question))
    return Intent(
        author=bool(_AUTHOR.search(question)) and not comments,
        comments=comments,
        recent=bool(_NOW.search(question)),
        expects="time" if _ASKS_TIME.search(question) else "number" if _ASKS_NUMBER.search(question) else None,
        names=frozenset(analyze(" ".join(w for w in question.split()[1:] if w[:1].isupper()))),
    )
