"""JSON arrays and JSON Lines of articles: `title`, `body`/`text`/`content`, optional metadata and comments."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from qa.dates import parse_date
from qa.types import Comment, Document

_BODY_FIELDS = ("body", "text", "content")
_LIST_KEYS = ("documents", "articles", "data", "items")


class RecordError(ValueError):
    """One record is unusable; `where` says which (record number or line)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def _text_field(record: dict[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(f"field {name!r} must be text, not {type(value).__name__}")
    return str(value).strip() or None


def _comments(raw: Any) -> tuple[Comment, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError("field 'comments' must be a list")
    comments = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValueError(f"comment {i + 1} must be an object with author and text")
        text = _text_field(item, "text") or _text_field(item, "body")
        if text:
            author = _text_field(item, "author") or _text_field(item, "name") or "anonymous"
            comments.append(Comment(author=author, text=text, date=parse_date(_text_field(item, "date"))))
    return tuple(comments)


def record_to_document(record: Any, path: str) -> Document:
    """Validate one article record. Raises ValueError with the reason."""
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, got {type(record).__name__}")
    body = next((b for f in _BODY_FIELDS if (b := _text_field(record, f))), "")
    comments = _comments(record.get("comments"))
    title = _text_field(record, "title")
    if not title:
        raise ValueError("no 'title'")
    if not body and not comments:
        raise ValueError("no 'body', 'text' or 'content', and no comments")
    url = _text_field(record, "url")
    date = parse_date(_text_field(record, "published_at") or _text_field(record, "date"))
    doc_id = _text_field(record, "id") or hashlib.sha1(
        (url or f"{title}\x1f{date}").encode("utf-8")
    ).hexdigest()[:16]
    return Document(
        doc_id=doc_id,
        title=title,
        body=body,
        source=_text_field(record, "source"),
        url=url,
        author=_text_field(record, "author"),
        published_at=date,
        category=_text_field(record, "category"),
        path=path,
        comments=comments,
    )


def read_json(text: str, path: str) -> Iterator[Document | RecordError]:
    """A JSON array of records (or an object holding one). Bad records come back as RecordError;
    a file that is not such JSON raises ValueError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if isinstance(data, dict):
        data = next((data[k] for k in _LIST_KEYS if isinstance(data.get(k), list)), [data])
    if not isinstance(data, list):
        raise ValueError(f"expected a list of articles, got {type(data).__name__}")
    for i, record in enumerate(data):
        try:
            yield record_to_document(record, path)
        except ValueError as exc:
            yield RecordError(f"record {i + 1}", str(exc))


def read_jsonl(text: str, path: str) -> Iterator[Document | RecordError]:
    """One record per line; a malformed line is reported with its number and skipped."""
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield record_to_document(json.loads(line), path)
        except (ValueError, RecursionError) as exc:
            reason = (f"invalid JSON: {exc}" if isinstance(exc, json.JSONDecodeError)
                      else "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc))
            yield RecordError(f"line {n}", reason)
