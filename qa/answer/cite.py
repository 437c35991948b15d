"""Pure citation helpers: `[n]` markers in answer text ↔ numbered sources, and their renderings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.dates import format_date
from qa.types import Answer, Citation, Hit

# A marker is a small number (k is at most 100): `[` + 5,000 digits + `]` is text, not a marker, and
# never reaches int() (which refuses strings over 4,300 digits).
MARKER = re.compile(r"\[(\d{1,3})\]")


def markers(text: str) -> list[int]:
    """`markers('A [1]. B [3][1].')` -> `[1, 3, 1]`"""
    return [int(m) for m in MARKER.findall(text)]


def answer_marks(answer: Answer) -> list[tuple[int, int, int]]:
    """The answerer's own markers as (start, end, n) spans of the text: those it recorded, else (an
    LLM's reply) every marker in the text outside the spans quoted from the archive."""
    if answer.marks is not None:
        return list(answer.marks)
    return [(m.start(), m.end(), int(m[1])) for m in MARKER.finditer(answer.text)
            if not any(a <= m.start() < b for a, b in answer.quoted)]


def answer_markers(answer: Answer) -> list[int]:
    """The numbers the answerer cited, in order: `[1]` typed inside a quoted comment is not one."""
    return [n for _, _, n in answer_marks(answer)]


def markers_valid(text: str, citations: Sequence[Citation]) -> bool:
    """Every `[n]` in the text names one of the citations."""
    numbers = {c.n for c in citations}
    return all(n in numbers for n in markers(text))


def link(hit: Hit) -> str | None:
    """Where a passage can be opened: its document's http(s) URL, else a `file://` URI of the file it
    was read from (a `javascript:` or `data:` URL in an archive is no link)."""
    if hit.url and re.match(r"(?i)https?://[^\s\x00-\x1f\x7f]+$", hit.url):
        return hit.url
    return Path(hit.path).resolve().as_uri() if hit.path else None


def quoted(citation: Citation) -> str:
    """The sentences of the passage the answer quotes, in order; `…` where passage text was skipped.
    `quoted(Citation(1, hit of 'A. B. C.', ((0, 2), (6, 8))))` -> `'A. … C.'`"""
    text = citation.hit.chunk.text
    pieces: list[str] = []
    last = None
    for start, end in sorted(citation.used_sentences):
        if last is not None and text[last:start].strip():
            pieces.append("…")
        pieces.append(" ".join(text[start:end].split()))
        last = end
    return " ".join(pieces)


def _place(hit: Hit) -> dict[str, Any]:
    """`source` is the URL or the file; `url` a link to open it; `outlet` the publication's name."""
    return {"source": hit.url or hit.path or hit.source, "url": link(hit), "outlet": hit.source}


def hit_record(hit: Hit) -> dict[str, Any]:
    c = hit.chunk
    return {"rank": hit.rank, "chunk_id": c.chunk_id, "doc_id": c.doc_id, "title": c.title,
            "kind": c.kind, "author": c.author, "published_at": c.published_at,
            **_place(hit), "text": c.text, "score": round(hit.score, 6)}


def citation_record(citation: Citation) -> dict[str, Any]:
    hit, c = citation.hit, citation.hit.chunk
    return {"n": citation.n, "chunk_id": c.chunk_id, "doc_id": c.doc_id, "title": c.title,
            "kind": c.kind, "author": c.author, "published_at": c.published_at,
            **_place(hit), "quote": quoted(citation), "text": c.text,
            "score": round(hit.score, 6), "used": bool(citation.used_sentences)}


def describe(citation: Citation) -> str:
    """One line: `[2] Reader comment by AndyFMF on “Title” · 12 Jan 2015 · file.txt`."""
    hit = citation.hit
    where = hit.url or hit.path or hit.source
    parts = [f"[{citation.n}] {citation.label}", format_date(hit.chunk.published_at)]
    if hit.source and hit.source != where:
        parts.append(hit.source)
    if where:
        parts.append(where)
    return " · ".join(parts)


def render_references(citations: Sequence[Citation], quote_chars: int = 300) -> str:
    """Plain-text reference list with a trimmed quote under each source."""
    lines = []
    for c in citations:
        quote = " ".join(c.hit.chunk.text.split())
        if len(quote) > quote_chars:
            quote = quote[: quote_chars - 1].rsplit(" ", 1)[0] + " …"
        lines += [describe(c), f"    “{quote}”"]
    return "\n".join(lines)
