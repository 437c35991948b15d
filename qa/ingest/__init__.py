"""Read archive files into `Document`s: one reader per format, chosen by file extension.

A file or record that cannot be read is reported (path, line, reason) and skipped; the rest goes on.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.errors import IngestError
from qa.ingest.page import parse_page
from qa.ingest.records import RecordError, read_json, read_jsonl
from qa.types import Document

# Larger "pages" are not pages (a saved page may hold inline images: its markup without them is
# held to 5 MiB in qa.ingest.html); JSON corpora may be big; WordPress exports are streamed.
MAX_FILE_BYTES = {".txt": 5 * 2**20, ".html": 64 * 2**20, ".htm": 64 * 2**20}
DEFAULT_MAX_FILE_BYTES = 2 * 2**30
MAX_DOCUMENT_CHARS = 5_000_000  # body and comments together; the longest real articles are ~100k
MAX_SKIPS_PER_FILE = 100  # skipped records said one by one; the rest of a file's are counted in one line


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    count: int = 1  # records this line stands for ("… and 5,242,780 more records skipped": that many)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _read_page(path: Path) -> Iterator[Document | RecordError]:
    yield parse_page(_decode(path), doc_id=path.stem, path=str(path))


def _read_html(path: Path) -> Iterator[Document | RecordError]:
    from qa.ingest.html import decode_html, parse_html

    _check_size(path)
    yield parse_html(decode_html(path.read_bytes()), doc_id=path.stem, path=str(path))


def _read_wxr(path: Path) -> Iterable[Document | RecordError]:
    from qa.ingest.wxr import read_wxr

    return read_wxr(path)


Reader = Callable[[Path], Iterable["Document | RecordError"]]
READERS: dict[str, Reader] = {
    ".txt": _read_page,
    ".json": lambda path: read_json(_decode(path), str(path)),
    ".jsonl": lambda path: read_jsonl(_decode(path), str(path)),
    ".ndjson": lambda path: read_jsonl(_decode(path), str(path)),
    ".html": _read_html,
    ".htm": _read_html,
    ".xml": _read_wxr,
}
STREAMED = {".xml"}  # read as they come: a fault midway keeps the documents before it
FORMATS = {".txt": "text", ".json": "JSON", ".jsonl": "JSON Lines", ".ndjson": "JSON Lines",
           ".html": "HTML", ".htm": "HTML", ".xml": "WordPress export"}


def count_skipped(skipped: Iterable[Skipped]) -> int:
    """Files and records skipped, a capped file's unlisted records included."""
    return sum(s.count for s in skipped)


def count_formats(docs: Iterable[Document]) -> dict[str, int]:
    """Documents per source format, by their file's extension: `{'text': 12, 'HTML': 3}`."""
    counts: dict[str, int] = {}
    for doc in docs:
        name = FORMATS.get(Path(doc.path or "").suffix.lower(), "other")
        counts[name] = counts.get(name, 0) + 1
    return counts


def archive_bytes(paths: Iterable[Path], follow_links: bool = False) -> int:
    """The size of the files `iter_documents` would read under `paths` (IngestError for a missing path)."""
    total = 0
    for path in _files(paths, follow_links):
        try:
            total += path.stat().st_size
        except OSError:
            continue  # reading it says what is wrong
    return total


def _files(paths: Iterable[Path], follow_links: bool = False,
           skipped: list[Skipped] | None = None) -> Iterator[Path]:
    """Absolute paths of the files to read: `Document.path` must name a file wherever the
    command runs, so that `qa index update --prune` can tell which documents lost their source."""
    for path in paths:
        if not path.exists():
            raise IngestError(f"No such file or folder: {path}")
        path = path.resolve()
        if path.is_dir():
            yield from _walk(path, follow_links, [] if skipped is None else skipped)
        else:
            yield path


