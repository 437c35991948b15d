"""The chat page without a browser: HTML rendering (escaping, badges, highlights, links), the conversation
logic on the sample index (hash embedder, no model), launch options, and the page's API in-process."""

from __future__ import annotations

import re
import socket
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa.answer.followup import Rewrite
from qa.config import Settings, load_settings
from qa.errors import BadQuestion, ConfigError
from qa.page import chat, render
from qa.pipeline import Pipeline
from qa.search.retrieve import Filters
from qa.types import Answer, Chunk, Citation, Hit

ALL = "Articles and reader comments"  # the page's search choice that searches both
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def _citation(text: str, n: int = 1, kind: str = "comment", author: str | None = "Fred", title: str = "A title",
              url: str | None = None, spans: tuple[tuple[int, int], ...] = (), source: str | None = "Monitor",
              ) -> Citation:
    chunk = Chunk(f"c{n}", "d1", kind, text, "header", 0, len(text), title, author, "2024-03-09")  # type: ignore[arg-type]
    return Citation(n, Hit(chunk, 0.5, n, source=source, url=url, path="/archive/page_01.txt"), spans)


def _turn(question: str, answer_text: str, citations: tuple[Citation, ...], query: str | None = None) -> chat.Turn:
    plan = chat.Plan(Rewrite(question, query or question), Filters())
    return chat.Turn(question, plan, Answer(question, answer_text, citations))


# --- rendering: pure ---------------------------------------------------------------------------

def test_highlight_marks_the_spans_and_escapes_everything() -> None:
    assert render.highlight("a <b> c", [(2, 5)]) == "a <mark>&lt;b&gt;</mark> c"
    assert render.highlight("one. two. three.", [(10, 16), (0, 4)]) == "<mark>one.</mark> two. <mark>three.</mark>"
    assert render.highlight("abcdef", [(0, 4), (2, 6)]) == "<mark>abcd</mark><mark>ef</mark>"  # overlap
    assert render.highlight("<x>", []) == "&lt;x&gt;"


def test_a_comment_card_shows_injected_markup_as_text() -> None:
    html = render.source_card(_citation(XSS, author='Eve"><script>x()</script>', title="<b>T</b>"), turn=1)
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in html
    assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in html
    assert "Eve&quot;&gt;&lt;script&gt;" in html


def test_cards_carry_a_kind_badge_number_date_source_and_rank() -> None:
    comment = render.source_card(_citation("Opinion.", n=3, kind="comment"), turn=2)
    article = render.source_card(_citation("Report.", n=1, kind="article", author="Marta Ilesco"), turn=2)
    assert 'id="src-2-3"' in comment and "[3]" in comment
    assert 'class="qa-badge qa-badge-comment">Reader comment · opinion<' in comment
    assert "comment by Fred" in comment
    assert 'class="qa-badge qa-badge-article">Article<' in article and "by Marta Ilesco" in article
    assert "9 Mar 2024" in article and "Monitor" in article and "search rank 1<" in article
    assert "score" not in article and "0.500" not in article  # a fused score is no confidence: not shown
    no_outlet = render.source_card(_citation("x", source=None), turn=1)
    assert "page_01.txt" in no_outlet


def test_every_card_opens_its_whole_document_and_a_web_card_also_links() -> None:
    from qa.types import Comment, Document

    doc = Document("d1", "A title", "First paragraph.\n\nSecond <b>paragraph</b>.", None, None, "Marta", "2024-03-09",
                   None, "/archive/page_01.txt", (Comment("Eve", "<script>x()</script>", "2024-03-10"),))
    card = render.source_card(_citation("First paragraph."), turn=1, document=doc)
    assert '<details class="qa-doc"><summary>Open the whole document</summary>' in card
    assert "Second &lt;b&gt;paragraph&lt;/b&gt;." in card and "<b>" not in card and "<script" not in card
    assert "1 reader comment" in card and "comment by Eve · 10 Mar 2024" in card
    web = render.source_card(_citation("x", url="https://example.org/a"), turn=1, document=doc)
    assert "Open the whole document" in web and '<a href="https://example.org/a"' in web
    turn = _turn("q", "a [1]", (_citation("First paragraph."),))
    assert render.shown_documents([turn]) == ["d1"]
    assert "Open the whole document" in render.evidence_html([turn], {"d1": doc})
    long = Document("d1", "T", "x" * (render.MAX_DOCUMENT_CHARS + 5))
    assert "(5 more characters)" in render.whole_document(long)


