"""Fitting the reranker (`eval/rerank_fit.py`) and the weights file it writes: the model learns a
signal, is deterministic, and reads its columns by feature name."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))
from rerank_fit import fit  # noqa: E402

from qa.rerank import FEATURES, Ranker  # noqa: E402

NAMES = list(FEATURES)


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.random((600, len(NAMES))).astype(np.float32)
    col = {name: x[:, i] for i, name in enumerate(NAMES)}
    y = ((col["sentence"] + 0.5 * col["sub"] * col["source"]) > 0.8).astype(np.float64)  # an interaction
    return x, y, np.arange(600) // 20


def test_fit_learns_a_signal_and_the_model_round_trips(tmp_path: Path) -> None:
    x, y, groups = _data()
    model = fit(x, y, groups, hidden=16, steps=400)
    s = model.score(x)
    assert ((s > 0) & (s < 1)).all()
    assert np.array_equal(fit(x, y, groups, hidden=16, steps=400).score(x), s)  # deterministic
    pos, neg = s[y == 1], s[y == 0]
    assert (pos[:, None] > neg[None, :]).mean() > 0.95  # AUC
    path = tmp_path / "m.json"
    path.write_text(model.to_json(note="test"))
    again = Ranker.load(path)
    assert again.features == tuple(NAMES) and np.allclose(again.score(x), s)
    data = json.loads(path.read_text())
    assert data["info"] == {"model": "", "runtime": "torch", "note": "test"}
    with pytest.raises(ValueError, match="x has 3 columns"):
        fit(x[:, :3], y, groups, hidden=4, steps=2)


def test_a_model_reads_its_columns_by_name_not_by_position(tmp_path: Path) -> None:
    """The file's features in another order, with the arrays permuted alike, is the same model; a
    model fitted on a subset of the features scores a matrix of that subset."""
    x, y, groups = _data()
    model = fit(x, y, groups, hidden=8, steps=100)
    order = np.random.default_rng(2).permutation(len(NAMES))
    data = json.loads(model.to_json())
    data["features"] = [NAMES[i] for i in order]
    for k in ("mean", "std", "w1"):
        data[k] = np.asarray(data[k])[order].tolist()
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    shuffled = Ranker.load(path)
    assert shuffled.features != model.features
    assert np.allclose(shuffled.score(x[:, order]), model.score(x))
    some = ["sentence", "sub", "source"]
    small = fit(x[:, [NAMES.index(n) for n in some]], y, groups, hidden=8, steps=100, features=some)
    path.write_text(small.to_json())
    assert Ranker.load(path).features == tuple(some)


def test_a_file_that_does_not_fit_the_registry_is_refused(tmp_path: Path) -> None:
    x, y, groups = _data()
    data = json.loads(fit(x, y, groups, hidden=4, steps=2).to_json())
    path = tmp_path / "m.json"
    path.write_text(json.dumps({**data, "features": ["fused", "no_such_feature", *NAMES[2:]]}))
    with pytest.raises(ValueError, match=r"\['no_such_feature'\].*refit"):
        Ranker.load(path)
    path.write_text(json.dumps({**data, "w2": [1.0]}))
    with pytest.raises(ValueError, match="wrong shape"):
        Ranker.load(path)
    path.write_text(json.dumps({**data, "features": ["fused"]}))  # one name for arrays of every feature
    with pytest.raises(ValueError, match="wrong shape for 1 features"):
        Ranker.load(path)
    path.write_text(json.dumps({**data, "features": []}))
    with pytest.raises(ValueError, match="lists no features"):
        Ranker.load(path)
