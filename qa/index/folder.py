"""The index folder: its layout, the writer lock, the manifest, and the durable build protocol.

Layout: `DIR/CURRENT` names the live build folder `DIR/build-*`. A build is written to a `.tmp`
folder, renamed when complete, and made live by atomically replacing `CURRENT`; a crash at any
point leaves the previous build live. The manifest lists every file with its size and sha256 and
seals itself with a checksum: loading checks it and the sizes (fast), `verify_files` the hashes.

This module knows folders and files, not what is in them (see `qa.index.files`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa import __version__
from qa.commands import Rebuild, build_first
from qa.embed.models import searchable_with
from qa.embed.vectors import same_model, sha256_file
from qa.errors import (
    DiskError,
    IndexCorrupt,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    IndexOutdated,
    describe_os_error,
)
from qa.index.lexical import FILES as LEXICAL_FILES

FORMAT = "archive-qa-index"
# 3: sentence vectors as two .npy files (memory-mapped at load) instead of one .npz
FORMAT_VERSION = 4  # 3: sentence vectors as .npy (memory-mapped); 4: the lexical index as a bm25s folder
FILES = ("chunks.sqlite", "vectors.faiss", *LEXICAL_FILES, "sentences.npy", "sentence_offsets.npy")
# Written by today's writer and checked like the rest when the manifest lists it; a build without it
# (made before it existed) is read without it: the reader makes the same facts from chunks.sqlite.
OPTIONAL_FILES = ("rows.npz",)
COUNTS = ("documents", "comments", "chunks", "article_chunks", "comment_chunks")

Checkpoint = Callable[[str], None]  # called with the stage name at each step of a write (crash tests)


def _no_checkpoint(stage: str) -> None:
    """The default: a write runs straight through."""


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def live_build_name(index_dir: Path) -> str | None:
    """The name in `CURRENT`, unchecked; None when it cannot be read."""
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def live_build(index_dir: Path) -> Path | None:
    """The folder `CURRENT` points at, or None when there is no index here."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = live_build_name(index_dir) or ""
    if not re.fullmatch(r"build-[\w.-]+", name) or name.endswith(".tmp") or ".." in name:
        raise IndexCorrupt(f"{pointer} is damaged (it should name a build-* folder).", repair_of(index_dir))
    if not (index_dir / name).is_dir():
        raise IndexCorrupt(f"{pointer} names {name}, which is missing.", repair_of(index_dir))
    return index_dir / name


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer per index folder; the lock dies with its process, SIGKILL included."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # a file where the folder should be, a read-only disk, no permission
        raise DiskError(describe_os_error(exc, index_dir)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown process"
            raise IndexLocked(
                f"Another process is writing to {index_dir} ({holder}). "
                "Wait for it to finish, or stop it, then run this again."
            ) from None
        info = f"pid {os.getpid()} on {socket.gethostname()} since " \
               f"{datetime.now().isoformat(timespec='seconds')}: " \
               f"{' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300]}".replace("\n", " ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode(), 0)
        yield
    finally:
        os.close(fd)


def remove_stale_builds(index_dir: Path) -> None:
    """Delete unfinished builds (`.tmp`, or finished after the live one but never made live: a
    crash before the swap) and finished ones older than the one before the live one (a server
    may still be reading that one). With a damaged `CURRENT` only `.tmp` folders go."""
    done = sorted(p for p in index_dir.glob("build-*") if p.is_dir() and not p.name.endswith(".tmp"))
    try:
        live = live_build(index_dir)
        keep = [p for p in done if live is not None and p.name < live.name][-1:] + ([live] if live else [])
    except IndexCorrupt:
        keep = done
    for path in index_dir.glob("build-*"):
        if path not in keep:
            shutil.rmtree(path, ignore_errors=True)


def write_build(index_dir: Path, write_files: Callable[[Path], dict[str, Any]], manifest: dict[str, Any],
                checkpoint: Checkpoint = _no_checkpoint) -> Path:
    """Write a complete build beside the live one and swap it in. Call under `writer_lock`.

    `write_files(folder)` writes every name in FILES there and returns manifest fields it knows
    (counts are merged). A write that fails is removed; the live build stays as it was.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = index_dir / f"build-{stamp}"
    tmp = index_dir / f"build-{stamp}.tmp"
    try:
        tmp.mkdir(parents=True)
        found = write_files(tmp)
        full = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **manifest, **{k: v for k, v in found.items() if k != "counts"},
            "counts": {**found.get("counts", {}), **manifest.get("counts", {})},
            "files": {name: {"bytes": (tmp / name).stat().st_size, "sha256": sha256_file(tmp / name)}
                      for name in (*FILES, *(n for n in OPTIONAL_FILES if (tmp / n).is_file()))},
        }
        full["checksum"] = manifest_checksum(full)
        (tmp / "manifest.json").write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
        for name in (*full["files"], "manifest.json"):
            with open(tmp / name, "rb") as f:
                os.fsync(f.fileno())
        for folder in sorted({(tmp / name).parent for name in FILES} - {tmp}):
            fsync_dir(folder)  # the lexical/ folder's entries
        fsync_dir(tmp)
        checkpoint("written")
        os.rename(tmp, final)
        checkpoint("renamed")
        pointer_tmp = index_dir / "CURRENT.tmp"
        pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
        with open(pointer_tmp, "rb") as f:
            os.fsync(f.fileno())
        checkpoint("pointer")
        os.replace(pointer_tmp, index_dir / "CURRENT")
        fsync_dir(index_dir)
        checkpoint("swapped")
    except BaseException:
        # A failed write (a full disk most often) must not leave a partial build holding the space;
        # once CURRENT names the new build it is live and stays.
        if live_build_name(index_dir) != final.name:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
            (index_dir / "CURRENT.tmp").unlink(missing_ok=True)
        raise
    remove_stale_builds(index_dir)
    return final


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest without its own checksum: an edited manifest is caught at load."""
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def repair_of(index_dir: Path, manifest: dict[str, Any] | None = None, model: str | None = None,
              lead: str = "Rebuild it") -> Rebuild:
    """What rebuilds this index: the sources and model its manifest records when it is readable
    (else the newest sealed one's), else sources for the user to name."""
    manifest = manifest if manifest is not None else _newest_manifest(index_dir)
    listed = (manifest or {}).get("sources")
    sources = tuple(s for s in listed if isinstance(s, str)) if isinstance(listed, list) else ()
    recorded = (manifest or {}).get("model")
    model = model or (recorded.get("id") if isinstance(recorded, dict) and isinstance(recorded.get("id"), str)
                      else None)
    return Rebuild(index_dir, sources, model, lead)


def _newest_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest of the newest finished build that has a readable, sealed one."""
    for build in sorted(index_dir.glob("build-*"), reverse=True):
        try:
            manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if not build.name.endswith(".tmp") and _valid_manifest(manifest) and _sealed(manifest):
            return manifest  # type: ignore[no-any-return]
    return None


def _valid_manifest(manifest: Any) -> bool:
    """Every field that loading and `qa index stats` read is there, with its type."""
    def whole(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    try:
        files, counts, sources = manifest["files"], manifest["counts"], manifest.get("sources", [])
        return (isinstance(manifest["model"]["id"], str) and whole(manifest["model"]["dim"])
                and all(isinstance(files[n], dict) and whole(files[n].get("bytes"))
                        and isinstance(files[n].get("sha256"), str) for n in listed_files(manifest))
                and all(whole(counts[n]) for n in COUNTS)
                and isinstance(sources, list) and all(isinstance(x, str) for x in sources)
                and isinstance(manifest["created_at"], str) and isinstance(manifest["package_version"], str))
    except (KeyError, TypeError, AttributeError):
        return False


def _older_format(manifest: dict[str, Any]) -> bool:
    version = manifest.get("format_version")
    return (manifest.get("format") == FORMAT and isinstance(version, int) and not isinstance(version, bool)
            and version < FORMAT_VERSION)


def _sealed(manifest: dict[str, Any]) -> bool:
    """The manifest matches its own checksum. Only a build of an older format (written before
    there was a checksum) may lack one: removing the key does not switch the check off."""
    if "checksum" not in manifest and _older_format(manifest):
        return True
    return manifest.get("checksum") == manifest_checksum(manifest)


def read_manifest(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The live build and its manifest, checked: sealed, this format, every field there."""
    build = live_build(index_dir)
    if build is None:
        raise IndexNotFound(f"No index at {index_dir.absolute()}.", build_first(index_dir))  # not "at index."
    path = build / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"{path} is missing.", repair_of(index_dir)) from None
    except (ValueError, OSError, RecursionError):
        raise IndexCorrupt(f"{path} is damaged (not readable JSON).", repair_of(index_dir)) from None
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"{path} is damaged or edited (not an object).", repair_of(index_dir))
    if not _sealed(manifest):
        raise IndexCorrupt(f"{path} was edited or damaged (its checksum is missing or does not match).",
                           repair_of(index_dir))
    version = manifest.get("format_version")
    if _older_format(manifest):
        raise IndexOutdated(f"{index_dir} holds index format {version}, written by an older archive-qa; this "
                            f"version reads format {FORMAT_VERSION}.", repair_of(index_dir, manifest))
    if manifest.get("format") != FORMAT or version != FORMAT_VERSION:  # before the fields: they differ
        raise IndexMismatch(
            f"{index_dir} holds index format {manifest.get('format_version')!r}; this version of "
            f"archive-qa reads format {FORMAT_VERSION}.",
            repair_of(index_dir, manifest if manifest.get("format") == FORMAT else None))
    if not _valid_manifest(manifest):
        raise IndexCorrupt(f"{path} is damaged or edited (fields missing).", repair_of(index_dir))
    return build, manifest


