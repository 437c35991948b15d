"""What a newcomer's first run shows: a missing index named by its whole path (not "No index at index."),
and no progress bars (carriage returns, cursor-up codes) in a log or pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}


def _qa(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from qa.cli import main; main()", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)


def test_a_missing_relative_index_is_named_by_its_whole_path(tmp_path: Path) -> None:
    done = _qa("--index", "index", "ask", "Who took the crossing?", cwd=tmp_path)
    assert done.returncode == 1
    assert f"No index at {tmp_path / 'index'}." in done.stderr and "No index at index" not in done.stderr


def test_no_progress_bars_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    done = _qa("--model", "hash", "index", "build", str(ROOT / "qa" / "data" / "sample_archive"), "--index",
               str(tmp_path / "index"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and "\x1b[" not in done.stderr and "Embedding" not in done.stderr
    assert "Indexed 12 documents" in done.stdout


def test_progress_bars_on_a_terminal(monkeypatch) -> None:
    from qa.build import bars_wanted

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert bars_wanted(True) and not bars_wanted(False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not bars_wanted(True)
