"""BM25 over chunk texts, as term-major postings in plain numpy arrays (saved as one .npz).

Text is folded (NFKD, accents dropped, lower case) and split into words; stop words are dropped
and a light suffix strip makes "crossings"/"crossing" one term.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.cache import Recent

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves s t said says""".split()
)
_WORD = re.compile(r"\w+")
PROPER_SHARE = 0.6  # a term written capitalised at least this often is taken for a name
VARIANT_WEIGHT = 0.7  # a name's other spellings count this much when the asked one exists too
ALIAS_WEIGHT = 0.5  # aliases ("Daesh" for "Islamic State") count this much


def _json_bytes(value: object) -> np.ndarray:
    return np.frombuffer(json.dumps(value).encode("utf-8"), dtype=np.uint8)


def skeleton(term: str) -> str:
    """First letter, then consonants without repeats: `waleed` and `walid` -> `wld`."""
    rest = re.sub(r"[aeiouy]", "", term[1:])
    return term[0] + re.sub(r"(.)\1+", r"\1", rest)


def fold(text: str) -> str:
    """`'Al-Walíd’s'` -> `'al-walid's'`: compatibility-normalised, accents dropped, lower case."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().replace("’", "'")


def stem(word: str) -> str:
    """A light English suffix strip: `crossings`→`crossing`, `forces`→`forc`, `police`→`polic`."""
    for suffix, keep in (("ies", "y"), ("es", ""), ("s", ""), ("e", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def analyze(text: str) -> list[str]:
    """Terms of a text: `analyze('The crossings of Al Waleed')` -> `['crossing', 'al', 'waleed']`."""
    return [stem(w) for w in _WORD.findall(fold(text)) if w not in STOPWORDS]


def bm25_idf(n_docs: int, df: int) -> float:
    """Okapi BM25's inverse document frequency (never negative): `bm25_idf(10, 10)` -> `log(1 + 0.5/10.5)`."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


class LexicalIndex(Protocol):
    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...
    def save(self, path: Path) -> None: ...


