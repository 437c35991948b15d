"""The chat page answering through a language model, in headless Chromium: `python app.py` is pointed
at a local fake OpenAI-compatible server (tests/llm_server.py) that streams its reply and holds the
rest back until the test has seen the first words on the page. Then the checked answer replaces
them, with its citation links; a failing endpoint ends in the extractive answer and its note."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qa.config import load_settings
from tests.llm_server import FakeLLM, fake_llm, tokens
from tests.test_browser import ARTIFACTS, CHROMIUM, SAMPLE, chromium, start_server, stop_server  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
# Records every text the page showed in `.qa-streaming` (the answer being written), in order.
WATCH_STREAM = """() => {
  window.__streamed = [];
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('#qa-chat .qa-streaming')) {
      const t = el.innerText;
      if (t && window.__streamed[window.__streamed.length - 1] !== t) window.__streamed.push(t);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


@pytest.fixture(scope="module")
def llm_app(tmp_path_factory: pytest.TempPathFactory, fake: FakeLLM) -> Iterator[str]:
    """The sample archive, hash-embedded, served by app.py with QA_LLM_URL set to the fake server."""
    from qa.build import build_index

    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    tmp = tmp_path_factory.mktemp("llm-web")
    settings = load_settings({"index": tmp / "index", "model": "hash"}, env={})
    build_index([SAMPLE], settings)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("QA_LLM_URL", fake.url)
        env.setenv("QA_LLM_TIMEOUT", "60")
        proc, url = start_server(settings, tmp / "server.log")
    yield url
    stop_server(proc)


@pytest.fixture
def page(chromium: Any, llm_app: str, fake: FakeLLM) -> Iterator[Any]:  # noqa: F811 - the imported fixture
    fake.reset()
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.goto(llm_app)
    tab.wait_for_selector("#qa-question textarea")
    tab.evaluate(WATCH_STREAM)
    yield tab
    fake.go_on.set()
    context.close()


def submit(page: Any, question: str) -> None:
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")


def final_answer(page: Any) -> Any:
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-answer').length > 0", timeout=TIMEOUT_MS)
    return page.locator("#qa-chat .qa-answer").first


def test_the_answer_streams_onto_the_page_then_is_checked(page: Any, fake: FakeLLM) -> None:
    fake.reply = tokens(["As of 3 March 2025, ", "the Iron Dawn Brigades ", "hold the crossing [1][42]."],
                        hold_after=2)
    submit(page, "Who controls the Tal Varesh crossing?")
    page.wait_for_function("() => [...document.querySelectorAll('#qa-chat .qa-streaming')]"
                           ".some(e => e.innerText.includes('Iron Dawn Brigades'))", timeout=TIMEOUT_MS)
    # the server still holds the last words back: what is on the page came token by token
    assert fake.holding.wait(10) and not fake.go_on.is_set()
    assert page.locator("#qa-chat .qa-answer").count() == 0
    assert "citations are checked" in page.locator("#qa-chat .qa-pending").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "llm_streaming.png"))
    fake.go_on.set()
    answer = final_answer(page)
    assert answer.inner_text() == "As of 3 March 2025, the Iron Dawn Brigades hold the crossing [1]."
    link = answer.locator("a.qa-cite")
    assert link.count() == 1 and page.locator(str(link.get_attribute("href"))).count() == 1
    assert "[42]" in page.locator("#qa-chat .qa-note").inner_text()  # the marker naming no passage was removed
    assert page.locator("#qa-chat .qa-streaming").count() == 0
    streamed = page.evaluate("window.__streamed")
    whole = "As of 3 March 2025, the Iron Dawn Brigades hold the crossing [1][42]."
    assert streamed and all(whole.startswith(s) for s in streamed)  # the model's words as written, unchecked


def test_a_reply_cut_short_ends_in_the_quoted_answer(page: Any, fake: FakeLLM) -> None:
    fake.reply = tokens(["The army ", "holds it"], hold_after=2, done=False)
    submit(page, "Who controls the Tal Varesh crossing?")
    page.wait_for_function("() => [...document.querySelectorAll('#qa-chat .qa-streaming')]"
                           ".some(e => e.innerText === 'The army holds it')", timeout=TIMEOUT_MS)
    fake.go_on.set()  # and then the server hangs up without finishing
    answer = final_answer(page)
    note = page.locator("#qa-chat .qa-note").inner_text()
    assert "did not answer (the reply was cut short)" in note and "quotes the passages" in note
    assert "The army holds it" not in answer.inner_text() and answer.locator("a.qa-cite").count() >= 1


def test_an_uncited_reply_is_not_shown_as_the_answer(page: Any, fake: FakeLLM) -> None:
    fake.reply = tokens(["The crossing is held ", "by the army."])
    submit(page, "Who controls the Tal Varesh crossing?")
    answer = final_answer(page)
    assert "by the army" not in answer.inner_text() and answer.locator("a.qa-cite").count() >= 1
    assert "cited no passage" in page.locator("#qa-chat .qa-note").inner_text()
