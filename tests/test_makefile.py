"""The Makefile: set-up prints one line per step and keeps pip quiet; `make run` passes only what it is given."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str) -> list[str]:
    """What make would run (`make -n`), nothing run."""
    done = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_setup_is_one_line_per_step_and_pip_is_quiet() -> None:
    lines = dry_run("-B", "setup", "VENV=/nonexistent/venv")
    steps = [line for line in lines if line.startswith("echo ")]
    assert [re.search(r"set-up (\d)/3", s).group(1) for s in steps[:3]] == ["1", "2", "3"]  # type: ignore[union-attr]
    pips = [line for line in lines if "pip install" in line]
    assert len(pips) == 3 and all(" -q " in p and "--progress-bar off" in p for p in pips)
    assert any(p.startswith("PYTHONWARNINGS=ignore ") and "-e '.[test]'" in p for p in pips)
    # every set-up recipe line is silent (@): the echo lines are all a person sees of it
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("$(BIN)/activate:", "$(VENV)/.installed:"):
        recipe = text.split(target, 1)[1].split("\n\n", 1)[0].splitlines()[1:]
        assert recipe and all(line.startswith("\t@") for line in recipe), recipe


def serve_line(*args: str) -> str:
    return next(line for line in dry_run("-o", ".venv/.installed", "-o", ".venv/bin/activate", "run", *args)
                if " serve " in line)


def test_make_run_passes_the_archive_only_when_given() -> None:
    assert "--archive" not in serve_line()
    assert serve_line("ARCHIVE=../shared/archive").endswith("--archive ../shared/archive")
    assert "--port 7999" in serve_line("PORT=7999")
    assert "--index /tmp/other" in serve_line("INDEX=/tmp/other") and "--index" not in serve_line()


def test_make_index_and_eval() -> None:
    run = ("-o", ".venv/.installed", "-o", ".venv/bin/activate")
    assert any(line.endswith("index build qa/data/sample_archive") for line in dry_run(*run, "index"))
    assert any(line.endswith("index build ../shared/archive") for line in dry_run(*run, "index",
                                                                                   "ARCHIVE=../shared/archive"))
    lines = dry_run(*run, "eval")
    assert any("index build ../shared/archive --index .cache/eval-index" in line for line in lines)
    assert any("eval/run.py eval/questions.jsonl --index .cache/eval-index" in line for line in lines)


def test_commands_make_prints_have_no_doubled_spaces() -> None:
    for target in ("run", "index"):
        for args in ((), ("INDEX=/tmp/other", "ARCHIVE=../shared/archive")):
            for line in dry_run("-o", ".venv/.installed", "-o", ".venv/bin/activate", target, *args):
                if "/qa" in line:
                    assert "  " not in line and not line.endswith(" "), line


def test_make_test_ends_with_the_wheel_smoke_test_and_ci_runs_it() -> None:
    lines = dry_run("-o", ".venv/.installed", "-o", ".venv/bin/activate", "-o", "chromium", "test")
    assert any("pytest" in line for line in lines)
    assert any("tests/smoke_wheel.sh" in line for line in lines)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    script = (ROOT / "tests" / "smoke_wheel.sh").read_text(encoding="utf-8")
    for form in ("sample_archive", "sample_html", "sample_wxr"):  # every form of the bundled sample
        assert form in script
    installs = [line for line in script.splitlines() if "pip install" in line]
    assert "-m venv" in script and len(installs) == 2  # the shipped pip, not upgraded; torch, then the wheel
    assert "TORCH" in installs[0] and "WHEEL" in installs[1] and not any("-e" in line.split() for line in installs)
