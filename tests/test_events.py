"""Dated events about a subject across many reports: the questions that ask for them, the events read, dated
and merged. Pure: hand-made passages, no model, no index."""

from __future__ import annotations

import pytest

from qa.answer.events import event_reports, in_window, merge, read_topic, window
from qa.types import Chunk, Hit


def hit(title: str, day: str | None, text: str, kind: str = "article", author: str | None = None,
        doc: str | None = None, comment: int | None = None) -> Hit:
    doc = doc or title
    chunk = Chunk(f"{doc}:{comment}:{text[:12]}", doc, kind, text, title, 0, len(text), title,  # type: ignore[arg-type]
                  author, day, comment)
    return Hit(chunk, 1.0, 0, source="The Lorva Dispatch")


@pytest.mark.parametrize("question, kind, subject, start, end", [
    ("Timeline of Al Qaim", "timeline", "Al Qaim", None, None),
    ("How did the fighting for Brega unfold?", "timeline", "the fighting for Brega", None, None),
    ("When did Tesk change hands?", "timeline", "Tesk", None, None),
    ("What did the archive report about Trebil in 2014?", "period", "Trebil", "2014-01-01", "2014-12-31"),
    ("What happened in Homs between February and April 2012?", "period", "Homs", "2012-02-01", "2012-04-30"),
    ("What did readers say about the Kessen Bridge?", "readers", "the Kessen Bridge", None, None),
    ("Which commenters disagreed with the article?", "readers", "", None, None),
    ("Where do reports disagree about the death toll in Tesk?", "disagree", "the death toll in Tesk", None, None),
])
def test_read_topic(question: str, kind: str, subject: str, start: str | None, end: str | None) -> None:
    topic = read_topic(question)
    assert topic is not None
    assert (topic.kind, topic.subject, topic.date_from, topic.date_to) == (kind, subject, start, end)


def test_read_topic_leaves_other_questions_alone() -> None:
    assert read_topic("Who controls the Kessen Bridge?") is None
    assert read_topic("Which commenter said the hotel was a COC?") is None
    assert read_topic("Timeline of the bridge, newest first").newest_first  # type: ignore[union-attr]


def test_window_bounds() -> None:
    assert window("since March 2025") == ("2025-03-01", None)
    assert window("before 2014") == (None, "2013-12-31")
    assert window("in March 2024") == ("2024-03-01", "2024-03-31")


def test_event_dates_resolved_against_the_report() -> None:
    topic = read_topic("Timeline of Tesk")
    assert topic is not None
    hits = [hit("Rebels seize Tesk", "2025-02-03", "Rebels of the Free Coast seized the town of Tesk on Sunday. "
                "Traders said prices rose.")]
    reports = event_reports(topic, hits)
    assert [(r.day, r.explicit) for r in reports] == [("2025-02-02", True)]  # 3 Feb 2025 is a Monday


def test_near_duplicate_reports_merge_with_every_citation() -> None:
    topic = read_topic("Timeline of Tesk")
    assert topic is not None
    hits = [hit("Rebels seize Tesk", "2025-02-03", "Rebels of the Free Coast seized the town of Tesk on Sunday."),
            hit("Tesk falls", "2025-02-04", "Rebels of the Free Coast seized the town of Tesk on February 2."),
            hit("Army retakes Tesk", "2025-05-19", "The army recaptured Tesk on Sunday, May 18, 2025."),
            hit("Tesk history", None, "Tesk was founded as a market town by the river.")]
    events = merge(event_reports(topic, hits), hits)
    assert [e.day for e in events] == ["2025-02-02", "2025-05-18", None]  # undated last
    assert events[0].hits == [0, 1]


def test_a_month_and_day_far_before_the_report_is_not_a_year_back() -> None:
    topic = read_topic("Timeline of the Tesk crossing")
    assert topic is not None
    hits = [hit("Tesk crossing", "2024-05-22", "The Tesk crossing will remain closed until at least June 10, "
                                                "officials said.")]
    assert [r.day for r in event_reports(topic, hits)] == ["2024-05-22"]


def test_period_keeps_events_inside_the_window() -> None:
    topic = read_topic("What happened in Tesk in 2025?")
    assert topic is not None
    hits = [hit("a", "2024-12-30", "Rebels of the Free Coast seized Tesk on December 29, 2024."),
            hit("b", "2025-05-19", "The army recaptured Tesk on Sunday, May 18, 2025.")]
    assert [e.day for e in merge(event_reports(topic, hits), hits) if in_window(e, topic)] == ["2025-05-18"]


WIRE = ("Rebels leave Amber Bridge\n\nApril 9, 2025\n\nFull Article\n\nLISSA RIVER, Dessa, April 9 (Northgate Wire) - "
        "Free Coast fighters withdrew from Amber Bridge on Tuesday under last week's truce.\n\n"
        "Southern Shield fighters withdrew from Amber Bridge on Saturday and the army's 9th Division took over the "
        "bridge on Sunday, officials said.\n\nRelated coverage\n\nRebels capture Amber Bridge, cutting the highway")


