"""README.md and docs/: every relative link resolves, commands use paths a reader has (no one machine's
absolute folders), and the README stays a newcomer's page (depth lives in docs/)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page) -> None:
    text = page.read_text(encoding="utf-8")
    broken = [link for link in re.findall(r"\]\(([^)#\s]+)", text)
              if not link.startswith(("http://", "https://")) and not (page.parent / link).exists()]
    assert not broken


@pytest.mark.parametrize("page", [p for p in PAGES if p.name != "reliability.md"], ids=lambda p: p.name)
def test_commands_use_paths_a_reader_has(page) -> None:
    text = page.read_text(encoding="utf-8")
    machine = re.findall(r"(?<![\w.])/(?:work|root|home/\w+)/[\w./-]*", text)
    assert not machine, machine


def test_the_readme_is_a_newcomers_page() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode()) < 12_000
    for section in ("## The two commands", "## Using the page", "## Command line", "## Evaluation",
                    "## Configuration", "## More"):
        assert section in text
    for depth in ("docs/architecture.md", "docs/formats.md", "docs/llm.md", "docs/scale.md", "docs/benchmarks.md"):
        assert f"]({depth})" in text
    assert "qa  " not in text


def test_benchmarks_hold_current_figures_and_history_apart() -> None:
    current = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    history = (ROOT / "docs" / "benchmarks-history.md").read_text(encoding="utf-8")
    assert "## Current figures" in current and "History" not in current.split("\n", 3)[0]
    assert len(current.splitlines()) < 150 and "](benchmarks-history.md)" in current
    assert "## Builds" in history
