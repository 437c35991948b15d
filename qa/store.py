"""The index folder: SQLite (documents, chunks), FAISS (vectors), BM25 (lexical), manifest.json.

Layout: `DIR/CURRENT` names the live build folder `DIR/build-*`. A build is written to a
`.tmp` folder, renamed when complete, and made live by atomically replacing `CURRENT`; a crash at
any point leaves the previous build live. Loading checks the manifest (format, model, dimension,
file sizes and hashes) before any file reaches SQLite or FAISS.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from qa import __version__
from qa.dates import ordinal
from qa.errors import IndexCorrupt, IndexLocked, IndexMismatch, IndexNotFound, QAError
from qa.lexical import BM25Index
from qa.types import KINDS, Chunk, Comment, Document

FORMAT = "archive-qa-index"
FORMAT_VERSION = 1
HNSW_ABOVE = 200_000  # chunks; below this an exact flat index is fast enough
FILES = ("chunks.sqlite", "vectors.faiss", "lexical.npz")

SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
  source TEXT, url TEXT, author TEXT, published_at TEXT, category TEXT, path TEXT);
CREATE TABLE comments (doc_id TEXT NOT NULL, idx INTEGER NOT NULL, author TEXT NOT NULL,
  text TEXT NOT NULL, date TEXT, PRIMARY KEY (doc_id, idx));
CREATE TABLE chunks (row INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
  kind TEXT NOT NULL, comment_index INTEGER, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
  text TEXT NOT NULL, header TEXT NOT NULL, title TEXT NOT NULL, author TEXT, published_at TEXT,
  content_hash TEXT NOT NULL);
CREATE INDEX chunks_doc ON chunks (doc_id);
"""
_CHUNK_COLS = 'chunk_id, doc_id, kind, text, header, start, "end", title, author, published_at, comment_index'


