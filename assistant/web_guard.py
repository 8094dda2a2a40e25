"""What stands in front of Gradio's routes.

- ``CrossSiteGuard`` (the outermost ASGI layer, with sign-in on or off) refuses with 403 every
  request another site's page makes: an ``Origin`` that names a host other than the request's own
  ``Host`` (``null`` included), or ``Sec-Fetch-Site: cross-site`` (except a plain link followed to
  one of the app's pages). It takes every ``Access-Control-*`` header off the answers, so no
  answer tells a browser that another site may read it (Gradio grants any site when the app's host
  is not localhost), and turns a cookie's ``SameSite=None`` into ``SameSite=Lax``, so a browser
  does not send the sign-in cookie with another site's requests. Given the host names the app
  answers to (``allowed_hosts``), it also refuses a request for any other ``Host``: a page whose
  own name an attacker points at the app's address (DNS rebinding) is then not the app's site.

When sign-in is on:

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
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, PlainTextResponse
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


_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAME_SITE_NONE = re.compile(rb";\s*samesite\s*=\s*none\s*(?=;|$)", re.IGNORECASE)
CROSS_SITE_REFUSAL = "Refused: this request came from another site's page. Open the app itself."
HOST_REFUSAL = "Refused: the app does not answer to this address. Open it at the address you were given."
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _loopback(address: str) -> bool:
    address = address.strip().strip("[]").lower()
    return address in LOOPBACK_NAMES or address.startswith("127.")


def allowed_hosts(listen_on: str, configured: str = "", sign_in: bool = False) -> frozenset[str] | None:
    """The host names (``Host`` header, port aside) the app answers to: those ``configured``
    (comma-separated); else, without sign-in and listening on a loopback address, the loopback
    names (a page elsewhere that points its own name at 127.0.0.1, DNS rebinding, would otherwise be
    the app's own site to the browser, and without sign-in could use it all); else None (any name:
    with sign-in such a page has no session, and a reverse proxy may pass its own name through)."""
    names = frozenset(name.strip().strip("[]").lower() for name in configured.split(",") if name.strip())
    if names:
        return names
    if sign_in or not _loopback(listen_on):
        return None
    return LOOPBACK_NAMES | {listen_on.strip().strip("[]").lower()}


def host_allowed(host: str | None, hosts: frozenset[str] | None) -> bool:
    """Is the ``Host`` header's name (its port aside) one of ``hosts`` (None: any)?"""
    if hosts is None:
        return True
    host = (host or "").strip()
    if any(mark in host for mark in "@/?#\\"):  # no Host header holds these: never read past them
        return False
    try:
        name = urlsplit("//" + host).hostname
    except ValueError:
        return False
    return bool(name) and name.lower() in hosts


def origin_is_own(origin: str, host: str | None) -> bool:
    """Does an ``Origin`` header name the host (and port) the request was sent to (its ``Host``
    header)? ``null``, and anything but ``http(s)://host[:port]``, never does. A port the origin's
    scheme implies may be left out of either side."""
    host, origin = (host or "").strip().lower(), origin.strip().lower()
    if not host or origin == "null":
        return False
    try:
        own, theirs = urlsplit("//" + host), urlsplit(origin)
        own_port, their_port = own.port, theirs.port
    except ValueError:
        return False
    if theirs.scheme not in _DEFAULT_PORTS or theirs.path not in ("", "/") or theirs.query or theirs.fragment:
        return False
    if "@" in theirs.netloc or "@" in own.netloc or own.path or own.query or own.fragment:
        return False
    default = _DEFAULT_PORTS[theirs.scheme]
    same_port = (their_port or default) == (own_port or default)
    return bool(theirs.hostname) and theirs.hostname == own.hostname and same_port


