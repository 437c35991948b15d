"""The page as a newcomer meets it, in headless Chromium: the header follows a rebuild without a question
being asked; on a phone-sized screen the first question shows below the chat's "Conversation" label; a card
whose source is a file opens the whole document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qa.config import load_settings
from tests.test_browser import CHROMIUM, SAMPLE, ask, start_server, stop_server

pytestmark = pytest.mark.browser


@pytest.fixture
def served(chromium: Any, tmp_path: Path) -> Iterator[tuple[Any, str, Any]]:
    from qa.build import build_index

    settings = load_settings({"index": tmp_path / "index", "model": "hash"}, env={})
    few = tmp_path / "few"
    few.mkdir()
    for page in sorted(SAMPLE.glob("*.txt"))[:3]:
        (few / page.name).write_bytes(page.read_bytes())
    build_index([few], settings)
    proc, url = start_server(settings, tmp_path / "server.log")
    try:
        yield settings, url, few
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    from tests.test_browser import CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_the_header_follows_a_rebuild_without_a_question(chromium: Any, served: tuple[Any, str, Any]) -> None:
    from qa.build import build_index

    settings, url, few = served
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.goto(url)
    tab.wait_for_function("() => (document.querySelector('#qa-status') || {}).innerText?.includes('3 documents')",
                          timeout=30_000)
    for page in sorted(SAMPLE.glob("*.txt"))[3:5]:
        (few / page.name).write_bytes(page.read_bytes())
    build_index([few], settings)
    tab.wait_for_function("() => document.querySelector('#qa-status').innerText.includes('5 documents')",
                          timeout=30_000)
    context.close()


def test_a_phone_shows_the_question_below_the_label_and_a_file_card_opens_its_document(
        chromium: Any, served: tuple[Any, str, Any]) -> None:
    _, url, _ = served
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.goto(url)
    tab.wait_for_selector("#qa-question textarea")
    ask(tab, "Who took control of the Tal Varesh border crossing?")
    tab.wait_for_timeout(800)  # the chat scrolls to the end of the answer; then back to the top
    tab.evaluate("() => { document.querySelector('#qa-chat .bubble-wrap').scrollTop = 0; }")
    tab.wait_for_function("() => document.querySelector('#qa-chat .bubble-wrap').scrollTop === 0")
    tab.wait_for_timeout(200)
    label = tab.locator("#qa-chat label").first
    assert "Conversation" in label.inner_text()
    box = label.bounding_box()
    scroller = tab.locator("#qa-chat .bubble-wrap").bounding_box()
    bubble = tab.locator("#qa-chat .message").first.bounding_box()
    assert bubble is not None and box is not None and scroller is not None
    assert "Tal Varesh" in tab.locator("#qa-chat .message").first.inner_text()
    bottom = box["y"] + box["height"] - 1
    assert scroller["y"] >= bottom and bubble["y"] >= bottom, (bubble, scroller, box)  # nothing under the label
    card = tab.locator("#qa-evidence .qa-card").first
    card.locator("details.qa-doc summary").click()
    assert card.locator(".qa-doc-body").is_visible()
    assert len(card.locator(".qa-doc-body").inner_text()) > len(card.locator(".qa-passage").inner_text())
    context.close()
