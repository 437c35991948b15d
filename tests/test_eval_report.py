"""The eval report leads with what matters: three summary lines with their n, stated denominators, no
empty rows, unanswerable questions that were answered flagged, and figures short of the targets marked."""

from __future__ import annotations

import re

from qa.eval.outcomes import Outcome
from qa.eval.report import render_markdown, shortfalls, summarise, summary_lines
from qa.eval.targets import TARGETS, Target, question_set, targets_for
from tests.conftest import ROOT


def _outcome(qid: str, qtype: str, ranks: tuple[int | None, ...], *, answerable: bool = True,
             correct: bool | None = None, abstained: bool = False, ms: float = 10.0, first: bool | None = None,
             direct: bool | None = None, answer_type: str | None = None) -> Outcome:
    """`first` defaults to `correct` (answerable) or `abstained` (unanswerable); `direct` None: none given."""
    return Outcome(id=qid, type=qtype, kind=None, question=f"question {qid}", answerable=answerable,
                   evidence_ranks=ranks, retrieved=(), retrieval_ms=ms, answer="text", abstained=abstained,
                   evidence_quoted=correct if answerable else None, cited=(1,), cited_support=(True,),
                   markers_valid=True, answer_ms=ms, answering_ms=ms / 2, answer_type=answer_type,
                   first_right=(bool(correct) if answerable else abstained) if first is None else first,
                   direct=None if direct is None else "X", direct_right=direct)


# 4 answerable (3 quote the evidence, 2 in their first sentence, 1 wrongly abstained), 4 unanswerable
# (1 abstained, 3 answered anyway); direct answers: a1 right, a2 wrong, u1 wrong (on an unanswerable)
ARCHIVE_LIKE = [
    _outcome("a1", "factual", (1,), correct=True, direct=True, answer_type="person"),
    _outcome("a2", "factual", (2,), correct=True, first=False, direct=False, answer_type="place"),
    _outcome("a3", "comment", (1,), correct=True, answer_type="comment"),
    _outcome("a4", "comment", (None,), correct=False, abstained=True, answer_type="date"),
    *[_outcome(f"u{i}", "unanswerable", (), answerable=False, abstained=i == 0, direct=False if i == 1 else None)
      for i in range(4)],
]


def test_summary_lines_come_first_each_with_its_n() -> None:
    text = render_markdown(summarise(ARCHIVE_LIKE, 10), 10, "Title line")
    lines = text.splitlines()
    assert lines[0] == "Title line"
    assert lines[1].startswith("- Retrieval, 4 questions with evidence: Hits@10 0.750, MRR@10 0.625")
    assert lines[2] == ("- First sentence, 8 questions: 3 right (0.375; 2 of 4 answerable hold a gold answer "
                        "before the first [n], 1 of 4 unanswerable abstained).")
    assert lines[3] == ("- Direct answers: 3 given, 1 right, 2 wrong (wrong / answerable 0.500); right / questions "
                        "asking a name, date or number 1 / 3 0.333.")
    assert lines[4].startswith("- Evidence quoted, 4 answerable questions: 3 (0.750) quote a gold answer somewhere;")
    assert "1 wrongly abstained (false abstention 0.250); answering p50 on top of retrieval 5 ms." in lines[4]
    assert lines[5].startswith("- Abstention, 4 unanswerable questions: 1 abstained (recall 0.250")
    assert "⚠ 3 of 4 unanswerable questions were answered." in lines[5]


def test_answer_counts_exclude_unanswerables_and_the_denominator_is_stated() -> None:
    text = render_markdown(summarise(ARCHIVE_LIKE, 10), 10)
    assert "evidence quoted = a gold answer anywhere in the answer, over the answerable" in text
    assert "| all | 4 | 0.750 | 0.250 | 1.000 | 4 | 1 | 0.500 | 0.250 | 1.000 | 10 / 10 |" in text
    assert ("| all | 8 | 3 / 8 (0.375) | 3 | 1 | 2 | 0.500 | 1 / 3 (0.333) | 3 / 4 (0.750) | 1 / 4 (0.250) "
            "| 0.250 | 5 |") in text
    overall = summarise(ARCHIVE_LIKE, 10)[0]
    assert (overall.answered, overall.answerable, overall.quoted) == (8, 4, 3)
    assert (overall.abstained_answerable, overall.abstained_unanswerable) == (1, 1)
    assert (overall.first_right, overall.first_right_answerable, overall.direct_wrong, overall.named) == (3, 2, 2, 3)


def test_per_type_and_per_answer_type_rows() -> None:
    """The answers table has a row per question type and per answer type, each with its own figures."""
    text = render_markdown(summarise(ARCHIVE_LIKE, 10), 10)
    table = text.split("Answers as people read them", 1)[1].split("Evidence and abstention", 1)[0]
    assert ("| type: factual | 2 | 1 / 2 (0.500) | 2 | 1 | 1 | 0.500 | 1 / 2 (0.500) | 2 / 2 (1.000) | — | 0.000 | 5 |"
            in table)
    assert "| type: unanswerable | 4 | 1 / 4 (0.250) | 1 | 0 | 1 | — | — | — | 1 / 4 (0.250) | — | 5 |" in table
    assert "| answer type: person | 1 | 1 / 1 (1.000) | 1 | 1 | 0 | 0.000 | 1 / 1 (1.000) |" in table
    assert "| answer type: comment | 1 | 1 / 1 (1.000) | 0 | 0 | 0 | 0.000 | — |" in table
    assert "| answer type: date | 1 | 0 / 1 (0.000) | 0 | 0 | 0 | 0.000 | 0 / 1 (0.000) |" in table


