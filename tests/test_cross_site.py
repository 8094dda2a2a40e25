"""Other sites' pages get nothing from the app, sign-in on or off: ``web_guard.CrossSiteGuard``
refuses (403) a request whose ``Origin`` names another host (``null`` too) or that says
``Sec-Fetch-Site: cross-site``, takes every ``Access-Control-*`` header off the answers (Gradio's
own CORS layer grants any site when the app's host is not localhost), and makes the sign-in
cookie ``SameSite=Lax``. Fast tests drive the guard around Gradio's real CORS layer; the slow one
drives the real app (`icb-assistant ui`, no sign-in) over HTTP. The same with sign-in on:
``tests/test_signin_http.py``."""

from __future__ import annotations

import httpx
import pytest
from gradio.route_utils import CustomCORSMiddleware
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assistant.web_guard import (
    HOST_REFUSAL, CrossSiteGuard, allowed_hosts, cross_site, host_allowed, install_outermost, origin_is_own,
    tidy_response_headers,
)
from tests.servers import App, small_corpus

HOST = "icb.example.org"  # behind a reverse proxy that passes the Host header through
OWN = "https://icb.example.org"
EVIL = "https://evil.example"


@pytest.mark.parametrize(("origin", "host", "own"), [
    ("http://127.0.0.1:7860", "127.0.0.1:7860", True),
    ("https://icb.example.org", "icb.example.org", True),
    ("https://icb.example.org", "icb.example.org:443", True),  # the scheme's own port, written or not
    ("HTTPS://ICB.example.org", "icb.example.org", True),
    ("http://[::1]:7860", "[::1]:7860", True),
    ("https://evil.example", "icb.example.org", False),
    ("https://icb.example.org.evil.example", "icb.example.org", False),
    ("http://127.0.0.1:7861", "127.0.0.1:7860", False),
    ("http://localhost:7860", "127.0.0.1:7860", False),
    ("null", "127.0.0.1:7860", False),
    ("http://evil@127.0.0.1:7860", "127.0.0.1:7860", False),
    ("file://", "127.0.0.1:7860", False),
    ("https://icb.example.org", "", False),
    ("http://127.0.0.1:99999", "127.0.0.1:7860", False),
])
def test_an_origin_is_the_apps_own_only_with_the_requests_host_and_port(origin, host, own):
    assert origin_is_own(origin, host) is own


@pytest.mark.parametrize(("method", "path", "headers", "refused"), [
    ("GET", "/config", {"host": HOST}, False),  # a script, or a browser's same-site GET
    ("POST", "/gradio_api/queue/join", {"host": HOST, "origin": OWN, "sec-fetch-site": "same-origin"}, False),
    ("POST", "/gradio_api/queue/join", {"host": HOST, "origin": EVIL}, True),
    ("GET", "/gradio_api/token", {"host": HOST, "origin": "null"}, True),
    ("GET", "/gradio_api/token", {"host": HOST, "sec-fetch-site": "cross-site"}, True),
    ("GET", "/gradio_api/token", {"host": HOST, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}, True),
    ("GET", "/gradio_api/token", {"host": HOST, "sec-fetch-site": "same-site"}, False),
    # a link to the app from another site's page opens it in the browser's own window: allowed
    ("GET", "/", {"host": HOST, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate",
                  "sec-fetch-dest": "document"}, False),
    # ... but not inside a frame of that page, nor to sign someone out, nor a POST form
    ("GET", "/", {"host": HOST, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate",
                  "sec-fetch-dest": "iframe"}, True),
    ("GET", "/logout", {"host": HOST, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}, True),
    # a page on a sibling site (another name under the same domain) may not sign anyone out either
    ("GET", "/logout", {"host": HOST, "sec-fetch-site": "same-site", "sec-fetch-mode": "navigate"}, True),
    ("GET", "/logout", {"host": HOST, "sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate"}, False),
    ("GET", "/logout/", {"host": HOST, "sec-fetch-site": "none"}, False),  # typed in the address bar
    ("POST", "/login", {"host": HOST, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}, True),
])
def test_which_requests_come_from_another_sites_page(method, path, headers, refused):
    assert (cross_site(method, path, Headers(headers)) is not None) is refused


