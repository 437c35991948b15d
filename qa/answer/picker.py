"""The answer's sentence picker and its abstention check: two small logistic models fitted on data.

Each candidate sentence of the top passages gets a vector of signals (`sentence_features`); the
picker scores it as the probability that it states the evidence. The abstention check scores the
question as a whole (`question_features`: how well the best sentence and the top passages cover
what was asked) as the probability that the archive does not answer it. Both are fitted by
`eval/fit_answerer.py` on MultiHop-RAG dev (evidence facts are sentences; null queries have
none) with k-fold held-out figures in `docs/benchmarks.md`; weights ship in `qa/data/answer.json`.
Nothing reads a benchmark's answers at query time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from qa.answer.intent import Intent
from qa.text import analyze, skeleton
from qa.types import Hit

SENTENCE_FEATURES = ("cos", "overlap", "idf_overlap", "rank", "comment", "fits", "lede", "quoted", "names",
                     "length", "passage_score", "cos_gap", "overlap_gap", "idf_gap")
QUESTION_FEATURES = ("best_logit", "best_cos", "best_idf_overlap", "passage_idf_cover", "missing_idf",
                     "dense", "fits_any", "names_cover", "rare_missing", "focus_cover", "type_cover")
SPAN_FEATURES = ("best_logit", "passages", "sentences", "in_title", "one_word", "long", "in_question",  # qa.answer.span
                 "person_asked", "person_shaped", "first_in_sentence", "acronym", "joined", "bias_thing",
                 "body_passages")
Idf = Callable[[str], float]


def uniform_idf(term: str) -> float:
    """Every term weighs the same: the weighting when no index is at hand."""
    return 1.0


@dataclass(frozen=True)
class Candidate:
    hit: int  # position in the hit list
    start: int
    end: int
    text: str
    quoted: bool
    vector: np.ndarray | None = None  # the sentence's stored vector, when the index has one


def idf_share(terms: dict[str, float], present: set[str]) -> float:
    """IDF-weighted share of the question's terms present: `idf_share({'a': 1, 'b': 3}, {'b'})` -> `0.75`."""
    total = sum(terms.values())
    return sum(w for t, w in terms.items() if t in present) / total if total else 0.0


def with_variants(words: set[str], terms: dict[str, float] | set[str]) -> set[str]:
    """`words` plus each question term that a word spells another way (same consonants, as names
    are spelt: "walid" for "waleed"), so "Al Walid" and "Al Waleed" questions read a sentence alike."""
    shapes = {(w[:2], skeleton(w)) for w in words if len(w) >= 4 and w.isalpha()}
    return words | {t for t in terms
                    if t not in words and len(t) >= 4 and t.isalpha() and (t[:2], skeleton(t)) in shapes}


def sentence_features(question: str, intent: Intent, q_vector: np.ndarray | None, hits: Sequence[Hit],
                      candidates: Sequence[Candidate], idf: Idf = uniform_idf) -> np.ndarray:
    """One row of `SENTENCE_FEATURES` per candidate."""
    if not candidates:
        return np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float32)
    terms = {t: idf(t) for t in set(analyze(question))}
    names = set(intent.names)
    scores = np.array([h.score for h in hits], dtype=np.float64)
    lo, span = (float(scores.min()), float(np.ptp(scores))) if len(scores) else (0.0, 0.0)
    rows = []
    for c in candidates:
        words = with_variants(set(analyze(c.text)), terms)
        hit = hits[c.hit]
        cos = float(c.vector.astype(np.float32) @ q_vector) if c.vector is not None and q_vector is not None else 0.0
        rows.append([
            cos,
            len(words & set(terms)) / len(terms) if terms else 0.0,
            idf_share(terms, words),
            float(c.hit),
            float(hit.chunk.kind == "comment"),
            float(intent.fits(c.text)),
            float(hit.chunk.start == 0 and c.start == 0 and hit.chunk.kind == "article"),
            float(c.quoted),
            len(names & words) / len(names) if names else 1.0,
            math.log1p(len(c.text.split())),
            (hit.score - lo) / span if span > 0 else 1.0,
            0.0, 0.0, 0.0,
        ])
    x = np.array(rows, dtype=np.float32)
    for gap, col in ((11, 0), (12, 1), (13, 2)):
        x[:, gap] = x[:, col] - x[:, col].max()
    return x


_AUX = r"(?:were|was|did|does|do|is|are|has|have|had|will|would|can|could)"
_FOCUS = [
    # "What is the population of X?", "Who was the prime minister of Iraq when …?", "the name of the hotel at X"
    re.compile(r"^\s*(?:what|who)(?:'s|\s+is|\s+was|\s+are|\s+were)\s+(?:the\s+)?(?:name\s+of\s+(?:the\s+)?)?"
               r"(?P<f>(?:[\w\-]+\s+){0,2}?[\w\-]+)\s+(?:of|in|at|for|on|when|who|that|behind|during)\b", re.I),
    # "How many drones did …?", "How much customs revenue does …?"
    re.compile(rf"^\s*how\s+(?:many|much)\s+(?P<f>(?:[\w\-]+\s+){{0,3}}?[\w\-]+)\s+{_AUX}\b", re.I),
]
_TYPE = re.compile(rf"^\s*(?:which|what)\s+(?P<f>[\w\-]+(?:\s+[\w\-]+)?)\s+(?:{_AUX}|\w+ed|\w+s)\b", re.I)


