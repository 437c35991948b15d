"""Scores per group of questions, the Markdown tables, the outcome file, and run-to-run flips."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from qa.eval.metrics import abstention_scores, hit_at, mean, percentile, recall_at, reciprocal_rank, share
from qa.eval.outcomes import Outcome, Retrieved
from qa.eval.targets import Target

FORMAT = "archive-qa-eval/1"
CUTOFFS = (1, 4, 10)
MRR_AT = 10


def cutoffs(k: int) -> list[int]:
    """The Hits@ cutoffs a top-k list can answer: `cutoffs(10)` -> `[1, 4, 10]`; `cutoffs(5)` -> `[1, 4, 5]`."""
    return sorted({c for c in CUTOFFS if c <= k} | {k})


@dataclass(frozen=True)
class Scores:
    """The metrics of one group of outcomes; None where a metric has nothing to be computed on."""

    group: str
    questions: int
    with_evidence: int
    hits: dict[int, float | None]
    mrr: float | None
    recall: float | None
    retrieval_p50: float | None
    retrieval_p95: float | None
    answered: int = 0
    answerable: int = 0
    accuracy: float | None = None
    unanswerable: int = 0
    abstention_precision: float | None = None
    abstention_recall: float | None = None
    false_abstention: float | None = None  # share of answerable questions the assistant refused
    citation_precision: float | None = None
    markers_valid: float | None = None
    answer_p50: float | None = None
    answer_p95: float | None = None
    correct: int = 0  # answerable questions answered correctly: accuracy = correct / answerable
    abstained_answerable: int = 0
    abstained_unanswerable: int = 0


def score(group: str, outcomes: Sequence[Outcome], k: int) -> Scores:
    """Retrieval metrics over the questions with evidence; answer metrics over the answered ones."""
    ranked = [o.evidence_ranks for o in outcomes if o.evidence_ranks]
    times = [o.retrieval_ms for o in outcomes]
    answered = [o for o in outcomes if o.answer is not None]
    base = Scores(
        group=group, questions=len(outcomes), with_evidence=len(ranked),
        hits={c: mean([hit_at(r, c) for r in ranked]) for c in cutoffs(k)},
        mrr=mean([reciprocal_rank(r, min(MRR_AT, k)) for r in ranked]),
        recall=mean([recall_at(r, k) for r in ranked]),
        retrieval_p50=percentile(times, 50), retrieval_p95=percentile(times, 95),
    )
    if not answered:
        return base
    unanswerable = [not o.answerable for o in answered]
    abstained = [bool(o.abstained) for o in answered]
    precision, recall = abstention_scores(unanswerable, abstained) if any(unanswerable) else (None, None)
    answer_times = [o.answer_ms for o in answered if o.answer_ms is not None]
    return replace(
        base,
        answered=len(answered),
        answerable=sum(o.answerable for o in answered),
        correct=sum(bool(o.correct) for o in answered if o.answerable),
        abstained_answerable=sum(bool(o.abstained) for o in answered if o.answerable),
        abstained_unanswerable=sum(bool(o.abstained) for o in answered if not o.answerable),
        accuracy=mean([o.correct for o in answered if o.answerable]),
        unanswerable=sum(unanswerable),
        abstention_precision=precision,
        abstention_recall=recall,
        false_abstention=mean([o.abstained for o in answered if o.answerable]),
        citation_precision=share([o.cited_support for o in answered if o.answerable]),
        markers_valid=mean([o.markers_valid for o in answered]),
        answer_p50=percentile(answer_times, 50), answer_p95=percentile(answer_times, 95),
    )


def summarise(outcomes: Sequence[Outcome], k: int) -> list[Scores]:
    """`all`, then one group per type (in order of first appearance), then per kind when any is set."""
    groups: dict[str, list[Outcome]] = {"all": list(outcomes)}
    for o in outcomes:
        groups.setdefault(f"type: {o.type}", []).append(o)
    for o in outcomes:
        if o.kind:
            groups.setdefault(f"kind: {o.kind}", []).append(o)
    return [score(name, members, k) for name, members in groups.items()]


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ms(p50: float | None, p95: float | None) -> str:
    return "—" if p50 is None else f"{p50:.0f} / {p95:.0f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """`markdown_table(['a', 'b'], [['1', '2']])` -> `'| a | b |\\n|---|---|\\n| 1 | 2 |'`"""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def target_value(target: Target, s: Scores, k: int) -> float | None:
    """The figure of `s` a target is about; None when this run has no such figure (e.g. Hits@10 at top 5)."""
    if target.metric.startswith("hits@"):
        return s.hits.get(int(target.metric.split("@")[1]))
    if target.metric in ("mrr", "recall") and k != 10:  # the targets are at 10
        return None
    value = getattr(s, target.metric)
    return None if value is None else float(value)


def shortfalls(s: Scores, k: int, targets: Sequence[Target]) -> dict[str, Target]:
    """The metrics of `s` that fall short of their target: metric name -> target."""
    found = {}
    for t in targets:
        value = target_value(t, s, k)
        if value is not None and not t.met(value):
            found[t.metric] = t
    return found


def summary_lines(s: Scores, k: int, targets: Sequence[Target] = ()) -> list[str]:
    """Three lines, each with its n: retrieval, answers, abstention; a figure short of its target is marked."""
    short = shortfalls(s, k, targets)

    def fig(metric: str, value: float | None, digits: int = 3, unit: str = "") -> str:
        text = _num(value, digits) + unit
        return f"{text} [✗ target {short[metric].describe()}]" if metric in short else text

    top, mrr_at = max(cutoffs(k)), min(MRR_AT, k)
    if s.with_evidence:
        retrieval = (f"Retrieval, {s.with_evidence} questions with evidence: "
                     f"Hits@{top} {fig(f'hits@{top}', s.hits[top])}, "
                     f"MRR@{mrr_at} {fig('mrr', s.mrr)}, Recall@{k} {fig('recall', s.recall)}; "
                     f"p50 {fig('retrieval_p50', s.retrieval_p50, 0, ' ms')}.")
    else:
        retrieval = "Retrieval: no question in this set has evidence to score."
    lines = [retrieval]
    if not s.answered:
        return [*lines, "Answers: not run (--no-answers).", "Abstention: not run."]
    if s.answerable:
        lines.append(f"Answers, {s.answerable} answerable questions: {s.correct} correct, accuracy "
                     f"{fig('accuracy', s.accuracy)}; citation precision "
                     f"{fig('citation_precision', s.citation_precision)}; {s.abstained_answerable} wrongly "
                     f"abstained (false abstention {fig('false_abstention', s.false_abstention)}).")
    else:
        lines.append("Answers: no answerable question in this set.")
    if s.unanswerable:
        answered = s.unanswerable - s.abstained_unanswerable
        flag = f" ⚠ {answered} of {s.unanswerable} unanswerable questions were answered." if answered else ""
        lines.append(f"Abstention, {s.unanswerable} unanswerable questions: {s.abstained_unanswerable} abstained "
                     f"(recall {fig('abstention_recall', s.abstention_recall)}, precision "
                     f"{_num(s.abstention_precision)}).{flag}")
    else:
        lines.append("Abstention: no unanswerable question in this set.")
    return lines


def render_markdown(scores: Sequence[Scores], k: int, title: str = "", targets: Sequence[Target] = ()) -> str:
    """A three-line summary of the `all` group, then the retrieval table and, when answers were run, the
    answers table; groups with nothing to score are left out, and figures of `all` short of `targets`
    are marked ✗."""
    hit_cols = cutoffs(k)
    mrr_at = min(MRR_AT, k)
    overall = scores[0]
    short = shortfalls(overall, k, targets)

    def cell(s: Scores, metric: str, value: float | None) -> str:
        return _num(value) + (" ✗" if s is overall and metric in short else "")

    def ms(s: Scores, p50: float | None, p95: float | None) -> str:
        return _ms(p50, p95) + (" ✗" if s is overall and "retrieval_p50" in short else "")

    retrieval = markdown_table(
        ["group", "questions", *(f"Hits@{c}" for c in hit_cols), f"MRR@{mrr_at}", f"Recall@{k}",
         "retrieval ms p50 / p95"],
        [[s.group, str(s.with_evidence), *(cell(s, f"hits@{c}", s.hits.get(c)) for c in hit_cols),
          cell(s, "mrr", s.mrr), cell(s, "recall", s.recall), ms(s, s.retrieval_p50, s.retrieval_p95)]
         for s in scores if s.with_evidence],
    )
    parts = [title, *(f"- {line}" for line in summary_lines(overall, k, targets)), ""]
    if short:
        parts += ["✗: short of its target (`qa/eval/targets.py`, shown in docs/benchmarks.md).", ""]
    parts += ["Retrieval (questions with evidence; a hit is a passage holding an evidence quote):", "", retrieval]
    if any(s.answered for s in scores):
        answers = markdown_table(
            ["group", "answerable", "accuracy", "false abstention", "citation precision", "unanswerable",
             "abstained", "abstention P", "abstention R", "markers valid", "answer ms p50 / p95"],
            [[s.group, str(s.answerable), cell(s, "accuracy", s.accuracy),
              cell(s, "false_abstention", s.false_abstention), cell(s, "citation_precision", s.citation_precision),
              str(s.unanswerable), str(s.abstained_unanswerable) if s.unanswerable else "—",
              _num(s.abstention_precision), cell(s, "abstention_recall", s.abstention_recall),
              _num(s.markers_valid), _ms(s.answer_p50, s.answer_p95)] for s in scores if s.answered],
        )
        parts += ["", "Answers (accuracy = correct / answerable; false abstention and citation precision over "
                  "the answerable; abstained and abstention P/R over the unanswerable):", "", answers]
    return "\n".join(p for p in parts if p is not None).strip() + "\n"


def run_record(info: dict[str, Any], scores: Sequence[Scores], outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The JSON document of a run: a format line, how it ran, its scores and every outcome."""
    return {"format": FORMAT, "run": info, "scores": [asdict(s) for s in scores],
            "outcomes": [asdict(o) for o in outcomes]}


