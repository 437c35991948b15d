"""Fit the extractive answerer's sentence picker and abstention check; report k-fold held-out figures.

    python eval/fit_answerer.py eval/runs/multihop_dev.jsonl --index DIR [--folds 5] [--write]

Harvests, for each question, the passages the pipeline retrieves (as `qa ask` does) and every
candidate sentence's features (`qa.answer.picker`). A sentence is a positive when it holds one of the
question's evidence quotes (MultiHop-RAG's facts are sentences). Then, fold by fold:

1. the picker (logistic regression) is fitted on the other folds' sentences;
2. the abstention check is fitted on the other folds' questions, with picker logits that are
   themselves held out (an inner split), labelled by "the set says the archive cannot answer";
   its threshold is the one that keeps false abstentions at most `--max-false` on those folds;
3. the held-out fold is answered with both, and scored: the gold answer in the answer (for gold
   answers that are not yes/no), evidence in the quoted sentences, abstention recall and false
   abstentions.

`--write` refits on every question and writes `qa/data/answer.json`. Nothing here is read at query time
but that file.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answer import ExtractiveAnswerer  # noqa: E402
from qa.answer.picker import (  # noqa: E402
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    SPAN_FEATURES,  # noqa: E402
    AnswerModel,
    Logistic,
    question_features,
)
from qa.answer.span import asks_name, span_candidates  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.eval.metrics import answer_correct, normalise, squash  # noqa: E402
from qa.eval.questions import Question, load_questions  # noqa: E402
from qa.search import Filters  # noqa: E402

YES_NO = {"yes", "no"}


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50,
                 weight: np.ndarray | None = None) -> Logistic:
    """L2-regularised logistic regression by Newton's method on standardised inputs; `weight` per row."""
    weight = np.ones(len(x)) if weight is None else weight
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2 * len(x))
    reg[-1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (weight * (p - y)) + reg * w
        hess = (z * (weight * p * (1 - p))[:, None]).T @ z + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Logistic(w[:-1], float(w[-1]), mean, scale)


def labels(question: Question, texts: list[str]) -> np.ndarray:
    quotes = [squash(q) for q in question.quotes]
    out = []
    for t in texts:
        s = squash(t)
        out.append(any(q and (q in s or (len(s) >= 20 and s in q)) for q in quotes))
    return np.array(out, dtype=np.float64)


def harvest(path: Path, index: Path, limit: int | None,
            weight: float = 1.0) -> tuple[list[dict], ExtractiveAnswerer]:
    from qa.pipeline import Pipeline

    pipeline = Pipeline.open(load_settings({"index": index}))
    answerer = pipeline.answerer
    assert isinstance(answerer, ExtractiveAnswerer)
    rows = []
    questions = load_questions(path)[:limit]
    start = time.perf_counter()
    for n, q in enumerate(questions, 1):
        window = Filters(date_from=q.date_from, date_to=q.date_to)
        hits = pipeline.search(q.question, filters=window)
        intent, sentences, x = answerer.features(q.question, hits)
        rows.append({"q": q, "hits": hits, "intent": intent, "sentences": sentences, "x": x,
                     "y": labels(q, [s.text for s in sentences]), "set": path.name, "weight": weight,
                     "idf": pipeline.index.lexical.idf})
        if n % 100 == 0:
            print(f"  harvested {n}/{len(questions)} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return rows, answerer


def picker_of(rows: list[dict]) -> Logistic:
    x = np.vstack([r["x"] for r in rows if len(r["x"]) and r["q"].answerable])
    y = np.concatenate([r["y"] for r in rows if len(r["x"]) and r["q"].answerable])
    return fit_logistic(x, y)


def question_rows(rows: list[dict], picker: Logistic, answerer: ExtractiveAnswerer) -> tuple[np.ndarray, np.ndarray]:
    qx, qy = [], []
    for r in rows:
        logits = picker.logit(r["x"])
        qx.append(question_features(r["q"].question, r["intent"], r["hits"], r["sentences"], r["x"], logits,
                                    r.get("idf", answerer.idf), answerer.passages))
        qy.append(0.0 if r["q"].answerable else 1.0)
    return np.vstack(qx), np.array(qy)


def weighted_quantile(values: np.ndarray, weight: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weight[order]) / weight.sum()
    return float(values[order][min(len(values) - 1, int(np.searchsorted(cum, q)))])


def span_rows(row: dict, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Name-phrase features of one name question and whether each phrase is its gold answer."""
    q = row["q"]
    if not q.answerable or not asks_name(q.question) or not len(row["x"]):
        return np.zeros((0, len(SPAN_FEATURES))), np.zeros(0)
    spans, x = span_candidates(q.question, row["hits"], row["sentences"], logits)
    gold = [normalise(a) for a in q.answers if a.strip().lower() not in YES_NO]
    y = np.array([any(g and (g == normalise(s.text) or f" {g} " in f" {normalise(s.text)} ") for g in gold)
                  for s in spans], dtype=np.float64)
    return x, y


def fit_model(rows: list[dict], answerer: ExtractiveAnswerer, max_false: float, second: float,
              rng: np.random.Generator, min_precision: float = 0.7) -> AnswerModel:
    """Picker on all `rows`; abstention and name-phrase models on inner held-out picker logits;
    the abstention threshold keeps false abstentions at `max_false`, the phrase threshold keeps
    the lead name right at least `min_precision` of the time."""
    half = rng.permutation(len(rows)) % 2
    qx = np.zeros((len(rows), len(QUESTION_FEATURES)))
    qy = np.zeros(len(rows))
    sx, sy, sq = [], [], []
    for part in (0, 1):
        inner = picker_of([r for r, h in zip(rows, half) if h != part])
        idx = [i for i, h in enumerate(half) if h == part]
        x, y = question_rows([rows[i] for i in idx], inner, answerer)
        qx[idx], qy[idx] = x, y
        for i in idx:
            x2, y2 = span_rows(rows[i], inner.logit(rows[i]["x"]))
            if len(x2):
                sx.append(x2), sy.append(y2), sq.append(np.full(len(y2), i))
    weight = np.array([r.get("weight", 1.0) for r in rows])
    abstain = fit_logistic(qx, qy, weight=weight)
    answerable = abstain.logit(qx[qy == 0])
    threshold = weighted_quantile(answerable, weight[qy == 0], 1.0 - max_false) if len(answerable) else 0.0
    span, span_threshold = None, float("inf")
    if sx:
        x_all, y_all, q_all = np.vstack(sx), np.concatenate(sy), np.concatenate(sq)
        span = fit_logistic(x_all, y_all)
        logits = span.logit(x_all)
        top = [(logits[q_all == i].max(), y_all[q_all == i][np.argmax(logits[q_all == i])]) for i in set(q_all)]
        top.sort(key=lambda t: -t[0])
        right = np.cumsum([t[1] for t in top]) / np.arange(1, len(top) + 1)
        ok = [k for k in range(len(top)) if right[k] >= min_precision]
        span_threshold = float(top[max(ok)][0]) - 1e-9 if ok else float("inf")
    return AnswerModel(picker_of(rows), abstain, threshold, second, span=span, span_threshold=span_threshold)


def score(rows: list[dict], model: AnswerModel, answerer: ExtractiveAnswerer, sentences: int = 2) -> dict[str, float]:
    held = replace_model(answerer, model, sentences)
    gold, evidence, abstained, false, leads = [], [], [], [], []
    for r in rows:
        q = r["q"]
        held.idf = r.get("idf", answerer.idf)
        answer = held.answer(q.question, r["hits"])
        if not q.answerable:
            abstained.append(answer.abstained)
            continue
        false.append(answer.abstained)
        used = " ".join(r["hits"][c.n - 1].chunk.text[a:b] for c in answer.citations for a, b in c.used_sentences)
        evidence.append(float(labels(q, [used]).max()) if used else 0.0)
        if q.answers and q.answers[0].strip().lower() not in YES_NO:
            gold.append(bool(answer_correct(q.answers, answer.text)) and not answer.abstained)
            first = answer.text.split("\n", 1)[0]
            if not answer.abstained and first.endswith("].") and len(first) < 80:
                leads.append(bool(answer_correct(q.answers, first)))
    mean = lambda v: float(np.mean(v)) if v else float("nan")  # noqa: E731
    return {"gold_in_answer": mean(gold), "n_gold": len(gold), "evidence_quoted": mean(evidence),
            "abstention_recall": mean(abstained), "n_null": len(abstained), "false_abstention": mean(false),
            "n_answerable": len(false), "lead_precision": mean(leads), "n_lead": len(leads)}


def replace_model(answerer: ExtractiveAnswerer, model: AnswerModel, sentences: int) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(answerer.embedder, sentences, answerer.passages, model, answerer.idf)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--max-false", type=float, default=0.01, help="false abstentions allowed on the training folds")
    ap.add_argument("--second", type=float, nargs="+", default=[0.5, 1.0, 2.0],
                    help="logit margins within which a second sentence is quoted; each is scored held out")
    ap.add_argument("--min-precision", type=float, default=0.7,
                    help="lead with a name only where the training folds' leads were right this often")
    ap.add_argument("--sentences", type=int, default=2, help="most sentences quoted")
    ap.add_argument("--also", nargs=2, action="append", default=[], metavar=("QUESTIONS", "INDEX"),
                    help="another question set on its own index, fitted with the first (archive sets you write)")
    ap.add_argument("--also-weight", type=float, default=5.0, help="weight of each --also question in the fits")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--cache", type=Path,
                    help="keep the harvest here and reuse it (a pickle; delete it after a change)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", action="store_true", help="refit on everything and write qa/data/answer.json")
    args = ap.parse_args(argv)
    if args.cache and args.cache.exists():
        import pickle

        from qa.pipeline import Pipeline

        rows = pickle.loads(args.cache.read_bytes())
        answerer = Pipeline.open(load_settings({"index": args.index})).answerer  # type: ignore[assignment]
    else:
        rows, answerer = harvest(args.questions, args.index, args.limit)
        if args.cache:
            import pickle

            args.cache.write_bytes(pickle.dumps([{k: v for k, v in r.items() if k != "idf"} for r in rows]))
    if rows and rows[0]["x"].shape[1:] != (len(SENTENCE_FEATURES),):  # a harvest from before a feature change
        print("  recomputing sentence features of the cached harvest", file=sys.stderr)
        for r in rows:
            r["intent"], r["sentences"], r["x"] = answerer.features(r["q"].question, r["hits"])
            r["y"] = labels(r["q"], [s.text for s in r["sentences"]])
    for questions, index in args.also:
        more, _ = harvest(Path(questions), Path(index), None, args.also_weight)
        rows += more
    rng = np.random.default_rng(args.seed)
    fold = rng.permutation(len(rows)) % args.folds
    print(f"{len(rows)} questions, {sum(len(r['x']) for r in rows)} candidate sentences, "
          f"{int(sum(r['y'].sum() for r in rows))} holding evidence; {args.folds}-fold held out")
    print("| second-sentence margin | gold answer in answer (non yes/no) | evidence quoted | null abstention "
          "| false abstention | short answer right |")
    print("|---|---|---|---|---|---|")
    best = None
    for second in args.second:
        parts, models = [], []
        for k in range(args.folds):
            train = [r for r, f in zip(rows, fold) if f != k]
            test = [r for r, f in zip(rows, fold) if f == k]
            model = fit_model(train, answerer, args.max_false, second, rng, args.min_precision)
            models.append(model)
            parts.append((score(test, model, answerer, args.sentences), len(test)))
        total = {key: sum(p[key] * p[n_key] for p, _ in parts if p[n_key]) / max(1, sum(p[n_key] for p, _ in parts))
                 for key, n_key in (("gold_in_answer", "n_gold"), ("evidence_quoted", "n_answerable"),
                                    ("lead_precision", "n_lead"),
                                    ("abstention_recall", "n_null"), ("false_abstention", "n_answerable"))}
        n = {key: sum(p[key] for p, _ in parts) for key in ("n_gold", "n_null", "n_answerable", "n_lead")}
        by_set = {}
        for name in sorted({r.get("set", args.questions.name) for r in rows}):
            members = [i for i, r in enumerate(rows) if r.get("set", args.questions.name) == name]
            by_set[name] = members
        for name, members in by_set.items():
            if len(by_set) > 1:
                held = [score([rows[i]], models[fold[i]], answerer, args.sentences) for i in members]
                recall = [h["abstention_recall"] for h in held if h["n_null"]]
                false = [h["false_abstention"] for h in held if h["n_answerable"]]
                print(f"|   {name} | abstained on {sum(recall):.0f} of {len(recall)} unanswerable, "
                      f"{sum(false):.0f} of {len(false)} answerable |||||")
        print(f"| {second} | {total['gold_in_answer']:.3f} (n={n['n_gold']}) | {total['evidence_quoted']:.3f} "
              f"(n={n['n_answerable']}) | {total['abstention_recall']:.3f} (n={n['n_null']}) "
              f"| {total['false_abstention']:.3f} | {total['lead_precision']:.3f} (n={n['n_lead']}) |")
        if best is None or total["gold_in_answer"] > best[1]:
            best = (second, total["gold_in_answer"])
    if args.write and best is not None:
        model = fit_model(rows, answerer, args.max_false, best[0], rng, args.min_precision)
        model = replace(model, source=f"eval/fit_answerer.py {args.questions.name} ({len(rows)} questions, "
                                       f"--max-false {args.max_false}, second {best[0]})")
        out = ROOT / "qa" / "data" / "answer.json"
        model.save(out)
        print(f"wrote {out.relative_to(ROOT)} (second-sentence margin {best[0]})")
        for name, w in zip(SENTENCE_FEATURES, model.picker.weights):
            print(f"  picker {name:16s} {w:+.3f}")
        for name, w in zip(QUESTION_FEATURES, model.abstain.weights):
            print(f"  abstain {name:16s} {w:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
