"""The eval report leads with what matters: three summary lines with their n, stated denominators, no
empty rows, unanswerable questions that were answered flagged, and figures short of the targets marked."""

from __future__ import annotations

import re

from qa.eval.outcomes import Outcome
from qa.eval.report import render_markdown, shortfalls, summarise, summary_lines
from qa.eval.targets import TARGETS, Target, question_set, targets_for
from tests.conftest import ROOT


def _outcome(qid: str, qtype: str, ranks: tuple[int | None, ...], *, answerable: bool = True,
             correct: bool | None = None, abstained: bool = False, ms: float = 10.0) -> Outcome:
    return Outcome(id=qid, type=qtype, kind=None, question=f"question {qid}", answerable=answerable,
                   evidence_ranks=ranks, retrieved=(), retrieval_ms=ms, answer="text", abstained=abstained,
                   correct=correct if answerable else None, cited=(1,), cited_support=(True,),
                   markers_valid=True, answer_ms=ms)


# 4 answerable (3 correct, 1 wrongly abstained), 4 unanswerable (1 abstained, 3 answered anyway)
ARCHIVE_LIKE = [
    _outcome("a1", "factual", (1,), correct=True),
    _outcome("a2", "factual", (2,), correct=True),
    _outcome("a3", "comment", (1,), correct=True),
    _outcome("a4", "comment", (None,), correct=False, abstained=True),
    *[_outcome(f"u{i}", "unanswerable", (), answerable=False, abstained=i == 0) for i in range(4)],
]


def test_three_summary_lines_come_first_each_with_its_n() -> None:
    text = render_markdown(summarise(ARCHIVE_LIKE, 10), 10, "Title line")
    lines = text.splitlines()
    assert lines[0] == "Title line"
    assert lines[1].startswith("- Retrieval, 4 questions with evidence: Hits@10 0.750, MRR@10 0.625")
    assert lines[2].startswith("- Answers, 4 answerable questions: 3 correct, accuracy 0.750;")
    assert "1 wrongly abstained (false abstention 0.250)" in lines[2]
    assert lines[3].startswith("- Abstention, 4 unanswerable questions: 1 abstained (recall 0.250")
    assert "⚠ 3 of 4 unanswerable questions were answered." in lines[3]


def test_answer_counts_exclude_unanswerables_and_the_denominator_is_stated() -> None:
    text = render_markdown(summarise(ARCHIVE_LIKE, 10), 10)
    assert "accuracy = correct / answerable" in text
    assert "| all | 4 | 0.750 | 0.250 | 1.000 | 4 | 1 | 0.500 | 0.250 | 1.000 | 10 / 10 |" in text
    overall = summarise(ARCHIVE_LIKE, 10)[0]
    assert (overall.answered, overall.answerable, overall.correct) == (8, 4, 3)
    assert (overall.abstained_answerable, overall.abstained_unanswerable) == (1, 1)


def test_groups_with_nothing_to_score_have_no_row() -> None:
    text = render_markdown(summarise(ARCHIVE_LIKE, 10), 10)
    retrieval, answers = text.split("Answers (", 1)
    assert "type: unanswerable" not in retrieval and "| type: unanswerable |" in answers
    retrieval_only = [Outcome(**{**o.__dict__, "answer": None}) for o in ARCHIVE_LIKE]
    text = render_markdown(summarise(retrieval_only, 10), 10)
    assert "| answerable |" not in text and "Answers: not run" in text


def test_figures_short_of_their_targets_are_marked_and_only_those() -> None:
    scores = summarise(ARCHIVE_LIKE, 10)
    targets = targets_for(o.type for o in ARCHIVE_LIKE)
    assert {t.metric for t in targets} == {"accuracy", "citation_precision", "abstention_recall", "retrieval_p50"}
    assert set(shortfalls(scores[0], 10, targets)) == {"accuracy", "abstention_recall"}
    text = render_markdown(scores, 10, targets=targets)
    assert "accuracy 0.750 [✗ target ≥ 0.98]" in text and "citation precision 1.000;" in text
    assert "| all | 4 | 0.750 ✗ | 0.250 | 1.000 | 4 | 1 | 0.500 | 0.250 ✗ |" in text
    assert "✗: short of its target" in text and "⚠ 3 of 4 unanswerable questions were answered." in text
    clean = render_markdown(summarise(ARCHIVE_LIKE[:3], 10), 10, targets=targets)
    assert "✗" not in clean and "⚠" not in clean


def test_multihop_sets_get_the_retrieval_and_abstention_targets() -> None:
    types = ["inference_query", "comparison_query", "null_query"]
    assert question_set(types) == "multihop" and question_set(["factual", "null_query"]) == "archive"
    assert {t.metric for t in targets_for(types)} == {"hits@10", "mrr", "recall", "abstention_recall",
                                                      "false_abstention", "retrieval_p50"}
    outcomes = [_outcome(f"m{i}", "inference_query", (12,) if i else (1,), correct=False, abstained=i == 1)
                for i in range(4)]
    outcomes += [_outcome("n1", "null_query", (), answerable=False, abstained=False)]
    lines = summary_lines(summarise(outcomes, 10)[0], 10, targets_for(types))
    assert "Hits@10 0.250 [✗ target ≥ 0.94]" in lines[0] and "MRR@10 0.250 [✗ target ≥ 0.72]" in lines[0]
    assert "false abstention 0.250 [✗ target ≤ 5%]" in lines[1] and "accuracy 0.000;" in lines[1]
    assert "recall 0.000 [✗ target ≥ 0.85]" in lines[2]
    assert shortfalls(summarise(outcomes, 5)[0], 5, targets_for(types)).keys() == {"abstention_recall",
                                                                                    "false_abstention"}


def test_target_helpers() -> None:
    t = Target("recall", "Recall@10", ">=", 0.75)
    assert t.met(0.75) and not t.met(0.7499) and t.describe() == "≥ 0.75"
    assert Target("x", "x", "<=", 0.1, unit="%").describe() == "≤ 10%"
    assert Target("x", "x", "<=", 50.0, unit="ms").describe() == "≤ 50 ms"


def test_the_docs_show_the_same_targets() -> None:
    """docs/benchmarks.md's "Current figures" table lists every target in code, with the same value."""
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    current = text.split("## Current figures", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in current.splitlines()
            if line.startswith("| ") and not line.startswith("| figure")]
    for target in TARGETS:
        cells = [r[2] for r in rows if target.label.lower() in r[0].lower()]
        assert any(target.describe() in c for c in cells), (target, cells)
    assert re.search(r"`qa/eval/targets\.py`", current)
