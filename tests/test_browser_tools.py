"""The page's analyst tools in headless Chromium (see tests/test_browser.py for how the page is served):
the timeline picture, the whole-document panel, the export downloads, and a rating kept in the index folder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qa.config import load_settings
from tests.test_browser import ARTIFACTS, CHROMIUM, INJECTED, SAMPLE, ask, chromium, start_server, stop_server

pytestmark = pytest.mark.browser
__all__ = ["chromium"]  # the fixture, used by the tests below
TAL = "Who controls the Tal Varesh crossing?"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The sample archive plus the injected test archive, hash-embedded, served by app.py: (URL, index folder)."""
    from qa.build import build_index

    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    tmp = tmp_path_factory.mktemp("tools")
    (tmp / "injected.json").write_text(json.dumps(INJECTED), encoding="utf-8")
    settings = load_settings({"index": tmp / "index", "model": "hash"}, env={})
    build_index([SAMPLE, tmp / "injected.json"], settings)
    proc, url = start_server(settings, tmp / "server.log")
    yield url, settings.index
    stop_server(proc)


@pytest.fixture
def page(chromium: Any, served: tuple[str, Path]) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.goto(served[0])
    tab.wait_for_selector("#qa-question textarea")
    yield tab
    context.close()


def test_the_timeline_picture_links_each_point_to_its_card(page: Any) -> None:
    ask(page, TAL)
    picture = page.locator("#qa-evidence .qa-turn").first.locator("svg.qa-timeline-svg")
    picture.wait_for(state="visible", timeout=10_000)
    points = picture.locator("a.qa-point")
    assert points.count() >= 3
    assert "Timeline of" in page.locator("#qa-evidence figcaption").first.inner_text()
    for i in range(points.count()):
        target = str(points.nth(i).get_attribute("href"))[1:]
        points.nth(i).locator("circle").click()
        page.wait_for_function("id => { const r = document.getElementById(id).getBoundingClientRect();"
                               " return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }",
                               arg=target, timeout=5000)
    ARTIFACTS.mkdir(exist_ok=True)
    picture.screenshot(path=str(ARTIFACTS / "timeline_picture.png"))


def test_a_card_opens_its_whole_document(page: Any) -> None:
    ask(page, "What did readers say about the Zeltwick bridge repairs?")
    card = page.locator("#qa-evidence .qa-turn").first.locator(".qa-card").first
    panel = card.locator("details.qa-doc")
    assert panel.count() == 1 and not panel.locator(".qa-doc-body").is_visible()
    panel.locator("summary").click()
    body = panel.locator(".qa-doc-body")
    body.wait_for(state="visible", timeout=5000)
    assert "reader comment" in body.inner_text()
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_the_conversation_downloads_as_markdown_and_json(page: Any, tmp_path: Path) -> None:
    ask(page, TAL)
    ask(page, "and who held it before that?", answers_before=1)
    page.click("#qa-export")
    page.locator("#qa-export-md").wait_for(state="visible", timeout=10_000)
    with page.expect_download() as got:
        page.click("#qa-export-md")
    markdown = Path(got.value.path()).read_text(encoding="utf-8")
    assert got.value.suggested_filename == "archive-qa-conversation.md"
    assert "## Q1. Who controls the Tal Varesh crossing?" in markdown and "## Q2. and who held it" in markdown
    assert "**Sources**" in markdown and re.search(r"\\\[\d+\\\]", markdown)
    with page.expect_download() as got:
        page.click("#qa-export-json")
    data = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
    assert [t["question"] for t in data["turns"]] == [TAL, "and who held it before that?"]
    first = data["turns"][0]
    assert first["sources"] and {s["n"] for s in first["sources"]} >= {p["n"] for p in first["timeline"]}
    ask(page, "What did readers say about it?", answers_before=2)  # a new answer: the old links go
    page.wait_for_function("() => !document.querySelector('#qa-export-md')", timeout=10_000)


def test_a_thumb_and_its_note_are_kept_in_the_index_folder(page: Any, served: tuple[str, Path]) -> None:
    ratings = served[1] / "feedback.jsonl"
    before = ratings.read_text(encoding="utf-8").splitlines() if ratings.exists() else []
    ask(page, TAL)
    page.fill("#qa-feedback-note textarea", "Right holder <b>and</b> dates")
    page.locator("#qa-chat button[aria-label='Like']").first.click()
    page.wait_for_function("() => document.querySelector('#qa-notice').innerText.includes('is kept')",
                           timeout=10_000)
    assert "Q1" in page.locator("#qa-notice").inner_text()
    assert page.locator("#qa-feedback-note textarea").input_value() == ""
    lines = ratings.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(before) + 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rated.png"), full_page=True)
    record = json.loads(lines[-1])
    assert record["rating"] == "up" and record["question"] == TAL and record["note"] == "Right holder <b>and</b> dates"


def test_outlet_and_author_filters_narrow_the_sources(page: Any) -> None:
    page.locator("#qa-outlets input").click()
    page.get_by_role("option", name="The Test Gazette").click()
    page.locator("#qa-question textarea").click()  # close the list
    ask(page, "Zeltwick bridge repairs")
    cards = page.locator("#qa-evidence .qa-turn").first.locator(".qa-card")
    assert cards.count() >= 1
    for i in range(cards.count()):
        assert "The Test Gazette" in cards.nth(i).locator(".qa-meta").inner_text()
    assert "from The Test Gazette" in page.locator("#qa-chat .qa-searched").first.inner_text()
    page.fill("#qa-authors textarea, #qa-authors input", "Nobody Atall")
    page.fill("#qa-question textarea", "Zeltwick bridge repairs")
    page.click("#qa-ask")
    page.wait_for_function("() => document.querySelector('#qa-notice').innerText.includes('No author named')",
                           timeout=10_000)
    assert page.locator("#qa-chat .qa-answer").count() == 1  # the earlier answer only
