"""Second round of hostile input: forged citation markers, bidi overrides, bad settings, damaged
manifests, bad batch files. Logic only (no model); the CLI and disk cases are in test_hostile_cli.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa import render
from qa.answer import Sentence, abstention, compose
from qa.chat import Turn
from qa.cite import answer_markers, markers
from qa.config import load_settings
from qa.errors import ConfigError
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


# --- settings: every bad value is refused at load, naming the setting and its variable -------------

BAD_SETTINGS = {
    "llm_timeout nan": ({"QA_LLM_TIMEOUT": "nan"}, "llm_timeout (QA_LLM_TIMEOUT)"),
    "llm_timeout inf": ({"QA_LLM_TIMEOUT": "inf"}, "llm_timeout (QA_LLM_TIMEOUT)"),
    "max_question_chars 1e400": ({"QA_MAX_QUESTION_CHARS": "1e400"}, "max_question_chars (QA_MAX_QUESTION_CHARS)"),
    "url unclosed ipv6": ({"QA_LLM_URL": "http://[::1"}, "llm_url (QA_LLM_URL)"),
    "url with a space": ({"QA_LLM_URL": "http://exa mple/v1"}, "llm_url (QA_LLM_URL)"),
    "url port not a number": ({"QA_LLM_URL": "http://127.0.0.1:abc/v1"}, "llm_url (QA_LLM_URL)"),
    "url port too big": ({"QA_LLM_URL": "http://127.0.0.1:99999/v1"}, "llm_url (QA_LLM_URL)"),
    "url no host": ({"QA_LLM_URL": "http:///v1"}, "llm_url (QA_LLM_URL)"),
    "api key with a newline": ({"QA_LLM_URL": "http://127.0.0.1:8080/v1", "QA_LLM_API_KEY": "sk-1\nX-Evil: 1"},
                               "QA_LLM_API_KEY"),
    "openai key with a space": ({"QA_LLM_URL": "http://127.0.0.1:8080/v1", "OPENAI_API_KEY": "sk 1"},
                                "OPENAI_API_KEY"),
    "model empty": ({"QA_MODEL": ""}, "model (QA_MODEL)"),
    "model hash:-5": ({"QA_MODEL": "hash:-5"}, "model (QA_MODEL)"),
    "model hash:abc": ({"QA_MODEL": "hash:abc"}, "model (QA_MODEL)"),
    "k abc": ({"QA_K": "abc"}, "k (QA_K) must be a whole number, got 'abc'"),
    "k 1.9": ({"QA_K": "1.9"}, "k (QA_K) must be a whole number"),
    "k 5000 digits": ({"QA_K": "9" * 5000}, "k (QA_K) must be a whole number"),
    "rerank maybe": ({"QA_RERANK": "maybe"}, "rerank (QA_RERANK) must be true or false"),
    "index empty": ({"QA_INDEX": " "}, "index (QA_INDEX)"),
    "dense_weight nan": ({"QA_DENSE_WEIGHT": "nan"}, "dense_weight (QA_DENSE_WEIGHT)"),
}

BAD_TOML = {
    "k = 1.9": "k (QA_K) must be a whole number, got 1.9",
    "k = true": "k (QA_K) must be a whole number, got True",
    "max_question_chars = 1e400": "max_question_chars (QA_MAX_QUESTION_CHARS) must be a whole number",
    "llm_timeout = nan": "llm_timeout (QA_LLM_TIMEOUT) must be a number",
    "llm_timeout = inf": "llm_timeout (QA_LLM_TIMEOUT) must be a number",
    "llm_timeout = true": "llm_timeout (QA_LLM_TIMEOUT) must be a number",
    "rerank = 1": "rerank (QA_RERANK) must be true or false",
    'model = ["a"]': "model (QA_MODEL) must be text",
    "index = 3": "index (QA_INDEX) must be a path",
}


@pytest.mark.parametrize("name", sorted(BAD_SETTINGS))
def test_bad_environment_settings_are_refused_at_load(name: str) -> None:
    env, expected = BAD_SETTINGS[name]
    with pytest.raises(ConfigError) as info:
        load_settings(env=env)
    message = str(info.value)
    assert expected in message and "\n" not in message


@pytest.mark.parametrize("line", sorted(BAD_TOML))
def test_bad_toml_settings_are_refused_at_load(line: str, tmp_path: Path) -> None:
    (tmp_path / "qa.toml").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(BAD_TOML[line])):
        load_settings(env={}, config_file=tmp_path / "qa.toml")


def test_good_settings_still_load(tmp_path: Path) -> None:
    (tmp_path / "qa.toml").write_text("k = 7\nllm_timeout = 2.5\nrerank = false\n", encoding="utf-8")
    s = load_settings(env={"QA_DEPTH": " 40 ", "QA_DENSE_WEIGHT": "0.25", "QA_LLM_URL": "http://[::1]:8080/v1",
                           "QA_LLM_API_KEY": "sk-abc_123", "QA_MODEL": "hash:64"},
                      config_file=tmp_path / "qa.toml")
    assert (s.k, s.llm_timeout, s.rerank, s.depth, s.dense_weight, s.model) == (7, 2.5, False, 40, 0.25, "hash:64")
    assert load_settings(env={"OPENAI_API_KEY": "has a space"}).llm_url == ""  # unused without an endpoint
