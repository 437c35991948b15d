"""The page's analyst tools without a browser: the timeline picture, whole-document panels, export,
ratings kept in the index folder, and the outlet/author/kind filters reaching the search."""

from __future__ import annotations

import base64
import errno
import json
import os
import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.answer.followup import Rewrite
from qa.config import Settings, load_settings
from qa.errors import BadQuestion
from qa.eval.questions import load_questions
from qa.page import chat, export, feedback, render
from qa.page.picture import timeline_svg
from qa.pipeline import Pipeline
from qa.search.retrieve import Filters
from qa.types import Answer, Chunk, Citation, Hit, TimelinePoint

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
TAL = "Who controls the Tal Varesh crossing?"


def _citation(text: str, n: int = 1, kind: str = "article", author: str | None = "Fred", url: str | None = None,
              spans: tuple[tuple[int, int], ...] = (), title: str = "A title") -> Citation:
    chunk = Chunk(f"c{n}", f"d{n}", kind, text, "header", 0, len(text), title, author, "2024-03-09")  # type: ignore[arg-type]
    return Citation(n, Hit(chunk, 0.5, n, source="Monitor", url=url, path="/archive/page_01.txt"), spans)


def _turn(question: str, text: str, citations: tuple[Citation, ...], timeline: tuple[TimelinePoint, ...] = (),
          direct: str | None = None) -> chat.Turn:
    plan = chat.Plan(Rewrite(question, question), Filters())
    return chat.Turn(question, plan, Answer(question, text, citations, timeline=timeline, direct=direct))


# --- the timeline picture ------------------------------------------------------------------------

POINTS = (TimelinePoint("2024-03-08", "Fighters took the crossing " + XSS, 2, "Iron Dawn Brigades " + XSS),
          TimelinePoint("2024-05-21", "Government forces recaptured it", 3, "Government forces"),
          TimelinePoint("2025-01-17", "The Brigades recaptured it", 1, "the Brigades"))


def test_the_picture_links_each_point_to_its_card_and_escapes_archive_text() -> None:
    svg = timeline_svg(POINTS, turn=2)
    assert svg.count('<a class="qa-cite qa-point"') == 3
    assert re.findall(r'href="#(src-\d+-\d+)"', svg) == [render.card_id(2, n) for n in (2, 3, 1)]
    assert "<script" not in svg and "<img" not in svg and "&lt;script&gt;" in svg
    assert "8 Mar 2024" in svg and "17 Jan 2025" in svg  # the axis's first and last dates
    # the points lie left to right in date order
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    assert xs == sorted(xs) and xs[0] < xs[-1]
    # one band per holder change, coloured by holder: "the Brigades" shares the Iron Dawn Brigades' colour
    fills = re.findall(r'<rect class="qa-band"[^>]* fill="(#\w+)"', svg)
    assert len(fills) == 3 and fills[0] == fills[2] != fills[1]
    assert svg.count('class="qa-holder"') == 2  # the legend: one line per holder group


def test_date_labels_never_overlap_and_the_ends_are_written() -> None:
    from datetime import date, timedelta

    from qa.dates import format_date
    from qa.page import picture

    start = date(2024, 1, 1)
    points = [TimelinePoint((start + timedelta(days=3 * i)).isoformat(), f"event {i}", i + 1) for i in range(40)]
    svg = timeline_svg(points, 1)
    labels = re.findall(r'<text class="qa-day" x="([\d.]+)"[^>]*>([^<]+)</text>', svg)
    assert labels[0][1] == format_date(points[0].day) and labels[-1][1] == format_date(points[-1].day)
    extents = [picture._extent(float(x), text) for x, text in labels]
    assert 3 <= len(extents) < 40
    assert all(a[1] <= b[0] for a, b in zip(extents, extents[1:]))  # left to right, none touching
    assert all(0 <= a[0] and a[1] <= picture.WIDTH for a in extents)  # none cut off at the edges
    many = [TimelinePoint("2024-01-01", "x", 1)] * (picture.MAX_POINTS + 50)
    tall = timeline_svg(many, 1)
    assert tall.count("<circle") == picture.MAX_POINTS
    assert len(set(re.findall(r'<circle cx="[\d.]+" cy="(-?\d+)"', tall))) == picture.MAX_STACK  # not 200 high


def test_the_picture_needs_a_dated_point() -> None:
    assert timeline_svg((), 1) == ""
    assert timeline_svg((TimelinePoint("someday", "x", 1),), 1) == ""
    one = timeline_svg((TimelinePoint("2024-01-02", "x", 1),), 1)
    assert one.count("<circle") == 1 and "qa-band" not in one  # no holder: a point, no band


