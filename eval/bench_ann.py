"""Approximate against exact search on real embeddings: recall@10 and query time of HNSW and IVF.

    python eval/bench_ann.py --index DIR [--questions eval/runs/multihop_dev.jsonl] [--queries 300]
                             [--threads 1]

The database is every vector an index holds, chunk vectors and sentence vectors together (on the
MultiHop index: 8,556 + 66,606 = 75,162 MiniLM vectors), so it is real text, not random points.
Queries are the first `--queries` questions of the question file, embedded with the index's model.
Truth is the exact inner-product top 10 (IndexFlatIP). For each setting it prints recall@10 (mean
share of the exact top 10 found), the time to add the vectors, and query p50/p95 one question at a
time. `qa.index.files` picks exact search up to HNSW_ABOVE chunks and HNSW above with these numbers.

    python eval/bench_ann.py filtered --index DIR [--queries 300]

Filtered search on an index's own vector index (HNSW above HNSW_ABOVE chunks): for filters that
allow a share of the rows (seeded random rows, as an outlet or a date range allows), recall@10 of
the graph walk restricted to them (a bitmap selector) against exact search over just those rows,
and the time of each. Recall counts a found row right when its score reaches the exact 10th score
(the generated indexes of eval/bench_scale.py hold exact copies, and any copy is as right).
`qa.index.files.EXACT_MASKED_BELOW` is chosen from it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from qa.config import load_settings
from qa.embed import load_embedder
from qa.index import open_index


def timed_queries(index: object, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    found, times = [], []
    for q in queries:
        start = time.perf_counter()
        _, rows = index.search(q[None], k)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - start) * 1000)
        found.append(rows[0])
    return np.array(found), times


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def filtered(argv: list[str]) -> int:
    import faiss

    from qa.index.files import DenseIndex

    ap = argparse.ArgumentParser(description="filtered HNSW against exact search over the allowed rows")
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=Path("eval/runs/multihop_dev.jsonl"))
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--shares", default="0.002,0.01,0.02,0.05,0.1,0.2,0.5,1")
    args = ap.parse_args(argv)
    faiss.omp_set_num_threads(1)
    settings = load_settings({"index": args.index})
    reader = open_index(settings.index, verify="background")
    dense: DenseIndex = reader._dense
    embedder = load_embedder(reader.manifest["model"]["id"], settings.batch_size)
    lines = args.questions.read_text(encoding="utf-8").splitlines()[: args.queries]
    queries = np.vstack([embedder.embed_query(json.loads(line)["question"]) for line in lines]).astype(np.float32)
    n, k = len(dense), 10
    print(f"{n:,} chunks, {dense.kind}; {len(queries)} questions; one FAISS thread")
    print("| allowed share | allowed rows | graph walk recall@10 | graph walk p50 ms | exact p50 ms |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for share in (float(x) for x in args.shares.split(",")):
        mask = rng.random(n) < share
        rows = np.flatnonzero(mask)
        bitmap = np.packbits(mask, bitorder="little")
        params = dense._params(k, faiss.IDSelectorBitmap(n, faiss.swig_ptr(bitmap)))  # as qa searches it
        walk_t, exact_t, hits = [], [], []
        for q in queries:
            t = time.perf_counter()
            found_scores, found = dense._index.search(q[None], k, params=params)
            walk_t.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            scores = dense.vectors(rows) @ q
            best = np.sort(scores)[::-1][:k]
            exact_t.append(1000 * (time.perf_counter() - t))
            # by score, not id: the generated indexes hold exact copies, and any copy is as right
            kept = found_scores[0][found[0] >= 0]
            hits.append(min(k, int(np.sum(kept >= best[-1] - 1e-5))) / min(k, len(rows)))
        print(f"| {share:g} | {len(rows):,} | {np.mean(hits):.4f} | {np.median(walk_t):.2f} | "
              f"{np.median(exact_t):.2f} |", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    import sys

    import faiss

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["filtered"]:
        return filtered(argv[1:])

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=Path("eval/runs/multihop_dev.jsonl"))
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1, help="FAISS threads (a query is served on one)")
    args = ap.parse_args(argv)
    faiss.omp_set_num_threads(args.threads)
    settings = load_settings({"index": args.index})
    reader = open_index(settings.index)
    chunk_vectors = reader.all_vectors()
    sentences = np.concatenate([v.astype(np.float32) for v in reader.sentence_vectors(range(len(reader)))])
    sentences /= np.linalg.norm(sentences, axis=1, keepdims=True).clip(1e-12)  # float16 storage: renormalise
    base = np.ascontiguousarray(np.vstack([chunk_vectors, sentences]), dtype=np.float32)
    lines = args.questions.read_text(encoding="utf-8").splitlines()[: args.queries]
    embedder = load_embedder(reader.manifest["model"]["id"], settings.batch_size)
    queries = np.vstack([embedder.embed_query(json.loads(line)["question"]) for line in lines]).astype(np.float32)
    n, dim, k = len(base), base.shape[1], 10
    print(f"{n:,} vectors ({len(chunk_vectors):,} chunks + {len(sentences):,} sentences), {dim}-d; "
          f"{len(queries)} questions; {args.threads} FAISS thread(s)")

    def report(name: str, index: object, build_s: float, truth: np.ndarray | None) -> np.ndarray:
        found, times = timed_queries(index, queries, k)
        r = recall(found, truth) if truth is not None else 1.0
        print(f"| {name} | {r:.4f} | {build_s:.1f} | {np.percentile(times, 50):.2f} | "
              f"{np.percentile(times, 95):.2f} |", flush=True)
        return found

    print("| index | recall@10 | build s | query p50 ms | query p95 ms |\n|---|---|---|---|---|")
    start = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(base)
    truth = report("exact (IndexFlatIP)", flat, time.perf_counter() - start, None)

    for m in (32,):
        start = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.add(base)
        build_s = time.perf_counter() - start
        for ef in (32, 64, 128, 256, 512):
            hnsw.hnsw.efSearch = ef
            report(f"HNSW M={m} efC=80 efSearch={ef}", hnsw, build_s, truth)

    start = time.perf_counter()
    coded = faiss.index_factory(dim, "HNSW32_SQ8,RFlat", faiss.METRIC_INNER_PRODUCT)  # qa's above HNSW_ABOVE
    faiss.downcast_index(coded.base_index).hnsw.efConstruction = 80
    coded.train(base)
    coded.add(base)
    build_s = time.perf_counter() - start
    for ef in (128, 512):
        coded_params = faiss.IndexRefineSearchParameters(
            k_factor=2, base_index_params=faiss.SearchParametersHNSW(efSearch=ef))

        class Coded:  # searched as qa.index.files.DenseIndex searches it
            def search(self, x: np.ndarray, k: int, params: object = coded_params) -> tuple[np.ndarray, np.ndarray]:
                return coded.search(x, k, params=params)  # type: ignore[no-any-return]

        report(f"HNSW32 over 8-bit codes, 2k rescored (RFlat) efSearch={ef}", Coded(), build_s, truth)

    nlist = int(4 * np.sqrt(n))
    start = time.perf_counter()
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(base)
    ivf.add(base)
    build_s = time.perf_counter() - start
    for nprobe in (8, 16, 32, 64):
        ivf.nprobe = nprobe
        report(f"IVFFlat nlist={nlist} nprobe={nprobe}", ivf, build_s, truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
