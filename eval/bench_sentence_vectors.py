"""What sentence vectors cost a build: the same chunks embedded with and without them, side by side.

    python eval/bench_sentence_vectors.py --index DIR [--chunks 512] [--rounds 3]

Takes the first `--chunks` chunks of an index and embeds them `--rounds` times each way, alternating
(`embed_documents`: passage vectors only; `embed_passages`: passage vectors plus one pooled vector per
sentence, as a build does), and prints the best time of each, their ratio, and how far the passage
vectors of the two paths differ (they come from the same forward pass, so they should not).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from qa.chunk import sentence_spans
from qa.config import load_settings
from qa.embed import load_embedder
from qa.index import open_index


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--chunks", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    settings = load_settings({"index": args.index})
    embedder = load_embedder(settings.model, settings.batch_size)
    index = open_index(settings.index, embedder.model_id, embedder.dim)
    chunks = index.chunks(range(min(args.chunks, len(index))))
    texts, spans = [c.indexed_text for c in chunks], [sentence_spans(c) for c in chunks]
    embedder.embed_documents(texts[:32])  # load the weights outside the timings
    best = {"passages only": float("inf"), "with sentence vectors": float("inf")}
    for _ in range(args.rounds):
        start = time.perf_counter()
        plain = embedder.embed_documents(texts)
        best["passages only"] = min(best["passages only"], time.perf_counter() - start)
        start = time.perf_counter()
        pooled, sentences = embedder.embed_passages(texts, spans)
        best["with sentence vectors"] = min(best["with sentence vectors"], time.perf_counter() - start)
    for name, seconds in best.items():
        print(f"{name:<22} {seconds:7.2f} s for {len(texts)} chunks ({len(texts) / seconds:.1f} chunks/s, best of "
              f"{args.rounds})")
    print(f"ratio {best['with sentence vectors'] / best['passages only']:.3f}; "
          f"{sum(len(s) for s in sentences)} sentence vectors; "
          f"largest passage-vector difference {float(np.abs(plain - pooled).max()):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
