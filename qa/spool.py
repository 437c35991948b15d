"""Where a build keeps its passages' vectors between embedding and writing: in memory for a small
archive, on disk for a large one, so that a build's memory does not grow with what it embeds.

A build hands its rows over in row order, a block at a time (`add`), and the writer reads them back
the same way (`qa.index.write_index` streams each file from sequences). `MemoryRows` keeps them in
arrays. `SpooledRows` appends them to two plain files in a temporary folder inside the index folder
(`.rows-*`, removed when the build ends, and by the next build when this one was killed) and gives
the writer sequences that read a block of rows per access: a million passages' vectors and sentence
vectors (about 7 GB) stay on disk, and what the build holds is one block at a time. Plain reads and
writes, not memory maps: a full disk is an OSError, and the pages read are not counted as the
build's own memory.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, overload

import numpy as np

from qa.types import Chunk, Comment, Document

PREFIX = ".rows-"  # the spool folders in an index folder


def remove_stale_spools(index_dir: Path) -> None:
    """Remove the spools of builds that were killed (call under the writer lock)."""
    for path in index_dir.glob(f"{PREFIX}*"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


class MemoryRows:
    """Rows kept in memory: one float32 array of passage vectors, a float16 array per passage's sentences."""

    def __init__(self, n: int, dim: int) -> None:
        self.vectors = np.zeros((n, dim), dtype=np.float32)
        self.sentences: list[np.ndarray] = [np.zeros((0, dim), dtype=np.float16)] * n
        self._at = 0

    def add(self, vectors: np.ndarray, sentences: Sequence[np.ndarray]) -> None:
        m = len(vectors)
        self.vectors[self._at:self._at + m] = vectors
        self.sentences[self._at:self._at + m] = [np.asarray(s, dtype=np.float16) for s in sentences]
        self._at += m

    def done(self) -> tuple[np.ndarray, list[np.ndarray]]:
        if self._at != len(self.vectors):
            raise RuntimeError(f"{self._at} of {len(self.vectors)} rows were added")
        return self.vectors, self.sentences

    def close(self) -> None:
        """Nothing to close."""


class SpooledRows:
    """Rows appended to two files in a spool folder (`spool_folder`); `done` gives sequences over them."""

    def __init__(self, folder: Path, n: int, dim: int) -> None:
        self.folder = folder
        self.n, self.dim = n, dim
        self.counts = np.zeros(n, dtype=np.int64)  # sentences of each row
        self._at = 0
        self._vectors = open(folder / "vectors.f32", "wb")  # noqa: SIM115 (closed by done/close)
        self._sentences = open(folder / "sentences.f16", "wb")  # noqa: SIM115

    def add(self, vectors: np.ndarray, sentences: Sequence[np.ndarray]) -> None:
        m = len(vectors)
        self._vectors.write(np.ascontiguousarray(vectors, dtype=np.float32).reshape(m, self.dim).tobytes())
        for i, s in enumerate(sentences):
            packed = np.ascontiguousarray(s, dtype=np.float16).reshape(-1, self.dim)
            self.counts[self._at + i] = len(packed)
            self._sentences.write(packed.tobytes())
        self._at += m

    def done(self) -> tuple[SpooledVectors, SpooledSentences]:
        if self._at != self.n:
            raise RuntimeError(f"{self._at} of {self.n} rows were added")
        self.close()
        return (SpooledVectors(self.folder / "vectors.f32", self.n, self.dim),
                SpooledSentences(self.folder / "sentences.f16", self.counts, self.dim))

    def close(self) -> None:
        for f in (self._vectors, self._sentences):
            f.close()


@contextmanager
def spool_folder(index_dir: Path, wanted: bool) -> Iterator[Path | None]:
    """A new spool folder in `index_dir` when `wanted` (else None), removed afterwards whatever happens."""
    if not wanted:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=index_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read(path: Path, dtype: np.dtype[Any], first: int, count: int, dim: int) -> np.ndarray:
    """`count` rows of `dim` values from row `first` of a raw file (one read)."""
    size = np.dtype(dtype).itemsize * dim
    with open(path, "rb") as f:
        data = os.pread(f.fileno(), count * size, first * size)
    if len(data) != count * size:
        raise OSError(f"{path} is shorter than its {first + count} rows")
    return np.frombuffer(data, dtype=dtype).reshape(count, dim)


