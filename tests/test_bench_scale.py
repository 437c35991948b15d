"""The cost-growth benchmark's generator (eval/bench_scale.py): windows of real sentences written
as a normal index, on the bundled sample archive with the hash embedder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from qa.config import Settings
from qa.embed.models import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "eval" / "bench_scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(bench: ModuleType, sample_index: Settings):  # type: ignore[no-untyped-def]
    return bench.load_corpus(sample_index.index, HashEmbedder())


def test_sentences_are_the_bodies_own(corpus) -> None:  # type: ignore[no-untyped-def]
    assert len(corpus.starts) == len(corpus.vectors) > 0
    for a, doc in enumerate(corpus.docs):
        own = slice(corpus.first[a], corpus.first[a + 1])
        starts, ends = corpus.starts[own], corpus.ends[own]
        assert (ends[:-1] <= starts[1:]).all()  # in order, overlaps counted once
        assert all(doc.body[s:e].strip() == doc.body[s:e] != "" for s, e in zip(starts, ends))


def test_sizes_are_nested_and_exact(bench, corpus) -> None:  # type: ignore[no-untyped-def]
    small, large = bench.plan(corpus, 40, [1, 2, 3]), bench.plan(corpus, 120, [1, 2, 3])
    assert len(small.win_first) == 40 and len(large.win_first) == 120
    assert (large.win_first[:40] == small.win_first).all()
    assert small.rounds == 1


def test_windows_become_chunks_of_real_text(bench, corpus) -> None:  # type: ignore[no-untyped-def]
    p = bench.plan(corpus, 60, [1, 2, 3, 4])
    docs = bench.documents(corpus, p)
    chunks = bench.Chunks(corpus, p, docs)
    sentences = bench.SentenceLists(corpus, p)
    by_id = {d.doc_id: d for d in docs}
    assert len(by_id) == len(docs)
    for i, (chunk, vecs) in enumerate(zip(chunks, sentences)):
        assert by_id[chunk.doc_id].body[chunk.start:chunk.end] == chunk.text
        assert len(vecs) == p.win_length[i]
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_passage_vector_is_the_normalised_mean(bench, corpus) -> None:  # type: ignore[no-untyped-def]
    p = bench.plan(corpus, 50, [1, 3])
    plain = bench.window_vectors(corpus, p, weighted=False, header=False)
    assert np.allclose(np.linalg.norm(plain, axis=1), 1.0, atol=1e-5)
    i = int(np.flatnonzero(p.win_length == 3)[0])
    mean = corpus.vectors[p.win_first[i]:p.win_first[i] + 3].astype(np.float32).mean(axis=0)
    assert np.allclose(plain[i], mean / np.linalg.norm(mean), atol=1e-5)
    with_header = bench.window_vectors(corpus, p)
    assert np.allclose(np.linalg.norm(with_header, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(with_header, plain)


def test_copies_past_the_distinct_windows_get_new_ids(bench, corpus) -> None:  # type: ignore[no-untyped-def]
    distinct = sum(max(0, (n - o) // length) for n in np.diff(corpus.first) for length, o in bench.passes_for([1]))
    p = bench.plan(corpus, distinct + 5, [1])
    assert p.rounds == 2
    docs = bench.documents(corpus, p)
    assert len({d.doc_id for d in docs}) == len(docs)


def test_written_index_opens_and_searches(bench, corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from qa.config import load_settings
    from qa.index import write_index, writer_lock
    from qa.pipeline import Pipeline

    p = bench.plan(corpus, 80, [1, 2, 3])
    docs = bench.documents(corpus, p)
    manifest = {k: corpus.manifest[k] for k in ("model", "chunking")}
    manifest |= {"sources": [], "counts": {"skipped": 0}}
    out = tmp_path / "scale"
    with writer_lock(out):
        write_index(out, docs, bench.Chunks(corpus, p, docs), bench.window_vectors(corpus, p),
                    bench.SentenceLists(corpus, p), manifest)
    pipeline = Pipeline.open(load_settings({"index": out, "model": "hash"}, env={}))
    try:
        assert len(pipeline.index) == 80
        chunk = bench.Chunks(corpus, p, docs)[7]
        hits = pipeline.search(chunk.text)
        assert chunk.text in [h.chunk.text for h in hits]
    finally:
        pipeline.close()