def test_groups_with_nothing_to_score_have_no_row() -> None:
    text = render_markdown(summarise(ARCHIVE_LIKE, 10), 10)
    retrieval, answers = text.split("Answers as people read them", 1)
    assert "type: unanswerable" not in retrieval and "| type: unanswerable |" in answers
    retrieval_only = [Outcome(**{**o.__dict__, "answer": None}) for o in ARCHIVE_LIKE]
    text = render_markdown(summarise(retrieval_only, 10), 10)
    assert "| answerable |" not in text and "Answers: not run" in text and "first sentence" not in text


def test_figures_short_of_their_targets_are_marked_and_only_those() -> None:
    scores = summarise(ARCHIVE_LIKE, 10)
    targets = targets_for(o.type for o in ARCHIVE_LIKE)
    assert question_set(o.type for o in ARCHIVE_LIKE) == "own"
    assert {t.metric for t in targets} == {"direct_wrong_rate", "named_right_rate", "first_sentence_right",
                                           "citation_precision", "answering_p50"}
    assert set(shortfalls(scores[0], 10, targets)) == {"direct_wrong_rate", "named_right_rate",
                                                       "first_sentence_right"}
    text = render_markdown(scores, 10, targets=targets)
    assert "3 right (0.375 [✗ target ≥ 0.9];" in text and "wrong / answerable 0.500 [✗ target ≤ 2%]" in text
    assert "| all | 8 | 3 / 8 (0.375) ✗ | 3 | 1 | 2 | 0.500 ✗ | 1 / 3 (0.333) ✗ | 3 / 4 (0.750) |" in text
    assert "✗: short of its target" in text and "⚠ 3 of 4 unanswerable questions were answered." in text
    clean = render_markdown(summarise([ARCHIVE_LIKE[0], ARCHIVE_LIKE[4]], 10), 10, targets=targets)
    assert "✗" not in clean and "⚠" not in clean


def test_held_out_archive_sets_get_the_held_out_targets() -> None:
    """A held-out archive set: first sentence ≥ 0.7 (not 0.9), near misses abstained ≥ 0.8, false
    abstention ≤ 3%; no citation-precision target."""
    targets = targets_for(["factual", "unanswerable"], held_out=True)
    assert question_set(["factual"], held_out=True) == "archive"
    first = [t for t in targets if t.metric == "first_sentence_right"]
    assert [t.describe() for t in first] == ["≥ 0.7"]
    assert {t.metric for t in targets} == {"direct_wrong_rate", "named_right_rate", "first_sentence_right",
                                           "abstention_recall", "false_abstention", "answering_p50"}
    short = shortfalls(summarise(ARCHIVE_LIKE, 10)[0], 10, targets)
    assert set(short) == {"direct_wrong_rate", "named_right_rate", "first_sentence_right", "abstention_recall",
                          "false_abstention"}


def test_multihop_sets_get_the_retrieval_and_abstention_targets() -> None:
    types = ["inference_query", "comparison_query", "null_query"]
    assert question_set(types) == "multihop" and question_set(["factual", "null_query"]) == "own"
    assert {t.metric for t in targets_for(types)} == {"hits@10", "mrr", "recall", "abstention_recall",
                                                      "false_abstention", "answering_p50", "direct_wrong_rate",
                                                      "named_right_rate", "first_sentence_right"}
    assert [t.describe() for t in targets_for(types) if t.metric in ("first_sentence_right", "named_right_rate")] \
        == ["≥ 0.7", "≥ 0.8"]
    outcomes = [_outcome(f"m{i}", "inference_query", (12,) if i else (1,), correct=False, abstained=i == 1)
                for i in range(4)]
    outcomes += [_outcome("n1", "null_query", (), answerable=False, abstained=False)]
    lines = summary_lines(summarise(outcomes, 10)[0], 10, targets_for(types))
    assert "Hits@10 0.250 [✗ target ≥ 0.94]" in lines[0] and "MRR@10 0.250 [✗ target ≥ 0.72]" in lines[0]
    assert "false abstention 0.250 [✗ target ≤ 5%]" in lines[3] and "3 (0.000 [" not in lines[3]
    assert "recall 0.000 [✗ target ≥ 0.85]" in lines[4]
    assert shortfalls(summarise(outcomes, 5)[0], 5, targets_for(types)).keys() == {
        "abstention_recall", "false_abstention", "first_sentence_right"}


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


def test_a_latency_over_its_target_is_not_marked() -> None:
    """Milliseconds move with the machine's load: a slow run is reported, never marked short."""
    from dataclasses import replace

    from qa.eval.targets import Target

    scores = replace(summarise(ARCHIVE_LIKE, 10)[0], answering_p50=500.0)
    slow = Target("answering_p50", "answering p50 on top of retrieval", "<=", 50.0, ("own",), "ms")
    assert "answering_p50" in shortfalls(scores, 10, [slow])
    assert not any("✗" in line for line in summary_lines(scores, 10, [slow]))
