"""Sign-in against the real app (`icb-assistant ui` with a users file) over HTTP on 127.0.0.1:
wrong passwords lock a name out, a sign-in from another site is refused, another site's page gets
nothing with a signed-in user's cookie, a name that is no user's is never recorded, the users file is read
again when `add-user` changes it, a session ends after its lifetime, and a conversation belongs to
the user who started it even when another user sends its session hash."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from assistant import auth
from tests.conftest import REPO
from tests.servers import App, clean_environment, small_corpus

pytestmark = pytest.mark.slow

sys.path.insert(0, str(REPO / "benchmarks"))

DOCUMENT = "lsc-2030-roadmap-programme-timelines-2025.txt"
PASSWORDS = {name: f"{name}-long-password" for name in ("alice", "bob", "carol", "dave", "erin")}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("signin-http")
    corpus = small_corpus(root / "corpus", [DOCUMENT])
    users = root / "users.txt"
    for name, password in PASSWORDS.items():
        auth.add_user(users, name, password)
    app = App(root / "home", corpus, env={"ICB_ASSISTANT_UI_USERS_FILE": str(users)})
    app.wait_for_log("Search is ready")
    app.users, app.corpus = users, corpus
    yield app
    app.stop()


def sign_in(http: httpx.Client, url: str, name: str, password: str, **headers: str) -> httpx.Response:
    """Gradio's sign-in form, as its page posts it."""
    return http.post(url + "login", data={"username": name, "password": password}, headers=headers)


def signed_in(http: httpx.Client, url: str) -> bool:
    status = http.get(url + "config").status_code
    assert status in (200, 401), status
    return status == 200


def audit(site) -> list[dict]:
    return [json.loads(line) for line in (site.home / "audit.log").read_text().splitlines()]


def test_twenty_wrong_passwords_lock_the_name_and_then_the_right_one_is_refused(site):
    with httpx.Client(timeout=120) as http:
        answers = [sign_in(http, site.url, "carol", f"wrong-guess-{i}") for i in range(20)]
        right = sign_in(http, site.url, "carol", PASSWORDS["carol"])
        assert [a.status_code for a in answers] == [400] * 20
        assert right.status_code == 400 and not signed_in(http, site.url)
        assert answers[-1].json()["detail"] == "Too many wrong passwords: try again in 15 minutes."
        assert right.json()["detail"] == "Too many wrong passwords: try again in 15 minutes."
    with httpx.Client(timeout=120) as http:  # another user from the same address is not locked out
        assert sign_in(http, site.url, "bob", PASSWORDS["bob"]).status_code == 200
        assert signed_in(http, site.url)
    entries = [e for e in audit(site) if e["user"] == "carol"]
    assert {e["address"] for e in entries} == {"127.0.0.1"}
    assert sum(e["event"] == "sign-in-failed" and e.get("reason") != "locked" for e in entries) == 5
    assert [e["scope"] for e in entries if e["event"] == "locked-out"] == ["user"]
    assert sum(e.get("reason") == "locked" for e in entries) == 16
    assert not any(e["event"] == "sign-in" for e in entries)
    log = site.log_path.read_text()
    assert "Locked out the user name 'carol'" in log
    assert "wrong-guess" not in log and "wrong-guess" not in (site.home / "audit.log").read_text()


def test_a_sign_in_from_another_site_is_refused(site):
    own = site.url.rstrip("/")
    with httpx.Client(timeout=120) as http:
        foreign = sign_in(http, site.url, "erin", PASSWORDS["erin"], Origin="http://evil.example")
        assert foreign.status_code == 403 and not foreign.cookies
        assert not signed_in(http, site.url)
        by_referer = sign_in(http, site.url, "erin", PASSWORDS["erin"], Referer="http://evil.example/form.html")
        assert by_referer.status_code == 403 and not signed_in(http, site.url)
        other_port = sign_in(http, site.url, "erin", PASSWORDS["erin"], Origin="http://127.0.0.1:1")
        assert other_port.status_code == 403 and not signed_in(http, site.url)
        same = sign_in(http, site.url, "erin", PASSWORDS["erin"], Origin=own, Referer=own + "/")
        assert same.status_code == 200 and signed_in(http, site.url)
    log = " ".join(site.log_path.read_text().split())  # the app's log wraps long lines
    assert "Refused a request from another site's page (Origin 'http://evil.example') for POST /login" in log


