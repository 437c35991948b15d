"""Near misses: a sentence about the question's subject that does not say what was asked (no model)."""

from __future__ import annotations

import pytest

from qa.answer.extractive import ExtractiveAnswerer
from qa.answer.verify import holds, read_ask
from qa.embed.models import HashEmbedder
from qa.text import analyze
from tests.conftest import make_hit


@pytest.mark.parametrize("question, kind, head, extra", [
    ("How many Islamic State fighters were killed in the fighting for Al Qaim?", "number", {"fighters"}, None),
    ("How much customs revenue does the Al Waleed crossing collect each year?", "number", {"revenue"}, None),
    ("How many members of the Iraqi Border Police were killed?", "number", {"members"}, None),
    ("What is the population of the town of Al Qaim?", "number", {"population"}, None),
    ("How far is Fallujah from Baghdad?", "number", set(), None),
    ("Who was the prime minister of Iraq when Al Qaim fell?", "office", {"prime", "minister"}, "prime minister"),
    ("Which US general commanded the air campaign?", "office", {"general"}, "general"),
    ("What is the name of the hotel at the Al Waleed border crossing?", "name", {"hotel"}, None),
    ("When did the Iraqi army retake the Al Waleed crossing?", "time", set(), "retake"),
    ("When was the crossing captured by the Islamic State?", "time", set(), "take"),
    ("On which day of the week did the militants first move into Al Qaim?", "time", set(), None),
])
def test_read_ask_types_the_attribute(question: str, kind: str, head: set[str], extra: str | None) -> None:
    ask = read_ask(question)
    assert ask is not None and ask.kind == kind and set(ask.head) == set(analyze(" ".join(head)))
    assert extra in (None, ask.office, ask.verb)


@pytest.mark.parametrize("question", [
    "Why is ISIS keen to keep the border open?", "Which town did ISIS retake?", "Who controls the crossing?",
    "What did the border guards do once Al Qaim had fallen?", "Who created the map?",
])
def test_questions_it_cannot_type_get_no_check(question: str) -> None:
    assert read_ask(question) is None


@pytest.mark.parametrize("question, sentence, expected", [
    # a number, but not of what was asked; a date is not a count
    ("How many fighters were killed at Tal Ossa?", "Five guards were killed at Tal Ossa.", False),
    ("How many fighters were killed at Tal Ossa?", "At least 30 fighters were killed at Tal Ossa.", True),
    ("How many fighters were killed at Tal Ossa?", "Fighters took Tal Ossa on June 22, 2014.", False),
    ("What is the population of Tal Ossa?", "Tal Ossa, a town near the border, fell on Friday.", False),
    ("What is the population of Tal Ossa?", "Tal Ossa has a population of about 20,000.", True),
    # "retake" is not "take"
    ("When did the army retake Tal Ossa?", "Militants captured Tal Ossa on June 22, 2014.", False),
    ("When did the army retake Tal Ossa?", "The army recaptured Tal Ossa on May 3.", True),
    ("When was Tal Ossa captured?", "Militants captured Tal Ossa on June 22, 2014.", True),
    ("When was Tal Ossa captured?", "Militants captured Tal Ossa after a long siege.", False),
    # the office beside a name
    ("Who was the prime minister of Iraq?", "Sameer al-Shwiali, a media adviser, spoke to Reuters.", False),
    ("Who was the prime minister of Iraq?", "Prime Minister Nouri al-Maliki called for calm.", True),
    ("Which US general commanded the air campaign?", "The air campaign began in August.", False),
    ("Which US general commanded the air campaign?", "Gen. Lloyd Austin commanded the air campaign.", True),
    # a name beside the head word
    ("What is the name of the hotel at the Tal Ossa crossing?", "The hotel will serve as a phenomenal COC.", False),
    ("What is the name of the hotel at the Tal Ossa crossing?", "The Desert Rose hotel overlooks the crossing.", True),
    ("What is the name of the hotel at the Tal Ossa crossing?", "Guests stayed at the hotel called Al Rasheed.", True),
])
def test_holds_needs_the_attribute_not_just_the_subject(question: str, sentence: str, expected: bool) -> None:
    ask = read_ask(question)
    assert ask is not None and holds(ask, sentence, question) is expected


def test_a_near_miss_says_what_is_missing_and_quotes_the_nearest_sentence() -> None:
    hits = [make_hit(1, "The Grey Hand militia seized the Tal Ossa crossing on Friday. The hotel at the crossing "
                        "will serve as a command post."),
            make_hit(2, "Tal Ossa lies on the main road to the border.", doc="d2")]
    answerer = ExtractiveAnswerer(HashEmbedder())
    answer = answerer.answer("What is the population of Tal Ossa?", hits)
    assert answer.abstained and answer.text.startswith("The archive does not say.")
    assert "do not give the population" in answer.text and answer.marks
    assert answer.marks[-1][2] in (1, 2) and len(answer.citations) == 2  # the nearest passages stay listed
    named = answerer.answer("What is the name of the hotel at the Tal Ossa crossing?", hits)
    assert named.abstained and "the name of the hotel" in named.text


def test_the_sentence_holding_the_attribute_is_quoted() -> None:
    hits = [make_hit(1, "The Grey Hand militia seized the Tal Ossa crossing after a long raid on the border post."),
            make_hit(2, "Militants from the Grey Hand killed 12 guards at the Tal Ossa crossing.", doc="d2")]
    answer = ExtractiveAnswerer(HashEmbedder()).answer(
        "How many guards did the Grey Hand militia kill at the Tal Ossa crossing?", hits)
    assert not answer.abstained and "12 guards" in answer.text


def test_a_date_for_an_event_must_be_about_what_was_taken() -> None:
    ask = read_ask("When did the army retake the Al Waleed crossing after the militants seized it?")
    assert ask is not None and ask.verb == "retake" and ask.target == {"waleed"}
    assert not holds(ask, "Militants took Al Qaim last week, but the army claimed it retook the town.")
    assert holds(ask, "The army retook the Al Walid crossing on May 3.")  # another spelling of the name


def test_the_byline_answers_for_the_article_the_clause_describes() -> None:
    hits = [make_hit(1, "ISIS retook Al Qaim and the border crossing to Syria.", author="Ann Roe",
                     title="ISIS seizes border crossing in western Anbar"),
            make_hit(2, "The Al Waleed crossing fell.", author="Bo Li", doc="d2",
                     title="Islamic State reportedly seizes the Al Waleed border crossing")]
    answer = ExtractiveAnswerer(HashEmbedder()).answer(
        "Who wrote the article reporting that ISIS retook Al Qaim and the border crossing to Syria?", hits)
    assert "written by Ann Roe" in answer.text
