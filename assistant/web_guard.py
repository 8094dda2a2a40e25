"""What stands in front of Gradio's routes when sign-in is on.

- ``SessionTokens`` replaces Gradio's table of sign-in tokens (``app.tokens``, token -> user name,
  kept in the ``access-token-*`` cookies): a token is refused, and forgotten, once it is older than
  ``ui_session_hours``, unused for ``ui_session_idle_minutes``, or its user has been removed from
  the users file or given a new password.
- ``SignInGuard`` (ASGI middleware) refuses a sign-in POST from another site (its ``Origin``, or
  ``Referer`` when there is no ``Origin``, names a host other than the app's own: 403), tells the
  sign-in check the client's address, and keeps each signed-in user's sessions apart: Gradio keeps a
  page's state (conversation, FAQ drafts, queued answers) under a ``session_hash`` the browser picks,
  so the guard renames the ``session_hash`` of every request by a signed-in user to one only that user
  can reach. Another user sending the same ``session_hash`` gets a session of their own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.auth import UserDirectory
from assistant.signin import CLIENT_ADDRESS

MAX_BODY_BYTES = 2 * 1024 * 1024  # a request body the guard reads whole (chat payloads are small; files are multipart)
_SESSION_KEY = secrets.token_bytes(32)  # made once per process: a renamed session is never sent to a browser
TOKEN_COOKIE = "access-token-"  # Gradio's cookie names: access-token-<id> and access-token-unsecure-<id>
_HEARTBEAT = re.compile(r"^(/gradio_api/heartbeat/)([^/]+)(/?)$")


class SessionTokens(dict):
    """Gradio's ``app.tokens`` (token -> user name) with a lifetime. Gradio reads it with ``get``
    and ``in``; those refuse (and forget) a token that has expired or whose user is gone or has a new
    password. ``clock`` is injectable for tests."""

    def __init__(self, directory: UserDirectory, lifetime_s: float, idle_s: float = 0,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.directory, self.lifetime_s, self.idle_s, self.clock = directory, lifetime_s, idle_s, clock
        self._times: dict[str, list] = {}  # token -> [issued, last used, the user's password hash then]
        self._lock = threading.RLock()

    @classmethod
    def from_settings(cls, directory: UserDirectory, settings) -> SessionTokens:
        return cls(directory, settings.ui_session_hours * 3600, settings.ui_session_idle_minutes * 60)

    def _password_hash(self, user: str) -> str | None:
        account = self.directory.get(user)
        return account.hash if account is not None else None

    def _expired(self, times: list, now: float) -> bool:
        issued, used, _ = times
        return now - issued >= self.lifetime_s or bool(self.idle_s and now - used >= self.idle_s)

    def __setitem__(self, token: str, user: str) -> None:
        now = self.clock()
        with self._lock:
            for old in [t for t, times in self._times.items() if self._expired(times, now)]:
                self.pop(old, None)
            super().__setitem__(token, user)
            self._times[token] = [now, now, self._password_hash(user)]

    def get(self, token, default=None):
        if not isinstance(token, str):
            return default
        now = self.clock()
        with self._lock:
            user, times = super().get(token), self._times.get(token)
            if user is None or times is None:
                return default
            if self._expired(times, now) or times[2] is None or self._password_hash(user) != times[2]:
                self.pop(token, None)
                return default
            times[1] = now
            return user

    def __contains__(self, token) -> bool:
        return self.get(token) is not None

    def __delitem__(self, token) -> None:
        with self._lock:
            super().__delitem__(token)
            self._times.pop(token, None)

    def pop(self, token, *default):
        with self._lock:
            self._times.pop(token, None)
            return super().pop(token, *default)


def same_origin(headers: Headers) -> bool:
    """Does a browser's request come from the app's own pages? ``Origin`` (else ``Referer``) must
    name the host the request was sent to. A request with neither is not from a web page (a script):
    allowed, as it cannot carry another site's intent."""
    source = headers.get("origin") or headers.get("referer")
    if source is None:
        return True
    host = (headers.get("host") or "").strip().lower()
    return bool(host) and urlsplit(source.strip()).netloc.lower() == host


