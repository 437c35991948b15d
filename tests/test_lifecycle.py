"""Index lifecycle: incremental update equals a full rebuild, removal, crash safety under SIGKILL,
one writer at a time, and a serving pipeline that switches builds without a restart."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa.build import build_index, remove_documents, update_index
from qa.cli import cli
from qa.config import Settings
from qa.errors import QAError
from qa.index import live_build, open_index
from qa.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "data" / "sample_archive"
QUERIES = ("Who controls the Tal Varesh crossing?", "car bomb border guards", "Iron Dawn Brigades withdrawal",
           "customs computers database", "ceasefire talks in Merelund", "night ferry smuggling river")
NEW_PAGE = """Night ferries return to the Serran as smugglers test the river line

June 30, 2024

Night ferries carrying fuel and cigarettes have been crossing the Serran River below the bridge again, \
border guards said on Sunday, three weeks after the army reopened the road crossing.

A patrol boat stopped two ferries near Dolna Varesh on Friday and seized 4,000 litres of diesel.

Anna Petrov is a staff writer for The Frontier Monitor.

Please donate to keep our reporting free.

Tags: , ,

  • rivermouth says:

    The ferries never stopped. They just moved downstream.

Valdoria
"""


def copy_sample(where: Path) -> Path:
    shutil.copytree(SAMPLE, where)
    return where


def edit_archive(archive: Path) -> None:
    """One body edit, one comment edit, one new page, one deleted page, one new JSON file."""
    page = archive / "page_03.txt"
    page.write_text(page.read_text(encoding="utf-8").replace("ending 74 days", "ending 75 days"), encoding="utf-8")
    page = archive / "page_06.txt"
    text = page.read_text(encoding="utf-8")
    first_comment = text.index(" says:")
    marker_end = text.index("\n", first_comment) + 1
    page.write_text(text[:marker_end] + "\n    A reader adds a line here.\n" + text[marker_end:], encoding="utf-8")
    (archive / "page_13.txt").write_text(NEW_PAGE, encoding="utf-8")
    (archive / "page_07.txt").unlink()
    records = [{"id": "wire-1", "title": "Wire: ferry seized", "body": "A ferry with diesel was seized.",
                "published_at": "2024-07-01", "source": "Wire"},
               {"id": "wire-2", "title": "Wire: bridge inspected", "body": "Engineers inspected the bridge.",
                "comments": [{"author": "eng", "text": "About time."}]}]
    (archive / "wire.json").write_text(json.dumps(records), encoding="utf-8")


def snapshot(settings: Settings) -> dict[str, object]:
    """Everything a build holds that a reader sees: documents, chunk rows, vectors, search results."""
    index = open_index(settings.index)
    try:
        chunks = [(c.chunk_id, h) for c, h in index.all_chunks()]
        docs, vectors, counts = index.documents(), index.all_vectors(), index.manifest["counts"]
        sentences = [v.tobytes() for v in index.sentence_vectors(range(len(index)))]
    finally:
        index.close()
    pipeline = Pipeline.open(settings)
    try:
        results = [[(h.chunk.chunk_id, h.score) for h in pipeline.search(q)] for q in QUERIES]
        answers = [pipeline.ask(q).text for q in QUERIES]
    finally:
        pipeline.close()
    return {"docs": docs, "chunks": chunks, "vectors": vectors.tobytes(), "sentences": sentences, "counts": counts,
            "results": results, "answers": answers}


def at(settings: Settings, where: Path) -> Settings:
    return replace(settings, index=where)


# --- incremental update -------------------------------------------------------------------------

def test_update_equals_full_rebuild(hash_settings: Settings, tmp_path: Path) -> None:
    archive = copy_sample(tmp_path / "archive")
    build_index([archive], hash_settings)
    before = snapshot(hash_settings)
    edit_archive(archive)

    report = update_index([archive], hash_settings, prune=True)

    assert sorted(report.added) == ["page_13", "wire-1", "wire-2"]
    assert sorted(report.changed) == ["page_03", "page_06"]
    assert report.removed == ("page_07",)
    assert report.unchanged == 9 and report.documents == 14 and report.written
    assert 0 < report.embedded < report.chunks / 4  # only the passages whose text changed
    after = snapshot(hash_settings)
    fresh = build_index([archive], at(hash_settings, tmp_path / "fresh"))
    assert fresh.embedded == fresh.chunks
    rebuilt = snapshot(at(hash_settings, tmp_path / "fresh"))
    assert after == rebuilt  # same documents, chunk ids, vectors, counts, search results and answers
    assert after["results"] != before["results"]
    assert "page_07" not in after["docs"]  # type: ignore[operator]


def test_update_of_one_source_keeps_the_others(hash_settings: Settings, tmp_path: Path) -> None:
    first = tmp_path / "first"
    second = tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for page in sorted(SAMPLE.glob("*.txt")):
        shutil.copy(page, (first if page.stem < "page_07" else second) / page.name)
    build_index([first, second], hash_settings)
    (second / "page_07.txt").unlink()
    (second / "page_13.txt").write_text(NEW_PAGE, encoding="utf-8")
    page = second / "page_09.txt"
    page.write_text(page.read_text(encoding="utf-8").replace("the", "a", 1), encoding="utf-8")

    report = update_index([second], hash_settings, prune=True)

    assert (report.added, report.changed, report.removed) == (("page_13",), ("page_09",), ("page_07",))
    assert {"page_01", "page_03", "page_05"} <= set(open_index(hash_settings.index).documents())
    build_index([first, second], at(hash_settings, tmp_path / "fresh"))
    assert snapshot(hash_settings) == snapshot(at(hash_settings, tmp_path / "fresh"))


def test_update_without_prune_keeps_documents_whose_file_is_gone(hash_settings: Settings, tmp_path: Path) -> None:
    archive = copy_sample(tmp_path / "archive")
    build_index([archive], hash_settings)
    (archive / "page_07.txt").unlink()
    report = update_index([archive], hash_settings)
    assert report.removed == () and not report.written
    assert "page_07" in open_index(hash_settings.index).documents()
    assert update_index([archive], hash_settings, prune=True).removed == ("page_07",)


def test_update_prune_of_a_deleted_folder_removes_its_documents(hash_settings: Settings, tmp_path: Path) -> None:
    archive = copy_sample(tmp_path / "archive")
    wire = tmp_path / "wire.json"
    wire.write_text(json.dumps([{"id": "w1", "title": "Wire", "body": "A ferry was seized."}]), encoding="utf-8")
    build_index([archive, wire], hash_settings)
    wire.unlink()
    with pytest.raises(QAError, match="No such file or folder: .*wire.json. To remove .* add --prune"):
        update_index([wire], hash_settings)
    report = update_index([wire], hash_settings, prune=True)
    assert report.removed == ("w1",) and report.documents == 12
    build_index([archive], at(hash_settings, tmp_path / "fresh"))
    assert snapshot(hash_settings) == snapshot(at(hash_settings, tmp_path / "fresh"))


def test_update_with_nothing_new_does_not_rewrite(hash_settings: Settings, tmp_path: Path) -> None:
    archive = copy_sample(tmp_path / "archive")
    build_index([archive], hash_settings)
    live = live_build(hash_settings.index)
    report = update_index([archive], hash_settings, prune=True)
    assert (report.written, report.embedded, report.unchanged) == (False, 0, 12)
    assert live_build(hash_settings.index) == live
    assert "Up to date" in report.summary()


def test_update_without_an_index_builds_one(hash_settings: Settings, tmp_path: Path) -> None:
    report = update_index([SAMPLE], hash_settings)
    assert len(report.added) == 12 and report.embedded == report.chunks
    build_index([SAMPLE], at(hash_settings, tmp_path / "other"))
    assert snapshot(hash_settings) == snapshot(at(hash_settings, tmp_path / "other"))


def test_update_of_a_moved_archive_replaces_documents_by_id(hash_settings: Settings, tmp_path: Path) -> None:
    old = copy_sample(tmp_path / "old")
    build_index([old], hash_settings)
    new = old.rename(tmp_path / "new")
    report = update_index([new], hash_settings, prune=True)
    assert (report.added, report.changed, report.removed, report.embedded) == ((), (), (), 0)
    assert all(d.path and d.path.startswith(str(new)) for d in open_index(hash_settings.index).documents().values())
    build_index([new], at(hash_settings, tmp_path / "fresh"))
    assert snapshot(hash_settings) == snapshot(at(hash_settings, tmp_path / "fresh"))


def test_update_settles_an_id_clash_as_a_full_build_does(hash_settings: Settings, tmp_path: Path) -> None:
    """Two folders each with a page_01.txt: updating one must not overwrite the other's document."""
    root = tmp_path / "archive"
    copy_sample(root / "a")
    (root / "b").mkdir()
    other = (SAMPLE / "page_02.txt").read_text(encoding="utf-8").replace("Brigades", "brigades")
    (root / "b" / "page_01.txt").write_text(other, encoding="utf-8")  # same id, other content
    build_index([root], hash_settings)
    ids = set(open_index(hash_settings.index).documents())
    assert "page_01" in ids and len(ids) == 13
    clash = root / "b" / "page_01.txt"
    clash.write_text(clash.read_text(encoding="utf-8").replace("Tal Varesh", "Tal-Varesh"), encoding="utf-8")

    report = update_index([root / "b"], hash_settings, prune=True)

    assert len(report.added) == 1 and report.added[0].startswith("page_01-") and len(report.removed) == 1
    build_index([root], at(hash_settings, tmp_path / "fresh"))
    assert snapshot(hash_settings) == snapshot(at(hash_settings, tmp_path / "fresh"))