def focus_terms(question: str) -> tuple[set[str], set[str]]:
    """What a question asks about the subject, as terms: the attribute it names ("population", "prime
    minister", "drones") and the type of the thing it asks for ("which bank"). A sentence that answers
    it says the attribute; the type is often left unsaid ("Reuters", not "news agency").

    `focus_terms('What is the population of Al Qaim?')` -> `({'population'}, set())`
    """
    text = re.sub(r"^\s*according to [^,]+,\s*", "", question, flags=re.I)
    focus: set[str] = set()
    for pattern in _FOCUS:
        if m := pattern.match(text):
            focus |= set(analyze(m["f"]))
    kind = set(analyze(m["f"])) if (m := _TYPE.match(text)) else set()
    return focus, kind - focus


def _focus_cover(question: str, terms: dict[str, float], sentences: list[set[str]]) -> tuple[float, float]:
    """Share of the attribute terms, and of the type terms, said by one of the best sentences (1 when none)."""
    focus, kind = focus_terms(question)
    said = set().union(*sentences) if sentences else set()
    return (len(focus & said) / len(focus) if focus else 1.0, len(kind & said) / len(kind) if kind else 1.0)


def question_features(question: str, intent: Intent, hits: Sequence[Hit], sentences: Sequence[Candidate],
                      x: np.ndarray, logits: np.ndarray, idf: Idf = uniform_idf, passages: int = 4) -> np.ndarray:
    """`QUESTION_FEATURES` for one question, from its candidate sentences, their features and picker logits."""
    terms = {t: idf(t) for t in set(analyze(question))}
    text = " ".join(f"{h.chunk.title} {h.source or ''} {h.chunk.text}" for h in hits[:passages])
    present = with_variants(set(analyze(text)), terms)
    names = set(intent.names)
    missing = [w for t, w in terms.items() if t not in present]
    best_three: list[int] = [int(i) for i in np.argsort(-logits)[:3]]
    candidates_text = [with_variants(set(analyze(sentences[i].text)), terms) for i in best_three]
    best = int(np.argmax(logits)) if len(logits) else -1
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    return np.array([
        float(logits[best]) if best >= 0 else -10.0,
        float(x[:, 0].max()) if len(x) else 0.0,
        float(x[best, 2]) if best >= 0 else 0.0,
        idf_share(terms, present),
        sum(missing),
        max(dense) if dense else 0.0,
        float(x[:, 5].max()) if len(x) else 0.0,
        len(names & present) / len(names) if names else 1.0,
        max(missing, default=0.0),
        *_focus_cover(question, terms, candidates_text),
    ], dtype=np.float32)


@dataclass(frozen=True)
class Logistic:
    """`p = sigmoid(w · (x - mean) / scale + b)`: standardised inputs, so the weights read as effects."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    def logit(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0, dtype=np.float64)
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.weights + self.bias

    def record(self) -> dict[str, object]:
        return {"weights": self.weights.tolist(), "bias": self.bias, "mean": self.mean.tolist(),
                "scale": self.scale.tolist()}

    @classmethod
    def from_record(cls, r: dict[str, object], width: int) -> Logistic:
        w = np.asarray(r["weights"], dtype=np.float64)
        mean, scale = np.asarray(r["mean"], dtype=np.float64), np.asarray(r["scale"], dtype=np.float64)
        if w.shape != (width,) or mean.shape != (width,) or scale.shape != (width,):
            raise ValueError(f"expected {width} weights")
        return cls(w, float(r["bias"]), mean, scale)  # type: ignore[arg-type]


@dataclass(frozen=True)
class AnswerModel:
    """The fitted picker and abstention check, with the choices fitted beside them."""

    picker: Logistic
    abstain: Logistic
    threshold: float  # abstain when the abstention logit is above it
    second: float  # quote a second sentence when its logit is within this of the best's
    source: str = ""  # how it was fitted
    span: Logistic | None = None  # scores the name phrases a name question may be answered with
    span_threshold: float = float("inf")  # lead with the best phrase when its logit is above it

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({
            "version": 1, "sentence_features": list(SENTENCE_FEATURES), "question_features": list(QUESTION_FEATURES),
            "picker": self.picker.record(), "abstain": self.abstain.record(), "threshold": self.threshold,
            "second": self.second, "source": self.source,
            "span": self.span.record() if self.span else None,
            "span_threshold": self.span_threshold if self.span else None}, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, text: str) -> AnswerModel:
        r = json.loads(text)
        if (r.get("version") != 1 or r.get("sentence_features") != list(SENTENCE_FEATURES)
                or r.get("question_features") != list(QUESTION_FEATURES)):
            raise ValueError("answer model written for other features")
        span = Logistic.from_record(r["span"], len(SPAN_FEATURES)) if r.get("span") else None
        return cls(Logistic.from_record(r["picker"], len(SENTENCE_FEATURES)),
                   Logistic.from_record(r["abstain"], len(QUESTION_FEATURES)),
                   float(r["threshold"]), float(r["second"]), str(r.get("source", "")), span,
                   float(r["span_threshold"]) if span else float("inf"))


@lru_cache(maxsize=1)
def default_model() -> AnswerModel:
    """The shipped model (`qa/data/answer.json`)."""
    return AnswerModel.load(resources.files("qa").joinpath("data/answer.json").read_text(encoding="utf-8"))
