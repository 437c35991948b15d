"""Per-question search time on a question set: wall clock and the CPU time of the answering thread
(`time.thread_time()`, which other jobs on a shared machine disturb much less than the wall clock).

    python eval/bench_search_cpu.py QUESTIONS.jsonl --index DIR [--n 400] [--warm 20] [--label NAME]

Runs `Pipeline.search(question, k=10)` (the question's embedding included) on the first `--n`
questions after `--warm` unmeasured ones, and prints the medians and the CPU mean. To compare two
versions of the code, run each in its own process, alternating, on the same index.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from qa.config import load_settings
from qa.pipeline import Pipeline


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--warm", type=int, default=20)
    ap.add_argument("--label", default="")
    args = ap.parse_args(argv)
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()][: args.n]
    pipeline = Pipeline.open(load_settings({"index": args.index}))
    for q in questions[: args.warm]:
        pipeline.search(q, k=10)  # the model, the passages' term sets and the query caches warmed
    wall, cpu = [], []
    for q in questions:
        w, c = time.perf_counter(), time.thread_time()
        pipeline.search(q, k=10)
        cpu.append((time.thread_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    print(f"{args.label or args.questions.name}: n={len(questions)} wall p50 {statistics.median(wall):.1f} ms, "
          f"cpu p50 {statistics.median(cpu):.1f} ms, cpu mean {statistics.mean(cpu):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
