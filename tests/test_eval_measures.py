"""Scoring answers as people read them: the first sentence (up to the first `[n]`), direct answers right
or wrong, evidence quoted; their flips between runs; and the multi-archive runner over eval/domain/sets.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.errors import QAError
from qa.eval import flips, load_run, render_flips
from qa.eval.domain import archive_hash, load_sets, pick_sets, run_sets
from qa.eval.metrics import content_words, direct_right, first_sentence_right, lead
from qa.eval.outcomes import Outcome, judge_answer
from qa.eval.questions import ANSWER_TYPES, NAMED_TYPES, Evidence, Question, QuestionSetError, load_questions
from qa.eval.report import save_run
from qa.types import Answer, Citation
from tests.conftest import ROOT, SAMPLE, make_hit

HITS = (make_hit(1, "The YPG controls the Rabia crossing, Reuters said."), make_hit(2, "Islamic State fighters."))
CITES = tuple(Citation(h.rank, h) for h in HITS)


def _question(answers: tuple[str, ...] = ("YPG", "Kurdish People's Protection Units"),
              answer_type: str | None = "organisation") -> Question:
    return Question("b07", "Who controls the Rabia crossing?", answers,
                    tuple(Evidence("T", "The YPG controls") for _ in answers[:1]), "factual", answer_type=answer_type)


def _answer(text: str, direct: str | None = None, marks: tuple[tuple[int, int, int], ...] | None = None,
            abstained: bool = False) -> Answer:
    if marks is None and direct is not None:  # an extractive answer records its markers
        marks = tuple((i, i + 3, int(text[i + 1])) for i in range(len(text)) if text.startswith("[", i))
    return Answer("q", text, CITES, abstained=abstained, marks=marks, direct=direct)


# ---------------------------------------------------------------- the lead: up to the first marker

def test_lead_is_the_text_before_the_first_marker_or_the_first_sentence():
    assert lead("Reuters [1]. Iraqi officials said so [2].", None) == "Reuters "
    assert lead("Gen. Smith held it. The YPG took it.", None) == "Gen. Smith held it."  # no marker: 1st sentence
    assert lead("", None) == ""
    # the answerer's own marks win: a "[1]" quoted from a comment is text, not the first marker
    text = "He wrote “see [1] below”, YPG [2]."
    assert lead(text, ((text.index("[2]"), text.index("[2]") + 3, 2),)) == "He wrote “see [1] below”, YPG "
    assert lead(text, None) == "He wrote “see "
    assert lead("No markers recorded. YPG.", ()) == "No markers recorded."


def test_first_sentence_right_answerable_and_unanswerable():
    assert first_sentence_right(["YPG"], "The YPG holds it ", False)
    assert not first_sentence_right(["YPG"], "The YPG holds it ", True)  # an abstention is never right
    assert not first_sentence_right(["YPG"], "Islamic State ", False)
    assert first_sentence_right([], "The archive does not say.", True)  # unanswerable: right when abstained
    assert not first_sentence_right([], "Islamic State ", False)


# ---------------------------------------------------------------- direct answers

def test_direct_right_by_containment_either_way():
    assert direct_right(["YPG"], "YPG")
    assert direct_right(["Islamic State"], "the Islamic State")  # gold within the phrase
    assert direct_right(["Kurdish People's Protection Units"], "People's Protection Units")  # 3 of 4 words
    assert direct_right(["Vell Valley Authority"], "Valley Authority")  # 2 of 3 content words
    assert not direct_right(["Vell Valley Authority"], "Authority")  # 1 of 3: not the answer
    assert not direct_right(["Vell Valley Authority"], "the")  # no content word
    assert not direct_right(["Al Qaim"], "Qaim crossing")  # not whole within the gold, gold not within it
    assert not direct_right(["YPG"], "Islamic State")
    assert not direct_right([], "Reuters")  # a direct answer to an unanswerable question is wrong
    assert content_words("the Vell Valley Authority's") == ["vell", "valley", "authority"]


def test_judge_answer_right_direct():
    judged = judge_answer(_question(), _answer("YPG [1]. The YPG controls the Rabia crossing [1].", "YPG"))
    assert (judged["direct"], judged["direct_right"], judged["first_right"], judged["evidence_quoted"]) == (
        "YPG", True, True, True)


def test_judge_answer_wrong_direct():
    wrong = _answer("Islamic State [2]. The YPG controls the crossing [1].", "Islamic State")
    judged = judge_answer(_question(), wrong)
    assert judged["direct_right"] is False and judged["first_right"] is False
    assert judged["evidence_quoted"] is True  # the lenient figure still counts it: the gold is quoted below


def test_judge_answer_direct_on_an_unanswerable_question_is_wrong():
    judged = judge_answer(_question(answers=()), _answer("Reuters [1]. Reuters said so [1].", "Reuters"))
    assert judged["direct_right"] is False and judged["first_right"] is False and judged["evidence_quoted"] is None
    abstained = judge_answer(_question(answers=()), _answer("The archive does not say who.", abstained=True))
    assert abstained["direct"] is None and abstained["direct_right"] is None and abstained["first_right"] is True


def test_gold_beyond_the_first_marker_is_evidence_quoted_but_not_first_sentence_right():
    text = "Fighting went on near the border [2]. The YPG controls the Rabia crossing [1]."
    two, one = text.index("[2]"), text.index("[1]")
    answer = _answer(text, marks=((two, two + 3, 2), (one, one + 3, 1)))
    judged = judge_answer(_question(), answer)
    assert judged["first_right"] is False and judged["evidence_quoted"] is True and judged["direct"] is None


def test_answer_with_no_marker_is_read_to_its_first_sentence():
    """An LLM's reply (marks None, direct None): no marker, so its first sentence is what is read; it never
    counts as a direct answer."""
    right = judge_answer(_question(), _answer("The YPG controls it. Islamic State lost it."))
    wrong = judge_answer(_question(), _answer("Islamic State lost it. The YPG controls it now."))
    assert right["first_right"] is True and right["direct"] is None and right["direct_right"] is None
    assert wrong["first_right"] is False and wrong["evidence_quoted"] is True


# ---------------------------------------------------------------- answer_type in the question format

def test_answer_type_is_optional_checked_and_round_trips(tmp_path: Path):
    good = {"id": "q1", "question": "Who?", "answers": ["X"], "evidence": [{"doc": "d", "quote": "X did"}],
            "type": "factual", "answer_type": "person"}
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "q2", "answer_type": None}) + "\n")
    first, second = load_questions(path)
    assert first.answer_type == "person" and second.answer_type is None
    assert first.record()["answer_type"] == "person" and "answer_type" not in second.record()
    path.write_text(json.dumps({**good, "answer_type": "animal"}) + "\n")
    with pytest.raises(QuestionSetError, match=r"q\.jsonl:1: 'answer_type' must be one of person, organisation"):
        load_questions(path)
    assert len(ANSWER_TYPES) == 13 and "yes_no" in ANSWER_TYPES and "none" not in NAMED_TYPES


# ---------------------------------------------------------------- flips on the new measures

def _outcome(qid: str, first: bool, direct: bool | None) -> Outcome:
    return Outcome(id=qid, type="factual", kind=None, question=f"question {qid}", answerable=True,
                   evidence_ranks=(1,), retrieved=(), retrieval_ms=1.0, answer="text", abstained=False,
                   evidence_quoted=True, first_right=first, direct=None if direct is None else "X", direct_right=direct)


def test_compare_flips_on_first_sentence_and_direct_answers(tmp_path: Path):
    before = [_outcome("q1", True, None), _outcome("q2", False, False), _outcome("q3", True, True),
              _outcome("q4", True, None)]
    after = [_outcome("q1", True, False), _outcome("q2", True, True), _outcome("q3", True, True),
             _outcome("q4", False, None)]
    found = flips(before, after)
    assert [(f.id, f.metric, f.before, f.after, f.regression) for f in found] == [
        ("q2", "first sentence right", False, True, False), ("q4", "first sentence right", True, False, True),
        ("q2", "direct right", False, True, False),
        ("q1", "direct wrong", False, True, True),  # a new wrong direct answer: a regression
        ("q2", "direct wrong", True, False, False)]
    text = render_flips(found)
    assert text.startswith("2 regression flips, 3 gains.")
    assert "## direct wrong: false → true (1) — regression\n- q1: question q1" in text
    assert "## first sentence right: true → false (1) — regression\n- q4: question q4" in text
    # the same through the script, on two saved runs
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path, outcomes in ((a, before), (b, after)):
        save_run({"format": "archive-qa-eval/2", "run": {"k": 10}, "scores": [],
                  "outcomes": [o.__dict__ | {"retrieved": []} for o in outcomes]}, path)
    shown = subprocess.run([sys.executable, str(ROOT / "eval" / "compare.py"), str(a), str(b)],
                           capture_output=True, text=True, check=True).stdout
    assert "## direct wrong: false → true (1) — regression" in shown


def test_a_run_of_the_old_format_loads_with_evidence_quoted(tmp_path: Path):
    record = {k: v for k, v in _outcome("q1", True, None).__dict__.items()
              if k not in ("evidence_quoted", "first_right", "direct", "direct_right", "answering_ms", "answer_type")}
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"format": "archive-qa-eval/1", "run": {"k": 10}, "scores": [],
                                "outcomes": [{**record, "retrieved": [], "correct": True}]}))
    _, (outcome,) = load_run(path)
    assert outcome.evidence_quoted is True and outcome.first_right is None
    assert flips([outcome], [_outcome("q1", False, False)]) == []  # nothing to compare the new measures on


# ---------------------------------------------------------------- the sets file and the runner

def test_the_repositorys_sets_file_lists_the_existing_sets():
    sets = load_sets(ROOT / "eval" / "domain" / "sets.json", ROOT)
    assert [s.name for s in sets][:3] == ["own", "dated", "sample"]
    for s in sets:
        assert s.questions.is_file(), s
        assert s.archive.exists() or s.name == "own", s  # own lies in ../shared, absent on some machines
    raw = json.loads((ROOT / "eval" / "domain" / "sets.json").read_text())
    assert all(set(item) == {"name", "archive", "questions", "held_out"} for item in raw)


@pytest.mark.parametrize("content, message", [
    ("{}", "expected a non-empty JSON list"),
    ('[{"name": "a", "archive": "x", "questions": "y"}]', "set 1 must be an object with exactly"),
    ('[{"name": "a b", "archive": "x", "questions": "y", "held_out": false}]', "'name' must be letters"),
    ('[{"name": "a", "archive": "x", "questions": "y", "held_out": "no"}]', "'held_out' must be true or false"),
    ('[{"name": "a", "archive": "", "questions": "y", "held_out": true}]', "'archive' must be a path"),
    ('[{"name": "a", "archive": "x", "questions": "y", "held_out": true},'
     ' {"name": "a", "archive": "x", "questions": "y", "held_out": true}]', "set 2: the name 'a' is already used"),
    ("[oops", "Cannot read"),
])
def test_bad_sets_files_are_refused_in_one_line(tmp_path: Path, content: str, message: str):
    path = tmp_path / "sets.json"
    path.write_text(content)
    with pytest.raises(QAError, match=message):
        load_sets(path, tmp_path)


def test_pick_sets_by_name(tmp_path: Path):
    path = tmp_path / "sets.json"
    path.write_text(json.dumps([{"name": n, "archive": n, "questions": "q", "held_out": False} for n in "abc"]))
    sets = load_sets(path, tmp_path)
    assert [s.name for s in pick_sets(sets, "c,a")] == ["a", "c"] and pick_sets(sets, None) == sets
    assert sets[0].archive == tmp_path / "a"
    with pytest.raises(QAError, match="No set named z; the sets are a, b, c"):
        pick_sets(sets, "a,z")


def test_archive_hash_follows_content_not_place(tmp_path: Path):
    for name in ("one", "two"):
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "sub" / "a.txt").write_text("Al Qaim fell.")
    assert archive_hash(tmp_path / "one") == archive_hash(tmp_path / "two")
    (tmp_path / "two" / "sub" / "a.txt").write_text("Al Qaim held.")
    assert archive_hash(tmp_path / "one") != archive_hash(tmp_path / "two")


def test_a_set_without_its_archive_is_skipped_with_a_line(tmp_path: Path, hash_settings):  # type: ignore[no-untyped-def]
    path = tmp_path / "sets.json"
    path.write_text(json.dumps([{"name": "gone", "archive": "no/such/archive", "questions": "q.jsonl",
                                 "held_out": True}]))
    lines: list[str] = []
    runs = run_sets(load_sets(path, tmp_path), lambda index: hash_settings, tmp_path / "cache", log=lines.append)
    assert runs == [] and lines == [f"gone: skipped, no archive at {tmp_path / 'no/such/archive'}."]
    assert not (tmp_path / "cache").exists()


def test_domain_run_script_builds_once_reuses_and_writes_a_comparable_run(tmp_path: Path):
    """Two sets on the bundled sample (hash embedder), one held out, and one whose archive is absent."""
    questions = tmp_path / "sample.jsonl"
    lines = (ROOT / "eval" / "sample_questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions.write_text("\n".join(lines[:6]) + "\n", encoding="utf-8")
    sets_file = tmp_path / "sets.json"
    sets_file.write_text(json.dumps([
        {"name": "gone", "archive": str(tmp_path / "absent"), "questions": str(questions), "held_out": True},
        {"name": "mine", "archive": str(SAMPLE), "questions": str(questions), "held_out": False},
        {"name": "apart", "archive": str(SAMPLE), "questions": str(questions), "held_out": True},
    ]))
    script = [sys.executable, str(ROOT / "eval" / "domain_run.py"), "--model", "hash", "--quiet",
              "--sets-file", str(sets_file), "--cache", str(tmp_path / "cache")]
    first = subprocess.run([*script, "--json", str(tmp_path / "a.json")], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert f"gone: skipped, no archive at {tmp_path / 'absent'}." in first.stderr
    assert "mine: building an index" in first.stderr and "apart: building an index" in first.stderr
    rows = [line for line in first.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| set | held out | questions | first sentence right | direct given |")
    assert [r.split(" | ")[0] for r in rows[1:4]] == ["| mine", "| apart", "| total (held out)"]
    assert rows[2].split(" | ")[2:] == rows[3].split(" | ")[2:]  # the total is over the held-out set alone
    assert "### mine: per question type" in first.stdout
    again = subprocess.run([*script, "--sets", "apart", "--json", str(tmp_path / "b.json")],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "apart: reusing the index" in again.stderr and "mine" not in again.stdout
    info, outcomes = load_run(tmp_path / "a.json")
    assert info["k"] == 10 and [s["name"] for s in info["sets"]] == ["mine", "apart"]
    assert [o.id for o in outcomes[:2]] == ["mine/s01", "mine/s02"] and all(o.first_right is not None for o in outcomes)
    compared = subprocess.run([sys.executable, str(ROOT / "eval" / "compare.py"), str(tmp_path / "a.json"),
                               str(tmp_path / "b.json")], capture_output=True, text=True, check=True)
    assert "only in A (6): mine/s01" in compared.stdout
    bad = subprocess.run([*script, "--sets", "nope"], capture_output=True, text=True)
    assert bad.returncode == 1 and "No set named nope" in bad.stderr and "Traceback" not in bad.stderr


def test_an_index_is_rebuilt_when_its_archive_changes(tmp_path: Path):
    from qa.config import load_settings
    from qa.eval.domain import DomainSet, ensure_index

    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.txt").write_text("Kessen Bridge report\n\nThe Arvane army holds the Kessen Bridge.\n")
    settings = load_settings({"index": tmp_path / "cache" / "one" / "index", "model": "hash"}, env={})
    settings.index.parent.mkdir(parents=True)
    ds = DomainSet("one", archive, tmp_path / "q.jsonl", True)
    lines: list[str] = []
    assert ensure_index(ds, settings, lines.append) is True
    assert ensure_index(ds, settings, lines.append) is False and "reusing" in lines[-1]
    (archive / "a.txt").write_text("Kessen Bridge report\n\nThe Vell Valley Authority now runs the bridge.\n")
    assert ensure_index(ds, settings, lines.append) is True and "building" in lines[-1]
    other = load_settings({"index": settings.index, "model": "hash:64"}, env={})
    assert ensure_index(ds, other, lines.append) is True  # another model: another index


def test_a_multihop_answers_type_is_read_from_its_form() -> None:
    from qa.eval.questions import answer_form

    assert answer_form("Yes") == "yes_no"
    assert answer_form("Consistent") == "description"
    assert answer_form("March 3, 2024") == "date"
    assert answer_form("$1.2 million") == "number"
    assert answer_form("TechCrunch") == "outlet"
    assert answer_form("Sam Bankman-Fried") == "person"
    assert answer_form("OpenAI") == "organisation"
    assert answer_form("Epic Games") == "organisation"


def test_a_date_is_right_however_it_is_written() -> None:
    from qa.eval.metrics import contains_answer, direct_right

    assert direct_right(["2025-05-25", "May 25, 2025"], "25 May 2025")
    assert contains_answer("May 25, 2025", "The NRF took it on 25 May 2025 [1].")
    assert not direct_right(["2025-05-25"], "26 May 2025")
    assert not contains_answer("2025-05-25", "in May 2025")