def test_remove_documents(hash_settings: Settings, tmp_path: Path) -> None:
    build_index([SAMPLE], hash_settings)
    before = open_index(hash_settings.index)
    kept_before = {c.chunk_id: v.tobytes() + s.tobytes() for (c, _), v, s
                   in zip(before.all_chunks(), before.all_vectors(), before.sentence_vectors(range(len(before))))
                   if c.doc_id not in ("page_03", "page_04")}
    report = remove_documents(["page_03", "page_04"], hash_settings)
    assert report.removed == ("page_03", "page_04") and report.documents == 10 and report.embedded == 0
    after = open_index(hash_settings.index)
    assert {c.chunk_id: v.tobytes() + s.tobytes() for (c, _), v, s
            in zip(after.all_chunks(), after.all_vectors(), after.sentence_vectors(range(len(after))))} == kept_before
    pipeline = Pipeline.open(hash_settings)
    assert all(h.chunk.doc_id not in ("page_03", "page_04") for q in QUERIES for h in pipeline.search(q, k=20))
    live = live_build(hash_settings.index)
    with pytest.raises(QAError, match="No document 'page_03'.*nothing removed"):
        remove_documents(["page_01", "page_03"], hash_settings)
    with pytest.raises(QAError, match="would leave .* empty"):
        remove_documents(sorted(after.documents()), hash_settings)
    assert live_build(hash_settings.index) == live


