"""Answers over many reports: timelines, periods, disagreements and readers' comments, and their scores.
Hand-made passages for the logic; the dated archive through the whole pipeline (hash embedder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.answer.claims import claims_about, counts, disagreements
from qa.answer.digest import answer_disagreements, answer_readers, answer_timeline, with_toll_disagreements
from qa.answer.events import read_topic
from qa.answer.timeline import StateQuestion
from qa.eval.timelines import answer_pairs, score_pairs, score_timeline
from qa.types import Answer, Citation
from tests.test_events import hit

ROOT = Path(__file__).resolve().parent.parent


def topic(question: str):  # type: ignore[no-untyped-def]
    found = read_topic(question)
    assert found is not None
    return found


HITS = [hit("Rebels seize Tesk", "2025-02-03", "Rebels of the Free Coast seized the town of Tesk on Sunday. "
            "A doctor said 14 people had been killed in Tesk."),
        hit("Tesk toll", "2025-02-20", "The ministry said 20 people had been killed in Tesk."),
        hit("Army retakes Tesk", "2025-05-19", "The Dessan army recaptured Tesk on Sunday, May 18, 2025."),
        hit("Life in Tesk", "2025-05-25", "Tesk remains under Free Coast control, residents said."),
        hit("Army retakes Tesk", "2025-05-19", "The Free Coast still holds Tesk, whatever the army says.",
            kind="comment", author="riverman", doc="Army retakes Tesk", comment=0)]


def test_timeline_lines_oldest_first_newest_on_request() -> None:
    answer = answer_timeline("Timeline of Tesk", topic("Timeline of Tesk"), HITS)
    assert answer is not None
    days = re.findall(r"^(\d{1,2} \w{3} \d{4}) —", answer.text, re.M)
    assert days == ["2 Feb 2025", "20 Feb 2025", "18 May 2025", "25 May 2025"]
    assert [p.day for p in answer.timeline] == sorted(p.day for p in answer.timeline)
    newest = answer_timeline("Timeline of Tesk, newest first", topic("Timeline of Tesk, newest first"), HITS)
    assert newest is not None
    assert re.findall(r"^(\d{1,2} \w{3} \d{4}) —", newest.text, re.M) == list(reversed(days))


def test_every_marker_points_at_a_citation() -> None:
    answer = answer_timeline("Timeline of Tesk", topic("Timeline of Tesk"), HITS)
    assert answer is not None and answer.marks
    numbers = {c.n for c in answer.citations}
    assert {n for _, _, n in answer.marks} <= numbers
    for a, b, n in answer.marks:
        assert answer.text[a:b] == f"[{n}]"


def test_counts_read_word_and_digit_tolls() -> None:
    assert [(c.what, c.value) for c in counts("Thirty-one people were killed in the fighting.")] == \
        [("people killed", 31)]
    assert [(c.what, c.value) for c in counts("The blast killed 6 soldiers and wounded 15.")] == \
        [("soldiers killed", 6)]


def test_disagreements_holder_and_toll_side_by_side() -> None:
    answer = answer_disagreements("Where do reports disagree about Tesk?", topic(
        "Where do reports disagree about Tesk?"), HITS)
    assert answer is not None
    pairs = answer_pairs(answer)
    said = [(a.text, b.text) for a, b in pairs]
    assert any("20 people" in a and "14 people" in b for a, b in said)  # newer first
    assert any("remains under Free Coast control" in a and "recaptured" in b for a, b in said)
    assert "reader comment by riverman (opinion)" in answer.text
    assert "The Lorva Dispatch" in answer.text  # the outlet


def test_no_pair_between_a_change_and_the_state_after_it() -> None:
    hits = [hit("a", "2025-02-03", "Rebels of the Free Coast seized the town of Tesk on Sunday."),
            hit("b", "2025-03-01", "Tesk remains under Free Coast control, residents said."),
            hit("c", "2025-05-19", "The Dessan army recaptured Tesk on Sunday, May 18, 2025."),
            hit("d", "2025-05-30", "Tesk is under the control of the Dessan army, officials said."),
            hit("e", "2024-07-15", "Two soldiers were killed in Tesk on July 14, 2024."),
            hit("f", "2024-07-15", "One soldier was killed in Tesk on June 22, 2024.")]
    assert disagreements(claims_about(StateQuestion("Tesk"), hits), hits) == []


def test_how_many_answer_gets_a_reports_disagree_part() -> None:
    plain = Answer("How many people were killed in Tesk?", "14 people [1].", (Citation(1, HITS[0]),),
                   marks=((11, 14, 1),))
    told = with_toll_disagreements(plain, HITS)
    assert told.text.startswith("14 people [1].\nReports disagree:")
    assert len(answer_pairs(told)) == 1
    assert len(told.citations) == 2 and told.citations[1].hit is HITS[1]


def test_readers_grouped_by_commenter_and_contradiction_flagged() -> None:
    answer = answer_readers("What did readers say about Tesk?", topic("What did readers say about Tesk?"), HITS)
    assert answer is not None
    assert "riverman:" in answer.text and "opinion" in answer.text
    assert "contradicts the article (who holds it)" in answer.text


def test_scores_find_events_dates_and_pairs() -> None:
    answer = answer_timeline("Timeline of Tesk", topic("Timeline of Tesk"), HITS)
    assert answer is not None
    gold = {"events": [{"date": "2025-02-02", "doc": "Rebels seize Tesk", "quote": "seized the town of Tesk"},
                       {"date": "2025-05-18", "doc": "Army retakes Tesk", "quote": "The Dessan army recaptured Tesk"},
                       {"date": "2025-01-01", "doc": "Nowhere", "quote": "nothing of the kind"}]}
    s = score_timeline(answer, gold)
    assert (s.events, s.found, s.right_date) == (3, 2, 2)
    assert s.supported == s.markers > 0
    dis = answer_disagreements("x", topic("Where do reports disagree about Tesk?"), HITS)
    assert dis is not None
    pair = {"pairs": [[{"doc": "Rebels seize Tesk", "quote": "14 people had been killed"},
                       {"doc": "Tesk toll", "quote": "20 people had been killed"}]]}
    assert score_pairs(dis, pair).found == 1


@pytest.fixture(scope="module")
def dated() -> object:
    import tempfile

    from qa.build import build_index
    from qa.config import load_settings
    from qa.pipeline import Pipeline

    settings = load_settings({"index": Path(tempfile.mkdtemp()) / "index", "model": "hash"}, env={})
    build_index([ROOT / "eval" / "dated_archive"], settings)
    return Pipeline.open(settings)


def test_pipeline_timeline_and_period(dated) -> None:  # type: ignore[no-untyped-def]
    answer = dated.ask("Timeline of the Kessen Bridge")
    assert re.findall(r"^(\d{1,2} \w{3} \d{4}) —", answer.text, re.M)[:4] == [
        "9 Feb 2023", "4 Jun 2023", "18 Nov 2023", "29 Feb 2024"]
    assert "Undated reports:" in answer.text and "1961" in answer.text
    assert answer.timeline and answer.timeline[0].day == "2023-02-09"
    period = dated.ask("What happened at the Kessen Bridge in 2023?")
    assert "3 reports read" in period.text
    assert "2024" not in period.text.split("Reports disagree:")[0].split("\n", 1)[1]


def test_pipeline_who_holds_answer_leaves_readers_out_of_reports_disagree(dated) -> None:  # type: ignore[no-untyped-def]
    answer = dated.ask("Who controls the Kessen Bridge?")
    assert "Reports disagree:" not in answer.text  # only readers dispute it there: asked for apart
    readers = dated.ask("Which commenters disagreed with the article?")
    assert "contradicts the article (who holds it)" in readers.text and "riverman" in readers.text


def test_pipeline_who_holds_answer_says_where_reports_disagree(tmp_path: Path) -> None:
    from qa.build import build_index
    from qa.config import load_settings
    from qa.pipeline import Pipeline

    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.txt").write_text("Rebels seize the Varna Bridge\n\nMarch 3, 2025\n\nFree Coast fighters captured the "
                                   "Varna Bridge on Sunday, March 2, 2025, officials said.\n", encoding="utf-8")
    (archive / "b.txt").write_text("Army says it still holds the Varna Bridge\n\nMarch 5, 2025\n\nThe Varna Bridge "
                                   "remains under the control of the Dessan army, the ministry said.\n",
                                   encoding="utf-8")
    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    build_index([archive], settings)
    answer = Pipeline.open(settings).ask("Who controls the Varna Bridge?")
    assert answer.text.startswith("As of 5 Mar 2025, the Dessan army holds the Varna Bridge")
    pairs = answer_pairs(answer)
    assert len(pairs) == 1
    newer, older = pairs[0]
    assert "remains under the control of the Dessan army" in newer.text and "5 Mar 2025" in newer.text
    assert "Free Coast fighters captured" in older.text and "3 Mar 2025" in older.text
    by_n = {c.n: c for c in answer.citations}
    for _, _, n in answer.marks or ():
        assert by_n[n].used_sentences


def test_an_event_is_scored_on_the_line_that_tells_it_and_any_way_a_date_is_written() -> None:
    chunk = HITS[2].chunk
    text = ("4 June 2025 — “The Dessan army said the Free Coast had held Tesk” [1]\n"
            "May 18, 2025: “The Dessan army recaptured Tesk on Sunday” [1]")
    marks = tuple((m.start(), m.end(), 1) for m in re.finditer(r"\[1\]", text))
    answer = Answer("q", text, (Citation(1, HITS[2], ((0, len(chunk.text)),)),), marks=marks)
    gold = {"events": [{"date": "2025-05-18", "doc": "Army retakes Tesk", "quote": "The Dessan army recaptured Tesk"}]}
    s = score_timeline(answer, gold)
    assert (s.found, s.right_date) == (1, 1)  # the second line holds all the quote; the first only half


def test_a_toll_said_on_a_day_is_not_a_toll_of_that_day() -> None:
    hits = [hit("Rebels seize Tesk", "2025-02-03", "A doctor said 14 people had been killed in Tesk."),
            hit("Tesk toll at 31", "2025-03-03", "Thirty-one people were killed in the fighting for Tesk last month, "
                "the health ministry said on Monday.")]
    dis = answer_disagreements("x", topic("Where do reports disagree about the death toll in Tesk?"), hits)
    assert dis is not None and "14 people" in dis.text and "Thirty-one" in dis.text


def test_a_toll_question_gets_toll_pairs_only() -> None:
    dis = answer_disagreements("x", topic("Where do reports disagree about the death toll in Tesk?"), HITS)
    assert dis is not None
    assert [a.text.split(":")[0] for a, _ in answer_pairs(dis)] == ["• people killed"]
    both = answer_disagreements("x", topic("Where do reports disagree about Tesk?"), HITS)
    assert both is not None and any("who holds it" in a.text for a, _ in answer_pairs(both))


def test_counts_read_losses_tolls_put_at_and_people_displaced() -> None:
    assert [(c.what, c.value) for c in counts("The Southern Shield said it lost 6 men.")] == [("fighters killed", 6)]
    assert [(c.what, c.value, c.bound) for c in counts("He said the army had lost more than 100 men.")] == \
        [("soldiers killed", 100, "min")]
    assert [c.what for c in counts("He said they lost 12 men.")] == ["men killed"]  # whose men: not said
    assert [(c.what, c.value) for c in counts("The government puts the toll at 1,150.")] == [("people killed", 1150)]
    assert [(c.what, c.value) for c in counts("The hospital has recorded 31 civilian deaths.")] == \
        [("civilians killed", 31)]
    assert [(c.what, c.value, c.bound) for c in counts("At least 11 civilians have been killed and some 4,200 "
                                                       "people displaced.")] == \
        [("civilians killed", 11, "min"), ("people displaced", 4200, "")]


def test_no_pair_with_a_bound_met_nor_a_running_total_that_grew() -> None:
    hits = [hit("Flash update", "2024-03-12", "At least 11 civilians have been killed in Quarnby."),
            hit("Update 3", "2024-03-26", "In Quarnby, 23 civilians killed since 9 March (preliminary)."),
            hit("Access report", "2024-04-18", "The Quarnby hospital has recorded 31 civilian deaths since 9 March."),
            hit("Snapshot", "2024-04-19", "In Quarnby, 9,800 people were displaced."),
            hit("Flash update 2", "2024-03-12", "In Quarnby, 4,200 people were displaced.")]
    assert disagreements(claims_about(StateQuestion("Quarnby"), hits), hits) == []
    hits.append(hit("Other count", "2024-04-20", "A group says 25 civilians were killed in Quarnby since 9 March."))
    assert len(disagreements(claims_about(StateQuestion("Quarnby"), hits), hits)) == 1  # 25 after 31: a dispute


CORRECTED = [hit("Three weeks in", "2024-10-14", "Last Thursday the Legion took the Saltmarsh pumping station. "
                 "The ration is two litres a person a day."),
             hit("Three weeks in", "2024-10-14", "They took the pumping station on Wednesday afternoon, not Thursday.",
                 kind="comment", author="oldmillhand", doc="Three weeks in", comment=0),
             hit("Three weeks in", "2024-10-15", "The council sold the mill for £900,000, not £1.2 million.",
                 kind="comment", author="Ann", doc="Three weeks in", comment=1)]


def test_a_correction_is_paired_with_what_it_corrects_when_asked_about() -> None:
    dis = answer_disagreements("x", topic("Where do reports disagree about when the Legion took the pumping "
                                          "station?"), CORRECTED)
    assert dis is not None
    assert [(a.text.split(":")[0], "not Thursday" in a.text, "Last Thursday" in b.text)
            for a, b in answer_pairs(dis)] == [("• the day", True, True)]
    # a correction of something else, or one that finds nothing it corrects, pairs nothing
    assert answer_disagreements("x", topic("Where do reports disagree about the date of the council election?"),
                                CORRECTED) is None
    assert answer_disagreements("x", topic("Where do reports disagree about the price of the mill?"),
                                CORRECTED) is None
