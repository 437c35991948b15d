"""The index folder: SQLite (documents, chunks), FAISS (vectors), BM25 (lexical), manifest.json.

Format 2 adds `sentences.npz`: a vector for each sentence of each chunk (float16, pooled from the
chunk's own forward pass), which the reranker compares with the question.

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
import re
import shlex
import shutil
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from qa import __version__
from qa.dates import ordinal
from qa.errors import (
    DiskError,
    IndexCorrupt,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    IndexOutdated,
    describe_os_error,
    os_advice,
)
from qa.lexical import FILES as LEXICAL_FILES
from qa.lexical import BM25Index
from qa.types import KINDS, Chunk, Comment, Document

FORMAT = "archive-qa-index"
FORMAT_VERSION = 3  # 3: lexical index as a bm25s folder
HNSW_ABOVE = 200_000  # chunks; below this an exact flat index is fast enough
FILES = ("chunks.sqlite", "vectors.faiss", *LEXICAL_FILES, "sentences.npz")
COUNTS = ("documents", "comments", "chunks", "article_chunks", "comment_chunks")

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


def stop_point(stage: str) -> None:
    """Test hook for crash tests: with `QA_STOP_AT=STAGE` the process says so on stderr and waits
    here, holding the writer lock, until it is killed. Does nothing otherwise."""
    if os.environ.get("QA_STOP_AT") == stage:
        print(f"QA_STOP_AT {stage} pid {os.getpid()}", file=sys.stderr, flush=True)
        while True:
            time.sleep(60)


def live_build(index_dir: Path) -> Path | None:
    """The folder `CURRENT` points at, or None when there is no index here."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    if not re.fullmatch(r"build-[\w.-]+", name) or name.endswith(".tmp") or ".." in name:
        raise IndexCorrupt(f"{pointer} is damaged (it should name a build-* folder). "
                           f"{_rebuild_hint(index_dir)}")
    if not (index_dir / name).is_dir():
        raise IndexCorrupt(f"{pointer} names {name}, which is missing. {_rebuild_hint(index_dir)}")
    return index_dir / name


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer per index folder; the lock dies with its process, SIGKILL included."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # a file where the folder should be, a read-only disk, no permission
        raise DiskError(describe_os_error(exc, index_dir)) from None
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
               f"{datetime.now().isoformat(timespec='seconds')}: " \
               f"{' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300]}".replace("\n", " ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode(), 0)
        yield
    finally:
        os.close(fd)


def remove_stale_builds(index_dir: Path) -> None:
    """Delete unfinished builds (`.tmp`, or finished after the live one but never made live: a
    crash before the swap) and finished ones older than the one before the live one (a server
    may still be reading that one). With a damaged `CURRENT` only `.tmp` folders go."""
    done = sorted(p for p in index_dir.glob("build-*") if p.is_dir() and not p.name.endswith(".tmp"))
    try:
        live = live_build(index_dir)
        keep = [p for p in done if live is not None and p.name < live.name][-1:] + ([live] if live else [])
    except IndexCorrupt:
        keep = done
    for path in index_dir.glob("build-*"):
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
    sentences: Sequence[np.ndarray], manifest: dict[str, Any],
) -> Path:
    """Write a complete build beside the live one and swap it in. Call under `writer_lock`.

    `sentences` holds each chunk's sentence vectors. `manifest` carries model and chunking facts;
    counts, files and versions are added here. A write that fails is removed and raises DiskError.
    """
    if not len(chunks) == len(vectors) == len(sentences):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors and {len(sentences)} sentence lists")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = index_dir / f"build-{stamp}"
    tmp = index_dir / f"build-{stamp}.tmp"
    try:
        return _write_build(index_dir, tmp, final, documents, chunks, vectors, sentences, manifest)
    except BaseException as exc:
        # A failed write (a full disk most often) must not leave a partial build holding the space;
        # once CURRENT names the new build it is live and stays.
        if live_build_name(index_dir) != final.name:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
            (index_dir / "CURRENT.tmp").unlink(missing_ok=True)
        if isinstance(exc, (OSError, sqlite3.Error, RuntimeError)):  # RuntimeError: FAISS's failed write
            raise DiskError(f"Cannot write a new build in {index_dir}: {os_advice(exc)}. "
                            "The index there is unchanged.") from None
        raise