def test_cli_update_and_remove(tmp_path: Path) -> None:
    archive = copy_sample(tmp_path / "archive")
    index = str(tmp_path / "index")
    runner = CliRunner()
    built = runner.invoke(cli, ["--model", "hash", "index", "build", str(archive), "--index", index, "--quiet"])
    assert built.exit_code == 0, built.output
    edit_archive(archive)
    (archive / "broken.json").write_text("{not json", encoding="utf-8")
    result = runner.invoke(cli, ["--model", "hash", "index", "update", str(archive), "--index", index,
                                 "--prune", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "3 added, 2 changed, 1 removed, 9 unchanged documents" in result.output
    assert "broken.json: invalid JSON" in result.output  # the skip is reported
    removed = runner.invoke(cli, ["--model", "hash", "index", "remove", "wire-1", "--index", index])
    assert removed.exit_code == 0 and "1 removed" in removed.output
    unknown = runner.invoke(cli, ["--model", "hash", "index", "remove", "wire-1", "--index", index])
    assert unknown.exit_code == 1 and "No document 'wire-1'" in unknown.output


# --- crash safety: real processes, real SIGKILL -------------------------------------------------

def start_qa(*args: str, stop_at: str | None = None, log: Path) -> subprocess.Popen[bytes]:
    """`qa --model hash ARGS` in a process of its own; with `stop_at`, the same build or update
    through tests/stop_at.py, which waits at that stage of the write until it is killed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = ([str(ROOT / "tests" / "stop_at.py"), stop_at, *[a for a in args if a != "--quiet"]] if stop_at
               else ["-m", "qa.cli", "--model", "hash", *args])
    with open(log, "wb") as err:
        return subprocess.Popen([sys.executable, *command], stdout=subprocess.DEVNULL, stderr=err, env=env)


def run_qa(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "qa.cli", "--model", "hash", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text(errors="replace"):
        assert proc.poll() is None, f"process ended early: {log.read_text(errors='replace')}"
        assert time.monotonic() < deadline, "the process never reached the stop point"
        time.sleep(0.05)


STAGES = ("embedding", "embedded a block", "writing", "written", "renamed", "pointer", "swapped")


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_at_each_stage_leaves_a_working_index(stage: str, hash_settings: Settings, tmp_path: Path) -> None:
    archive = copy_sample(tmp_path / "archive")
    build_index([archive], hash_settings)
    before, old_build = snapshot(hash_settings), live_build(hash_settings.index)
    edit_archive(archive)
    index = str(hash_settings.index)

    proc = start_qa("index", "update", str(archive), "--index", index, "--prune", "--quiet",
                    stop_at=stage, log=tmp_path / "err")
    wait_for(tmp_path / "err", f"STOPPED AT {stage}", proc)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL

    build_index([archive], at(hash_settings, tmp_path / "fresh"))
    expected = snapshot(at(hash_settings, tmp_path / "fresh"))
    if stage == "swapped":  # killed after the switch: the new build is complete and live
        assert snapshot(hash_settings) == expected
    else:
        assert live_build(hash_settings.index) == old_build and snapshot(hash_settings) == before
    leftovers = {p.name for p in hash_settings.index.iterdir()} - {"CURRENT", ".lock", old_build.name}
    if stage in ("writing", "written"):
        assert any(name.endswith(".tmp") for name in leftovers)
    if stage != "embedding":  # what was embedded before the kill is on disk, for the next run
        assert list((hash_settings.index / ".embedding").rglob("block-*.npz"))

    again = run_qa("index", "update", str(archive), "--index", index, "--prune", "--quiet")
    assert again.returncode == 0, again.stderr
    assert snapshot(hash_settings) == expected
    names = {p.name for p in hash_settings.index.iterdir()}
    assert not any(n.endswith(".tmp") for n in names), names  # partial work cleaned up
    assert ".embedding" not in names  # the journal goes with the build it served
    assert len([n for n in names if n.startswith("build-")]) <= 2  # the live build and the one before


@pytest.mark.slow
def test_sigkill_at_random_moments_never_breaks_the_index(hash_settings: Settings, tmp_path: Path) -> None:
    """Without stop points: kill a rebuild after 0.1 … 1.5 s; the index is always the old or the new one."""
    archive = copy_sample(tmp_path / "archive")
    build_index([archive], hash_settings)
    before = snapshot(hash_settings)
    edit_archive(archive)
    build_index([archive], at(hash_settings, tmp_path / "fresh"))
    after = snapshot(at(hash_settings, tmp_path / "fresh"))
    for delay in (0.1, 0.5, 0.8, 1.1, 1.5):
        proc = start_qa("index", "build", str(archive), "--index", str(hash_settings.index), "--quiet",
                        log=tmp_path / "err")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert snapshot(hash_settings) in (before, after)
    assert run_qa("index", "build", str(archive), "--index", str(hash_settings.index), "--quiet").returncode == 0
    assert snapshot(hash_settings) == after


@pytest.mark.slow
def test_a_second_writer_is_refused_naming_the_first(hash_settings: Settings, tmp_path: Path) -> None:
    build_index([SAMPLE], hash_settings)
    index = str(hash_settings.index)
    first = start_qa("index", "build", str(SAMPLE), "--index", index, "--quiet", stop_at="embedding",
                     log=tmp_path / "err")
    try:
        wait_for(tmp_path / "err", "STOPPED AT embedding", first)
        second = run_qa("index", "build", str(SAMPLE), "--index", index, "--quiet")
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in second.stderr
        assert f"Another process is writing to {index} (pid {first.pid} " in lines[0]
        assert "index build" in lines[0]  # what the holder is doing
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert run_qa("index", "build", str(SAMPLE), "--index", index, "--quiet").returncode == 0  # lock died with it


# --- serving during rebuilds -------------------------------------------------------------------

def test_refresh_switches_to_a_new_build(hash_settings: Settings, tmp_path: Path) -> None:
    archive = copy_sample(tmp_path / "archive")
    build_index([archive], hash_settings)
    pipeline = Pipeline.open(hash_settings)
    question = "smugglers night ferries diesel seized"
    assert pipeline.refresh() is False
    assert all(h.chunk.doc_id != "page_13" for h in pipeline.search(question))

    edit_archive(archive)
    update_index([archive], hash_settings, prune=True)
    assert all(h.chunk.doc_id != "page_13" for h in pipeline.search(question))  # still the loaded build
    assert pipeline.refresh() is True
    assert pipeline.search(question)[0].chunk.doc_id in ("page_13", "wire-1")
    assert pipeline.index.build == live_build(hash_settings.index)
    assert pipeline.refresh() is False
    started = time.perf_counter()
    for _ in range(1000):
        pipeline.refresh()
    assert time.perf_counter() - started < 1.0  # a stat per call when nothing changed


def test_refresh_keeps_the_loaded_build_when_the_new_one_is_damaged(
    hash_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    archive = copy_sample(tmp_path / "archive")
    build_index([archive], hash_settings)
    pipeline = Pipeline.open(hash_settings)
    loaded = pipeline.index.build
    edit_archive(archive)
    update_index([archive], hash_settings, prune=True)
    vectors = live_build(hash_settings.index) / "vectors.faiss"  # type: ignore[operator]
    vectors.write_bytes(vectors.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="qa.pipeline"):
        assert pipeline.refresh() is False
    assert pipeline.index.build == loaded and "vectors.faiss is damaged" in caplog.text
    assert pipeline.ask("Who controls the Tal Varesh crossing?").citations  # still answering
    build_index([archive], hash_settings)  # the repair the message names: a full build
    assert pipeline.refresh() is True and pipeline.index.build != loaded


def test_readers_keep_answering_while_the_index_is_rebuilt(hash_settings: Settings, tmp_path: Path) -> None:
    archive = copy_sample(tmp_path / "archive")
    build_index([archive], hash_settings)
    pipeline = Pipeline.open(hash_settings)
    builds_seen: set[str] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                pipeline.refresh()
                builds_seen.add(pipeline.index.build.name)
                assert pipeline.ask("Who controls the Tal Varesh crossing?").citations
                assert len(pipeline.search("border crossing", k=5)) == 5
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    edit_archive(archive)
    for n in range(4):
        (archive / "page_13.txt").write_text(NEW_PAGE.replace("4,000", f"{n + 5},000"), encoding="utf-8")
        update_index([archive], hash_settings, prune=True)
        time.sleep(0.05)
    time.sleep(0.2)
    stop.set()
    for t in readers:
        t.join(timeout=30)
    assert not errors, errors
    assert len(builds_seen) >= 2 and pipeline.index.build == live_build(hash_settings.index)
    assert np.isfinite([h.score for h in pipeline.search("ferries")]).all()
