"""The typed reader's direct answers: what ties a phrase to the question, and what rules one out.

Sentences here are invented; each case is one a general reading rule must get right."""

from __future__ import annotations

from qa.dates import resolve_day, spoken_date
from qa.reader import compositional, dateline_end, kind_fits, read
from qa.timeline import control_events


def lead(question: str, sentences: list[str], reported: list[str | None] | None = None) -> str | None:
    found = read(question, sentences, reported=reported)
    return found.text if found is not None else None


def test_when_answers_with_the_day_the_weekday_names_counted_back_from_the_report() -> None:
    s = ("LISSA RIVER, Norland, March 21 (Harbour Wire) - Coast Front fighters captured Amber Bridge, the last "
         "crossing over the river still held by the army, on Thursday, cutting the main highway.")
    assert lead("When did the Coast Front capture Amber Bridge?", [s], ["2025-03-21"]) == "20 March 2025"
    # without the report's date the weekday alone is no answer
    assert lead("When did the Coast Front capture Amber Bridge?", [s], [None]) is None


def test_a_dateline_is_where_and_when_the_report_was_filed_not_what_happened() -> None:
    s = "TESK, Norland, May 6 (Harbour Wire) - Three months after the Coast Front seized it, Tesk remains quiet."
    assert s[dateline_end(s):].startswith("Three months")
    assert lead("When did the Coast Front seize Tesk?", [s], ["2025-05-06"]) is None


def test_last_weekday_is_the_one_before_the_report() -> None:
    assert resolve_day("last Tuesday", "2024-06-18") == "2024-06-11"  # the report is a Tuesday
    assert resolve_day("on Tuesday", "2024-06-18") == "2024-06-18"
    assert resolve_day("on Sunday", "2024-06-18") == "2024-06-16"
    assert resolve_day("December 20", "2025-03-21") == "2024-12-20"  # a later month is last year's
    assert resolve_day("7 June 2025", None) == "2025-06-07"
    assert resolve_day("yesterday", "2025-03-21") is None
    assert spoken_date("2025-03-20") == "20 March 2025"


def test_a_date_said_for_another_subjects_clause_is_not_the_answer() -> None:
    s = ("Hill Guard fighters withdrew from Velna on Saturday and the army's 9th Division took over the town on "
         "Sunday, officials said.")
    assert lead("When did Hill Guard fighters take over Velna?", [s], ["2025-08-04"]) is None
    assert lead("When did the 9th Division take over Velna?", [s], ["2025-08-04"]) == "3 August 2025"


def test_a_passive_predicates_agent_is_the_phrase_after_by() -> None:
    s = ("Under the ceasefire, negotiated by the Anselm Foundation, a mediation charity, the Ridge Army agreed to "
         "withdraw its fighters.")
    assert lead("Which organisation negotiated the ceasefire?", [s]) == "Anselm Foundation"


def test_only_the_newcomer_of_a_replacement_holds_the_role() -> None:
    s = ("In August the Sons of the Vale replaced their military chief, Bram Tolliver, with his deputy, Konrad "
         "Hale, after Tolliver was wounded.")
    assert lead("Who is the military chief of the Sons of the Vale now?", [s]) == "Konrad Hale"
    s2 = "Marta Orlov replaced Ivo Brandt as head of the mission on Monday."
    assert lead("Who heads the mission?", [s2]) == "Marta Orlov"


def test_a_role_owned_by_another_body_does_not_answer() -> None:
    s = "The TLA's chief, Edvard Sarno, has promised to return to the pass."
    assert lead("Who commands the Sons of the Vale's fighters at the dam?", [s]) is None
    assert lead("Who is the TLA's chief?", [s]) == "Edvard Sarno"


def test_a_name_used_as_a_body_is_no_person() -> None:
    s = ("The army drove Southern Shield fighters out of Brask, and Colonel Idris Makaro, the army spokesman, "
         "said the town was calm.")
    assert "Idris Makaro" in (lead("Who is the army's spokesman?", [s]) or "")
    texts = ["The Southern Shield said it would hold the crossing.", "the Southern Shield said on Monday"]
    assert not kind_fits("person", "Southern Shield", texts)
    assert kind_fits("person", "Idris Makaro", ["Colonel Idris Makaro said the town was calm."])


def test_in_the_hands_of_names_the_holder_not_the_article() -> None:
    events = control_events("Dunmere remains in the hands of the Dunmere Reconstruction Committee, which met "
                            "on July 29.", "2024-09-24")
    assert [e.holder for e in events] == ["the Dunmere Reconstruction Committee"]


def test_only_a_question_built_from_several_reports_may_take_the_shared_name() -> None:
    assert not compositional("Which group seized Korvin Pass in March 2024?")
    assert compositional("Which company, reported by TechCrunch for its layoffs and by The Verge for a new "
                         "chip, announced record revenue in the third quarter?")
