"""What a question asks for, read from its wording: pure, no model.

`read_intent("Which commenter said the hotel was a COC?")` -> about reader comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_AUTHOR = re.compile(
    r"\b(who (wrote|authored|penned|reported)|author of|written by|whose (article|report|piece))\b", re.I
)
_COMMENT = re.compile(r"\b(comment(s|ed|er|ers)?|readers?|reader'?s'?|comment section)\b", re.I)
_NOW = re.compile(r"\b(now|current(ly)?|latest|most recent|still|today|at present|as of)\b", re.I)


@dataclass(frozen=True)
class Intent:
    author: bool = False  # who wrote the article
    comments: bool = False  # about reader comments
    recent: bool = False  # the latest state of affairs


def read_intent(question: str) -> Intent:
    """`read_intent('Who wrote the article on Al Qaim?').author` -> `True`"""
    comments = bool(_COMMENT.search(question))
    return Intent(
        author=bool(_AUTHOR.search(question)) and not comments,
        comments=comments,
        recent=bool(_NOW.search(question)),
    )
