"""A real build at scale: peak memory, time and disk of `qa index build` on archives of real news text.

The archives are made from MultiHop-RAG's 609 articles, each written again at several word offsets
(variant k starts k × 5 words further in and carries its number in the title), so every variant
chunks into other passages and every passage is embedded for real by the model the settings name
(the packaged one, int8 on the CPU, unless QA_MODEL / QA_EMBEDDER say otherwise). Each build runs
in a child process under `/usr/bin/time -v`: its peak RSS is the kernel's, not an estimate.

    python eval/bench_build.py --sizes 50000,200000            # one build per size, then the slope
    python eval/bench_build.py --sizes 100000 --ray --rounds 1  # one process vs --ray, side by side

With two or more sizes it fits peak RSS = a + b × passages by least squares over the measured one-process
builds that went through the spool folder (archives above `qa.build.STAGE_ABOVE` bytes; a smaller one is
built in memory and left out of the fit) and states the peak at a million passages from that slope;
`--also EARLIER.json` adds the builds of an earlier run on the same code.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from qa.build import STAGE_ABOVE
from qa.ingest import archive_bytes

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "bench" / "multihop" / "corpus.json"
STEP = 5  # words each variant starts further in (a variant of 30 drops 150 of an article's ~1,700)


def _words_from(text: str, skip: int) -> str:
    """`text` from its `skip`-th word on (the original when it has fewer words)."""
    cuts = [m.start() for m in re.finditer(r"\S+", text)]
    return text[cuts[skip]:] if skip < len(cuts) else text


def make_archive(corpus: Path, folder: Path, variants: int) -> Path:
    """`variants` JSON Lines files of the corpus's articles at rising word offsets (kept when already made)."""
    folder.mkdir(parents=True, exist_ok=True)
    articles = json.loads(corpus.read_text(encoding="utf-8"))
    for k in range(variants):
        path = folder / f"variant-{k:03d}.jsonl"
        if path.exists():
            continue
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for a in articles:
                record = {"title": f"{a['title']} ({k})", "body": _words_from(a["body"], k * STEP),
                          "published_at": a.get("published_at"), "source": a.get("source"),
                          "author": a.get("author")}
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        tmp.replace(path)
    for stale in folder.glob("variant-*.jsonl"):
        if int(stale.stem.split("-")[1]) >= variants:
            stale.unlink()
    return folder


def chunks_per_variant(corpus: Path) -> int:
    """Passages the first variant chunks into, with the shipped chunker and the packaged tokenizer's counts."""
    from qa.build import chunk_documents
    from qa.config import Settings
    from qa.embed.models import load_embedder
    from qa.ingest import iter_documents

    tmp = ROOT / ".cache" / "bench-build" / "probe"
    make_archive(corpus, tmp, 1)
    settings = Settings()
    embedder = load_embedder(settings.model, settings.batch_size, settings.embedder, settings.device)
    docs = list(iter_documents([tmp], []))
    return len(chunk_documents(docs, embedder, settings))


def _time_v(report: str, label: str) -> str:
    match = re.search(rf"^\s*{re.escape(label)}: (.+)$", report, re.M)
    return match.group(1).strip() if match else ""


def _seconds(clock: str) -> float:
    """`/usr/bin/time`'s elapsed "h:mm:ss" or "m:ss.ss" in seconds."""
    parts = [float(p) for p in clock.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(archive: Path, index: Path, ray: bool) -> dict[str, float]:
    """One `qa index build` in a child process: wall seconds, peak RSS, disk, passages."""
    shutil.rmtree(index, ignore_errors=True)
    qa = str(Path(sys.executable).with_name("qa"))
    cmd = ["/usr/bin/time", "-v", qa, "index", "build", str(archive), "--index", str(index), "--quiet"]
    if ray:
        cmd.append("--ray")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"build failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    summary = next((line for line in done.stdout.splitlines() if line.startswith("Indexed ")), done.stdout.strip())
    chunks = int(re.search(r"([\d,]+) chunks", summary).group(1).replace(",", ""))  # type: ignore[union-attr]
    peak_kib = float(_time_v(done.stderr, "Maximum resident set size (kbytes)") or 0)
    return {"passages": chunks, "seconds": _seconds(_time_v(done.stderr, "Elapsed (wall clock) time (h:mm:ss or m:ss)"))
            or wall, "peak_gib": peak_kib / 2**20, "disk_gib": _du(index) / 2**30,
            "cpu_s": float(_time_v(done.stderr, "User time (seconds)") or 0)
            + float(_time_v(done.stderr, "System time (seconds)") or 0)}


def fit(points: Sequence[dict[str, float]]) -> tuple[float, float]:
    """Least-squares a, b of peak GiB = a + b × passages."""
    xs = [p["passages"] for p in points]
    ys = [p["peak_gib"] for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return my - b * mx, b


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50000,200000", help="passages per build, comma-separated")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench-build")
    parser.add_argument("--ray", action="store_true", help="each size built by one process and by --ray, in turn")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the measurements here too")
    parser.add_argument("--also", type=Path, action="append", default=[],
                        help="a --json file of an earlier run on the same code: its builds join the slope")
    args = parser.parse_args(argv)
    if not args.corpus.is_file():
        raise SystemExit(f"No corpus at {args.corpus} (MultiHop-RAG's corpus.json).")
    per_variant = chunks_per_variant(args.corpus)
    print(f"{per_variant:,} passages a variant of {args.corpus.name}", flush=True)
    rows: list[dict[str, float | str]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        # later variants are shorter: 25 gave 7,681 passages each by the hash embedder's counts, 8,282 by the model's
        variants = max(1, math.ceil(size / (0.88 * per_variant)))
        archive = make_archive(args.corpus, args.work / f"archive-{variants}", variants)
        staged = archive_bytes([archive]) > STAGE_ABOVE  # documents, chunks and vectors wait on disk
        for r in range(args.rounds):
            for ray in ((False, True) if args.ray else (False,)):
                got = build(archive, args.work / "index", ray)
                row = {"how": "--ray" if ray else "one process", "round": r, "staged": staged, **got}
                rows.append(row)
                print(f"{row['how']:>11}  {got['passages']:>9,.0f} passages  {got['seconds']:8.1f} s  "
                      f"{got['passages'] / got['seconds']:6.1f} passages/s  peak {got['peak_gib']:.2f} GiB  "
                      f"disk {got['disk_gib']:.2f} GiB  cpu {got['cpu_s']:.0f} s"
                      f"{'' if staged else '  (in memory: below STAGE_ABOVE)'}", flush=True)
    earlier = [row for path in args.also for row in json.loads(path.read_text())]
    alone = [r for r in [*earlier, *rows] if r["how"] == "one process" and r.get("staged", True)]
    if len({r["passages"] for r in alone}) >= 2:
        a, b = fit(alone)  # type: ignore[arg-type]
        print(f"peak RSS = {a:.2f} GiB + {b * 1e6:.2f} GiB per million passages → "
              f"{a + b * 1e6:.2f} GiB at 1,000,000 (measured slope)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    shutil.rmtree(args.work / "index", ignore_errors=True)


if __name__ == "__main__":
    main()
