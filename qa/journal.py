"""The embedding journal: what a build has embedded so far, kept on disk in blocks, so a build that
stops part-way (killed, crashed, a full disk, a lost Ray cluster) resumes where it stopped instead
of embedding everything again. A million passages take hours to embed; at most one block is lost.

Layout: `INDEX/.embedding/KEY/block-NNNNNN.npz`, KEY naming the model, its weights and the runtime
that embedded (vectors of another are never mixed in). Each block holds the content hashes of its
passages, their vectors and their sentence vectors; it is written to a temporary name, synced and
renamed, so a block is whole or absent. A complete build removes the journal.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.embed import Embedder
from qa.errors import DiskError, os_advice
from qa.index.folder import fsync_dir

log = logging.getLogger(__name__)

JOURNAL = ".embedding"
_BLOCK = re.compile(r"block-\d{6}\.npz")  # what `append` names a block; any other file is not one
BLOCK = 8192  # passages a block: about 7 minutes of the torch model on 2 cores, the most a stop loses
Vectors = tuple[np.ndarray, np.ndarray]  # a passage's vector and its sentence vectors


def _blocks(folder: Path) -> list[Path]:
    """The blocks in one embedder's folder, in the order they were written (other files skipped)."""
    return sorted(path for path in folder.glob("block-*.npz") if _BLOCK.fullmatch(path.name))


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

    def read(self) -> dict[str, Vectors]:
        """Every passage a whole block holds, by content hash. A block that cannot be read (or does
        not fit this model's dimension) is skipped with a warning: its passages are embedded again."""
        found: dict[str, Vectors] = {}
        blocks = _blocks(self.folder)
        for path in blocks:
            try:
                with np.load(path, allow_pickle=False) as data:
                    hashes, vectors = data["hashes"], data["vectors"]
                    offsets, sentences = data["offsets"], data["sentences"]
                if (vectors.shape != (len(hashes), self.dim) or offsets.shape != (len(hashes) + 1,)
                        or sentences.ndim != 2 or sentences.shape[1] != self.dim or offsets[0] != 0
                        or offsets[-1] != len(sentences) or (np.diff(offsets) < 0).any()):
                    raise ValueError("arrays of the wrong shape")
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                log.warning("Skipping %s (%s): its passages are embedded again.", path, exc)
                continue
            for i, h in enumerate(hashes.tolist()):
                found[h] = (vectors[i], sentences[offsets[i]:offsets[i + 1]])
        if blocks:
            self._next = int(blocks[-1].stem.split("-")[1]) + 1  # names checked by _BLOCK
        return found

    def append(self, hashes: Sequence[str], vectors: np.ndarray, sentences: Sequence[np.ndarray]) -> None:
        """Write one block durably (temporary name, fsync, rename); DiskError when it cannot be."""
        try:
            self._append(hashes, vectors, sentences)
        except OSError as exc:
            raise DiskError(f"Cannot write the embedding journal in {self.root.parent}: {os_advice(exc)}. "
                            "The index there is unchanged.") from None

    def _append(self, hashes: Sequence[str], vectors: np.ndarray, sentences: Sequence[np.ndarray]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        offsets = np.zeros(len(hashes) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in sentences], out=offsets[1:])
        packed = (np.concatenate([np.asarray(s, dtype=np.float16).reshape(-1, self.dim) for s in sentences])
                  if len(sentences) else np.zeros((0, self.dim), dtype=np.float16))
        final = self.folder / f"block-{self._next:06d}.npz"
        tmp = final.with_suffix(".tmp")
        try:
            with open(tmp, "wb") as f:
                np.savez(f, hashes=np.array(list(hashes), dtype=str), vectors=np.asarray(vectors, dtype=np.float32),
                         offsets=offsets, sentences=packed)
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
                with np.load(path, allow_pickle=False) as data:
                    held = data["hashes"].tolist()
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                continue
            if not hashes.issuperset(held):
                return False
        return True

    def clear(self) -> None:
        """Remove the journal (every embedder's): the build it served is complete."""
        shutil.rmtree(self.root, ignore_errors=True)