def test_used_sentences_are_highlighted_and_flagged() -> None:
    text = "First sentence. Second sentence."
    html = render.source_card(_citation(text, spans=((16, 32),)), turn=1)
    assert "First sentence. <mark>Second sentence.</mark>" in html
    assert "quoted in the answer" in html
    assert "quoted in the answer" not in render.source_card(_citation(text), turn=1)


@pytest.mark.parametrize(("url", "linked"), [
    ("https://example.org/a?b=1&c=2", True), ("http://example.org", True),
    ("javascript:alert(1)", False), (" JAVASCRIPT:alert(1)", False), ("data:text/html,<b>", False), (None, False),
])
def test_only_http_urls_become_links(url: str | None, linked: bool) -> None:
    html = render.source_card(_citation("x", url=url, title="Title"), turn=1)
    assert ('<a href="' in html) is linked
    if linked:
        assert url is not None and 'rel="noopener noreferrer nofollow"' in html
        assert f'<a href="{url.replace("&", "&amp;")}"' in html  # the address itself, escaped
    assert "javascript:" not in html.lower()


def test_answer_markers_link_to_the_cards_of_their_turn() -> None:
    answer = Answer("q", "Said <it> [1]\nReader comment by X: “y” [2] and [9]", (_citation("a"), _citation("b", n=2)))
    html = render.answer_html(answer, number=4)
    assert '<a class="qa-cite" href="#src-4-1">[1]</a>' in html
    assert '<a class="qa-cite" href="#src-4-2">[2]</a>' in html
    assert "[9]" in html and "src-4-9" not in html  # no such source: left as text
    assert "&lt;it&gt;" in html and "<br>" in html


def test_messages_escape_the_question_and_show_what_was_searched() -> None:
    turn = _turn("<b>who</b>?", "An answer [1]", (_citation("a"),), query="who held the crossing?")
    msgs = render.messages([turn], pending=("and <i>then</i>?", "then the crossing?", "reader comments only"))
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert msgs[0]["content"] == "&lt;b&gt;who&lt;/b&gt;?"
    assert "Searched articles and reader comments: <q>who held the crossing?</q>" in msgs[1]["content"]
    assert 'href="#src-1-1"' in msgs[1]["content"]
    assert msgs[2]["content"] == "and &lt;i&gt;then&lt;/i&gt;?"
    assert "reader comments only" in msgs[3]["content"] and "qa-pending" in msgs[3]["content"]
    assert "qa-note" not in msgs[1]["content"]
    noted = replace(turn, answer=replace(turn.answer, notes=("The language model did not answer (<HTTP 500>).",)))
    assert '<div class="qa-note">The language model did not answer (&lt;HTTP 500&gt;).</div>' in \
        render.messages([noted])[1]["content"]


def test_evidence_panel_puts_the_latest_turn_first_and_folds_the_rest() -> None:
    turns = [_turn(f"question {i}", "a [1]", (_citation(f"text {i}"),)) for i in range(1, 13)]
    html = render.evidence_html(turns)
    assert html.index('id="src-12-1"') < html.index('id="src-11-1"')
    assert html.count("<details") == render.EARLIER_TURNS
    assert 'id="src-2-1"' not in html  # older than the panel keeps
    assert "Numbered sources appear here" in render.evidence_html([])
    abstained = replace(turns[0], answer=replace(turns[0].answer, abstained=True))
    assert "none answers the question" in render.evidence_html([abstained])


