"""The reranker fitted on each embedding runtime's own cosines, compared side by side held out.

    python eval/runtime_parity.py eval/runs/multihop_dev.jsonl --torch-index DIR --int8-index DIR
                                  [--folds 2] [--draws 1] [--write-int8 qa/data/rerank-onnx-int8.json]
                                  [--harvest-dir .cache/parity]

Each index is searched with the runtime that built it (torch, onnx-int8), and the candidates and
features of every question with evidence are harvested as `eval/train_rerank.py` does (kept in
`--harvest-dir`, so a second run reuses them). The fold splits are drawn from the same seeds over
the same questions, so both runtimes are held out on the same draws. Printed, per runtime:

- the first stage alone (no reranker), on the reranker's candidates;
- the shipped reranker (`qa/data/rerank.json`, fitted on every torch question: in-sample);
- held out, a model fitted on the other folds of *the torch harvest* ranking each fold: what the
  int8 runtime gets from a reranker fitted on torch cosines;
- held out, a model fitted on the other folds of *its own harvest*: what a refit gives.

and the difference int8 − torch of each figure. `--write-int8 PATH` then fits on every question of
the int8 harvest and writes the model there (what `qa` loads for an index the int8 embedder built).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rerank_fit import HIDDEN, STEPS, fit  # eval/ is on the path when run as a script
from train_rerank import harvest, ranked, scores_at, stack

from qa.config import load_settings
from qa.eval.questions import load_questions
from qa.pipeline import Pipeline
from qa.rerank import WEIGHTS_FILE, Ranker
from qa.text import analyze

RUNTIMES = ("torch", "onnx-int8")


def figures(results: list[tuple[int | None, float]], k: int) -> dict[str, float]:
    n = len(results) or 1
    first = [r for r, _ in results]
    return {"Hits@1": sum(1 for f in first if f is not None and f <= 1) / n,
            f"Hits@{k}": sum(1 for f in first if f is not None and f <= k) / n,
            f"MRR@{k}": sum(1 / f for f in first if f is not None) / n,
            f"Recall@{k}": sum(r for _, r in results) / n}


def load_harvest(runtime: str, index: Path, questions: Path, folder: Path) -> tuple[Pipeline, list[dict]]:
    settings = load_settings({"index": index, "embedder": runtime})
    pipeline = Pipeline.open(settings)
    cache = folder / f"{runtime}-{index.name}-{questions.stem}.pkl"
    if cache.is_file():
        items = pickle.loads(cache.read_bytes())
        print(f"{runtime}: {len(items)} harvested questions from {cache}", file=sys.stderr)
    else:
        start = time.perf_counter()
        items = harvest(pipeline, load_questions(questions))
        for it in items:
            it.pop("doc_rows")
        folder.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(items))
        print(f"{runtime}: harvested {len(items)} questions in {time.perf_counter() - start:.0f} s",
              file=sys.stderr)
    for it in items:
        it["doc_rows"] = pipeline.index.doc_rows
    return pipeline, items


def held_out(train: list[dict], test: list[dict], folds: int, seed: int, hidden: int, steps: int,
             fitted: dict) -> list[np.ndarray]:
    """Each `test` question scored by a model fitted on the `train` questions of the other folds
    (`train` and `test` are the same questions, harvested by one runtime or two). `fitted` keeps
    each fold's model, keyed by (id of train, seed, fold), so two test sets share the fits."""
    fold = np.random.default_rng(seed).integers(0, folds, len(train))
    out: list[np.ndarray] = [np.zeros(0)] * len(test)
    for f in range(folds):
        key = (id(train), seed, f)
        if key not in fitted:
            start = time.perf_counter()
            fitted[key] = fit(*stack([it for it, g in zip(train, fold) if g != f]), hidden=hidden, steps=steps)
            print(f"  fold {f} of draw {seed} fitted in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        for i, it in enumerate(test):
            if fold[i] == f:
                out[i] = fitted[key].score(it["x"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--torch-index", type=Path, required=True)
    ap.add_argument("--int8-index", type=Path, required=True)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--draws", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=HIDDEN)
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--harvest-dir", type=Path, default=Path(".cache/parity"))
    ap.add_argument("--write-int8", type=Path, default=None, help="fit on every int8 question and write here")
    args = ap.parse_args(argv)
    if args.folds < 2 or args.draws < 1:
        ap.error("--folds must be at least 2 and --draws at least 1")
    start = time.perf_counter()
    harvests = {}
    pipelines = {}
    for runtime, index in zip(RUNTIMES, (args.torch_index, args.int8_index)):
        pipelines[runtime], harvests[runtime] = load_harvest(runtime, index, args.questions, args.harvest_dir)
    torch_items, int8_items = harvests["torch"], harvests["onnx-int8"]
    if [it["holds"].shape[1] for it in torch_items] != [it["holds"].shape[1] for it in int8_items]:
        ap.error("the two harvests hold different questions")
    per_doc, k = pipelines["torch"].settings.per_doc, args.k
    shipped = Ranker.load(WEIGHTS_FILE)
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for runtime, items in harvests.items():
        rows.setdefault("first stage", {})[runtime] = figures(
            [scores_at(it, it["base"], per_doc, k) for it in items], k)
        rows.setdefault("shipped reranker (torch fit, in-sample)", {})[runtime] = figures(
            [scores_at(it, ranked(it, shipped.score(it["x"])), per_doc, k) for it in items], k)
    fitted: dict = {}
    for seed in range(args.draws):
        for label, train in (("torch", torch_items), ("own", None)):
            for runtime, items in harvests.items():
                scores = held_out(train if train is not None else items, items, args.folds, seed,
                                  args.hidden, args.steps, fitted)
                name = f"held out, fitted on {label if train is not None else 'its own'} harvest, draw {seed}"
                rows.setdefault(name, {})[runtime] = figures(
                    [scores_at(it, ranked(it, s), per_doc, k) for it, s in zip(items, scores)], k)
    names = list(next(iter(rows.values()))["torch"])
    print(f"{len(torch_items)} questions with evidence, {args.folds}-fold, per_doc {per_doc}, "
          f"draws {args.draws} (same fold splits for both runtimes)")
    print(f"{'':58s} " + "  ".join(f"{n:>28s}" for n in names))
    print(f"{'':58s} " + "  ".join(f"{'torch / int8 / diff':>28s}" for _ in names))
    for name, by in rows.items():
        cells = [f"{by['torch'][n]:.4f} / {by['onnx-int8'][n]:.4f} / {by['onnx-int8'][n] - by['torch'][n]:+.4f}"
                 for n in names]
        print(f"{name:58s} " + "  ".join(f"{c:>28s}" for c in cells))
    if args.write_int8 is not None:
        fit_start = time.perf_counter()
        model = fit(*stack(int8_items), hidden=args.hidden, steps=args.steps,
                    model=pipelines["onnx-int8"].embedder.model_id, runtime="onnx-int8")
        held = [r for name, by in rows.items() if name.startswith("held out, fitted on its own")
                for r in [by["onnx-int8"]]]
        mean = {n: sum(h[n] for h in held) / len(held) for n in names}
        min_terms = min(len(set(analyze(q.question))) for q in load_questions(args.questions) if q.evidence)
        args.write_int8.parent.mkdir(parents=True, exist_ok=True)
        args.write_int8.write_text(model.to_json(
            questions=str(args.questions), count=len(int8_items),
            fitted_at=datetime.now(UTC).isoformat(timespec="seconds"), hidden=args.hidden, steps=args.steps,
            folds=args.folds, draws=args.draws, dropped=[],
            first_stage="  ".join(f"{n} {v:.3f}" for n, v in rows["first stage"]["onnx-int8"].items()),
            held_out="  ".join(f"{n} {v:.3f}" for n, v in mean.items()),
            min_terms=min_terms,
        ) + "\n", encoding="utf-8")
        print(f"wrote {args.write_int8} (fitted in {time.perf_counter() - fit_start:.0f} s)")
    print(f"{time.perf_counter() - start:.0f} s in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
