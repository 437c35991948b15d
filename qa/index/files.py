"""The files of one build and how each is written and read: SQLite (documents, chunks), FAISS
(one vector per chunk), BM25 postings, and the sentence vectors (two .npy arrays).

FAISS and the sentence vectors are memory-mapped at load: pages are read from disk as searches
touch them, so start-up does not read the files and the operating system may share and drop them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.dates import ordinal
from qa.index.lexical import BM25Index
from qa.tuning import TUNING
from qa.types import KINDS, Chunk, Document

# Above this many chunks exact search stops being fast enough (eval/bench_ann.py measures both).
HNSW_ABOVE = TUNING.hnsw_above
HNSW_M = 32  # links per vector
HNSW_BUILD_DEPTH = 80  # efConstruction
HNSW_SEARCH_DEPTH = TUNING.hnsw_search_depth  # efSearch: recall against exact search in eval/bench_ann.py
# A filter allowing at most this many rows of an HNSW index is searched exactly (eval/bench_ann.py
# measures the filtered graph walk's recall against it)
EXACT_MASKED_BELOW = 50_000
REFINE_FACTOR = 2  # the graph's best 2k are rescored on the float vectors (eval/bench_ann.py filtered)
TRAIN_SAMPLE = 100_000  # vectors the 8-bit codes' ranges are fitted on (seeded sample)

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


def write_sqlite(path: Path, documents: Iterable[Document], chunks: Iterable[Chunk], hashes: Iterable[str]) -> None:
    """Rows are streamed in (nothing here holds them all): `chunks` and `hashes` are read in step."""
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.execute("PRAGMA journal_mode = OFF")  # a new file in a build folder: a failed write is removed whole
        for d in documents:  # one pass: `documents` may be read from disk as it is iterated
            con.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                        (d.doc_id, d.title, d.body, d.source, d.url, d.author, d.published_at, d.category, d.path))
            con.executemany("INSERT INTO comments VALUES (?,?,?,?,?)",
                            ((d.doc_id, i, c.author, c.text, c.date) for i, c in enumerate(d.comments)))
        con.executemany(
            f"INSERT INTO chunks (row, {CHUNK_COLS}, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((row, c.chunk_id, c.doc_id, c.kind, c.text, c.header, c.start, c.end, c.title, c.author,
              c.published_at, c.comment_index, h) for row, (c, h) in enumerate(zip(chunks, hashes, strict=True))),
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
              "OR published_at NOT GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]*' "
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


def advise_random(path: Path) -> int:
    """Tell the kernel that this process's mappings of `path` are read at random: a page fault
    then reads the page it needs, not the read-ahead window around it (on a 1M index held in 3 GB,
    300 random sentence reads took 50 ms with read-ahead and 8 ms without: docs/benchmarks.md).
    Linux only (it reads /proc/self/maps); elsewhere, or when the kernel refuses, nothing changes.
    Returns how many mappings were advised."""
    import ctypes
    import mmap

    advice = getattr(mmap, "MADV_RANDOM", None)
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace") if advice else ""
    except OSError:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    target, advised = str(path.resolve()), 0
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == target:
            start, end = (int(x, 16) for x in fields[0].split("-"))
            advised += libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), advice) == 0
    return advised


# --- per-row facts: what filters and caps read on every question -------------------------------

ROWS = "rows.npz"


@dataclass(frozen=True)
class RowFacts:
    """Each row's kind (position in KINDS), document number (documents numbered as rows first
    meet them), day (ordinal, -1 undated) and outlet (position in `source_names`, -1 unknown)."""

    kinds: np.ndarray  # (rows,) uint8
    doc_rows: np.ndarray  # (rows,) int32
    days: np.ndarray  # (rows,) int32
    sources: np.ndarray  # (rows,) int32
    source_names: list[str]

    @classmethod
    def read_sqlite(cls, con: sqlite3.Connection) -> RowFacts:
        """Made from the database, one pass over its rows (a second or two per million rows)."""
        meta = con.execute("SELECT c.kind, c.doc_id, c.published_at, d.source FROM chunks c "
                           "JOIN documents d ON d.doc_id = c.doc_id ORDER BY c.row").fetchall()
        doc_numbers: dict[str, int] = {}
        names = sorted({m[3] for m in meta if m[3]})
        source_of = {name: i for i, name in enumerate(names)}
        days: dict[str | None, int] = {}
        n = len(meta)
        return cls(
            np.fromiter((KINDS.index(m[0]) for m in meta), dtype=np.uint8, count=n),
            np.fromiter((doc_numbers.setdefault(m[1], len(doc_numbers)) for m in meta), dtype=np.int32, count=n),
            np.fromiter((days[m[2]] if m[2] in days else days.setdefault(m[2], ordinal(m[2])) for m in meta),
                        dtype=np.int32, count=n),
            np.fromiter((source_of.get(m[3], -1) for m in meta), dtype=np.int32, count=n), names)

    def save(self, path: Path) -> None:
        with open(path, "wb") as f:
            np.savez(f, kinds=self.kinds, doc_rows=self.doc_rows, days=self.days, sources=self.sources,
                     source_names=np.array(self.source_names, dtype=str))

    @classmethod
    def load(cls, path: Path, n: int) -> RowFacts:
        """ValueError when the arrays do not fit `n` rows or their values are out of range."""
        try:
            with np.load(path, allow_pickle=False) as data:
                facts = cls(data["kinds"], data["doc_rows"], data["days"], data["sources"],
                            [str(x) for x in data["source_names"]])
        except KeyError as exc:
            raise ValueError(f"{path.name} lacks {exc}") from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # damaged with its size unchanged
            raise ValueError(f"{path.name} cannot be read ({exc})") from None
        arrays = (facts.kinds, facts.doc_rows, facts.days, facts.sources)
        if (any(a.shape != (n,) for a in arrays)
                or [a.dtype for a in arrays] != [np.dtype(np.uint8), *[np.dtype(np.int32)] * 3]
                or (n and (facts.kinds.max() >= len(KINDS) or facts.doc_rows.min() < 0
                           or facts.sources.min() < -1 or facts.sources.max() >= len(facts.source_names)))):
            raise ValueError(f"{path.name} does not fit {n} rows")
        return facts


# --- lexical postings: built, saved and loaded here only -----------------------------------------

def write_lexical(path: Path, texts: Iterable[str]) -> None:
    BM25Index.build(texts).save(path)


def read_lexical(path: Path) -> BM25Index:
    return BM25Index.load(path)


# --- dense vectors: FAISS, seen nowhere else --------------------------------------------------------

class DenseIndex:
    """One unit vector per chunk, searched by inner product: exact up to HNSW_ABOVE chunks; above,
    an HNSW graph over 8-bit codes of the vectors whose best `REFINE_FACTOR * k` are rescored on
    the float vectors (`HNSW32_SQ8,RFlat`). The walk reads the codes, a quarter of the vectors' size,
    so a memory-mapped million stays fast where memory is short; the float vectors are read only to
    rescore and to hand back. (Builds made before it hold a plain `IndexHNSWFlat`, searched as such.)"""

    def __init__(self, index: Any) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray, progress: bool = False, block: int = 50_000) -> DenseIndex:
        """Exact up to HNSW_ABOVE vectors, the graph above; added a block at a time (a float32 copy
        of one block at most, with a progress bar when asked: linking a million takes a minute)."""
        import faiss
        from tqdm import tqdm

        dim = vectors.shape[1]
        index: Any
        if len(vectors) > HNSW_ABOVE:
            index = faiss.index_factory(dim, f"HNSW{HNSW_M}_SQ8,RFlat", faiss.METRIC_INNER_PRODUCT)
            faiss.downcast_index(index.base_index).hnsw.efConstruction = HNSW_BUILD_DEPTH  # type: ignore[attr-defined]
            sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), TRAIN_SAMPLE), replace=False)
            index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))  # the codes' ranges
        else:
            index = faiss.IndexFlatIP(dim)
        with tqdm(total=len(vectors), desc=f"Writing {type(index).__name__}", unit="vector", unit_scale=True,
                  disable=not progress, dynamic_ncols=True) as bar:
            for at in range(0, len(vectors), block):
                index.add(np.ascontiguousarray(vectors[at:at + block], dtype=np.float32))
                bar.update(min(block, len(vectors) - at))
        return cls(index)

    @classmethod
    def read(cls, path: Path) -> DenseIndex:
        """Memory-mapped: the vectors stay on disk until a search reads them."""
        import faiss

        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        advise_random(path)  # a graph walk and the candidates' vectors read it at random
        return cls(index)

    def write(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @property
    def kind(self) -> str:
        """The FAISS class, as the manifest records it."""
        return type(self._index).__name__

    @property
    def approximate(self) -> bool:
        return self.kind != "IndexFlatIP"

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def _params(self, k: int, selector: Any = None) -> Any:
        """Every search's parameters: the graph's depth (`efSearch`) and the filter, if any."""
        import faiss

        if self.kind == "IndexRefineFlat":
            walk = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_SEARCH_DEPTH, REFINE_FACTOR * k))  # type: ignore[attr-defined]
            return faiss.IndexRefineSearchParameters(k_factor=REFINE_FACTOR, base_index_params=walk)  # type: ignore[call-arg]
        if self.approximate:
            return faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_SEARCH_DEPTH, k))  # type: ignore[attr-defined]
        return None if selector is None else faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]

    def search(self, vector: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `k` rows nearest `vector` among those `mask` allows (all when None): rows, scores, best first."""
        import faiss

        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if k <= 0 or not len(self):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        selector, bitmap = None, None
        if mask is not None:
            if self.approximate and int(np.count_nonzero(mask)) <= EXACT_MASKED_BELOW:
                # A narrow filter (one outlet, one day) starves the graph walk of allowed neighbours;
                # so few rows are scored exactly, as fast.
                allowed = np.flatnonzero(mask)
                return _exact(allowed, self.vectors(allowed) @ query[0], k)
            bitmap = np.packbits(mask, bitorder="little")  # one bit a row: O(rows / 8) to make, not a hash set
            selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
        scores, rows = self._index.search(query, min(k, len(self)), params=self._params(k, selector))
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    def vectors(self, rows: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """The stored vectors of `rows` (all when None), float32: exact, never the 8-bit codes."""
        if rows is None:
            return self._index.reconstruct_n(0, len(self))  # type: ignore[no-any-return]
        at = np.asarray(rows, dtype=np.int64)
        if not len(at):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_batch(at)  # type: ignore[no-any-return]


def _exact(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best of `rows` by `scores`, best first (ties by row)."""
    k = min(k, len(rows))
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((rows[top], -scores[top]))]
    return rows[top].astype(np.int64), scores[top].astype(np.float32)


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

    @staticmethod
    def write(folder: Path, per_chunk: Sequence[np.ndarray], dim: int, block: int = 16_384) -> int:
        """Write `per_chunk` as the two files without holding them together in memory: the header,
        then each block of chunks' vectors appended in turn (plain writes, so a full disk is an
        OSError, not the SIGBUS a memory-mapped output file gets); returns how many were written."""
        offsets = np.zeros(len(per_chunk) + 1, dtype=np.int64)
        counts = getattr(per_chunk, "counts", None)  # a spool knows them without reading its rows
        np.cumsum(counts if counts is not None else [len(v) for v in per_chunk], out=offsets[1:])
        total = int(offsets[-1])
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float16)), "fortran_order": False,
                  "shape": (total, dim)}
        with open(folder / SENTENCES, "wb") as f:
            np.lib.format.write_array_header_1_0(f, header)
            for at in range(0, len(per_chunk) if total else 0, block):
                part = [np.asarray(v, dtype=np.float16).reshape(-1, dim) for v in per_chunk[at:at + block]]
                if part:
                    f.write(np.ascontiguousarray(np.concatenate(part)).tobytes())
        with open(folder / OFFSETS, "wb") as f:
            np.save(f, offsets, allow_pickle=False)
        return total

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
        advise_random(folder / SENTENCES)  # read a few candidates' rows at a time
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
