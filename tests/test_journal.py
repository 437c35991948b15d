"""A build that stops part-way keeps what it embedded (the embedding journal) and the next one resumes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from qa.build import build_index, update_index
from qa.config import Settings, load_settings
from qa.embed.models import HashEmbedder
from qa.embed.vectors import Span
from qa.index import open_index
from qa.journal import JOURNAL, Journal
from tests.conftest import SAMPLE


class Counting(HashEmbedder):
    """The hash embedder, in small journal blocks, counting what it embeds; `fail_at` stops it there."""

    journal_block = 10

    def __init__(self, fail_at: int | None = None, dim: int = 256) -> None:
        super().__init__(dim)
        self.calls, self.texts, self.fail_at = 0, 0, fail_at

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                       progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        if self.calls == self.fail_at:
            raise KeyboardInterrupt("stopped mid-build")
        self.calls += 1
        self.texts += len(texts)
        return super().embed_passages(texts, spans, progress)


def _vectors(settings: Settings) -> tuple[np.ndarray, list[np.ndarray]]:
    index = open_index(settings.index)
    try:
        return index.all_vectors(), index.sentence_vectors(range(len(index)))
    finally:
        index.close()


def test_a_stopped_build_resumes_from_its_journal_and_writes_the_same_index(tmp_path: Path) -> None:
    clean = load_settings({"index": tmp_path / "clean", "model": "hash"}, env={})
    whole = Counting()
    report = build_index([SAMPLE], clean, embedder=whole)
    assert whole.calls > 3 and whole.texts == report.chunks
    assert not (clean.index / JOURNAL).exists()  # a complete build leaves no journal

    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    with pytest.raises(KeyboardInterrupt):
        build_index([SAMPLE], settings, embedder=Counting(fail_at=3))
    blocks = sorted((settings.index / JOURNAL).rglob("block-*.npz"))
    assert len(blocks) == 3  # three blocks of ten were written before the stop

    again = Counting()
    report = build_index([SAMPLE], settings, embedder=again)
    assert again.texts == report.chunks - 30 and report.embedded == report.chunks - 30
    assert not (settings.index / JOURNAL).exists()
    (v1, s1), (v2, s2) = _vectors(clean), _vectors(settings)
    assert np.array_equal(v1, v2) and all(np.array_equal(a, b) for a, b in zip(s1, s2))


def test_a_damaged_block_is_embedded_again_and_another_models_blocks_are_not_read(tmp_path: Path) -> None:
    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    with pytest.raises(KeyboardInterrupt):
        build_index([SAMPLE], settings, embedder=Counting(fail_at=2))
    first, second = sorted((settings.index / JOURNAL).rglob("block-*.npz"))
    second.write_bytes(second.read_bytes()[:100])  # cut short, as a crash mid-write cannot leave it
    assert len(Journal(settings.index, Counting()).read()) == 10
    assert Journal(settings.index, HashEmbedder(128)).read() == {}  # another model's journal is its own

    again = Counting()
    report = build_index([SAMPLE], settings, embedder=again)
    assert again.texts == report.chunks - 10


def test_an_update_that_stops_resumes_too(tmp_path: Path) -> None:
    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    with pytest.raises(KeyboardInterrupt):
        update_index([SAMPLE], settings, embedder=Counting(fail_at=1))
    again = Counting()
    report = update_index([SAMPLE], settings, embedder=again)
    assert again.texts == report.chunks - 10 and not (settings.index / JOURNAL).exists()


def test_an_update_that_writes_nothing_keeps_a_stopped_builds_journal_and_stray_files_are_not_blocks(
        tmp_path: Path) -> None:
    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    build_index([SAMPLE], settings, embedder=Counting())
    with pytest.raises(KeyboardInterrupt):  # a rebuild of the same folder with another model stops
        build_index([SAMPLE], load_settings({"index": settings.index, "model": "hash:128"}, env={}),
                    embedder=Counting(fail_at=2, dim=128))
    blocks = sorted((settings.index / JOURNAL).rglob("block-*.npz"))
    assert len(blocks) == 2
    (blocks[0].parent / "block-000001 (copy).npz").write_bytes(blocks[1].read_bytes())  # not a name it writes
    report = update_index([SAMPLE], settings, embedder=Counting())  # nothing changed: nothing written
    assert not report.written and all(block.is_file() for block in blocks)
    journal = Journal(settings.index, HashEmbedder(128))
    assert len(journal.read()) == 20  # the stray copy is not read as a third block
    journal.append(["h"], np.zeros((1, 128), dtype=np.float32), [np.zeros((2, 128))])
    assert (blocks[0].parent / "block-000002.npz").is_file()  # numbering goes on after the real blocks


def test_a_journal_the_live_build_already_holds_is_removed_by_the_next_update(tmp_path: Path) -> None:
    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})

    def stop(stage: str) -> None:
        if stage == "swapped":  # the new build is live, the journal not yet removed
            raise KeyboardInterrupt("stopped")

    with pytest.raises(KeyboardInterrupt):
        build_index([SAMPLE], settings, embedder=Counting(), checkpoint=stop)
    assert (settings.index / JOURNAL).exists()
    report = update_index([SAMPLE], settings, embedder=Counting())
    assert not report.written and not (settings.index / JOURNAL).exists()
