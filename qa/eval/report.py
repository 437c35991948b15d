"""Scores per group of questions, the Markdown tables, the outcome file, and run-to-run flips."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from qa.eval.metrics import abstention_scores, hit_at, mean, percentile, recall_at, reciprocal_rank, share
from qa.eval.outcomes import Outcome, Retrieved
from qa.eval.questions import NAMED_TYPES
from qa.eval.targets import Target

FORMAT = "archive-qa-eval/2"
OLD_FORMATS = ("archive-qa-eval/1",)  # read too: `correct` became `evidence_quoted`, the new measures absent
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
    evidence_quoted: float | None = None  # the lenient figure: a gold answer anywhere in the answer
    unanswerable: int = 0
    abstention_precision: float | None = None
    abstention_recall: float | None = None
    false_abstention: float | None = None  # share of answerable questions the assistant refused
    citation_precision: float | None = None
    markers_valid: float | None = None
    answer_p50: float | None = None
    answer_p95: float | None = None
    quoted: int = 0  # answerable questions whose answer quotes a gold answer: evidence_quoted = quoted / answerable
    abstained_answerable: int = 0
    abstained_unanswerable: int = 0
    first_right: int = 0  # questions whose first sentence is right (unanswerable: abstained)
    first_sentence_right: float | None = None  # first_right / answered
    first_right_answerable: int = 0
    direct_given: int = 0
    direct_right: int = 0
    direct_wrong: int = 0  # including every direct answer to an unanswerable question
    direct_wrong_rate: float | None = None  # direct_wrong / answerable
    named: int = 0  # answerable questions asking a name, a date or a number (answer_type in NAMED_TYPES)
    named_direct_right: int = 0
    named_right_rate: float | None = None  # named_direct_right / named; None without answer types
    answering_p50: float | None = None  # answer time on top of retrieval (Outcome.answering_ms)
    answering_p95: float | None = None


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
    answering = [o.answering_ms for o in answered if o.answering_ms is not None]
    answerable = [o for o in answered if o.answerable]
    named = [o for o in answerable if o.answer_type in NAMED_TYPES]
    direct = [o for o in answered if o.direct_right is not None]
    wrong = sum(not o.direct_right for o in direct)
    named_right = sum(bool(o.direct_right) for o in named)
    return replace(
        base,
        answered=len(answered),
        answerable=len(answerable),
        quoted=sum(bool(o.evidence_quoted) for o in answerable),
        abstained_answerable=sum(bool(o.abstained) for o in answerable),
        abstained_unanswerable=sum(bool(o.abstained) for o in answered if not o.answerable),
        evidence_quoted=mean([o.evidence_quoted for o in answerable]),
        unanswerable=sum(unanswerable),
        abstention_precision=precision,
        abstention_recall=recall,
        false_abstention=mean([o.abstained for o in answerable]),
        citation_precision=share([o.cited_support for o in answerable]),
        markers_valid=mean([o.markers_valid for o in answered]),
        answer_p50=percentile(answer_times, 50), answer_p95=percentile(answer_times, 95),
        first_right=sum(bool(o.first_right) for o in answered),
        first_sentence_right=mean([o.first_right for o in answered]),
        first_right_answerable=sum(bool(o.first_right) for o in answerable),
        direct_given=len(direct),
        direct_right=len(direct) - wrong,
        direct_wrong=wrong,
        direct_wrong_rate=wrong / len(answerable) if answerable else None,
        named=len(named),
        named_direct_right=named_right,
        named_right_rate=named_right / len(named) if named else None,
        answering_p50=percentile(answering, 50), answering_p95=percentile(answering, 95),
    )


def summarise(outcomes: Sequence[Outcome], k: int) -> list[Scores]:
    """`all`, then one group per type (in order of first appearance), then per answer type and per kind
    when any is set."""
    groups: dict[str, list[Outcome]] = {"all": list(outcomes)}
    for o in outcomes:
        groups.setdefault(f"type: {o.type}", []).append(o)
    for o in outcomes:
        if o.answer_type:
            groups.setdefault(f"answer type: {o.answer_type}", []).append(o)
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
    """Lines each with its n: retrieval, first sentence, direct answers, evidence quoted, abstention (three
    when answers were not run); a figure short of its target is marked."""
    # a latency is never marked: one run's milliseconds move with the machine's load (benchmarks compare ratios)
    short = {m: t for m, t in shortfalls(s, k, targets).items() if not m.endswith("_p50")}

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
    lines.append(f"First sentence, {s.answered} questions: {s.first_right} right "
                 f"({fig('first_sentence_right', s.first_sentence_right)}; {s.first_right_answerable} of "
                 f"{s.answerable} answerable hold a gold answer before the first [n], "
                 f"{s.abstained_unanswerable} of {s.unanswerable} unanswerable abstained).")
    named = (f"right / questions asking a name, date or number {s.named_direct_right} / {s.named} "
             f"{fig('named_right_rate', s.named_right_rate)}" if s.named
             else "no question in this set has a name, date or number answer_type")
    lines.append(f"Direct answers: {s.direct_given} given, {s.direct_right} right, {s.direct_wrong} wrong "
                 f"(wrong / answerable {fig('direct_wrong_rate', s.direct_wrong_rate)}); {named}.")
    if s.answerable:
        lines.append(f"Evidence quoted, {s.answerable} answerable questions: {s.quoted} "
                     f"({fig('evidence_quoted', s.evidence_quoted)}) quote a gold answer somewhere; citation "
                     f"precision {fig('citation_precision', s.citation_precision)}; {s.abstained_answerable} "
                     f"wrongly abstained (false abstention {fig('false_abstention', s.false_abstention)}); "
                     f"answering p50 on top of retrieval {fig('answering_p50', s.answering_p50, 0, ' ms')}.")
    else:
        lines.append("Evidence quoted: no answerable question in this set.")
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
    """A summary of the `all` group, then the retrieval table and, when answers were run, the answers
    table (as people read them) and the evidence and abstention table; groups with nothing to score are
    left out, and figures of `all` short of `targets` are marked ✗."""
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
        parts += ["", "Answers as people read them (first sentence right over all questions, an unanswerable "
                  "one right when abstained; direct wrong includes any direct answer to an unanswerable "
                  "question, and is shared over the answerable; right / named over the answerable questions "
                  "whose answer_type asks a name, date or number):", "", answers_table(scores, short)]
        evidence = markdown_table(
            ["group", "answerable", "evidence quoted", "false abstention", "citation precision", "unanswerable",
             "abstained", "abstention P", "abstention R", "markers valid", "answer ms p50 / p95"],
            [[s.group, str(s.answerable), cell(s, "evidence_quoted", s.evidence_quoted),
              cell(s, "false_abstention", s.false_abstention), cell(s, "citation_precision", s.citation_precision),
              str(s.unanswerable), str(s.abstained_unanswerable) if s.unanswerable else "—",
              _num(s.abstention_precision), cell(s, "abstention_recall", s.abstention_recall),
              _num(s.markers_valid), _ms(s.answer_p50, s.answer_p95)] for s in scores if s.answered],
        )
        parts += ["", "Evidence and abstention (evidence quoted = a gold answer anywhere in the answer, over the "
                  "answerable; false abstention and citation precision over the answerable; abstained and "
                  "abstention P/R over the unanswerable):", "", evidence]
    return "\n".join(p for p in parts if p is not None).strip() + "\n"


def _count(part: int, whole: int, rate: float | None, mark: str = "") -> str:
    return "—" if not whole else f"{part} / {whole} ({_num(rate)}){mark}"


ANSWER_HEADER = ("questions", "first sentence right", "direct given", "direct right", "direct wrong",
                 "wrong / answerable", "right / named", "evidence quoted", "unanswerable abstained",
                 "false abstention", "answering ms p50")


def answer_cells(s: Scores, short: Collection[str] = ()) -> list[str]:
    """The figures of one row of the answers table, after its label; those whose metric is in `short`
    (short of its target) are marked ✗."""
    def mark(metric: str, text: str) -> str:
        return text + (" ✗" if metric in short else "")

    return [str(s.answered),
            mark("first_sentence_right", _count(s.first_right, s.answered, s.first_sentence_right)),
            str(s.direct_given), str(s.direct_right), str(s.direct_wrong),
            mark("direct_wrong_rate", _num(s.direct_wrong_rate)),
            mark("named_right_rate", f"{s.named_direct_right} / {s.named} ({_num(s.named_right_rate)})")
            if s.named else "—",
            _count(s.quoted, s.answerable, s.evidence_quoted),
            mark("abstention_recall", _count(s.abstained_unanswerable, s.unanswerable, s.abstention_recall)),
            mark("false_abstention", _num(s.false_abstention)),
            mark("answering_p50", _num(s.answering_p50, 0))]


def answers_table(scores: Sequence[Scores], short: Collection[str] = ()) -> str:
    """One row per group that was answered; the first row's figures in `short` are marked ✗."""
    return markdown_table(["group", *ANSWER_HEADER], [[s.group, *answer_cells(s, short if i == 0 else ())]
                                                      for i, s in enumerate(scores) if s.answered])


