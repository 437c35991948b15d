"""`build_index()`, `update_index()`, `remove_documents()`, `prepare_index()`: ingest → chunk →
embed → index.

Every write makes a complete new build (see `qa.index.write_index`), and every one reuses the
vectors (passage and sentences) of chunks whose content hash is already in the live build, so only new text is embedded.
An update therefore rechunks all documents (cheap) and embeds only what changed: its result is
the build that a full rebuild of the same documents would give, by construction. Documents are
stored in id order, so the rows, and with them the order of tied search results, match too.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from qa.chunk import chunk_document, sentence_spans
from qa.commands import build_first
from qa.config import Settings
from qa.embed.models import Embedder, load_embedder
from qa.embed.vectors import progress_over
from qa.errors import DiskError, IndexNotFound, IndexOutdated, IngestError, QAError
from qa.index import (
    Checkpoint,
    IndexReader,
    content_hash,
    open_index,
    read_manifest,
    remove_stale_builds,
    write_index,
    writer_lock,
)
from qa.ingest import Skipped, archive_bytes, count_formats, count_skipped, document_hash, iter_documents
from qa.journal import BLOCK, JOURNAL, Journal, Vectors, megabytes
from qa.runtime import runtime_for
from qa.spool import MemoryRows, SpooledRows, remove_stale_spools, spool_folder, staging_in
from qa.text import plural
from qa.types import Chunk, Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildReport:
    index: Path
    documents: int
    comments: int
    chunks: int
    embedded: int  # chunks whose vectors were computed in this run
    reused: int  # chunks whose vectors came from the previous build (or a stopped build's journal)
    skipped: tuple[Skipped, ...]
    seconds: float
    formats: tuple[tuple[str, int], ...] = ()  # documents per source format, e.g. (("text", 12), ("HTML", 3))
    per_page: tuple[tuple[str, int], ...] = ()  # (doc_id, comments) of each document, in build order

    def summary(self) -> str:
        rate = self.chunks / self.seconds if self.seconds else 0.0
        kinds = f"by format: {', '.join(f'{n:,} {name}' for name, n in self.formats)}; " if self.formats else ""
        return (f"Indexed {plural(self.documents, 'document')}, {plural(self.comments, 'comment')}, "
                f"{plural(self.chunks, 'chunk')} ({self.embedded:,} embedded, {self.reused:,} reused); "
                f"{count_skipped(self.skipped):,} skipped; {kinds}"
                f"{comments_per_page(self.per_page)}{self.seconds:.1f} s, {rate:.1f} chunks/s → {self.index}")


PER_PAGE_LISTED = 12  # up to this many documents, each one's comment count is listed


def comments_per_page(per_page: Sequence[tuple[str, int]]) -> str:
    """The summary's comment counts, so that a page whose comments were not read shows: each page's count
    for a few pages, else how many have none (naming some) and the most on one page."""
    if not per_page:
        return ""
    if len(per_page) <= PER_PAGE_LISTED:
        return f"comments per page: {', '.join(f'{doc_id} {n:,}' for doc_id, n in per_page)}; "
    none = [doc_id for doc_id, n in per_page if n == 0]
    named = f" ({', '.join(none[:3])}{', …' if len(none) > 3 else ''})" if none and len(none) < len(per_page) else ""
    return (f"comments per page: none on {len(none):,} of {len(per_page):,}{named}, "
            f"at most {max(n for _, n in per_page):,}; ")


@dataclass(frozen=True)
class UpdateReport:
    index: Path
    added: tuple[str, ...]  # document ids
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int  # documents kept as they were
    documents: int  # in the index now
    chunks: int
    embedded: int
    reused: int
    skipped: tuple[Skipped, ...]
    written: bool  # False when the index already held exactly these documents
    seconds: float

    def summary(self) -> str:
        counts = (f"{len(self.added):,} added, {len(self.changed):,} changed, {len(self.removed):,} removed, "
                  f"{self.unchanged:,} unchanged {'document' if self.unchanged == 1 else 'documents'}; "
                  f"{plural(self.embedded, 'chunk')} embedded, "
                  f"{self.reused:,} reused; {count_skipped(self.skipped):,} skipped; {self.seconds:.1f} s")
        if not self.written:
            return f"Up to date: {counts} → {self.index} (not rewritten)"
        return (f"Updated: {counts} → {self.index} now holds {plural(self.documents, 'document')}, "
                f"{plural(self.chunks, 'chunk')}")


def bars_wanted(progress: bool) -> bool:
    """Progress bars only on a terminal: into a log or a pipe they write carriage returns and cursor-up codes."""
    return progress and sys.stderr.isatty()


def iter_chunks(docs: Sequence[Document], embedder: Embedder, settings: Settings,
                progress: bool = False) -> Iterator[Chunk]:
    """Every document's chunks in turn, cut as they are asked for."""
    for doc in tqdm(docs, desc="Chunking", unit="doc", disable=not progress, dynamic_ncols=True):
        yield from chunk_document(doc, embedder.count_tokens, embedder.max_tokens,
                                  settings.chunk_tokens, settings.overlap_tokens)


