"""Evaluation: metric functions on hand-made cases with known values, the question-set loader and its
errors, the MultiHop-RAG converter, the archive's own question set, and end-to-end runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.eval import (
    Outcome,
    QuestionSetError,
    flips,
    load_questions,
    load_run,
    multihop_questions,
    render_flips,
    render_markdown,
    run_eval,
    summarise,
    write_questions,
)
from qa.eval.metrics import (
    abstention_scores,
    answer_correct,
    cited_numbers,
    contains_answer,
    evidence_ranks,
    first_hit,
    hit_at,
    mean,
    normalise,
    passage_supports,
    percentile,
    quote_in,
    recall_at,
    reciprocal_rank,
    share,
)
from qa.eval.outcomes import evaluate_question, judge_answer
from qa.eval.questions import Evidence, Question
from qa.eval.report import cutoffs, markdown_table, run_record, save_run
from qa.types import Answer, Citation, Hit
from tests.conftest import make_hit

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "questions.jsonl"


# ---------------------------------------------------------------- quote and answer matching

def test_quote_match_ignores_whitespace_but_not_case_or_punctuation():
    assert quote_in("Al  Qaim\nfell", "the town of Al Qaim fell.")
    assert quote_in("AlQaim", "Al Qaim")  # the fact rule removes spaces, it does not tokenise
    assert quote_in("on June 22,\n 2014", "Jordan on June\t22, 2014.")
    assert not quote_in("al qaim", "Al Qaim")
    assert not quote_in("June 22 2014", "June 22, 2014")


def test_normalise_folds_case_accents_punctuation_and_spaces():
    assert normalise("  Al-Walíd’s  “Border” Crossing!") == "al walid s border crossing"
    assert normalise("Deir ez-Zor") == normalise("deir EZ zor")
    assert normalise("") == ""


def test_contains_answer_matches_whole_words_only():
    assert contains_answer("Dec. 23", "On Dec 23, five were killed")
    assert contains_answer("Al Qaim", "the town of al-Qaim fell")
    assert not contains_answer("no", "It is not known")
    assert not contains_answer("Iran", "the Iranians")
    assert not contains_answer("...", "anything at all")  # nothing left after normalising


def test_answer_correct_any_acceptable_answer_and_markers_do_not_count():
    assert answer_correct(["5", "five"], "Five members were killed [1].")
    assert not answer_correct(["5"], "Members were killed [5].")
    assert answer_correct(["Caleb Weiss"], "By CALEB WEISS.")
    assert answer_correct([], "anything") is None


# ---------------------------------------------------------------- retrieval metrics

PASSAGES = ["nothing here", "the Al Qaim crossing fell", "Al Qaim fell; Trebil held", "Trebil held"]


def test_evidence_ranks_first_passage_per_quote_with_ties():
    # both quotes are first found in passages 2 and 3; "Trebil held" also occurs again at 4
    assert evidence_ranks(["Al Qaim", "Trebil held", "Homs"], PASSAGES) == [2, 3, None]
    assert evidence_ranks(["Al Qaim", "AlQaim"], PASSAGES) == [2, 2]  # two items, one passage
    assert evidence_ranks(["x"], []) == [None]
    assert evidence_ranks([], PASSAGES) == []


def test_rank_metrics_known_values():
    ranks = [3, None, 2]
    assert first_hit(ranks) == 2
    assert (hit_at(ranks, 1), hit_at(ranks, 2), hit_at(ranks, 10)) == (False, True, True)
    assert reciprocal_rank(ranks) == 0.5
    assert reciprocal_rank([12], k=10) == 0.0
    assert recall_at([1, None, 7, 12], 10) == 0.5
    assert recall_at([2, 2], 1) == 0.0 and recall_at([2, 2], 2) == 1.0


def test_rank_metrics_on_empty_lists():
    assert first_hit([]) is None and first_hit([None, None]) is None
    assert not hit_at([], 10)
    assert reciprocal_rank([]) == 0.0
    assert recall_at([], 10) is None


def test_cutoffs_follow_k():
    assert cutoffs(10) == [1, 4, 10]
    assert cutoffs(5) == [1, 4, 5]
    assert cutoffs(1) == [1]
    assert cutoffs(20) == [1, 4, 10, 20]


# ---------------------------------------------------------------- answer, abstention, citation metrics

def test_cited_numbers_dedupes_and_drops_unknown_markers():
    assert cited_numbers([2, 1, 2, 9], known=[1, 2, 3]) == [2, 1]
    assert cited_numbers([], known=[1]) == []
    assert cited_numbers([4], known=[]) == []


def test_passage_supports_by_quote_or_answer():
    assert passage_supports("Five died on Dec. 23.", quotes=["six died"], answers=["five"])
    assert passage_supports("killing five\nmembers", quotes=["killing five members"], answers=[])
    assert not passage_supports("Trebil held.", quotes=["Al Qaim"], answers=["Homs"])


def test_abstention_scores_known_values_and_undefined_cases():
    assert abstention_scores([True, True, False, False], [True, False, True, False]) == (0.5, 0.5)
    assert abstention_scores([True, True], [True, True]) == (1.0, 1.0)
    assert abstention_scores([True], [False]) == (None, 0.0)
    assert abstention_scores([False], [True]) == (0.0, None)
    assert abstention_scores([], []) == (None, None)
    with pytest.raises(ValueError):
        abstention_scores([True], [True, False])


def test_mean_share_and_percentile_known_values():
    assert mean([1, None, 0, True]) == pytest.approx(2 / 3)
    assert mean([None]) is None and mean([]) is None
    assert share([[True], [False, False]]) == pytest.approx(1 / 3)  # pooled, not mean of means (0.5)
    assert share([[], []]) is None
    assert percentile([5, 1, 3, 2], 50) == 2
    assert percentile([5, 1, 3, 2], 95) == 5
    assert percentile([2, 2, 2, 9], 50) == 2  # ties
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


# ---------------------------------------------------------------- judging one question

def _hit(rank: int, text: str, doc: str = "d1", kind: str = "article") -> Hit:
    return make_hit(rank, text, kind, doc=doc, header="H", title="T", published_at=None, path=None)


def _question(answers: tuple[str, ...] = ("five",), quotes: tuple[str, ...] = ("killing five members",),
              qtype: str = "factual", qid: str = "q1") -> Question:
    return Question(qid, "How many were killed?", answers, tuple(Evidence("T", q) for q in quotes), qtype)


def test_judge_answer_duplicate_citations_count_once():
    hits = [_hit(1, "Dec. 23: killing five members of the police."), _hit(2, "Trebil held.")]
    answer = Answer("q", "Five were killed [1]. Again [1], and [2].", tuple(Citation(h.rank, h) for h in hits))
    judged = judge_answer(_question(), answer)
    assert judged["cited"] == (1, 2)
    assert judged["cited_support"] == (True, False)
    assert judged["evidence_quoted"] is True and judged["markers_valid"] is True


def test_judge_answer_abstention_is_never_correct_and_bad_markers_are_caught():
    hits = [_hit(1, "killing five members")]
    abstained = Answer("q", "The archive does not say how five were killed.", (Citation(1, hits[0]),), abstained=True)
    judged = judge_answer(_question(), abstained)
    assert judged["evidence_quoted"] is False and judged["cited"] == ()
    dangling = Answer("q", "Five [3].", (Citation(1, hits[0]),))
    judged = judge_answer(_question(), dangling)
    assert judged["markers_valid"] is False and judged["cited"] == ()
    assert judge_answer(_question(answers=(), quotes=()), abstained)["evidence_quoted"] is None


class FakeAssistant:
    """Returns fixed passages and a fixed answer: no index, no model."""

    def __init__(self, hits: list[Hit], answer: Answer) -> None:
        self.hits, self.answer, self.calls = hits, answer, []

    def search(self, question, k=None, *, mode="hybrid", filters=None):  # type: ignore[no-untyped-def]
        self.calls.append(("search", k, mode))
        return self.hits[:k]

    def ask(self, question, *, filters=None):  # type: ignore[no-untyped-def]
        self.calls.append(("ask",))
        return self.answer


def test_evaluate_question_scores_the_top_k_only():
    hits = [_hit(1, "nothing"), _hit(2, "also nothing"), _hit(3, "killing five members")]
    answer = Answer("q", "Five [3].", tuple(Citation(h.rank, h) for h in hits))
    fake = FakeAssistant(hits, answer)
    out = evaluate_question(fake, _question(), k=2, mode="lexical")
    assert out.evidence_ranks == (None,) and [r.rank for r in out.retrieved] == [1, 2]
    assert out.evidence_quoted is True and out.cited == (3,) and out.cited_support == (True,)
    # the second search is ask's own, timed apart so that answering alone can be told
    assert fake.calls == [("search", 2, "lexical"), ("search", None, "hybrid"), ("ask",)]
    out = evaluate_question(fake, _question(), k=3, answers=False)
    assert out.evidence_ranks == (3,) and out.answer is None and out.answer_ms is None


# ---------------------------------------------------------------- scores and reports

def _outcome(qid: str, qtype: str, ranks: tuple[int | None, ...], *, answerable: bool = True,
             correct: bool | None = None, abstained: bool = False, support: tuple[bool, ...] = (),
             valid: bool = True, ms: float = 10.0) -> Outcome:
    return Outcome(id=qid, type=qtype, kind=None, question=f"question {qid}", answerable=answerable,
                   evidence_ranks=ranks, retrieved=(), retrieval_ms=ms, answer="text", abstained=abstained,
                   evidence_quoted=correct if answerable else None, cited=tuple(range(1, len(support) + 1)),
                   cited_support=support, markers_valid=valid, answer_ms=ms * 10)


OUTCOMES = [
    _outcome("q1", "factual", (1, 5), correct=True, support=(True, True), ms=10),
    _outcome("q2", "factual", (None, 4), correct=False, support=(False,), ms=20),
    _outcome("q3", "temporal", (None,), correct=False, abstained=True, ms=30),
    _outcome("u1", "unanswerable", (), answerable=False, abstained=True, ms=40),
    _outcome("u2", "unanswerable", (), answerable=False, abstained=False, support=(False,), valid=False, ms=50),
]


def test_summarise_known_values():
    overall, *groups = summarise(OUTCOMES, k=10)
    assert overall.group == "all" and overall.questions == 5 and overall.with_evidence == 3
    assert overall.hits == {1: pytest.approx(1 / 3), 4: pytest.approx(2 / 3), 10: pytest.approx(2 / 3)}
    assert overall.mrr == pytest.approx((1 + 0.25 + 0) / 3)
    assert overall.recall == pytest.approx((1 + 0.5 + 0) / 3)
    assert overall.evidence_quoted == pytest.approx(1 / 3)
    assert (overall.abstention_precision, overall.abstention_recall) == (0.5, 0.5)
    assert overall.false_abstention == pytest.approx(1 / 3)
    assert overall.citation_precision == pytest.approx(2 / 3)  # u2's cited passage has no gold: not counted
    assert overall.markers_valid == pytest.approx(4 / 5)
    assert (overall.retrieval_p50, overall.retrieval_p95) == (30, 50)
    assert (overall.answer_p50, overall.answer_p95) == (300, 500)
    assert [g.group for g in groups] == ["type: factual", "type: temporal", "type: unanswerable"]
    factual, temporal, unanswerable = groups
    assert factual.hits[1] == 0.5 and factual.abstention_precision is None
    assert temporal.hits[10] == 0.0 and temporal.false_abstention == 1.0
    assert unanswerable.with_evidence == 0 and unanswerable.mrr is None and unanswerable.evidence_quoted is None
    assert (unanswerable.abstention_precision, unanswerable.abstention_recall) == (1.0, 0.5)


def test_summarise_with_smaller_k_cuts_ranks_off():
    overall = summarise(OUTCOMES, k=4)[0]
    assert set(overall.hits) == {1, 4}
    assert overall.mrr == pytest.approx((1 + 0.25) / 3)
    assert overall.recall == pytest.approx((0.5 + 0.5 + 0) / 3)


def test_markdown_tables():
    assert markdown_table(["a", "b"], [["1", "2"]]) == "| a | b |\n|---|---|\n| 1 | 2 |"
    text = render_markdown(summarise(OUTCOMES, k=10), k=10, title="Run")
    assert "| all | 3 | 0.333 | 0.667 | 0.667 | 0.417 | 0.500 | 30 / 50 |" in text
    assert "| type: unanswerable | 0 | —" not in text.split("Answers as people read them")[0]  # no empty retrieval row
    assert "| type: unanswerable | 0 | — | — | — | 2 | 1 | 1.000 | 0.500 | 0.500 | 400 / 500 |" in text
    retrieval_only = [Outcome(**{**o.__dict__, "answer": None}) for o in OUTCOMES]
    assert "evidence quoted" not in render_markdown(summarise(retrieval_only, k=10), k=10)


def test_flips_per_metric():
    after = [
        _outcome("q1", "factual", (None, 11), correct=True),  # lost its hit
        _outcome("q2", "factual", (None, 4), correct=True),  # became correct
        _outcome("q3", "temporal", (None,), correct=False, abstained=False),  # stopped abstaining
        _outcome("u1", "unanswerable", (), answerable=False, abstained=True),
        _outcome("n1", "factual", (1,), correct=True),
    ]
    found = flips(OUTCOMES, after)
    assert [(f.id, f.metric, f.before, f.after) for f in found] == [
        ("q1", "hit@10", True, False), ("q2", "evidence quoted", False, True), ("q3", "abstained", True, False)]
    text = render_flips(found, only_before=["u2"], only_after=["n1"])
    assert "## hit@10: true → false (1) — regression\n- q1: question q1" in text
    assert "## evidence quoted: false → true (1) — gain" in text and "## abstained: true → false (1)\n" in text
    assert text.startswith("1 regression flip, 1 gains.")
    assert "only in A (1): u2" in text and "only in B (1): n1" in text
    assert render_flips([]) == "No question flipped.\n"


def test_run_file_round_trip_and_refusal(tmp_path: Path):
    path = tmp_path / "runs" / "a.json"
    save_run(run_record({"k": 10}, summarise(OUTCOMES, 10), OUTCOMES), path)
    info, outcomes = load_run(path)
    assert info == {"k": 10} and outcomes == OUTCOMES
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(Exception, match="not an evaluation run"):
        load_run(tmp_path / "bad.json")
    with pytest.raises(Exception, match="No evaluation run"):
        load_run(tmp_path / "missing.json")


# ---------------------------------------------------------------- the question-set format

GOOD = {"id": "q1", "question": "Who?", "answers": ["X"], "evidence": [{"doc": "d", "quote": "X did it"}],
        "type": "factual"}


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_loader_reads_a_good_set_and_round_trips(tmp_path: Path):
    other = {**GOOD, "id": "u1", "answers": [], "evidence": [], "type": "unanswerable", "kind": "comment"}
    path = _write(tmp_path, json.dumps(GOOD), "", json.dumps(other))
    questions = load_questions(path)
    assert [q.id for q in questions] == ["q1", "u1"]
    assert questions[0].evidence == (Evidence("d", "X did it"),) and questions[0].answerable
    assert not questions[1].answerable and questions[1].kind == "comment"
    write_questions(questions, tmp_path / "copy.jsonl")
    assert load_questions(tmp_path / "copy.jsonl") == questions


@pytest.mark.parametrize("record, message", [
    ("{not json", r"q\.jsonl:2: not valid JSON"),
    (json.dumps([1]), r"q\.jsonl:2: expected a JSON object"),
    (json.dumps({**GOOD, "id": "q2", "answer": ["X"]}), r"q\.jsonl:2: unknown field 'answer'"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "type"}), r"q\.jsonl:2: missing field 'type'"),
    (json.dumps({**GOOD, "id": "q2", "answers": "X"}), r"q\.jsonl:2: 'answers' must be a list"),
    (json.dumps({**GOOD, "id": "q2", "answers": [""]}), r"q\.jsonl:2: answer 1 must be non-empty text"),
    (json.dumps({**GOOD, "id": "q2", "evidence": [{"doc": "d"}]}), r"q\.jsonl:2: evidence 1 must be an object"),
    (json.dumps({**GOOD, "id": "q2", "evidence": [{"doc": "d", "quote": " "}]}), r"evidence 1 'quote' must be"),
    (json.dumps({**GOOD, "id": "q2", "answers": []}), r"q\.jsonl:2: a question with no answers"),
    (json.dumps({**GOOD, "id": "q2", "kind": "blog"}), r"q\.jsonl:2: 'kind' must be one of article, comment"),
    (json.dumps({**GOOD, "question": "Again?"}), r"q\.jsonl:2: id 'q1' is already used on line 1"),
])
def test_loader_names_file_line_and_problem(tmp_path: Path, record: str, message: str):
    with pytest.raises(QuestionSetError, match=message):
        load_questions(_write(tmp_path, json.dumps(GOOD), record))


def test_loader_refuses_missing_and_empty_files(tmp_path: Path):
    with pytest.raises(QuestionSetError, match="No question set at"):
        load_questions(tmp_path / "nope.jsonl")
    with pytest.raises(QuestionSetError, match="holds no questions"):
        load_questions(_write(tmp_path, "", "  "))


# ---------------------------------------------------------------- MultiHop-RAG

def test_multihop_converter_on_a_hand_made_file(tmp_path: Path):
    items = [
        {"query": "Did A and B agree?", "answer": "Yes", "question_type": "comparison_query",
         "evidence_list": [{"fact": "A said so.", "title": "Ta", "source": "S"}, {"fact": "B too.", "title": "Tb"}]},
        {"query": "What of C?", "answer": "Insufficient information.", "question_type": "null_query",
         "evidence_list": []},
    ]
    path = tmp_path / "queries.json"
    path.write_text(json.dumps(items))
    first, null = multihop_questions(path)
    assert first == Question("mh-0001", "Did A and B agree?", ("Yes",),
                             (Evidence("Ta", "A said so."), Evidence("Tb", "B too.")), "comparison_query", "article",
                             answer_type="yes_no")  # a Yes/No gold answer is marked, for reports per answer type
    assert null.id == "mh-0002" and null.answers == () and null.evidence == () and null.type == "null_query"
    assert null.answer_type is None
    path.write_text(json.dumps([items[0], {"query": "x", "question_type": "inference_query", "evidence_list": []}]))
    with pytest.raises(QuestionSetError, match="query 2: missing or malformed field 'answer'"):
        multihop_questions(path)


def test_multihop_dev_set_converts_whole(multihop_dir: Path, tmp_path: Path):
    questions = multihop_questions(multihop_dir / "queries_dev.json")
    assert len(questions) == 1260
    null = [q for q in questions if not q.answerable]
    assert len(null) == 149 and all(q.type == "null_query" for q in null)
    assert all(len(q.evidence) >= 2 for q in questions if q.answerable)
    out = tmp_path / "dev.jsonl"
    subprocess.run([sys.executable, str(ROOT / "eval" / "convert_multihop.py"), str(multihop_dir / "queries_dev.json"),
                    "-o", str(out)], check=True, capture_output=True)
    assert load_questions(out) == questions


# ---------------------------------------------------------------- the archive's own question set

def test_archive_question_set_shape():
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 40
    assert sum(not q.answerable for q in questions) >= 6
    types = {q.type for q in questions}
    assert {"factual", "comment", "author", "temporal", "unanswerable"} <= types
    assert {q.kind for q in questions if q.answerable} == {"article", "comment"}
    assert len({e.doc for q in questions for e in q.evidence}) == 2  # both articles
    assert all(len(e.quote) <= 100 for q in questions for e in q.evidence)  # short spans, not paragraphs
    dates = " ".join(a for q in questions for a in q.answers)
    assert "June 22, 2014" in dates and "Dec. 23" in dates


def test_archive_quotes_are_in_the_archive_content(archive_dir: Path):
    """Every quote is in the body or a comment of the document it names (never boilerplate), and every
    answer is in one of those documents or is its author."""
    from qa.ingest import iter_documents

    docs = {d.title: d for d in iter_documents([archive_dir], [])}
    for q in load_questions(QUESTIONS):
        for e in q.evidence:
            doc = docs[e.doc]
            texts = [doc.body, *(c.text for c in doc.comments)]
            assert any(quote_in(e.quote, t) for t in texts), (q.id, e.quote)
        if q.answerable:
            named = [docs[e.doc] for e in q.evidence]
            text = " ".join(" ".join([d.body, d.author or "", *(f"{c.author} {c.text}" for c in d.comments)])
                            for d in named)
            assert any(contains_answer(a, text) for a in q.answers), (q.id, q.answers)


# ---------------------------------------------------------------- end to end

SAMPLE_QUESTIONS = [
    {"id": "s1", "question": "Who commanded Operation Stone Ford that retook the Tal Varesh crossing?",
     "answers": ["Tomas Reyvik"], "evidence": [{"doc": "page_03", "quote": "under Brig. Gen. Tomas Reyvik"}],
     "type": "factual", "kind": "article"},
    {"id": "s2", "question": "How many drones did air defence crews shoot down over the Orlek depot?",
     "answers": ["nine"], "evidence": [{"doc": "page_04", "quote": "shot down nine of at least 14 drones"}],
     "type": "factual", "kind": "article"},
    {"id": "u1", "question": "What is the GDP of Karvelia?", "answers": [], "evidence": [], "type": "unanswerable"},
]


@pytest.fixture
def sample_questions(tmp_path: Path) -> Path:
    path = tmp_path / "sample.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in SAMPLE_QUESTIONS), encoding="utf-8")
    return path


def test_run_eval_on_the_sample_index(sample_index, sample_questions: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    report, out = tmp_path / "report.md", tmp_path / "run.json"
    run = run_eval(sample_questions, sample_index, k=10, report=report, json_path=out, progress=False)
    overall = run.scores[0]
    assert overall.questions == 3 and overall.with_evidence == 2
    assert overall.hits[10] == 1.0  # the quoted words are rare: BM25 finds them even with the hash embedder
    assert overall.markers_valid == 1.0 and overall.answered == 3
    assert report.read_text() == run.markdown and "| type: unanswerable |" in run.markdown
    info, outcomes = load_run(out)
    assert info["count"] == 3 and info["mode"] == "hybrid" and info["model"] == "hash:256"
    assert [o.id for o in outcomes] == ["s1", "s2", "u1"] and all(o.retrieval_ms > 0 for o in outcomes)
    assert all(len(o.retrieved) == 10 for o in outcomes)


def test_run_eval_refuses_a_bad_set_before_opening_the_index(tmp_path: Path, hash_settings):  # type: ignore[no-untyped-def]
    bad = _write(tmp_path, json.dumps({**GOOD, "kind": "blog"}))
    with pytest.raises(QuestionSetError, match="q.jsonl:1"):
        run_eval(bad, hash_settings, progress=False)  # no index exists there: the set is checked first


def test_qa_eval_command_and_compare_script(sample_index, sample_questions: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    from qa.cli import cli

    runner = CliRunner()
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    args = ["--model", "hash", "eval", str(sample_questions), "--index", str(sample_index.index)]
    result = runner.invoke(cli, [*args, "--json", str(a)])
    assert result.exit_code == 0, result.output
    assert "| all | 2 |" in result.output and "evidence quoted" in result.output and "accuracy" not in result.output
    result = runner.invoke(cli, [*args, "--json", str(b), "--mode", "dense", "--no-answers", "--k", "1"])
    assert result.exit_code == 0, result.output
    assert "Hits@1" in result.output and "Hits@4" not in result.output and "evidence quoted" not in result.output
    compared = subprocess.run([sys.executable, str(ROOT / "eval" / "compare.py"), str(a), str(a)],
                              capture_output=True, text=True, check=True)
    assert compared.stdout == "No question flipped.\n"
    bad = runner.invoke(cli, [*args[:3], str(tmp_path / "missing.jsonl")])
    assert bad.exit_code != 0 and "does not exist" in bad.output


def test_eval_run_script_reports_errors_cleanly(tmp_path: Path):
    bad = _write(tmp_path, "{oops")
    result = subprocess.run([sys.executable, str(ROOT / "eval" / "run.py"), str(bad), "--index", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "q.jsonl:1: not valid JSON" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.model
@pytest.mark.slow
def test_archive_questions_on_the_real_model(archive_index, tmp_path: Path):  # type: ignore[no-untyped-def]
    run = run_eval(QUESTIONS, archive_index, k=10, json_path=tmp_path / "run.json", progress=False)
    overall = run.scores[0]
    assert overall.hits[10] >= 0.95
    assert overall.recall is not None and overall.recall >= 0.9
    assert overall.mrr is not None and overall.mrr >= 0.6
    assert overall.markers_valid == 1.0
    # measured at 0.855 / 0.917 / 0.018 with the extractive answerer: these floors catch a broken pipeline
    assert overall.evidence_quoted is not None and overall.evidence_quoted >= 0.6
    assert overall.citation_precision is not None and overall.citation_precision >= 0.7
    assert overall.false_abstention is not None and overall.false_abstention <= 0.2
    # its near misses (the subject is there, the attribute asked for is not): 8 of 8 abstained when measured
    assert overall.abstained_unanswerable >= 7
    assert {s.group for s in run.scores} >= {"type: comment", "type: unanswerable", "kind: comment"}
