"""The CLI against a hostile disk and hostile batch files, in subprocesses: a full disk (an
RLIMIT_FSIZE child), a read-only index folder, `--index` naming a file, batch files that are not
UTF-8 or hold questions that are not text. Each must end in one line naming the path and what to do,
a non-zero exit, no traceback, no partial build left behind, and the live index unchanged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE

# Run the CLI with a file-size limit: writes past it fail with EFBIG, as on a full disk.
FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv = ["qa", *sys.argv[2:]]
from qa.cli import main
main()
"""


def qa(*args: str, limit: int | None = None, model: str = "hash") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "QA_CONFIG": ""}
    env.pop("QA_INDEX", None)
    cmd = ([sys.executable, "-c", FULL_DISK, str(limit)] if limit is not None
           else [sys.executable, "-m", "qa.cli"]) + ["--model", model, *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def one_clean_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder another user can enter (tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="qa-hostile-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _build(index: Path) -> None:
    result = qa("index", "build", str(SAMPLE), "--index", str(index), "--quiet")
    assert result.returncode == 0, result.stderr


def _builds(index: Path) -> list[str]:
    return sorted(p.name for p in index.glob("build-*"))


def test_index_naming_a_file(folder: Path) -> None:
    afile = folder / "notes.txt"
    afile.write_text("not an index\n")
    one_clean_line(qa("index", "build", str(SAMPLE), "--index", str(afile), "--quiet"), str(afile), "--index")
    assert afile.read_text() == "not an index\n"
    one_clean_line(qa("ask", "who controls the crossing?", "--index", str(afile)), str(afile))


def _embedded_then_stopped(index: Path, model: str) -> None:
    """A build of the sample that stopped after embedding everything: its journal holds every
    passage, so the next build writes no journal block and goes straight to the index's files."""
    from qa.build import build_index
    from qa.config import load_settings

    def stop(stage: str) -> None:
        if stage == "writing":
            raise KeyboardInterrupt("stopped")

    with pytest.raises(KeyboardInterrupt):
        build_index([SAMPLE], load_settings({"index": index, "model": model}, env={}), checkpoint=stop)


@pytest.mark.parametrize("model, limit, journal", [
    ("hash", 20_000, False),  # the embedding journal's first block fails, then SQLite
    ("hash", 20_000, True),  # everything embedded already: SQLite fails
    ("hash:2048", 300_000, True)])  # SQLite fits, FAISS's vectors do not
def test_full_disk_during_build_leaves_nothing_behind(folder: Path, model: str, limit: int, journal: bool) -> None:
    index = folder / "index"
    if journal:
        _embedded_then_stopped(index, model)
    line = one_clean_line(qa("index", "build", str(SAMPLE), "--index", str(index), "--quiet", limit=limit,
                             model=model), "disk is full", str(index))
    # the journal gives its room to the build (turned off when its own block fails, else removed and the
    # build written again), and the message says what became of it
    assert "unchanged" in line and "embedding journal" in line
    assert ("was removed to make room" if journal else "was turned off for want of room") in line
    assert _builds(index) == [] and not (index / "CURRENT").exists() and not (index / ".embedding").exists()
    assert not list(index.rglob("*.tmp"))  # no half-written block or build folder


def test_full_disk_during_update_keeps_the_live_index(folder: Path, tmp_path: Path) -> None:
    index = folder / "index"
    _build(index)
    before = _builds(index)
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"title": "Zeltwick bridge reopens", "body": "The Zeltwick bridge reopened "
                                 "to lorries on Monday, the transport office said. " * 40}) + "\n")
    one_clean_line(qa("index", "update", str(extra), "--index", str(index), "--quiet", limit=150_000),
                   "disk is full")
    assert _builds(index) == before  # the partial build is gone, the live one untouched
    stats = qa("index", "stats", "--index", str(index))
    assert stats.returncode == 0 and "12 documents" in stats.stdout  # nothing lost


@contextmanager
def read_only(path: Path) -> Iterator[str]:
    """Make `path` unwritable for the CLI; yields the words its error should hold. Root writes through
    permissions, so as root the folder is bind-mounted read-only instead (skipped where mount is refused)."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield "permission denied"
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    mounted = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount as root: {mounted.stderr.decode().strip()}")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only")
        yield "read-only file system"
    finally:
        subprocess.run(["umount", str(path)], capture_output=True)


def test_read_only_index_folder(folder: Path) -> None:
    index = folder / "index"
    _build(index)
    with read_only(index) as why:
        for command in (["build", str(SAMPLE), "--quiet"], ["update", str(SAMPLE), "--quiet"], ["remove", "doc"]):
            one_clean_line(qa("index", *command, "--index", str(index)), str(index), why)
        ask = qa("ask", "who controls the Tal Varesh crossing?", "--index", str(index))
        assert ask.returncode == 0 and "[1]" in ask.stdout, ask.stderr  # reading still works


def test_new_index_in_a_read_only_parent(folder: Path) -> None:
    parent = folder / "ro"
    parent.mkdir()
    with read_only(parent) as why:
        one_clean_line(qa("index", "build", str(SAMPLE), "--index", str(parent / "index"), "--quiet"),
                       str(parent / "index"), why)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("batch") / "index"
    _build(index)
    return index


BAD_BATCHES = {
    "latin-1 line": (b"who controls the crossing?\ncaf\xe9 question\n", ":2:", "not UTF-8"),
    "utf-16 file": ("who?\n".encode("utf-16"), ":1:", "not UTF-8"),
    "number": (b'{"question": "fine"}\n{"question": 5}\n', ":2:", "must be text"),
    "null": (b'\n\n{"question": null}\n', ":3:", "must be text"),
    "list": (b'{"question": ["who", "what"]}\n', ":1:", "must be text"),
    "object": (b'{"question": {"q": 1}}\n', ":1:", "must be text"),
    "no field": (b'{"q": "who?"}\n', ":1:", "question"),
    "deep json": (b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", ":1:", "question"),
}


@pytest.mark.parametrize("name", sorted(BAD_BATCHES))
def test_bad_batch_files_are_refused_with_the_line(name: str, built: Path, tmp_path: Path) -> None:
    data, where, why = BAD_BATCHES[name]
    batch = tmp_path / "questions.txt"
    batch.write_bytes(data)
    for command in ("ask", "search"):
        one_clean_line(qa(command, "--batch", str(batch), "--index", str(built)), f"{batch}{where}", why)


def test_stats_of_a_manifest_without_its_checksum(folder: Path) -> None:
    index = folder / "index"
    _build(index)
    path = next(index.glob("build-*")) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["checksum"]
    manifest["counts"]["documents"] = 999_999
    path.write_text(json.dumps(manifest), encoding="utf-8")
    result = qa("index", "stats", "--index", str(index))
    one_clean_line(result, "checksum is missing", "Rebuild it: qa")
    assert "999,999" not in result.stdout