def chunk_documents(docs: Sequence[Document], embedder: Embedder, settings: Settings,
                    progress: bool = False) -> list[Chunk]:
    return list(iter_chunks(docs, embedder, settings, progress))


def _no_checkpoint(stage: str) -> None:
    """The default: a build runs straight through."""


def _vectors(chunks: Sequence[Chunk], hashes: Sequence[str], known: Mapping[str, Vectors],
             embedder: Embedder, progress: bool, rows: MemoryRows | SpooledRows,
             checkpoint: Checkpoint = _no_checkpoint, journal: Journal | None = None) -> int:
    """One vector per chunk and its sentence vectors, handed to `rows` in row order: from `known` by
    content hash, else from the `journal` of an earlier build that stopped part-way, else embedded now,
    a block at a time, each block written to the journal before the next begins. Returns how many
    chunks were embedded. Rows are handed over as soon as every row before them is known, so `rows`
    on disk (`SpooledRows`) keeps the build's memory to a block of vectors."""
    resumed = journal.read() if journal is not None else {}
    if journal is not None and resumed:
        _check_blocks(chunks, hashes, resumed, journal.held, embedder)
    todo = [i for i, h in enumerate(hashes) if h not in known and h not in resumed]
    taken = sum(h in resumed and h not in known for h in set(hashes))
    if taken:
        note = (f"Resuming a build that stopped: {plural(taken, 'passage')} "
                f"{'was' if taken == 1 else 'were'} embedded then, {len(todo):,} to go.")
        log.info(note)
        if progress:
            tqdm.write(note, file=sys.stderr)
    checkpoint("embedding")
    handed = 0  # rows handed to `rows` so far

    def hand_over(upto: int, fresh: Mapping[int, Vectors]) -> None:
        nonlocal handed
        for at in range(handed, upto, BLOCK):
            span = range(at, min(upto, at + BLOCK))
            got = [fresh[i] if i in fresh else known[hashes[i]] if hashes[i] in known else resumed[hashes[i]]
                   for i in span]
            rows.add(np.stack([np.asarray(v, dtype=np.float32) for v, _ in got]) if got
                     else np.zeros((0, embedder.dim), np.float32), [s for _, s in got])
        handed = max(handed, upto)

    block = getattr(embedder, "journal_block", BLOCK)
    with progress_over(len(todo), progress and bool(todo), "Embedding"):
        for at in range(0, len(todo), block):
            part = todo[at:at + block]
            vectors, sentences = embedder.embed_passages(
                [chunks[i].indexed_text for i in part], [sentence_spans(chunks[i]) for i in part], progress=progress)
            if journal is not None:
                journal.append([hashes[i] for i in part], vectors, sentences)
            # float16 now, as the index stores them: half the memory a long build holds
            fresh = {i: (v, np.asarray(s, dtype=np.float16)) for i, v, s in zip(part, vectors, sentences)}
            hand_over(part[-1] + 1, fresh)
            checkpoint("embedded a block")
    hand_over(len(chunks), {})
    return len(todo)