def live_build_name(index_dir: Path) -> str | None:
    """The name in `CURRENT`, unchecked; None when it cannot be read."""
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _write_build(index_dir: Path, tmp: Path, final: Path, documents: Sequence[Document], chunks: Sequence[Chunk],
                 vectors: np.ndarray, sentences: Sequence[np.ndarray], manifest: dict[str, Any]) -> Path:
    import faiss

    tmp.mkdir(parents=True)
    hashes = [content_hash(manifest["model"]["id"], c) for c in chunks]
    _write_sqlite(tmp / "chunks.sqlite", documents, chunks, hashes)
    stop_point("writing")
    vindex = _vector_index(vectors)
    faiss.write_index(vindex, str(tmp / "vectors.faiss"))
    BM25Index.build(c.indexed_text for c in chunks).save(tmp / "lexical")
    packed = SentenceVectors.pack(sentences, vectors.shape[1] if vectors.ndim == 2 else 0)
    packed.save(tmp / "sentences.npz")
    n_comment_chunks = sum(c.kind == "comment" for c in chunks)
    full = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **manifest,
        "vector_index": type(vindex).__name__,
        "counts": {
            "documents": len(documents), "comments": sum(len(d.comments) for d in documents),
            "chunks": len(chunks), "article_chunks": len(chunks) - n_comment_chunks,
            "comment_chunks": n_comment_chunks, "sentence_vectors": len(packed.vectors),
            **manifest.get("counts", {}),
        },
        "files": {name: {"bytes": (tmp / name).stat().st_size, "sha256": _sha256(tmp / name)}
                  for name in FILES},
    }
    full["checksum"] = _manifest_checksum(full)
    (tmp / "manifest.json").write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    for name in (*FILES, "manifest.json"):
        with open(tmp / name, "rb") as f:
            os.fsync(f.fileno())
    _fsync_dir(tmp / "lexical")
    _fsync_dir(tmp)
    stop_point("written")
    os.rename(tmp, final)
    stop_point("renamed")
    pointer_tmp = index_dir / "CURRENT.tmp"
    pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
    with open(pointer_tmp, "rb") as f:
        os.fsync(f.fileno())
    stop_point("pointer")
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    stop_point("swapped")
    remove_stale_builds(index_dir)
    return final


