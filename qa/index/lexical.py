"""Lexical search: BM25 from `bm25s` over the shared analysis of `qa.text`, plus the project's
query expansion (other spellings of a name, aliases the archive defines) as weights over its arrays.

The index is a folder: bm25s's score matrix (term-major CSC arrays, memory-mapped on load), its
vocabulary and parameters, and this module's own `terms.json` (each term's common spelling and
the alias table) and `proper.npy` (how often each term is written capitalised).
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from qa.aliases import alias_table, count_aliases, expand
from qa.cache import Recent
from qa.text import STOPWORDS, analyze, fold, skeleton, stem, words
from qa.tuning import TUNING

if TYPE_CHECKING:
    import bm25s

_WORD = re.compile(r"\w+")
K1, B = TUNING.bm25_k1, TUNING.bm25_b  # chosen numbers live in qa/tuning.py, with the rows that chose them
PROPER_SHARE = TUNING.proper_share  # a term written capitalised at least this often is taken for a name
VARIANT_WEIGHT = TUNING.variant_weight  # a name's other spellings count this much when the asked one exists
ALIAS_WEIGHT = TUNING.alias_weight  # aliases ("Daesh" for "Islamic State") count this much
_BM25S_FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json",
                "params.index.json")
FILES = tuple(f"lexical/{name}" for name in (*_BM25S_FILES, "terms.json", "proper.npy"))  # under a build folder


def bm25_idf(n_docs: int, df: int) -> float:
    """Okapi BM25's inverse document frequency (never negative): `bm25_idf(10, 10)` -> `log(1 + 0.5/10.5)`."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


class LexicalIndex(Protocol):
    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...
    def save(self, path: Path) -> None: ...


def _empty_bm25(n_docs: int) -> bm25s.BM25:
    """A bm25s index with no terms (an archive of empty passages), which bm25s itself cannot build."""
    import bm25s

    model = bm25s.BM25(k1=K1, b=B, method="lucene")
    model.scores = {"data": np.zeros(0, np.float32), "indices": np.zeros(0, np.int32),
                    "indptr": np.zeros(1, np.int32), "num_docs": n_docs}
    model.vocab_dict = {}
    model.nonoccurrence_array = None
    return model


class _Pairs:
    """Each chunk's distinct terms and their counts, packed in flat arrays as the chunks are read (8 bytes
    a pair, where lists of term ids per chunk took 4 to 5 times as much), then turned into bm25s's
    score matrix: the same arrays `bm25s.BM25.index` makes (each chunk scored by bm25s's own functions),
    without its copies of every pair, so a million chunks' lexical index is built in a third of the memory."""

    def __init__(self) -> None:
        self.terms = array("i")  # term ids, chunk after chunk, each chunk's in order of first use
        self.counts = array("i")  # how often each is used in its chunk
        self.sizes = array("i")  # distinct terms of each chunk
        self.lengths = array("i")  # terms of each chunk, repeats counted (bm25s's document length)

    @property
    def n_docs(self) -> int:
        return len(self.sizes)

    def add(self, row: list[int]) -> None:
        counted = Counter(row)
        self.terms.extend(counted.keys())
        self.counts.extend(counted.values())
        self.sizes.append(len(counted))
        self.lengths.append(len(row))

    def scores(self, n_vocab: int, k1: float, b: float) -> dict[str, Any]:
        """bm25s's "lucene" BM25 as term-major CSC arrays (data float32, indices int32, indptr int64)."""
        from bm25s.scoring import _score_idf_lucene, _score_tfc_lucene

        terms = np.frombuffer(self.terms, dtype=np.int32)
        counts = np.frombuffer(self.counts, dtype=np.int32)
        n_docs = self.n_docs
        avg_doc_len = np.array(self.lengths, dtype=np.int64).mean()  # as bm25s takes it
        df = np.bincount(terms, minlength=n_vocab)
        idf = np.zeros(n_vocab, dtype=np.float32)
        for tid in np.flatnonzero(df).tolist():
            idf[tid] = _score_idf_lucene(int(df[tid]), N=n_docs)
        data = np.empty(len(terms), dtype=np.float32)
        at = 0
        for size, length in zip(self.sizes, self.lengths):  # bm25s's per-chunk arithmetic, dtypes and all
            voc = terms[at:at + size]
            tfc = _score_tfc_lucene(tf_array=counts[at:at + size].astype(np.float32), l_d=length, l_avg=avg_doc_len,
                                    k1=k1, b=b)
            data[at:at + size] = idf[voc] * tfc
            at += size
        order = np.argsort(terms, kind="stable")  # term-major; within a term, chunks stay in rising order
        data = data[order]
        indices = np.repeat(np.arange(n_docs, dtype=np.int32), np.frombuffer(self.sizes, dtype=np.int32))[order]
        del order
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        return {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}


