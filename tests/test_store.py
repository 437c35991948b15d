"""The index folder: round trip, refused mismatches, the atomic swap."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.build import build_index
from qa.config import Settings
from qa.embed.models import HashEmbedder
from qa.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from qa.index import SentenceVectors, live_build, open_index, read_manifest
from qa.index.lexical import FILES as LEXICAL_FILES
from tests.conftest import SAMPLE


def test_round_trip(sample_index: Settings) -> None:
    build, manifest = read_manifest(sample_index.index)
    index = open_index(sample_index.index, "hash:256", 256)
    assert len(index) == manifest["counts"]["chunks"] > 12
    assert manifest["counts"]["documents"] == 12 and manifest["model"]["id"] == "hash:256"
    assert set(manifest["files"]) == {"chunks.sqlite", "vectors.faiss", "sentences.npy", "sentence_offsets.npy",
                                      "rows.npz", *LEXICAL_FILES}
    assert all((build / name).is_file() for name in manifest["files"])
    stored = {c.chunk_id: c for c, _ in index.all_chunks()}
    rows = [0, len(index) - 1]
    for chunk in index.chunks(rows):
        assert stored[chunk.chunk_id] == chunk
        doc = index.documents([chunk.doc_id])[chunk.doc_id]
        source = doc.body if chunk.kind == "article" else doc.comments[chunk.comment_index or 0].text
        assert source[chunk.start:chunk.end] == chunk.text
    assert index.all_vectors().shape == (len(index), 256) and index.lexical.n_docs == len(index)


def test_mismatches_are_refused_with_what_to_run(sample_index: Settings) -> None:
    with pytest.raises(IndexMismatch, match="built with model 'hash:256'.*qa index build"):
        open_index(sample_index.index, "sentence-transformers/all-MiniLM-L6-v2", 384)
    with pytest.raises(IndexMismatch, match=r"256-d vectors .*the model makes 384-d"):
        open_index(sample_index.index, None, 384)
    with pytest.raises(IndexNotFound, match="qa index build"):
        open_index(sample_index.index.parent / "elsewhere")


def test_format_version_and_damaged_files(hash_settings: Settings) -> None:
    build_index([SAMPLE], hash_settings)
    build = live_build(hash_settings.index)
    assert build is not None
    manifest_path = build / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(IndexCorrupt, match="manifest.json was edited or damaged"):
        open_index(hash_settings.index)
    manifest_path.write_text(json.dumps(manifest))
    faiss_file = build / "vectors.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="vectors.faiss is damaged"):
        open_index(hash_settings.index)


def test_failed_build_leaves_previous_index_live(hash_settings: Settings, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    build_index([SAMPLE], hash_settings)
    before = live_build(hash_settings.index)

    class Boom(HashEmbedder):
        def embed_documents(self, texts, progress=False):  # type: ignore[no-untyped-def]
            raise RuntimeError("power cut")

    (tmp_path / "new.jsonl").write_text('{"title": "New", "body": "Fresh text."}\n')
    with pytest.raises(RuntimeError):
        build_index([tmp_path / "new.jsonl"], hash_settings, embedder=Boom())
    assert live_build(hash_settings.index) == before
    assert open_index(hash_settings.index).manifest["counts"]["documents"] == 12


def test_rebuild_reuses_unchanged_vectors(hash_settings: Settings, tmp_path: Path) -> None:
    first = build_index([SAMPLE], hash_settings)
    again = build_index([SAMPLE], hash_settings)
    assert first.embedded == first.chunks and again.embedded == 0 and again.reused == first.chunks
    bigger = replace(hash_settings, chunk_tokens=120)
    changed = build_index([SAMPLE], bigger)
    assert changed.embedded > 0
    assert len(list(hash_settings.index.glob("build-*"))) == 2  # the live build and the one before


def test_sentence_vectors_write_and_load(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    per_chunk = [rng.normal(size=(n, 8)).astype(np.float32) for n in (3, 0, 1, 5, 0)]
    # written two chunks at a time, so one block (the last) holds no vectors at all
    assert SentenceVectors.write(tmp_path, per_chunk, 8, block=2) == 9
    loaded = SentenceVectors.load(tmp_path, chunks=5, dim=8)
    assert list(loaded.offsets) == [0, 3, 3, 4, 9, 9] and loaded.vectors.dtype == np.float16
    assert isinstance(loaded.vectors, np.memmap)  # read from disk on demand
    rows = [4, 3, 0, 1, 2, 3]
    assert [len(v) for v in loaded.of(rows)] == [0, 5, 3, 0, 1, 5]
    for r in rows:
        assert loaded.of([r])[0] == pytest.approx(per_chunk[r], abs=5e-3)  # float16 storage
    block, counts = loaded.block(rows)
    assert list(counts) == [0, 5, 3, 0, 1, 5] and len(block) == 14
    assert block[5:8] == pytest.approx(per_chunk[0], abs=5e-3)  # row 0's three, after row 3's five
    with pytest.raises(ValueError, match="do not fit 6 chunks"):
        SentenceVectors.load(tmp_path, chunks=6, dim=8)
    with pytest.raises(ValueError, match="do not fit"):
        SentenceVectors.load(tmp_path, chunks=5, dim=16)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert SentenceVectors.write(empty, [np.zeros((0, 8))] * 2, 8) == 0
    assert len(SentenceVectors.load(empty, chunks=2, dim=8).vectors) == 0


def test_each_chunk_stores_a_vector_per_sentence(sample_index: Settings) -> None:
    from qa.text import split_sentences

    index = open_index(sample_index.index)
    chunks = [c for c, _ in index.all_chunks()]
    per_row = index.sentence_vectors(range(len(index)))
    assert [len(v) for v in per_row] == [len(split_sentences(c.text)) for c in chunks]
    assert index.manifest["counts"]["sentence_vectors"] == sum(map(len, per_row)) > len(index)
    embedder = HashEmbedder()
    first = split_sentences(chunks[0].text)[0]
    assert index.sentence_vectors([0])[0][0] == pytest.approx(embedder.embed_query(chunks[0].text[slice(*first)]),
                                                          abs=1e-3)


def test_row_facts_are_the_databases_and_a_build_without_them_reads_the_same(sample_index: Settings,
                                                                             tmp_path: Path) -> None:
    import shutil
    import sqlite3

    from qa.index.files import ROWS, RowFacts
    from qa.index.folder import manifest_checksum

    index = open_index(sample_index.index)
    kept = (index.kinds.copy(), index.doc_rows.copy(), index.days.copy(), index.sources.copy(), index.source_names)
    assert (index.days > 0).any() and len(set(index.doc_rows.tolist())) == 12
    index.close()
    # an older build (no rows.npz in its manifest) gets the same facts from chunks.sqlite
    copy = tmp_path / "older"
    shutil.copytree(sample_index.index, copy)
    build, manifest = read_manifest(copy)
    (build / ROWS).unlink()
    del manifest["files"][ROWS]
    manifest["checksum"] = manifest_checksum(manifest)
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    older = open_index(copy)
    for a, b in zip(kept[:4], (older.kinds, older.doc_rows, older.days, older.sources)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert older.source_names == kept[4]
    older.close()
    # arrays that do not fit the build are refused
    con = sqlite3.connect(build / "chunks.sqlite")
    facts = RowFacts.read_sqlite(con)
    con.close()
    bad = RowFacts(facts.kinds[:-1], facts.doc_rows, facts.days, facts.sources, facts.source_names)
    bad.save(tmp_path / ROWS)
    with pytest.raises(ValueError, match="does not fit"):
        RowFacts.load(tmp_path / ROWS, len(facts.kinds))
    RowFacts(facts.kinds, facts.doc_rows, facts.days, np.zeros_like(facts.sources), []).save(tmp_path / ROWS)
    with pytest.raises(ValueError, match="does not fit"):  # an outlet number with no name
        RowFacts.load(tmp_path / ROWS, len(facts.kinds))


def test_sentence_vectors_on_a_really_full_disk_are_an_oserror_not_a_crash(tmp_path: Path) -> None:
    """A real full file system (a 1 MiB tmpfs; root only): writing into a memory-mapped output file
    would die of SIGBUS there; plain writes fail with ENOSPC, which the writer turns into DiskError."""
    import os
    import subprocess
    import sys

    tiny = tmp_path / "tiny"
    tiny.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(tiny)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and a tmpfs mount")
    try:
        code = ("import sys, numpy as np; from pathlib import Path; from qa.index import SentenceVectors\n"
                "try:\n"
                "    SentenceVectors.write(Path(sys.argv[1]), [np.ones((40, 384))] * 100, 384)\n"
                "except OSError as exc:\n"
                "    print('OSError', exc.errno)\n")
        run = subprocess.run([sys.executable, "-c", code, str(tiny)], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        assert run.returncode == 0, run.stderr  # -7 would be SIGBUS
        assert run.stdout.startswith("OSError 28")  # ENOSPC
    finally:
        subprocess.run(["umount", str(tiny)], capture_output=True)
