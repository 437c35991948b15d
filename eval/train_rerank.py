"""Fit the reranker (`qa/rerank/`) on a question set with evidence quotes, and measure it held out.

    python eval/train_rerank.py eval/runs/multihop_dev.jsonl --index DIR [--out FILE]
                                [--folds 2] [--draws 1] [--drop FEATURE ...] [--hidden HIDDEN] [--steps STEPS] [--k 10]

A candidate passage is relevant when it holds an evidence quote (the fact rule of `qa eval`).
The questions are split into folds; a model fitted on the other folds ranks each fold, and the
held-out figures (Hits@1/4/k, MRR@k, evidence recall@k) are printed next to the first stage's on
the same candidates. The model written to `--out` (default: the file `qa` loads for the index's
embedding runtime, `qa.rerank.weights_file`) is then fitted on every question; the held-out figures
go into its file. `--draws N` repeats the held-out measure over N random fold splits and
prints their mean (one split moves MRR by about ±0.005); `--drop FEATURE` fits without a feature
(its column held at 0), to measure what the feature adds on the same candidates. Candidates come
from the same code the retriever runs (`Retriever.first_stage` and `Retriever.candidates`), so what
is fitted is what is served.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rerank_fit import HIDDEN, STEPS, fit  # eval/ is on the path when run as a script

from qa.config import load_settings
from qa.eval.metrics import squash
from qa.eval.questions import load_questions
from qa.pipeline import Pipeline, clean_question
from qa.rerank import FEATURES, feature_matrix, weights_file
from qa.search import cap_per_document
from qa.text import analyze

NAMES = list(FEATURES)  # the columns of each harvested `x`: every registered feature


def harvest(pipeline: Pipeline, questions: list) -> list[dict]:
    """Per question with evidence: candidate rows, features, and which quotes each row holds."""
    from tqdm import tqdm

    retriever, index = pipeline.retriever, pipeline.index
    out = []
    for q in tqdm(questions, desc="candidates", unit="q", file=sys.stderr):
        if not q.evidence:
            continue
        query = clean_question(q.question, pipeline.settings.max_question_chars)
        vector = pipeline.embedder.embed_query(query)
        stage = retriever.first_stage(query, vector, None)
        context = retriever.candidates(query, vector, stage, None)
        quotes = [squash(e.quote) for e in q.evidence]
        holds = np.array([[quote in squash(c.text) for quote in quotes] for c in context.chunks], dtype=bool)
        base = cap_per_document(stage.ordered, index.doc_rows, pipeline.settings.per_doc)
        out.append({"rows": context.rows, "x": feature_matrix(context, NAMES),
                    "holds": holds.reshape(len(context), len(quotes)),
                    "docs": index.doc_rows[context.rows], "base": base, "doc_rows": index.doc_rows})
    return out


def scores_at(item: dict, order: list[int], per_doc: int, k: int) -> tuple[int | None, float]:
    """First relevant rank (1-based) and evidence recall in the top k of `order`."""
    top = cap_per_document(order, item["doc_rows"], per_doc)[:k]
    at = {r: i for i, r in enumerate(item["rows"])}
    holds = np.array([item["holds"][at[r]] if r in at else np.zeros(item["holds"].shape[1], bool) for r in top])
    if not len(holds):
        return None, 0.0
    relevant = np.flatnonzero(holds.any(axis=1))
    return (int(relevant[0]) + 1 if len(relevant) else None), float(holds.any(axis=0).mean())


def summary(results: list[tuple[int | None, float]], k: int) -> str:
    n = len(results) or 1
    first = [r for r, _ in results]
    hits = {c: sum(1 for f in first if f is not None and f <= c) / n for c in (1, 4, k)}
    mrr = sum(1 / f for f in first if f is not None) / n
    recall = sum(r for _, r in results) / n
    return (f"Hits@1 {hits[1]:.3f}  Hits@4 {hits[4]:.3f}  Hits@{k} {hits[k]:.3f}  MRR@{k} {mrr:.3f}  "
            f"Recall@{k} {recall:.3f}")


def held_out_scores(items: list[dict], folds: int, seed: int = 0, hidden: int = HIDDEN,
                    steps: int = STEPS) -> list[np.ndarray]:
    """Each question's candidates scored by a model fitted on the folds the question is not in."""
    fold = np.random.default_rng(seed).integers(0, folds, len(items))
    held: list[np.ndarray] = [np.zeros(0)] * len(items)
    for f in range(folds):
        model = fit(*stack([it for it, g in zip(items, fold) if g != f]), hidden=hidden, steps=steps)
        for i, it in enumerate(items):
            if fold[i] == f:
                held[i] = model.score(it["x"])
    return held


