"""One request to an OpenAI-compatible chat endpoint, streamed, under a total deadline.

`stream_chat` yields the reply's text pieces as the server sends them (server-sent events, the
`"stream": true` form every such server speaks; one that answers with a single JSON object instead
is read whole). Whatever goes wrong — a refused connection, an HTTP error, a reply cut short, not
JSON, nested past the parser's depth, bigger than `max_bytes`, slower than the deadline — ends in
`LLMError` with the reason; nothing else escapes. The socket is read in a worker thread, so the
deadline holds however slowly a server drips its bytes.
"""

from __future__ import annotations

import http.client
import json
import math
import queue
import socket
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any
from urllib.parse import urlsplit

from qa.errors import QAError

MAX_REPLY_BYTES = 1 << 20  # 1 MiB on the wire; a 400-token reply streamed as events is about 100 KiB
MAX_EVENT_BYTES = 64 << 10  # one server-sent event
_READ = 16 << 10
_LONGEST_WAIT = 86_400.0  # an infinite llm_timeout still ends, a day later


class LLMError(QAError):
    """The endpoint could not be reached or gave no usable answer."""


def chat_url(url: str) -> str:
    """`http://host:8080/v1` -> `http://host:8080/v1/chat/completions`; a full URL is kept."""
    url = url.rstrip("/")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


def stream_chat(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float,
                max_bytes: int = MAX_REPLY_BYTES) -> Generator[str, None, None]:
    """The reply's text, piece by piece, all of it within `timeout` seconds of the call.

    Close the generator to hang up early; the connection is shut when it ends either way.
    """
    timeout = min(timeout, _LONGEST_WAIT) if math.isfinite(timeout) else _LONGEST_WAIT
    out: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
    held: list[http.client.HTTPConnection] = []
    stop = threading.Event()
    worker = threading.Thread(target=_work, args=(url, body, headers, timeout, max_bytes, held, stop, out),
                              name="llm-reply", daemon=True)
    deadline = time.monotonic() + timeout
    worker.start()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LLMError(f"no complete reply within {timeout:g} s (llm_timeout)")
            try:
                kind, value = out.get(timeout=left)
            except queue.Empty:
                raise LLMError(f"no complete reply within {timeout:g} s (llm_timeout)") from None
            if kind == "text":
                yield value
            elif kind == "error":
                raise LLMError(value)
            else:
                return
    finally:
        stop.set()
        for conn in held:  # wakes a worker blocked in recv; it closes the connection itself
            if conn.sock is not None:
                try:
                    conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _work(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float, max_bytes: int,
          held: list[http.client.HTTPConnection], stop: threading.Event,
          out: queue.SimpleQueue[tuple[str, str]]) -> None:
    try:
        for text in _request(url, body, headers, timeout, max_bytes, held, stop):
            out.put(("text", text))
        out.put(("end", ""))
    except LLMError as exc:
        out.put(("error", str(exc)))
    except http.client.IncompleteRead:
        out.put(("error", "the reply was cut short"))
    except (OSError, http.client.HTTPException) as exc:
        out.put(("error", str(getattr(exc, "reason", None) or exc) or type(exc).__name__))
    except Exception as exc:  # the worker reports whatever happens: the caller falls back on any failure
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def _request(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float, max_bytes: int,
             held: list[http.client.HTTPConnection], stop: threading.Event) -> Iterator[str]:
    parts = urlsplit(chat_url(url))
    try:
        port = parts.port
    except ValueError:
        raise LLMError(f"the port in {url!r} is not a number") from None
    if not parts.hostname:
        raise LLMError(f"{url!r} names no host")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, port, timeout=timeout)
    held.append(conn)
    try:
        if stop.is_set():
            return
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", path, json.dumps(body).encode(), headers)
        response = conn.getresponse()
        if response.status != 200:
            detail = response.read(200).decode("utf-8", "replace").strip()
            raise LLMError(f"HTTP {response.status}{': ' + detail if detail else ''}")
        if "text/event-stream" in (response.getheader("Content-Type") or ""):
            yield from _events(response, max_bytes, stop)
        else:
            yield _message(_json(_read_all(response, max_bytes)))
    finally:
        conn.close()


def _read_all(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    data = bytearray()
    while chunk := response.read1(_READ):
        data += chunk
        if len(data) > max_bytes:
            raise LLMError(f"the reply passed {max_bytes:,} bytes")
    if response.length:  # the connection closed before Content-Length bytes came
        raise LLMError("the reply was cut short")
    return bytes(data)


def _events(response: http.client.HTTPResponse, max_bytes: int, stop: threading.Event) -> Iterator[str]:
    """The `content` of each `data:` event, until `data: [DONE]` or a `finish_reason`."""
    buffer, total, finished = b"", 0, False
    while not stop.is_set():
        chunk = response.read1(_READ)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise LLMError(f"the reply passed {max_bytes:,} bytes")
        *lines, buffer = (buffer + chunk).split(b"\n")
        if len(buffer) > MAX_EVENT_BYTES:
            raise LLMError(f"an event of the reply passed {MAX_EVENT_BYTES:,} bytes")
        for line in lines:
            line = line.strip()
            if not line.startswith(b"data:"):
                continue  # comments, `event:`, `id:` and blank separators
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            text, done = _delta(_json(data))
            finished = finished or done
            if text:
                yield text
    if not finished and not stop.is_set():
        raise LLMError("the reply was cut short")


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except RecursionError:
        raise LLMError("the reply was nested too deeply to read") from None
    except ValueError:  # also bad UTF-8
        raise LLMError("the reply was not JSON") from None


def _choice(event: Any) -> dict[str, Any] | None:
    if isinstance(event, dict) and event.get("error"):
        raise LLMError(f"the endpoint sent an error: {str(event['error'])[:200]}")
    choices = event.get("choices") if isinstance(event, dict) else None
    if choices == []:
        return None  # a usage-only event
    if not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise LLMError("the reply had no choices[0]")
    return choices[0]


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LLMError(f"the reply's {where} was not text")
    return value


def _delta(event: Any) -> tuple[str, bool]:
    """A streamed event's text and whether it says the reply is finished."""
    choice = _choice(event)
    if choice is None:
        return "", False
    delta = choice.get("delta")
    text = _text(delta.get("content"), "choices[0].delta.content") if isinstance(delta, dict) else ""
    return text, bool(choice.get("finish_reason"))


def _message(reply: Any) -> str:
    choice = _choice(reply)
    message = choice.get("message") if choice else None
    if not isinstance(message, dict):
        raise LLMError("the reply had no choices[0].message.content")
    return _text(message.get("content"), "choices[0].message.content")
