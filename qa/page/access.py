"""Who may use the page: the address it binds, the login, and the routes a login guards.

Gradio checks the login on the routes that run the app; `AccessGuard` (ASGI middleware on its FastAPI
app) adds what Gradio leaves open: it throttles failed logins per client address and per account name,
and with a login set it answers 401 on the routes below unless the request carries a valid session cookie.
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from qa.errors import ConfigError

# Open in Gradio without a login; with one set, only a logged-in session reaches them.
GUARDED = ("/openapi.json", "/docs", "/redoc", "/gradio_api/cancel", "/gradio_api/reset",
           "/gradio_api/heartbeat/", "/gradio_api/stream/", "/gradio_api/run-history/", "/gradio_api/runs",
           "/gradio_api/vibe-", "/gradio_api/undo-vibe-edit", "/monitoring", "/gradio_api/monitoring")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """`is_loopback('127.0.0.1')` -> True; `is_loopback('0.0.0.0')` -> False (every interface)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, login: bool, public_without_login: bool) -> None:
    """Refuse to serve the archive beyond this machine without a login, unless asked to in so many words."""
    if not is_loopback(host) and not login and not public_without_login:
        raise ConfigError(f"Serving on {host} without a login would show the archive to anyone who can reach "
                          "this machine. Set QA_USERNAME and QA_PASSWORD to ask for one, or pass "
                          "--public-without-login to serve it open anyway.")


class LoginThrottle:
    """Failed logins per client: the first `free` cost nothing; after each further one the client
    waits twice as long as before (1 s, 2 s, 4 s … `most`). A success clears the client's count.

    >>> t = LoginThrottle(free=1, first=1.0, clock=lambda: 0.0)
    >>> t.failed("a"); t.wait("a")
    0.0
    >>> t.failed("a"); t.wait("a")
    1.0
    """

    def __init__(self, free: int = 3, first: float = 1.0, most: float = 60.0, clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.first, self.most, self.clients, self.clock = free, first, most, clients, clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # client -> (count, allowed from)
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds until the client may try again (0: now)."""
        with self._lock:
            _, allowed = self._failures.get(client, (0, 0.0))
        return max(0.0, allowed - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            count = self._failures.pop(client, (0, 0.0))[0] + 1
            over = count - self.free
            delay = 0.0 if over <= 0 else min(self.most, self.first * 2 ** min(over - 1, 30))
            self._failures[client] = (count, self.clock() + delay)
            while len(self._failures) > self.clients:  # bounded: the oldest entries go
                self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


MAX_LOGIN_BYTES = 16 << 10  # a login form is a name and a password
OTHER_USER = "user:(another name)"  # one count for every name that is not an account: the table stays small


class AccessGuard:
    """ASGI middleware: the login throttle, and 401 on `GUARDED` routes without a session (`protect`).

    Failed logins count per client address and per account name (`users`; every other name shares one
    count), so guesses from many addresses at one account wait as guesses from one address do."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], throttle: LoginThrottle,
                 protect: bool, users: Collection[str] = ()) -> None:
        self.app, self.throttle, self.protect, self.users = app, throttle, protect, frozenset(users)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        client = str((scope.get("client") or ("unknown",))[0])
        if path.rstrip("/") == "/login" and scope.get("method") == "POST":
            body = await _body(receive, MAX_LOGIN_BYTES)
            if body is None:
                return await _reply(send, 413, "The login form is too large.")
            name = await _username(scope, body)
            keys = [f"address:{client}", f"user:{name}" if name in self.users else OTHER_USER]
            wait = max(self.throttle.wait(key) for key in keys)
            if wait > 0:
                return await _reply(send, 429, f"Too many failed logins; try again in {math.ceil(wait)} s.",
                                    {"retry-after": str(math.ceil(wait))})
            return await self.app(scope, _replay(body, receive), self._watch(send, keys))
        if self.protect and path.startswith(GUARDED) and not _logged_in(scope):
            return await _reply(send, 401, "Not authenticated.")
        return await self.app(scope, receive, send)

    def _watch(self, send: Send, keys: list[str]) -> Send:
        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for key in keys:
                    if status == 200:
                        self.throttle.succeeded(key)
                    elif 400 <= status < 500:
                        self.throttle.failed(key)
            await send(message)
        return watched


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None past `limit` bytes."""
    data = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        data += message.get("body", b"")
        if len(data) > limit:
            return None
        if not message.get("more_body"):
            break
    return bytes(data)


def _replay(body: bytes, then: Receive | None = None) -> Receive:
    """A `receive` that gives the body already read, then what `then` (the server's) gives:
    without one, a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then() if then is not None else {"type": "http.disconnect"}
    return receive


async def _username(scope: Scope, body: bytes) -> str:
    """The `username` field of a login form (URL-encoded or multipart); "" when there is none."""
    from starlette.requests import Request

    try:
        async with Request(scope, _replay(body)).form(max_files=0, max_fields=16) as form:
            name = form.get("username")
    except Exception:  # a form the login route will refuse anyway: it counts as another name
        return ""
    return name if isinstance(name, str) else ""


def _logged_in(scope: Scope) -> bool:
    """The request carries a session cookie Gradio issued (its App keeps `tokens` and `cookie_id`)."""
    from starlette.requests import Request

    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not isinstance(tokens, dict) or cookie_id is None:
        return False
    cookies = Request(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return token is not None and token in tokens


async def _reply(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
