"""End to end on the real archive pages with the real packaged model: the issue's "done when"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.answer.cite import markers
from qa.config import Settings
from qa.index import open_index
from qa.pipeline import Pipeline

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def pipeline(archive_index: Settings, minilm) -> Pipeline:  # type: ignore[no-untyped-def]
    return Pipeline.open(archive_index, embedder=minilm)


def test_who_controls_al_waleed(pipeline: Pipeline) -> None:
    answer = pipeline.ask("Who controls the Al Waleed crossing?")
    assert not answer.abstained and "Islamic State" in answer.text
    cited = set(markers(answer.text))
    titles = {c.hit.chunk.title for c in answer.citations if c.n in cited}
    assert any("Al Waleed" in t for t in titles)


def test_comment_question_cites_andyfmf_as_a_comment(pipeline: Pipeline) -> None:
    answer = pipeline.ask("Which commenter said the hotel would serve as a phenomenal COC?")
    assert "AndyFMF" in answer.text
    andy = [c for c in answer.citations if c.hit.chunk.author == "AndyFMF"]
    assert andy and andy[0].hit.chunk.kind == "comment" and andy[0].label.startswith("Reader comment by AndyFMF")
    assert f"[{andy[0].n}]" in answer.text


def test_unrelated_question_abstains(pipeline: Pipeline) -> None:
    answer = pipeline.ask("What is the recipe for a lemon cake?")
    assert answer.abstained and answer.citations  # nearest passages still listed


def test_no_boilerplate_reaches_the_index(archive_index: Settings) -> None:
    index = open_index(archive_index.index)
    texts = [c.indexed_text for c, _ in index.all_chunks()]
    assert len(texts) >= 12
    for text in texts:
        assert "donation" not in text and "Tags:" not in text and "Comments" not in text
        assert not text.rstrip().endswith(("Boko Haram", "Isis", "Al shabaab"))


@pytest.mark.slow
def test_cli_end_to_end_in_a_subprocess(archive_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    qa = [sys.executable, "-m", "qa.cli"]
    build = subprocess.run([*qa, "index", "build", str(archive_dir), "--index", str(index), "--quiet"],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    assert "Indexed 2 documents, 10 comments" in build.stdout
    ask = subprocess.run([*qa, "ask", "Who controls the Al Waleed crossing?", "--json", "--index", str(index)],
                         capture_output=True, text=True, timeout=300)
    data = json.loads(ask.stdout)
    assert "Islamic State" in data["answer"] and not data["abstained"]
    assert any("Al Waleed" in c["title"] for c in data["citations"])