class BM25Index:
    """BM25 scores per (term, chunk) from bm25s; a query is a few weighted array additions."""

    def __init__(self, model: bm25s.BM25, surface: list[str], proper: np.ndarray,
                 aliases: dict[str, list[str]] | None = None) -> None:
        self.model = model
        self.vocab: dict[str, int] = model.vocab_dict
        # plain views: over a memory-mapped file they still page in on demand, without np.memmap's per-slice cost
        self.indptr: np.ndarray = np.asarray(model.scores["indptr"])
        self.rows: np.ndarray = np.asarray(model.scores["indices"])
        self.weights: np.ndarray = np.asarray(model.scores["data"])
        self.n_docs = int(model.scores["num_docs"])
        self.surface = surface  # each term's most common folded spelling: "waleed" for the stem "wale"
        self.proper = proper
        self.aliases = aliases or {}
        self._skeletons: dict[str, list[str]] | None = None
        self._terms: Recent[str, dict[str, float]] = Recent(64)  # recent queries' weighted terms
        self._last_scores: tuple[str, np.ndarray] | None = None

    @classmethod
    def build(cls, texts: Iterable[str], k1: float = K1, b: float = B) -> BM25Index:
        """One pass over `texts` (an iterator is read once, never held whole): each text is kept
        only as its term ids."""
        import bm25s

        word_counts: Counter[str] = Counter()
        capitalised: Counter[str] = Counter()
        alias_counts: dict[tuple[str, str], int] = {}
        stems: dict[str, str] = {}
        vocab: dict[str, int] = {}
        pairs = _Pairs()
        for text in texts:
            folded = [w for w in _WORD.findall(fold(text)) if w not in STOPWORDS]
            word_counts.update(folded)
            capitalised.update(_WORD.findall(fold(" ".join(w for w in _WORD.findall(text) if w[0].isupper()))))
            count_aliases(text, alias_counts)
            row = []
            for w in folded:
                term = stems.get(w)
                if term is None:
                    term = stems[w] = stem(w)
                row.append(vocab.setdefault(term, len(vocab)))
            pairs.add(row)
        occurrences = np.zeros(len(vocab), dtype=np.float64)
        caps = np.zeros(len(vocab), dtype=np.float64)
        best = np.zeros(len(vocab), dtype=np.int64)
        surface = [""] * len(vocab)
        for w in sorted(word_counts):
            tid, n = vocab[stems[w]], word_counts[w]
            occurrences[tid] += n
            caps[tid] += capitalised.get(w, 0)
            if n > best[tid]:
                best[tid], surface[tid] = n, w
        proper = np.minimum(1.0, caps / np.maximum(occurrences, 1.0)).astype(np.float32)
        if vocab:
            model = bm25s.BM25(k1=k1, b=b, method="lucene")
            model.scores = pairs.scores(len(vocab), k1, b)
            model.vocab_dict = vocab
            model.nonoccurrence_array = None
            model.unique_token_ids_set = set(vocab.values())
        else:
            model = _empty_bm25(pairs.n_docs)
        return cls(model, surface, proper, alias_table(alias_counts))

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of an analysed term; a term the index lacks gets the highest."""
        tid = self.vocab.get(term)
        return bm25_idf(self.n_docs, 0 if tid is None else int(self.indptr[tid + 1] - self.indptr[tid]))

    def variants(self, word: str, capitalised: bool = False) -> list[str]:
        """Terms of other spellings of a name in the index: same consonant skeleton, mostly
        capitalised (`walid` -> the term of `waleed`). `word` is a folded word of the query; one the
        index lacks counts as a name when the question capitalised it."""
        if len(word) < 4 or not word.isalpha():
            return []
        if self._skeletons is None:  # built whole, then published: another thread never sees half of it
            skeletons: dict[str, list[str]] = {}
            for t, i in self.vocab.items():
                s = self.surface[i]
                if len(s) >= 4 and s.isalpha() and self.proper[i] >= PROPER_SHARE:
                    skeletons.setdefault(skeleton(s), []).append(t)
            self._skeletons = skeletons
        own = stem(word)
        known = self.vocab.get(own)
        if (self.proper[known] < PROPER_SHARE) if known is not None else not capitalised:
            return []
        return [v for v in self._skeletons.get(skeleton(word), []) if v != own]

    def query_terms(self, query: str) -> dict[str, float]:
        """Weighted terms: the query's own, other spellings of its names, and aliases of the names
        it uses (`Daesh` -> `Islamic State`), the last two at a discount. Cached for recent queries:
        one question is searched several times (per outlet, per date, for the reranker)."""
        return dict(self._terms.get(query, self._query_terms))

    def _query_terms(self, query: str) -> dict[str, float]:
        asked = [w for w in words(query) if w not in STOPWORDS]
        weights: dict[str, float] = {}
        for w in asked:
            weights[stem(w)] = weights.get(stem(w), 0.0) + 1.0
        names = {fold(w) for w in _WORD.findall(query) if w[0].isupper()}
        for w in dict.fromkeys(asked):
            for v in self.variants(w, w in names):
                weights.setdefault(v, VARIANT_WEIGHT if stem(w) in self.vocab else 1.0)
        for phrase in expand(query, self.aliases):
            for term in analyze(phrase):
                weights.setdefault(term, ALIAS_WEIGHT)
        return weights

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (a repeated query term counts once per use);
        read-only. The last query's array is kept: one question is scored for its main list, each
        outlet or date it names, and the reranker."""
        last = self._last_scores
        if last is not None and last[0] == query:
            return last[1]
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term, weight in self.query_terms(query).items():
            tid = self.vocab.get(term)
            if tid is not None:
                s, e = self.indptr[tid], self.indptr[tid + 1]
                out[self.rows[s:e]] += np.float32(weight) * self.weights[s:e]
        out.setflags(write=False)
        self._last_scores = (query, out)
        return out

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (rows, scores), best first, among rows where `allowed` (bool mask) is True."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, np.float32(0.0))
        k = min(k, int(np.count_nonzero(scores)))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return top.astype(np.int64), scores[top]

    def save(self, path: Path) -> None:
        """Write the index folder `path` (bm25s's files, then this module's two)."""
        self.model.save(path, show_progress=False)
        (path / "terms.json").write_text(json.dumps({"surface": self.surface, "aliases": self.aliases}),
                                         encoding="utf-8")
        np.save(path / "proper.npy", self.proper, allow_pickle=False)

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        """Read an index folder, its arrays memory-mapped. Raises ValueError for a folder that is not
        a complete lexical index of this version (OSError for one that cannot be read)."""
        import bm25s

        missing = [name for name in (*_BM25S_FILES, "terms.json", "proper.npy") if not (path / name).is_file()]
        if missing:
            raise ValueError(f"lexical index lacks {', '.join(missing)}")
        try:
            model = bm25s.BM25.load(path, mmap=True, show_progress=False)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"lexical parameters unreadable ({exc})") from None
        terms: dict[str, Any] = json.loads((path / "terms.json").read_text(encoding="utf-8"))
        proper = np.load(path / "proper.npy", mmap_mode="r", allow_pickle=False)
        surface, aliases = terms.get("surface"), terms.get("aliases")
        if not isinstance(surface, list) or not isinstance(aliases, dict) or not isinstance(
                model.scores.get("num_docs"), int):
            raise ValueError("lexical terms or parameters incomplete")
        index = cls(model, surface, proper, aliases)
        n_terms = len(index.vocab)
        if (len(index.indptr) != n_terms + 1 or int(index.indptr[-1]) != len(index.rows)
                or len(index.rows) != len(index.weights)
                or len(proper) != n_terms or len(surface) != n_terms
                or sorted(index.vocab.values()) != list(range(n_terms))):
            raise ValueError("postings do not match the vocabulary")
        return index
