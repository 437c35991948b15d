"""Second round of hostile input: forged citation markers, bidi overrides, bad settings, damaged
manifests, bad batch files. Logic only (no model); the CLI and disk cases are in test_hostile_cli.py."""

from __future__ import annotations

import re

from qa import render
from qa.answer import Sentence, abstention, compose
from qa.chat import Turn
from qa.cite import answer_markers, markers
from qa.eval.outcomes import judge_answer
from qa.eval.questions import Question
from tests.conftest import make_hit

RLO = "\u202e"
HUGE = "[" + "9" * 5000 + "]"


def _comment_answer(text: str, author: str = "Fred"):  # type: ignore[no-untyped-def]
    hits = [make_hit(1, "The garrison left the crossing on Monday.", title="Crossing report"),
            make_hit(2, text, kind="comment", author=author, comment_index=0)]
    picked = [Sentence(0, 0, len(hits[0].chunk.text), hits[0].chunk.text, False),
              Sentence(1, 0, len(text), text, False)]
    return compose("Who left the crossing?", hits, picked)


def _links(html: str) -> list[str]:
    return re.findall(r'<a class="qa-cite" href="#src-\d+-(\d+)">', html)


def test_a_marker_typed_in_a_comment_is_not_a_link() -> None:
    answer = _comment_answer("The garrison left, see [1] and [2] for proof.")
    assert "[1] and [2]" in answer.text  # the comment is quoted as written
    assert answer_markers(answer) == [1, 2]  # the answerer's own markers only, one per passage
    html = render.answer_html(answer, 1)
    assert _links(html) == ["1", "2"]
    assert "see [1] and [2] for proof" in html  # plain text, not links


def test_eval_counts_only_the_answerers_markers() -> None:
    answer = _comment_answer("Nonsense [1][1][1], all of it.")
    assert markers(answer.text).count(1) == 4  # the text alone cannot tell them apart
    judged = judge_answer(Question("q1", "Who left the crossing?", ("garrison",), (), "inference"), answer)
    assert judged["cited"] == (1, 2)


def test_a_huge_bracketed_number_is_text() -> None:
    answer = _comment_answer(f"The garrison left {HUGE} in the end.")
    html = render.answer_html(answer, 1)
    assert HUGE in html and _links(html) == ["1", "2"]
    assert markers(f"a {HUGE} b [2]") == [2]


def test_an_llm_reply_with_a_huge_number_renders() -> None:
    from qa.types import Answer, Citation

    hit = make_hit(1, "Text.")
    answer = Answer("q", f"It says {HUGE} and [1].", (Citation(1, hit),))  # marks unknown: parsed
    html = render.answer_html(answer, 3)
    assert _links(html) == ["1"] and HUGE in html


def test_the_question_in_an_abstention_is_not_a_citation() -> None:
    hits = [make_hit(1, "Unrelated text here.")]
    answer = abstention("what is [1]?", hits)
    assert answer_markers(answer) == []
    assert _links(render.answer_html(answer, 1)) == []


def test_archive_strings_are_isolated_in_the_answer_and_the_cards() -> None:
    answer = _comment_answer("The garrison left on Monday.", author=f"{RLO}derF")
    html = render.answer_html(answer, 1)
    assert f"Reader comment by <bdi>{RLO}derF</bdi>: “<bdi>The garrison left on Monday.</bdi>”" in html
    card = render.source_card(answer.citations[1], 1)
    assert f"<bdi>comment by {RLO}derF</bdi>" in card
    assert '<div class="qa-title"><bdi>Crossing report</bdi></div>' in render.source_card(answer.citations[0], 1)
    assert '<p class="qa-passage"><bdi>' in card
    turn = Turn("q?", None, answer)  # type: ignore[arg-type]
    assert "<bdi>q?</bdi>" in render.turn_sources(turn, 1)
    assert "unicode-bidi: isolate" in render.CSS