SPOOL_ABOVE = 50_000  # passages: an update of more keeps its vectors on disk until the write (`qa.spool`)
STAGE_ABOVE = 64 << 20  # bytes of archive files: a build of more keeps documents, chunks and vectors on disk


def _rows(spool: Path | None, n: int, dim: int) -> MemoryRows | SpooledRows:
    """Where the build's vectors wait for the write: in the spool folder when there is one, else in memory."""
    return SpooledRows(spool, n, dim) if spool is not None else MemoryRows(n, dim)


def _check_blocks(chunks: Sequence[Chunk], hashes: Sequence[str], resumed: dict[str, Vectors],
                  held: Mapping[str, Sequence[str]], embedder: Embedder) -> None:
    """Embed one passage of each journal block again and compare: a block whose vector is not its
    passage's (rows reordered, vectors of other text) is dropped from `resumed`, to be embedded again."""
    row = {h: i for i, h in enumerate(hashes)}
    samples = [h for h in held if h in row]
    if not samples:
        return
    fresh = embedder.embed_documents([chunks[row[h]].indexed_text for h in samples])
    for h, vector in zip(samples, fresh):
        stored = np.asarray(resumed[h][0], dtype=np.float32)
        if float(np.dot(stored, vector)) < 0.99 * float(np.linalg.norm(stored) * np.linalg.norm(vector)):
            log.warning("An embedding journal block does not match its passages' text; its %d passages "
                        "are embedded again.", len(held[h]))
            for dropped in held[h]:
                resumed.pop(dropped, None)


def _write_making_room(settings: Settings, journal: Journal, *args: Any, **kwargs: Any) -> None:
    """`write_index`, giving the journal's space to the build: a write that finds the disk full
    while a journal is kept removes the journal (its vectors are in memory by now) and writes
    again, so a build that fits on its own is written. A disk-full error names the journal."""
    try:
        write_index(settings.index, *args, **kwargs)
        return
    except DiskError as exc:
        held = journal.size()
        if not exc.full:
            raise
        if not held:
            raise DiskError(f"{exc}{_journal_note(settings, journal)}") from None
    journal.clear()
    journal.freed += held
    log.warning("No room for the new build beside the embedding journal (%s, %s): removed the journal, "
                "writing again.", settings.index / JOURNAL, megabytes(held))
    try:
        write_index(settings.index, *args, **kwargs)
    except DiskError as exc:
        raise DiskError(f"{exc}{_journal_note(settings, journal)}") from None


def _journal_note(settings: Settings, journal: Journal) -> str:
    """What became of the embedding journal when the disk was full, for the error's end."""
    if journal.freed:
        return (f" The embedding journal ({settings.index / JOURNAL}, {megabytes(journal.freed)}) was removed "
                "to make room; the next run embeds everything again.")
    if journal.off:
        return (f" The embedding journal ({settings.index / JOURNAL}) was turned off for want of room; the next "
                "run embeds everything again.")
    return ""


def _known(index: IndexReader) -> dict[str, Vectors]:
    """A build's vectors by content hash."""
    sentences = index.sentence_vectors(range(len(index)))
    return {h: (v, s) for (_, h), v, s in zip(index.all_chunks(), index.all_vectors(), sentences)}


def _manifest(embedder: Embedder, settings: Settings, sources: Sequence[str], skipped: int) -> dict[str, Any]:
    return {
        "model": {"id": embedder.model_id, "fingerprint": embedder.fingerprint,
                  "dim": embedder.dim, "max_tokens": embedder.max_tokens,
                  "runtime": embedder.runtime, "device": embedder.device},
        "chunking": {"target_tokens": settings.chunk_tokens, "overlap_tokens": settings.overlap_tokens,
                     "header": "title · outlet · date · comment by NAME",
                     "sentence_vectors": "mean of each sentence's token vectors (mean-pooling models)"},
        "sources": list(sources),
        "counts": {"skipped": skipped},
    }


