"""`build_index()`: ingest → chunk → embed → store, reusing vectors of chunks that did not change."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.chunk import chunk_document
from qa.config import Settings
from qa.embed import Embedder, load_embedder
from qa.errors import IngestError
from qa.ingest import Skipped, iter_documents
from qa.store import content_hash, remove_stale_builds, stored_vectors, write_index, writer_lock
from qa.types import Chunk, Document


@dataclass(frozen=True)
class BuildReport:
    index: Path
    documents: int
    comments: int
    chunks: int
    embedded: int  # chunks whose vectors were computed in this run
    reused: int  # chunks whose vectors came from the previous build
    skipped: tuple[Skipped, ...]
    seconds: float

    def summary(self) -> str:
        rate = self.chunks / self.seconds if self.seconds else 0.0
        return (f"Indexed {self.documents:,} documents, {self.comments:,} comments, {self.chunks:,} chunks "
                f"({self.embedded:,} embedded, {self.reused:,} reused); {len(self.skipped):,} skipped; "
                f"{self.seconds:.1f} s, {rate:.1f} chunks/s → {self.index}")


def chunk_documents(docs: Sequence[Document], embedder: Embedder, settings: Settings,
                    progress: bool = False) -> list[Chunk]:
    chunks: list[Chunk] = []
    for doc in tqdm(docs, desc="Chunking", unit="doc", disable=not progress, dynamic_ncols=True):
        chunks += chunk_document(doc, embedder.count_tokens, embedder.max_tokens,
                                 settings.chunk_tokens, settings.overlap_tokens)
    return chunks


def build_index(paths: Sequence[Path], settings: Settings, embedder: Embedder | None = None,
                progress: bool = False) -> BuildReport:
    """Index every readable document under `paths` into `settings.index`, replacing what was there."""
    started = time.perf_counter()
    embedder = embedder or load_embedder(settings.model, settings.batch_size)
    with writer_lock(settings.index):
        remove_stale_builds(settings.index)
        skipped: list[Skipped] = []
        docs = list(iter_documents(paths, skipped))
        if not docs:
            listed = "; ".join(str(s) for s in skipped[:5]) or "no files"
            raise IngestError(f"No documents found in {', '.join(map(str, paths))} ({listed}).")
        chunks = chunk_documents(docs, embedder, settings, progress)
        hashes = [content_hash(embedder.model_id, c) for c in chunks]
        known = stored_vectors(settings.index, embedder.model_id, embedder.fingerprint, hashes)
        todo = [i for i, h in enumerate(hashes) if h not in known]
        fresh = embedder.embed_documents([chunks[i].indexed_text for i in todo], progress=progress)
        vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
        vectors[todo] = fresh
        for i, h in enumerate(hashes):
            if h in known:
                vectors[i] = known[h]
        manifest = {
            "model": {"id": embedder.model_id, "fingerprint": embedder.fingerprint,
                      "dim": embedder.dim, "max_tokens": embedder.max_tokens},
            "chunking": {"target_tokens": settings.chunk_tokens, "overlap_tokens": settings.overlap_tokens,
                         "header": "title · outlet · date · comment by NAME"},
            "sources": [str(p) for p in paths],
            "counts": {"skipped": len(skipped)},
        }
        write_index(settings.index, docs, chunks, vectors, manifest)
    return BuildReport(
        index=settings.index, documents=len(docs), comments=sum(len(d.comments) for d in docs),
        chunks=len(chunks), embedded=len(todo), reused=len(chunks) - len(todo),
        skipped=tuple(skipped), seconds=time.perf_counter() - started,
    )