def test_a_wire_dateline_is_not_the_day_of_the_event() -> None:
    topic = read_topic("Timeline of Amber Bridge")
    assert topic is not None
    reports = event_reports(topic, [hit("Rebels leave Amber Bridge", "2025-04-09", WIRE)])
    first = next(r for r in reports if "Free Coast" in r.clause)
    assert (first.day, first.explicit) == ("2025-04-08", True)  # the Tuesday before 9 April, not 9 April
    assert first.clause.startswith("Free Coast fighters withdrew")  # the dateline is not quoted


def test_headlines_after_related_coverage_are_not_reports() -> None:
    topic = read_topic("Timeline of Amber Bridge")
    assert topic is not None
    reports = event_reports(topic, [hit("Rebels leave Amber Bridge", "2025-04-09", WIRE)])
    assert not any("cutting the highway" in r.clause for r in reports)


def test_two_events_on_two_days_in_one_sentence_are_two_lines() -> None:
    topic = read_topic("Timeline of Amber Bridge")
    assert topic is not None
    reports = event_reports(topic, [hit("Rebels leave Amber Bridge", "2025-04-09", WIRE)])
    assert [(r.day, r.clause.split()[0]) for r in reports if "Division" in r.clause or "Shield" in r.clause] == [
        ("2025-04-05", "Southern"), ("2025-04-06", "the")]
    nxt = event_reports(topic, [hit("Army leaves", "2025-04-23", "Troops withdrew from Amber Bridge on Monday under a "
                                    "deal, and militia fighters took over the bridge the next day, residents said.")])
    assert [r.day for r in nxt] == ["2025-04-21", "2025-04-22"]


def test_last_weekday_in_a_report_of_that_weekday_is_a_week_before() -> None:
    topic = read_topic("Timeline of the Vask dam")
    assert topic is not None
    # 18 June 2024 is a Tuesday
    reports = event_reports(topic, [hit("Drones over the Vask dam", "2024-06-18", "Last Tuesday, fighters of the "
                                        "Sons of the Ridge seized the Vask dam, the plant that lights the valley.")])
    assert [r.day for r in reports] == ["2024-06-11"]


def test_a_report_headlined_with_the_subject_gives_its_dated_sentences() -> None:
    topic = read_topic("How did Dunmere pass to civilian hands?")
    assert topic is not None and topic.subject == "Dunmere"
    text = ("Dunmere is now run by a civilian committee. The ceasefire signed on April 20 ended the siege. "
            "The militia withdrew on April 22, two days after the signing. Residents said shops opened on Monday.")
    days = [r.day for r in event_reports(topic, [hit("Who runs Dunmere?", "2024-05-02", text)])]
    assert days == ["2024-05-02", "2024-04-20", "2024-04-22"]  # not the shops: no day written, no change of hands


@pytest.mark.parametrize("question, kind, subject, start, end", [
    ("What happened in Belmora in the autumn of 2024?", "period", "Belmora", "2024-09-01", "2024-11-30"),
    ("What happened in Wenlow in the first three months of 2025?", "period", "Wenlow", "2025-01-01", "2025-03-31"),
    ("What happened in Homs in the second half of 2012?", "period", "Homs", "2012-07-01", "2012-12-31"),
    ("What happened in Brask in June and July 2025?", "period", "Brask", "2025-06-01", "2025-07-31"),
    ("What did the Courier report between July and October 2025?", "period", "", "2025-07-01", "2025-10-31"),
    ("What did the institute write about the Vask dam in 2024?", "period", "the Vask dam", "2024-01-01",
     "2024-12-31"),
    ("What changed hands in Dessa between April and June 2025?", "period", "Dessa", "2025-04-01", "2025-06-30"),
    ("Which Wenlow services changed hands in 2025?", "period", "Wenlow services", "2025-01-01", "2025-12-31"),
    ("Who has run the Aske ferry in 2025?", "period", "the Aske ferry", "2025-01-01", "2025-12-31"),
    ("What happened with the river in Wenlow in May 2025?", "period", "the river in Wenlow", "2025-05-01",
     "2025-05-31"),
    ("How did Dunmere pass to civilian hands?", "timeline", "Dunmere", None, None),
])
def test_read_topic_windows_and_forms(question: str, kind: str, subject: str, start: str | None,
                                      end: str | None) -> None:
    topic = read_topic(question)
    assert topic is not None
    assert (topic.kind, topic.subject, topic.date_from, topic.date_to) == (kind, subject, start, end)


def test_a_source_question_without_a_window_is_not_a_digest() -> None:
    assert read_topic("What did the minister write about the war?") is None


@pytest.mark.parametrize("question, subject, history", [
    ("Who has run the Aske ferry?", "the Aske ferry", True),
    ("Who has held the Vask dam, and when did it change hands?", "the Vask dam", True),
    ("Who has held Quarnby since the fighting began?", "Quarnby", True),
    ("What is the history of control of Port Halvik?", "Port Halvik", True),
    ("How has control of Pellin Dam changed?", "Pellin Dam", True),
    ("What happened to the Kessra bridge?", "the Kessra bridge", False),  # who holds it
    ("Who has controlled Fallujah since early January?", "Fallujah", False),  # who holds it since then
])
def test_a_history_asked_for_is_a_timeline_even_of_a_held_place(question: str, subject: str, history: bool) -> None:
    topic = read_topic(question)
    assert topic is not None and (topic.kind, topic.subject, topic.history) == ("timeline", subject, history)
