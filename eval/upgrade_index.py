"""Upgrade a format-2 index folder to format 3 in place, without embedding anything again.

    python eval/upgrade_index.py INDEX_DIR

Format 3 keeps the sentence vectors as two .npy files (memory-mapped at load) instead of one
`sentences.npz`; every other file is kept byte for byte. The old build is checked against its
manifest first (sizes and hashes); the new one is written beside it and swapped in by the same
durable protocol as a build (`qa.index.folder.write_build`).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from qa.index.files import SentenceVectors
from qa.index.folder import live_build, manifest_checksum, sha256_file, write_build, writer_lock

KEPT = ("chunks.sqlite", "vectors.faiss", "lexical.npz")


def upgrade(index_dir: Path) -> Path:
    with writer_lock(index_dir):
        old = live_build(index_dir)
        if old is None:
            raise SystemExit(f"No index at {index_dir}.")
        manifest: dict[str, Any] = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format_version") != 2 or manifest.get("checksum") != manifest_checksum(manifest):
            raise SystemExit(f"{old} is not a sealed format-2 build.")
        for name, expected in manifest["files"].items():
            if sha256_file(old / name) != expected["sha256"]:
                raise SystemExit(f"{old / name} does not match its manifest; rebuild the index instead.")
        with np.load(old / "sentences.npz", allow_pickle=False) as data:
            sentences = SentenceVectors(data["vectors"], data["offsets"].astype(np.int64))

        def write_files(folder: Path) -> dict[str, Any]:
            for name in KEPT:
                shutil.copyfile(old / name, folder / name)
            sentences.save(folder)
            return {"vector_index": manifest["vector_index"], "counts": manifest["counts"]}

        kept = {k: v for k, v in manifest.items()
                if k not in ("format", "format_version", "package_version", "created_at", "files", "checksum")}
        return write_build(index_dir, write_files, kept)


if __name__ == "__main__":
    print(upgrade(Path(sys.argv[1])))