def content_hash(model_id: str, chunk: Chunk) -> str:
    """What a vector depends on: the model and the exact text embedded."""
    return hashlib.sha1(f"{model_id}\x1f{chunk.indexed_text}".encode()).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def live_build(index_dir: Path) -> Path | None:
    """The folder `CURRENT` points at, or None when there is no index here."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    if not name.startswith("build-") or "/" in name:
        raise IndexCorrupt(f"{pointer} is damaged. Rebuild: qa index build PATH --index {index_dir}")
    return index_dir / name


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer per index folder; the lock dies with its process, SIGKILL included."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown process"
            raise IndexLocked(
                f"Another process is writing to {index_dir} ({holder}). "
                "Wait for it to finish, or stop it, then run this again."
            ) from None
        info = f"pid {os.getpid()} on {socket.gethostname()} since " \
               f"{datetime.now().isoformat(timespec='seconds')}: {' '.join(sys.argv[:4])}"
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode(), 0)
        yield
    finally:
        os.close(fd)


def remove_stale_builds(index_dir: Path) -> None:
    """Delete unfinished builds and all finished ones but the live one and the one before it
    (a server may still be reading that one)."""
    live = live_build(index_dir)
    builds = sorted(p for p in index_dir.glob("build-*") if p.is_dir() and p != live)
    keep = [p for p in builds if not p.name.endswith(".tmp")][-1:]
    for path in builds:
        if path not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _write_sqlite(path: Path, documents: Sequence[Document], chunks: Sequence[Chunk], hashes: Sequence[str]) -> None:
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
            [(d.doc_id, d.title, d.body, d.source, d.url, d.author, d.published_at, d.category, d.path)
             for d in documents],
        )
        con.executemany(
            "INSERT INTO comments VALUES (?,?,?,?,?)",
            [(d.doc_id, i, c.author, c.text, c.date) for d in documents for i, c in enumerate(d.comments)],
        )
        con.executemany(
            f"INSERT INTO chunks (row, {_CHUNK_COLS}, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(row, c.chunk_id, c.doc_id, c.kind, c.text, c.header, c.start, c.end, c.title, c.author,
              c.published_at, c.comment_index, h) for row, (c, h) in enumerate(zip(chunks, hashes))],
        )
        con.commit()
    finally:
        con.close()


def _vector_index(vectors: np.ndarray) -> Any:
    import faiss

    dim = vectors.shape[1]
    index: Any
    if len(vectors) > HNSW_ABOVE:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def write_index(
    index_dir: Path, documents: Sequence[Document], chunks: Sequence[Chunk], vectors: np.ndarray,
    manifest: dict[str, Any],
) -> Path:
    """Write a complete build beside the live one and swap it in. Call under `writer_lock`.

    `manifest` carries model and chunking facts; counts, files and versions are added here.
    """
    import faiss

    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = index_dir / f"build-{stamp}"
    tmp = index_dir / f"build-{stamp}.tmp"
    tmp.mkdir(parents=True)
    hashes = [content_hash(manifest["model"]["id"], c) for c in chunks]
    _write_sqlite(tmp / "chunks.sqlite", documents, chunks, hashes)
    vindex = _vector_index(vectors)
    faiss.write_index(vindex, str(tmp / "vectors.faiss"))
    BM25Index.build(c.indexed_text for c in chunks).save(tmp / "lexical.npz")
    n_comment_chunks = sum(c.kind == "comment" for c in chunks)
    full = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **manifest,
        "vector_index": type(vindex).__name__,
        "counts": {
            "documents": len(documents), "comments": sum(len(d.comments) for d in documents),
            "chunks": len(chunks), "article_chunks": len(chunks) - n_comment_chunks,
            "comment_chunks": n_comment_chunks, **manifest.get("counts", {}),
        },
        "files": {name: {"bytes": (tmp / name).stat().st_size, "sha256": _sha256(tmp / name)}
                  for name in FILES},
    }
    (tmp / "manifest.json").write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    for name in (*FILES, "manifest.json"):
        with open(tmp / name, "rb") as f:
            os.fsync(f.fileno())
    _fsync_dir(tmp)
    os.rename(tmp, final)
    pointer_tmp = index_dir / "CURRENT.tmp"
    pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
    with open(pointer_tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    remove_stale_builds(index_dir)
    return final


def _rebuild_hint(index_dir: Path) -> str:
    return f"Rebuild it: qa index build PATH... --index {index_dir}"


def read_manifest(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    build = live_build(index_dir)
    if build is None:
        raise IndexNotFound(
            f"No index at {index_dir}. Build one: qa index build PATH... --index {index_dir}"
        )
    path = build / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["model"]["id"], manifest["model"]["dim"], manifest["files"]  # noqa: B018
    except FileNotFoundError:
        raise IndexCorrupt(f"{path} is missing. {_rebuild_hint(index_dir)}") from None
    except (ValueError, KeyError, TypeError):
        raise IndexCorrupt(f"{path} is damaged or edited. {_rebuild_hint(index_dir)}") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"{index_dir} holds index format {manifest.get('format_version')!r}; this version of "
            f"archive-qa reads format {FORMAT_VERSION}. {_rebuild_hint(index_dir)}"
        )
    return build, manifest


def _check_files(build: Path, manifest: dict[str, Any], index_dir: Path) -> None:
    for name in FILES:
        path = build / name
        expected = manifest["files"].get(name, {})
        if not path.is_file():
            raise IndexCorrupt(f"{path} is missing. {_rebuild_hint(index_dir)}")
        if path.stat().st_size != expected.get("bytes") or _sha256(path) != expected.get("sha256"):
            raise IndexCorrupt(f"{path} is damaged (size or checksum differs from the manifest). "
                               f"{_rebuild_hint(index_dir)}")


@dataclass
class Index:
    """A loaded build: vectors and postings in memory, passages read from SQLite on demand."""

    index_dir: Path
    build: Path
    manifest: dict[str, Any]
    vectors: Any  # faiss.Index
    lexical: BM25Index
    kinds: np.ndarray  # uint8 per row: position in KINDS
    doc_rows: np.ndarray  # int32 per row: document number, for per-document caps
    days: np.ndarray  # int32 per row: date ordinal, -1 when undated
    sources: np.ndarray  # int32 per row: position in source_names, -1 when the outlet is unknown
    source_names: list[str]
    _con: sqlite3.Connection
    _lock: threading.Lock

    def __len__(self) -> int:
        return len(self.kinds)

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        if not len(rows):
            return []
        marks = ",".join("?" * len(rows))
        with self._lock:
            found = {r[0]: Chunk(*r[1:]) for r in self._con.execute(
                f"SELECT row, {_CHUNK_COLS} FROM chunks WHERE row IN ({marks})", [int(r) for r in rows])}
        return [found[int(r)] for r in rows]

    def documents(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        marks = ",".join("?" * len(doc_ids))
        with self._lock:
            docs = self._con.execute(
                f"SELECT doc_id, title, body, source, url, author, published_at, category, path "
                f"FROM documents WHERE doc_id IN ({marks})", list(doc_ids)).fetchall()
            comments = self._con.execute(
                f"SELECT doc_id, author, text, date FROM comments WHERE doc_id IN ({marks}) "
                f"ORDER BY doc_id, idx", list(doc_ids)).fetchall()
        by_doc: dict[str, list[Comment]] = {}
        for doc_id, author, text, day in comments:
            by_doc.setdefault(doc_id, []).append(Comment(author, text, day))
        names = ("doc_id", "title", "body", "source", "url", "author", "published_at", "category", "path")
        return {d[0]: Document(**dict(zip(names, d)), comments=tuple(by_doc.get(d[0], ()))) for d in docs}

    def all_chunks(self) -> Iterator[tuple[Chunk, str]]:
        with self._lock:
            rows = self._con.execute(f"SELECT {_CHUNK_COLS}, content_hash FROM chunks ORDER BY row").fetchall()
        for r in rows:
            yield Chunk(*r[:-1]), r[-1]

    def close(self) -> None:
        self._con.close()


def stored_vectors(index_dir: Path, model_id: str, fingerprint: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """Vectors the live build already holds for these content hashes, so a rebuild can skip
    re-embedding them. Reads only SQLite and FAISS; any problem means "none": embed everything."""
    import faiss

    try:
        build, manifest = read_manifest(index_dir)
        if (manifest["model"]["id"], manifest["model"].get("fingerprint", "")) != (model_id, fingerprint):
            return {}
        _check_files(build, manifest, index_dir)
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        con = sqlite3.connect(f"file:{build / 'chunks.sqlite'}?mode=ro", uri=True)
    except (QAError, RuntimeError, OSError, sqlite3.DatabaseError):
        return {}
    found: dict[str, np.ndarray] = {}
    try:
        for i in range(0, len(hashes), 900):
            part = list(hashes[i:i + 900])
            for h, row in con.execute(
                f"SELECT content_hash, row FROM chunks WHERE content_hash IN ({','.join('?' * len(part))})", part
            ):
                found[h] = np.asarray(vectors.reconstruct(int(row)), dtype=np.float32)
    except sqlite3.DatabaseError:
        return {}
    finally:
        con.close()
    return found


def open_index(index_dir: Path, model_id: str | None = None, dim: int | None = None,
               fingerprint: str | None = None) -> Index:
    """Load the live build, refusing one that another model, dimension or format made."""
    import faiss

    build, manifest = read_manifest(index_dir)
    model = manifest["model"]
    if model_id is not None and model["id"] != model_id:
        raise IndexMismatch(
            f"{index_dir} was built with model {model['id']!r}, but the settings ask for {model_id!r}. "
            f"Use the same model (--model / QA_MODEL), or rebuild: qa index build PATH... --index {index_dir}"
        )
    if dim is not None and model["dim"] != dim:
        raise IndexMismatch(f"{index_dir} holds {model['dim']}-d vectors; the model makes {dim}-d. "
                            f"{_rebuild_hint(index_dir)}")
    if fingerprint and model.get("fingerprint") and model["fingerprint"] != fingerprint:
        raise IndexMismatch(f"{index_dir} was built with other weights of {model['id']!r}. "
                            f"{_rebuild_hint(index_dir)}")
    _check_files(build, manifest, index_dir)
    try:
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        lexical = BM25Index.load(build / "lexical.npz")
        con = sqlite3.connect(f"file:{build / 'chunks.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        meta = con.execute("SELECT c.kind, c.doc_id, c.published_at, d.source FROM chunks c "
                           "JOIN documents d ON d.doc_id = c.doc_id ORDER BY c.row").fetchall()
    except (RuntimeError, ValueError, OSError, sqlite3.DatabaseError) as exc:
        raise IndexCorrupt(f"{build} cannot be read ({exc}). {_rebuild_hint(index_dir)}") from None
    n = manifest["counts"]["chunks"]
    if vectors.ntotal != n or lexical.n_docs != n or len(meta) != n or vectors.d != model["dim"]:
        raise IndexCorrupt(f"{build}: vectors, postings and chunks disagree in number. {_rebuild_hint(index_dir)}")
    doc_numbers: dict[str, int] = {}
    source_names = sorted({m[3] for m in meta if m[3]})
    source_of = {name: i for i, name in enumerate(source_names)}
    return Index(
        index_dir=index_dir, build=build, manifest=manifest, vectors=vectors, lexical=lexical,
        kinds=np.fromiter((KINDS.index(m[0]) for m in meta), dtype=np.uint8, count=n),
        doc_rows=np.fromiter((doc_numbers.setdefault(m[1], len(doc_numbers)) for m in meta),
                             dtype=np.int32, count=n),
        days=np.fromiter((ordinal(m[2]) for m in meta), dtype=np.int32, count=n),
        sources=np.fromiter((source_of.get(m[3], -1) for m in meta), dtype=np.int32, count=n),
        source_names=source_names,
        _con=con, _lock=threading.Lock(),
    )
