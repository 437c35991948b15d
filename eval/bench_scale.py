"""Cost growth: indexes of 10k, 100k and 1M passages made from MultiHop-RAG without re-embedding.

    PYTHONPATH=. python eval/bench_scale.py run --source /work/cache/mh --sizes 10000,100000 \\
        --out /work/cache/scale --questions eval/runs/multihop_dev.jsonl --report eval/runs/scale.md

How the passages are made. The source is a built MultiHop index (`--source`, read only): its articles
and, for every chunk, the float16 vector of each sentence (pooled from the chunk's own forward pass).
Each article becomes a list of its sentences (body offsets + one vector each, overlaps between chunks
counted once). A *pass* (L, o) tiles an article with windows of L consecutive sentences starting at
sentence o; L runs over `--lengths` and o over 0..L-1, so every (start, length) window occurs exactly
once. Each (article, pass) is one document holding its windows, so a document has about as many
passages as a chunked article. Documents are drawn in a seeded random order, so each size covers the
whole corpus and the sizes are nested; when the distinct windows run out, the same documents come
again under new ids (copy rounds, said in the report). A window's passage is the article's own text
(BM25 and the reranker read real text) under the article's own header; its sentence vectors are the
real ones; its passage vector is the normalised mean of its sentence vectors weighted by their token
counts, plus the header's vector (embedded once per article) weighted by its tokens: mean pooling
over the window's tokens, approximated. `check` measures on a sample how close that is to embedding
the window for real.

Everything is written by `qa.index.write_index` (the writer `qa index build` uses), so each result is
a normal index `qa search` opens. Windows are kept as numpy arrays; chunks, texts and sentence lists
are views made on demand, so generation holds no million Python objects (the writer itself may).

Sub-commands: `check` (the cosine sample and the embedding rate), `build` (one size), `measure` (load,
RSS, query times, reranker share of one index), `run` (all of it per size, then a Markdown table).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402

from qa.chunk import chunk_id, split_sentences  # noqa: E402
from qa.types import Chunk, Document  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- the source corpus, as sentences


@dataclass(frozen=True)
class Corpus:
    """The source articles as sentences: article `a` owns sentences `first[a]:first[a + 1]`."""

    docs: list[Document]
    headers: list[str]
    first: np.ndarray  # (articles + 1,) int64
    starts: np.ndarray  # (sentences,) int64, offset into the article's body
    ends: np.ndarray
    vectors: np.ndarray  # (sentences, dim) float16, unit
    tokens: np.ndarray  # (sentences,) float32, the sentence's tokens (its weight in the mean)
    header_vectors: np.ndarray  # (articles, dim) float32, unit
    header_tokens: np.ndarray  # (articles,) float32
    manifest: dict[str, Any]


def load_corpus(source: Path, embedder: Any) -> Corpus:
    from qa.index import open_index

    index = open_index(source)
    try:
        all_docs = index.documents()
        by_doc: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
        for (chunk, _), vecs in zip(index.all_chunks(), index.sentence_vectors(range(len(index)))):
            if chunk.kind == "article":
                by_doc.setdefault(chunk.doc_id, []).append((chunk, np.asarray(vecs)))
        manifest = dict(index.manifest)
    finally:
        index.close()
    docs, headers, first, starts, ends, vectors = [], [], [0], [], [], []
    for doc_id in sorted(by_doc):
        end = 0
        for chunk, vecs in sorted(by_doc[doc_id], key=lambda cv: cv[0].start):
            spans = split_sentences(chunk.text)
            if len(spans) != len(vecs):  # a sentence past the model's limit has no vector: skip the chunk
                continue
            for (s, e), v in zip(spans, vecs):
                if chunk.start + s >= end:  # the overlap with the previous chunk is counted once
                    starts.append(chunk.start + s)
                    ends.append(chunk.start + e)
                    vectors.append(v)
                    end = chunk.start + e
        if len(starts) > first[-1]:
            docs.append(all_docs[doc_id])
            headers.append(by_doc[doc_id][0][0].header)
            first.append(len(starts))
    starts_a, ends_a = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    texts = [docs[a].body[s:e] for a in range(len(docs))
             for s, e in zip(starts_a[first[a]:first[a + 1]], ends_a[first[a]:first[a + 1]])]
    tokens = np.asarray(embedder.count_tokens(texts), dtype=np.float32)
    header_vectors = embedder.embed_documents(headers)
    header_tokens = np.asarray(embedder.count_tokens(headers), dtype=np.float32)
    return Corpus(docs, headers, np.asarray(first, dtype=np.int64), starts_a, ends_a,
                  np.stack(vectors).astype(np.float16), np.maximum(tokens, 1.0),
                  np.asarray(header_vectors, dtype=np.float32), header_tokens, manifest)


# ---------------------------------------------------------------- windows


@dataclass(frozen=True)
class Plan:
    """The generated index: documents (article, pass, copy) and windows (sentence ranges)."""

    doc_article: np.ndarray  # (documents,) int64
    doc_pass: np.ndarray
    doc_copy: np.ndarray
    win_doc: np.ndarray  # (windows,) int64, position in the document arrays
    win_first: np.ndarray  # (windows,) int64, global sentence index
    win_length: np.ndarray
    passes: list[tuple[int, int]]  # (length, offset) of each pass
    rounds: int  # copy rounds used (1: every window distinct)


def passes_for(lengths: Sequence[int]) -> list[tuple[int, int]]:
    return [(length, offset) for length in lengths for offset in range(length)]


def plan(corpus: Corpus, size: int, lengths: Sequence[int], seed: int = 0) -> Plan:
    """The first `size` windows of a seeded random order of documents; nested across sizes."""
    passes = passes_for(lengths)
    n_art = len(corpus.docs)
    counts = corpus.first[1:] - corpus.first[:-1]
    per_doc = np.array([[max(0, (counts[a] - o) // length) for (length, o) in passes] for a in range(n_art)])
    per_round = int(per_doc.sum())
    rounds = -(-size // per_round)
    rng = np.random.default_rng(seed)
    art, pas, cop = [], [], []
    for r in range(rounds):
        a, p = np.nonzero(per_doc)
        order = rng.permutation(len(a))
        art.append(a[order])
        pas.append(p[order])
        cop.append(np.full(len(a), r))
    doc_article, doc_pass, doc_copy = (np.concatenate(x).astype(np.int64) for x in (art, pas, cop))
    n_windows = per_doc[doc_article, doc_pass]
    taken = int(np.searchsorted(np.cumsum(n_windows), size)) + 1  # documents needed
    doc_article, doc_pass, doc_copy = doc_article[:taken], doc_pass[:taken], doc_copy[:taken]
    n_windows = n_windows[:taken].copy()
    n_windows[-1] -= int(n_windows.sum()) - size  # the last document is cut to the size
    keep = n_windows > 0
    doc_article, doc_pass, doc_copy, n_windows = doc_article[keep], doc_pass[keep], doc_copy[keep], n_windows[keep]
    win_doc = np.repeat(np.arange(len(doc_article)), n_windows)
    within = np.arange(len(win_doc)) - np.repeat(np.cumsum(n_windows) - n_windows, n_windows)
    length = np.array([passes[p][0] for p in range(len(passes))])[doc_pass][win_doc]
    offset = np.array([passes[p][1] for p in range(len(passes))])[doc_pass][win_doc]
    win_first = corpus.first[doc_article[win_doc]] + offset + within * length
    return Plan(doc_article, doc_pass, doc_copy, win_doc, win_first.astype(np.int64),
                length.astype(np.int64), passes, int(doc_copy.max()) + 1)


def window_vectors(corpus: Corpus, p: Plan, weighted: bool = True, header: bool = True,
                   block: int = 50_000) -> np.ndarray:
    """Each window's passage vector: the normalised (token-weighted) mean of its sentence vectors
    and (with `header`) the article header's vector. Computed in blocks of windows."""
    dim = corpus.vectors.shape[1]
    out = np.empty((len(p.win_first), dim), dtype=np.float32)
    weights = corpus.tokens if weighted else np.ones_like(corpus.tokens)
    for at in range(0, len(out), block):
        first, length = p.win_first[at:at + block], p.win_length[at:at + block]
        take = np.repeat(first, length) + (np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length))
        weighted_vecs = corpus.vectors[take].astype(np.float32) * weights[take, None]
        sums = np.add.reduceat(weighted_vecs, np.cumsum(length) - length, axis=0)
        if header:
            art = p.doc_article[p.win_doc[at:at + block]]
            scale = corpus.header_tokens[art] if weighted else np.ones(len(art), dtype=np.float32)
            sums += corpus.header_vectors[art] * scale[:, None]
        out[at:at + block] = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return out