def test_answers_carry_no_cors_grant_and_cookies_become_same_site_lax():
    raw = [(b"Access-Control-Allow-Origin", EVIL.encode()), (b"access-control-allow-credentials", b"true"),
           (b"access-control-allow-headers", b"content-type"), (b"content-type", b"text/plain"),
           (b"set-cookie", b"access-token-x=t; HttpOnly; Path=/; SameSite=none; Secure"),
           (b"set-cookie", b"access-token-unsecure-x=t; HttpOnly; Path=/; SameSite=lax")]
    assert tidy_response_headers(raw) == [
        (b"content-type", b"text/plain"),
        (b"set-cookie", b"access-token-x=t; HttpOnly; Path=/; SameSite=Lax; Secure"),
        (b"set-cookie", b"access-token-unsecure-x=t; HttpOnly; Path=/; SameSite=lax"),
    ]


def token(request):
    """Stands for Gradio's /gradio_api/token: the caller's session token, as JSON."""
    return JSONResponse({"token": "secret-token", "user": "alice"})


def login(request):
    response = PlainTextResponse("ok")
    response.set_cookie("access-token-x", "t", httponly=True, samesite="none", secure=True)
    return response


async def socket(websocket):
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


@pytest.fixture
def client():
    """Gradio's own CORS layer (which grants any site when the host is not localhost) under the guard,
    installed as the app installs it: around the whole middleware stack."""
    app = Starlette(routes=[Route("/gradio_api/token", token), Route("/login", login, methods=["POST"]),
                            WebSocketRoute("/ws", socket)])
    app.add_middleware(CustomCORSMiddleware, strict_cors=True)
    refused: list[str] = []
    install_outermost(app, refused.append)
    install_outermost(app, refused.append)  # once only
    assert isinstance(app.middleware_stack, CrossSiteGuard) and not isinstance(app.middleware_stack.app, CrossSiteGuard)
    with TestClient(app, base_url=f"http://{HOST}") as http:
        http.refused = refused
        yield http


def test_gradios_cors_layer_alone_grants_another_site():
    """What the guard is for: without it, another site's page may read the token."""
    app = Starlette(routes=[Route("/gradio_api/token", token)])
    app.add_middleware(CustomCORSMiddleware, strict_cors=True)
    with TestClient(app, base_url=f"http://{HOST}") as http:
        answer = http.get("/gradio_api/token", headers={"Origin": EVIL})
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == EVIL


