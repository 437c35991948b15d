"""A damaged index is refused with one clear message that names the file and the repair command,
in the library and on the command line; the command it names repairs it."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from qa.build import build_index
from qa.config import Settings
from qa.errors import IndexCorrupt, IndexMismatch, QAError
from qa.index import FORMAT_VERSION, live_build, open_index
from qa.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "data" / "sample_archive"
QUESTION = "Who controls the Tal Varesh crossing?"


def _flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    data[i:i + 16] = bytes(b ^ 0xFF for b in data[i:i + 16])
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _edit_manifest(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(build: Path) -> None:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        edit(manifest)
        (build / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return damage


def _set(*keys: str, value: object) -> Callable[[dict], None]:
    def edit(manifest: dict) -> None:
        node = manifest
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return edit


def _write_current(content: bytes) -> Callable[[Path], None]:
    return lambda build: (build.parent / "CURRENT").write_bytes(content)


# name: (damage applied to the live build folder, the file the message must name)
CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated FAISS file": (lambda b: _truncate(b / "vectors.faiss"), "vectors.faiss is damaged"),
    "FAISS file with flipped bytes": (lambda b: _flip(b / "vectors.faiss"), "vectors.faiss is damaged"),
    "FAISS file missing": (lambda b: (b / "vectors.faiss").unlink(), "vectors.faiss is missing"),
    "SQLite file missing": (lambda b: (b / "chunks.sqlite").unlink(), "chunks.sqlite is missing"),
    "SQLite file damaged": (lambda b: _flip(b / "chunks.sqlite", 0.3), "chunks.sqlite is damaged"),
    "SQLite file emptied": (lambda b: (b / "chunks.sqlite").write_bytes(b""), "chunks.sqlite is damaged"),
    "lexical postings truncated": (lambda b: _truncate(b / "lexical" / "indices.csc.index.npy"),
                                   "indices.csc.index.npy is damaged"),
    "lexical vocabulary missing": (lambda b: (b / "lexical" / "vocab.index.json").unlink(),
                                   "vocab.index.json is missing"),
    "manifest count edited": (_edit_manifest(_set("counts", "chunks", value=3)), "manifest.json was edited"),
    "manifest model edited": (_edit_manifest(_set("model", "id", value="hash:128")), "manifest.json was edited"),
    "manifest checksum of a file edited": (
        _edit_manifest(_set("files", "vectors.faiss", "sha256", value="0" * 64)), "manifest.json was edited"),
    "manifest fields removed": (_edit_manifest(lambda m: m.pop("files")), "manifest.json was edited"),
    "manifest not JSON": (lambda b: _truncate(b / "manifest.json"), "manifest.json is damaged"),
    "manifest missing": (lambda b: (b / "manifest.json").unlink(), "manifest.json is missing"),
    "CURRENT garbage": (_write_current(b"hello world\n"), "CURRENT is damaged"),
    "CURRENT not UTF-8": (_write_current(b"\xff\xfe\x00build"), "CURRENT is damaged"),
    "CURRENT empty": (_write_current(b""), "CURRENT is damaged"),
    "CURRENT names a .tmp folder": (_write_current(b"build-20240101T000000000000Z.tmp\n"), "CURRENT is damaged"),
    "CURRENT names a missing build": (_write_current(b"build-20240101T000000000000Z\n"), "which is missing"),
}


@pytest.fixture
def damaged_index(hash_settings: Settings, request: pytest.FixtureRequest) -> tuple[Settings, str]:
    build_index([SAMPLE], hash_settings)
    damage, expected = CASES[request.param]
    damage(live_build(hash_settings.index))  # type: ignore[arg-type]
    return hash_settings, expected


def qa(*args: str, real: bool = True) -> subprocess.CompletedProcess[str]:
    """The `qa` command in a process of its own, or (`real` False) in this one through CliRunner."""
    if not real:
        from click.testing import CliRunner

        from qa.cli import cli

        result = CliRunner().invoke(cli, list(args), env={"QA_CONFIG": ""}, prog_name="qa")
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


# A damaged manifest cannot be trusted to say what was indexed: these messages say PATH...
SOURCES_UNKNOWN = {"manifest fields removed", "manifest not JSON", "manifest missing", "manifest model edited",
                   "manifest count edited", "manifest checksum of a file edited"}


def repair_command(message: str) -> list[str]:
    """The command a message names (after "Rebuild it: "), with PATH... filled in by the user."""
    words = shlex.split(message.split("Rebuild it: ", 1)[1])
    assert words[0] == "qa", message
    if "PATH..." in words:
        words = ["qa", "--model", "hash", *[str(SAMPLE) if w == "PATH..." else w for w in words[1:]]]
    return words[1:]


# In-process in the quick run; as real processes (two per case, about a second each) in the full suite.
@pytest.mark.parametrize("real", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["in-process", "process"])
@pytest.mark.parametrize("damaged_index", sorted(CASES), indirect=True)
def test_damage_is_one_clear_error_and_the_named_command_repairs_it(
    damaged_index: tuple[Settings, str], request: pytest.FixtureRequest, real: bool
) -> None:
    settings, expected = damaged_index
    with pytest.raises(IndexCorrupt) as caught:  # at load (manifest, sizes), or before the first answer (hashes)
        Pipeline.open(settings).ask(QUESTION)
    message = str(caught.value)
    assert expected in message and str(settings.index) in message
    if request.node.callspec.params["damaged_index"] in SOURCES_UNKNOWN:
        assert message.endswith(f"Rebuild it: qa index build PATH... --index {settings.index}")
    else:  # the command to run as is: sources and model from the manifest
        assert message.endswith(f"Rebuild it: qa --model hash:256 index build {SAMPLE} --index {settings.index}")

    cli = qa("--model", "hash", "search", QUESTION, "--index", str(settings.index), real=real)
    assert cli.returncode == 1 and cli.stdout == ""  # no answer from a damaged index
    assert cli.stderr.count("\n") == 1 and "Traceback" not in cli.stderr
    assert cli.stderr.startswith("Error: ") and expected in cli.stderr

    repaired = qa(*repair_command(message), "--quiet", real=real)
    assert repaired.returncode == 0, repaired.stderr
    pipeline = Pipeline.open(settings)
    try:
        assert pipeline.ask(QUESTION).citations
    finally:
        pipeline.close()


def test_model_mismatch_names_both_models_and_both_ways_out(hash_settings: Settings) -> None:
    build_index([SAMPLE], hash_settings)
    with pytest.raises(IndexMismatch) as caught:
        open_index(hash_settings.index, "hash:128", 128)
    message = str(caught.value)
    manifest = live_build(hash_settings.index) / "manifest.json"  # type: ignore[operator]
    assert "'hash:256'" in message and "'hash:128'" in message and str(manifest) in message
    assert f"qa --model hash:128 index build {SAMPLE} --index {hash_settings.index}" in message
    cli = qa("--model", "hash:128", "ask", QUESTION, "--index", str(hash_settings.index))
    assert cli.returncode == 1 and cli.stdout == "" and cli.stderr.count("\n") == 1
    assert "Traceback" not in cli.stderr and "--model" in cli.stderr
    rebuilt = qa("--model", "hash:128", "index", "build", str(SAMPLE), "--index", str(hash_settings.index), "--quiet")
    assert rebuilt.returncode == 0 and qa("--model", "hash:128", "ask", QUESTION, "--index",
                                          str(hash_settings.index)).returncode == 0


def test_a_newer_format_is_refused(hash_settings: Settings) -> None:
    from qa.index.folder import manifest_checksum as _manifest_checksum

    build_index([SAMPLE], hash_settings)
    path = live_build(hash_settings.index) / "manifest.json"  # type: ignore[operator]
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = 99
    manifest["checksum"] = _manifest_checksum(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatch,
                       match=f"holds index format 99; this version of archive-qa reads format {FORMAT_VERSION}"):
        open_index(hash_settings.index)


def test_no_index_says_how_to_build_one(tmp_path: Path) -> None:
    cli = qa("--model", "hash", "search", QUESTION, "--index", str(tmp_path / "nothing"))
    assert cli.returncode == 1 and cli.stderr.count("\n") == 1
    assert f"No index at {tmp_path / 'nothing'}. Build one: qa index build PATH..." in cli.stderr


def test_sqlite_damaged_while_serving_is_an_error_not_a_traceback(hash_settings: Settings) -> None:
    build_index([SAMPLE], hash_settings)
    pipeline = Pipeline.open(hash_settings)
    assert pipeline.ask(QUESTION).citations
    database = pipeline.index.build / "chunks.sqlite"
    with open(database, "r+b") as f:  # in place, as a failing disk would
        f.write(b"\x00" * 4096)
    with pytest.raises(QAError, match="chunks.sqlite cannot be read"):
        pipeline.ask(QUESTION)


def test_update_refuses_a_damaged_index_and_leaves_it_alone(hash_settings: Settings) -> None:
    from qa.build import update_index

    build_index([SAMPLE], hash_settings)
    build = live_build(hash_settings.index)
    _truncate(build / "vectors.faiss")  # type: ignore[operator]
    with pytest.raises(IndexCorrupt, match="vectors.faiss is damaged"):
        update_index([SAMPLE], hash_settings)
    assert live_build(hash_settings.index) == build


def test_an_older_format_is_outdated_and_serve_rebuilds_it(hash_settings: Settings) -> None:
    from qa.errors import IndexOutdated
    from qa.index.folder import manifest_checksum as _manifest_checksum
    from qa.page.web import ensure_index

    build_index([SAMPLE], hash_settings)
    old = live_build(hash_settings.index)
    path = old / "manifest.json"  # type: ignore[operator]
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = 2
    for name in ("sentences.npy", "sentence_offsets.npy"):  # format 2 kept them in one sentences.npz
        del manifest["files"][name]
    manifest["checksum"] = _manifest_checksum(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexOutdated, match=r"format 2, written by an older archive-qa.*index build .*sample_archive"):
        open_index(hash_settings.index)
    assert ensure_index(hash_settings, archive=None, default_index=False) == ""  # rebuilt from its sources
    assert live_build(hash_settings.index) != old
    assert open_index(hash_settings.index).manifest["counts"]["documents"] == 12
