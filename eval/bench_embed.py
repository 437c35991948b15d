"""The torch and int8 ONNX embedders side by side on the same chunks: speed and agreement.

    python eval/bench_embed.py --index DIR [--chunks 1024] [--block 128]

Takes `--chunks` chunks spread evenly over an index (and their sentence spans, as a build does),
and embeds them block by block with each runtime in turn (`embed_passages`: passage vectors plus
one pooled vector per sentence), so both meet the same machine load. Prints passages/s for each and
their ratio, and the cosine of each int8 vector to its torch vector (mean, 1st percentile, min),
for passage and for sentence vectors. The int8 model is exported first if it is not in the cache.
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


def _cosines(a: np.ndarray, b: np.ndarray) -> str:
    c = (a * b).sum(axis=1)
    return f"mean {c.mean():.4f}, 1st percentile {np.percentile(c, 1):.4f}, min {c.min():.4f} (n={len(c):,})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--chunks", type=int, default=1024)
    ap.add_argument("--block", type=int, default=128, help="chunks per turn of each runtime")
    args = ap.parse_args(argv)
    settings = load_settings({"index": args.index})
    runtimes = {name: load_embedder(settings.model, settings.batch_size, runtime=name)
                for name in ("torch", "onnx-int8")}
    index = open_index(settings.index)
    picks = np.unique(np.linspace(0, len(index) - 1, min(args.chunks, len(index))).astype(int))
    chunks = index.chunks([int(i) for i in picks])
    texts, spans = [c.indexed_text for c in chunks], [sentence_spans(c) for c in chunks]
    for embedder in runtimes.values():
        embedder.embed_passages(texts[:8], spans[:8])  # load the weights (and export) outside the timings
    seconds = dict.fromkeys(runtimes, 0.0)
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in runtimes}
    sentences: dict[str, list[np.ndarray]] = {name: [] for name in runtimes}
    for at in range(0, len(texts), args.block):
        for name, embedder in runtimes.items():
            start = time.perf_counter()
            v, s = embedder.embed_passages(texts[at:at + args.block], spans[at:at + args.block])
            seconds[name] += time.perf_counter() - start
            vectors[name].append(v)
            sentences[name].extend(s)
    n = len(texts)
    for name in runtimes:
        print(f"{name:<10} {seconds[name]:7.1f} s for {n:,} chunks: {n / seconds[name]:.1f} passages/s")
    print(f"speed-up  {seconds['torch'] / seconds['onnx-int8']:.2f}x (int8 over torch, same chunks, alternating "
          f"blocks of {args.block})")
    print(f"passage vectors, cosine int8 to torch:  {_cosines(*(np.vstack(vectors[k]) for k in runtimes))}")
    print(f"sentence vectors, cosine int8 to torch: {_cosines(*(np.vstack(sentences[k]) for k in runtimes))}")
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
