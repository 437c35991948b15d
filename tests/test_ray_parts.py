"""The Ray build's parts that need no Ray: the message when Ray is missing, the groups of
passages sent to the actors and their results read back, and address parsing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa.cli import cli
from qa.embed.models import HashEmbedder
from qa.embed.ray_build import RayError, _cause, _host_port, build_actor_class, groups, unpack
from tests.conftest import SAMPLE


def test_without_ray_the_build_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    result = CliRunner().invoke(cli, ["--model", "hash", "index", "build", str(SAMPLE), "--index",
                                      str(tmp_path / "index"), "--ray"])
    assert result.exit_code == 1
    assert "pip install 'archive-qa[ray]'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "index").exists()  # refused before anything was written


def test_groups_read_back_as_the_one_process_embedder_gives_them() -> None:
    texts = [f"passage {i} about the crossing" + " and more" * i for i in range(11)]
    spans = [[(0, 9), (10, 14)] if i % 3 else [] for i in range(11)]  # some passages have no sentence
    rows = groups(texts, spans, size=4)
    assert [r["at"] for r in rows] == [0, 4, 8]
    actor = build_actor_class("hash", 32, "hash", ("hash:256", "hash-v1", "hash", __import__("qa").__version__))()
    batch = {"at": np.array([r["at"] for r in rows]), "payload": np.array([r["payload"] for r in rows], dtype=object)}
    out = actor(batch)
    vectors = np.zeros((len(texts), 256), dtype=np.float32)
    sentences: list[np.ndarray] = [np.zeros((0, 256))] * len(texts)
    for i in range(len(rows)):
        at, fresh, per_sentence = unpack({k: v[i] for k, v in out.items()}, 256)
        vectors[at:at + len(fresh)] = fresh
        sentences[at:at + len(fresh)] = per_sentence
    want, want_sentences = HashEmbedder(256).embed_passages(texts, spans)
    assert np.array_equal(vectors, want)
    assert [s.shape for s in sentences] == [s.shape for s in want_sentences]
    assert all(np.array_equal(a, b) for a, b in zip(sentences, want_sentences))


def test_a_result_that_does_not_add_up_is_refused() -> None:
    row = {"at": 0, "vectors": np.zeros((2, 4), np.float32).tobytes(),
           "sentences": np.zeros((3, 4), np.float32).tobytes(), "counts": np.array([1, 1], np.int64).tobytes()}
    with pytest.raises(RayError, match="2 vectors with 2 sentence counts"):
        unpack(row, 4)


def test_addresses() -> None:
    assert _host_port("ray://head.example:10001") == ("head.example", 10001)
    assert _host_port("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert _host_port("auto") is None
    for bad in ("head.example:port", "head.example", "ray://head"):
        with pytest.raises(RayError, match="has no port"):
            _host_port(bad)


def test_a_path_taken_as_the_address_says_where_ray_goes(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--model", "hash", "index", "build", "--ray", str(SAMPLE), str(SAMPLE),
                                      "--index", str(tmp_path / "index")])
    assert result.exit_code == 1 and "put --ray after the paths" in result.output
    assert not (tmp_path / "index").exists()


def test_the_cause_of_a_worker_error_is_our_message() -> None:
    wrapped = RuntimeError("The actor died because of an error raised in its creation task\n  File x\n"
                           "qa.embed.ray_build.RayError: A Ray worker has model m: install the same version.\n")
    assert _cause(wrapped) == "A Ray worker has model m: install the same version."
    assert _cause(RuntimeError("first line\nsecond")) == "first line"
