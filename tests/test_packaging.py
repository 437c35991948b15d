"""What an installed copy needs: every data file the code opens is in the wheel's package data, the
readers of saved pages are declared directly, and a missing reader is a one-line error naming its package.
(`tests/smoke_wheel.sh` builds and installs the wheel itself: `make test-wheel`.)"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DATA = ROOT / "qa" / "data"


def _globs() -> list[str]:
    return PYPROJECT["tool"]["setuptools"]["package-data"]["qa"]


def _shipped(relative: str) -> bool:
    """Whether setuptools ships qa/RELATIVE under the package-data globs (`*` stays within a folder)."""
    return any(fnmatch.fnmatch(relative, glob) and relative.count("/") == glob.count("/") for glob in _globs())


def _opened_by_code() -> set[str]:
    """The files under qa/data that the package's code names: `"data/answer.json"` or `"data" / "rerank.json"`."""
    found: set[str] = set()
    for path in (ROOT / "qa").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r"""["'](data/[\w./-]+\.\w+)["']""", text))
        found.update(f"data/{m}" for m in re.findall(r"""["']data["']\s*/\s*["']([\w.-]+\.\w+)["']""", text))
        found.update(f"data/{m}" for m in re.findall(r"""["']data["']\s*/\s*["'](sample_\w+)["']""", text))
    return found


def test_every_data_file_the_code_opens_is_package_data() -> None:
    opened = _opened_by_code()
    assert {"data/answer.json", "data/rerank.json", "data/sample_archive"} <= opened, opened
    for name in opened:
        target = ROOT / "qa" / name
        assert target.exists(), f"the code opens qa/{name}, which does not exist"
        files = [target] if target.is_file() else [p for p in target.rglob("*") if p.is_file()]
        for file in files:
            relative = file.relative_to(ROOT / "qa").as_posix()
            assert _shipped(relative), f"qa/{relative} is opened by the code but not in the wheel's package data"


def test_every_file_under_qa_data_ships() -> None:
    # the samples are offered by `qa serve` and the README (`qa index build` on each form)
    files = [p.relative_to(ROOT / "qa").as_posix() for p in DATA.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")]
    assert files
    missing = [f for f in files if not _shipped(f)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_readers_of_saved_pages_are_declared_directly() -> None:
    names = {re.split(r"[<>=!~;\[ ]", dep, maxsplit=1)[0].lower().replace("_", "-")
             for dep in PYPROJECT["project"]["dependencies"]}
    assert {"lxml-html-clean", "lxml", "justext", "trafilatura", "htmldate"} <= names


def test_dependencies_have_lower_bounds() -> None:
    unbounded = [dep for dep in PYPROJECT["project"]["dependencies"] if ">=" not in dep and "==" not in dep]
    assert not unbounded


@pytest.mark.parametrize("module", ["lxml_html_clean", "justext", "trafilatura"])
def test_a_missing_html_reader_is_one_line_naming_it(tmp_path, module: str) -> None:
    """As on a fresh machine whose pip skipped lxml_html_clean: `qa index build` on a saved page says
    which package to install, in one line, and no traceback."""
    page = tmp_path / "pages"
    page.mkdir()
    (page / "a.html").write_bytes((DATA / "sample_html" / "page_01.html").read_bytes())
    code = (f"import sys; sys.modules[{module!r}] = None; from qa.cli import main; "
            f"sys.argv = ['qa', 'index', 'build', {str(page)!r}, '--index', {str(tmp_path / 'index')!r}, '--quiet']; "
            "main()")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr
    assert len(lines) == 1, done.stderr
    package = {"justext": "jusText"}.get(module, module)
    assert f"pip install '{package}'" in lines[0] and "saved pages" in lines[0]