def _open_live(settings: Settings, embedder: Embedder | None) -> IndexReader | None:
    """The live build checked against the embedder, or None when there is none yet."""
    try:
        if embedder is None:
            return open_index(settings.index)
        return open_index(settings.index, embedder.model_id, embedder.dim, embedder.fingerprint,
                          runtime=embedder.runtime)
    except IndexNotFound:
        return None


def _previous_vectors(settings: Settings, embedder: Embedder) -> dict[str, Vectors]:
    """Vectors of the live build by content hash; none when it is missing or unusable."""
    try:
        old = _open_live(settings, embedder)
    except QAError:
        return {}  # no usable previous build: embed everything
    if old is None:
        return {}
    try:
        return _known(old)
    finally:
        old.close()


def build_index(paths: Sequence[Path], settings: Settings, embedder: Embedder | None = None,
                progress: bool = False, checkpoint: Checkpoint = _no_checkpoint) -> BuildReport:
    """Index every readable document under `paths` into `settings.index`, replacing what was there.
    `checkpoint` is called at each stage of the write (see `write_index`). An archive of more than
    STAGE_ABOVE bytes goes through a spool folder (`qa.spool`): its documents, chunks and vectors wait
    on disk, not in memory, between being read and being written."""
    started = time.perf_counter()
    progress = bars_wanted(progress)
    embedder = embedder or load_embedder(settings.model, settings.batch_size, settings.embedder, settings.device)
    with writer_lock(settings.index):
        remove_stale_builds(settings.index)
        remove_stale_spools(settings.index)
        large = archive_bytes(paths, settings.follow_links) > STAGE_ABOVE
        with spool_folder(settings.index, large) as spool, staging_in(spool) as staging:
            skipped: list[Skipped] = []
            found = iter_documents(paths, skipped, follow_links=settings.follow_links)
            docs: Sequence[Document]
            chunks: Sequence[Chunk]
            if staging is None:
                docs = sorted(found, key=lambda d: d.doc_id)
                chunks = chunk_documents(docs, embedder, settings, progress)
            else:
                staging.add_documents(found)
                docs = staging.documents()
                if docs:
                    staging.add_chunks(iter_chunks(docs, embedder, settings, progress))
                chunks = staging.chunks()
            if not docs:
                listed = "; ".join(str(s) for s in skipped[:5]) or "no files"
                raise IngestError(f"No documents found in {', '.join(map(str, paths))} ({listed}).")
            hashes = [content_hash(embedder.model_id, c) for c in chunks]
            journal = Journal(settings.index, embedder)
            rows = _rows(spool, len(chunks), embedder.dim)
            try:
                embedded = _vectors(chunks, hashes, _previous_vectors(settings, embedder), embedder, progress, rows,
                                    checkpoint, journal)
                vectors, sentences = rows.done()
                sources = [str(p.resolve()) for p in paths]
                _write_making_room(settings, journal, docs, chunks, vectors, sentences,
                                   _manifest(embedder, settings, sources, count_skipped(skipped)), checkpoint, progress)
            finally:
                rows.close()
            journal.clear()
            per_page = tuple((d.doc_id, len(d.comments)) for d in docs)
            formats = count_formats(docs)
    return BuildReport(
        index=settings.index, documents=len(per_page), comments=sum(n for _, n in per_page),
        chunks=len(hashes), embedded=embedded, reused=len(hashes) - embedded,
        skipped=tuple(skipped), seconds=time.perf_counter() - started,
        formats=tuple(sorted(formats.items(), key=lambda kv: (-kv[1], kv[0]))),
        per_page=per_page,
    )


def _under(path: str | None, roots: Sequence[Path]) -> bool:
    """Whether a document's file lies under one of `roots` (older builds stored relative paths)."""
    return path is not None and any(Path(path).resolve().is_relative_to(root) for root in roots)


def _merge_sources(old: Sequence[str], new: Sequence[Path]) -> list[str]:
    """Old sources plus new ones, leaving out any that lies inside another."""
    paths = list(dict.fromkeys([*old, *(str(p.resolve()) for p in new)]))
    return [p for p in paths if not any(q != p and Path(p).is_relative_to(q) for q in paths)]