def test_another_sites_page_gets_nothing_with_a_signed_in_users_cookie(site):
    """A page on another site, opened by a signed-in user, calls the app with the user's cookie
    (the app behind a proxy that passes ``Host`` through, so Gradio's CORS layer would grant it):
    every such request is refused, no answer carries a CORS grant, and the cookie is SameSite=Lax."""
    host, evil = "icb.example.org", "https://evil.example"
    with httpx.Client(timeout=120) as http:
        login = sign_in(http, site.url, "alice", PASSWORDS["alice"], Host=host, Origin="https://" + host)
        assert login.status_code == 200
        cookies = login.headers.get_list("set-cookie")
        assert len(cookies) == 2 and all("samesite=lax" in c.lower() and "httponly" in c.lower() for c in cookies)
        assert "secure" in next(c for c in cookies if "unsecure" not in c).lower()
        jar = dict(http.cookies)  # the browser, over HTTPS, sends both cookies (httpx keeps the Secure one back)
    with httpx.Client(timeout=120, cookies=jar) as http:
        cross = {"Host": host, "Origin": evil}
        preflight = http.options(site.url + "gradio_api/queue/join", headers={
            **cross, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
        body = {"data": ["What is in the roadmap?"], "fn_index": 0, "session_hash": "evil-tab",
                "event_data": None, "trigger_id": None}
        refused = [
            preflight,
            http.post(site.url + "gradio_api/queue/join", json=body, headers=cross),
            http.get(site.url + "gradio_api/queue/data", params={"session_hash": "evil-tab"}, headers=cross),
            http.get(site.url + "gradio_api/token", headers=cross),
            http.get(site.url + "gradio_api/token", headers={"Host": host, "Origin": "null"}),
            http.get(site.url + "gradio_api/token", headers={"Host": host, "Sec-Fetch-Site": "cross-site"}),
            http.get(site.url + "config", headers=cross),
        ]
        for answer in refused:
            assert answer.status_code == 403, (answer.request.method, answer.request.url, answer.status_code)
            assert "token" not in answer.text
            assert not any(name.lower().startswith("access-control-") for name in answer.headers)
        # the app's own page, through the same proxy: works, and gets no CORS grant either
        own = {"Host": host, "Origin": "https://" + host, "Sec-Fetch-Site": "same-origin"}
        mine = http.get(site.url + "gradio_api/token", headers=own)
        assert mine.status_code == 200 and mine.json()["user"] == "alice"
        assert not any(n.lower().startswith("access-control-") for n in mine.headers)
        assert http.get(site.url + "config", headers={"Host": host}).status_code == 200


def test_a_password_typed_in_the_name_box_is_never_recorded(site):
    with httpx.Client(timeout=120) as http:
        assert sign_in(http, site.url, "Typed-Into-The-Name-Box-7", "?").status_code == 400
        assert sign_in(http, site.url, "bob", "not-bobs-password").status_code == 400
    entries = audit(site)
    assert {"event": "sign-in-failed", "user": "(unknown name)", "reason": "wrong user name or password"}.items() \
        <= entries[-2].items()
    assert entries[-1]["user"] == "bob" and entries[-1]["event"] == "sign-in-failed"
    log = " ".join(site.log_path.read_text().split())  # the app's log wraps long lines
    assert "Sign-in failed for (unknown name) from 127.0.0.1" in log and "Sign-in failed for 'bob'" in log
    assert "Typed-Into-The-Name-Box-7" not in log + (site.home / "audit.log").read_text()


def add_user(site, name: str, password: str) -> None:
    """`icb-assistant add-user NAME`, the password piped in, as an administrator would run it."""
    environment = clean_environment(ICB_ASSISTANT_HOME=str(site.home), ICB_ASSISTANT_UI_USERS_FILE=str(site.users))
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "add-user", name], input=f"{password}\n{password}\n",
                          capture_output=True, text=True, env=environment, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_changed_password_and_a_removed_user_take_effect_without_a_restart(site):
    with httpx.Client(timeout=120) as before, httpx.Client(timeout=120) as after, httpx.Client(timeout=120) as http:
        assert sign_in(before, site.url, "dave", PASSWORDS["dave"]).status_code == 200
        assert signed_in(before, site.url)
        add_user(site, "dave", "dave-new-password")
        assert sign_in(http, site.url, "dave", PASSWORDS["dave"]).status_code == 400
        assert sign_in(after, site.url, "dave", "dave-new-password").status_code == 200
        assert signed_in(after, site.url)
        assert not signed_in(before, site.url), "a session signed in with the old password ends"
        kept = [line for line in site.users.read_text().splitlines() if not line.startswith("dave:")]
        site.users.write_text("\n".join(kept) + "\n")
        assert not signed_in(after, site.url), "a removed user's session ends"
        assert sign_in(http, site.url, "dave", "dave-new-password").status_code == 400


def test_a_conversation_belongs_to_the_user_who_started_it(site):
    """Bob sends a follow-up on the session hash of Alice's conversation: it must not be read
    against Alice's question (nor answered from her conversation)."""
    from load_test import Session, chat_event

    deadline = time.monotonic() + 600  # only ends a hung request
    shared = "shared-session-hash"
    with httpx.Client(timeout=120) as alice, httpx.Client(timeout=120) as bob:
        assert sign_in(alice, site.url, "alice", PASSWORDS["alice"]).status_code == 200
        assert sign_in(bob, site.url, "bob", PASSWORDS["bob"]).status_code == 200
        event = chat_event(alice, site.url)
        hers, his = Session(alice, site.url, event), Session(bob, site.url, event)
        hers.session = his.session = shared
        hers.ask("What are the cancer plans in the roadmap for 2027/28?", deadline)
        reply, _, _ = his.ask("And in 2028/29?", deadline)
        assert "Understood as" not in reply and "cancer plans" not in reply.lower(), reply
        # Alice's own follow-up on her session is still read against her question
        own, _, _ = hers.ask("And in 2028/29?", deadline)
        assert "Understood as" in own and "cancer plans" in own.lower(), own


def test_no_route_or_content_type_reaches_another_users_conversation(site):
    """Bob guesses the name Alice's session has on the server (her session hash, or it with a mark
    of her name) and sends it in ways the browser never does: a JSON body under another content
    type, then reads the event back from the route that needs no session hash. Whatever he sends
    must land in a session of his own, not in Alice's conversation."""
    import hashlib

    from load_test import Session, chat_event

    deadline = time.monotonic() + 600  # only ends a hung request
    with httpx.Client(timeout=120) as alice, httpx.Client(timeout=120) as bob:
        assert sign_in(alice, site.url, "alice", PASSWORDS["alice"]).status_code == 200
        assert sign_in(bob, site.url, "bob", PASSWORDS["bob"]).status_code == 200
        event = chat_event(alice, site.url)
        hers = Session(alice, site.url, event)
        hers.session = "alices-tab"
        hers.ask("What are the cancer plans in the roadmap for 2027/28?", deadline)
        guesses = ["alices-tab", "alices-tab." + hashlib.sha256(b"alice").hexdigest()[:16]]
        for guess in guesses:
            for content_type in ("Application/JSON", "text/plain", "application/json"):
                body = {"data": ["And in 2028/29?", [], None, None, [], [], "", ""], "fn_index": event,
                        "session_hash": guess, "event_data": None, "trigger_id": None}
                joined = bob.post(site.url + "gradio_api/queue/join", content=json.dumps(body).encode(),
                                  headers={"content-type": content_type})
                if joined.status_code != 200:
                    continue  # refused outright: nothing reached
                read = ""
                with bob.stream("GET", f"{site.url}gradio_api/call/chat/{joined.json()['event_id']}") as stream:
                    for line in stream.iter_lines():
                        read += line + "\n"
                assert "Understood as" not in read and "cancer" not in read.lower(), (guess, content_type, read[-800:])


def test_a_request_body_too_large_to_read_whole_is_refused(site):
    with httpx.Client(timeout=120) as http:
        assert sign_in(http, site.url, "bob", PASSWORDS["bob"]).status_code == 200
        huge = b'{"session_hash": "x", "data": "' + b"a" * (3 * 1024 * 1024) + b'"}'
        answer = http.post(site.url + "gradio_api/queue/join", content=huge, headers={"content-type": "application/json"})
        assert answer.status_code == 413
        assert signed_in(http, site.url)  # the app goes on serving


def test_a_session_ends_after_its_lifetime(tmp_path):
    corpus = small_corpus(tmp_path / "corpus", [DOCUMENT])
    users = tmp_path / "users.txt"
    auth.add_user(users, "alice", PASSWORDS["alice"])
    lifetime_s = 20
    app = App(tmp_path / "home", corpus, env={"ICB_ASSISTANT_UI_USERS_FILE": str(users),
                                              "ICB_ASSISTANT_UI_SESSION_HOURS": str(lifetime_s / 3600)})
    try:
        with httpx.Client(timeout=120) as http:
            assert sign_in(http, app.url, "alice", PASSWORDS["alice"]).status_code == 200
            began = time.monotonic()
            assert signed_in(http, app.url)
            time.sleep(max(0.0, lifetime_s + 1 - (time.monotonic() - began)))
            assert not signed_in(http, app.url), "the session outlived its lifetime"
            assert sign_in(http, app.url, "alice", PASSWORDS["alice"]).status_code == 200
            assert signed_in(http, app.url)
    finally:
        app.stop()

