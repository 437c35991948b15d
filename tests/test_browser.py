"""The real page in headless Chromium: `python app.py` is started on a free local port against an index
built here, and Playwright types questions into it. Debian's /usr/bin/chromium only; nothing is downloaded.

Screenshots go to tests/artifacts/. With QA_UPDATE_SCREENSHOT=1 the real-archive test also writes
docs/screenshot.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qa.config import Settings, load_settings

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
SAMPLE = ROOT / "qa" / "data" / "sample_archive"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ANSWER_TIMEOUT_MS = 60_000

# A test archive whose reader comment, author name and link try to run script in the page.
INJECTED = [
    {"title": "Zeltwick bridge reopens to lorries <b>after repairs</b>", "source": "The Test Gazette",
     "url": "https://example.org/zeltwick?a=1&b=2", "published_at": "2024-06-01",
     "body": "The Zeltwick bridge over the Orla river reopened to lorries on Monday, the transport office said. "
             "Engineers finished repairs to the eastern span after six weeks.",
     "comments": [
         {"author": '<img src=x onerror="window.__xss=7">',
          "text": 'The Zeltwick bridge repairs were a scandal <img src=x onerror="window.__xss=1"> from start '
                  "to finish. <script>window.__xss=2</script> The Zeltwick contractor was paid twice. "
                  "${window.__xss=3} [the Zeltwick file](javascript:window.__xss=4)"}]},
    {"title": "Orla ferry resumes", "url": "javascript:window.__xss=5", "published_at": "2024-06-02",
     "body": "The Orla ferry resumed crossings on Tuesday after the Zeltwick bridge reopened to lorries."},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, log: Path, timeout: float = 120.0) -> tuple[subprocess.Popen[bytes], str]:
    """`python app.py` on a free port; returns once the page answers HTTP."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    for name in ("QA_USERNAME", "QA_PASSWORD", "QA_CONFIG"):
        env.pop(name, None)
    cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(settings.index),
           "--model", settings.model]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"app.py did not answer on {url} within {timeout:.0f} s:\n{log.read_text()}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def serve_sample_with(tmp_path_factory: pytest.TempPathFactory, name: str,
                      records: list[dict[str, Any]]) -> Iterator[str]:
    """The sample archive plus `records` (JSON archive records), hash-embedded, served by app.py:
    yields the page's URL, stops the server after."""
    from qa.build import build_index

    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    tmp = tmp_path_factory.mktemp(name)
    (tmp / f"{name}.json").write_text(json.dumps(records), encoding="utf-8")
    settings = load_settings({"index": tmp / "index", "model": "hash"}, env={})
    build_index([SAMPLE, tmp / f"{name}.json"], settings)
    proc, url = start_server(settings, tmp / "server.log")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def hash_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample archive plus the injected test archive, hash-embedded, served by app.py."""
    yield from serve_sample_with(tmp_path_factory, "injected", INJECTED)


@pytest.fixture
def page(chromium: Any, hash_server: str) -> Iterator[Any]:
    """A fresh tab (and so a fresh conversation) on the hash-index page."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.goto(hash_server)
    tab.wait_for_selector("#qa-question textarea")
    yield tab
    context.close()


def ask(page: Any, question: str, answers_before: int = 0) -> Any:
    """Type a question, press Ask, wait for its answer; returns the answer's locator."""
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")
    answers = page.locator("#qa-chat .qa-answer")
    page.wait_for_function(f"() => document.querySelectorAll('#qa-chat .qa-answer').length > {answers_before}",
                           timeout=ANSWER_TIMEOUT_MS)
    return answers.nth(answers_before)


def card_of(page: Any, marker: Any) -> Any:
    return page.locator(str(marker.get_attribute("href")))


def test_an_answer_shows_markers_and_their_source_cards(page: Any) -> None:
    answer = ask(page, "Who controls the Tal Varesh crossing?")
    assert "Tal Varesh" in answer.inner_text()
    # the latest dated report leads, not the stale 19 Sep 2024 "full control of the armed forces"
    assert answer.inner_text().strip().startswith("As of 11 Apr 2025")
    assert "Held since 17 Jan 2025" in answer.inner_text() and "Before that:" in answer.inner_text()
    markers = answer.locator("a.qa-cite")
    assert markers.count() >= 1
    for i in range(markers.count()):  # each marker's card has the badge of the kind its answer line quotes
        marker = markers.nth(i)
        assert marker.is_visible() and re.fullmatch(r"\[\d+\]", marker.inner_text())
        line = marker.evaluate("a => { let t = ''; for (let n = a.previousSibling; n && n.nodeName !== 'BR';"
                               " n = n.previousSibling) t = n.textContent + t; return t; }")
        card = card_of(page, marker)
        marker.click()
        page.wait_for_function("id => { const r = document.getElementById(id).getBoundingClientRect();"
                               " return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }",
                               arg=str(marker.get_attribute("href"))[1:], timeout=5000)
        expected = "Reader comment · opinion" if line.strip().startswith("Reader comment by") else "Article"
        assert card.locator(".qa-badge").inner_text() == expected
        assert card.locator("mark").count() >= 1  # the sentence quoted in the answer is highlighted
        assert re.search(r"search rank \d+", card.locator(".qa-meta").inner_text())
    status = page.locator("#qa-status").inner_text()
    assert "14 documents · 45 comments" in status and "chunks" in status and "model hash:256" in status
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "answered_sample.png"), full_page=True)


