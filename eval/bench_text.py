"""Side by side with an earlier revision of the code: the sentence splitter and the lexical index.

    python eval/bench_text.py splitter ../shared/bench/multihop/corpus.json [--baseline-rev main] [--examples 8]
    python eval/bench_text.py lexical INDEX_DIR [--questions eval/runs/multihop_dev.jsonl] [--baseline-rev main]

`splitter` splits every article body of a corpus JSON with `qa.text.split_sentences` and with the
`split_sentences` of `qa/chunk.py` at the baseline revision, and prints sentences/s for each, how
many articles and sentence boundaries differ, and a few differing splits. `lexical` builds BM25 over
the chunks stored in an index folder (header and text, as the index build does) with this
revision's `BM25Index` and the baseline's, and prints the build time of each and the per-query
search time (median and mean over the questions, each query scored once, its top 10 taken).
The baseline's modules are read with `git show REV:PATH`; nothing of it is installed.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from qa.eval.metrics import evidence_ranks, hit_at, recall_at, reciprocal_rank
from qa.eval.questions import load_questions
from qa.index.lexical import BM25Index
from qa.text import split_sentences

ROOT = Path(__file__).resolve().parent.parent


def baseline_module(rev: str, path: str, name: str) -> ModuleType:
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True,
                            capture_output=True, text=True).stdout
    module = ModuleType(name)
    module.__file__ = f"{rev}:{path}"
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def _at(rev: str, *paths: str) -> str:
    """The first of `paths` that exists at `rev` (a module moved between revisions)."""
    for path in paths:
        found = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}:{path}"], capture_output=True)
        if found.returncode == 0:
            return path
    return paths[-1]


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _search_cpu(index: Any, queries: list[str]) -> list[float]:
    """CPU seconds of each query's top-10 search."""
    times = []
    for q in queries:
        t0 = time.process_time()
        index.search(q, 10)
        times.append(time.process_time() - t0)
    return times


def _cpu(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, this process's CPU seconds): on a shared machine the CPU time is the steadier."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def bench_splitter(corpus: Path, rev: str, examples: int) -> None:
    bodies = [d["body"] for d in json.loads(corpus.read_text(encoding="utf-8")) if d.get("body")]
    old_split = baseline_module(rev, "qa/chunk.py", "baseline_chunk").split_sentences
    old, t_old = _timed(lambda: [old_split(b) for b in bodies])
    new, t_new = _timed(lambda: [split_sentences(b) for b in bodies])
    n_old, n_new = sum(map(len, old)), sum(map(len, new))
    ends_old = [{e for _, e in spans} for spans in old]
    ends_new = [{e for _, e in spans} for spans in new]
    dropped = sum(len(a - b) for a, b in zip(ends_old, ends_new))
    added = sum(len(b - a) for a, b in zip(ends_old, ends_new))
    differing = sum(a != b for a, b in zip(ends_old, ends_new))
    print(f"articles {len(bodies)}, characters {sum(map(len, bodies))}")
    print(f"baseline ({rev}): {n_old} sentences, {n_old / t_old:,.0f} sentences/s ({t_old:.2f} s)")
    print(f"qa.text:          {n_new} sentences, {n_new / t_new:,.0f} sentences/s ({t_new:.2f} s)")
    print(f"articles split differently: {differing}; boundaries only in the baseline: {dropped}; "
          f"only in qa.text: {added}")
    shown = 0
    for body, a, b in zip(bodies, ends_old, ends_new):
        for end in sorted(a - b):
            if shown >= examples:
                return
            print(f"  joined now: …{body[max(0, end - 60):end]!r} | {body[end:end + 40]!r}…")
            shown += 1
        for end in sorted(b - a)[:1]:
            if shown >= examples:
                return
            print(f"  split now:  …{body[max(0, end - 60):end]!r} | {body[end:end + 40]!r}…")
            shown += 1


def _lexical_quality(index: Any, questions: list[Any], chunk_texts: list[str], k: int = 10) -> str:
    """Lexical search alone over the questions with evidence: Hits@k, MRR@k and evidence Recall@k
    (the fact rule of `qa eval`: a quote found verbatim in a passage), no per-document cap."""
    hits, rr, recall = [], [], []
    for q in questions:
        if not q.evidence:
            continue
        rows = index.search(q.question, k)[0]
        ranks = evidence_ranks([e.quote for e in q.evidence], [chunk_texts[r] for r in rows])
        hits.append(hit_at(ranks, k))
        rr.append(reciprocal_rank(ranks, k))
        recall.append(recall_at(ranks, k) or 0.0)
    n = len(hits) or 1
    return (f"lexical only (n={len(hits)}): Hits@{k} {sum(hits) / n:.3f}  MRR@{k} {sum(rr) / n:.3f}  "
            f"Recall@{k} {sum(recall) / n:.3f}")


def bench_lexical(index_dir: Path, questions: Path, rev: str) -> None:
    build = index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    con = sqlite3.connect(f"file:{build / 'chunks.sqlite'}?mode=ro", uri=True)
    texts = [f"{h}\n{t}" for h, t in con.execute("SELECT header, text FROM chunks ORDER BY row")]
    asked = load_questions(questions)
    queries = list(dict.fromkeys(q.question for q in asked))
    chunk_texts = [t for (t,) in con.execute("SELECT text FROM chunks ORDER BY row")]
    old_cls = baseline_module(rev, _at(rev, "qa/index/lexical.py", "qa/lexical.py"), "baseline_lexical").BM25Index
    print(f"chunks {len(texts)}, queries {len(queries)}; two passes, the order swapped in the second "
          "(search timed without the quality check)")
    built = {}
    pair = [(f"baseline ({rev})", old_cls), ("bm25s", BM25Index)]
    for order in (pair, pair[::-1]):
        for name, cls in order:
            index, wall, cpu = _cpu(partial(cls.build, texts))
            built[name] = index
            index.search("warm up the name table", 10)
            times = _search_cpu(index, queries)
            print(f"{name:16s} build {wall:6.2f} s wall, {cpu:6.2f} s CPU   search CPU p50 "
                  f"{1000 * statistics.median(times):6.3f} ms   mean {1000 * statistics.mean(times):6.3f} ms   "
                  f"{_lexical_quality(index, asked, chunk_texts)}")
    if len(built) == 2:
        with tempfile.TemporaryDirectory() as tmp:
            built["bm25s"].save(Path(tmp) / "lexical")
            loaded, wall, cpu = _cpu(lambda: BM25Index.load(Path(tmp) / "lexical"))
            times = _search_cpu(loaded, queries)
            print(f"bm25s, loaded memory-mapped: load {wall:.3f} s; search CPU p50 "
                  f"{1000 * statistics.median(times):6.3f} ms   mean {1000 * statistics.mean(times):6.3f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("splitter")
    s.add_argument("corpus", type=Path)
    s.add_argument("--baseline-rev", default="main")
    s.add_argument("--examples", type=int, default=8)
    lx = sub.add_parser("lexical")
    lx.add_argument("index", type=Path)
    lx.add_argument("--questions", type=Path, default=ROOT / "eval" / "runs" / "multihop_dev.jsonl")
    lx.add_argument("--baseline-rev", default="main")
    args = ap.parse_args()
    if args.what == "splitter":
        bench_splitter(args.corpus, args.baseline_rev, args.examples)
    else:
        bench_lexical(args.index, args.questions, args.baseline_rev)


if __name__ == "__main__":
    main()
