"""Read archive files into `Document`s: one reader per format, chosen by file extension.

A file or record that cannot be read is reported (path, line, reason) and skipped; the rest goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.errors import IngestError
from qa.ingest.page import parse_page
from qa.ingest.records import RecordError, read_json, read_jsonl
from qa.types import Document

MAX_FILE_BYTES = {".txt": 5 * 2**20}  # larger "pages" are not pages; JSON corpora may be big
DEFAULT_MAX_FILE_BYTES = 2 * 2**30


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _read_page(text: str, path: Path) -> Iterator[Document | RecordError]:
    yield parse_page(text, doc_id=path.stem, path=str(path))


Reader = Callable[[str, Path], Iterable["Document | RecordError"]]
READERS: dict[str, Reader] = {
    ".txt": _read_page,
    ".json": lambda text, path: read_json(text, str(path)),
    ".jsonl": lambda text, path: read_jsonl(text, str(path)),
    ".ndjson": lambda text, path: read_jsonl(text, str(path)),
}


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if not path.exists():
            raise IngestError(f"No such file or folder: {path}")
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            yield path


def _decode(path: Path) -> str:
    """File text, or ValueError saying why it is not readable text."""
    limit = MAX_FILE_BYTES.get(path.suffix.lower(), DEFAULT_MAX_FILE_BYTES)
    size = path.stat().st_size
    if size > limit:
        raise ValueError(f"file is {size / 2**20:.1f} MiB, over the {limit / 2**20:.0f} MiB limit "
                         f"for {path.suffix} files")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte {exc.start})") from None


def _fingerprint(doc: Document) -> str:
    parts = [doc.title, doc.body, *(f"{c.author}\x1f{c.text}" for c in doc.comments)]
    return hashlib.sha1("\x1e".join(parts).encode("utf-8")).hexdigest()


def iter_documents(paths: Iterable[Path], skipped: list[Skipped]) -> Iterator[Document]:
    """Documents from files and folders (walked recursively, hidden files ignored).

    Unreadable files and records are appended to `skipped`. A document whose id was already
    seen is skipped when its content is the same, and given a path-derived id when it is not.
    """
    seen: dict[str, str] = {}
    for path in _files(paths):
        reader = READERS.get(path.suffix.lower())
        if reader is None:
            skipped.append(Skipped(str(path), f"unsupported file type {path.suffix or '(none)'}; "
                                              f"readable: {', '.join(READERS)}"))
            continue
        try:
            items = list(reader(_decode(path), path))
        except (ValueError, RecursionError, OSError) as exc:
            reason = "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            skipped.append(Skipped(str(path), reason))
            continue
        for item in items:
            if isinstance(item, RecordError):
                skipped.append(Skipped(f"{path}:{item.where}", item.reason))
                continue
            fingerprint = _fingerprint(item)
            if item.doc_id in seen:
                if seen[item.doc_id] == fingerprint:
                    skipped.append(Skipped(str(path), f"duplicate of document {item.doc_id}"))
                    continue
                suffix = hashlib.sha1(str(path).encode()).hexdigest()[:6]
                item = Document(**{**item.__dict__, "doc_id": f"{item.doc_id}-{suffix}"})
            seen[item.doc_id] = fingerprint
            yield item
