"""`open_index()` → `IndexReader`: the narrow, read-only view the pipeline searches through.

Per-row facts that filters and caps read on every question (kind, document, date, outlet) are
small arrays in memory; vectors are memory-mapped; passages and document metadata are read from
SQLite by row when a result needs them. Nothing outside `qa.index` sees FAISS or SQLite.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from qa.errors import IndexCorrupt
from qa.index.files import CHUNK_COLS, ROWS, DenseIndex, RowFacts, SentenceVectors, check_rows, read_lexical
from qa.index.folder import check_files, check_model, check_runtime, listed_files, read_manifest, repair_of
from qa.index.lexical import BM25Index
from qa.types import Chunk, Comment, Document

Verify = Literal["now", "background"]


@dataclass(frozen=True)
class PassageMeta:
    """What a search result shows of a passage's document, read by row."""

    doc_id: str
    source: str | None
    url: str | None
    path: str | None


class Verification:
    """Every file of a build hashed against its manifest in a thread; `wait` raises what it found."""

    def __init__(self, build: Path, manifest: dict[str, Any]) -> None:
        self._failure: IndexCorrupt | None = None

        def run() -> None:
            try:
                check_files(build, manifest, hashes=True)
            except IndexCorrupt as exc:
                self._failure = exc

        self._thread = threading.Thread(target=run, name=f"verify {build.name}", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        self._thread.join()
        if self._failure is not None:
            raise self._failure


class IndexReader:
    """A loaded build. Thread-safe for reading: SQLite is behind a lock, the rest is read-only."""

    def __init__(self, build: Path, manifest: dict[str, Any], dense: DenseIndex, lexical: BM25Index,
                 sentences: SentenceVectors, con: sqlite3.Connection,
                 verification: Verification | None = None) -> None:
        self.build, self.manifest = build, manifest
        self.index_dir = build.parent
        self._dense, self.lexical, self._sentences, self._con = dense, lexical, sentences, con
        self._lock = threading.Lock()
        self._verification = verification
        facts = (RowFacts.load(build / ROWS, manifest["counts"]["chunks"]) if ROWS in manifest["files"]
                 else RowFacts.read_sqlite(con))  # a build from before rows.npz
        self.kinds, self.doc_rows, self.days, self.sources = facts.kinds, facts.doc_rows, facts.days, facts.sources
        self.source_names: list[str] = facts.source_names
        self._authors: tuple[np.ndarray, list[str]] | None = None

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def dense_kind(self) -> str:
        """Which FAISS index holds the vectors ("IndexFlatIP" exact, "IndexHNSWFlat" approximate)."""
        return self._dense.kind

    # --- search --------------------------------------------------------------------------------

    def dense_search(self, vector: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `k` rows whose vectors are nearest `vector` (cosine) among those `mask` allows: rows, scores."""
        return self._dense.search(vector, k, mask)

    def dense_scores(self, rows: Sequence[int], vector: np.ndarray) -> np.ndarray:
        """Cosine of each row's vector with `vector`."""
        return (self._dense.vectors(rows) @ np.asarray(vector, dtype=np.float32)).astype(np.float32)

    def lexical_search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best BM25 rows for `query` among those `mask` allows: rows, scores."""
        return self.lexical.search(query, k, mask)

    def lexical_scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for `query`."""
        return self.lexical.scores(query)

    def sentence_vectors(self, rows: Sequence[int]) -> list[np.ndarray]:
        """Each row's sentence vectors (float16); empty for a model that does not mean-pool."""
        return self._sentences.of(rows)

    def sentence_block(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The rows' sentence vectors (float16) row after row, and how many each row has: one read."""
        return self._sentences.block(rows)

    def outlets(self, rows: Sequence[int]) -> list[str | None]:
        """Each row's outlet, None when unknown."""
        return [self.source_names[self.sources[r]] if self.sources[r] >= 0 else None for r in rows]

    def authors(self) -> tuple[np.ndarray, list[str]]:
        """Each row's author (an article's byline, a comment's commenter) as a position in the sorted
        names, -1 when none; read from the database on first use, then kept."""
        if self._authors is None:
            found = self._query("SELECT author FROM chunks ORDER BY row")
            names = sorted({a for (a,) in found if a})
            at = {name: i for i, name in enumerate(names)}
            codes = np.fromiter((at.get(a, -1) if a else -1 for (a,) in found), dtype=np.int32, count=len(found))
            self._authors = (codes, names)
        return self._authors

    def idf(self, term: str) -> float:
        """The BM25 inverse document frequency of an analysed term."""
        return self.lexical.idf(term)

    # --- passages and documents ----------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query; SQLite damaged under a running server is an IndexCorrupt, not a traceback."""
        try:
            with self._lock:
                return self._con.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"{self.build / 'chunks.sqlite'} cannot be read ({exc}).",
                               repair_of(self.index_dir, self.manifest)) from None

    def _by_row(self, sql: str, rows: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        marks = ",".join("?" * len(rows))
        found = {r[0]: r[1:] for r in self._query(sql.format(marks=marks), [int(r) for r in rows])}
        missing = [int(r) for r in rows if int(r) not in found]
        if missing:  # the vectors name a row the database lacks: checked at load, so a change since
            raise IndexCorrupt(f"{self.build / 'chunks.sqlite'} has no passage at row {missing[0]}.",
                               repair_of(self.index_dir, self.manifest))
        return found

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        if not len(rows):
            return []
        found = self._by_row(f"SELECT row, {CHUNK_COLS} FROM chunks WHERE row IN ({{marks}})", rows)
        return [Chunk(*found[int(r)]) for r in rows]

    def meta(self, rows: Sequence[int]) -> list[PassageMeta]:
        """The document facts a result shows, for each row: one query, no bodies or comments read."""
        if not len(rows):
            return []
        found = self._by_row("SELECT c.row, d.doc_id, d.source, d.url, d.path FROM chunks c "
                             "JOIN documents d ON d.doc_id = c.doc_id WHERE c.row IN ({marks})", rows)
        return [PassageMeta(*found[int(r)]) for r in rows]

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
        for r in self._query(f"SELECT {CHUNK_COLS}, content_hash FROM chunks ORDER BY row"):
            yield Chunk(*r[:-1]), r[-1]

    def all_vectors(self) -> np.ndarray:
        """Every stored vector, one row per chunk (float32, in memory)."""
        return self._dense.vectors()

    # --- integrity -----------------------------------------------------------------------------

    def verify(self) -> None:
        """Hash every file against the manifest now; IndexCorrupt naming the first that differs."""
        check_files(self.build, self.manifest, hashes=True)

    def check(self) -> None:
        """Raise IndexCorrupt if the background check found a damaged file (waiting for it to finish):
        called before a result leaves the pipeline, so a damaged build is never served."""
        if self._verification is not None:
            self._verification.wait()

    def close(self) -> None:
        self._con.close()


def open_index(index_dir: Path, model_id: str | None = None, dim: int | None = None,
               fingerprint: str | None = None, verify: Verify = "now", runtime: str | None = None) -> IndexReader:
    """Load the live build, refusing one that another model, dimension or format made (or, unless
    measured equal on ranking, another embedding runtime).

    The manifest and every file's size are checked before a file is read. `verify` "now" also
    hashes every file first; "background" hashes them in a thread while the caller goes on
    (`IndexReader.check` raises what it found)."""
    build, manifest = read_manifest(index_dir)
    check_model(build, manifest, model_id, dim, fingerprint)
    if runtime is not None:
        check_runtime(build, manifest, runtime)
    check_files(build, manifest, hashes=verify == "now")
    # Hashing starts before the files are read: it runs beside the loading (and the model's).
    verification = Verification(build, manifest) if verify == "background" else None
    try:
        return _load(build, manifest, verification)
    except (IndexCorrupt, RuntimeError, ValueError, TypeError, OSError, sqlite3.DatabaseError) as exc:
        if verification is not None:
            verification.wait()  # a damaged file is named, when it is one
        if isinstance(exc, IndexCorrupt):
            raise
        raise IndexCorrupt(f"{build} cannot be read ({exc}).", repair_of(index_dir, manifest)) from None


def _load(build: Path, manifest: dict[str, Any], verification: Verification | None) -> IndexReader:
    n, dim = manifest["counts"]["chunks"], manifest["model"]["dim"]
    dense = DenseIndex.read(build / "vectors.faiss")
    lexical = read_lexical(build / "lexical")
    sentences = SentenceVectors.load(build, n, dim)
    # A URI with the path quoted: `#`, `?` or `%` in a folder name is part of the name, and a read-only
    # open never creates a file (an unquoted `?` would end the path and open another file read-write).
    uri = f"{(build / 'chunks.sqlite').absolute().as_uri()}?mode=ro"
    con = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        check_rows(con, n)
        reader = IndexReader(build, manifest, dense, lexical, sentences, con, verification)
    except BaseException:
        con.close()
        raise
    if len(dense) != n or lexical.n_docs != n or len(reader) != n or dense.dim != dim:
        reader.close()
        raise IndexCorrupt(f"{build}: vectors, postings and chunks disagree in number.",
                           repair_of(build.parent, manifest))
    return reader


def check_counts(build: Path, manifest: dict[str, Any]) -> None:
    """The manifest's counts against what the files hold (documents, comments, passages of each
    kind, sentence vectors), so that a manifest re-sealed with false counts is caught; IndexCorrupt
    naming the first that differs. Call after `check_files`."""
    try:
        reader = _load(build, manifest, None)  # passages against vectors, postings and rows
        try:
            kinds = dict(reader._query("SELECT kind, count(*) FROM chunks GROUP BY kind"))
            found = {
                "documents": reader._query("SELECT count(*) FROM documents")[0][0],
                "comments": reader._query("SELECT count(*) FROM comments")[0][0],
                "chunks": len(reader),
                "article_chunks": kinds.get("article", 0), "comment_chunks": kinds.get("comment", 0),
                "sentence_vectors": len(reader._sentences.vectors),
            }
        finally:
            reader.close()
    except (RuntimeError, ValueError, TypeError, OSError, sqlite3.DatabaseError) as exc:
        raise IndexCorrupt(f"{build} cannot be read ({exc}).", repair_of(build.parent, manifest)) from None
    claimed = manifest["counts"]
    for name, n in found.items():
        if name in claimed and claimed[name] != n:
            raise IndexCorrupt(f"{build / 'manifest.json'} counts {claimed[name]!r} {name.replace('_', ' ')}, but "
                               f"the files hold {n:,}.", repair_of(build.parent, manifest))


def verify_live(index_dir: Path) -> tuple[Path, int, int]:
    """Hash every file of the live build against its manifest, and check the manifest's counts
    against the files: the build, how many files, their bytes. IndexCorrupt naming the first that differs."""
    build, manifest = read_manifest(index_dir)
    check_files(build, manifest, hashes=True)
    check_counts(build, manifest)
    names = listed_files(manifest)
    return build, len(names), sum(manifest["files"][name]["bytes"] for name in names)