def test_a_who_holds_answer_carries_its_timeline_and_the_panel_draws_it(pipeline: Pipeline) -> None:
    turn = chat.ask(pipeline, TAL, [], chat.Options())
    points = turn.answer.timeline
    assert len(points) >= 3 and [p.day for p in points] == sorted(p.day for p in points)
    cited = {c.n: c for c in turn.answer.citations}
    for p in points:  # each point quotes the passage of the citation it names, and names a holder
        assert p.n in cited and p.holder
        assert p.what.rstrip("…")[:60] in " ".join(cited[p.n].hit.chunk.text.split())
    assert points[-1].day == "2025-04-11" and "2025-01-17" in {p.day for p in points}
    html = render.evidence_html([turn])
    assert html.count('class="qa-cite qa-point"') == len(points)
    for target in re.findall(r'<a class="qa-cite qa-point" href="#([^"]+)"', html):
        assert f'id="{target}"' in html  # every point's card is in the panel


def test_an_answer_without_a_timeline_has_no_picture() -> None:
    assert "qa-timeline" not in render.evidence_html([_turn("q", "a [1]", (_citation("x"),))])


# --- export ----------------------------------------------------------------------------------------

HOSTILE = ("Readers wrote <script>alert(1)</script> and [a link](javascript:alert(2)) **bold** "
           "\x1b[2J\u202eevil")


def _hostile_turns() -> list[chat.Turn]:
    c1 = _citation(HOSTILE, 1, kind="comment", author="<b>Eve</b>", spans=((0, 13),), url="javascript:alert(3)")
    c2 = _citation("The Brigades recaptured it.", 2, url="https://example.org/a b<c>")
    return [_turn("Who said <img src=x>?", "Eve said: “" + HOSTILE + "” [1]\nAnd more [2].", (c1, c2),
                  timeline=(TimelinePoint("2024-03-08", "took <it>", 2, "[x](javascript:y)"),))]


def test_the_markdown_export_keeps_citations_and_escapes_everything() -> None:
    text = export.to_markdown(_hostile_turns())
    assert "## Q1. Who said \\<img src\\=x\\>?" in text
    assert "<script>" not in text and "\\<script\\>" in text
    assert "](javascript" not in text and "\\]\\(javascript\\:" in text
    assert "\x1b" not in text and "\u202e" not in text
    assert "1\\. Reader comment (opinion): A title · comment by \\<b\\>Eve\\</b\\>" in text
    assert "(<https://example.org/a%20b%3Cc%3E>)" in text  # only the http(s) address is a link
    assert "javascript:alert(3)" not in text
    assert "\\[1\\]" in text and "\\[2\\]" in text and "**Sources**" in text and "**Timeline**" in text
    assert "   > Readers wrote" in text  # the quoted sentence under its source


def test_the_json_export_is_the_turns_and_their_sources() -> None:
    data = json.loads(export.to_json(_hostile_turns()))
    assert data["format"] == export.FORMAT and len(data["turns"]) == 1
    turn = data["turns"][0]
    assert turn["question"] == "Who said <img src=x>?" and turn["answer"].endswith("And more [2].")
    assert [s["n"] for s in turn["sources"]] == [1, 2]
    first = turn["sources"][0]
    assert first["kind"] == "comment" and first["author"] == "<b>Eve</b>" and first["url"] is None
    assert first["quoted"] == ["Readers wrote"] and "\x1b" not in first["passage"]
    assert turn["timeline"] == [{"day": "2024-03-08", "what": "took <it>", "n": 2, "holder": "[x](javascript:y)"}]


def test_the_export_links_carry_both_files() -> None:
    turns = _hostile_turns()
    assert export.export_html([]) == ""
    html = export.export_html(turns)
    urls = dict(re.findall(r'download="([^"]+)" href="data:[^;]+;charset=utf-8;base64,([^"]+)"', html))
    assert base64.b64decode(urls["archive-qa-conversation.md"]).decode() == export.to_markdown(turns)
    assert base64.b64decode(urls["archive-qa-conversation.json"]).decode() == export.to_json(turns)
    assert "<script" not in html


# --- ratings ---------------------------------------------------------------------------------------

def _answer() -> Answer:
    c = _citation("The Brigades recaptured the crossing on 17 January. Other text.", 1, spans=((0, 51),))
    return Answer(TAL, "As of 11 Apr 2025, the Brigades hold it [1].", (c,), direct="the Brigades")


