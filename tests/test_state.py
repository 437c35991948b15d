"""State-of-affairs answers: the latest dated report leads, the changes before it follow, newest first.

Read on the dated fictional archive in `eval/dated_archive` (a bridge that changes hands four times,
comments repeating the old state, an undated page) and on the bundled sample's Tal Varesh reports.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.answer.timeline import StateQuestion, control_events, held_since, read_state_question, same_holder
from qa.config import Settings, load_settings
from qa.dates import relative_window
from qa.search.retrieve import Filters

ROOT = Path(__file__).resolve().parent.parent
DATED = ROOT / "eval" / "dated_archive"


@pytest.fixture(scope="module")
def dated() -> object:
    from qa.build import build_index
    from qa.pipeline import Pipeline

    settings: Settings = load_settings({"index": Path(pytest.importorskip("tempfile").mkdtemp()) / "index",
                                        "model": "hash"}, env={})
    build_index([DATED], settings)
    return Pipeline.open(settings)


def dates_in(text: str) -> list[str]:
    return re.findall(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b", text)


@pytest.mark.parametrize("question, subject, mode", [
    ("Who controls the Tal Varesh crossing?", "the Tal Varesh crossing", "current"),
    ("Who controls the Tal Varesh crossing now?", "the Tal Varesh crossing", "current"),
    ("who holds Al Qaim today?", "Al Qaim", "current"),
    ("Is the Kessen Bridge still held by the army?", "the Kessen Bridge", "current"),
    ("Who is in control of Mosul?", "Mosul", "current"),
    ("Has the Kessen Bridge changed hands?", "the Kessen Bridge", "history"),
    ("What happened to Al Waleed after June 2014?", "Al Waleed", "history"),
])
def test_state_questions_are_read_with_their_subject(question: str, subject: str, mode: str) -> None:
    found = read_state_question(question)
    assert found is not None and (found.subject, found.mode) == (subject, mode)


@pytest.mark.parametrize("question", ["Who wrote about Al Qaim?", "What did readers say about Iran?",
                                      "Who controlled the bridge in the 1990s?", "What about Trebil?"])
def test_other_questions_are_not_state_questions(question: str) -> None:
    assert read_state_question(question) is None


def test_after_a_month_means_after_its_last_day() -> None:
    found = read_state_question("What happened to Al Waleed after June 2014?")
    assert found is not None and found.after == "2014-06-30"


@pytest.mark.parametrize("sentence, reported, holder, kind, on", [
    ("Rebels seized the crossing on May 2, 2024.", "2024-05-03", "Rebels", "gain", "2024-05-02"),
    ("The bridge fell to the Northern Front on November 18, 2023, after a night attack.", "2023-11-20",
     "the Northern Front", "gain", "2023-11-18"),
    ("The bridge remains under the control of the Arvane army, officials said.", "2024-05-15",
     "the Arvane army", "hold", "2024-05-15"),
    ("Government troops recaptured the town on Tuesday.", "2024-05-22", "Government troops", "gain", "2024-05-21"),
    ("The crossing, which remains under IDRB control, was quiet.", "2025-03-27", "IDRB", "hold", "2025-03-27"),
    ("Government forces repelled a ground assault and remain in control of the crossing.", "2024-09-19",
     "Government forces", "hold", "2024-09-19"),
])
def test_control_events_name_holder_kind_and_date(sentence: str, reported: str, holder: str, kind: str,
                                                  on: str) -> None:
    events = control_events(sentence, reported)
    assert [(e.holder, e.kind, e.on) for e in events][:1] == [(holder, kind, on)]


@pytest.mark.parametrize("sentence", ["The crossing was captured after two suicide bombings.",
                                      "Photographs of a captured border outpost were shown.",
                                      "It began on May 16 with an advance along the road."])
def test_no_event_without_a_holder(sentence: str) -> None:
    assert control_events(sentence, "2024-01-01") == []


def test_holders_are_joined_by_acronym_and_shared_names() -> None:
    assert same_holder("IDRB", "Fighters of the Iron Dawn Revolutionary Brigades (IDRB)")
    assert same_holder("the Brigades", "The Iron Dawn Revolutionary Brigades")
    assert not same_holder("the Northern Front", "the Arvane army")


def test_held_since_is_the_gain_that_began_the_latest_run() -> None:
    events = (control_events("Rebels seized the bridge on May 2, 2024.", "2024-05-03")
              + control_events("The army retook the bridge on June 1, 2024.", "2024-06-02")
              + control_events("The bridge remains under the control of the army.", "2024-07-01"))
    since = held_since(events)
    assert since is not None and since.on == "2024-06-01"


def test_current_holder_leads_with_its_date_and_the_history_follows(dated) -> None:  # type: ignore[no-untyped-def]
    answer = dated.ask("Who controls the Kessen Bridge?")
    first, *rest = answer.text.splitlines()
    assert first.startswith("As of 15 May 2024, the Arvane army holds the Kessen Bridge [1]")
    assert "Held since 29 Feb 2024" in answer.text
    history = next(line for line in rest if line.startswith("Before that:"))
    assert dates_in(history) == ["18 Nov 2023", "4 Jun 2023", "9 Feb 2023"]  # newest first
    assert answer.citations[0].hit.chunk.kind == "article" and not answer.abstained
    assert "Northern Front still holds" not in answer.text  # a reader repeating the old state never leads
    assert "undated report" in answer.text  # the undated page is said to be undated


def test_asking_as_of_a_date_answers_from_reports_up_to_it(dated) -> None:  # type: ignore[no-untyped-def]
    answer = dated.ask("Who controls the Kessen Bridge now?", filters=Filters(date_to="2023-12-31"))
    assert answer.text.startswith("As of 20 Nov 2023, the Northern Front holds the Kessen Bridge")
    assert "2024" not in answer.text.split("Before that:")[-1]


def test_changed_hands_says_yes_with_the_history(dated) -> None:  # type: ignore[no-untyped-def]
    answer = dated.ask("Has the Kessen Bridge changed hands?")
    assert answer.text.startswith("Yes. As of 15 May 2024")
    assert {"29 Feb 2024", "18 Nov 2023", "4 Jun 2023", "9 Feb 2023"} <= set(dates_in(answer.text))


def test_what_happened_after_a_date_lists_only_later_changes(dated) -> None:  # type: ignore[no-untyped-def]
    answer = dated.ask("What happened to the Kessen Bridge after October 2023?")
    assert answer.text.startswith("After 31 Oct 2023:")
    found = set(dates_in(answer.text))
    assert {"29 Feb 2024", "18 Nov 2023"} <= found and not {"4 Jun 2023", "9 Feb 2023"} & found


def test_markers_point_at_the_sentences_they_quote(dated) -> None:  # type: ignore[no-untyped-def]
    answer = dated.ask("Who controls the Kessen Bridge?")
    by_n = {c.n: c for c in answer.citations}
    for n in map(int, re.findall(r"\[(\d+)\]", answer.text)):
        citation = by_n[n]
        assert citation.used_sentences, n
        quoted = " ".join(citation.hit.chunk.text[a:b] for a, b in citation.used_sentences)
        assert "Kessen Bridge" in quoted or "bridge" in quoted


def test_relative_time_is_read_against_the_newest_report(dated) -> None:  # type: ignore[no-untyped-def]
    answer = dated.ask("What happened at the Kessen Bridge this month?")
    assert answer.text.startswith("From 1 May 2024 to 15 May 2024: As of 15 May 2024")


@pytest.mark.parametrize("question, start, end, label", [
    ("What happened this week?", "2023-11-25", "2023-12-01", "In the week to 1 Dec 2023"),
    ("And last month?", "2023-11-01", "2023-11-30", "In November 2023"),
    ("Anything so far this year?", "2023-01-01", "2023-12-01", "From 1 Jan 2023 to 1 Dec 2023"),
    ("What was reported in the past two weeks?", "2023-11-18", "2023-12-01", "In the 14 days to 1 Dec 2023"),
])
def test_relative_windows(question: str, start: str, end: str, label: str) -> None:
    window = relative_window(question, "2023-12-01")
    assert window is not None and (window.date_from, window.date_to, window.label) == (start, end, label)


def test_tal_varesh_leads_with_the_latest_holder(pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = pipeline.ask("Who controls the Tal Varesh crossing?")
    first = answer.text.splitlines()[0]
    assert first.startswith("As of 11 Apr 2025, the Brigades hold the Tal Varesh crossing")
    assert "Held since 17 Jan 2025" in answer.text
    assert "19 Sep 2024" not in first  # the stale "under the full control of the armed forces" report


def test_a_state_question_without_a_holder_in_any_report_falls_back(pipeline) -> None:  # type: ignore[no-untyped-def]
    subject = StateQuestion("the Port of Calvera")
    assert subject.names == ["port", "calvera"]
    answer = pipeline.ask("Who controls the Port of Calvera?")
    assert "holds the Port of Calvera" not in answer.text  # no report says who holds it: answered another way


def test_quotes_show_gaps_and_stay_balanced() -> None:
    from qa.answer.extractive import balance_quotes, join_quote

    text = "One two three. Four five six. Seven eight nine."
    assert join_quote(text, [(0, 14), (30, 47)]) == "One two three. … Seven eight nine."
    assert join_quote(text, [(0, 14), (15, 29)]) == "One two three. Four five six."
    assert balance_quotes("is under full control,” said Col. Ardelic.") == "“is under full control,” said Col. Ardelic."
    assert balance_quotes("“It will fall, he said.") == "“It will fall, he said.”"


def test_what_about_keeps_the_predicate_of_the_question_that_stood_alone() -> None:
    from qa.answer.followup import rewrite

    previous = ["Who controls the Tal Varesh crossing?", "who held the Tal Varesh crossing before that?"]
    assert rewrite("What about Trebil?", previous).query == "Who controls Trebil?"


def test_name_variants_read_a_sentence_alike() -> None:
    from qa.answer.picker import with_variants

    assert "walid" in with_variants({"al", "waleed", "crossing"}, {"walid", "al"})
    assert "walid" not in with_variants({"al", "wild"}, {"walid"})


def test_state_answers_say_which_markers_are_theirs(dated) -> None:  # type: ignore[no-untyped-def]
    answer = dated.ask("Who controls the Kessen Bridge?")
    assert answer.marks  # the page links these and only these
    for a, b, n in answer.marks:
        assert answer.text[a:b] == f"[{n}]"
    for a, b in answer.quoted:
        assert not any(a <= m < b for m, _, _ in answer.marks)
    windowed = dated.ask("What happened at the Kessen Bridge this month?")
    assert all(windowed.text[a:b] == f"[{n}]" for a, b, n in windowed.marks or ())


@pytest.mark.parametrize("question", ["Which company, recently reported by TechCrunch, was sued?",
                                      "What did the Epic Games trial show, starting today?"])
def test_figures_of_speech_are_no_time_window(question: str) -> None:
    assert relative_window(question, "2023-12-01") is None


def test_the_cli_asks_as_of_a_date(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from qa.build import build_index
    from qa.cli import cli

    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    build_index([DATED], settings)
    runner = CliRunner()
    args = ["--index", str(settings.index), "--model", "hash", "ask", "Who controls the Kessen Bridge?", "--json"]
    latest = json.loads(runner.invoke(cli, args).output)["answer"]
    then = json.loads(runner.invoke(cli, [*args, "--to", "2023-12-31"]).output)["answer"]
    assert latest.startswith("As of 15 May 2024") and then.startswith("As of 20 Nov 2023")
    bad = runner.invoke(cli, [*args, "--from", "2024-02-30"])
    assert bad.exit_code != 0 and "--from '2024-02-30' is not a date" in bad.output
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"question": "Who controls the Kessen Bridge?", "to": "2023-06-30"}) + "\n",
                     encoding="utf-8")
    line = runner.invoke(cli, ["--index", str(settings.index), "--model", "hash", "ask", "--batch", str(batch)])
    assert json.loads(line.output)["answer"].startswith("As of 5 Jun 2023")
