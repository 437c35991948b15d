"""The held-out domain sets: every quote verbatim in its archive, ids unique, fields in vocabulary."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "eval/domain/sets.json"
SEED = ROOT / "../shared/archive"


def _checker():
    spec = importlib.util.spec_from_file_location("check_sets", ROOT / "eval/domain/check_sets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


check = _checker()


def test_domain_sets_hold():
    problems, counts = check.check_sets(SETS, skip_missing=True)
    assert problems == []
    for name in ("wire", "analysis", "forum"):
        assert counts[name] >= 35, name
    for name in FRESH:
        assert counts[name] >= 45, name
    assert sum(counts.values()) >= (150 if "seed" in counts else 100)


# written after the answering code, never run while it was tuned
FRESH = ("monitor", "press", "bulletin", "blog", "relief", "broadcast", "hearing", "osint", "maritime",
         "digest")
INVENTED = ("wire", "analysis", "forum", *FRESH)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_held_out_set_loads_with_the_projects_loader():
    from qa.eval.questions import load_questions
    for entry in json.loads(SETS.read_text(encoding="utf-8")):
        if entry["held_out"]:
            assert load_questions(ROOT / entry["questions"]), entry["name"]


def test_the_fresh_sets_ask_every_kind_of_question():
    for name in FRESH:
        lines = _lines(ROOT / "eval/domain" / name / "questions.jsonl")
        types = {r["type"] for r in lines}
        assert {"current_state", "temporal", "history", "factual", "comment", "unanswerable"} <= types, name
        assert {"holder", "person", "organisation", "outlet", "date", "number"} & {r["answer_type"] for r in lines} \
            >= {"holder", "person", "date", "number"}, name
        # a figure the sources disagree on says which source the gold follows
        assert sum(1 for r in lines if r["answer_type"] == "number" and "note" in r) >= 2, name


@pytest.mark.skipif(not SEED.is_dir(), reason="the seed pages (../shared/archive) are not here")
def test_seed_set_holds():
    problems, counts = check.check_sets(SETS)
    assert problems == []
    assert counts["seed"] >= 40


def _tiny(tmp_path: Path, line: dict) -> Path:
    archive = tmp_path / "archive"
    archive.mkdir(parents=True)
    (archive / "page.txt").write_text(
        "Bridge handed to council\n\nMarch 3, 2025\n\nThe bridge is now run by the Vell Council, officials said.\n\n"
        "Tags: bridge\n\n1 Comment\n\n• Ana says:\n\nMarch 4, 2025 at 9:00 am\n\nNo, the army still runs it.\n",
        encoding="utf-8")
    questions = tmp_path / "questions.jsonl"
    filler = [{"id": f"u{i}", "question": "Who chairs the Vell Council?", "answers": [], "evidence": [],
               "type": "unanswerable", "answer_type": "none"} for i in range(2)]
    questions.write_text("".join(json.dumps(r) + "\n" for r in [line, *filler]), encoding="utf-8")
    sets = tmp_path / "sets.json"
    sets.write_text(json.dumps([{"name": "tiny", "archive": str(archive), "questions": str(questions),
                                 "held_out": True}]), encoding="utf-8")
    return sets


GOOD = {"id": "q1", "question": "Who runs the bridge now?", "answers": ["Vell Council"],
        "evidence": [{"doc": "Bridge handed to council", "quote": "now run by the Vell Council"}],
        "type": "current_state", "answer_type": "holder", "kind": "article"}


def test_a_good_line_passes(tmp_path):
    assert check.check_sets(_tiny(tmp_path, GOOD)) == ([], {"tiny": 3})


@pytest.mark.parametrize("change, reason", [
    ({"evidence": [{"doc": "Bridge handed to council", "quote": "now run by the Vell council"}]}, "quote not in"),
    ({"evidence": [{"doc": "Bridge handed", "quote": "now run by the Vell Council"}]}, "no document titled"),
    ({"kind": "comment"}, "not in any comment"),
    ({"answer_type": "ruler"}, "answer_type 'ruler'"),
    ({"type": "guess"}, "type 'guess'"),
    ({"answers": ["Kessen Council"]}, "none of the answers"),
    ({"answers": []}, "cannot have evidence"),
    ({"answers": [], "evidence": []}, "an unanswerable question has no evidence, type 'unanswerable'"),
    ({"id": "u0"}, "already used"),
    ({"source": "x"}, "unknown field"),
    ({"note": ""}, "'note' must be non-empty text"),
])
def test_a_bad_line_is_named(tmp_path, change, reason):
    problems, _ = check.check_sets(_tiny(tmp_path, {**GOOD, **change}))
    assert any(reason in p for p in problems), problems


def test_each_new_archive_has_timelines_and_disagreements():
    for name in INVENTED:
        for extra in ("timelines.jsonl", "disagreements.jsonl"):
            assert len(_lines(ROOT / "eval/domain" / name / extra)) >= 3, (name, extra)
        periods = [r for r in _lines(ROOT / "eval/domain" / name / "timelines.jsonl") if r["type"] == "period"]
        assert len(periods) >= 3, name


def _with_extra(tmp_path: Path, extra: str, record: dict) -> list[str]:
    sets = _tiny(tmp_path, GOOD)
    (tmp_path / extra).write_text(json.dumps(record) + "\n", encoding="utf-8")
    return check.check_sets(sets)[0]


DOC = "Bridge handed to council"


@pytest.mark.parametrize("events, reason", [
    ([{"date": "2025-03-03", "doc": DOC, "quote": "now run by the Vell Council"},
      {"date": "2025-03-01", "doc": DOC, "quote": "officials said"}], "not in date order"),
    ([{"date": "2025-03-01", "doc": DOC, "quote": "now run by the Vell Council"},
      {"date": "March 3, 2025", "doc": DOC, "quote": "officials said"}], "is not YYYY-MM-DD"),
    ([{"date": "2025-03-01", "doc": DOC, "quote": "now run by the Vell Council"},
      {"date": "2025-03-03", "doc": DOC, "quote": "the army took it"}], "quote not in"),
])
def test_a_bad_timeline_is_named(tmp_path, events, reason):
    problems = _with_extra(tmp_path, "timelines.jsonl",
                           {"id": "t1", "question": "Who has run the bridge?", "events": events, "type": "timeline"})
    assert any(reason in p for p in problems), problems


def test_a_disagreement_needs_two_different_quotes(tmp_path):
    side = {"doc": DOC, "quote": "now run by the Vell Council"}
    problems = _with_extra(tmp_path, "disagreements.jsonl", {"id": "x1", "subject": "holder", "pairs": [[side, side]]})
    assert any("against itself" in p for p in problems), problems
    good = [[side, {"doc": DOC, "quote": "No, the army still runs it."}]]
    assert _with_extra(tmp_path / "ok", "disagreements.jsonl", {"id": "x1", "subject": "holder", "pairs": good}) == []