def _read_live(settings: Settings, embedder: Embedder) -> tuple[
    dict[str, Document], list[str], dict[str, Vectors], list[str]
]:
    """The live build's documents, chunk hashes in row order, vectors by hash, and sources."""
    old = _open_live(settings, embedder)
    if old is None:
        return {}, [], {}, []
    try:
        hashes = [h for _, h in old.all_chunks()]
        return old.documents(), hashes, _known(old), old.manifest.get("sources", [])
    finally:
        old.close()


def update_index(paths: Sequence[Path], settings: Settings, prune: bool = False,
                 embedder: Embedder | None = None, progress: bool = False,
                 checkpoint: Checkpoint = _no_checkpoint) -> UpdateReport:
    """Bring the index up to date with the files under `paths`, keeping every other document.

    A document read from `paths` replaces the indexed one with the same id (changed or not), or is
    added. With `prune`, documents whose file lies under `paths` but no longer yields them are
    removed, all of them when a path itself is gone. An id held by a document from an existing
    file outside `paths` is a clash between two files, settled as a full build settles it (same
    content: duplicate; else a file-derived id). Without an index, this builds one.
    """
    started = time.perf_counter()
    progress = bars_wanted(progress)
    missing = [p for p in paths if not p.exists()]
    if missing and not prune:
        raise IngestError(f"No such file or folder: {missing[0]}. To remove the documents read from it, "
                          f"add --prune: qa index update {missing[0]} --prune")
    if embedder is None:
        runtime, note = runtime_for(settings)  # an update keeps the runtime that built the index
        if note:
            log.warning("%s", note)
        embedder = load_embedder(settings.model, settings.batch_size, runtime, settings.device)
    with writer_lock(settings.index):
        remove_stale_builds(settings.index)
        remove_stale_spools(settings.index)
        old_docs, old_hashes, known, sources = _read_live(settings, embedder)
        roots = [p.resolve() for p in paths]
        inside = {i for i, d in old_docs.items() if _under(d.path, roots)}
        clash = [d for i, d in old_docs.items() if i not in inside and d.path and Path(d.path).is_file()]
        skipped: list[Skipped] = []
        readable = [p for p in paths if p not in missing]
        fresh = {d.doc_id: d for d in iter_documents(readable, skipped, known=clash,
                                                     follow_links=settings.follow_links)}
        if not old_docs and not fresh:
            listed = "; ".join(str(s) for s in skipped[:5]) or "no files"
            raise IngestError(f"No documents found in {', '.join(map(str, paths))} ({listed}).")
        removed = [i for i in sorted(inside) if i not in fresh] if prune else []
        merged = {i: d for i, d in old_docs.items() if i not in removed} | fresh
        docs = [merged[i] for i in sorted(merged)]
        added = [i for i in fresh if i not in old_docs]
        changed = [i for i in fresh if i in old_docs and document_hash(old_docs[i]) != document_hash(fresh[i])]
        chunks = chunk_documents(docs, embedder, settings, progress)
        hashes = [content_hash(embedder.model_id, c) for c in chunks]
        written = not (hashes == old_hashes and docs == [old_docs[i] for i in sorted(old_docs)])
        embedded = 0
        journal = Journal(settings.index, embedder)
        if written:
            with spool_folder(settings.index, len(chunks) > SPOOL_ABOVE) as spool:
                rows = _rows(spool, len(chunks), embedder.dim)
                try:
                    embedded = _vectors(chunks, hashes, known, embedder, progress, rows, checkpoint, journal)
                    vectors, sentences = rows.done()
                    manifest = _manifest(embedder, settings, _merge_sources(sources, paths), count_skipped(skipped))
                    _write_making_room(settings, journal, docs, chunks, vectors, sentences, manifest, checkpoint,
                                       progress)
                finally:
                    rows.close()
        if written or journal.covered_by(set(hashes)):
            journal.clear()  # an update that writes nothing keeps blocks a stopped build may still need
    return UpdateReport(
        index=settings.index, added=tuple(added), changed=tuple(changed), removed=tuple(removed),
        unchanged=len(docs) - len(added) - len(changed), documents=len(docs), chunks=len(chunks),
        embedded=embedded, reused=len(chunks) - embedded, skipped=tuple(skipped), written=written,
        seconds=time.perf_counter() - started,
    )


