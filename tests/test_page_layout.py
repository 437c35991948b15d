"""The page at a phone's width (390 px) and a laptop's (1280 px): nothing runs off the screen or out of its
card, a very long question does not stretch the box or the buttons, counts read "1 document".

Screenshots of both widths go to tests/artifacts/ (git-ignored): page_390.png, page_1280.png and the
same with a long question typed (page_390_long_question.png, page_1280_long_question.png).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qa.page.render import plural, status_html
from tests.test_browser import ARTIFACTS, ask, chromium, serve_sample_with  # noqa: F401

LONG_URL = "https://archive.example.org/reports/" + "border-crossing-" * 20 + "?ref=" + "x" * 120
# One article with a reader comment that pastes a very long link.
LINKED = [{"title": "Varesh crossing reopens to aid lorries", "source": "The Test Gazette",
           "url": LONG_URL, "published_at": "2024-06-01",
           "body": "The Tal Varesh crossing reopened to aid lorries on Monday, the border office said.",
           "comments": [{"author": "reader_with_links",
                         "text": f"The Tal Varesh crossing story is here: {LONG_URL} and it is long."}]}]
WIDTHS = (390, 1280)


def test_counts_are_singular_for_one() -> None:
    assert plural(1, "document") == "1 document" and plural(0, "comment") == "0 comments"
    status = status_html({"counts": {"documents": 1, "comments": 1, "chunks": 2}, "model": {"id": "m"}})
    assert "1 document · 1 comment · 2 chunks" in status


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_sample_with(tmp_path_factory, "linked", LINKED)


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > width + 1) out.push('page ' + document.documentElement.scrollWidth);
  const watched = '.qa-card, .qa-card *, #qa-chat .message, #qa-question, #qa-ask, #qa-new';
  for (const el of document.querySelectorAll(watched)) {
    const r = el.getBoundingClientRect();
    const name = el.className || el.id || el.tagName;
    if (r.width && (r.right > width + 1 || r.left < -1)) out.push(name + ' ' + r.right);
  }
  for (const card of document.querySelectorAll('.qa-card')) {
    if (card.scrollWidth > card.clientWidth + 1) out.push('card ' + card.id + ' ' + card.scrollWidth);
  }
  return out;
}"""


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_fits_at_phone_and_laptop_widths(chromium: Any, server: str, width: int) -> None:  # noqa: F811
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(server)
        page.wait_for_selector("#qa-question textarea")
        ask(page, "What did the reader say about the Tal Varesh crossing story link?")
        page.wait_for_selector(".qa-card")
        assert page.locator(".qa-card").count() >= 1
        page.wait_for_timeout(300)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"page_{width}.png"), full_page=True)
        assert page.locator(f'.qa-card:has-text("{LONG_URL[:40]}")').count() >= 1  # the long link is shown
        assert page.evaluate(OVERFLOW) == []
        status = page.locator("#qa-status").inner_text()
        assert "documents" in status and " 1 documents" not in status

        before = {sel: page.locator(sel).bounding_box() for sel in ("#qa-question textarea", "#qa-ask", "#qa-new")}
        if width >= 1000:  # side by side: the box gets the room, the buttons their text's width, on one line
            assert before["#qa-question textarea"]["width"] > before["#qa-ask"]["width"] + before["#qa-new"]["width"]
            assert before["#qa-new"]["height"] <= before["#qa-ask"]["height"] + 2 <= 60
        page.fill("#qa-question textarea", "Why " + "was the crossing closed and then reopened " * 120)  # ~5,000
        page.wait_for_timeout(300)
        after = {sel: page.locator(sel).bounding_box() for sel in before}
        page.screenshot(path=str(ARTIFACTS / f"page_{width}_long_question.png"), full_page=True)
        assert after["#qa-question textarea"]["height"] <= 200, after  # capped; the text scrolls inside
        for button in ("#qa-ask", "#qa-new"):
            assert after[button]["height"] <= before[button]["height"] + 2, (button, before, after)
        assert page.evaluate(OVERFLOW) == []
    finally:
        context.close()
