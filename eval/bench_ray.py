"""Time a one-process build against a Ray build (`qa index build PATH --ray`), side by side, on the
bundled sample and on a slice of the MultiHop-RAG corpus, and check they wrote the same vectors.

    PYTHONPATH=. python eval/bench_ray.py --docs 70 --repeat 2

For each archive: a one-process `build_index` and one through `RayEmbedder` on a new local Ray
instance (one actor per CPU, one torch thread each), each into an empty folder and each loading its
model itself, as the command does (the Ray figure includes starting Ray and the actors' model
loads). The best of --repeat runs is kept, in wall-clock seconds and in CPU seconds (this process
and, for Ray, its instance's processes: on a shared machine the CPU figure is the fairer one, as
several processes take a larger share of a busy CPU than one does). Ray's start-up and shutdown
alone (no work) are timed apart. Then the two indexes are compared: same chunks, and the largest
difference between their passage and sentence vectors (0 means bit-identical).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from qa.build import build_index  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.ray_build import RayEmbedder, ray_session  # noqa: E402
from qa.store import open_index  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MULTIHOP = ROOT.parent / "shared" / "bench" / "multihop" / "corpus.json"
SAMPLE = ROOT / "qa" / "data" / "sample_archive"


def contents(index_dir: Path) -> tuple[list, np.ndarray, list[np.ndarray]]:  # type: ignore[type-arg]
    index = open_index(index_dir)
    try:
        return list(index.all_chunks()), index.all_vectors(), index.all_sentence_vectors()
    finally:
        index.close()


def cpu_seconds() -> float:
    """CPU time of this process and of its finished descendants: a local Ray instance's processes
    (its raylet and the actors it started) count once `ray.shutdown()` has reaped them."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best_build(archive: Path, out: Path, model: str, repeat: int, ray: bool) -> tuple[float, float, int, int]:
    """Fastest of `repeat` builds into empty folders: wall seconds, CPU seconds, chunks, Ray actors
    (0: one process)."""
    times, cpus, chunks, actors = [], [], 0, 0
    for n in range(repeat):
        settings = load_settings({"index": out / f"{'ray' if ray else 'one'}-{n}", "model": model}, env={})
        embedder = RayEmbedder(model, settings.batch_size) if ray else None
        started, cpu = time.perf_counter(), cpu_seconds()
        report = build_index([archive], settings, embedder=embedder)
        times.append(time.perf_counter() - started)
        cpus.append(cpu_seconds() - cpu)
        chunks, actors = report.chunks, (embedder.used_actors if embedder else 0)
    return min(times), min(cpus), chunks, actors


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
        one, one_cpu, chunks, _ = best_build(archive, out, args.model, args.repeat, ray=False)
        spread, spread_cpu, _, actors = best_build(archive, out, args.model, args.repeat, ray=True)
        same, dv, ds = largest_difference(out / "one-0", out / "ray-0")
        rows.append({"archive": name, "chunks": chunks, "one_process_s": round(one, 1), "ray_s": round(spread, 1),
                     "ray_actors": actors, "slower": round(spread / one, 2),
                     "one_process_cpu_s": round(one_cpu, 1), "ray_cpu_s": round(spread_cpu, 1),
                     "load_average": round(os.getloadavg()[0], 1), "same_chunks": same,
                     "max_vector_diff": dv, "max_sentence_diff": ds})
    print("| archive | chunks | one process: wall, CPU | Ray (local): wall, CPU, actors | Ray / one process: wall, CPU "
          "| load average | same chunks | largest vector difference (passage, sentence) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        one = f"{r['one_process_s']} s ({r['chunks'] / r['one_process_s']:.1f}/s)"
        print(f"| {r['archive']} | {r['chunks']:,} | {one}, "
              f"{r['one_process_cpu_s']} s | {r['ray_s']} s ({r['chunks'] / r['ray_s']:.1f}/s), {r['ray_cpu_s']} s, "
              f"{r['ray_actors']} | {r['slower']}×, {r['ray_cpu_s'] / r['one_process_cpu_s']:.2f}× "
              f"| {r['load_average']} | {'yes' if r['same_chunks'] else 'NO'} "
              f"| {r['max_vector_diff']:g}, {r['max_sentence_diff']:g} |")
    if args.json:
        args.json.write_text(json.dumps({"ray_startup_s": round(startup, 1), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
