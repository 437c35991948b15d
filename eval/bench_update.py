"""Time `update_index` against a full rebuild on MultiHop-RAG (609 articles), side by side, one run.

    PYTHONPATH=. python eval/bench_update.py --seed-index /work/cache/multihop-index

Steps, all in a scratch folder: copy the corpus; make the starting index (from --seed-index: a copy
of an index of the same corpus whose vectors `build_index` reuses, so no embedding; without it, a
full build); change --changed documents (a sentence added to the body); then time
`update_index` on the changed corpus and a full rebuild of it into an empty folder, with the same
loaded model (its load time is reported apart, not in either figure). Finally check the two
indexes agree: same chunk ids, and the same top-5 passages for --queries dev questions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.build import build_index, update_index  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.embed import load_embedder  # noqa: E402
from qa.index import open_index  # noqa: E402
from qa.pipeline import Pipeline  # noqa: E402

MULTIHOP = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "multihop"


def change(corpus: Path, n: int) -> list[str]:
    """Add a sentence to the body of `n` articles spread over the corpus; their titles."""
    records = json.loads(corpus.read_text(encoding="utf-8"))
    picked = records[:: max(1, len(records) // n)][:n]
    for r in picked:
        r["body"] += "\n\nThis article was updated after publication to correct a figure."
    corpus.write_text(json.dumps(records), encoding="utf-8")
    return [r["title"] for r in picked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=MULTIHOP / "corpus.json")
    parser.add_argument("--seed-index", type=Path, help="an index of the same corpus to start from")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-update-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.json"
    shutil.copy(args.corpus, corpus)
    settings = load_settings({"index": work / "index", "model": args.model}, env={})
    fresh = replace(settings, index=work / "fresh")
    for folder in (settings.index, fresh.index):
        shutil.rmtree(folder, ignore_errors=True)
    t = time.perf_counter()
    embedder = load_embedder(settings.model, settings.batch_size)
    embedder.embed_query("warm up")  # load the weights now, outside both timings
    load_s = time.perf_counter() - t

    if args.seed_index:
        shutil.copytree(args.seed_index, settings.index)
    start = build_index([corpus], settings, embedder=embedder)
    print(f"starting index: {start.summary()}", flush=True)
    titles = change(corpus, args.changed)

    update = update_index([corpus], settings, prune=True, embedder=embedder)
    print(f"update:  {update.summary()}", flush=True)
    rebuild = build_index([corpus], fresh, embedder=embedder)
    print(f"rebuild: {rebuild.summary()}", flush=True)

    a, b = open_index(settings.index), open_index(fresh.index)
    same_ids = [c.chunk_id for c, _ in a.all_chunks()] == [c.chunk_id for c, _ in b.all_chunks()]
    a.close()
    b.close()
    questions = [q["query"] for q in json.loads((args.corpus.parent / "queries_dev.json").read_text())]
    questions = questions[:: max(1, len(questions) // args.queries)][: args.queries]
    p, q = Pipeline.open(settings, embedder), Pipeline.open(fresh, embedder)
    same_top = sum([h.chunk.chunk_id for h in p.search(x)] == [h.chunk.chunk_id for h in q.search(x)]
                   for x in questions)
    figures = {
        "documents": update.documents, "chunks": update.chunks, "changed_documents": len(update.changed),
        "changed_titles": titles, "update_embedded": update.embedded, "update_s": round(update.seconds, 2),
        "rebuild_embedded": rebuild.embedded, "rebuild_s": round(rebuild.seconds, 2),
        "ratio": round(update.seconds / rebuild.seconds, 4), "model_load_s": round(load_s, 2),
        "same_chunk_ids": same_ids, "same_top5": f"{same_top}/{len(questions)}", "cpus": os.cpu_count(),
    }
    print(f"\nupdate of {len(update.changed)} changed documents: {update.seconds:.1f} s "
          f"({update.embedded} chunks embedded)\nfull rebuild: {rebuild.seconds:.1f} s "
          f"({rebuild.embedded} chunks embedded)\nratio update/rebuild: {figures['ratio']:.4f} "
          f"(rebuild {rebuild.seconds / update.seconds:.0f}x slower)\nsame chunk ids: {same_ids}; "
          f"same top-5 passages: {same_top}/{len(questions)} questions; model load {load_s:.1f} s apart")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