def test_another_sites_page_gets_403_and_no_cors_grant(client):
    preflight = client.options("/gradio_api/token", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "content-type"})
    stolen = client.get("/gradio_api/token", headers={"Origin": EVIL})
    sandboxed = client.get("/gradio_api/token", headers={"Origin": "null"})
    fetched = client.get("/gradio_api/token", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"})
    for answer in (preflight, stolen, sandboxed, fetched):
        assert answer.status_code == 403, answer
        assert "secret-token" not in answer.text and "another site" in answer.text
        assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    assert len(client.refused) == 4 and "Origin 'https://evil.example'" in client.refused[0]


def test_the_apps_own_pages_still_work_and_get_no_cors_grant(client):
    for headers in ({}, {"Origin": OWN, "Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}):
        answer = client.get("/gradio_api/token", headers=headers)
        assert answer.status_code == 200 and answer.json()["token"] == "secret-token"
        assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    signed_in = client.post("/login", headers={"Origin": OWN})
    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"]
    assert "SameSite=Lax" in cookie and "Secure" in cookie and "HttpOnly" in cookie and "none" not in cookie.lower()
    assert client.refused == []


def test_a_websocket_from_another_site_is_refused(client):
    with client.websocket_connect(f"ws://{HOST}/ws", headers={"Origin": OWN}) as socket:
        assert socket.receive_text() == "hello"
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(f"ws://{HOST}/ws", headers={"Origin": EVIL}) as socket:
            socket.receive_text()


def test_the_host_names_the_app_answers_to():
    """DNS rebinding: a page at http://rebind.evil.example:7860 whose name the attacker points at
    127.0.0.1 is, to the browser, the app's own site (Origin and Host agree); only the Host name tells."""
    loopback = allowed_hosts("127.0.0.1")
    assert {"localhost", "127.0.0.1", "::1"} <= loopback
    assert host_allowed("127.0.0.1:7860", loopback) and host_allowed("[::1]:7860", loopback)
    assert host_allowed("LOCALHOST:7860", loopback)
    for host in ("rebind.evil.example:7860", "", None, "127.0.0.1.evil.example", "evil.example@127.0.0.1"):
        assert not host_allowed(host, loopback), host
    assert allowed_hosts("127.0.0.1", sign_in=True) is None  # with sign-in such a page has no session
    assert allowed_hosts("0.0.0.0") is None and host_allowed("anything.example", None)  # a proxy's own name
    named = allowed_hosts("0.0.0.0", " ICB.example.org , other.example ")
    assert named == {"icb.example.org", "other.example"} and allowed_hosts("127.0.0.1", "icb.example.org,other.example", True) == named
    assert host_allowed("icb.example.org:443", named) and not host_allowed("evil.example", named)


def test_a_request_for_another_host_name_is_refused():
    app = Starlette(routes=[Route("/gradio_api/token", token)])
    refused: list[str] = []
    install_outermost(app, refused.append, frozenset({"127.0.0.1", "localhost"}))
    with TestClient(app, base_url="http://127.0.0.1:7860") as http:
        assert http.get("/gradio_api/token").status_code == 200
        rebound = http.get("/gradio_api/token", headers={"Host": "rebind.evil.example:7860",
                                                         "Origin": "http://rebind.evil.example:7860"})
        assert rebound.status_code == 403 and rebound.text == HOST_REFUSAL and "secret-token" not in rebound.text
    assert refused and "Host 'rebind.evil.example:7860'" in refused[0]


# -- the real app, without sign-in ----------------------------------------------------------------


@pytest.mark.slow
def test_the_app_without_sign_in_refuses_other_sites_pages(tmp_path):
    corpus = small_corpus(tmp_path / "corpus", ["lsc-2030-roadmap-programme-timelines-2025.txt"])
    # behind a reverse proxy that passes its own name through, without sign-in: that name is configured
    # (and Gradio asked for static-file workers, which would serve outside the guard: none start)
    app = App(tmp_path / "home", corpus, env={"ICB_ASSISTANT_UI_ALLOWED_HOSTS": f"{HOST},127.0.0.1",
                                               "GRADIO_NUM_WORKERS": "1"})
    try:
        with httpx.Client(timeout=120) as http:
            cross = {"Host": HOST, "Origin": EVIL}
            preflight = http.options(app.url + "gradio_api/queue/join", headers={
                **cross, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
            body = {"data": [], "fn_index": 0, "session_hash": "x", "event_data": None, "trigger_id": None}
            join = http.post(app.url + "gradio_api/queue/join", headers=cross, json=body)
            config = http.get(app.url + "config", headers=cross)
            fetched = http.get(app.url + "config", headers={"Host": HOST, "Sec-Fetch-Site": "cross-site"})
            for answer in (preflight, join, config, fetched):
                assert answer.status_code == 403, (answer.request.method, answer.request.url, answer.status_code)
                assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
            # the app's own page: the page itself, and its requests, through a proxy passing Host through
            assert http.get(app.url, headers={"Host": HOST}).status_code == 200
            own = http.get(app.url + "config", headers={"Host": HOST, "Origin": OWN, "Sec-Fetch-Site": "same-origin"})
            assert own.status_code == 200 and "components" in own.json()
            assert not [name for name in own.headers if name.lower().startswith("access-control-")]
            assert http.get(app.url + "config").status_code == 200
            # DNS rebinding: Origin and Host agree, but the name is not one the app answers to
            rebound = f"rebind.evil.example:{app.port}"
            for answer in (http.get(app.url + "config", headers={"Host": rebound, "Origin": f"http://{rebound}"}),
                           http.post(app.url + "gradio_api/queue/join", json=body,
                                     headers={"Host": rebound, "Origin": f"http://{rebound}", "Sec-Fetch-Site": "same-origin"})):
                assert answer.status_code == 403 and answer.text == HOST_REFUSAL
            with pytest.raises(httpx.ConnectError):  # no file worker beside it, on the next port
                http.post(f"http://127.0.0.1:{app.port + 1}/upload", files={"files": ("x.txt", b"planted")})
        log = " ".join(app.log_path.read_text().split())  # the app's log wraps long lines
        assert "Refused a request from another site's page (Origin 'https://evil.example') for OPTIONS" in log
    finally:
        app.stop()