def owned_session(session_hash: str, user: str) -> str:
    """The session name Gradio sees: the browser's ``session_hash`` plus a mark only this process can
    make (an HMAC of the user and the hash under a key that never leaves it). Nobody can name another
    user's session, so a route the guard does not rewrite reaches only a session of its own."""
    mark = hmac.new(_SESSION_KEY, f"{user}\0{session_hash}".encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    return f"{session_hash}.{mark}"


class BodyTooLarge(Exception):
    """A request body over ``MAX_BODY_BYTES`` that the guard would have to read whole."""


class SignInGuard:
    """ASGI middleware for a Gradio app with sign-in (see the module's docstring)."""

    def __init__(self, app: ASGIApp, sessions: SessionTokens, log: Callable[[str], None]):
        self.app, self.sessions, self.log = app, sessions, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"].rstrip("/") == "/login":
            await self.sign_in(scope, receive, send)
            return
        user = self.user(scope) if scope["path"].startswith("/gradio_api/") else None
        if user:
            try:
                scope, receive = await own_sessions(scope, receive, user)
            except BodyTooLarge:
                response = JSONResponse({"detail": "The request is too large."}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def sign_in(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        address = (scope.get("client") or ("",))[0] or ""
        if not same_origin(headers):
            self.log(f"Refused a sign-in from another site ({headers.get('origin') or headers.get('referer')!r}) "
                     f"from {address}.")
            response = JSONResponse({"detail": "Sign in from the app's own page."}, status_code=403)
            await response(scope, receive, send)
            return
        token = CLIENT_ADDRESS.set(address)
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT_ADDRESS.reset(token)

    def user(self, scope: Scope) -> str | None:
        """The signed-in user of a request (Gradio's own cookie first, then its fallback)."""
        cookies = cookie_parser(Headers(scope=scope).get("cookie", ""))
        names = sorted((n for n in cookies if n.startswith(TOKEN_COOKIE)), key=lambda n: "unsecure" in n)
        for name in names:
            user = self.sessions.get(cookies[name])
            if user:
                return user
        return None


async def own_sessions(scope: Scope, receive: Receive, user: str) -> tuple[Scope, Receive]:
    """The request with every ``session_hash`` in it (query, heartbeat path, a JSON body under any
    content type) renamed by ``owned_session``. A non-file body over ``MAX_BODY_BYTES``: BodyTooLarge."""
    scope = dict(scope)
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if any(key == "session_hash" for key, _ in pairs):
        pairs = [(key, owned_session(value, user) if key == "session_hash" else value) for key, value in pairs]
        scope["query_string"] = urlencode(pairs).encode("latin-1")
    heartbeat = _HEARTBEAT.match(scope["path"])
    if heartbeat:
        scope["path"] = heartbeat.group(1) + owned_session(heartbeat.group(2), user) + heartbeat.group(3)
        scope["raw_path"] = scope["path"].encode("utf-8")
    headers = Headers(scope=scope)
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if scope["method"] != "POST" or media.startswith("multipart/"):  # files: no session_hash in their body
        return scope, receive
    # any other POST body may be JSON to Gradio, whatever its content type says: read it whole (bounded)
    chunks, size, messages = [], 0, []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return scope, replay(messages, receive)  # the client went away: let Gradio see it
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("session_hash"), str):
        data["session_hash"] = owned_session(data["session_hash"], user)
        body = json.dumps(data).encode("utf-8")
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        scope["headers"].append((b"content-length", str(len(body)).encode("latin-1")))
    return scope, replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` first, then the client's own."""
    waiting = list(messages)

    async def next_message() -> Message:
        return waiting.pop(0) if waiting else await receive()

    return next_message
