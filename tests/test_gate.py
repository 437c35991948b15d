"""The short-answer gate: its fitted numbers are shipped and used, and a doubted short answer leaves the
answering sentence leading."""

from __future__ import annotations

import pytest

from qa.answer import gate, reader
from qa.answer.extractive import ExtractiveAnswerer
from qa.answer.gate import FEATURES, GATE, OPEN, Clues, Gate, choices, tentative
from qa.answer.reader import Limits, read
from qa.embed.models import HashEmbedder
from tests.conftest import make_hit

HITS = [make_hit(1, "The weather was fine. The Grey Hand militia now controls the Tal Ossa crossing after a raid.")]
QUESTION = "Which militia raided the Tal Ossa crossing?"


def test_the_shipped_gate_is_fitted_not_open() -> None:
    assert GATE != OPEN and len(GATE.weights) == len(FEATURES) and 0.5 < GATE.threshold < 1.0
    assert gate.GATE is GATE


def test_the_fitted_gate_passes_a_plain_reading_and_stops_doubted_ones() -> None:
    plain = Clues(model=False, choices=1, margin=1.0, tentative=False)
    assert GATE.admits(plain)
    # the name model's pick among several people, near its rival ("Benedek Sarr" for the mayor now)
    assert not GATE.admits(Clues(model=True, choices=4, margin=0.3, tentative=False))
    # a hedged or planned statement among several dates ("will hand … no later than 30 November")
    assert not GATE.admits(Clues(model=False, choices=4, margin=1.0, tentative=True))
    # each doubt lowers the probability
    p = GATE.probability(plain)
    assert GATE.probability(Clues(True, 1, 1.0, False)) < p and GATE.probability(Clues(False, 3, 1.0, False)) < p
    assert GATE.probability(Clues(False, 1, 0.2, False)) < p and GATE.probability(Clues(False, 1, 1.0, True)) < p


def test_a_short_answer_the_gate_admits_opens_the_answer() -> None:
    answer = ExtractiveAnswerer(HashEmbedder()).answer(QUESTION, HITS)
    assert answer.text.startswith("Grey Hand militia [1].") and answer.direct == "Grey Hand militia"


def test_a_short_answer_the_gate_doubts_leaves_the_sentence_leading(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Clues] = []
    monkeypatch.setattr(gate, "GATE", Gate((0.0,) * len(FEATURES), -5.0, 0.5))  # doubts everything
    monkeypatch.setattr(gate, "RECORD", seen)
    answer = ExtractiveAnswerer(HashEmbedder()).answer(QUESTION, HITS)
    assert answer.direct is None and not answer.abstained
    assert answer.text.startswith("The Grey Hand militia now controls the Tal Ossa crossing")
    assert seen == [Clues(model=False, choices=1, margin=1.0, tentative=False)]


def test_choices_counts_the_phrases_of_the_asked_kind_for_the_subject_and_predicate() -> None:
    question = "Who commands the Corvale garrison now?"
    one = ["Brigadier Ansel Toomey commands the Corvale garrison."]
    base = choices(question, one)
    assert base >= 1
    assert choices(question, one + ["Colonel Ada Nilsen commands the port of Velna."]) == base  # another subject
    assert choices(question, one + ["The Corvale garrison is commanded by Brigadier Leontyne Hart."]) > base


def test_a_hedge_the_question_asks_about_is_no_hedge() -> None:
    assert tentative("Preliminary figures say 486 civilians were killed.")
    assert tentative("The HPA will hand Quarnby to the RSFD no later than 30 November 2024.")
    assert not tentative("The institute estimated 6,000 fighters.", "How many fighters does the institute estimate?")
    assert not tentative("Reuters quoted an Iraqi official.")


def test_the_reader_reports_its_margin_over_a_rival(monkeypatch: pytest.MonkeyPatch) -> None:
    question = "Which news agency quoted an Iraqi official?"
    alone = read(question, ["AFP quoted an Iraqi official on Monday."])
    assert alone is not None and alone.margin == 1.0
    monkeypatch.setattr(reader, "LIMITS", Limits(rival=0.0))  # let a near rival through, to see its margin
    pair = read(question, ["AFP quoted an Iraqi official on Monday.", "Reuters quoted an Iraqi official on Tuesday."])
    assert pair is not None and pair.text == "AFP" and 0.0 < pair.margin < 0.3