class Chunks(Sequence[Chunk]):
    """The plan's windows as `Chunk`s, made when asked for."""

    def __init__(self, corpus: Corpus, p: Plan, docs: Sequence[Document]) -> None:
        self.corpus, self.p, self.docs = corpus, p, docs

    def __len__(self) -> int:
        return len(self.p.win_first)

    @overload
    def __getitem__(self, i: int) -> Chunk: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Chunk]: ...

    def __getitem__(self, i: int | slice) -> Chunk | Sequence[Chunk]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        c, p = self.corpus, self.p
        if i < 0:
            i += len(self)
        d = int(p.win_doc[i])
        doc, a = self.docs[d], int(p.doc_article[d])
        s0 = int(p.win_first[i])
        start, end = int(c.starts[s0]), int(c.ends[s0 + int(p.win_length[i]) - 1])
        text = doc.body[start:end]
        return Chunk(chunk_id=chunk_id(doc.doc_id, "article", None, start, text), doc_id=doc.doc_id,
                     kind="article", text=text, header=c.headers[a], start=start, end=end, title=doc.title,
                     author=doc.author, published_at=doc.published_at)

    def __iter__(self) -> Iterator[Chunk]:
        return (self[i] for i in range(len(self)))


class SentenceLists(Sequence[np.ndarray]):
    """Each window's sentence vectors: views of the corpus's float16 array."""

    def __init__(self, corpus: Corpus, p: Plan) -> None:
        self.corpus, self.p = corpus, p

    def __len__(self) -> int:
        return len(self.p.win_first)

    @overload
    def __getitem__(self, i: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[np.ndarray]: ...

    def __getitem__(self, i: int | slice) -> np.ndarray | Sequence[np.ndarray]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        s0 = int(self.p.win_first[i])
        return self.corpus.vectors[s0:s0 + int(self.p.win_length[i])]

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self[i] for i in range(len(self)))


