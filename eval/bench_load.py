"""What loading an index costs, and retrieval speed after it: one process, figures printed.

    python eval/bench_load.py --index DIR [--questions eval/runs/multihop_dev.jsonl] [--queries 200]

Prints the seconds `Pipeline.open` takes (index and embedder object; the model's weights load at
the first question), the process RSS after it, the first search (weights included), retrieval
p50/p95 over `--queries` questions (`Pipeline.search`: embedding, both retrievers, fusion and the
reranker), and the RSS after them. Runs against whichever `qa` is on PYTHONPATH, so two versions
can be measured side by side on the same machine.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from qa.config import load_settings
from qa.pipeline import Pipeline


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=Path("eval/runs/multihop_dev.jsonl"))
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--passes", type=int, default=1, help="times through the questions; p50 of each is printed")
    args = ap.parse_args(argv)
    questions = [json.loads(line)["question"]
                 for line in args.questions.read_text(encoding="utf-8").splitlines()[: args.queries + 1]]
    settings = load_settings({"index": args.index})
    base = rss_mb()
    start = time.perf_counter()
    pipeline = Pipeline.open(settings)
    opened = time.perf_counter() - start
    after_open = rss_mb()
    start = time.perf_counter()
    pipeline.search(questions[0])
    first = time.perf_counter() - start
    passes = []
    for _ in range(args.passes):
        times = []
        for question in questions[1:]:
            start = time.perf_counter()
            pipeline.search(question)
            times.append((time.perf_counter() - start) * 1000)
        passes.append(f"p50 {np.percentile(times, 50):.1f} ms, p95 {np.percentile(times, 95):.1f} ms")
    print(f"open {opened:.2f} s; RSS before {base:.0f} MB, after open {after_open:.0f} MB "
          f"(+{after_open - base:.0f}); first search {first:.2f} s; retrieval over {len(questions) - 1} "
          f"questions, each pass: {'; '.join(passes)}; RSS after {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