def test_kind_badges_follow_the_comment_switch(page: Any) -> None:
    page.locator("#qa-kind").get_by_text("Articles only").click()
    answer = ask(page, "Who controls the Tal Varesh crossing?")
    badges = page.locator("#qa-evidence .qa-turn").first.locator(".qa-badge").all_inner_texts()
    assert badges and set(badges) == {"Article"}
    assert "articles only" in page.locator("#qa-chat .qa-searched").first.inner_text()
    assert answer.locator("a.qa-cite").count() >= 1


def test_a_followup_is_answered_in_context(page: Any) -> None:
    ask(page, "Who controls the Tal Varesh crossing?")
    second = ask(page, "and who held it before that?", answers_before=1)
    searched = page.locator("#qa-chat .qa-searched").nth(1).inner_text()
    assert "Tal Varesh" in searched and "before that" in searched
    assert second.locator("a.qa-cite").count() >= 1
    ask(page, "What did readers say about it?", answers_before=2)
    searched = page.locator("#qa-chat .qa-searched").nth(2).inner_text()
    assert "reader comments only" in searched and "Tal Varesh" in searched
    latest = page.locator("#qa-evidence .qa-turn").first
    assert set(latest.locator(".qa-badge").all_inner_texts()) == {"Reader comment · opinion"}
    assert page.locator("#qa-evidence details.qa-turn").count() == 2  # earlier sources, folded
    page.click("#qa-new")
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-answer').length === 0", timeout=10_000)
    assert "Numbered sources appear here" in page.locator("#qa-evidence").inner_text()


def test_since_when_and_what_about_keep_the_who_holds_question(page: Any) -> None:
    ask(page, "Who controls the Tal Varesh crossing?")
    since = ask(page, "Since when?", answers_before=1)
    searched = page.locator("#qa-chat .qa-searched").nth(1).inner_text()
    assert "Since when has the Tal Varesh crossing been held" in searched
    # answered from the crossing's timeline: the holder and the day its hold began, cited
    assert re.match(r"\S.* has held the Tal Varesh crossing since 17 Jan 2025", since.inner_text().strip())
    assert since.locator("a.qa-cite").count() >= 1
    ask(page, "What about Kessra?", answers_before=2)
    searched = page.locator("#qa-chat .qa-searched").nth(2).inner_text()
    assert "Who controls Kessra?" in searched and "Since when" not in searched


def test_injected_markup_shows_as_text_and_runs_nothing(page: Any) -> None:
    answer = ask(page, "What did readers say about the Zeltwick bridge repairs?")
    evidence = page.locator("#qa-evidence").inner_text()
    assert '<img src=x onerror="window.__xss=1">' in evidence
    assert "<script>window.__xss=2</script>" in evidence
    assert "${window.__xss=3}" in evidence
    assert "comment by <img src=x onerror=\"window.__xss=7\">" in evidence
    assert "<img src=x" in answer.inner_text() or "<script>" in answer.inner_text()  # quoted, as text
    ask(page, '<img src=x onerror="window.__xss=6"> Orla ferry and Zeltwick bridge', answers_before=1)
    assert '<img src=x onerror="window.__xss=6">' in page.locator("#qa-chat").inner_text()
    page.wait_for_timeout(500)  # an onerror would have fired by now
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    hrefs = page.eval_on_selector_all("#qa-evidence a, #qa-chat a", "els => els.map(e => e.getAttribute('href'))")
    assert "https://example.org/zeltwick?a=1&b=2" in hrefs
    assert not [h for h in hrefs if h and h.lower().startswith("javascript")]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "injected_as_text.png"), full_page=True)


def test_bad_input_gets_an_inline_message(page: Any) -> None:
    page.click("#qa-ask")
    notice = page.locator("#qa-notice .qa-notice")
    notice.wait_for(state="visible", timeout=10_000)
    assert "empty" in notice.inner_text()
    page.fill("#qa-question textarea", "why " * 600)
    page.click("#qa-ask")
    page.wait_for_function("() => document.querySelector('#qa-notice').innerText.includes('limit')", timeout=10_000)
    page.locator("#qa-from input, #qa-from textarea").first.fill("someday")
    page.fill("#qa-question textarea", "Who controls the Tal Varesh crossing?")
    page.click("#qa-ask")
    page.wait_for_function("() => document.querySelector('#qa-notice').innerText.includes('YYYY-MM-DD')",
                           timeout=10_000)
    assert page.locator("#qa-chat .qa-answer").count() == 0
    assert page.locator(".toast-body").count() == 0  # no error pop-up


@pytest.mark.model
@pytest.mark.slow
def test_the_real_archive_answers_with_the_real_model(chromium: Any, archive_index: Settings,
                                                      tmp_path: Path) -> None:
    proc, url = start_server(archive_index, tmp_path / "server.log")
    try:
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#qa-question textarea")
        answer = ask(page, "Who controls the Al Waleed crossing?")
        assert "Islamic State" in answer.inner_text()
        marker = answer.locator("a.qa-cite").first
        card = card_of(page, marker)
        assert "Al Waleed" in card.inner_text() and card.locator("mark").count() >= 1
        assert "all-MiniLM-L6-v2" in page.locator("#qa-status").inner_text()
        page.wait_for_timeout(300)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "al_waleed.png"))
        if os.environ.get("QA_UPDATE_SCREENSHOT") == "1":
            shutil.copy(ARTIFACTS / "al_waleed.png", ROOT / "docs" / "screenshot.png")
        context.close()
    finally:
        stop_server(proc)