def ranked(item: dict, scores: np.ndarray) -> list[int]:
    """The item's candidate rows, best score first."""
    return [item["rows"][j] for j in np.argsort(-scores, kind="stable")]


def stack(items: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.concatenate([it["x"] for it in items])
    y = np.concatenate([it["holds"].any(axis=1) for it in items]).astype(np.float64)
    groups = np.concatenate([np.full(len(it["rows"]), i) for i, it in enumerate(items)])
    return x, y, groups


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None, help="default: the shipped file for the index's runtime")
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--draws", type=int, default=1, help="fold splits to average the held-out figures over")
    ap.add_argument("--drop", action="append", default=[], choices=NAMES, metavar="FEATURE",
                    help="fit without this feature (repeatable)")
    ap.add_argument("--hidden", type=int, default=HIDDEN, help="hidden units (default: %(default)s)")
    ap.add_argument("--steps", type=int, default=STEPS, help="Adam steps (default: %(default)s)")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args(argv)
    if args.folds < 2:
        ap.error("--folds must be at least 2: the held-out figures are what tells a good model")
    if args.draws < 1:
        ap.error("--draws must be at least 1")
    settings = load_settings({"index": args.index})
    pipeline = Pipeline.open(settings)
    start = time.perf_counter()
    questions = load_questions(args.questions)
    items = harvest(pipeline, questions)
    if len(items) < args.folds:
        ap.error(f"{args.questions} has {len(items)} questions with evidence; need at least {args.folds}")
    for name in args.drop:
        for it in items:
            it["x"][:, NAMES.index(name)] = 0.0
    first = summary([scores_at(it, it["base"], settings.per_doc, args.k) for it in items], args.k)
    print(f"{len(items)} questions, {args.folds}-fold, per_doc {settings.per_doc}"
          + (f", without {', '.join(args.drop)}" if args.drop else ""))
    print(f"first stage          {first}")
    draws = [[scores_at(it, ranked(it, s), settings.per_doc, args.k)
              for it, s in zip(items, held_out_scores(items, args.folds, seed, args.hidden, args.steps))]
             for seed in range(args.draws)]
    for seed, held in enumerate(draws):
        print(f"reranked (held out)  {summary(held, args.k)}" + (f"  [split {seed}]" if args.draws > 1 else ""))
    reranked = summary([r for held in draws for r in held], args.k)  # every split's questions: their mean
    if args.draws > 1:
        print(f"mean of {args.draws} splits  {reranked}")
    model = fit(*stack(items), hidden=args.hidden, steps=args.steps, model=pipeline.embedder.model_id,
                runtime=pipeline.embedder.runtime)
    args.out = args.out or weights_file(pipeline.embedder.runtime)
    min_terms = min(len(set(analyze(q.question))) for q in questions if q.evidence)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(model.to_json(
        questions=str(args.questions), count=len(items), fitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        hidden=args.hidden, steps=args.steps, folds=args.folds, draws=args.draws, dropped=args.drop,
        first_stage=first, held_out=reranked,
        min_terms=min_terms,
    ) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
