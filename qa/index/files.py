"""The files of one build and how each is written and read: SQLite (documents, chunks), FAISS
(one vector per chunk), BM25 postings, and the sentence vectors (two .npy arrays).

FAISS and the sentence vectors are memory-mapped at load: pages are read from disk as searches
touch them, so start-up does not read the files and the operating system may share and drop them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.lexical import BM25Index
from qa.tuning import TUNING
from qa.types import Chunk, Document

# Above this many chunks exact search stops being fast enough (eval/bench_ann.py measures both).
HNSW_ABOVE = TUNING.hnsw_above
HNSW_M = 32  # links per vector
HNSW_BUILD_DEPTH = 80  # efConstruction
HNSW_SEARCH_DEPTH = 128  # efSearch: recall@10 against exact search measured in eval/bench_ann.py

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
CHUNK_COLS = 'chunk_id, doc_id, kind, text, header, start, "end", title, author, published_at, comment_index'


def content_hash(model_id: str, chunk: Chunk) -> str:
    """What a vector depends on: the model and the exact text embedded."""
    return hashlib.sha1(f"{model_id}\x1f{chunk.indexed_text}".encode()).hexdigest()


def write_sqlite(path: Path, documents: Sequence[Document], chunks: Sequence[Chunk], hashes: Sequence[str]) -> None:
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
            f"INSERT INTO chunks (row, {CHUNK_COLS}, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(row, c.chunk_id, c.doc_id, c.kind, c.text, c.header, c.start, c.end, c.title, c.author,
              c.published_at, c.comment_index, h) for row, (c, h) in enumerate(zip(chunks, hashes))],
        )
        con.commit()
    finally:
        con.close()


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


def check_rows(con: sqlite3.Connection, n: int) -> None:
    """Raise ValueError unless the chunks are rows 0..n-1 and every value has its type: a database
    re-sealed with shifted rows or a NULL text is refused at load, not met mid-answer."""
    low, high, count = con.execute("SELECT min(row), max(row), count(*) FROM chunks").fetchone()
    if count != n or (n and (low, high) != (0, n - 1)):
        raise ValueError(f"chunks.sqlite holds rows {low}..{high} ({count}), not 0..{n - 1} ({n})")
    for table, bad in _BAD_ROWS.items():
        row = con.execute(f"SELECT rowid FROM {table} WHERE {bad} LIMIT 1").fetchone()  # noqa: S608
        if row is not None:
            raise ValueError(f"chunks.sqlite: a row of {table} (rowid {row[0]}) holds a value of the wrong type")


# --- lexical postings: built, saved and loaded here only -----------------------------------------

def write_lexical(path: Path, texts: Iterable[str]) -> None:
    BM25Index.build(texts).save(path)


def read_lexical(path: Path) -> BM25Index:
    return BM25Index.load(path)


# --- dense vectors: FAISS, seen nowhere else --------------------------------------------------------

class DenseIndex:
    """One unit vector per chunk, searched by inner product: exact up to HNSW_ABOVE chunks, HNSW above."""

    def __init__(self, index: Any) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray) -> DenseIndex:
        import faiss

        dim = vectors.shape[1]
        index: Any
        if len(vectors) > HNSW_ABOVE:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_BUILD_DEPTH
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def read(cls, path: Path) -> DenseIndex:
        """Memory-mapped: the vectors stay on disk until a search reads them."""
        import faiss

        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        if hasattr(index, "hnsw"):
            index.hnsw.efSearch = HNSW_SEARCH_DEPTH
        return cls(index)

    def write(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @property
    def kind(self) -> str:
        """The FAISS class, as the manifest records it."""
        return type(self._index).__name__

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, vector: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `k` rows nearest `vector` among those `mask` allows (all when None): rows, scores, best first."""
        import faiss

        params = None
        if mask is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_SEARCH_DEPTH, k))  # type: ignore[attr-defined]
                      if hasattr(self._index, "hnsw") else faiss.SearchParameters(sel=selector))  # type: ignore[call-arg]
        scores, rows = self._index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1),
                                          min(k, len(self)), params=params)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    def vectors(self, rows: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """The stored vectors of `rows` (all when None), float32."""
        if rows is None:
            return self._index.reconstruct_n(0, len(self))  # type: ignore[no-any-return]
        at = np.asarray(rows, dtype=np.int64)
        if not len(at):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_batch(at)  # type: ignore[no-any-return]


# --- sentence vectors: two .npy arrays, memory-mapped -----------------------------------------------

SENTENCES, OFFSETS = "sentences.npy", "sentence_offsets.npy"


def _load_npy(path: Path) -> np.ndarray:
    """Memory-mapped read-only; an empty array (nothing to map) is read as it is."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError:  # mmap of an array with no data
        return np.load(path, allow_pickle=False)


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

    def save(self, folder: Path) -> None:
        for name, array in ((SENTENCES, self.vectors), (OFFSETS, self.offsets)):
            with open(folder / name, "wb") as f:
                np.save(f, np.ascontiguousarray(array), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, chunks: int, dim: int) -> SentenceVectors:
        """Map and check the files; ValueError when their shapes do not fit the build. The offsets
        are read whole (8 bytes a chunk); the vectors stay on disk until read."""
        vectors, offsets = _load_npy(folder / SENTENCES), np.array(_load_npy(folder / OFFSETS))
        if (vectors.dtype != np.float16 or vectors.ndim != 2 or vectors.shape[1] != dim
                or offsets.dtype != np.int64 or offsets.shape != (chunks + 1,) or offsets[0] != 0
                or offsets[-1] != len(vectors) or (np.diff(offsets) < 0).any()):
            raise ValueError(f"{SENTENCES} and {OFFSETS} do not fit {chunks} chunks of {dim}-d vectors")
        return cls(vectors, offsets)

    def of(self, rows: Sequence[int]) -> list[np.ndarray]:
        """Each row's sentence vectors (float16, read into memory)."""
        return [np.array(self.vectors[self.offsets[r]:self.offsets[r + 1]]) for r in rows]

    def block(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The rows' sentence vectors row after row (one read of the mapped file), and how many each row has."""
        at = np.asarray(rows, dtype=np.int64)
        starts = self.offsets[at]
        counts = self.offsets[at + 1] - starts
        first = np.cumsum(counts) - counts  # where each row's sentences begin among those taken
        take = np.repeat(starts - first, counts) + np.arange(counts.sum())  # all rows' sentences, in row order
        return self.vectors[take], counts
