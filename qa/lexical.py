"""BM25 over chunk texts, as term-major postings in plain numpy arrays (saved as one .npz).

Text is folded (NFKD, accents dropped, lower case) and split into words; stop words are dropped
and a light suffix strip makes "crossings"/"crossing" one term.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

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


class LexicalIndex(Protocol):
    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...
    def save(self, path: Path) -> None: ...


class BM25Index:
    """Okapi BM25 with weights precomputed per (term, chunk): a query is a few array additions."""

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, rows: np.ndarray,
                 weights: np.ndarray, n_docs: int) -> None:
        self.vocab, self.indptr, self.rows, self.weights, self.n_docs = vocab, indptr, rows, weights, n_docs

    @classmethod
    def build(cls, texts: Iterable[str], k1: float = 1.2, b: float = 0.75) -> BM25Index:
        vocab: dict[str, int] = {}
        postings: list[list[tuple[int, int]]] = []
        lengths = []
        for row, text in enumerate(texts):
            terms = analyze(text)
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                tid = vocab.setdefault(term, len(vocab))
                if tid == len(postings):
                    postings.append([])
                postings[tid].append((row, tf))
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
            idf = np.log(1.0 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
            norm = freq + k1 * (1.0 - b + b * dl[r] / avgdl)
            rows[indptr[tid]:indptr[tid + 1]] = r
            weights[indptr[tid]:indptr[tid + 1]] = idf * freq * (k1 + 1.0) / norm
        return cls(vocab, indptr, rows, weights, n)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (a repeated query term counts once per use)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in analyze(query):
            tid = self.vocab.get(term)
            if tid is not None:
                s, e = self.indptr[tid], self.indptr[tid + 1]
                out[self.rows[s:e]] += self.weights[s:e]
        return out

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (rows, scores), best first, among rows where `allowed` (bool mask) is True."""
        scores = self.scores(query)
        if allowed is not None:
            scores[~allowed] = 0.0
        k = min(k, int(np.count_nonzero(scores)))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return top.astype(np.int64), scores[top]

    def save(self, path: Path) -> None:
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        with open(path, "wb") as f:
            np.savez(f, vocab=np.frombuffer(json.dumps(terms).encode("utf-8"), dtype=np.uint8),
                     indptr=self.indptr, rows=self.rows, weights=self.weights,
                     n_docs=np.asarray([self.n_docs]))

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        with np.load(path, allow_pickle=False) as z:
            terms: Sequence[str] = json.loads(z["vocab"].tobytes().decode("utf-8"))
            index = cls({t: i for i, t in enumerate(terms)}, z["indptr"], z["rows"], z["weights"],
                        int(z["n_docs"][0]))
        if len(index.indptr) != len(terms) + 1 or index.indptr[-1] != len(index.rows):
            raise ValueError("postings do not match the vocabulary")
        return index