def test_status_line_and_date_span() -> None:
    manifest = {"counts": {"documents": 1234, "comments": 5, "chunks": 99}, "created_at": "2025-05-01T09:30:12+00:00",
                "model": {"id": "<m>"}}
    assert render.status_html(manifest) == (
        '<div class="qa-status">1,234 documents · 5 comments · 99 chunks · built 2025-05-01 09:30 UTC · '
        "model &lt;m&gt;</div>")
    days = np.array([-1, date(2025, 4, 11).toordinal(), date(2024, 3, 9).toordinal(), -1], dtype=np.int32)
    assert render.date_span(days) == ("2024-03-09", "2025-04-11")
    assert render.date_span(np.array([-1], dtype=np.int32)) is None


def test_notice_is_escaped_and_empty_without_a_message() -> None:
    assert render.notice_html("") == ""
    assert render.notice_html("No <index>") == '<div class="qa-notice" role="alert">No &lt;index&gt;</div>'


# --- the conversation on the sample index (hash embedder) ---------------------------------------

def test_plan_refuses_bad_input_with_a_message() -> None:
    with pytest.raises(BadQuestion, match="empty"):
        chat.plan("   \n", [], chat.Options(), 100)
    with pytest.raises(BadQuestion, match="limit is 100"):
        chat.plan("x" * 101, [], chat.Options(), 100)
    with pytest.raises(BadQuestion, match="YYYY-MM-DD"):
        chat.plan("who?", [], chat.Options(date_from="last year"), 100)
    with pytest.raises(BadQuestion, match="empty: 2025-01-01 is after 2024-01-01"):
        chat.plan("who?", [], chat.Options(date_from="2025-01-01", date_to="2024-01-01"), 100)


def test_plan_sets_the_search_scope() -> None:
    assert chat.plan("Who?", [], chat.Options(), 100).filters.kinds == ("article", "comment")
    off = chat.plan("Who?", [], chat.Options(include_comments=False), 100)
    assert off.filters.kinds == ("article",) and off.scope == "articles only"
    readers = chat.plan("What did readers say about Tal Varesh?", [], chat.Options(include_comments=False), 100)
    assert readers.filters.kinds == ("comment",) and readers.scope.startswith("reader comments only · ")
    assert "although “Articles only” is chosen" in readers.scope  # says it overrides the switch
    on = chat.plan("What did readers say about Tal Varesh?", [], chat.Options(), 100)
    assert on.scope == "reader comments only"
    dated = chat.plan("Who?", [], chat.Options(date_from="March 1, 2024", date_to=" "), 100)
    assert dated.filters == Filters(date_from="2024-03-01") and dated.scope.endswith("from 1 Mar 2024")


def test_a_followup_is_answered_in_context(pipeline: Pipeline) -> None:
    first = chat.ask(pipeline, "Who controls the Tal Varesh crossing?", [], chat.Options())
    second = chat.ask(pipeline, "and who held it before that?", [first], chat.Options())
    assert second.plan.query == "who held the Tal Varesh crossing before that?"
    assert second.answer.citations and all("Varesh" in c.hit.chunk.indexed_text for c in second.answer.citations)
    readers = chat.ask(pipeline, "What did readers say about it?", [first, second], chat.Options(k=3))
    assert len(readers.answer.citations) == 3
    assert {c.hit.chunk.kind for c in readers.answer.citations} == {"comment"}
    assert readers.answer.text.startswith("Reader comment by")


def test_rendered_sample_answer_has_cards_for_every_marker(pipeline: Pipeline) -> None:
    turn = chat.ask(pipeline, "Who controls the Tal Varesh crossing?", [], chat.Options())
    evidence = render.evidence_html([turn])
    answer = render.messages([turn])[1]["content"]
    cited = re.findall(r'href="#(src-1-\d+)"', answer)
    assert cited and all(f'id="{c}"' in evidence for c in cited)
    used = sum(len(c.used_sentences) for c in turn.answer.citations)
    assert evidence.count("<mark>") == used > 0
    assert evidence.count("qa-badge-") == len(turn.answer.citations)


