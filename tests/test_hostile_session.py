"""Attacks on the page's session: a conversation that grows without end, the browser keeping every
question and answer after logout, and files posted to the upload route."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qa.config import Settings
from qa.page import chat
from qa.pipeline import Pipeline


def _respond(page: Any) -> Any:
    return next(f.fn for f in page.fns.values() if f.api_name == "ask")


def test_a_long_conversation_keeps_its_last_turns_and_resends_only_those(pipeline: Pipeline) -> None:
    from qa.page.web import build_ui

    respond = _respond(build_ui(pipeline))
    turns: list[chat.Turn] = []
    sizes = []
    for i in range(chat.MAX_TURNS + 6):
        *_, last = respond(f"Who controls the Tal Varesh crossing, question {i}?", turns, True, 5, "", "")
        messages, _, notice, _, turns = last
        sizes.append(len(json.dumps(messages)))
        assert len(turns) == min(i + 1, chat.MAX_TURNS) and len(messages) == 2 * len(turns)
        assert ("keeps its last" in notice) == (i >= chat.MAX_TURNS)
    assert turns[-1].question.endswith(f"question {chat.MAX_TURNS + 5}?")
    assert turns[0].question.endswith("question 6?")  # the six oldest were dropped
    assert max(sizes[chat.MAX_TURNS:]) < 1.1 * sizes[chat.MAX_TURNS - 1]  # what a reply re-sends stops growing
    # the pending reply re-sends no more than the conversation keeps either
    first, *_ = respond("and who held it before that?", turns, True, 5, "", "")
    assert len(first[0]) == 2 * chat.MAX_TURNS


def test_add_keeps_the_newest_turns() -> None:
    turns: list[Any] = list(range(chat.MAX_TURNS))
    kept, dropped = chat.add(turns, "new")  # type: ignore[arg-type]
    assert dropped == 1 and kept[-1] == "new" and kept[0] == 1 and len(kept) == chat.MAX_TURNS
    assert chat.dropped_note(0) == ""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("login", [False, True])
def test_the_page_keeps_no_run_history_and_takes_no_uploads(sample_index: Settings, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch, login: bool) -> None:
    import httpx

    from qa.page.web import serve

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    if login:
        monkeypatch.setenv("QA_USERNAME", "analyst")
        monkeypatch.setenv("QA_PASSWORD", "s3cret-for-tests")
    port = _free_port()
    page = serve(sample_index, port=port, block=False)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            if login:
                assert client.post("/login", data={"username": "analyst", "password": "s3cret-for-tests"}
                                   ).status_code == 200
            big = b"x" * 2_000_000
            for path in ("/gradio_api/upload", "/gradio_api/upload/", "/gradio_api/upload?upload_id=abc"):
                sent = client.post(path, files={"files": ("notes.txt", big, "text/plain")})
                assert sent.status_code == 403, (path, sent.status_code, sent.text[:200])
            small = client.post("/gradio_api/upload", files={"files": ("a.txt", b"hi", "text/plain")})
            assert small.status_code == 403
            config = client.get("/config").json()
            assert config["run_history"] is False  # the browser records no runs, and deletes old ones
            assert client.get("/gradio_api/runs").status_code in (401, 404)
        kept = [p for p in (tmp_path / "gradio").rglob("*") if p.is_file()] if (tmp_path / "gradio").exists() else []
        assert not any(p.name in ("notes.txt", "a.txt") for p in kept), kept
    finally:
        page.close()
