"""Follow-up questions become standalone queries: pure functions, no index, no model."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.answer.followup import _WHAT_ABOUT, is_followup, names, noun_phrases, rewrite, salient
from qa.answer.timeline import read_state_question

FIRST = "Who controls the Tal Varesh crossing?"


@pytest.mark.parametrize(("text", "expected"), [
    ("Who controls the Al Waleed crossing?", ["the Al Waleed crossing"]),
    ("When did Iron Dawn seize the Tal Varesh crossing?", ["Iron Dawn", "the Tal Varesh crossing"]),
    ("What did the Islamic State of Iraq do?", ["the Islamic State of Iraq"]),
    ("ISIS seizes border crossing in western Anbar", ["ISIS", "Anbar"]),
    ("What happened in Al Qaim and Syria?", ["Al Qaim", "Syria"]),
    ("who controls the border crossing?", []),
])
def test_names_are_capitalised_runs_with_their_head_noun(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_noun_phrases_are_the_fallback_for_lower_case_questions() -> None:
    assert noun_phrases("who controls the border crossing?") == ["the border crossing"]
    assert noun_phrases("how many trucks cross daily") == ["trucks cross daily"]
    assert salient("who controls the border crossing?") == ["the border crossing"]
    assert salient("why?") == []


@pytest.mark.parametrize(("question", "followup"), [
    ("and who held it before that?", True),
    ("What did readers say about it?", True),
    ("Why?", True),
    ("what about Al Qaim?", True),
    ("And Iron Dawn?", True),
    ("When was that?", True),
    ("Did they lose many men?", True),
    ("Who is Emil Drazhev?", False),  # names its own subject
    ("Is there a ceasefire in the upper valley?", False),
    ("How many soldiers were killed at the garrison?", False),
    ("what did readers say?", True),  # no subject of its own
])
def test_followups_are_detected(question: str, followup: bool) -> None:
    assert is_followup(question) is followup


@pytest.mark.parametrize(("question", "query"), [
    ("and who held it before that?", "who held the Tal Varesh crossing before that?"),
    ("What did readers say about it?", "What did readers say about the Tal Varesh crossing?"),
    ("Why?", "Why? (about the Tal Varesh crossing)"),
    ("Did they lose many men?", "Did they lose many men? (about the Tal Varesh crossing)"),
    ("what about Al Qaim?", "Who controls Al Qaim?"),
    ("Who is Emil Drazhev?", "Who is Emil Drazhev?"),
])
def test_followups_carry_the_earlier_subject(question: str, query: str) -> None:
    assert rewrite(question, [FIRST]).query == query


def test_a_rewrite_reports_what_it_carried_and_whether_it_changed() -> None:
    r = rewrite("and who held it before that?", [FIRST])
    assert r.context == ("the Tal Varesh crossing",)
    assert r.changed and r.question == "and who held it before that?"
    standalone = rewrite("Who is Emil Drazhev?", [FIRST])
    assert not standalone.changed and standalone.context == ()


def test_the_most_recent_turn_with_a_subject_wins() -> None:
    history = ["Who controls the Al Waleed crossing?", "Who controls the Tal Varesh crossing?", "Why?"]
    assert rewrite("when was it taken?", history).query == "when was the Tal Varesh crossing taken?"


def test_chained_followups_keep_the_subject() -> None:
    history = [FIRST]
    for question in ("and who held it before that?", "why did they leave?", "what did readers say?"):
        history.append(rewrite(question, history).query)
    assert all("Tal Varesh" in q for q in history[1:]), history


def test_questions_about_readers_search_comments_only() -> None:
    assert rewrite("What did readers say about it?", [FIRST]).kinds == ("comment",)
    assert rewrite("what about the readers?", [FIRST]).query == FIRST
    assert rewrite("what about the readers?", [FIRST]).kinds == ("comment",)
    assert rewrite("What do the comments say about Al Qaim?", []).kinds == ("comment",)
    assert rewrite("and who held it before that?", [FIRST]).kinds is None


def test_no_history_means_no_rewrite() -> None:
    assert rewrite("and who held it before that?", []).query == "and who held it before that?"
    assert rewrite("why?", ["why?"]).query == "why?"  # nothing salient to carry


_question = st.lists(st.sampled_from(
    ["and", "who", "held", "it", "before", "that", "Tal", "Varesh", "readers", "the", "crossing", "why",
     "what", "about", "Iron", "Dawn", "they", "army", "?", "Ünïcode", "O'Neil", "x-ray"]), min_size=1, max_size=10)


@given(_question.map(" ".join), st.lists(_question.map(" ".join), max_size=3))
def test_a_rewrite_keeps_every_content_word_of_the_question(question: str, previous: list[str]) -> None:
    r = rewrite(question, previous)
    dropped = {"and", "but", "so", "also", "then", "ok", "okay", "well", "it"}  # a connector, or "it" replaced
    what_about = _WHAT_ABOUT.match(question)
    if what_about and r.query != question.strip():
        # "what about X?": X takes the earlier subject's place, or "the readers" becomes the comment filter
        dropped |= {"what", "how", "about"}
        if r.kinds == ("comment",):
            dropped |= {w.lower() for w in re.findall(r"[^\W_][\w'’\-]*", what_about["x"])}
    for word in re.findall(r"[^\W_][\w'’\-]*", question):
        assert word.lower() in dropped or re.search(rf"\b{re.escape(word)}\b", r.query, re.IGNORECASE), (
            question, previous, r.query)
    if not previous:
        assert r.query == question.strip()


def test_since_when_after_who_holds_asks_since_when_it_is_held() -> None:
    previous = ["Who controls the Tal Varesh crossing?"]
    since = rewrite("Since when?", previous)
    assert since.query == "Since when has the Tal Varesh crossing been held?"
    assert read_state_question(since.query).mode == "since"
    # and "what about Y?" keeps the substantive question, not the follow-up's
    assert rewrite("What about Stavrin?", previous + [since.query]).query == "Who controls Stavrin?"