def test_date_range_filters_the_sources(pipeline: Pipeline) -> None:
    turn = chat.ask(pipeline, "Tal Varesh crossing", [], chat.Options(date_from="2025-01-01"))
    assert turn.answer.citations
    assert all(c.hit.chunk.published_at >= "2025-01-01" for c in turn.answer.citations)


# --- launch options -----------------------------------------------------------------------------

def test_credentials_come_from_the_environment_in_pairs() -> None:
    from qa.page.web import credentials

    assert credentials({}) is None
    assert credentials({"QA_USERNAME": "ann", "QA_PASSWORD": "pw"}) == ("ann", "pw")
    with pytest.raises(ConfigError, match="both"):
        credentials({"QA_USERNAME": "ann"})


def test_a_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    from qa.page.web import ensure_index

    settings = load_settings({"index": tmp_path / "none", "model": "hash"}, env={})
    message = ensure_index(settings, archive=None, default_index=False)
    assert "qa index build" in message and "--archive" in message and str(tmp_path / "none") in message


def test_an_archive_is_indexed_when_there_is_no_index(hash_settings: Settings, tmp_path: Path) -> None:
    from qa.page.web import SAMPLE_ARCHIVE, ensure_index

    assert ensure_index(hash_settings, archive=SAMPLE_ARCHIVE, default_index=False) == ""
    assert (hash_settings.index / "CURRENT").is_file()


def test_qa_serve_lists_its_options() -> None:
    from qa.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output and "QA_USERNAME" in result.output


# --- the page's API, in-process (no browser) ------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_page_answers_and_keeps_the_conversation_per_session(sample_index: Settings) -> None:
    from gradio_client import Client

    from qa.page.web import serve

    port = _free_port()
    page = serve(sample_index, port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        chat_value, evidence, notice, box = client.predict("Who controls the Tal Varesh crossing?", ALL, 5, "", "",
                                                           api_name="/ask")
        assert notice == "" and box == "" and len(chat_value) == 2 and 'id="src-1-1"' in evidence
        chat_value, evidence, notice, _ = client.predict("and who held it before that?", ALL, 5, "", "",
                                                         api_name="/ask")
        assert len(chat_value) == 4 and "Tal Varesh crossing before that" in str(chat_value[3]["content"])
        _, _, notice, box = client.predict("  ", ALL, 5, "", "", api_name="/ask")
        assert "empty" in notice and 'role="alert"' in notice
        other = Client(f"http://127.0.0.1:{port}/", verbose=False)  # a second reader starts afresh
        chat_value, *_ = other.predict("and who held it before that?", ALL, 5, "", "", api_name="/ask")
        assert "before that?</q>" in str(chat_value[1]["content"])
        chat_value, evidence, notice, box = client.predict(api_name="/new_conversation")
        assert chat_value == [] and "Numbered sources appear here" in evidence
    finally:
        page.close()


@pytest.mark.slow
def test_the_page_without_an_index_shows_how_to_build_one(tmp_path: Path) -> None:
    from gradio_client import Client

    from qa.page.web import serve

    port = _free_port()
    page = serve(load_settings({"index": tmp_path / "none", "model": "hash"}, env={}), port=port, block=False)
    try:
        _, _, notice, _ = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
            "Who?", ALL, 5, "", "", api_name="/ask")
        assert "No index at" in notice and "qa index build" in notice
    finally:
        page.close()


@pytest.mark.slow
def test_a_login_is_required_when_credentials_are_set(sample_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    from qa.page.web import serve

    monkeypatch.setenv("QA_USERNAME", "analyst")
    monkeypatch.setenv("QA_PASSWORD", "s3cret-for-tests")
    port = _free_port()
    page = serve(sample_index, port=port, block=False)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            Client(url, verbose=False)
        with pytest.raises(ValueError, match="login"):
            Client(url, auth=("analyst", "wrong"), verbose=False)
        chat_value, *_ = Client(url, auth=("analyst", "s3cret-for-tests"), verbose=False).predict(
            "Who controls the Tal Varesh crossing?", ALL, 5, "", "", api_name="/ask")
        assert len(chat_value) == 2
    finally:
        page.close()