def run_record(info: dict[str, Any], scores: Sequence[Scores], outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The JSON document of a run: a format line, how it ran, its scores and every outcome."""
    return {"format": FORMAT, "run": info, "scores": [asdict(s) for s in scores],
            "outcomes": [asdict(o) for o in outcomes]}


def save_run(record: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def outcome_from_record(record: dict[str, Any]) -> Outcome:
    """An outcome from its JSON object; one of format 1 has `correct` (now `evidence_quoted`) and none of
    the measures added since (left None)."""
    fields = {**record, "retrieved": tuple(Retrieved(**r) for r in record["retrieved"])}
    if "correct" in fields and "evidence_quoted" not in fields:
        fields["evidence_quoted"] = fields.pop("correct")
    for name in ("evidence_ranks", "cited", "cited_support"):
        fields[name] = tuple(record[name])
    return Outcome(**fields)


def load_run(path: Path) -> tuple[dict[str, Any], list[Outcome]]:
    """A saved run's info and outcomes; QAError when the file is not one."""
    from qa.errors import QAError
    from qa.eval.questions import load_json

    record = load_json(path, f"No evaluation run at {path}; write one with eval/run.py --json {path}.",
                       f"Cannot read evaluation run {path}")
    if not isinstance(record, dict) or record.get("format") not in (FORMAT, *OLD_FORMATS):
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

    @property
    def regression(self) -> bool | None:
        """True when the change is for the worse (a lost hit, a first sentence gone wrong, a new wrong
        direct answer), False when for the better, None when neither (abstaining more or less)."""
        good = GOOD_WHEN.get(self.metric.split("@")[0])
        return None if good is None else self.after != good


# the value of each flipped metric that is the good one (abstention is neither: it depends on the question)
GOOD_WHEN = {"hit": True, "first sentence right": True, "direct right": True, "direct wrong": False,
             "evidence quoted": True}


def _direct(o: Outcome, right: bool) -> bool | None:
    """Whether the answer gave a direct answer that is right (or wrong); None when answers were not run
    or the run predates direct answers."""
    if o.answer is None or o.first_right is None:
        return None
    return o.direct_right is right


def flips(before: Sequence[Outcome], after: Sequence[Outcome], k: int = MRR_AT) -> list[Flip]:
    """Questions (matched by id) whose hit@k, first sentence, direct answer (right, wrong), evidence quoted
    or abstention changed from one run to the other, in that order of metrics.

    A metric missing from either run (None: unanswerable, answers not run, an older run) is not compared.
    """
    metrics: dict[str, Callable[[Outcome], bool | None]] = {
        f"hit@{k}": lambda o: hit_at(o.evidence_ranks, k) if o.evidence_ranks else None,
        "first sentence right": lambda o: o.first_right,
        "direct right": lambda o: _direct(o, True),
        "direct wrong": lambda o: _direct(o, False),
        "evidence quoted": lambda o: o.evidence_quoted,
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
    """Per metric, the questions that went from true to false and from false to true, each group headed
    "regression" or "gain" where the metric has a good side; a count of regressions first."""
    lines = []
    worse = sum(f.regression is True for f in found)
    if found:
        lines += [f"{worse} regression flip{'s' if worse != 1 else ''}, "
                  f"{sum(f.regression is False for f in found)} gains.", ""]
    for metric in dict.fromkeys(f.metric for f in found):
        for a, b in ((True, False), (False, True)):
            group = [f for f in found if f.metric == metric and (f.before, f.after) == (a, b)]
            if group:
                label = {True: " — regression", False: " — gain", None: ""}[group[0].regression]
                lines.append(f"## {metric}: {str(a).lower()} → {str(b).lower()} ({len(group)}){label}")
                lines += [f"- {f.id}: {f.question}" for f in group] + [""]
    for label, ids in (("only in A", only_before), ("only in B", only_after)):
        if ids:
            lines.append(f"## {label} ({len(ids)}): " + ", ".join(ids))
    return "\n".join(lines).strip() + "\n" if lines else "No question flipped.\n"