def cross_site(method: str, path: str, headers: Headers) -> str | None:
    """Why a request comes from another site's page (None: it does not). Every ``Origin`` header
    must name the request's own ``Host``; ``Sec-Fetch-Site: cross-site`` is refused too, except a
    GET (or HEAD) of one of the app's pages by a followed link or bookmark in the browser's own
    window (``Sec-Fetch-Mode: navigate``, destination ``document``): the other site cannot read
    that answer. ``/logout`` is refused to a sibling site's page too (``Sec-Fetch-Site: same-site``),
    which could otherwise sign users out. A request with neither header (a script, an older
    browser's same-site GET) passes."""
    for origin in headers.getlist("origin"):
        if not origin_is_own(origin, headers.get("host")):
            return f"Origin {origin[:100]!r}"
    site = headers.get("sec-fetch-site", "").strip().lower()
    if site == "same-site" and path.rstrip("/") == "/logout":  # a sibling site's page may not sign anyone out
        return "Sec-Fetch-Site: same-site to /logout"
    if site == "cross-site":
        page = not path.startswith("/gradio_api/") and path.rstrip("/") != "/logout"
        navigation = (method in ("GET", "HEAD") and headers.get("sec-fetch-mode", "").strip().lower() == "navigate"
                      and headers.get("sec-fetch-dest", "document").strip().lower() == "document")
        if not (page and navigation):
            return "Sec-Fetch-Site: cross-site"
    return None


def tidy_response_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """An answer's headers without any ``Access-Control-*`` (no other site may read it) and with
    every cookie's ``SameSite=None`` made ``SameSite=Lax`` (``Secure`` and ``HttpOnly`` kept)."""
    kept = []
    for name, value in raw:
        lowered = name.lower()
        if lowered.startswith(b"access-control-"):
            continue
        if lowered == b"set-cookie":
            value = _SAME_SITE_NONE.sub(b"; SameSite=Lax", value)
        kept.append((name, value))
    return kept


class CrossSiteGuard:
    """ASGI middleware, outside everything Gradio adds (see the module's docstring and
    ``install_outermost``)."""

    def __init__(self, app: ASGIApp, log: Callable[[str], None] | None = None, hosts: frozenset[str] | None = None):
        self.app, self.log, self.hosts = app, log, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        reason = cross_site(scope.get("method", "GET"), scope.get("path", ""), headers)
        if reason is None and not host_allowed(headers.get("host"), self.hosts):
            reason = f"Host {(headers.get('host') or '')[:100]!r}"
        if reason is not None:
            if self.log is not None:
                address = (scope.get("client") or ("",))[0] or ""
                self.log(f"Refused a request from another site's page ({reason}) for "
                         f"{scope.get('method', 'WEBSOCKET')} {scope.get('path', '')[:100]} from {address}.")
            if scope["type"] == "websocket":
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008})  # before accepting: an HTTP 403
                return
            refusal = HOST_REFUSAL if reason.startswith("Host ") else CROSS_SITE_REFUSAL
            await PlainTextResponse(refusal, status_code=403)(scope, receive, send)
            return

        async def tidy(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": tidy_response_headers(list(message.get("headers") or []))}
            await send(message)

        await self.app(scope, receive, tidy if scope["type"] == "http" else send)


def install_outermost(app, log: Callable[[str], None] | None = None, hosts: frozenset[str] | None = None) -> None:
    """Put a ``CrossSiteGuard`` around a Starlette app's whole middleware stack (outside Gradio's
    CORS and compression layers, which ``add_middleware`` puts outside anything passed in), once."""
    if isinstance(app.middleware_stack, CrossSiteGuard):
        return
    app.middleware_stack = CrossSiteGuard(app.middleware_stack or app.build_middleware_stack(), log, hosts)


def cross_site_lifespan(log: Callable[[str], None] | None = None, hosts: frozenset[str] | None = None):
    """A ``lifespan`` for the app: installs the guard (``install_outermost``) when the server starts,
    before it accepts a single request."""

    @asynccontextmanager
    async def lifespan(app):
        install_outermost(app, log, hosts)
        yield

    return lifespan


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