def documents(corpus: Corpus, p: Plan) -> list[Document]:
    """One document per (article, pass, copy): the article under a new id (its body shared)."""
    out = []
    for a, ps, cp in zip(p.doc_article.tolist(), p.doc_pass.tolist(), p.doc_copy.tolist()):
        doc = corpus.docs[a]
        length, offset = p.passes[ps]
        suffix = f"~w{length}o{offset}" + (f"c{cp}" if cp else "")
        out.append(Document(doc_id=doc.doc_id + suffix, title=doc.title, body=doc.body, source=doc.source,
                            url=doc.url, author=doc.author, published_at=doc.published_at,
                            category=doc.category, path=None))
    return out


# ---------------------------------------------------------------- commands


def _embedder() -> Any:
    from qa.config import load_settings
    from qa.embed import load_embedder

    s = load_settings({})
    return load_embedder(s.model, s.batch_size)


def _status() -> dict[str, str]:
    return dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)


def _rss_mib() -> tuple[float, float]:
    """This process's resident memory now and at its peak, MiB (from /proc)."""
    fields = _status()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _rss_split_mib() -> dict[str, int]:
    """Resident memory by kind, MiB: anonymous (the process's own) and file pages (the memory-mapped
    index files it has read: clean pages the kernel drops under pressure and shares between processes)."""
    fields = _status()
    return {key: round(int(fields[key].split()[0]) / 1024) for key in ("RssAnon", "RssFile", "RssShmem")
            if key in fields}


