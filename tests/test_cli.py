"""The `qa` command, in process with CliRunner: outputs, JSON shapes, and clean error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.cli import cli
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("cli") / "index"
    args = ["--model", "hash", "index", "build", str(SAMPLE), "--index", str(index), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Indexed 12 documents" in result.output and "0 skipped" in result.output
    return index


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--model", "hash", *args], env={"QA_CONFIG": "", **(env or {})})


def test_stats(built: Path) -> None:
    out = run("index", "stats", "--index", str(built))
    assert out.exit_code == 0 and "12 documents" in out.output
    data = json.loads(run("index", "stats", "--index", str(built), "--json").output)
    assert data["counts"]["documents"] == 12 and data["model"]["id"] == "hash:256"


def test_search_json_and_index_from_env(built: Path) -> None:
    out = run("search", "arms shipment seized at the port", "-k", "3", "--json", env={"QA_INDEX": str(built)})
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["question"] == "arms shipment seized at the port" and len(data["hits"]) == 3
    assert set(data["hits"][0]) >= {"rank", "chunk_id", "doc_id", "title", "kind", "author", "published_at",
                                    "text", "score"}
    comments = json.loads(run("search", "crossing", "--kind", "comment", "--json", "--index", str(built)).output)
    assert {h["kind"] for h in comments["hits"]} == {"comment"}


def test_ask_json_and_batch(built: Path, tmp_path: Path) -> None:
    out = run("ask", "Who seized the crossing?", "--json", "--index", str(built))
    data = json.loads(out.output)
    assert set(data) == {"question", "answer", "abstained", "notes", "citations"}
    assert set(data["citations"][0]) >= {"n", "chunk_id", "doc_id", "title", "kind", "author", "published_at",
                                         "source", "quote", "score"}
    batch = tmp_path / "q.txt"
    batch.write_text('Who seized the crossing?\n\n{"question": "Where were the talks held?"}\n')
    lines = run("ask", "--batch", str(batch), "--index", str(built)).output.strip().splitlines()
    questions = [json.loads(line)["question"] for line in lines]
    assert questions == ["Who seized the crossing?", "Where were the talks held?"]
    searched = run("search", "--batch", str(batch), "--index", str(built)).output.strip().splitlines()
    assert len(searched) == 2 and "hits" in json.loads(searched[1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ask", "   "), "The question is empty"),
        (("ask",), "Give a QUESTION or --batch FILE"),
        (("search", "x", "--kind", "tweet"), "Invalid value for '--kind'"),
        (("index", "build", "/no/such/archive"), "No such file or folder"),
    ],
)
def test_error_paths_exit_nonzero_with_one_clear_line(built: Path, args: tuple[str, ...], message: str) -> None:
    out = run(*args, "--index", str(built))
    assert out.exit_code != 0 and message in out.output and "Traceback" not in out.output


def test_missing_index_and_wrong_model(built: Path, tmp_path: Path) -> None:
    out = run("ask", "anything", "--index", str(tmp_path / "none"))
    assert out.exit_code == 1 and "No index at" in out.output and "qa index build" in out.output
    out = CliRunner().invoke(cli, ["--model", "hash:64", "ask", "anything", "--index", str(built)])
    assert out.exit_code == 1 and "built with model 'hash:256'" in out.output


def test_empty_archive_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    out = run("index", "build", str(tmp_path / "empty"), "--index", str(tmp_path / "i"))
    assert out.exit_code == 1 and "No documents found" in out.output
