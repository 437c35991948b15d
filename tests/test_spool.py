"""A large build keeps its vectors on disk until the write (`qa.spool`): the index it writes is the one
an in-memory build writes, a stopped or updated build gives the same, and no spool is left behind."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import qa.build
from qa.build import build_index, update_index
from qa.config import Settings, load_settings
from qa.index import live_build
from qa.spool import PREFIX, SpooledRows, spool_folder
from tests.conftest import SAMPLE
from tests.test_journal import Counting


def _settings(tmp_path: Path, name: str) -> Settings:
    return load_settings({"index": tmp_path / name, "model": "hash"}, env={})


def _files(settings: Settings) -> dict[str, str]:
    folder = live_build(settings.index)
    assert folder is not None
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file() and f.name != "manifest.json"}


@pytest.fixture
def spool_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qa.build, "SPOOL_ABOVE", 0)
    monkeypatch.setattr(qa.build, "STAGE_ABOVE", 0)


def test_a_spooled_build_writes_the_same_files_as_one_in_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_memory = _settings(tmp_path, "memory")
    report = build_index([SAMPLE], in_memory)
    monkeypatch.setattr(qa.build, "STAGE_ABOVE", 0)
    seen: list[Path] = []
    spooled = _settings(tmp_path, "spooled")

    def look(stage: str) -> None:  # while the build runs, its spool is in the index folder
        seen.extend(spooled.index.glob(f"{PREFIX}*/*"))

    staged = build_index([SAMPLE], spooled, checkpoint=look)
    assert {p.name for p in seen} == {"vectors.f32", "sentences.f16", "staging.sqlite"}
    assert _files(spooled) == _files(in_memory)
    assert staged.summary().split(";")[:-1] == report.summary().split(";")[:-1]  # counts; not the seconds
    assert not list(spooled.index.glob(f"{PREFIX}*"))  # removed once written


def test_a_stopped_spooled_build_resumes_and_an_update_matches_a_rebuild(tmp_path: Path, spool_all: None) -> None:
    clean = _settings(tmp_path, "clean")
    build_index([SAMPLE], clean)
    settings = _settings(tmp_path, "index")
    with pytest.raises(KeyboardInterrupt):
        build_index([SAMPLE], settings, embedder=Counting(fail_at=3))
    assert not list(settings.index.glob(f"{PREFIX}*"))  # the spool goes with the failed build
    build_index([SAMPLE], settings, embedder=Counting())
    assert _files(settings) == _files(clean)

    docs = sorted(SAMPLE.iterdir())
    part = _settings(tmp_path, "part")
    build_index(docs[: len(docs) // 2], part)
    update_index([SAMPLE], part)  # half the rows come from the previous build, half are embedded
    assert _files(part) == _files(clean)


def test_a_killed_builds_spool_is_removed_by_the_next_build(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "index")
    settings.index.mkdir(parents=True)
    left = settings.index / f"{PREFIX}killed"
    left.mkdir()
    (left / "vectors.f32").write_bytes(b"\0" * 64)
    build_index([SAMPLE], settings)
    assert not left.exists()


def test_spooled_rows_read_back_as_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    dim, n = 8, 50
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    sentences = [rng.standard_normal((int(k), dim)).astype(np.float16) for k in rng.integers(0, 4, n)]
    with spool_folder(tmp_path, True) as folder:
        assert folder is not None and folder.name.startswith(PREFIX)
        rows = SpooledRows(folder, n, dim)
        for at in range(0, n, 7):
            rows.add(vectors[at:at + 7], sentences[at:at + 7])
        got, per_row = rows.done()
        assert got.shape == (n, dim) and len(got) == n
        assert np.array_equal(got[3:40], vectors[3:40]) and np.array_equal(got[[0, 17, 49]], vectors[[0, 17, 49]])
        assert got[45:45].shape == (0, dim)
        assert all(np.array_equal(a, b) for a, b in zip(per_row, sentences))
        assert np.array_equal(per_row[10], sentences[10]) and np.array_equal(per_row[-1], sentences[-1])
        assert list(per_row.counts) == [len(s) for s in sentences]
        with pytest.raises(IndexError):
            got[[0, n]]
    assert not folder.exists()


def test_rows_handed_over_short_of_the_count_are_an_error(tmp_path: Path) -> None:
    rows = SpooledRows(tmp_path, 3, 4)  # any folder
    rows.add(np.zeros((2, 4), np.float32), [np.zeros((1, 4), np.float16)] * 2)
    with pytest.raises(RuntimeError, match="2 of 3"):
        rows.done()
    rows.close()


def test_staged_documents_come_back_whole_in_the_order_a_sort_gives(tmp_path: Path) -> None:
    from qa.spool import Staging
    from qa.types import Chunk, Comment, Document

    ids = ["b-2", "B-1", "é-3", "a-10", "a-9", "ä", "z"]
    docs = [Document(doc_id=i, title=f"T {i}", body=f"Body of {i}.", source="Outlet", published_at="2024-03-12",
                     path=f"/x/{i}.txt", comments=tuple(Comment(author=f"r{k}", text=f"c{k} on {i}", date=None)
                                                        for k in range(len(i) % 3)))
            for i in ids]
    staging = Staging(tmp_path)
    staging.add_documents(iter(docs))
    staged = staging.documents()
    assert len(staged) == len(docs) and list(staged) == sorted(docs, key=lambda d: d.doc_id)
    chunks = [Chunk(chunk_id=f"{d.doc_id}#{k}", doc_id=d.doc_id, kind="article", text=d.body, header=d.title,
                    start=0, end=len(d.body), title=d.title, published_at=d.published_at)
              for d in sorted(docs, key=lambda d: d.doc_id) for k in range(700)]
    staging.add_chunks(iter(chunks[:3000]))
    staging.add_chunks(iter(chunks[3000:]))
    staged_chunks = staging.chunks()
    assert len(staged_chunks) == len(chunks) and list(staged_chunks) == chunks
    assert [staged_chunks[i] for i in (0, 4095, 4096, 4899, 17)] == [chunks[i] for i in (0, 4095, 4096, 4899, 17)]
    assert staged_chunks[10:20] == chunks[10:20] and staged_chunks[-1] == chunks[-1]
    staging.close()