def _walk(root: Path, follow_links: bool, skipped: list[Skipped]) -> list[Path]:
    """The files under `root`, hidden ones left out, sorted. A link whose real path leaves `root`
    (a planted `story.txt -> /etc/passwd`) is skipped with the reason unless `follow_links`; a link to a
    folder inside `root` is not walked twice; with `follow_links`, a folder met again is not re-entered."""
    found: list[Path] = []
    entered = {root}
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            skipped.append(Skipped(str(folder), f"cannot be listed ({exc.strerror or exc})"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                try:
                    real = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    skipped.append(Skipped(str(path), "a link that leads to no file"))
                    continue
                if not follow_links and not real.is_relative_to(root):
                    skipped.append(Skipped(str(path), f"a link to {real}, outside the archive folder {root}; "
                                                      "not read (--follow-links reads such links)"))
                    continue
                if real.is_dir():
                    if follow_links and real not in entered:
                        entered.add(real)
                        folders.append(path)
                elif real.is_file():
                    found.append(path)
            elif entry.is_dir(follow_symlinks=False):
                if follow_links:
                    entered.add(path.resolve())
                folders.append(path)
            elif entry.is_file(follow_symlinks=False):
                found.append(path)
    return sorted(found)


def _check_size(path: Path) -> None:
    limit = MAX_FILE_BYTES.get(path.suffix.lower(), DEFAULT_MAX_FILE_BYTES)
    size = path.stat().st_size
    if size > limit:
        raise ValueError(f"file is {size / 2**20:.1f} MiB, over the {limit / 2**20:.0f} MiB limit "
                         f"for {path.suffix} files")


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _bom_encoding(data: bytes) -> str | None:
    """The encoding a UTF-16 or UTF-32 byte-order mark names (Python's codec reads the mark too)."""
    return next((name for mark, name in _BOMS if data.startswith(mark)), None)


def _nul_reason(data: bytes) -> str:
    """Why a file with NUL bytes is not read: UTF-16 without a byte-order mark is named as such."""
    head = data[:8192]
    for name, zeros in (("UTF-16LE", head[1::2]), ("UTF-16BE", head[0::2])):
        if len(zeros) > 8 and zeros.count(0) > 0.9 * len(zeros):
            return f"looks like {name} text without a byte-order mark; convert it: iconv -f {name} -t UTF-8"
    return "binary file (contains NUL bytes)"


def _decode(path: Path) -> str:
    """File text, or ValueError saying why it is not readable text."""
    _check_size(path)
    data = path.read_bytes()
    encoding = _bom_encoding(data)
    if encoding is None and b"\x00" in data[:8192]:
        raise ValueError(_nul_reason(data))
    try:
        text = data.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        if encoding:
            raise ValueError(f"not valid {encoding.upper()} (byte {exc.start}), as its byte-order mark says; "
                             f"convert it, e.g. iconv -f {encoding.upper()} -t UTF-8") from None
        raise ValueError(f"not valid UTF-8 (byte {exc.start}); convert it, e.g. "
                         f"iconv -f WINDOWS-1252 -t UTF-8") from None
    head = text[:8192]
    if sum(ch < " " and ch not in "\t\n\r\f\v" for ch in head) > len(head) // 100:
        raise ValueError("binary file (control characters)")
    return text


def document_hash(doc: Document) -> str:
    """What a document says, whatever its id and file: equal hashes mean duplicate documents.
    ("fingerprint" is the embedding model's weights hash, `Embedder.fingerprint`.)"""
    parts = [doc.title, doc.body, *(f"{c.author}\x1f{c.text}\x1f{c.date}" for c in doc.comments),
             *(str(v) for v in (doc.source, doc.url, doc.author, doc.published_at, doc.category))]
    return hashlib.sha1("\x1e".join(parts).encode("utf-8")).hexdigest()


def _size(doc: Document) -> int:
    return len(doc.title) + len(doc.body) + sum(len(c.text) for c in doc.comments)


def _url_key(url: str | None) -> str | None:
    """One article's address however it was saved: `'https://www.X.example/a/?utm_source=rss#c'`
    and `'http://x.example/a'` -> `'x.example/a'`."""
    if not url or "://" not in url:
        return None
    rest = url.split("://", 1)[1].split("#", 1)[0]
    address, _, query = rest.partition("?")
    host, _, where = address.partition("/")
    kept = "&".join(q for q in query.split("&") if q and not q.lower().startswith("utm_"))
    return host.lower().removeprefix("www.") + "/" + where.rstrip("/") + (f"?{kept}" if kept else "")


class _Seen:
    """Ids, contents and addresses met so far: a repeated content, or a repeated URL (the same
    article saved as a page and exported, or mirrored twice), is a duplicate; a repeated id with
    other content gets an id derived from its file and content, so it is the same on every run."""

    def __init__(self, known: Iterable[Document]) -> None:
        self.ids: dict[str, str] = {}
        self.contents: dict[str, str] = {}
        self.urls: dict[str, str] = {}
        for doc in known:
            self.add(doc, document_hash(doc))

    def add(self, doc: Document, content: str) -> None:
        self.ids[doc.doc_id] = content
        self.contents.setdefault(content, doc.doc_id)
        if key := _url_key(doc.url):
            self.urls.setdefault(key, doc.doc_id)

    def admit(self, doc: Document, path: Path) -> Document | str:
        """The document to index (perhaps renamed), or why it is a duplicate."""
        content = document_hash(doc)
        if content in self.contents:
            return f"duplicate of document {self.contents[content]}"
        if (key := _url_key(doc.url)) and key in self.urls:
            return f"duplicate of document {self.urls[key]} (the same URL, {doc.url})"
        base, salt = doc.doc_id, ""
        while doc.doc_id in self.ids:
            suffix = hashlib.sha1(f"{path}\x1f{content}{salt}".encode()).hexdigest()[:8]
            doc, salt = Document(**{**doc.__dict__, "doc_id": f"{base}-{suffix}"}), salt + "+"
        self.add(doc, content)
        return doc


def iter_documents(paths: Iterable[Path], skipped: list[Skipped], known: Iterable[Document] = (),
                   follow_links: bool = False) -> Iterator[Document]:
    """Documents from files and folders (walked recursively, hidden files ignored; links leading
    out of the folder skipped unless `follow_links`).

    Unreadable files and records, over-long documents and duplicates are appended to `skipped`
    with the reason. A document with the content of one already met (in these files or in
    `known`) is a duplicate; one with a known id but other content gets a path-derived id.
    """
    seen = _Seen(known)
    for path in _files(paths, follow_links, skipped):
        reader = READERS.get(path.suffix.lower())
        if reader is None:
            skipped.append(Skipped(str(path), f"unsupported file type {path.suffix or '(none)'}; "
                                              f"readable: {', '.join(READERS)}"))
            continue
        streamed = path.suffix.lower() in STREAMED
        read, reports = 0, _Reports(str(path), skipped)
        try:
            items: Iterable[tuple[int, Document | RecordError]] = enumerate(reader(path), start=1)
            if not streamed:
                items = _gather(items, reports)  # a file that fails is skipped whole
            single = isinstance(items, list) and len(items) == 1 and not reports.count
            for read, item in items:
                outcome = _admit(item, path, read, single, seen)
                if isinstance(outcome, Skipped):
                    reports.add(outcome)
                else:
                    yield outcome
        except (ValueError, RecursionError, OSError) as exc:
            reason = "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            if read:
                reason += f"; the {read} items before it were read" if read > 1 else "; the item before it was read"
            reports.close()
            skipped.append(Skipped(str(path), reason))
            continue
        reports.close()
        if not read:
            skipped.append(Skipped(str(path), "no documents in this file"))


class _Reports:
    """A file's skipped records: the first `MAX_SKIPS_PER_FILE` said one by one, the rest counted
    (a 10 MB file of five million bad records is one line more, not five million)."""

    def __init__(self, path: str, skipped: list[Skipped]) -> None:
        self.path, self.skipped, self.count = path, skipped, 0

    def add(self, item: Skipped) -> None:
        self.count += 1
        if self.count <= MAX_SKIPS_PER_FILE:
            self.skipped.append(item)

    def close(self) -> None:
        if self.count > MAX_SKIPS_PER_FILE:
            more = self.count - MAX_SKIPS_PER_FILE
            self.skipped.append(Skipped(self.path, f"… and {more:,} more record{'s' if more > 1 else ''} skipped",
                                        count=more))


def _gather(items: Iterable[tuple[int, Document | RecordError]],
            reports: _Reports) -> list[tuple[int, Document | RecordError]]:
    """A whole file's records read before any is admitted; bad ones go to `reports` as they come,
    so that they are not all held at once."""
    kept: list[tuple[int, Document | RecordError]] = []
    held: list[Skipped] = []
    extra = 0
    for n, item in items:
        if isinstance(item, RecordError):
            if len(held) < MAX_SKIPS_PER_FILE:
                held.append(Skipped(f"{reports.path}:{item.where}", item.reason))
            else:
                extra += 1
        else:
            kept.append((n, item))
    for report in held:  # the file was read to its end: now its reports count
        reports.add(report)
    reports.count += extra
    return kept


def _admit(item: Document | RecordError, path: Path, n: int, single: bool, seen: _Seen) -> Document | Skipped:
    """The document to index, or why it is skipped."""
    where = str(path) if single else f"{path}:document {n}"
    if isinstance(item, RecordError):
        return Skipped(f"{path}:{item.where}", item.reason)
    if _size(item) > MAX_DOCUMENT_CHARS:
        return Skipped(where, f"document {item.doc_id} is {_size(item):,} characters long, "
                              f"over the {MAX_DOCUMENT_CHARS:,} limit; split it")
    admitted = seen.admit(item, path)
    return Skipped(where, admitted) if isinstance(admitted, str) else admitted
