"""Fitting the reranker's network (`qa.rerank.Ranker`): full-batch Adam on the log loss.

Used by `eval/train_rerank.py` (the shipped model), `eval/rerank_ceiling.py` and `eval/bench_fit.py`;
the runtime package only loads and scores the fitted file.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.rerank import FEATURES, Ranker
from qa.rerank.model import sigmoid

HIDDEN = 256  # the shipped model's hidden units (`fit`'s and `eval/train_rerank.py`'s default)
STEPS = 2000  # and its Adam steps


def fit(x: np.ndarray, y: np.ndarray, groups: np.ndarray, hidden: int = HIDDEN, steps: int = STEPS,
        l2: float = 1e-4, seed: int = 0, model: str = "", runtime: str = "torch", dtype: type[np.floating] = np.float32,
        features: Sequence[str] | None = None) -> Ranker:
    """Fit by full-batch Adam on the log loss. `x`'s columns are `features` (every registered
    feature, in registration order, by default). Each question's candidates are weighted so that
    every question counts the same, whatever its number of candidates or of relevant ones.
    Computed in `dtype` (float32 by default: faster than float64, `eval/bench_fit.py`, with the same
    held-out figures); the model is stored in float64. Deterministic for a given seed. `model` and
    `runtime` name the embedding model and what ran it, whose cosines `x` holds."""
    names = tuple(features if features is not None else FEATURES)
    if x.shape[1] != len(names):
        raise ValueError(f"x has {x.shape[1]} columns for {len(names)} features")
    mean = x.mean(axis=0).astype(np.float64)
    std = x.std(axis=0).astype(np.float64)
    std[std < 1e-6] = 1.0
    z = ((x - mean) / std).astype(dtype)
    y = np.asarray(y, dtype=dtype)
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weight = 1.0 / counts[inverse]
    weight = (weight / weight.sum()).astype(dtype)
    rng = np.random.default_rng(seed)
    params = [p.astype(dtype) for p in (rng.normal(0.0, 0.3, (z.shape[1], hidden)), np.zeros(hidden),
                                        rng.normal(0.0, 0.3, hidden), np.zeros(1))]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    for step in range(1, steps + 1):
        h = np.maximum(z @ params[0] + params[1], 0.0)
        err = (sigmoid(h @ params[2] + params[3]) - y) * weight
        dh = np.outer(err, params[2]) * (h > 0)
        grads = [z.T @ dh + l2 * params[0], dh.sum(axis=0), h.T @ err + l2 * params[2], np.array([err.sum()])]
        for p, g, a, b in zip(params, grads, m1, m2):
            a *= 0.9
            a += 0.1 * g
            b *= 0.999
            b += 0.001 * g * g
            p -= 0.01 * (a / (1 - 0.9**step)) / (np.sqrt(b / (1 - 0.999**step)) + 1e-8)
    w1, b1, w2, b2 = (p.astype(np.float64) for p in params)
    return Ranker(names, mean, std, w1, b1, w2, float(b2[0]), model, runtime)
