"""The index reader's narrow surface, memory-mapped loading, integrity checks and the write's checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa.build import build_index
from qa.cli import cli
from qa.config import Settings
from qa.errors import IndexCorrupt
from qa.index import FILES, live_build, open_index
from qa.index import files as index_files
from qa.index.files import DenseIndex
from tests.conftest import SAMPLE


def _flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2
    data[at:at + 8] = bytes(b ^ 0xFF for b in data[at:at + 8])
    path.write_bytes(bytes(data))


def test_dense_search_and_scores_are_exact_inner_products(sample_index: Settings) -> None:
    index = open_index(sample_index.index)
    vectors = index.all_vectors()
    query = vectors[3] + 0.5 * vectors[7]
    query /= np.linalg.norm(query)
    rows, scores = index.dense_search(query, 5)
    expected = np.argsort(-(vectors @ query), kind="stable")[:5]
    assert sorted(rows.tolist()) == sorted(expected.tolist())
    assert scores == pytest.approx((vectors @ query)[rows], abs=1e-5)
    assert index.dense_scores([7, 3, 0], query) == pytest.approx((vectors @ query)[[7, 3, 0]], abs=1e-5)
    mask = np.zeros(len(index), dtype=bool)
    mask[[1, 2, 9]] = True
    assert set(index.dense_search(query, 5, mask)[0].tolist()) == {1, 2, 9}


def test_meta_by_row_matches_the_documents(sample_index: Settings) -> None:
    index = open_index(sample_index.index)
    rows = [len(index) - 1, 0, 5]
    docs = index.documents()
    for chunk, meta in zip(index.chunks(rows), index.meta(rows)):
        doc = docs[chunk.doc_id]
        assert (meta.doc_id, meta.source, meta.url, meta.path) == (doc.doc_id, doc.source, doc.url, doc.path)
    assert index.meta([]) == []
    with pytest.raises(IndexCorrupt, match="no passage at row"):
        index.meta([len(index) + 3])


def test_vectors_are_memory_mapped_not_read_at_load(sample_index: Settings) -> None:
    index = open_index(sample_index.index)
    assert isinstance(index._sentences.vectors, np.memmap)
    assert index.sentence_vectors([0])[0].dtype == np.float16


def test_a_damaged_file_is_found_in_the_background_and_never_served(hash_settings: Settings) -> None:
    build_index([SAMPLE], hash_settings)
    _flip_middle(live_build(hash_settings.index) / "sentences.npy")  # type: ignore[operator]
    index = open_index(hash_settings.index, verify="background")  # sizes match: it loads
    with pytest.raises(IndexCorrupt, match="sentences.npy is damaged"):
        index.check()
    with pytest.raises(IndexCorrupt, match="sentences.npy is damaged"):
        open_index(hash_settings.index)  # the default hashes before loading


def test_a_damaged_rows_file_read_at_load_is_named_not_a_traceback(hash_settings: Settings) -> None:
    build_index([SAMPLE], hash_settings)
    _flip_middle(live_build(hash_settings.index) / "rows.npz")  # type: ignore[operator]
    with pytest.raises(IndexCorrupt, match="rows.npz is damaged"):  # read before its hash is checked
        open_index(hash_settings.index, verify="background")


def test_a_wrong_size_is_refused_at_load_without_hashing(hash_settings: Settings) -> None:
    build_index([SAMPLE], hash_settings)
    path = live_build(hash_settings.index) / "sentence_offsets.npy"  # type: ignore[operator]
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(IndexCorrupt, match="sentence_offsets.npy is damaged"):
        open_index(hash_settings.index, verify="background")


def test_index_verify_command(hash_settings: Settings) -> None:
    build_index([SAMPLE], hash_settings)
    runner = CliRunner()
    args = ["--model", "hash", "index", "verify", "--index", str(hash_settings.index)]
    ok = runner.invoke(cli, args, env={"QA_CONFIG": ""})
    files = len(FILES) + 1  # and rows.npz
    assert ok.exit_code == 0 and f"{files} files" in ok.output and "all match the manifest" in ok.output
    _flip_middle(live_build(hash_settings.index) / "vectors.faiss")  # type: ignore[operator]
    bad = runner.invoke(cli, args, env={"QA_CONFIG": ""})
    assert bad.exit_code == 1 and "vectors.faiss is damaged" in bad.output and "Rebuild it: qa" in bad.output


STAGES = ["embedding", "embedded a block", "writing", "written", "renamed", "pointer", "swapped"]


def test_the_write_calls_its_checkpoints_in_order(hash_settings: Settings) -> None:
    seen: list[str] = []
    build_index([SAMPLE], hash_settings, checkpoint=seen.append)
    assert seen == STAGES


# A rebuild of unchanged text embeds nothing, so it never reaches "embedded a block" (a stop while
# embedding is tested in test_journal.py)
@pytest.mark.parametrize("stage", [s for s in STAGES[:-1] if s != "embedded a block"])
def test_a_failure_before_the_swap_leaves_the_old_build_live_and_no_debris(stage: str, hash_settings: Settings) -> None:
    build_index([SAMPLE], hash_settings)
    before = live_build(hash_settings.index)

    def fail(reached: str) -> None:
        if reached == stage:
            raise RuntimeError(f"stopped at {stage}")

    with pytest.raises(Exception, match=f"stopped at {stage}|Cannot write"):
        build_index([SAMPLE], hash_settings, checkpoint=fail)
    assert live_build(hash_settings.index) == before
    assert sorted(p.name for p in hash_settings.index.glob("build-*")) == [before.name]  # type: ignore[union-attr]


def test_the_dense_index_is_chosen_by_size(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(400, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert DenseIndex.build(vectors).kind == "IndexFlatIP"
    monkeypatch.setattr(index_files, "HNSW_ABOVE", 100)
    monkeypatch.setattr(index_files, "EXACT_MASKED_BELOW", 1)
    hnsw = DenseIndex.build(vectors)
    assert hnsw.kind == "IndexRefineFlat"  # the graph over 8-bit codes, rescored on the floats
    import faiss

    older = faiss.IndexHNSWFlat(16, 32, faiss.METRIC_INNER_PRODUCT)  # what builds held before
    older.add(vectors)
    for name, index in (("v.faiss", hnsw), ("older.faiss", DenseIndex(older))):
        index.write(tmp_path / name)
        loaded = DenseIndex.read(tmp_path / name)
        rows, scores = loaded.search(vectors[42], 1)
        assert rows.tolist() == [42] and scores[0] == pytest.approx(1.0, abs=1e-5)  # the float score
        mask = np.zeros(400, dtype=bool)
        mask[[5, 6]] = True
        assert set(loaded.search(vectors[42], 2, mask)[0].tolist()) == {5, 6}  # walked, 2 > EXACT_MASKED_BELOW
        assert loaded.vectors([42, 7]) == pytest.approx(vectors[[42, 7]], abs=1e-6)  # exact, not the codes


def _exact_top(vectors: np.ndarray, query: np.ndarray, mask: np.ndarray, k: int) -> list[int]:
    scores = np.where(mask, vectors @ query, -np.inf)
    return np.argsort(-scores, kind="stable")[:k].tolist()


def test_filtered_search_keeps_to_the_filter_on_every_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(600, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    wide = rng.random(600) < 0.5
    narrow = np.zeros(600, dtype=bool)
    narrow[rng.choice(600, 30, replace=False)] = True
    query = vectors[7]
    flat = DenseIndex.build(vectors)  # exact, its filter a bitmap
    for mask in (wide, narrow):
        rows, scores = flat.search(query, 10, mask)
        assert rows.tolist() == _exact_top(vectors, query, mask, 10)
        assert np.all(np.diff(scores) <= 1e-6)
    monkeypatch.setattr(index_files, "HNSW_ABOVE", 100)
    monkeypatch.setattr(index_files, "EXACT_MASKED_BELOW", 40)
    hnsw = DenseIndex.build(vectors)
    rows, scores = hnsw.search(query, 10, narrow)  # 30 allowed: scored exactly, not walked
    assert rows.tolist() == _exact_top(vectors, query, narrow, 10)
    assert scores == pytest.approx(vectors[rows] @ query, abs=1e-5)
    rows, _ = hnsw.search(query, 10, wide)  # walked with the bitmap: only allowed rows
    assert len(rows) == 10 and wide[rows].all()
    assert len(set(rows.tolist()) & set(_exact_top(vectors, query, wide, 10))) >= 8
    assert hnsw.search(query, 10, np.zeros(600, dtype=bool))[0].tolist() == []


def test_a_short_write_is_named_a_full_disk() -> None:
    from qa.errors import os_advice

    assert os_advice(OSError("81408 requested and 74936 written")).startswith("the disk is full")
    assert os_advice(OSError("something else")) == "something else"


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="advice is given through /proc/self/maps (Linux)")
def test_mapped_index_files_are_advised_random(tmp_path: Path) -> None:
    from qa.index.files import advise_random

    path = tmp_path / "a.npy"
    np.save(path, np.zeros((4096, 16), dtype=np.float16))
    assert advise_random(path) == 0  # not mapped by this process: nothing to advise
    mapped = np.load(path, mmap_mode="r")
    assert advise_random(path) >= 1
    assert float(mapped[100].sum()) == 0.0  # still reads as before
