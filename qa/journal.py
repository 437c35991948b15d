"""The embedding journal: what a build has embedded so far, kept on disk in blocks, so a build that
stops part-way (killed, crashed, a full disk, a lost Ray cluster) resumes where it stopped instead
of embedding everything again. A million passages take hours to embed; at most one block is lost.

Layout: `INDEX/.embedding/KEY/block-NNNNNN.npz`, KEY naming the model, its weights and the runtime
that embedded (vectors of another are never mixed in). Each block holds the content hashes of its
passages, their vectors and their sentence vectors; it is written to a temporary name, synced and
renamed, so a block is whole or absent. A complete build removes the journal.

A block is checked against what it claims before any of it is used: a digest of its arrays, one
well-formed content hash per row, finite values, and (in `qa.build`) one passage per block embedded
again and compared. Only regular files are opened (a FIFO or a link named like a block is skipped).
The journal gives way to the build: when the disk has no room for a block, or for the finished
build, the journal is removed (and says so) rather than fail a build that fits on its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from qa.embed.models import Embedder
from qa.errors import DiskError, disk_full, os_advice
from qa.index.folder import fsync_dir

log = logging.getLogger(__name__)

JOURNAL = ".embedding"
_BLOCK = re.compile(r"block-\d{6}\.npz")  # what `append` names a block; any other file is not one
BLOCK = 8192  # passages a block: about 7 minutes of the torch model on 2 cores, the most a stop loses
Vectors = tuple[np.ndarray, np.ndarray]  # a passage's vector and its sentence vectors
_HASH = re.compile(r"[0-9a-f]{40}")  # what `qa.index.content_hash` gives
_ARRAYS = ("hashes", "vectors", "offsets", "sentences")


def _blocks(folder: Path) -> list[Path]:
    """The blocks in one embedder's folder, in the order they were written (other files skipped)."""
    return sorted(path for path in folder.glob("block-*.npz") if _BLOCK.fullmatch(path.name))


def _open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading when it is a regular file (not a link, FIFO, device or folder):
    opening never blocks, and ValueError names what it is instead."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _digest(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over a block's arrays (dtype, shape and bytes): rows reordered or edited are caught."""
    h = hashlib.sha256()
    for name in _ARRAYS:
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _load_block(path: Path, dim: int) -> dict[str, np.ndarray]:
    """A block's arrays, checked against what the block claims; ValueError (or OSError) says why not."""
    with _open_regular(path) as f, np.load(f, allow_pickle=False) as data:
        arrays = {name: data[name] for name in _ARRAYS}
        digest = str(data["digest"]) if "digest" in data.files else ""
    hashes, vectors, offsets, sentences = (arrays[name] for name in _ARRAYS)
    if (hashes.ndim != 1 or vectors.shape != (len(hashes), dim) or offsets.shape != (len(hashes) + 1,)
            or sentences.ndim != 2 or sentences.shape[1] != dim or offsets[0] != 0
            or offsets[-1] != len(sentences) or (np.diff(offsets) < 0).any()):
        raise ValueError("arrays of the wrong shape")
    if digest != _digest(arrays):
        raise ValueError("its digest does not match its arrays")
    held = hashes.tolist()
    if not all(isinstance(h, str) and _HASH.fullmatch(h) for h in held) or len(set(held)) != len(held):
        raise ValueError("its passage hashes are malformed or repeated")
    if not (np.isfinite(vectors).all() and np.isfinite(sentences).all()):
        raise ValueError("it holds values that are not finite numbers")
    return arrays


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def journal_key(embedder: Embedder) -> str:
    """What the vectors depend on beyond the text: the model, its weights and the runtime."""
    ident = f"{embedder.model_id}\x1f{embedder.fingerprint}\x1f{embedder.runtime}"
    return hashlib.sha1(ident.encode()).hexdigest()[:16]


