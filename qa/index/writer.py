"""`write_index()`: a complete build of documents, chunks and vectors, written by the folder's
durable protocol (`qa.index.folder.write_build`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import DiskError, disk_full, os_advice
from qa.index.files import ROWS, DenseIndex, RowFacts, SentenceVectors, content_hash, write_lexical, write_sqlite
from qa.index.folder import Checkpoint, _no_checkpoint, write_build
from qa.types import KINDS, Chunk, Document


def write_index(
    index_dir: Path, documents: Sequence[Document], chunks: Sequence[Chunk], vectors: np.ndarray,
    sentences: Sequence[np.ndarray], manifest: dict[str, Any], checkpoint: Checkpoint = _no_checkpoint,
    progress: bool = False,
) -> Path:
    """Write a complete build beside the live one and swap it in. Call under `writer_lock`.

    `sentences` holds each chunk's sentence vectors. `manifest` carries model and chunking facts;
    counts, files and versions are added here. A write that fails is removed and raises DiskError.
    `checkpoint` is called with each stage's name ("writing", "written", ...): crash tests stop there.
    Each file is streamed from `chunks`, `vectors` and `sentences` (they may be lazy sequences):
    beyond what the caller holds, memory grows with the vocabulary and the postings, not the text.
    """
    if not len(chunks) == len(vectors) == len(sentences):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors and {len(sentences)} sentence lists")
    model_id = manifest["model"]["id"]

    def write_files(folder: Path) -> dict[str, Any]:
        from tqdm import tqdm

        stages = tqdm(total=4, desc="Writing the index", unit="file", disable=not progress, dynamic_ncols=True)
        with stages:
            write_sqlite(folder / "chunks.sqlite", documents, chunks, (content_hash(model_id, c) for c in chunks))
            con = sqlite3.connect(folder / "chunks.sqlite")
            try:  # made from the database just written, as a reader of an older build makes them
                facts = RowFacts.read_sqlite(con)
                facts.save(folder / ROWS)
            finally:
                con.close()
            stages.update()
            checkpoint("writing")
            dense = DenseIndex.build(vectors, progress=progress)
            dense.write(folder / "vectors.faiss")
            kind = dense.kind
            del dense  # its copy of the vectors
            stages.update()
            write_lexical(folder / "lexical", (c.indexed_text for c in chunks))
            stages.update()
            n_sentences = SentenceVectors.write(folder, sentences, vectors.shape[1] if vectors.ndim == 2 else 0)
            stages.update()
        n_comment_chunks = int(np.count_nonzero(facts.kinds == KINDS.index("comment")))
        return {"vector_index": kind, "counts": {
            "documents": len(documents), "comments": sum(len(d.comments) for d in documents),
            "chunks": len(chunks), "article_chunks": len(chunks) - n_comment_chunks,
            "comment_chunks": n_comment_chunks, "sentence_vectors": n_sentences}}

    try:
        return write_build(index_dir, write_files, manifest, checkpoint)
    except (OSError, sqlite3.Error, RuntimeError) as exc:  # RuntimeError: FAISS's failed write
        error = DiskError(f"Cannot write a new build in {index_dir}: {os_advice(exc)}. "
                          "The index there is unchanged.")
        error.full = disk_full(exc)
        raise error from None
