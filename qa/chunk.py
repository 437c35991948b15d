"""Pure chunking: `Document` → `Chunk`s bounded in the embedding model's own tokens.

Passages are packed from whole sentences up to a target size, never past the model's limit once
the header and the two special tokens are added, with a sentence or two of overlap. Each comment
is chunked on its own. Token counts come from a function, so tests can count words instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.text import split_sentences
from qa.types import Chunk, Document, Kind

CountTokens = Callable[[Sequence[str]], list[int]]
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
MAX_HEADER_TOKENS = 64

@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int


def _split_long(text: str, span: tuple[int, int], budget: int, count: CountTokens) -> list[_Unit]:
    """Cut a sentence longer than the budget at word boundaries; a word longer than the budget
    is cut every `budget` characters (a word piece covers at least one character)."""
    words = [(m.start() + span[0], m.end() + span[0]) for m in re.finditer(r"\S+", text[span[0]:span[1]])]
    counts = count([text[s:e] for s, e in words])
    units: list[_Unit] = []
    for (s, e), n in zip(words, counts):
        if n > budget:
            units += [_Unit(p, min(p + budget, e), min(budget, e - p)) for p in range(s, e, budget)]
        elif units and units[-1].tokens + n <= budget and text[units[-1].end:s].isspace():
            units[-1] = _Unit(units[-1].start, e, units[-1].tokens + n)
        else:
            units.append(_Unit(s, e, n))
    return units


def pack_spans(
    text: str, count: CountTokens, budget: int, target: int, overlap: int
) -> list[tuple[int, int]]:
    """Pack sentences into passages of at most `target` tokens (one over-long sentence is cut to
    `budget`), each starting with the trailing sentences of the previous one worth ≤ `overlap`."""
    target = min(target, budget)
    spans = split_sentences(text)
    units: list[_Unit] = []
    for span, n in zip(spans, count([text[s:e] for s, e in spans])):
        units += _split_long(text, span, budget, count) if n > budget else [_Unit(*span, n)]
    passages, i = [], 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j].tokens <= target):
            total += units[j].tokens
            j += 1
        passages.append((units[i].start, units[j - 1].end))
        if j == len(units):
            break
        back, carried = j, 0
        while back - 1 > i and carried + units[back - 1].tokens <= overlap:
            back -= 1
            carried += units[back].tokens
        i = back
    return passages


def make_header(doc: Document, count: CountTokens, commenter: str | None = None) -> str:
    """`'Title · Outlet · 2024-03-14 · comment by X'`; a title too long for the header is shortened."""
    title = doc.title
    tail = [p for p in (doc.source, doc.published_at) if p]
    if commenter is not None:
        tail.append(f"comment by {commenter}")
    header = " · ".join([title, *tail])
    words = title.split()
    while count([header])[0] > MAX_HEADER_TOKENS and len(words) > 1:
        words = words[: max(1, len(words) * 3 // 4)]
        header = " · ".join([" ".join(words) + " …", *tail])
    if count([header])[0] > MAX_HEADER_TOKENS:
        header = " · ".join([title[: MAX_HEADER_TOKENS // 2] + " …", *tail])
    return header


def chunk_id(doc_id: str, kind: Kind, comment_index: int | None, start: int, text: str) -> str:
    """Short stable hash of where the passage is and what it says: the citation key."""
    key = f"{doc_id}\x1f{kind}\x1f{comment_index}\x1f{start}\x1f{text}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def chunk_document(
    doc: Document, count: CountTokens, max_tokens: int, target: int = 200, overlap: int = 30
) -> list[Chunk]:
    """All passages of a document: its body, then each comment on its own."""
    parts: list[tuple[Kind, str, str | None, int | None, str | None]] = [
        ("article", doc.body, doc.author, None, doc.published_at)
    ]
    parts += [("comment", c.text, c.author, i, c.date or doc.published_at) for i, c in enumerate(doc.comments)]
    chunks = []
    for kind, text, author, index, date in parts:
        if not text.strip():
            continue
        header = make_header(doc, count, commenter=author if kind == "comment" else None)
        budget = max_tokens - SPECIAL_TOKENS - count([header])[0]
        for start, end in pack_spans(text, count, budget, target, overlap):
            passage = text[start:end]
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc.doc_id, kind, index, start, passage),
                    doc_id=doc.doc_id, kind=kind, text=passage, header=header,
                    start=start, end=end, title=doc.title, author=author,
                    published_at=date, comment_index=index,
                )
            )
    return chunks


def sentence_spans(chunk: Chunk) -> list[tuple[int, int]]:
    """The chunk's sentences as character spans of `chunk.indexed_text` (the header left out):
    what its sentence vectors are pooled over."""
    base = len(chunk.header) + 1
    return [(base + start, base + end) for start, end in split_sentences(chunk.text)]