class SpooledVectors:
    """A float32 (rows, dim) matrix on disk, read as `write_index` and `DenseIndex.build` read one: a
    slice or a list of rows is read into memory; nothing more is held."""

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, path: Path, n: int, dim: int) -> None:
        self.path, self.shape = path, (n, dim)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice | Sequence[int] | np.ndarray) -> np.ndarray:
        n, dim = self.shape
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                raise IndexError("only contiguous slices are read")
            return _read(self.path, self.dtype, start, max(0, stop - start), dim)
        rows = np.asarray(key, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise IndexError(f"rows outside 0..{n - 1}")
        out = np.empty((len(rows), dim), dtype=np.float32)
        with open(self.path, "rb") as f:
            size = 4 * dim
            for i, row in enumerate(rows.tolist()):
                out[i] = np.frombuffer(os.pread(f.fileno(), size, row * size), dtype=np.float32)
        return out


class SpooledSentences(Sequence[np.ndarray]):
    """Each row's float16 sentence vectors on disk; `counts` says how many each row has, and a slice
    of rows is one read."""

    def __init__(self, path: Path, counts: np.ndarray, dim: int) -> None:
        self.path, self.counts, self.dim = path, counts, dim
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.counts)

    @overload
    def __getitem__(self, key: int) -> np.ndarray: ...

    @overload
    def __getitem__(self, key: slice) -> list[np.ndarray]: ...

    def __getitem__(self, key: int | slice) -> np.ndarray | list[np.ndarray]:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                raise IndexError("only contiguous slices are read")
            if stop <= start:
                return []
            first, last = int(self.offsets[start]), int(self.offsets[stop])
            block = _read(self.path, np.dtype(np.float16), first, last - first, self.dim)
            return [block[self.offsets[r] - first:self.offsets[r + 1] - first] for r in range(start, stop)]
        row = range(len(self))[key]
        return self[row:row + 1][0]

    def __iter__(self) -> Iterator[np.ndarray]:
        step = 4096
        for at in range(0, len(self), step):
            yield from self[at:at + step]


# --- documents and chunks -----------------------------------------------------------------------

_STAGING = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT, body TEXT, source TEXT, url TEXT, author TEXT,
  published_at TEXT, category TEXT, path TEXT) WITHOUT ROWID;
CREATE TABLE comments (doc_id TEXT, idx INTEGER, author TEXT, text TEXT, date TEXT, PRIMARY KEY (doc_id, idx))
  WITHOUT ROWID;
CREATE TABLE chunks (row INTEGER PRIMARY KEY, chunk_id TEXT, doc_id TEXT, kind TEXT, text TEXT, header TEXT,
  start INTEGER, "end" INTEGER, title TEXT, author TEXT, published_at TEXT, comment_index INTEGER);
