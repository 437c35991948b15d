"""The Ray build (`qa index build PATH --ray`) on a local Ray instance: the index it writes is the
one a one-process build writes. Marked `ray` (make test-ray); left out of the default run."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa.build import build_index
from qa.cli import cli
from qa.config import Settings, load_settings
from tests.conftest import SAMPLE

pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'archive-qa[ray]'")

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def contents(settings: Settings) -> tuple[list[tuple[object, str]], np.ndarray, list[np.ndarray], dict]:  # type: ignore[type-arg]
    """An index's chunks (with content hashes), vectors, sentence vectors and manifest."""
    from qa.index import open_index

    index = open_index(settings.index)
    try:
        return list(index.all_chunks()), index.all_vectors(), index.sentence_vectors(range(len(index))), index.manifest
    finally:
        index.close()


def build_both(tmp_path: Path, model: str, actors: int | None = None) -> tuple[tuple, tuple]:  # type: ignore[type-arg]
    from qa.embed.ray_build import RayEmbedder

    one = load_settings({"index": tmp_path / "one", "model": model}, env={})
    spread = load_settings({"index": tmp_path / "ray", "model": model}, env={})
    build_index([SAMPLE], one)
    embedder = RayEmbedder(model, spread.batch_size, address=None, actors=actors)
    report = build_index([SAMPLE], spread, embedder=embedder)
    assert report.embedded == report.chunks > 0 and embedder.used_actors >= 1
    return contents(one), contents(spread)


def assert_same_index(one: tuple, spread: tuple, atol: float) -> None:  # type: ignore[type-arg]
    chunks, vectors, sentences, manifest = one
    assert spread[0] == chunks  # same passages, same ids, same content hashes, same order
    assert spread[1].shape == vectors.shape and spread[1].dtype == vectors.dtype
    assert len(spread[2]) == len(sentences)
    assert [s.shape for s in spread[2]] == [s.shape for s in sentences]
    if atol == 0:
        assert np.array_equal(spread[1], vectors)
        assert all(np.array_equal(a, b) for a, b in zip(spread[2], sentences))
    else:
        assert np.abs(spread[1] - vectors).max() <= atol
        assert max(float(np.abs(a.astype(np.float32) - b).max(initial=0)) for a, b in zip(spread[2], sentences)) <= atol
    for key in ("model", "chunking", "counts", "vector_index"):
        assert spread[3][key] == manifest[key]


def test_ray_build_of_the_sample_equals_a_one_process_build_hash_model(tmp_path: Path) -> None:
    assert_same_index(*build_both(tmp_path, "hash"), atol=0)


@pytest.mark.model
def test_ray_build_of_the_sample_equals_a_one_process_build_real_model(tmp_path: Path) -> None:
    """The packaged MiniLM in two actors against one process: the same texts go through the same
    model calls, so the vectors are bit-identical (measured so here; see docs)."""
    assert_same_index(*build_both(tmp_path, "all-MiniLM-L6-v2", actors=2), atol=0)


def test_many_groups_come_back_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small groups, so the sample spreads over several actors whose results arrive in any order."""
    import qa.embed.ray_build

    real = qa.embed.ray_build.groups
    monkeypatch.setattr(qa.embed.ray_build, "groups", lambda texts, spans: real(texts, spans, size=7))
    assert_same_index(*build_both(tmp_path, "hash", actors=2), atol=0)


def test_a_worker_with_other_weights_is_refused(tmp_path: Path) -> None:
    from qa.embed.ray_build import RayEmbedder, RayError

    embedder = RayEmbedder("hash")
    embedder.fingerprint = "not-these-weights"  # as if this machine had another version of the model
    with pytest.raises(RayError, match=r"same version on every node .*archive-qa\[ray\]"):
        embedder.embed_passages(["a passage", "another"], [[(0, 1)], []])


def test_an_address_where_nothing_listens_fails_at_once(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = CliRunner().invoke(cli, ["--model", "hash", "index", "build", str(SAMPLE), "--index",
                                      str(tmp_path / "index"), "--quiet", "--ray", f"127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert f"Nothing answers at the Ray address 127.0.0.1:{port}" in result.output
    assert "ray start --head" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_cli_ray_flag_builds_on_a_local_instance(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--model", "hash", "index", "build", str(SAMPLE), "--index",
                                      str(tmp_path / "index"), "--quiet", "--ray"])
    assert result.exit_code == 0, result.output
    summary = re.search(r"Indexed (\d+) documents, .*?(\d+) chunks \((\d+) embedded, 0 reused\)", result.output)
    assert summary and int(summary.group(1)) > 0 and summary.group(2) == summary.group(3)
    assert (tmp_path / "index" / "CURRENT").is_file()
