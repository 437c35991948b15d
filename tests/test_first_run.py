"""What a new user meets first: the index serves the archive asked for, a busy port and a bad model are one line."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.cli import cli
from qa.config import load_settings
from qa.errors import QAError
from tests.conftest import SAMPLE


def _archive(root: Path, name: str, pages: list[str]) -> Path:
    folder = root / name
    folder.mkdir()
    for page in pages:
        shutil.copy(SAMPLE / page, folder / page)
    return folder


def test_serving_another_archive_rebuilds_the_index_and_says_so(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from qa.index import live_build, read_manifest
    from qa.page.web import ensure_index

    first = _archive(tmp_path, "first", ["page_01.txt", "page_02.txt"])
    second = _archive(tmp_path, "second", ["page_03.txt"])
    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    assert ensure_index(settings, first, default_index=True) == ""
    assert "No index at" in capsys.readouterr().out

    assert ensure_index(settings, second, default_index=True) == ""
    out = capsys.readouterr().out
    assert f"holds {first.resolve()}, not {second}; rebuilding it from {second}" in out
    assert read_manifest(settings.index)[1]["sources"] == [str(second.resolve())]

    live = live_build(settings.index)
    assert ensure_index(settings, second, default_index=True) == ""
    out = capsys.readouterr().out
    assert f"was built from {second}; updating it" in out and "Up to date" in out
    assert live_build(settings.index) == live  # nothing changed, nothing rewritten

    shutil.copy(SAMPLE / "page_04.txt", second / "page_04.txt")
    ensure_index(settings, second, default_index=True)
    assert "Updated: 1 added" in capsys.readouterr().out

    assert ensure_index(settings, None, default_index=True) == ""  # no archive named: served as it is
    assert capsys.readouterr().out == ""


@pytest.fixture
def busy_port() -> int:  # type: ignore[misc]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_a_busy_port_is_one_line_saying_what_to_pass(busy_port: int, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--model", "hash", "--index", str(tmp_path / "index"), "serve",
                                      "--port", str(busy_port), "--archive", str(SAMPLE)], env={"QA_CONFIG": ""})
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert f"Cannot serve on 127.0.0.1:{busy_port}" in lines[0]
    assert "--port" in lines[0] and "make run PORT=" in lines[0]
    assert "serving" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "index").exists()  # refused before anything was built


def test_app_py_says_the_same_for_a_busy_port(busy_port: int, tmp_path: Path) -> None:
    from qa.page.web import main

    with pytest.raises(SystemExit) as stop:
        main(["--port", str(busy_port), "--index", str(tmp_path / "index"), "--model", "hash"])
    assert str(stop.value.code).startswith(f"Error: Cannot serve on 127.0.0.1:{busy_port}")
    assert "--port" in str(stop.value.code)


def test_check_port_accepts_a_free_one() -> None:
    from qa.page.web import check_port

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    check_port("127.0.0.1", port)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(QAError, match="Pick another port"):
            check_port("127.0.0.1", int(s.getsockname()[1]))


@pytest.mark.parametrize("model", ["no-such-model", "./no/such/folder", "bad name!!"])
def test_a_bad_model_is_one_line(model: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--model", model, "index", "build", str(SAMPLE), "--index",
                                      str(tmp_path / "index"), "--quiet"], env={"QA_CONFIG": ""})
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"Error: Embedding model {model!r} is not a model folder")
    assert "--model all-MiniLM-L6-v2" in result.output
