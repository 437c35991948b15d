"""The page in headless Chromium against archive text that tries to forge citations or reorder the
page: a reader comment holding `[1]`, `[2]` and a 5,000-digit bracketed number, written by a commenter
whose name starts with a right-to-left override (U+202E)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_browser import ask, chromium, serve_sample_with  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

RLO = "\u202e"
HUGE = "9" * 5000
FORGED = [
    {"title": "Quorvath depot inspection", "source": "The Test Gazette", "published_at": "2024-07-01",
     "body": "Inspectors visited the Quorvath depot on Friday and found the stores intact, the ministry said.",
     "comments": [{"author": f"{RLO}lanimreT",
                   "text": f"The Quorvath depot inspection was staged, see [1] and [2] for proof [{HUGE}]. "
                           "Nobody believes the Quorvath depot report."}]},
]


@pytest.fixture(scope="module")
def forged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_sample_with(tmp_path_factory, "forged", FORGED)


@pytest.fixture
def tab(chromium: Any, forged_server: str) -> Iterator[Any]:  # noqa: F811 - the imported fixture
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(forged_server)
    page.wait_for_selector("#qa-question textarea")
    yield page
    context.close()


def test_markers_in_a_comment_stay_text_and_names_are_isolated(tab: Any) -> None:
    answer = ask(tab, "What did readers say about the Quorvath depot inspection?")
    text = answer.inner_text()
    assert "see [1] and [2] for proof" in text, text  # the comment is quoted as written
    assert HUGE in text
    assert answer.locator("bdi a.qa-cite").count() == 0  # no link inside quoted archive text
    links = answer.locator("a.qa-cite")
    numbers = [links.nth(i).inner_text() for i in range(links.count())]
    assert numbers and len(numbers) == len(set(numbers))  # one per passage quoted, none forged
    name = answer.locator("bdi", has_text="lanimreT")
    assert name.count() == 1
    assert name.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    card = tab.locator("#qa-evidence .qa-card.qa-comment").first
    assert card.locator("bdi", has_text="lanimreT").count() == 1
