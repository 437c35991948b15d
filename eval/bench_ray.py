"""Time a one-process build against a Ray build (`qa index build PATH --ray`), side by side, on the
bundled sample and on a slice of the MultiHop-RAG corpus, and check they wrote the same vectors.

    PYTHONPATH=. python eval/bench_ray.py --docs 63 --repeat 2

For each archive: a one-process `build_index` and one through `RayEmbedder` on a new local Ray
instance (one actor per CPU, one torch thread each), each into an empty folder and each loading its
model itself, as the command does (the Ray figure includes starting Ray and the actors' model
loads). The best of --repeat runs is kept, with the load average after each pair: on a busy
machine several processes take a larger share of the CPU than one does, which favours Ray. Ray's
start-up and shutdown alone (no work) are timed apart. Then the two indexes are compared: same
chunks, and the largest difference between their passage and sentence vectors (0: bit-identical).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from qa.build import build_index  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.embed.ray_build import RayEmbedder, ray_session  # noqa: E402
from qa.index import open_index  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MULTIHOP = ROOT.parent / "shared" / "bench" / "multihop" / "corpus.json"
SAMPLE = ROOT / "qa" / "data" / "sample_archive"


def contents(index_dir: Path) -> tuple[list, np.ndarray, list[np.ndarray]]:  # type: ignore[type-arg]
    index = open_index(index_dir)
    try:
        return list(index.all_chunks()), index.all_vectors(), index.sentence_vectors(range(len(index)))
    finally:
        index.close()


def best_build(archive: Path, out: Path, model: str, repeat: int, ray: bool) -> tuple[float, int, int]:
    """Fastest of `repeat` builds into empty folders: seconds, chunks, Ray actors (0: one process)."""
    times, chunks, actors = [], 0, 0
    for n in range(repeat):
        settings = load_settings({"index": out / f"{'ray' if ray else 'one'}-{n}", "model": model}, env={})
        embedder = RayEmbedder(model, settings.batch_size) if ray else None
        started = time.perf_counter()
        report = build_index([archive], settings, embedder=embedder)
        times.append(time.perf_counter() - started)
        chunks, actors = report.chunks, (embedder.used_actors if embedder else 0)
    return min(times), chunks, actors


def largest_difference(a: Path, b: Path) -> tuple[bool, float, float]:
    """Whether two indexes hold the same chunks, and the largest passage- and sentence-vector difference."""
    (ca, va, sa), (cb, vb, sb) = contents(a), contents(b)
    same = ca == cb and [s.shape for s in sa] == [s.shape for s in sb]
    passages = float(np.abs(va - vb).max()) if va.shape == vb.shape else float("inf")
    sentences = max((float(np.abs(x.astype(np.float32) - y.astype(np.float32)).max(initial=0))
                     for x, y in zip(sa, sb)), default=0.0)
    return same, passages, sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=MULTIHOP)
    parser.add_argument("--docs", type=int, default=70, help="first N MultiHop articles (about 1,000 chunks)")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    sliced = work / "multihop-slice.json"
    sliced.write_text(json.dumps(json.loads(args.corpus.read_text(encoding="utf-8"))[:args.docs]), encoding="utf-8")
    started = time.perf_counter()
    with ray_session(None):
        up = time.perf_counter() - started
    startup = time.perf_counter() - started
    print(f"Ray local instance: {up:.1f} s to start, {startup:.1f} s with shutdown (no work)")
    rows = []
    for name, archive in (("bundled sample", SAMPLE), (f"MultiHop, first {args.docs} articles", sliced)):
        out = work / name.split()[0].strip(",")
        one, chunks, _ = best_build(archive, out, args.model, args.repeat, ray=False)
        spread, _, actors = best_build(archive, out, args.model, args.repeat, ray=True)
        same, dv, ds = largest_difference(out / "one-0", out / "ray-0")
        rows.append({"archive": name, "chunks": chunks, "one_process_s": round(one, 1), "ray_s": round(spread, 1),
                     "ray_actors": actors, "slower": round(spread / one, 2),
                     "load_average": round(os.getloadavg()[0], 1), "same_chunks": same,
                     "max_vector_diff": dv, "max_sentence_diff": ds})
    print("| archive | chunks | one process | Ray (local, actors) | Ray / one process | load average | same chunks | "
          "largest vector difference (passage, sentence) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['archive']} | {r['chunks']:,} | {r['one_process_s']} s ({r['chunks'] / r['one_process_s']:.1f}/s) "
              f"| {r['ray_s']} s ({r['chunks'] / r['ray_s']:.1f}/s), {r['ray_actors']} | {r['slower']}× "
              f"| {r['load_average']} | {'yes' if r['same_chunks'] else 'NO'} "
              f"| {r['max_vector_diff']:g}, {r['max_sentence_diff']:g} |")
    if args.json:
        args.json.write_text(json.dumps({"ray_startup_s": round(startup, 1), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
