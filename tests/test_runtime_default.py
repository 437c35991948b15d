"""The default embedding runtime (`auto`: onnx-int8 for the packaged model on the CPU), an index built by
another runtime (kept working, with the command that converts it), and the fitted files that follow
an index's runtime. No model is loaded: stand-ins report a runtime and embed with the hash embedder."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from qa.build import build_index, update_index
from qa.config import PACKAGED_MODEL, Settings, load_settings
from qa.embed import load_embedder
from qa.errors import IndexMismatch
from qa.pipeline import Pipeline
from qa.rerank import WEIGHTS_FILE, default_ranker, weights_file
from qa.runtime import pick_runtime, runtime_for

SAMPLE = Path(__file__).resolve().parent.parent / "qa" / "data" / "sample_archive"
INT8_FIT = WEIGHTS_FILE.with_name("rerank-onnx-int8.json")
needs_int8_fit = pytest.mark.skipif(not INT8_FIT.is_file(), reason="qa/data/rerank-onnx-int8.json not written yet")


class _Runs:
    """The hash embedder under a runtime's name: a stand-in for a build that runtime made."""

    def __init__(self, runtime: str) -> None:
        self._inner = load_embedder("hash")
        self.runtime, self.device = runtime, "cpu"

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._inner, name)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The runtimes `Pipeline.open` and `update_index` ask the loader for; each gets a stand-in."""
    asked: list[str] = []

    def fake(name: str, batch_size: int = 32, runtime: str = "torch", device: str = "cpu") -> _Runs:
        asked.append(runtime)
        return _Runs(runtime)

    monkeypatch.setattr("qa.pipeline.load_embedder", fake)
    monkeypatch.setattr("qa.build.load_embedder", fake)
    return asked


def _packaged(settings: Settings, **changes: object) -> Settings:
    """`settings` naming the packaged model (what the stand-ins pretend to run)."""
    return replace(settings, model=PACKAGED_MODEL, **changes)  # type: ignore[arg-type]


def test_the_default_is_int8_for_the_packaged_model_on_the_cpu() -> None:
    settings = load_settings(env={})
    assert settings.embedder == "auto"
    assert pick_runtime(settings.model, settings.embedder, settings.device) == "onnx-int8"
    assert pick_runtime(f"sentence-transformers/{PACKAGED_MODEL}", "auto") == "onnx-int8"
    assert pick_runtime("/some/other/model", "auto") == "torch"  # the int8 export is the packaged model's
    assert pick_runtime(PACKAGED_MODEL, "auto", "cuda") == "torch"  # onnxruntime runs it on the CPU
    assert pick_runtime(PACKAGED_MODEL, "torch") == "torch"  # still selectable
    assert pick_runtime(PACKAGED_MODEL, "auto", built="torch") == "torch"  # an index keeps its runtime
    assert load_settings(env={"QA_EMBEDDER": "torch"}).embedder == "torch"


def test_a_new_index_is_built_with_int8_by_default(hash_settings: Settings, loads: list[str]) -> None:
    runtime, note = runtime_for(_packaged(hash_settings))
    assert (runtime, note) == ("onnx-int8", None)  # no index yet: the default, nothing to say
    update_index([SAMPLE], _packaged(hash_settings))  # an update of no index builds one
    assert loads == ["onnx-int8"]


def test_a_torch_index_keeps_working_and_says_how_to_convert(hash_settings: Settings, loads: list[str],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    build_index([SAMPLE], hash_settings, embedder=_Runs("torch"))  # type: ignore[arg-type]
    settings = _packaged(hash_settings)
    runtime, note = runtime_for(settings)
    assert runtime == "torch" and note is not None
    assert "built with the torch embedder" in note and "the default is now onnx-int8" in note
    assert f"index build {SAMPLE} --index {hash_settings.index}" in note  # its recorded sources
    with caplog.at_level(logging.WARNING):
        pipeline = Pipeline.open(settings)
    assert loads == ["torch"] and pipeline.embedder.runtime == "torch"
    assert "To convert it, rebuild it: qa " in caplog.text
    assert pipeline.retriever.reranker is default_ranker("torch")  # the torch index keeps the torch fit
    pipeline.index.close()
    update_index([SAMPLE], settings)  # an update embeds with the index's runtime too
    assert loads == ["torch", "torch"]


def test_a_runtime_named_outright_is_not_overridden(hash_settings: Settings, loads: list[str]) -> None:
    build_index([SAMPLE], hash_settings, embedder=_Runs("torch"))  # type: ignore[arg-type]
    assert runtime_for(_packaged(hash_settings, embedder="onnx-int8")) == ("onnx-int8", None)
    with pytest.raises(IndexMismatch, match="built with the torch embedder.*Use --embedder torch"):
        Pipeline.open(_packaged(hash_settings, embedder="onnx-int8"))
    assert runtime_for(_packaged(hash_settings, embedder="torch")) == ("torch", None)


@needs_int8_fit
def test_an_int8_index_gets_the_reranker_fitted_on_int8_vectors(hash_settings: Settings,
                                                                loads: list[str]) -> None:
    build_index([SAMPLE], hash_settings, embedder=_Runs("onnx-int8"))  # type: ignore[arg-type]
    pipeline = Pipeline.open(_packaged(hash_settings))
    assert loads == ["onnx-int8"]
    ranker = pipeline.retriever.reranker
    assert ranker is default_ranker("onnx-int8") and ranker is not default_ranker("torch")
    assert ranker.runtime == "onnx-int8" and default_ranker("torch").runtime == "torch"
    pipeline.index.close()


@needs_int8_fit
def test_each_runtime_has_its_own_fitted_file() -> None:
    assert weights_file("torch") == WEIGHTS_FILE and weights_file("hash") == WEIGHTS_FILE
    int8 = weights_file("onnx-int8")
    assert int8 != WEIGHTS_FILE and int8.is_file()
    info = json.loads(int8.read_text(encoding="utf-8"))["info"]
    assert info["runtime"] == "onnx-int8" and info["model"] == default_ranker("torch").model
    assert {"held_out", "first_stage", "count", "questions", "min_terms"} <= set(info)
    assert (default_ranker("onnx-int8").w1 != default_ranker("torch").w1).any()