def cmd_check(args: argparse.Namespace) -> dict[str, Any]:
    """Cosine between the generated passage vector and a real embedding of the same window, on a
    sample; and the real embedder's passages/s on that sample."""
    from qa.chunk import sentence_spans

    embedder = _embedder()
    corpus = load_corpus(args.source, embedder)
    p = plan(corpus, args.sample * 20, args.lengths, seed=args.seed)
    rng = np.random.default_rng(args.seed + 1)
    pick = np.sort(rng.choice(len(p.win_first), size=args.sample, replace=False))
    sub = Plan(p.doc_article, p.doc_pass, p.doc_copy, p.win_doc[pick], p.win_first[pick], p.win_length[pick],
               p.passes, p.rounds)
    docs = documents(corpus, sub)
    chunks = list(Chunks(corpus, sub, docs))
    embedder.embed_documents(["warm up"])
    started = time.perf_counter()
    real, real_sentences = embedder.embed_passages([c.indexed_text for c in chunks],
                                                   [sentence_spans(c) for c in chunks])
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {"sample": len(chunks), "embed_seconds": round(seconds, 2),
                           "passages_per_s": round(len(chunks) / seconds, 1),
                           "mean_sentences": float(sub.win_length.mean()),
                           "mean_tokens": float(np.mean(embedder.count_tokens([c.indexed_text for c in chunks])))}
    for name, weighted, header in (("plain mean", False, False), ("token-weighted", True, False),
                                   ("token-weighted + header", True, True)):
        cos = np.sum(window_vectors(corpus, sub, weighted, header) * real, axis=1)
        out[name] = {"mean": round(float(cos.mean()), 4), "p05": round(float(np.quantile(cos, 0.05)), 4),
                     "min": round(float(cos.min()), 4)}
    same = [a.shape == b.shape for a, b in zip(SentenceLists(corpus, sub), real_sentences)]
    sent_cos = np.concatenate([np.sum(a.astype(np.float32) * b, axis=1)
                               for a, b, ok in zip(SentenceLists(corpus, sub), real_sentences, same) if ok])
    out["sentence vectors (chunk context vs window context)"] = {
        "mean": round(float(sent_cos.mean()), 4), "p05": round(float(np.quantile(sent_cos, 0.05)), 4)}
    by_len = {}
    cos = np.sum(window_vectors(corpus, sub) * real, axis=1)
    for length in sorted(set(sub.win_length.tolist())):
        by_len[int(length)] = round(float(cos[sub.win_length == length].mean()), 4)
    out["token-weighted + header by window length"] = by_len
    print(json.dumps(out, indent=2))
    return out


def cmd_build(args: argparse.Namespace) -> dict[str, Any]:
    from qa.index import remove_stale_builds, write_index, writer_lock

    started = time.perf_counter()
    corpus = load_corpus(args.source, _embedder())
    loaded = time.perf_counter()
    p = plan(corpus, args.size, args.lengths, seed=args.seed)
    vectors = window_vectors(corpus, p)
    docs = documents(corpus, p)
    generated = time.perf_counter()
    manifest: dict[str, Any] = {k: corpus.manifest[k] for k in ("model", "chunking") if k in corpus.manifest}
    manifest["sources"] = [str(args.source.resolve())]
    manifest["counts"] = {"skipped": 0}
    manifest["generated"] = {"by": "eval/bench_scale.py", "lengths": list(args.lengths), "seed": args.seed,
                             "copy_rounds": p.rounds}
    if args.out.exists():
        shutil.rmtree(args.out)
    with writer_lock(args.out):
        remove_stale_builds(args.out)
        write_started = time.perf_counter()
        write_index(args.out, docs, Chunks(corpus, p, docs), vectors, SentenceLists(corpus, p), manifest)
        written = time.perf_counter()
    rss, peak = _rss_mib()
    out = {"size": int(len(p.win_first)), "documents": len(docs), "copy_rounds": p.rounds,
           "sentence_vectors": int(p.win_length.sum()), "mean_sentences": round(float(p.win_length.mean()), 2),
           "load_source_s": round(loaded - started, 1), "generate_s": round(generated - loaded, 1),
           "write_s": round(written - write_started, 1), "peak_rss_mib": round(peak)}
    print(json.dumps(out))
    return out


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.quantile(np.asarray(values), q))


