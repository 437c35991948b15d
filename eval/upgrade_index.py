"""Upgrade an older index folder to the current format in place, without embedding anything again.

    python eval/upgrade_index.py INDEX_DIR

The current format keeps the sentence vectors as two .npy files (memory-mapped at load) instead of
one `sentences.npz` (format 3), and the lexical index as a folder of bm25s arrays instead of
`lexical.npz` (format 4). The upgrade reads a format-2 or format-3 build, checks it against its
manifest first (sizes and hashes), keeps `chunks.sqlite` and `vectors.faiss` byte for byte, builds
BM25 again from the passages' text (a few seconds per 10,000 passages), converts the sentence
vectors, and writes the new build beside the old one, swapped in by the durable protocol a build
uses (`qa.index.folder.write_build`). A build made by a pre-release with the bm25s folder and
`sentences.npz` is read too.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.index.files import CHUNK_COLS, SentenceVectors, write_lexical  # noqa: E402
from qa.index.folder import FORMAT_VERSION, live_build, manifest_checksum, sha256_file, write_build, writer_lock  # noqa: E402
from qa.types import Chunk  # noqa: E402

KEPT = ("chunks.sqlite", "vectors.faiss")


def _sentences(old: Path) -> SentenceVectors:
    if (old / "sentences.npz").is_file():
        with np.load(old / "sentences.npz", allow_pickle=False) as data:
            return SentenceVectors(data["vectors"], data["offsets"].astype(np.int64))
    return SentenceVectors.load(old, *_shape(old))


def _shape(old: Path) -> tuple[int, int]:
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    return int(manifest["counts"]["chunks"]), int(manifest["model"]["dim"])


def _texts(old: Path) -> list[str]:
    con = sqlite3.connect(f"file:{old / 'chunks.sqlite'}?mode=ro", uri=True)
    try:
        return [Chunk(*r).indexed_text for r in con.execute(f"SELECT {CHUNK_COLS} FROM chunks ORDER BY row")]
    finally:
        con.close()


def upgrade(index_dir: Path) -> Path:
    with writer_lock(index_dir):
        old = live_build(index_dir)
        if old is None:
            raise SystemExit(f"No index at {index_dir}.")
        manifest: dict[str, Any] = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
        version = manifest.get("format_version")
        if version not in (2, 3) or manifest.get("checksum") != manifest_checksum(manifest):
            raise SystemExit(f"{old} is not a sealed format-2 or format-3 build (this version reads "
                             f"format {FORMAT_VERSION}).")
        for name, expected in manifest["files"].items():
            if sha256_file(old / name) != expected["sha256"]:
                raise SystemExit(f"{old / name} does not match its manifest; rebuild the index instead.")
        sentences = _sentences(old)
        texts = _texts(old)

        def write_files(folder: Path) -> dict[str, Any]:
            for name in KEPT:
                shutil.copyfile(old / name, folder / name)
            write_lexical(folder / "lexical", texts)
            sentences.save(folder)
            return {"vector_index": manifest["vector_index"], "counts": manifest["counts"]}

        kept = {k: v for k, v in manifest.items()
                if k not in ("format", "format_version", "package_version", "created_at", "files", "checksum")}
        return write_build(index_dir, write_files, kept)


if __name__ == "__main__":
    print(upgrade(Path(sys.argv[1])))
