"""Who may use the page: no open binding beyond loopback without a login, throttled failed logins,
no blank password, Gradio's open routes closed behind the login, and several questions at once."""

from __future__ import annotations

import http.cookiejar
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from qa.config import Settings
from qa.errors import ConfigError
from qa.page.access import GUARDED, LoginThrottle, check_exposure, is_loopback
from tests.conftest import ROOT


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("127.0.0.5", True), ("[::1]", True), ("0.0.0.0", False),
                                            ("::", False), ("192.168.1.4", False), ("example.org", False),
                                            ("", False)])
def test_loopback_is_told_apart(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_binding_beyond_loopback_needs_a_login_or_the_explicit_flag() -> None:
    with pytest.raises(ConfigError, match="--public-without-login"):
        check_exposure("0.0.0.0", login=False, public_without_login=False)
    check_exposure("0.0.0.0", login=True, public_without_login=False)
    check_exposure("0.0.0.0", login=False, public_without_login=True)
    check_exposure("127.0.0.1", login=False, public_without_login=False)


@pytest.mark.parametrize("command", [[sys.executable, "-m", "qa.cli", "serve"], [sys.executable, "app.py"]])
def test_serve_on_all_interfaces_without_a_login_is_refused(command: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QA_USERNAME", "QA_PASSWORD")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", QA_CONFIG="", QA_INDEX=str(tmp_path / "none"))
    result = subprocess.run([*command, "--host", "0.0.0.0", "--port", "1"], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--public-without-login" in result.stderr and result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "none").exists()  # refused before anything was built


@pytest.mark.parametrize("password", [" ", "\t\n", "   "])
def test_a_blank_password_is_refused(password: str) -> None:
    from qa.page.web import credentials

    with pytest.raises(ConfigError, match="only spaces"):
        credentials({"QA_USERNAME": "ann", "QA_PASSWORD": password})
    with pytest.raises(ConfigError, match="only spaces"):
        credentials({"QA_USERNAME": "  ", "QA_PASSWORD": "pw"})


def test_failed_logins_wait_longer_each_time() -> None:
    now = [0.0]
    throttle = LoginThrottle(free=3, first=1.0, most=8.0, clock=lambda: now[0])
    waits = []
    for _ in range(8):
        throttle.failed("10.0.0.1")
        waits.append(throttle.wait("10.0.0.1"))
    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert throttle.wait("10.0.0.2") == 0.0  # per client
    now[0] = 7.0
    assert throttle.wait("10.0.0.1") == 1.0
    throttle.succeeded("10.0.0.1")
    assert throttle.wait("10.0.0.1") == 0.0


def test_the_throttle_remembers_a_bounded_number_of_clients() -> None:
    throttle = LoginThrottle(free=0, clients=100, clock=lambda: 0.0)
    for i in range(1000):
        throttle.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(throttle._failures) == 100


# --- the running page -----------------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(url: str, data: bytes | None = None, opener: Any = None) -> int:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _login(url: str, password: str, opener: Any = None) -> int:
    form = urllib.parse.urlencode({"username": "analyst", "password": password}).encode()
    request = urllib.request.Request(url + "login", data=form)
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def guarded_page(sample_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from qa.page.web import serve

    monkeypatch.setenv("QA_USERNAME", "analyst")
    monkeypatch.setenv("QA_PASSWORD", "s3cret-for-tests")
    port = _free_port()
    page = serve(sample_index, port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        page.close()


@pytest.mark.slow
def test_open_routes_are_closed_behind_the_login(guarded_page: str) -> None:
    url = guarded_page
    body = b'{"session_hash": "x", "fn_index": 0, "event_id": "e"}'
    for route in ("openapi.json", "docs", "gradio_api/openapi.json", "gradio_api/info", "config"):
        assert _status(url + route) in (401, 404), route
    for route in ("gradio_api/cancel", "gradio_api/reset", "gradio_api/heartbeat/x"):
        assert _status(url + route, body) == 401, route
    assert _status(url) == 200  # the login page itself
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    assert _login(url, "s3cret-for-tests", opener) == 200
    assert _status(url + "gradio_api/cancel", body, opener) == 200  # a session may cancel its own question
    assert _status(url + "gradio_api/info", None, opener) == 200


@pytest.mark.slow
def test_failed_logins_are_throttled_and_the_right_password_waits_too(guarded_page: str) -> None:
    url = guarded_page
    assert [_login(url, "wrong") for _ in range(4)] == [400, 400, 400, 400]
    assert _login(url, "wrong") == 429
    assert _login(url, "s3cret-for-tests") == 429  # guessing on does not pay: the right one waits as well
    threading.Event().wait(1.5)  # the first wait is 1 s
    assert _login(url, "s3cret-for-tests") == 200
    assert _login(url, "wrong") == 400  # a success clears the count


@pytest.mark.slow
@pytest.mark.parametrize("concurrency, both", [(2, True), (1, False)])
def test_two_questions_are_answered_at_once(sample_index: Settings, monkeypatch: pytest.MonkeyPatch,
                                            concurrency: int, both: bool) -> None:
    """Each answer waits until another question is being answered too: served one at a time, the
    first gives up waiting (the barrier times out) and answers with an error."""
    from gradio_client import Client

    from qa.page import chat
    from qa.page.web import serve

    monkeypatch.delenv("QA_USERNAME", raising=False)
    monkeypatch.delenv("QA_PASSWORD", raising=False)
    barrier = threading.Barrier(2, timeout=15)
    original = chat.answer_stream

    def answer_together(*args: Any, **kwargs: Any) -> Any:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            from qa.errors import QAError

            raise QAError("answered alone") from None
        yield from original(*args, **kwargs)

    monkeypatch.setattr(chat, "answer_stream", answer_together)
    port = _free_port()
    page = serve(replace(sample_index, concurrency=concurrency), port=port, block=False)
    try:
        url = f"http://127.0.0.1:{port}/"

        def ask(question: str) -> str:
            _chat, _evidence, notice, _box = Client(url, verbose=False).predict(
                question, "Articles and reader comments", 5, "", "", api_name="/ask")
            return str(notice)

        with ThreadPoolExecutor(2) as pool:
            notices = list(pool.map(ask, ["Who controls the Tal Varesh crossing?", "What was found at Port Calvera?"]))
        assert all(not n for n in notices) is both, notices
    finally:
        page.close()


def test_guarded_routes_are_listed_for_the_docs() -> None:
    assert "/openapi.json" in GUARDED and "/gradio_api/cancel" in GUARDED and "/gradio_api/reset" in GUARDED