"""
_DOC_COLS = "doc_id, title, body, source, url, author, published_at, category, path"
_CHUNK_COLS = 'chunk_id, doc_id, kind, text, header, start, "end", title, author, published_at, comment_index'
_READ = 4096  # rows a read fetches


class Staging:
    """A large build's documents and chunks in a SQLite file of its spool folder: the documents are
    written as they are read and read back in id order, their chunks written as they are cut and read
    back in row order, a block at a time. What the build holds is one document and one block of chunks."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "staging.sqlite"
        self._con = sqlite3.connect(self.path, check_same_thread=False)
        self._con.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _STAGING)
        self.n_documents = self.n_chunks = 0

    def add_documents(self, docs: Iterable[Document]) -> None:
        for doc in docs:
            self._con.execute(f"INSERT INTO documents ({_DOC_COLS}) VALUES (?,?,?,?,?,?,?,?,?)",
                              (doc.doc_id, doc.title, doc.body, doc.source, doc.url, doc.author, doc.published_at,
                               doc.category, doc.path))
            self._con.executemany("INSERT INTO comments VALUES (?,?,?,?,?)",
                                  ((doc.doc_id, i, c.author, c.text, c.date) for i, c in enumerate(doc.comments)))
            self.n_documents += 1
        self._con.commit()

    def add_chunks(self, chunks: Iterable[Chunk]) -> None:
        def rows() -> Iterator[tuple[object, ...]]:
            for c in chunks:
                yield (self.n_chunks, c.chunk_id, c.doc_id, c.kind, c.text, c.header, c.start, c.end, c.title,
                       c.author, c.published_at, c.comment_index)
                self.n_chunks += 1

        self._con.executemany(f"INSERT INTO chunks (row, {_CHUNK_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows())

    def documents(self) -> StagedDocuments:
        self._con.commit()
        return StagedDocuments(self)

    def chunks(self) -> StagedChunks:
        self._con.commit()
        return StagedChunks(self)

    def close(self) -> None:
        self._con.close()

    def cursor(self) -> sqlite3.Cursor:
        return self._con.cursor()


@contextmanager
def staging_in(spool: Path | None) -> Iterator[Staging | None]:
    """A `Staging` in the spool folder (closed afterwards), or None without one."""
    if spool is None:
        yield None
        return
    staging = Staging(spool)
    try:
        yield staging
    finally:
        staging.close()


class StagedDocuments(Sequence[Document]):
    """The staged documents in id order, read as they are iterated (each iteration reads them again)."""

    def __init__(self, staging: Staging) -> None:
        self._staging = staging

    def __len__(self) -> int:
        return self._staging.n_documents

    def __iter__(self) -> Iterator[Document]:
        docs = self._staging.cursor().execute(f"SELECT {_DOC_COLS} FROM documents ORDER BY doc_id")
        comments = self._staging.cursor().execute("SELECT doc_id, author, text, date FROM comments "
                                                  "ORDER BY doc_id, idx")
        pending = next(comments, None)
        for row in docs:
            own: list[Comment] = []
            while pending is not None and pending[0] == row[0]:
                own.append(Comment(author=pending[1], text=pending[2], date=pending[3]))
                pending = next(comments, None)
            doc_id, title, body, source, url, author, published_at, category, path = row
            yield Document(doc_id=doc_id, title=title, body=body, source=source, url=url, author=author,
                           published_at=published_at, category=category, path=path, comments=tuple(own))

    @overload
    def __getitem__(self, key: int) -> Document: ...

    @overload
    def __getitem__(self, key: slice) -> list[Document]: ...

    def __getitem__(self, key: int | slice) -> Document | list[Document]:
        picked = list(self)[key]  # not on a build's path: iteration is
        return picked


class StagedChunks(Sequence[Chunk]):
    """The staged chunks in row order: iterating reads a block at a time; an index reads the block
    around it (and keeps that one block), so rows asked in rising order are read once."""

    def __init__(self, staging: Staging) -> None:
        self._staging = staging
        self._block: tuple[int, list[Chunk]] = (-1, [])

    def __len__(self) -> int:
        return self._staging.n_chunks

    def _read(self, start: int, stop: int) -> list[Chunk]:
        rows = self._staging.cursor().execute(f"SELECT {_CHUNK_COLS} FROM chunks WHERE row >= ? AND row < ? "
                                              "ORDER BY row", (start, stop))
        return [Chunk(*r) for r in rows]

    def __iter__(self) -> Iterator[Chunk]:
        for at in range(0, len(self), _READ):
            yield from self._read(at, at + _READ)

    @overload
    def __getitem__(self, key: int) -> Chunk: ...

    @overload
    def __getitem__(self, key: slice) -> list[Chunk]: ...

    def __getitem__(self, key: int | slice) -> Chunk | list[Chunk]:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            return self._read(start, stop)[::step] if stop > start else []
        row = range(len(self))[key]
        first, held = self._block
        if not first <= row < first + len(held):
            first = row - row % _READ
            self._block = (first, self._read(first, first + _READ))
            held = self._block[1]
        return held[row - first]