def cmd_measure(args: argparse.Namespace) -> dict[str, Any]:
    """Open the index as `qa search` does, then time retrieval (reranker included) per question."""
    from qa.config import load_settings
    from qa.pipeline import Pipeline
    from qa.search import Retriever

    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    questions = questions[: args.n]
    before, _ = _rss_mib()
    started = time.perf_counter()
    pipeline = Pipeline.open(load_settings({"index": args.index}))
    opened = time.perf_counter()
    after_load, _ = _rss_mib()
    ranker: Any = pipeline.retriever.ranker()
    spent = {"rerank": 0.0, "depth": 0}

    def timed(f: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            spent["depth"] += 1
            try:
                return f(*a, **k)
            finally:
                spent["depth"] -= 1
                if not spent["depth"]:  # one call inside another is counted once
                    spent["rerank"] += time.perf_counter() - t
        return wrapper

    # The reranker's work: building its candidates and features (`Retriever.candidates`) and scoring
    # them (`Ranker.score`). Wrapped only for timing; None when this version has other names.
    patched = hasattr(Retriever, "candidates") and ranker is not None and hasattr(type(ranker), "score")
    if patched:
        Retriever.candidates = timed(Retriever.candidates)  # type: ignore[method-assign]
        for name in ("score", "score_context"):  # the second where the reranker scores a context
            if hasattr(type(ranker), name):
                setattr(type(ranker), name, timed(getattr(type(ranker), name)))
    t = time.perf_counter()
    pipeline.search(questions[0])
    first = time.perf_counter() - t
    after_first, _ = _rss_mib()  # the model, the index and the reranker all loaded
    split_after_first = _rss_split_mib()
    times, shares = [], []
    for q in questions[1:]:
        spent["rerank"] = 0.0
        t = time.perf_counter()
        pipeline.search(q)
        times.append(time.perf_counter() - t)
        shares.append(spent["rerank"] / times[-1])
    rss, peak = _rss_mib()
    split_after_queries = _rss_split_mib()
    out = {"chunks": len(pipeline.index), "vector_index": pipeline.index.dense_kind,
           "questions": len(times), "open_s": round(opened - started, 2), "first_search_s": round(first, 2),
           "rss_before_open_mib": round(before), "rss_after_open_mib": round(after_load),
           "rss_after_load_mib": round(after_first),
           "rss_after_queries_mib": round(rss), "peak_rss_mib": round(peak),
           "rss_split_after_load_mib": split_after_first, "rss_split_after_queries_mib": split_after_queries,
           "p50_ms": round(1000 * _percentile(times, 0.5), 1), "p95_ms": round(1000 * _percentile(times, 0.95), 1),
           "mean_ms": round(1000 * statistics.fmean(times), 1),
           "rerank_share": round(float(np.sum(np.asarray(shares) * np.asarray(times)) / np.sum(times)), 3)
           if patched else None,
           "maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "load_average": [round(x, 1) for x in os.getloadavg()], "cpus": os.cpu_count()}
    pipeline.close()
    print(json.dumps(out))
    return out


def _timed_run(cmd: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Run under /usr/bin/time -v: (stdout, wall seconds, peak RSS MiB)."""
    started = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    peak = next(int(line.split(":")[1]) for line in proc.stderr.splitlines() if "Maximum resident" in line)
    return proc.stdout, wall, peak / 1024


def _du_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def cmd_run(args: argparse.Namespace) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    me = [sys.executable, str(Path(__file__).resolve())]
    common = ["--source", str(args.source), "--lengths", ",".join(map(str, args.lengths)), "--seed", str(args.seed)]
    results_path = args.results
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.is_file() else {}
    if args.check and "check" not in results:
        stdout, _, _ = _timed_run([*me, "check", *common, "--sample", str(args.sample)], env)
        results["check"] = json.loads(stdout)
        results_path.write_text(json.dumps(results, indent=2))
    question = json.loads(args.questions.read_text().splitlines()[0])["question"]
    for size in args.sizes:
        out = Path(f"{args.out}-{size}")
        stdout, wall, peak = _timed_run([*me, "build", *common, "--size", str(size), "--out", str(out)], env)
        row: dict[str, Any] = {"build": json.loads(stdout.splitlines()[-1]), "build_wall_s": round(wall, 1),
                               "build_peak_rss_mib": round(peak)}
        build = next(p for p in out.glob("build-*") if p.is_dir())
        row["disk_mib"] = round(_du_mib(build))
        row["disk_files_mib"] = {f.name: round(f.stat().st_size / 2**20, 1) for f in sorted(build.iterdir())}
        cli = [sys.executable, "-m", "qa.cli", "--index", str(out), "search", question]
        starts = []
        for _ in range(args.startups):
            _, wall, peak = _timed_run(cli, env)
            starts.append((wall, peak))
        row["startup_s"] = [round(w, 2) for w, _ in starts]
        row["startup_peak_rss_mib"] = round(max(p for _, p in starts))
        stdout, _, peak = _timed_run([*me, "measure", "--index", str(out), "--questions", str(args.questions),
                                      "-n", str(args.n)], env)
        row["measure"] = json.loads(stdout.splitlines()[-1])
        row["measure_peak_rss_mib"] = round(peak)
        row["date"] = datetime.now(UTC).isoformat(timespec="seconds")
        results[str(size)] = row
        results_path.write_text(json.dumps(results, indent=2))
        print(json.dumps({size: row}), flush=True)
        if args.delete_above and size > args.delete_above:
            shutil.rmtree(out)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(table(results) + "\n")


def table(results: dict[str, Any]) -> str:
    """The Markdown table of every measured size."""
    rate = results.get("check", {}).get("passages_per_s")
    head = ("| passages | documents | copy rounds | write (embedding excluded) | embedding at "
            f"{rate or '?'} passages/s | disk | RSS after load | start-up to first answer | "
            "query p50 / p95 | reranker share | write peak RSS | load average while querying |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for key in sorted((k for k in results if k.isdigit()), key=int):
        r = results[key]
        b, m = r["build"], r["measure"]
        embed = f"{b['size'] / rate / 3600:.1f} h" if rate else "?"
        share = "n/a" if m["rerank_share"] is None else f"{100 * m['rerank_share']:.0f} %"
        lines.append(
            f"| {b['size']:,} | {b['documents']:,} | {b['copy_rounds']} | {b['write_s']:.0f} s "
            f"({b['size'] / max(b['write_s'], 1e-9):,.0f}/s) | {embed} | {r['disk_mib'] / 1024:.2f} GiB | "
            f"{m['rss_after_load_mib'] / 1024:.2f} GiB | {min(r['startup_s']):.1f} s | "
            f"{m['p50_ms']:.0f} / {m['p95_ms']:.0f} ms ({m['vector_index']}) | "
            f"{share} | "
            f"{r['build_peak_rss_mib'] / 1024:.2f} GiB | {m.get('load_average', ['?'])[0]} on {m.get('cpus', '?')} |")
    return "\n".join(lines)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def source(p: argparse.ArgumentParser) -> None:
        p.add_argument("--source", type=Path, default=Path("/work/cache/m-mh"),
                       help="a built MultiHop index (read only)")
        p.add_argument("--lengths", type=_ints, default=[1, 2, 3, 4, 5, 6, 7, 8],
                       help="window lengths in sentences")
        p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("check", help="generated vs real passage vectors, on a sample")
    source(p)
    p.add_argument("--sample", type=int, default=200)
    p = sub.add_parser("build", help="write one generated index")
    source(p)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("measure", help="load, RSS and query times of one index")
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--questions", type=Path, default=ROOT / "eval" / "runs" / "multihop_dev.jsonl")
    p.add_argument("-n", type=int, default=300)
    p = sub.add_parser("run", help="build and measure each size; write the results and a table")
    source(p)
    p.add_argument("--sizes", type=_ints, default=[10_000, 100_000])
    p.add_argument("--out", type=Path, default=Path("/work/cache/scale"), help="prefix: OUT-SIZE per size")
    p.add_argument("--questions", type=Path, default=ROOT / "eval" / "runs" / "multihop_dev.jsonl")
    p.add_argument("-n", type=int, default=300)
    p.add_argument("--startups", type=int, default=2)
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--sample", type=int, default=200)
    p.add_argument("--results", type=Path, default=ROOT / "eval" / "runs" / "scale.json")
    p.add_argument("--report", type=Path)
    p.add_argument("--delete-above", type=int, default=0, help="delete indexes larger than this after measuring")
    args = parser.parse_args(argv)
    {"check": cmd_check, "build": cmd_build, "measure": cmd_measure, "run": cmd_run}[args.command](args)


if __name__ == "__main__":
    main()
