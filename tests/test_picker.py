"""The fitted answer models: what they read from a question and its sentences, and that the shipped
weights load and behave (no model, no index)."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answer.extractive import ExtractiveAnswerer
from qa.answer.picker import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    SPAN_FEATURES,
    AnswerModel,
    default_model,
    focus_terms,
    idf_share,
)
from qa.answer.span import asks_name, name_phrases
from qa.embed.models import HashEmbedder
from qa.text import stem
from tests.conftest import make_hit


@pytest.mark.parametrize("question, focus, kind", [
    ("What is the population of the town of Al Qaim?", {stem("population")}, set()),
    ("How much customs revenue does the Al Waleed crossing collect?", {stem("customs"), stem("revenue")}, set()),
    ("What is the name of the hotel at the crossing?", {stem("hotel")}, set()),
    ("Which bank handled the transfers?", set(), {stem("bank")}),
    ("Why did the army withdraw?", set(), set()),
])
def test_focus_terms_name_the_attribute_asked_for(question: str, focus: set[str], kind: set[str]) -> None:
    assert focus_terms(question) == (focus, kind)


def test_name_phrases_trim_function_words_titles_and_possessives() -> None:
    found = [p.text for p in name_phrases("Current Fed Chair Jerome Powell met Elon Musk’s lawyers in New York.")]
    assert found == ["Fed Chair Jerome Powell", "Elon Musk", "New York"]


@pytest.mark.parametrize("question, expected", [
    ("Who wrote it?", True), ("Which company was sued?", True), ("What is the name of the hotel?", True),
    ("What did readers say about it?", False), ("Which date was it?", False), ("How far is it?", False),
])
def test_which_questions_a_name_answers(question: str, expected: bool) -> None:
    assert asks_name(question) is expected


def test_idf_share_weights_rare_terms() -> None:
    assert idf_share({"a": 1.0, "b": 3.0}, {"b"}) == 0.75


def test_the_shipped_model_loads_with_its_features(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = default_model()
    assert model.picker.weights.shape == (len(SENTENCE_FEATURES),)
    assert model.abstain.weights.shape == (len(QUESTION_FEATURES),)
    assert model.span is not None and model.span.weights.shape == (len(SPAN_FEATURES),)
    model.save(tmp_path / "answer.json")
    again = AnswerModel.load((tmp_path / "answer.json").read_text(encoding="utf-8"))
    assert np.allclose(again.picker.weights, model.picker.weights) and again.threshold == model.threshold


def test_a_model_for_other_features_is_refused() -> None:
    text = '{"version": 1, "sentence_features": ["cos"], "question_features": []}'
    with pytest.raises(ValueError, match="other features"):
        AnswerModel.load(text)


def test_the_picker_quotes_the_sentence_that_says_what_was_asked() -> None:
    hits = [make_hit(1, "The bridge is old. The council said the repairs cost 1.4 million crowns. It rained."),
            make_hit(2, "Stallholders returned to the market on Tuesday after the repairs.")]
    answer = ExtractiveAnswerer(HashEmbedder()).answer("How much did the repairs to the market cost?", hits)
    assert not answer.abstained and "1.4 million crowns" in answer.text.splitlines()[0]


def test_a_typed_person_question_is_led_only_by_a_name_spoken_of_as_a_person() -> None:
    from qa.answer.span import not_a_person, spoken_of_as_person

    texts = ["presiding judge katarina orsolic said the messages showed a plan by iron dawn.",
             "fighting in tal varesh went on; the brigades held tal varesh for weeks."]
    assert spoken_of_as_person("Katarina Orsolic", texts) and not not_a_person("Katarina Orsolic", texts)
    assert not spoken_of_as_person("Iron Dawn", texts)
    assert not_a_person("Tal Varesh", texts)  # most mentions follow "in"
    assert not_a_person("Port Calvera", texts) and not_a_person("Iron Dawn Brigades", texts)
    assert not_a_person("Sam and I", texts)


def test_a_name_question_for_one_name_splits_joined_names_and_a_surname_is_written_in_full() -> None:
    from qa.answer.span import asks_plural, full_name, name_phrases, singular

    assert not asks_plural("Which sportsbook offers a $1,000 bonus?") and asks_plural("Which two celebrities met?")
    assert [p.text for p in singular(name_phrases("Like DraftKings and FanDuel, it pays out."))] == \
        ["DraftKings", "FanDuel"]
    assert [p.text for p in name_phrases("It runs on Android. Epic sued Google.")] == ["Android", "Epic", "Google"]
    hits = [make_hit(1, "Sam Altman spoke first. Later Altman left."), make_hit(2, "Altman said no.", doc="d2")]
    assert full_name("Altman", hits) == "Sam Altman" and full_name("Reuters", hits) == "Reuters"