def remove_documents(doc_ids: Sequence[str], settings: Settings) -> UpdateReport:
    """Drop documents from the index by id, keeping every other chunk and vector as it is.

    A removed document comes back when its file is indexed again (`update`, `build`).
    """
    started = time.perf_counter()
    with writer_lock(settings.index):
        remove_stale_builds(settings.index)
        old = _open_live(settings, None)
        if old is None:
            raise IndexNotFound(f"No index at {settings.index.absolute()}.", build_first(settings.index))
        try:
            docs = old.documents()
            unknown = [i for i in doc_ids if i not in docs]
            if unknown:
                raise QAError(f"No document {', '.join(map(repr, unknown))} in {settings.index}; nothing removed. "
                              f"Document ids are in the doc_id field of: qa search QUESTION --json")
            drop = set(doc_ids)
            keep = [i for i in sorted(docs) if i not in drop]
            if not keep:
                raise QAError(f"Removing {len(docs)} of {plural(len(docs), 'document')} would leave {settings.index} "
                              f"empty; nothing removed. To start again, build it: qa index build PATH... "
                              f"--index {settings.index}")
            rows = [(row, c) for row, (c, _) in enumerate(old.all_chunks()) if c.doc_id not in drop]
            vectors = old.all_vectors()[[row for row, _ in rows]]
            sentences = old.sentence_vectors([row for row, _ in rows])
            manifest: dict[str, Any] = {k: old.manifest[k] for k in ("model", "chunking", "sources")
                                        if k in old.manifest}
            manifest["counts"] = {"skipped": old.manifest["counts"].get("skipped", 0)}
        finally:
            old.close()
        write_index(settings.index, [docs[i] for i in keep], [c for _, c in rows], vectors, sentences, manifest)
    removed = tuple(dict.fromkeys(doc_ids))
    return UpdateReport(
        index=settings.index, added=(), changed=(), removed=removed, unchanged=len(keep),
        documents=len(keep), chunks=len(rows), embedded=0, reused=len(rows), skipped=(), written=True,
        seconds=time.perf_counter() - started,
    )


def prepare_index(settings: Settings, archive: Path | None, sample: Path | None,
                  note: Callable[[str], None], progress: bool = True) -> None:
    """Make the index serve `archive` when one is given: built when there is none, rebuilt when it
    holds other sources, updated (only changed passages embedded) when it holds this one. With no
    archive, an existing index is used as it is, and `sample` (when given) is built when there is
    none. An index in an older format is rebuilt from the sources its manifest records, when they
    are all still there. Says what it does through `note`, as the CLI's commands do. IndexNotFound
    when there is no index and nothing to build one from."""
    try:
        _, manifest = read_manifest(settings.index)
    except IndexNotFound:
        source = archive or sample
        if source is None:
            raise
        note(f"No index at {settings.index.absolute()}; building one from {source} …")
        note(build_index([source], settings, progress=progress).summary())
        return
    except IndexOutdated as exc:
        sources = [archive] if archive is not None else [Path(p) for p in exc.sources]
        if not sources or not all(p.exists() for p in sources):
            raise
        note(f"{exc.reason} Rebuilding it from {', '.join(map(str, sources))} …")
        note(build_index(sources, settings, progress=progress).summary())
        return
    if archive is None:
        return
    held = [str(s) for s in manifest.get("sources", [])]
    if held == [str(archive.resolve())]:
        note(f"{settings.index} was built from {archive}; updating it (only changed passages are embedded) …")
        note(update_index([archive], settings, prune=True, progress=progress).summary())
    else:
        note(f"{settings.index} holds {', '.join(held) or 'unknown sources'}, not {archive}; "
             f"rebuilding it from {archive} …")
        note(build_index([archive], settings, progress=progress).summary())
