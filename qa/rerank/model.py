"""The reranker's model: loading its weights file and scoring a candidate context.

The file is JSON: `features` (names, in the order of the columns the arrays expect), `mean` and `std`
(per feature), `w1` (features x hidden), `b1`, `w2` (hidden), `b2`, and `info` (the embedding model and
runtime it was fitted on, `min_terms`, how and when it was fitted, held-out figures). One file per
embedding runtime, since each runtime's cosines sit on a slightly different scale: `qa/data/rerank.json`
(torch, written by `eval/train_rerank.py`) and `qa/data/rerank-onnx-int8.json` (written by
`eval/runtime_parity.py --write-int8`); `weights_file(runtime)` names the one an index's runtime reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.rerank.context import Context
from qa.rerank.features import FEATURES, feature_matrix
from qa.text import analyze

WEIGHTS_FILE = Path(__file__).resolve().parent.parent / "data" / "rerank.json"  # fitted on torch's cosines
RUNTIME_FILES = {"onnx-int8": WEIGHTS_FILE.with_name("rerank-onnx-int8.json")}  # other runtimes' own fits
_ARRAYS = ("mean", "std", "w1", "b1", "w2")


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


@dataclass(frozen=True, eq=False)
class Ranker:
    """A one-hidden-layer network over standardised features; `score` is the estimated chance that
    a passage holds evidence for the question. A linear model over the same features ranked worse
    on held-out questions (MRR@10 0.683 against 0.713, `docs/benchmarks.md`): the signals interact
    (a phrase match counts for more in the outlet the question names)."""

    features: tuple[str, ...]  # the registered features its columns are, in order
    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray  # (features, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden,)
    b2: float
    model: str = ""  # the embedding model whose cosines it was fitted on
    runtime: str = "torch"  # and what ran that model (files from before the field: torch)
    min_terms: int = 0  # the fewest distinct terms of a question it was fitted on

    def fits(self, question: str) -> bool:
        """The question is as long as those it was fitted on. A network fitted on long multi-part
        questions extrapolates badly on short ones (a 4-term question's best sentence covers all of
        it, which never happens there), so those are ranked by the first stage alone."""
        return len(set(analyze(question))) >= self.min_terms

    def score(self, x: np.ndarray) -> np.ndarray:
        """Scores of a feature matrix whose columns are `features`."""
        hidden = np.maximum(((x - self.mean) / self.std) @ self.w1 + self.b1, 0.0)
        return sigmoid(hidden @ self.w2 + self.b2)

    def score_context(self, context: Context) -> np.ndarray:
        """Each candidate's score, aligned with `context.rows`."""
        return self.score(feature_matrix(context, self.features))

    def to_json(self, **info: object) -> str:
        arrays = {k: getattr(self, k).tolist() for k in _ARRAYS}
        return json.dumps({"features": list(self.features), **arrays, "b2": self.b2,
                           "info": {"model": self.model, "runtime": self.runtime, **info}})

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Ranker:
        """Raises ValueError for a file naming a feature not registered in `qa.rerank.features`, or
        with arrays of the wrong shape for its features."""
        data = json.loads(path.read_text(encoding="utf-8"))
        names = data.get("features")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{path} lists no features")
        unknown = [n for n in names if n not in FEATURES]
        if unknown:
            raise ValueError(f"{path} was fitted for features {unknown} that qa/rerank/features.py does not "
                             f"define (it defines {', '.join(FEATURES)}); refit with eval/train_rerank.py")
        arrays = {k: np.asarray(data[k], dtype=np.float64) for k in _ARRAYS}
        _check_shapes(path, arrays, len(names))
        info = data.get("info", {})
        return cls(tuple(names), **arrays, b2=float(data["b2"]), model=str(info.get("model", "")),
                   runtime=str(info.get("runtime", "torch")), min_terms=int(info.get("min_terms", 0)))


def _check_shapes(path: Path, arrays: dict[str, np.ndarray], f: int) -> None:
    w1 = arrays["w1"]
    h = w1.shape[1] if w1.ndim == 2 else -1
    expected: dict[str, Sequence[int]] = {"mean": (f,), "std": (f,), "w1": (f, h), "b1": (h,), "w2": (h,)}
    if any(arrays[k].shape != tuple(shape) for k, shape in expected.items()):
        raise ValueError(f"{path} has arrays of the wrong shape for {f} features")


def weights_file(runtime: str = "torch") -> Path:
    """The shipped weights fitted on the cosines of `runtime` (an index's `model.runtime`): its own
    file for a runtime listed in RUNTIME_FILES when it ships, else the torch fit (torch, the test embedders)."""
    own = RUNTIME_FILES.get(runtime)
    return own if own is not None and own.is_file() else WEIGHTS_FILE


def default_ranker(runtime: str = "torch") -> Ranker:
    """The shipped model for an index whose vectors `runtime` computed (each file loaded once)."""
    return _shipped(weights_file(runtime))


@lru_cache(maxsize=4)
def _shipped(path: Path) -> Ranker:
    return Ranker.load(path)
