"""What the LLM answerer costs before it calls the endpoint: loading tiktoken's encoding (from the
packaged copy) and building the prompt for one question's passages, at two budgets.

    python eval/bench_llm_prompt.py --index DIR [--question "..."] [--k 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from qa.answer import llm
from qa.config import load_settings
from qa.pipeline import Pipeline
from qa.types import Citation


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--question", default="Did TechCrunch report on the FTX trial before Fortune did?")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args(argv)
    pipeline = Pipeline.open(load_settings({"index": args.index}))
    citations = [Citation(i + 1, h) for i, h in enumerate(pipeline.search(args.question, args.k))]
    start = time.perf_counter()
    llm.encoding()
    print(f"tiktoken {llm.ENCODING} loaded in {(time.perf_counter() - start) * 1000:.0f} ms")
    for budget in (3000, 1500):
        times = []
        for _ in range(20):
            start = time.perf_counter()
            messages, sent = llm.build_messages(args.question, citations, budget)
            times.append(time.perf_counter() - start)
        tokens = sum(llm.count_tokens(m["content"]) for m in messages)
        print(f"budget {budget}: {sent} of {len(citations)} passages, {tokens} tokens, "
              f"built in {sorted(times)[10] * 1000:.2f} ms (p50 of 20)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
