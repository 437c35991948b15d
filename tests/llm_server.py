"""A local OpenAI-compatible chat endpoint for tests: a real HTTP server on 127.0.0.1 in a thread, that
records each request and answers with whatever `reply` the test sets — tokens as server-sent events
(optionally holding after some of them until the test says go on), one JSON object, or raw bytes
dripped slowly. Bounded: every handler stops when the server is closed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[BaseHTTPRequestHandler, "FakeLLM"], None]


def event(content: str | None = None, finish: str | None = None) -> bytes:
    """One `data:` event of a streamed chat completion."""
    delta = {} if content is None else {"content": content}
    data = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def head(handler: BaseHTTPRequestHandler, content_type: str = "text/event-stream",
         length: int | None = None) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    if length is not None:
        handler.send_header("Content-Length", str(length))
    handler.end_headers()


def tokens(pieces: Sequence[str], hold_after: int | None = None, done: bool = True) -> Reply:
    """Stream `pieces` as events; after `hold_after` of them (all of them: before the end), wait for
    `fake.go_on` (set by the test)."""
    def reply(handler: BaseHTTPRequestHandler, fake: FakeLLM) -> None:
        head(handler)
        for i, piece in enumerate(pieces):
            if i == hold_after:
                fake.holding.set()
                fake.go_on.wait(60)
            handler.wfile.write(event(piece))
            handler.wfile.flush()
        if hold_after == len(pieces):
            fake.holding.set()
            fake.go_on.wait(60)
        if done:
            handler.wfile.write(event(finish="stop") + b"data: [DONE]\n\n")
    return reply


def whole(obj: Any) -> Reply:
    """One JSON object, not streamed (as a server that ignores `"stream": true` answers)."""
    def reply(handler: BaseHTTPRequestHandler, fake: FakeLLM) -> None:
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        head(handler, "application/json", len(data))
        handler.wfile.write(data)
    return reply


def message(content: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


def raw(data: bytes, content_type: str = "text/event-stream", length: int | None = None,
        every: float = 0.0, step: int = 0) -> Reply:
    """`data` as the body; with `every`, `step` bytes at a time (1 with step 0) that many seconds apart."""
    def reply(handler: BaseHTTPRequestHandler, fake: FakeLLM) -> None:
        head(handler, content_type, length)
        size = step or (1 if every else len(data) or 1)
        for i in range(0, len(data), size):
            if fake.closed.is_set():
                return
            handler.wfile.write(data[i:i + size])
            handler.wfile.flush()
            if every:
                fake.closed.wait(every)
    return reply


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: Reply = tokens(["The Grey Hand ", "militia controls ", "it [1]."])
        self.holding, self.go_on, self.closed = threading.Event(), threading.Event(), threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body})
                try:
                    fake.reply(self, fake)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up: what several tests check for

            def do_GET(self) -> None:  # noqa: N802
                data = json.dumps({"data": [{"id": "fake"}]}).encode()
                head(self, "application/json", len(data))
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), name="fake-llm", daemon=True).start()

    @property
    def prompt(self) -> str:
        return str(self.requests[-1]["body"]["messages"][1]["content"])

    def reset(self) -> None:
        """Ready for the next test: no hold pending."""
        self.holding.clear()
        self.go_on.clear()

    def close(self) -> None:
        self.closed.set()
        self.go_on.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    try:
        yield fake
    finally:
        fake.close()


def wait_for(check: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what or check}")
        time.sleep(0.05)
