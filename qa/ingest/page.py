"""Archive text pages: title line, optional date line, body, author bio, boilerplate, comments, navigation.

Only the body and the comments are content. The bio gives the author; the donation appeal after
it, the "Tags:" line, the "N Comments" counter and the trailing navigation words are dropped.
A date line under the title ("March 9, 2024", "Posted on June 23, 2014 by NAME", "Published:
9 March 2024 10:15") is the publication date; one right under a "NAME says:" marker ("June 23,
2014 at 3:14 pm") is the comment's date.
"""

from __future__ import annotations

import re

from qa.dates import parse_date
from qa.text import NAME_PARTICLES
from qa.types import Comment, Document

MAX_TITLE_CHARS = 500
COMMENT_MARKER = _COMMENT = re.compile(r"^\s*(?P<bullet>[•·*\-–])?\s*(?P<name>\S.{0,80}?)\s+says:\s*$")
_TAGS = re.compile(r"^\s*Tags:")
_COUNTER = re.compile(r"^\s*\d+\s+Comments?\s*$", re.IGNORECASE)
_NAME = rf"[A-Z][\w'’.\-]+(?:\s+(?:[A-Z][\w'’.\-]+|{'|'.join(sorted(NAME_PARTICLES))}))*"
_BIO = re.compile(
    rf"^(?P<name>{_NAME}) (?:is|was|serves as|has been) (?:a|an|the)\b", re.UNICODE
)
_APPEAL = re.compile(r"\b(donat\w*|support our|subscribe|become a member)\b", re.IGNORECASE)
_DATE_PREFIX = re.compile(
    r"^(?:(?:posted|published|updated|first published|date)\b(?:\s+on)?\s*:?\s*"
    r"|by\s+(?P<by>[^|·•,]{1,60}?)\s*(?:\s+on\s+|[|·•,–—]\s*))", re.IGNORECASE)
_DATE_SUFFIX = re.compile(
    r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?(?:\s*(?:[A-Z]{2,4}|[+-]\d{2}:?\d{2}))?)?"
    r"(?:\s+by\s+(?P<by>[^|·•,]{1,60}))?\s*$", re.IGNORECASE)


def date_line(text: str) -> tuple[str, str | None] | None:
    """The date of a line that is only a date, perhaps with a "Posted on"/"By NAME on" prefix and
    a time or "by NAME" after it, and the name: `'Posted on June 23, 2014 at 9:05 am by Bill Roggio'`
    -> `('2014-06-23', 'Bill Roggio')`; None for anything else."""
    if len(text) > 120 or "\n" in text:
        return None
    head = _DATE_PREFIX.match(text.strip())
    rest = text.strip()[head.end():] if head else text.strip()
    tail = _DATE_SUFFIX.search(rest)
    core = rest[:tail.start()] if tail else rest
    if (iso := parse_date(core)) is None:
        return None
    by = (head["by"] if head else None) or (tail["by"] if tail else None)
    return iso, by.strip() if by else None


def _paragraphs(lines: list[str]) -> list[str]:
    """Group lines into paragraphs at blank lines; lines inside a paragraph keep their breaks."""
    paras: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paras[-1].append(line.strip())
        elif paras[-1]:
            paras.append([])
    return ["\n".join(p) for p in paras if p]


def _is_navigation(line: str) -> bool:
    """Site navigation words: a few words, no sentence punctuation."""
    words = line.split()
    return 0 < len(words) <= 4 and not re.search(r"[.!?:;,\"“”]$", line.strip())


def split_bio(paras: list[str]) -> tuple[list[str], str | None]:
    """Body paragraphs and author: the bio is the last "NAME is a ..." paragraph near the end;
    what follows it is boilerplate. Without a bio, trailing appeal paragraphs are dropped."""
    for i in range(len(paras) - 1, max(-1, len(paras) - 4), -1):
        if m := _BIO.match(paras[i]):
            return paras[:i], m["name"]
    while paras and (_APPEAL.search(paras[-1]) or _is_navigation(paras[-1])):
        paras = paras[:-1]
    return paras, None


def markers(lines: list[str]) -> set[int]:
    """Lines that start a comment: "• NAME says:". Only when a page bullets none of them does a
    bare "NAME says:" count, so a line such as "The minister says:" in an article stays in it."""
    found = {i: bool(m["bullet"]) for i, line in enumerate(lines) if (m := _COMMENT.match(line))}
    bulleted = {i for i, b in found.items() if b}
    return bulleted or set(found)


def split_comments(lines: list[str], markers: set[int]) -> list[Comment]:
    """Split at the marker lines. Comment paragraphs are indented on the site; the first
    unindented line after the last comment starts the navigation words."""
    indented = any(line[:1].isspace() and line.strip() for i, line in enumerate(lines) if i not in markers)
    comments: list[tuple[str, list[str]]] = []
    for i, line in enumerate(lines):
        if i in markers and (m := _COMMENT.match(line)):
            comments.append((m["name"].strip(), []))
        elif comments:
            if indented and line.strip() and not line[:1].isspace():
                break  # navigation words: the page's content is over
            comments[-1][1].append(line)
    result = []
    for n, (author, body) in enumerate(comments):
        paras = _paragraphs(body)
        if not indented and n == len(comments) - 1:
            while paras and _is_navigation(paras[-1]):
                paras.pop()
        dated = date_line(paras[0]) if paras else None
        if dated:
            paras = paras[1:]
        text = "\n\n".join(paras)
        if text:
            result.append(Comment(author=author, text=text, date=dated[0] if dated else None))
    return result


def parse_page(text: str, doc_id: str, path: str | None = None) -> Document:
    """Read one archive page. Raises ValueError with a reason when it is not a page."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise ValueError("empty page")
    title = lines[start].strip()
    if len(title) > MAX_TITLE_CHARS:
        raise ValueError(f"first line is {len(title):,} characters long, not a title")
    rest = lines[start + 1:]
    found = markers(rest)
    first_comment = min(found, default=len(rest))
    head_end = next(
        (i for i, line in enumerate(rest[:first_comment]) if _TAGS.match(line) or _COUNTER.match(line)),
        first_comment,
    )
    paras = _paragraphs(rest[:head_end])
    published, byline = None, None
    for i, para in enumerate(paras[:2]):
        if found_date := date_line(para):
            (published, byline), paras = found_date, paras[:i] + paras[i + 1:]
            break
    body_paras, author = split_bio(paras)
    author = author or byline
    comments = split_comments(rest[first_comment:], {i - first_comment for i in found})
    if not body_paras and not comments:
        raise ValueError("page has a title but no article text or comments")
    return Document(
        doc_id=doc_id,
        title=title,
        body="\n\n".join(body_paras),
        author=author,
        published_at=published,
        path=path,
        comments=tuple(comments),
    )
