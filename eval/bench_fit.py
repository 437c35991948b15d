"""Time `eval/rerank_fit.py`'s `fit` per Adam step in float32 against float64, side by side in one process.

    python eval/bench_fit.py [--rows 211393] [--hidden 256] [--steps 40] [--repeats 3]

The default shape is the MultiHop dev harvest's (211,393 candidates of 1,111 questions, 19 features);
the time of a step does not depend on the values, so the data are random. Each repeat runs both
dtypes in turn, so machine noise falls on both; prints each repeat's ms/step and the ratio of medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from rerank_fit import HIDDEN, fit  # eval/ is on the path when run as a script

from qa.rerank import FEATURES


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=211_393)
    ap.add_argument("--hidden", type=int, default=HIDDEN)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((args.rows, len(FEATURES))).astype(np.float32)
    y = (rng.random(args.rows) < 0.014).astype(np.float64)  # the harvest's share of relevant candidates
    groups = np.arange(args.rows) // 190
    times: dict[str, list[float]] = {"float64": [], "float32": []}
    for r in range(args.repeats):
        for name, dtype in ((n, getattr(np, n)) for n in times):
            start = time.perf_counter()
            fit(x, y, groups, hidden=args.hidden, steps=args.steps, dtype=dtype)
            times[name].append((time.perf_counter() - start) / args.steps * 1000)
            print(f"repeat {r}  {name}  {times[name][-1]:.1f} ms/step", flush=True)
    m64, m32 = statistics.median(times["float64"]), statistics.median(times["float32"])
    print(f"median ms/step: float64 {m64:.1f}, float32 {m32:.1f}; float32 is {m64 / m32:.2f}x faster "
          f"({args.rows:,} rows, {args.hidden} hidden)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