@dataclass(frozen=True)
class SentenceVectors:
    """Every chunk's sentence vectors in one float16 array; chunk `row`'s are
    `vectors[offsets[row]:offsets[row + 1]]` (none for a model that does not mean-pool)."""

    vectors: np.ndarray  # (sentences, dim) float16
    offsets: np.ndarray  # (chunks + 1,) int64, rising from 0 to len(vectors)

    @classmethod
    def pack(cls, per_chunk: Sequence[np.ndarray], dim: int) -> SentenceVectors:
        counts = np.array([len(v) for v in per_chunk], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        vectors = (np.concatenate([np.asarray(v, dtype=np.float16).reshape(-1, dim) for v in per_chunk])
                   if int(offsets[-1]) else np.zeros((0, dim), dtype=np.float16))
        return cls(vectors, offsets)

    def save(self, path: Path) -> None:
        with open(path, "wb") as f:
            np.savez(f, vectors=self.vectors, offsets=self.offsets)

    @classmethod
    def load(cls, path: Path, chunks: int, dim: int) -> SentenceVectors:
        """Read and check the file; ValueError when its shape does not fit the build."""
        with np.load(path, allow_pickle=False) as data:
            vectors, offsets = data["vectors"], data["offsets"]
        if (vectors.dtype != np.float16 or vectors.ndim != 2 or vectors.shape[1] != dim
                or offsets.shape != (chunks + 1,) or offsets[0] != 0 or offsets[-1] != len(vectors)
                or (np.diff(offsets) < 0).any()):
            raise ValueError(f"{path.name} does not fit {chunks} chunks of {dim}-d vectors")
        return cls(vectors, offsets)

    def of(self, rows: Sequence[int]) -> list[np.ndarray]:
        """Each row's sentence vectors (float16)."""
        return [self.vectors[self.offsets[r]:self.offsets[r + 1]] for r in rows]

    def best(self, rows: Sequence[int], query: np.ndarray) -> np.ndarray:
        """Each row's highest sentence cosine with `query`, a unit vector (-> shape (rows,)) or one
        per line of a matrix (-> (rows, queries)); 0 for a row without sentences."""
        queries = np.atleast_2d(np.asarray(query, dtype=np.float32))
        at = np.asarray(rows, dtype=np.int64)
        starts = self.offsets[at]
        counts = self.offsets[at + 1] - starts
        out = np.zeros((len(at), len(queries)), dtype=np.float32)
        if counts.sum():
            first = np.cumsum(counts) - counts  # where each row's sentences begin among those taken
            take = np.repeat(starts - first, counts) + np.arange(counts.sum())  # all rows' sentences, in row order
            cos = self.vectors[take].astype(np.float32) @ queries.T
            has = counts > 0
            out[has] = np.maximum.reduceat(cos, first[has], axis=0)
        return out if np.ndim(query) == 2 else out[:, 0]


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest without its own checksum: an edited manifest is caught at load."""
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def rebuild_command(index_dir: Path, manifest: dict[str, Any] | None = None, model: str | None = None) -> str:
    """The command that rebuilds this index: from the sources and model the manifest records
    when it is readable, else with PATH... for the user to fill in."""
    listed = (manifest or {}).get("sources")
    sources = [s for s in listed if isinstance(s, str)] if isinstance(listed, list) else []
    sources = sources or ["PATH..."]
    recorded = (manifest or {}).get("model")
    model = model or (recorded.get("id") if isinstance(recorded, dict) and isinstance(recorded.get("id"), str)
                      else None)
    packaged = model is None or model.endswith("all-MiniLM-L6-v2")
    words = ["qa", *([] if packaged else ["--model", str(model)]), "index", "build", *sources,
             "--index", str(index_dir)]
    return " ".join(w if w == "PATH..." else shlex.quote(w) for w in words)


def _newest_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest of the newest finished build that has a readable one: for the sources and
    model to name in a repair command when the live build's own manifest cannot tell."""
    for build in sorted(index_dir.glob("build-*"), reverse=True):
        try:
            manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if build.name.endswith(".tmp") or not _valid_manifest(manifest):
            continue
        if _sealed(manifest):
            return manifest
    return None


def _rebuild_hint(index_dir: Path, manifest: dict[str, Any] | None = None) -> str:
    return f"Rebuild it: {rebuild_command(index_dir, manifest or _newest_manifest(index_dir))}"


def _valid_manifest(manifest: Any) -> bool:
    """Every field that loading and `qa index stats` read is there, with its type."""
    def whole(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    try:
        files, counts, sources = manifest["files"], manifest["counts"], manifest.get("sources", [])
        return (isinstance(manifest["model"]["id"], str) and whole(manifest["model"]["dim"])
                and all(isinstance(files[n], dict) and whole(files[n].get("bytes"))
                        and isinstance(files[n].get("sha256"), str) for n in FILES)
                and all(whole(counts[n]) for n in COUNTS)
                and isinstance(sources, list) and all(isinstance(x, str) for x in sources)
                and isinstance(manifest["created_at"], str) and isinstance(manifest["package_version"], str))
    except (KeyError, TypeError, AttributeError):
        return False


def _older_format(manifest: dict[str, Any]) -> bool:
    version = manifest.get("format_version")
    return (manifest.get("format") == FORMAT and isinstance(version, int) and not isinstance(version, bool)
            and version < FORMAT_VERSION)


def _sealed(manifest: dict[str, Any]) -> bool:
    """The manifest matches its own checksum. Only a build of an older format (written before
    there was a checksum) may lack one: removing the key does not switch the check off."""
    if "checksum" not in manifest and _older_format(manifest):
        return True
    return manifest.get("checksum") == _manifest_checksum(manifest)


def read_manifest(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    build = live_build(index_dir)
    if build is None:
        raise IndexNotFound(
            f"No index at {index_dir}. Build one: qa index build PATH... --index {index_dir}"
        )
    path = build / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"{path} is missing. {_rebuild_hint(index_dir)}") from None
    except (ValueError, OSError, RecursionError):
        raise IndexCorrupt(f"{path} is damaged (not readable JSON). {_rebuild_hint(index_dir)}") from None
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"{path} is damaged or edited (not an object). {_rebuild_hint(index_dir)}")
    if not _sealed(manifest):
        raise IndexCorrupt(f"{path} was edited or damaged (its checksum is missing or does not match). "
                           f"{_rebuild_hint(index_dir)}")
    version = manifest.get("format_version")
    if _older_format(manifest):
        sources = manifest.get("sources")
        raise IndexOutdated(
            f"{index_dir} holds index format {version}, written by an older archive-qa; this version reads "
            f"format {FORMAT_VERSION}. {_rebuild_hint(index_dir, manifest)}",
            sources=[s for s in sources if isinstance(s, str)] if isinstance(sources, list) else [],
        )
    if manifest.get("format") != FORMAT or version != FORMAT_VERSION:  # before the fields: they differ
        raise IndexMismatch(
            f"{index_dir} holds index format {manifest.get('format_version')!r}; this version of "
            f"archive-qa reads format {FORMAT_VERSION}. "
            f"{_rebuild_hint(index_dir, manifest if manifest.get('format') == FORMAT else None)}"
        )
    if not _valid_manifest(manifest):
        raise IndexCorrupt(f"{path} is damaged or edited (fields missing). {_rebuild_hint(index_dir)}")
    return build, manifest


def _check_files(build: Path, manifest: dict[str, Any], index_dir: Path) -> None:
    for name in FILES:
        path = build / name
        expected = manifest["files"].get(name, {})
        if not path.is_file():
            raise IndexCorrupt(f"{path} is missing. {_rebuild_hint(index_dir, manifest)}")
        try:
            damaged = path.stat().st_size != expected.get("bytes") or _sha256(path) != expected.get("sha256")
        except OSError as exc:
            raise IndexCorrupt(f"{path} cannot be read ({exc.strerror}). "
                               f"{_rebuild_hint(index_dir, manifest)}") from None
        if damaged:
            raise IndexCorrupt(f"{path} is damaged (size or checksum differs from the manifest). "
                               f"{_rebuild_hint(index_dir, manifest)}")


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
    sentences: SentenceVectors
    _con: sqlite3.Connection
    _lock: threading.Lock

    def __len__(self) -> int:
        return len(self.kinds)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query; SQLite damaged under a running server is an IndexCorrupt, not a traceback."""
        try:
            with self._lock:
                return self._con.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"{self.build / 'chunks.sqlite'} cannot be read ({exc}). "
                               f"{_rebuild_hint(self.index_dir, self.manifest)}") from None

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        if not len(rows):
            return []
        marks = ",".join("?" * len(rows))
        found = {r[0]: Chunk(*r[1:]) for r in self._query(
            f"SELECT row, {_CHUNK_COLS} FROM chunks WHERE row IN ({marks})", [int(r) for r in rows])}
        missing = [int(r) for r in rows if int(r) not in found]
        if missing:  # the vectors name a row the database lacks: checked at load, so a change since
            raise IndexCorrupt(f"{self.build / 'chunks.sqlite'} has no passage at row {missing[0]}. "
                               f"{_rebuild_hint(self.index_dir, self.manifest)}")
        return [found[int(r)] for r in rows]

    def documents(self, doc_ids: Sequence[str] | None = None) -> dict[str, Document]:
        """Documents by id, with their comments; all of them when `doc_ids` is None."""
        where = "" if doc_ids is None else f"WHERE doc_id IN ({','.join('?' * len(doc_ids))})"
        params = [] if doc_ids is None else list(doc_ids)
        docs = self._query(f"SELECT doc_id, title, body, source, url, author, published_at, category, path "
                           f"FROM documents {where} ORDER BY doc_id", params)
        comments = self._query(f"SELECT doc_id, author, text, date FROM comments {where} "
                               f"ORDER BY doc_id, idx", params)
        by_doc: dict[str, list[Comment]] = {}
        for doc_id, author, text, day in comments:
            by_doc.setdefault(doc_id, []).append(Comment(author, text, day))
        return {i: Document(i, title, body, source, url, author, date, category, path, tuple(by_doc.get(i, ())))
                for i, title, body, source, url, author, date, category, path in docs}

    def all_chunks(self) -> Iterator[tuple[Chunk, str]]:
        """Every chunk with its content hash, in row order (the order of `all_vectors`)."""
        for r in self._query(f"SELECT {_CHUNK_COLS}, content_hash FROM chunks ORDER BY row"):
            yield Chunk(*r[:-1]), r[-1]

    def all_vectors(self) -> np.ndarray:
        """Every stored vector, one row per chunk."""
        return self.vectors.reconstruct_n(0, self.vectors.ntotal)

    def all_sentence_vectors(self) -> list[np.ndarray]:
        """Every chunk's sentence vectors, in row order."""
        return self.sentences.of(range(len(self)))

    def close(self) -> None:
        self._con.close()


# Rows whose values do not have the types the code reads: NULL text, a number for a title, ...
_BAD_ROWS = {
    "chunks": "typeof(chunk_id) != 'text' OR typeof(doc_id) != 'text' OR kind NOT IN ('article', 'comment') "
              "OR typeof(text) != 'text' OR typeof(header) != 'text' OR typeof(title) != 'text' "
              "OR typeof(start) != 'integer' OR typeof(\"end\") != 'integer' "
              "OR typeof(author) NOT IN ('text', 'null') OR typeof(published_at) NOT IN ('text', 'null') "
              "OR typeof(comment_index) NOT IN ('integer', 'null')",
    "documents": "typeof(doc_id) != 'text' OR typeof(title) != 'text' OR typeof(body) != 'text' "
                 "OR typeof(source) NOT IN ('text', 'null') OR typeof(url) NOT IN ('text', 'null') "
                 "OR typeof(author) NOT IN ('text', 'null') OR typeof(published_at) NOT IN ('text', 'null') "
                 "OR typeof(category) NOT IN ('text', 'null') OR typeof(path) NOT IN ('text', 'null')",
    "comments": "typeof(doc_id) != 'text' OR typeof(idx) != 'integer' OR typeof(author) != 'text' "
                "OR typeof(text) != 'text' OR typeof(date) NOT IN ('text', 'null')",
}


def _check_rows(con: sqlite3.Connection, n: int) -> None:
    """Raise ValueError unless the chunks are rows 0..n-1 and every value has its type: a database
    re-sealed with shifted rows or a NULL text is refused at load, not met mid-answer."""
    low, high, count = con.execute("SELECT min(row), max(row), count(*) FROM chunks").fetchone()
    if count != n or (n and (low, high) != (0, n - 1)):
        raise ValueError(f"chunks.sqlite holds rows {low}..{high} ({count}), not 0..{n - 1} ({n})")
    for table, bad in _BAD_ROWS.items():
        row = con.execute(f"SELECT rowid FROM {table} WHERE {bad} LIMIT 1").fetchone()  # noqa: S608
        if row is not None:
            raise ValueError(f"chunks.sqlite: a row of {table} (rowid {row[0]}) holds a value of the wrong type")


def open_index(index_dir: Path, model_id: str | None = None, dim: int | None = None,
               fingerprint: str | None = None) -> Index:
    """Load the live build, refusing one that another model, dimension or format made."""
    import faiss

    build, manifest = read_manifest(index_dir)
    model = manifest["model"]
    where = build / "manifest.json"
    if model_id is not None and model["id"] != model_id:
        raise IndexMismatch(
            f"{index_dir} was built with model {model['id']!r} (see {where}), but the settings ask for "
            f"{model_id!r}. Use the same model (--model / QA_MODEL), or rebuild with this one: "
            f"{rebuild_command(index_dir, manifest, model_id)}"
        )
    if dim is not None and model["dim"] != dim:
        raise IndexMismatch(f"{index_dir} holds {model['dim']}-d vectors (see {where}); the model makes "
                            f"{dim}-d. {_rebuild_hint(index_dir, manifest)}")
    if fingerprint and model.get("fingerprint") and model["fingerprint"] != fingerprint:
        raise IndexMismatch(f"{index_dir} was built with other weights of {model['id']!r} (see {where}). "
                            f"{_rebuild_hint(index_dir, manifest)}")
    _check_files(build, manifest, index_dir)
    n = manifest["counts"]["chunks"]
    try:
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        lexical = BM25Index.load(build / "lexical")
        sentences = SentenceVectors.load(build / "sentences.npz", n, model["dim"])
        con = sqlite3.connect(f"file:{build / 'chunks.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        _check_rows(con, n)
        meta = con.execute("SELECT c.kind, c.doc_id, c.published_at, d.source FROM chunks c "
                           "JOIN documents d ON d.doc_id = c.doc_id ORDER BY c.row").fetchall()
        doc_numbers: dict[str, int] = {}
        source_names = sorted({m[3] for m in meta if m[3]})
        source_of = {name: i for i, name in enumerate(source_names)}
        kinds = np.fromiter((KINDS.index(m[0]) for m in meta), dtype=np.uint8, count=len(meta))
        doc_rows = np.fromiter((doc_numbers.setdefault(m[1], len(doc_numbers)) for m in meta),
                               dtype=np.int32, count=len(meta))
        days = np.fromiter((ordinal(m[2]) for m in meta), dtype=np.int32, count=len(meta))
        sources = np.fromiter((source_of.get(m[3], -1) for m in meta), dtype=np.int32, count=len(meta))
    except (RuntimeError, ValueError, TypeError, OSError, sqlite3.DatabaseError) as exc:
        raise IndexCorrupt(f"{build} cannot be read ({exc}). {_rebuild_hint(index_dir, manifest)}") from None
    if vectors.ntotal != n or lexical.n_docs != n or len(meta) != n or vectors.d != model["dim"]:
        raise IndexCorrupt(f"{build}: vectors, postings and chunks disagree in number. "
                           f"{_rebuild_hint(index_dir, manifest)}")
    return Index(
        index_dir=index_dir, build=build, manifest=manifest, vectors=vectors, lexical=lexical,
        kinds=kinds, doc_rows=doc_rows, days=days, sources=sources, source_names=source_names,
        sentences=sentences, _con=con, _lock=threading.Lock(),
    )