def listed_files(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The files a build holds: every one of FILES, and the optional ones its manifest lists."""
    return (*FILES, *(name for name in OPTIONAL_FILES if name in manifest["files"]))


def check_files(build: Path, manifest: dict[str, Any], hashes: bool = True) -> None:
    """Every file is there with the size the manifest records and (`hashes`) the same sha256;
    IndexCorrupt naming the first that is not."""
    index_dir = build.parent
    for name in listed_files(manifest):
        path = build / name
        expected = manifest["files"].get(name, {})
        if not path.is_file():
            raise IndexCorrupt(f"{path} is missing.", repair_of(index_dir, manifest))
        try:
            damaged = path.stat().st_size != expected.get("bytes") or (
                hashes and sha256_file(path) != expected.get("sha256"))
        except OSError as exc:
            raise IndexCorrupt(f"{path} cannot be read ({exc.strerror}).", repair_of(index_dir, manifest)) from None
        if damaged:
            raise IndexCorrupt(f"{path} is damaged (size or checksum differs from the manifest).",
                               repair_of(index_dir, manifest))


def check_model(build: Path, manifest: dict[str, Any], model_id: str | None, dim: int | None,
                fingerprint: str | None) -> None:
    """Refuse a build that another model, dimension or set of weights made."""
    model, index_dir = manifest["model"], build.parent
    where = build / "manifest.json"
    if model_id is not None and model["id"] != model_id:
        raise IndexMismatch(
            f"{index_dir} was built with model {model['id']!r} (see {where}), but the settings ask for "
            f"{model_id!r}. Use the same model, or rebuild with this one.",
            repair_of(index_dir, manifest, model_id, lead="Rebuild it"))
    if dim is not None and model["dim"] != dim:
        raise IndexMismatch(f"{index_dir} holds {model['dim']}-d vectors (see {where}); the model makes {dim}-d.",
                            repair_of(index_dir, manifest))
    recorded = model.get("fingerprint")
    if fingerprint and recorded and not (isinstance(recorded, str) and same_model(recorded, fingerprint)):
        raise IndexMismatch(f"{index_dir} was built with other weights or configuration (pooling, max_seq_length, "
                            f"tokenizer) of {model['id']!r} (see {where}).", repair_of(index_dir, manifest))


def built_runtime(model: dict[str, Any]) -> str:
    """What computed an index's vectors; builds from before the setting existed were torch's."""
    recorded = model.get("runtime")
    if isinstance(recorded, str):
        return recorded
    return "hash" if str(model.get("id", "")).startswith("hash:") else "torch"


def check_runtime(build: Path, manifest: dict[str, Any], runtime: str) -> None:
    """Refuse a build whose vectors another embedding runtime computed, unless the two are measured
    equal on ranking (`qa.embed.models.searchable_with`)."""
    built = built_runtime(manifest["model"])
    if not searchable_with(built, runtime):
        index_dir = build.parent
        repair = repair_of(index_dir, manifest, lead="Or rebuild it with this one")
        raise IndexMismatch(
            f"{index_dir} was built with the {built} embedder (see {build / 'manifest.json'}), but the settings "
            f"ask for {runtime}, and their vectors are not measured equal on ranking. "
            f"Use --embedder {built} (QA_EMBEDDER={built}).",
            replace(repair, env=(f"QA_EMBEDDER={runtime}",)))