class Journal:
    """The blocks one embedder has written for one index folder."""

    def __init__(self, index_dir: Path, embedder: Embedder) -> None:
        self.root = index_dir / JOURNAL
        self.folder = self.root / journal_key(embedder)
        self.dim = embedder.dim
        self._next = 0
        self.freed = 0  # bytes of journal removed to make room for the build

    def read(self) -> dict[str, Vectors]:
        """Every passage a whole, valid block holds, by content hash. A block that cannot be read,
        does not fit this model's dimension or does not match what it claims is skipped with a
        warning: its passages are embedded again. `held` maps one passage of each block read to
        every passage of that block, for the caller to check the block against the passages' text."""
        found: dict[str, Vectors] = {}
        self.held: dict[str, list[str]] = {}
        blocks = _blocks(self.folder)
        for path in blocks:
            try:
                arrays = _load_block(path, self.dim)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                log.warning("Skipping %s (%s): its passages are embedded again.", path, exc)
                continue
            hashes, vectors, offsets, sentences = (arrays[name] for name in _ARRAYS)
            held = hashes.tolist()
            for i, h in enumerate(held):
                found[h] = (vectors[i], sentences[offsets[i]:offsets[i + 1]])
            if held:
                self.held[held[0]] = held
        if blocks:
            self._next = int(blocks[-1].stem.split("-")[1]) + 1  # names checked by _BLOCK
        return found

    def size(self) -> int:
        """Bytes the journal (every embedder's) holds on disk."""
        return _size(self.root) if self.root.is_dir() else 0

    off = False  # set when the disk had no room for a block: the build goes on without a journal

    def append(self, hashes: Sequence[str], vectors: np.ndarray, sentences: Sequence[np.ndarray]) -> None:
        """Write one block durably (temporary name, fsync, rename). On a full disk the journal is
        removed and turned off (the build needs the room more); DiskError on any other failure."""
        if self.off:
            return
        try:
            self._append(hashes, vectors, sentences)
        except OSError as exc:
            if disk_full(exc):
                freed = self.size()
                self.clear()
                self.off, self.freed = True, self.freed + freed
                log.warning("No room for the embedding journal in %s (%s): removed it (%s freed); the build "
                            "goes on without one, so a stop now embeds everything again.",
                            self.root, os_advice(exc), megabytes(freed))
                return
            raise DiskError(f"Cannot write the embedding journal in {self.root} ({megabytes(self.size())}): "
                            f"{os_advice(exc)}. The index there is unchanged.") from None

    def _append(self, hashes: Sequence[str], vectors: np.ndarray, sentences: Sequence[np.ndarray]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        offsets = np.zeros(len(hashes) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in sentences], out=offsets[1:])
        packed = (np.concatenate([np.asarray(s, dtype=np.float16).reshape(-1, self.dim) for s in sentences])
                  if len(sentences) else np.zeros((0, self.dim), dtype=np.float16))
        final = self.folder / f"block-{self._next:06d}.npz"
        tmp = final.with_suffix(".tmp")
        arrays: dict[str, Any] = {"hashes": np.array(list(hashes), dtype=str),
                                  "vectors": np.asarray(vectors, dtype=np.float32),
                                  "offsets": offsets, "sentences": packed}
        tmp.unlink(missing_ok=True)  # whatever is there (a link, a FIFO) is not written through
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays, digest=np.array(_digest(arrays)))
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a block is whole or absent
            raise
        fsync_dir(self.folder)
        self._next += 1

    def covered_by(self, hashes: set[str]) -> bool:
        """Whether every passage in the journal (any embedder's) is among `hashes`: then it holds
        nothing a build could still need. A block that cannot be read holds nothing usable."""
        for path in (block for folder in self.root.glob("*") for block in _blocks(folder)):
            try:
                held = _load_block(path, self.dim)["hashes"].tolist() if self.folder == path.parent else (
                    _held(path))
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                continue
            if not hashes.issuperset(held):
                return False
        return True

    def clear(self) -> None:
        """Remove the journal (every embedder's): the build it served is complete."""
        shutil.rmtree(self.root, ignore_errors=True)


def _held(path: Path) -> list[str]:
    """The passages a block of another embedder claims to hold (its dimension is not known here)."""
    with _open_regular(path) as f, np.load(f, allow_pickle=False) as data:
        return data["hashes"].tolist()  # type: ignore[no-any-return]


def megabytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"