def save_run(record: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def outcome_from_record(record: dict[str, Any]) -> Outcome:
    fields = {**record, "retrieved": tuple(Retrieved(**r) for r in record["retrieved"])}
    for name in ("evidence_ranks", "cited", "cited_support"):
        fields[name] = tuple(record[name])
    return Outcome(**fields)


def load_run(path: Path) -> tuple[dict[str, Any], list[Outcome]]:
    """A saved run's info and outcomes; QAError when the file is not one."""
    from qa.errors import QAError
    from qa.eval.questions import load_json

    record = load_json(path, f"No evaluation run at {path}; write one with eval/run.py --json {path}.",
                       f"Cannot read evaluation run {path}")
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise QAError(f"{path} is not an evaluation run of format {FORMAT}; run eval/run.py again to rewrite it.")
    try:
        return record["run"], [outcome_from_record(o) for o in record["outcomes"]]
    except (KeyError, TypeError) as exc:
        raise QAError(f"{path}: damaged outcome record ({exc}); run eval/run.py again.") from None


@dataclass(frozen=True)
class Flip:
    id: str
    question: str
    metric: str
    before: bool
    after: bool


def flips(before: Sequence[Outcome], after: Sequence[Outcome], k: int = MRR_AT) -> list[Flip]:
    """Questions (matched by id) whose hit@k, correctness or abstention changed from one run to the other.

    A metric missing from either run (None: unanswerable, or answers not run) is not compared.
    """
    metrics: dict[str, Callable[[Outcome], bool | None]] = {
        f"hit@{k}": lambda o: hit_at(o.evidence_ranks, k) if o.evidence_ranks else None,
        "answer correct": lambda o: o.correct,
        "abstained": lambda o: o.abstained,
    }
    old = {o.id: o for o in before}
    found = []
    for metric, value in metrics.items():
        for new in after:
            if new.id in old:
                a, b = value(old[new.id]), value(new)
                if a is not None and b is not None and a != b:
                    found.append(Flip(new.id, new.question, metric, a, b))
    return found


def render_flips(found: Sequence[Flip], only_before: Sequence[str] = (), only_after: Sequence[str] = ()) -> str:
    """Per metric, the questions that went from true to false and from false to true."""
    lines = []
    for metric in dict.fromkeys(f.metric for f in found):
        for a, b in ((True, False), (False, True)):
            group = [f for f in found if f.metric == metric and (f.before, f.after) == (a, b)]
            if group:
                lines.append(f"## {metric}: {str(a).lower()} → {str(b).lower()} ({len(group)})")
                lines += [f"- {f.id}: {f.question}" for f in group] + [""]
    for label, ids in (("only in A", only_before), ("only in B", only_after)):
        if ids:
            lines.append(f"## {label} ({len(ids)}): " + ", ".join(ids))
    return "\n".join(lines).strip() + "\n" if lines else "No question flipped.\n"
