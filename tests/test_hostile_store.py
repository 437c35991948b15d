"""Attacks on the index folder and the embedding journal: odd characters in the index path, a journal
that fills the disk, blocks that lie about what they hold, files that are not blocks, and model
settings changed beside unchanged weights."""

from __future__ import annotations

from pathlib import Path

from qa.build import build_index
from qa.config import load_settings
from qa.index import open_index
from tests.conftest import SAMPLE


def _tree(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def test_an_index_path_with_hash_question_mark_and_percent_builds_and_reads_without_a_stray_file(
        tmp_path: Path) -> None:
    parent = tmp_path / "odd#name?x=1%20y"
    settings = load_settings({"index": parent / "index", "model": "hash"}, env={})
    build_index([SAMPLE], settings)
    before = _tree(tmp_path)
    index = open_index(settings.index)
    try:
        assert len(index) > 0 and index.documents()
    finally:
        index.close()
    assert _tree(tmp_path) == before  # the read-only open created nothing
