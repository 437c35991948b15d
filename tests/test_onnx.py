"""The int8 ONNX embedder, the `embedder` and `device` settings, and the runtime check on an index.

The logic tests need no model; the `model` ones export the packaged MiniLM once per session into a
temporary cache (about half a minute on two cores) and compare it with the torch embedder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.build import build_index
from qa.config import load_settings
from qa.embed.models import check_device, load_embedder, searchable_with
from qa.errors import ConfigError, IndexMismatch
from qa.index import open_index
from qa.index.folder import built_runtime

SAMPLE = Path(__file__).resolve().parent.parent / "qa" / "data" / "sample_archive"


# --- settings -----------------------------------------------------------------------------------

def test_embedder_and_device_settings_come_from_the_environment() -> None:
    settings = load_settings(env={"QA_EMBEDDER": "onnx-int8", "QA_DEVICE": "cuda:1"})
    assert (settings.embedder, settings.device) == ("onnx-int8", "cuda:1")
    assert (load_settings(env={}).embedder, load_settings(env={}).device) == ("auto", "cpu")


@pytest.mark.parametrize(("env", "words"), [
    ({"QA_EMBEDDER": "tensorrt"}, "(QA_EMBEDDER) names an unknown embedder 'tensorrt'; known: auto, torch, onnx-int8"),
    ({"QA_DEVICE": "gpu"}, "device (QA_DEVICE) must be cpu, cuda or cuda:N, got 'gpu'"),
    ({"QA_DEVICE": "cuda:x"}, "device (QA_DEVICE) must be cpu, cuda or cuda:N"),
])
def test_bad_embedder_or_device_is_a_config_error(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_settings(env=env)


def test_unknown_runtime_is_refused_by_the_loader() -> None:
    with pytest.raises(ConfigError, match="known: torch, onnx-int8"):
        load_embedder("all-MiniLM-L6-v2", runtime="tvm")


def test_int8_runtime_refuses_a_gpu_and_other_models() -> None:
    with pytest.raises(ConfigError, match="CPU only"):
        load_embedder("all-MiniLM-L6-v2", runtime="onnx-int8", device="cuda")
    with pytest.raises(ConfigError, match="packaged all-MiniLM-L6-v2 only"):
        load_embedder("/some/other/model", runtime="onnx-int8")


def test_cuda_asked_for_without_a_gpu_says_what_to_set() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        with pytest.raises(ConfigError, match="sees 1 CUDA|sees [0-9]+ CUDA"):
            check_device(f"cuda:{torch.cuda.device_count()}")
    else:
        with pytest.raises(ConfigError, match=r"sees no CUDA GPU.*QA_DEVICE=cpu"):
            check_device("cuda")
        with pytest.raises(ConfigError, match="sees no CUDA GPU"):
            load_embedder("all-MiniLM-L6-v2", device="cuda")
    check_device("cpu")  # never an error


# --- the manifest and the runtime check ----------------------------------------------------------

class _Int8LikeHash:
    """The hash embedder under another runtime name: a stand-in for a build made by another runtime."""

    def __init__(self, runtime: str) -> None:
        self._inner = load_embedder("hash")
        self.runtime, self.device = runtime, "cpu"

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._inner, name)


def test_manifest_records_runtime_and_device(hash_settings) -> None:  # type: ignore[no-untyped-def]
    build_index([SAMPLE], hash_settings)
    index = open_index(hash_settings.index, runtime="hash")
    try:
        assert index.manifest["model"]["runtime"] == "hash"
        assert index.manifest["model"]["device"] == "cpu"
    finally:
        index.close()


def test_index_of_another_runtime_is_refused_with_the_rebuild(hash_settings) -> None:  # type: ignore[no-untyped-def]
    build_index([SAMPLE], hash_settings, embedder=_Int8LikeHash("onnx-int8"))  # type: ignore[arg-type]
    with pytest.raises(IndexMismatch) as caught:
        open_index(hash_settings.index, runtime="torch")
    message = str(caught.value)
    assert "built with the onnx-int8 embedder" in message and "ask for torch" in message
    assert "--embedder onnx-int8" in message and "QA_EMBEDDER=torch qa" in message and "index build" in message
    open_index(hash_settings.index, runtime="onnx-int8").close()
    open_index(hash_settings.index).close()  # no runtime asked: `qa index stats` and the like


def test_older_manifests_count_as_torch_builds() -> None:
    assert built_runtime({"id": "sentence-transformers/all-MiniLM-L6-v2"}) == "torch"
    assert built_runtime({"id": "hash:256"}) == "hash"
    assert built_runtime({"id": "x", "runtime": "onnx-int8"}) == "onnx-int8"


def test_searchable_with_is_symmetric_and_reflexive() -> None:
    for a in ("torch", "onnx-int8", "hash"):
        assert searchable_with(a, a)
        for b in ("torch", "onnx-int8", "hash"):
            assert searchable_with(a, b) == searchable_with(b, a)
    assert not searchable_with("hash", "torch")


def test_missing_onnxruntime_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import builtins

    from qa.embed import onnx_int8 as onnx_embed

    real_import = builtins.__import__

    def no_onnxruntime(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "onnxruntime" or name.startswith("onnxruntime."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with pytest.raises(ConfigError, match="pip install onnx onnxruntime"):
        onnx_embed.ensure_int8_model(cache=tmp_path)


def test_cache_folder_follows_qa_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from qa.embed.onnx_int8 import cache_dir

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("QA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "archive-qa"


# --- the real model --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def int8_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("onnxruntime")
    from qa.embed.onnx_int8 import ensure_int8_model

    cache = tmp_path_factory.mktemp("onnx-cache")
    ensure_int8_model(cache=cache)
    return cache


@pytest.fixture
def int8(int8_cache: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QA_CACHE_DIR", str(int8_cache))
    return load_embedder("all-MiniLM-L6-v2", runtime="onnx-int8")


TEXTS = [
    "The Ministry of Defence ordered 14 Boxer vehicles. Deliveries start in 2027, the minister said.",
    "Readers doubted the frigate programme would stay on budget.",
    "Short.",
    " ".join(["The brigade moved its artillery north of the river."] * 40),  # beyond 256 word pieces
]
SPANS = [[(0, 48), (49, 96)], [(0, 59)], [(0, 6)], [(0, 52), (53, 105), (1500, 1552)]]


@pytest.mark.model
def test_export_is_cached_by_hash_and_redone_when_damaged(int8_cache: Path) -> None:
    from qa.embed.onnx_int8 import MODEL_FILE, RECORD_FILE, ensure_int8_model

    model = ensure_int8_model(cache=int8_cache)
    record = json.loads((model.parent / RECORD_FILE).read_text())
    assert record["quantization"] == "dynamic, int8 weights, per channel" and len(record["sha256"]) == 64
    stamp = model.stat().st_mtime_ns
    assert ensure_int8_model(cache=int8_cache) == model and model.stat().st_mtime_ns == stamp  # reused
    assert not [p for p in int8_cache.iterdir() if p.name.startswith(".")]  # no temporary folder left
    with open(model, "r+b") as f:  # one flipped byte deep inside the weights
        f.seek(model.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    again = ensure_int8_model(cache=int8_cache)
    assert again.name == MODEL_FILE
    assert json.loads((again.parent / RECORD_FILE).read_text())["sha256"] == record["sha256"]  # same export


@pytest.mark.model
def test_int8_vectors_match_torch(int8, minilm) -> None:  # type: ignore[no-untyped-def]
    assert (int8.model_id, int8.dim, int8.max_tokens, int8.fingerprint) == (
        minilm.model_id, minilm.dim, minilm.max_tokens, minilm.fingerprint)
    assert int8.count_tokens(TEXTS) == minilm.count_tokens(TEXTS)
    a, a_sent = minilm.embed_passages(TEXTS, SPANS)
    b, b_sent = int8.embed_passages(TEXTS, SPANS)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert ((a * b).sum(axis=1) > 0.97).all()
    # the same sentences get vectors (the third passage's last span lies past the 256-token cut)
    assert [len(s) for s in a_sent] == [len(s) for s in b_sent] == [2, 1, 1, 2]
    for x, y in zip(a_sent, b_sent):
        assert ((x * y).sum(axis=1) > 0.97).all()
    q = "Who ordered Boxer vehicles?"
    assert float(minilm.embed_query(q) @ int8.embed_query(q)) > 0.97
    parts = int8.embed_query_parts(q, [(0, 10), (11, 27)])
    assert parts.shape == (2, 384) and float(parts[1] @ minilm.embed_query_parts(q, [(11, 27)])[0]) > 0.97


@pytest.mark.model
def test_int8_ranks_like_torch(int8, minilm) -> None:  # type: ignore[no-untyped-def]
    docs = [t.read_text(encoding="utf-8")[:1500] for t in sorted(SAMPLE.glob("*.txt"))]
    question = "What did readers say about the budget?"
    order_torch = np.argsort(-(minilm.embed_documents(docs) @ minilm.embed_query(question)))
    order_int8 = np.argsort(-(int8.embed_documents(docs) @ int8.embed_query(question)))
    assert order_torch[0] == order_int8[0]


@pytest.mark.model
def test_cuda_vectors_match_cpu(minilm) -> None:  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here")
    gpu = load_embedder("all-MiniLM-L6-v2", device="cuda")
    assert gpu.device == "cuda"
    a, a_sent = minilm.embed_passages(TEXTS, SPANS)
    b, b_sent = gpu.embed_passages(TEXTS, SPANS)
    assert np.allclose(a, b, atol=1e-4)
    for x, y in zip(a_sent, b_sent):
        assert np.allclose(x, y, atol=1e-4)
    assert np.allclose(minilm.embed_query("Who ordered Boxer vehicles?"),
                       gpu.embed_query("Who ordered Boxer vehicles?"), atol=1e-4)


def test_index_stats_names_the_runtime(hash_settings) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from qa.cli import cli

    build_index([SAMPLE], hash_settings, embedder=_Int8LikeHash("onnx-int8"))  # type: ignore[arg-type]
    done = CliRunner().invoke(cli, ["index", "stats", "--index", str(hash_settings.index)])
    assert done.exit_code == 0 and "onnx-int8 on cpu" in done.output