class BM25Index:
    """Okapi BM25 with weights precomputed per (term, chunk): a query is a few array additions."""

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, rows: np.ndarray, weights: np.ndarray,
                 n_docs: int, proper: np.ndarray | None = None, aliases: dict[str, list[str]] | None = None) -> None:
        self.vocab, self.indptr, self.rows, self.weights, self.n_docs = vocab, indptr, rows, weights, n_docs
        self.proper = proper if proper is not None else np.zeros(len(vocab), dtype=np.float32)
        self.aliases = aliases or {}
        self._skeletons: dict[str, list[str]] | None = None
        self._terms: Recent[str, dict[str, float]] = Recent(64)  # recent queries' weighted terms
        self._last_scores: tuple[str, np.ndarray] | None = None

    @classmethod
    def build(cls, texts: Iterable[str], k1: float = 1.2, b: float = 0.75) -> BM25Index:
        from qa.aliases import build_aliases

        texts = list(texts)
        vocab: dict[str, int] = {}
        postings: list[list[tuple[int, int]]] = []
        lengths = []
        capitalised: Counter[str] = Counter()
        for row, text in enumerate(texts):
            terms = analyze(text)
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                tid = vocab.setdefault(term, len(vocab))
                if tid == len(postings):
                    postings.append([])
                postings[tid].append((row, tf))
            for word in _WORD.findall(text):
                if word[0].isupper():
                    capitalised[stem(fold(word))] += 1
        n = len(lengths)
        dl = np.asarray(lengths, dtype=np.float32)
        avgdl = float(dl.mean()) if n and dl.mean() > 0 else 1.0
        indptr = np.zeros(len(postings) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(p) for p in postings])
        rows = np.empty(indptr[-1], dtype=np.int32)
        weights = np.empty(indptr[-1], dtype=np.float32)
        for tid, plist in enumerate(postings):
            r = np.fromiter((p[0] for p in plist), dtype=np.int32, count=len(plist))
            freq = np.fromiter((p[1] for p in plist), dtype=np.float32, count=len(plist))
            idf = bm25_idf(n, len(plist))
            norm = freq + k1 * (1.0 - b + b * dl[r] / avgdl)
            rows[indptr[tid]:indptr[tid + 1]] = r
            weights[indptr[tid]:indptr[tid + 1]] = idf * freq * (k1 + 1.0) / norm
        proper = np.zeros(len(vocab), dtype=np.float32)
        for term, tid in vocab.items():
            occurrences = sum(tf for _, tf in postings[tid])
            proper[tid] = min(1.0, capitalised[term] / occurrences)
        return cls(vocab, indptr, rows, weights, n, proper, build_aliases(texts))

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of an analysed term; a term the index lacks gets the highest."""
        tid = self.vocab.get(term)
        return bm25_idf(self.n_docs, 0 if tid is None else int(self.indptr[tid + 1] - self.indptr[tid]))

    def variants(self, term: str, capitalised: bool = False) -> list[str]:
        """Other spellings of a name in the index: same consonant skeleton, mostly capitalised
        (`walid` -> `waleed`). A term the index lacks counts as a name when the question
        capitalised it."""
        if len(term) < 4 or not term.isalpha():
            return []
        if self._skeletons is None:  # built whole, then published: another thread never sees half of it
            skeletons: dict[str, list[str]] = {}
            for t, i in self.vocab.items():
                if len(t) >= 4 and t.isalpha() and self.proper[i] >= PROPER_SHARE:
                    skeletons.setdefault(skeleton(t), []).append(t)
            self._skeletons = skeletons
        known = self.vocab.get(term)
        if (self.proper[known] < PROPER_SHARE) if known is not None else not capitalised:
            return []
        return [v for v in self._skeletons.get(skeleton(term), []) if v != term]

    def query_terms(self, query: str) -> dict[str, float]:
        """Weighted terms: the query's own, other spellings of its names, and aliases of the names
        it uses (`Daesh` -> `Islamic State`), the last two at a discount. Cached for recent queries:
        one question is searched several times (per outlet, per date, for the reranker)."""
        return dict(self._terms.get(query, self._query_terms))

    def _query_terms(self, query: str) -> dict[str, float]:
        from qa.aliases import expand

        weights: dict[str, float] = {}
        for term in analyze(query):
            weights[term] = weights.get(term, 0.0) + 1.0
        names = {stem(fold(w)) for w in _WORD.findall(query) if w[0].isupper()}
        for term in list(weights):
            for v in self.variants(term, term in names):
                weights.setdefault(v, VARIANT_WEIGHT if term in self.vocab else 1.0)
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
                out[self.rows[s:e]] += weight * self.weights[s:e]
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
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        with open(path, "wb") as f:
            np.savez(f, vocab=_json_bytes(terms), aliases=_json_bytes(self.aliases), proper=self.proper,
                     indptr=self.indptr, rows=self.rows, weights=self.weights,
                     n_docs=np.asarray([self.n_docs]))

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        """Raises ValueError for a file that is not a complete BM25 index of this version."""
        with np.load(path, allow_pickle=False) as z:
            missing = {"vocab", "aliases", "proper", "indptr", "rows", "weights", "n_docs"} - set(z.files)
            if missing:
                raise ValueError(f"lexical index lacks {', '.join(sorted(missing))}")
            terms: Sequence[str] = json.loads(z["vocab"].tobytes().decode("utf-8"))
            index = cls({t: i for i, t in enumerate(terms)}, z["indptr"], z["rows"], z["weights"],
                        int(z["n_docs"][0]), z["proper"], json.loads(z["aliases"].tobytes().decode("utf-8")))
        if (len(index.indptr) != len(terms) + 1 or index.indptr[-1] != len(index.rows)
                or len(index.proper) != len(terms)):
            raise ValueError("postings do not match the vocabulary")
        return index
