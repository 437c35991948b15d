"""The data that flows through the pipeline: Document → Chunk → Hit → Answer(Citation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["article", "comment"]
KINDS: tuple[Kind, ...] = ("article", "comment")


@dataclass(frozen=True)
class Comment:
    """A reader comment under an article: opinion, not reporting."""

    author: str
    text: str
    date: str | None = None


@dataclass(frozen=True)
class Document:
    """One archive item: an article body and the reader comments under it."""

    doc_id: str
    title: str
    body: str
    source: str | None = None  # outlet name
    url: str | None = None
    author: str | None = None
    published_at: str | None = None  # ISO date (YYYY-MM-DD...) when known
    category: str | None = None
    path: str | None = None  # file it was read from
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A passage of a document's body or of one comment.

    `start`/`end` are character offsets into the body (kind="article") or into the text of
    comment number `comment_index` (kind="comment"); `text` is exactly that slice.
    `header` is prepended for embedding and lexical indexing only, never shown as the passage.
    """

    chunk_id: str
    doc_id: str
    kind: Kind
    text: str
    header: str
    start: int
    end: int
    title: str
    author: str | None = None  # article author, or the commenter for comments
    published_at: str | None = None
    comment_index: int | None = None

    @property
    def indexed_text(self) -> str:
        return f"{self.header}\n{self.text}"


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the scores it was fused from."""

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    lexical_score: float | None = None
    source: str | None = None
    url: str | None = None
    path: str | None = None
    # the chunk's stored sentence vectors (float16, one per sentence of `chunk.text`), when the index has them
    sentences: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Citation:
    """A numbered source behind an answer: `[n]` in the answer text points here."""

    n: int
    hit: Hit
    used_sentences: tuple[tuple[int, int], ...] = ()  # char spans within hit.chunk.text

    @property
    def label(self) -> str:
        c = self.hit.chunk
        if c.kind == "comment":
            return f"Reader comment by {c.author or 'anonymous'} on “{c.title}”"
        return f"Article “{c.title}”" + (f" by {c.author}" if c.author else "")


@dataclass(frozen=True)
class TimelinePoint:
    """One dated point of an answer's timeline, for the page's picture: `day` is the event's ISO date
    (YYYY-MM-DD), `what` a short quoted clause, `n` the citation it comes from, `holder` who holds the
    subject from that day on (a who-holds answer) or None (any other event)."""

    day: str
    what: str
    n: int
    holder: str | None = None


@dataclass(frozen=True)
class Answer:
    """`marks` are the `[n]` markers the answerer wrote, as (start, end, n) spans of `text`; None when
    the answerer did not say (an LLM's reply: every small bracketed number in it is read as a marker).
    `quoted` are the spans of `text` copied from the archive (quotes, names, titles): a `[1]` inside
    one is the archive's text, never a citation, and the page isolates each from its neighbours.
    `direct` is the short answer phrase the answer opens with ("Reuters [1]."), when the answerer gave
    one; None when it leads with a quoted sentence, abstains, or did not say (an LLM's reply).
    `timeline` holds the dated points a timeline or who-holds answer is built from, oldest first."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    abstained: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    marks: tuple[tuple[int, int, int], ...] | None = None
    quoted: tuple[tuple[int, int], ...] = ()
    direct: str | None = None
    timeline: tuple[TimelinePoint, ...] = ()
