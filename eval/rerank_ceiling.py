"""Where evidence recall is lost after reranking, and how far each part could go.

    python eval/rerank_ceiling.py eval/runs/multihop_dev.jsonl --index DIR [--folds 2] [--sentence-sample 80]

On the reranker's own candidates (`eval/train_rerank.py`'s harvest) and its held-out scores, prints:
- the share of evidence quotes any candidate holds (the most any reordering can reach);
- evidence recall@10 for 1, 2, 3, 4 and unlimited passages per document;
- the same with an oracle choosing the documents (evidence documents first, the model's order within)
  and with an oracle choosing the passage within each evidence document (the model's order of documents);
- per signal, how often the passage holding a quote outscores the other passages of its own document
  (a within-document AUC), for the model and for each feature;
- with `--sentence-sample N`, the same AUC for MiniLM vectors of single sentences embedded on their
  own (on the fly for N questions; slow), beside the index's pooled sentence vectors (`sentence_dense`)
  and the passage's vector on the same questions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from train_rerank import harvest, held_out_scores  # eval/ is on the path when run as a script

from qa.config import load_settings
from qa.eval.questions import load_questions
from qa.pipeline import Pipeline, clean_question
from qa.rerank import FEATURES
from qa.search import cap_per_document
from qa.text import split_sentences

NAMES = list(FEATURES)  # the columns of each harvested `x`


def recall(items: list[dict], scores: list[np.ndarray], cap: int, k: int = 10) -> float:
    total = 0.0
    for it, s in zip(items, scores):
        order = [it["rows"][j] for j in np.argsort(-s, kind="stable")]
        at = {r: j for j, r in enumerate(it["rows"])}
        top = [at[r] for r in cap_per_document(order, it["doc_rows"], cap)[:k]]
        total += float(it["holds"][top].any(axis=0).mean())
    return total / len(items)


def oracle(it: dict, s: np.ndarray, which: str) -> np.ndarray:
    relevant = it["holds"].any(axis=1)
    s = s.copy()
    if which == "documents":  # evidence documents first, the model's order within them
        return s + 10.0 * np.isin(it["docs"], it["docs"][relevant])
    for doc in set(it["docs"][relevant].tolist()):  # the evidence passage takes its document's best score
        mask = it["docs"] == doc
        s[mask & relevant] = s[mask].max() + 1e-3
    return s


def within_document_auc(items: list[dict], columns: list[np.ndarray]) -> float:
    """Mean, over quotes, of the share of same-document passages without evidence that the passage
    holding the quote outscores."""
    shares = []
    for it, col in zip(items, columns):
        for q in range(it["holds"].shape[1]):
            holding = np.flatnonzero(it["holds"][:, q])
            if not len(holding):
                continue
            j = holding[0]
            others = [o for o in np.flatnonzero(it["docs"] == it["docs"][j]) if not it["holds"][o].any()]
            if others:
                shares.append(float(np.mean(col[j] > col[others])))
    return float(np.mean(shares)) if shares else float("nan")


def sentence_columns(pipeline: Pipeline, items: list[dict], questions: list, sample: int) -> tuple[list, list]:
    """For `sample` questions: per candidate, the best cosine of one of its sentences to the question."""
    chosen = np.random.default_rng(0).choice(len(items), size=min(sample, len(items)), replace=False)
    emb = pipeline.embedder
    picked, cols = [], []
    for i in chosen:
        it, q = items[i], questions[i]
        query = emb.embed_query(clean_question(q.question, pipeline.settings.max_question_chars))
        col = np.zeros(len(it["rows"]))
        wanted = {int(it["docs"][j]) for j in np.flatnonzero(it["holds"].any(axis=1))}
        for j, chunk in enumerate(pipeline.index.chunks(it["rows"])):
            if int(it["docs"][j]) in wanted:
                sentences = [chunk.text[a:b] for a, b in split_sentences(chunk.text)] or [chunk.text]
                col[j] = float((emb.embed_documents(sentences) @ query).max())
        picked.append(it)
        cols.append(col)
    return picked, cols


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--sentence-sample", type=int, default=0)
    args = ap.parse_args(argv)
    pipeline = Pipeline.open(load_settings({"index": args.index}))
    questions = [q for q in load_questions(args.questions) if q.evidence]
    items = harvest(pipeline, questions)
    held = held_out_scores(items, args.folds)
    quotes = sum(it["holds"].shape[1] for it in items)
    print(f"{len(items)} questions, {quotes} evidence quotes, {args.folds}-fold held-out scores")
    print(f"quotes held by some candidate: {sum(it['holds'].any(axis=0).sum() for it in items) / quotes:.3f}")
    print("passages per document   1      2      3      4      unlimited")
    for name, scores in (("model", held),
                         ("oracle documents", [oracle(it, s, "documents") for it, s in zip(items, held)]),
                         ("oracle passage in doc", [oracle(it, s, "passage") for it, s in zip(items, held)])):
        row = "  ".join(f"{recall(items, scores, cap):.3f}" for cap in (1, 2, 3, 4, 1000))
        print(f"{name:<22}  {row}")
    print("within-document AUC of the passage holding a quote:")
    print(f"  reranker (held out)  {within_document_auc(items, held):.3f}")
    for name in ("lexical", "sentence", "part", "phrase", "dense", "sentence_dense"):
        print(f"  {name:<20} {within_document_auc(items, [it['x'][:, NAMES.index(name)] for it in items]):.3f}")
    if args.sentence_sample:
        picked, cols = sentence_columns(pipeline, items, questions, args.sentence_sample)
        dense = [it["x"][:, NAMES.index("dense")] for it in picked]
        pooled = [it["x"][:, NAMES.index("sentence_dense")] for it in picked]
        print(f"  on {len(picked)} questions: sentences embedded alone {within_document_auc(picked, cols):.3f}, "
              f"pooled sentence vectors {within_document_auc(picked, pooled):.3f}, "
              f"passage cosine {within_document_auc(picked, dense):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
