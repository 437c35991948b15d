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