def test_a_rating_is_appended_to_the_index_folders_file(tmp_path: Path) -> None:
    path = feedback.append(tmp_path, feedback.rating(_answer(), TAL, True, "  right \x1b[2J answer "))
    assert path == tmp_path / "feedback.jsonl"
    feedback.append(tmp_path, feedback.rating(_answer(), "Who holds Brega?", False))
    records = [r for _, r in feedback.read(tmp_path)]
    assert [r["rating"] for r in records] == ["up", "down"]
    assert records[0]["note"] == "right  [2J answer" and records[0]["direct"] == "the Brigades"
    quote = "The Brigades recaptured the crossing on 17 January."
    assert records[0]["quotes"] == [{"n": 1, "doc": "d1", "quote": quote}]


def test_ratings_from_many_threads_never_interleave(tmp_path: Path) -> None:
    r = feedback.rating(_answer(), TAL, True, "x" * feedback.MAX_NOTE_CHARS)
    threads = [threading.Thread(target=lambda: [feedback.append(tmp_path, r) for _ in range(25)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list(feedback.read(tmp_path))) == 200


def test_a_long_note_a_full_file_and_a_link_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(feedback.FeedbackError, match="keep it to 1,000"):
        feedback.rating(_answer(), TAL, True, "x" * (feedback.MAX_NOTE_CHARS + 1))
    outside = tmp_path / "outside.txt"
    outside.write_text("")
    index = tmp_path / "index"
    index.mkdir()
    (index / "feedback.jsonl").symlink_to(outside)
    with pytest.raises(feedback.FeedbackError, match="is a link"):
        feedback.append(index, feedback.rating(_answer(), TAL, True))
    assert outside.read_text() == ""  # nothing written outside the index folder
    (index / "feedback.jsonl").unlink()
    monkeypatch.setattr(feedback, "MAX_FILE_BYTES", 600)
    feedback.append(index, feedback.rating(_answer(), TAL, True))
    with pytest.raises(feedback.FeedbackError, match="is full"):
        feedback.append(index, feedback.rating(_answer(), TAL, True))


def test_a_read_only_index_folder_gets_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(feedback.os, "open", read_only)
    with pytest.raises(feedback.FeedbackError, match=r"is read-only, so ratings cannot be kept"):
        feedback.append(tmp_path, feedback.rating(_answer(), TAL, True))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a read-only folder")
def test_a_folder_without_write_permission_gets_the_same_message(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(feedback.FeedbackError, match="is read-only"):
            feedback.append(tmp_path, feedback.rating(_answer(), TAL, True))
    finally:
        tmp_path.chmod(0o700)


def test_liked_answers_become_a_question_set_qa_eval_reads(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    feedback.append(index, feedback.rating(_answer(), TAL, True, "good"))
    feedback.append(index, feedback.rating(_answer(), "Who holds Brega?", False, "wrong"))
    plain = Answer("q", "A quote [1].", (_citation("Quoted sentence here. More.", spans=((0, 21),)),))
    feedback.append(index, feedback.rating(plain, "What happened at the port?", True))
    feedback.append(index, feedback.rating(Answer("q", "Not found.", (), abstained=True), "Who won in 1850?", True))
    out = tmp_path / "sets" / "feedback.jsonl"
    result = CliRunner().invoke(__import__("qa.cli", fromlist=["cli"]).cli,
                                ["--index", str(index), "feedback-questions", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 questions" in result.output and "1 disliked answer left out" in result.output
    questions = {q.question: q for q in load_questions(out)}
    assert set(questions) == {TAL, "What happened at the port?", "Who won in 1850?"}
    assert questions[TAL].answers == ("the Brigades",) and questions[TAL].evidence[0].doc == "d1"
    assert questions["What happened at the port?"].answers == ("Quoted sentence here.",)
    assert not questions["Who won in 1850?"].answerable


def test_a_damaged_feedback_line_is_named(tmp_path: Path) -> None:
    (tmp_path / "feedback.jsonl").write_text('{"rating": "up", "question": "q"}\n{"rating": "up", "quest\n')
    with pytest.raises(feedback.FeedbackError, match=r"feedback.jsonl:2: not a JSON rating"):
        list(feedback.read(tmp_path))
    with pytest.raises(feedback.FeedbackError, match="No ratings yet"):
        list(feedback.read(tmp_path / "none"))


# --- filters ---------------------------------------------------------------------------------------

OUTLETS = [
    {"title": "Harbour reopens", "source": "The Test Gazette", "author": "Ann Lee", "published_at": "2024-06-01",
     "body": "The Quellport harbour reopened to ferries on Monday after the storm, the port office said.",
     "comments": [{"author": "Bo", "text": "The Quellport harbour reopening was overdue, in my view."}]},
    {"title": "Quellport ferries return", "source": "Daily Courier", "author": "Cy Park", "published_at": "2024-06-02",
     "body": "Ferries returned to the Quellport harbour on Tuesday, carrying the first passengers since the storm.",
     "comments": [{"author": "Di", "text": "Quellport harbour ferries are still late every morning."}]},
]


@pytest.fixture(scope="module")
def outlet_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    from qa.build import build_index

    tmp = tmp_path_factory.mktemp("outlets")
    (tmp / "outlets.json").write_text(json.dumps(OUTLETS), encoding="utf-8")
    settings: Settings = load_settings({"index": tmp / "index", "model": "hash"}, env={})
    build_index([tmp / "outlets.json"], settings)
    return Pipeline.open(settings)


def test_outlet_author_and_kind_filters_reach_the_search(outlet_pipeline: Pipeline) -> None:
    ask = "What happened at the Quellport harbour?"
    everything = chat.ask(outlet_pipeline, ask, [], chat.Options(k=10)).answer.citations
    assert {c.hit.source for c in everything} == {"The Test Gazette", "Daily Courier"}
    courier = chat.ask(outlet_pipeline, ask, [], chat.Options(k=10, outlets=("daily  courier",)))
    assert courier.answer.citations and {c.hit.source for c in courier.answer.citations} == {"Daily Courier"}
    assert "from daily courier" in courier.plan.scope
    by = chat.ask(outlet_pipeline, ask, [], chat.Options(k=10, authors=chat.split_names("ann lee, Di")))
    assert by.answer.citations and {c.hit.chunk.author for c in by.answer.citations} == {"Ann Lee", "Di"}
    assert "by ann lee or Di" in by.plan.scope
    comments = chat.ask(outlet_pipeline, ask, [], chat.Options(k=10, comments_only=True))
    assert comments.answer.citations and {c.hit.chunk.kind for c in comments.answer.citations} == {"comment"}
    assert comments.plan.scope.startswith("reader comments only")


def test_an_unknown_outlet_or_author_is_named(outlet_pipeline: Pipeline) -> None:
    with pytest.raises(BadQuestion, match="No outlet named 'The Times'"):
        chat.ask(outlet_pipeline, "harbour", [], chat.Options(outlets=("The Times",)))
    with pytest.raises(BadQuestion, match="No author named 'Nobody'"):
        Filters(authors=("Nobody",)).mask(outlet_pipeline.index)
    assert chat.split_names(" Ann  Lee , ,Bo, Ann Lee") == ("Ann Lee", "Bo")


# --- the page's handlers ---------------------------------------------------------------------------

def _handler(page: object, name: str):  # type: ignore[no-untyped-def]
    return next(f.fn for f in page.fns.values() if getattr(f.fn, "__name__", "") == name)  # type: ignore[attr-defined]


def test_a_thumb_on_the_page_keeps_the_rated_answer(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from qa.page.web import build_ui

    page = build_ui(pipeline)
    rate, links = _handler(page, "rate"), _handler(page, "export_links_for")
    first = chat.ask(pipeline, TAL, [], chat.Options())
    second = chat.ask(pipeline, "and who held it before that?", [first], chat.Options())
    ratings = pipeline.settings.index / "feedback.jsonl"
    before = len(ratings.read_text().splitlines()) if ratings.exists() else 0
    notice, note = rate([first, second], "the <b>second</b>", SimpleNamespace(index=3, liked=False))
    assert "thumbs-down on Q2 and its note is kept" in notice and note == ""
    record = json.loads(ratings.read_text().splitlines()[-1])
    assert record["rating"] == "down" and record["question"] == second.question
    assert record["note"] == "the <b>second</b>" and "<b>" not in notice
    notice, _ = rate([first, second], "", SimpleNamespace(index=2, liked=True))  # a question, not an answer
    assert "not an answer" in notice
    notice, _ = rate([first, second], "", SimpleNamespace(index=1, liked=""))  # a thumb taken back
    assert "taken back" in notice
    assert len(ratings.read_text().splitlines()) == before + 1

    def read_only(*args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(feedback.os, "open", read_only)
    notice, _ = rate([first], "", SimpleNamespace(index=1, liked=True))
    assert 'role="alert"' in notice and "read-only, so ratings cannot be kept" in notice
    assert "nothing to export yet" in links([])
    assert 'id="qa-export-md"' in links([first, second])
