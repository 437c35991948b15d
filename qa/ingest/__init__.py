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
MAX_DOCUMENT_CHARS = 5_000_000  # body and comments together; the longest real articles are ~100k


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
    """Absolute paths of the files to read: `Document.path` must name a file wherever the
    command runs, so that `qa index update --prune` can tell which documents lost their source."""
    for path in paths:
        if not path.exists():
            raise IngestError(f"No such file or folder: {path}")
        path = path.resolve()
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
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte {exc.start}); convert it, e.g. "
                         f"iconv -f WINDOWS-1252 -t UTF-8") from None
    head = text[:8192]
    if sum(ch < " " and ch not in "\t\n\r\f\v" for ch in head) > len(head) // 100:
        raise ValueError("binary file (control characters)")
    return text


def fingerprint(doc: Document) -> str:
    """What a document says, whatever its id and file: equal fingerprints mean duplicate documents."""
    parts = [doc.title, doc.body, *(f"{c.author}\x1f{c.text}\x1f{c.date}" for c in doc.comments),
             *(str(v) for v in (doc.source, doc.url, doc.author, doc.published_at, doc.category))]
    return hashlib.sha1("\x1e".join(parts).encode("utf-8")).hexdigest()


def _size(doc: Document) -> int:
    return len(doc.title) + len(doc.body) + sum(len(c.text) for c in doc.comments)


class _Seen:
    """Ids and contents met so far: a repeated content is a duplicate; a repeated id with other
    content gets an id derived from its file and content, so it is the same on every run."""

    def __init__(self, known: Iterable[Document]) -> None:
        self.ids: dict[str, str] = {}
        self.contents: dict[str, str] = {}
        for doc in known:
            self.add(doc.doc_id, fingerprint(doc))

    def add(self, doc_id: str, content: str) -> None:
        self.ids[doc_id] = content
        self.contents.setdefault(content, doc_id)

    def admit(self, doc: Document, path: Path) -> Document | str:
        """The document to index (perhaps renamed), or why it is a duplicate."""
        content = fingerprint(doc)
        if content in self.contents:
            return f"duplicate of document {self.contents[content]}"
        base, salt = doc.doc_id, ""
        while doc.doc_id in self.ids:
            suffix = hashlib.sha1(f"{path}\x1f{content}{salt}".encode()).hexdigest()[:8]
            doc, salt = Document(**{**doc.__dict__, "doc_id": f"{base}-{suffix}"}), salt + "+"
        self.add(doc.doc_id, content)
        return doc


def iter_documents(paths: Iterable[Path], skipped: list[Skipped], known: Iterable[Document] = ()) -> Iterator[Document]:
    """Documents from files and folders (walked recursively, hidden files ignored).

    Unreadable files and records, over-long documents and duplicates are appended to `skipped`
    with the reason. A document with the content of one already met (in these files or in
    `known`) is a duplicate; one with a known id but other content gets a path-derived id.
    """
    seen = _Seen(known)
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
        if not items:
            skipped.append(Skipped(str(path), "no documents in this file"))
        for n, item in enumerate(items, start=1):
            where = str(path) if len(items) == 1 else f"{path}:document {n}"
            if isinstance(item, RecordError):
                skipped.append(Skipped(f"{path}:{item.where}", item.reason))
            elif _size(item) > MAX_DOCUMENT_CHARS:
                skipped.append(Skipped(where, f"document {item.doc_id} is {_size(item):,} characters long, "
                                              f"over the {MAX_DOCUMENT_CHARS:,} limit; split it"))
            elif isinstance(admitted := seen.admit(item, path), str):
                skipped.append(Skipped(where, admitted))
            else:
                yield admitted
