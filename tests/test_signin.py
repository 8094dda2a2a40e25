"""Sign-in without a server: the wrong-password limiter (on a clock the test moves), the sign-in
check and its audit trail, session tokens that expire, the users file read again when it changes,
and the guard's same-origin rule and per-user session names."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import HTTPException
from starlette.datastructures import Headers

from assistant import auth
from assistant.audit import AuditLog
from assistant.signin import CLIENT_ADDRESS, UNKNOWN_NAME, Locked, SignIn, SignInLimiter
from assistant.web_guard import SessionTokens, owned_session, same_origin

MINUTE = 60.0


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limiter(clock: Clock, **limits) -> SignInLimiter:
    options = dict(max_failures=5, address_max_failures=20, window_s=15 * MINUTE, lockout_s=15 * MINUTE)
    return SignInLimiter(**{**options, **limits}, clock=clock)


def fail(limits: SignInLimiter, name: str, address: str = "10.0.0.1"):
    assert limits.locked(name, address) is None
    return limits.failed(name, address)


# -- the limiter ---------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_name_for_fifteen_minutes():
    clock = Clock()
    limits = limiter(clock)
    outcomes = [fail(limits, "alice") for _ in range(5)]
    assert [o.locked for o in outcomes] == [[], [], [], [], ["user"]]
    refused = limits.locked("alice", "10.0.0.1")
    assert isinstance(refused, Locked)
    assert refused.message() == "Too many wrong passwords: try again in 15 minutes."
    assert isinstance(limits.locked("alice", "10.0.0.2"), Locked), "the name is locked from every address"
    assert limits.locked("bob", "10.0.0.1") is None, "other names from the address may still try"
    clock.advance(14 * MINUTE + 1)
    locked = limits.locked("alice", "10.0.0.3")
    assert isinstance(locked, Locked) and locked.message() == "Too many wrong passwords: try again in 1 minute."
    clock.advance(MINUTE)
    assert limits.locked("alice", "10.0.0.3") is None


def test_failures_spread_beyond_the_window_do_not_lock():
    clock = Clock()
    limits = limiter(clock)
    for _ in range(12):
        assert fail(limits, "alice").locked == []
        clock.advance(4 * MINUTE)  # never 5 within 15 minutes
    assert limits.locked("alice", "10.0.0.1") is None


def test_the_right_password_clears_the_names_count():
    clock = Clock()
    limits = limiter(clock)
    for _ in range(4):
        fail(limits, "alice")
    limits.succeeded("alice")
    assert [fail(limits, "alice").locked for _ in range(4)] == [[]] * 4


def test_an_address_is_locked_after_twenty_wrong_passwords_for_any_names():
    clock = Clock()
    limits = limiter(clock)
    outcomes = [fail(limits, f"name{i}", "10.0.0.9") for i in range(20)]
    assert outcomes[-1].locked == ["address"] and all(not o.locked for o in outcomes[:-1])
    refused = limits.locked("someone-else", "10.0.0.9")
    assert isinstance(refused, Locked) and "15 minutes" in refused.message()
    assert limits.locked("someone-else", "10.0.0.10") is None


def test_each_wrong_password_is_answered_more_slowly_up_to_a_ceiling():
    limits = limiter(Clock(), max_failures=50)
    delays = [fail(limits, "alice").delay_s for _ in range(10)]
    assert delays[:5] == [0.25, 0.5, 1.0, 2.0, 4.0]
    assert delays[5:] == [4.0] * 5


# -- the sign-in check -----------------------------------------------------------------------------


@pytest.fixture
def directory(settings, tmp_path):
    path = tmp_path / "users"
    auth.add_user(path, "alice", "password-one")
    auth.add_user(path, "bob", "password-two", admin=True)
    return auth.UserDirectory(settings.model_copy(update={"ui_users_file": path}))


def check(sign_in: SignIn, name: str, password: str, address: str = "10.0.0.1"):
    """sign_in.check as Gradio's login route calls it, from ``address``."""

    async def run():
        CLIENT_ADDRESS.set(address)
        try:
            return await sign_in.check(name, password)
        except HTTPException as exc:
            return exc

    return asyncio.run(run())


def test_sign_in_refuses_a_locked_name_even_with_the_right_password_and_audits_it(directory, tmp_path, monkeypatch):
    monkeypatch.setattr("assistant.signin.MAX_DELAY_S", 0.0)
    audit = AuditLog(tmp_path / "audit.log")
    logged: list[str] = []
    sign_in = SignIn(directory, limiter(Clock()), audit, logged.append)
    assert check(sign_in, "alice", "password-one") is True
    results = [check(sign_in, "alice", f"guess-{i}") for i in range(6)]
    assert results[:4] == [False] * 4
    assert all(isinstance(r, HTTPException) and r.status_code == 400 for r in results[4:])
    assert results[5].detail == "Too many wrong passwords: try again in 15 minutes."
    refused = check(sign_in, "alice", "password-one")
    assert isinstance(refused, HTTPException) and "Too many wrong passwords" in refused.detail
    assert check(sign_in, "bob", "password-two") is True
    events = [(e["event"], e["user"], e["address"], e.get("reason"), e.get("scope")) for e in audit.entries()]
    assert events[0] == ("sign-in", "alice", "10.0.0.1", None, None)
    assert events.count(("sign-in-failed", "alice", "10.0.0.1", "wrong user name or password", None)) == 5
    assert ("locked-out", "alice", "10.0.0.1", None, "user") in events
    assert events.count(("sign-in-failed", "alice", "10.0.0.1", "locked", None)) == 2
    assert events[-1] == ("sign-in", "bob", "10.0.0.1", None, None)
    text = audit.path.read_text() + "\n".join(logged)
    assert "guess-" not in text and "password-one" not in text and "scrypt$" not in text
    assert any("Locked out the user name 'alice'" in line for line in logged)


def checks_at_once(sign_in: SignIn, attempts: list[tuple[str, str, str]]) -> list:
    """Many sign-ins sent together, as parallel requests reach Gradio's login route."""

    async def one(name, password, address):
        CLIENT_ADDRESS.set(address)
        try:
            return await sign_in.check(name, password)
        except HTTPException as exc:
            return exc

    async def run():
        return await asyncio.gather(*(one(*attempt) for attempt in attempts))

    return asyncio.run(run())


def test_wrong_passwords_sent_in_parallel_get_no_more_tries(directory, tmp_path, monkeypatch):
    monkeypatch.setattr("assistant.signin.MAX_DELAY_S", 0.0)
    audit = AuditLog(tmp_path / "audit.log")
    sign_in = SignIn(directory, limiter(Clock()), audit, lambda text: None)
    results = checks_at_once(sign_in, [("alice", f"guess-{i}", "10.0.0.1") for i in range(12)]
                             + [("alice", "password-one", "10.0.0.2")])
    assert all(r is False or isinstance(r, HTTPException) for r in results)
    assert sum(e.get("reason") == "wrong user name or password" for e in audit.entries()) == 5


def test_right_passwords_sent_together_from_one_address_all_sign_in(directory, tmp_path):
    """Twenty people behind one address (or the load test) signing in at once are not mistaken for a guesser."""
    sign_in = SignIn(directory, limiter(Clock()), AuditLog(tmp_path / "audit.log"), lambda text: None)
    results = checks_at_once(sign_in, [("alice", "password-one", "10.0.0.1")] * 10
                             + [("bob", "password-two", "10.0.0.1")] * 10)
    assert results == [True] * 20


def test_an_unknown_name_is_refused_like_a_wrong_password(directory, tmp_path, monkeypatch):
    monkeypatch.setattr("assistant.signin.MAX_DELAY_S", 0.0)
    sign_in = SignIn(directory, limiter(Clock()), AuditLog(tmp_path / "audit.log"), lambda text: None)
    assert check(sign_in, "mallory", "password-one") is False


def test_a_name_that_is_no_users_is_recorded_as_unknown_and_a_known_one_as_typed(directory, tmp_path, monkeypatch):
    """A password typed into the name box must not reach the audit log or the app's log; failures and
    lock-outs of real accounts stay traceable by name."""
    monkeypatch.setattr("assistant.signin.MAX_DELAY_S", 0.0)
    audit = AuditLog(tmp_path / "audit.log")
    logged: list[str] = []
    sign_in = SignIn(directory, limiter(Clock(), max_failures=2), audit, logged.append)
    assert check(sign_in, "Correct-Horse-Battery-9", "") is False
    assert isinstance(check(sign_in, "Correct-Horse-Battery-9", "x"), HTTPException)  # locked: the second failure
    assert isinstance(check(sign_in, "Correct-Horse-Battery-9", "x"), HTTPException)  # refused while locked
    assert check(sign_in, "alice", "wrong-one") is False
    events = [(e["event"], e["user"], e.get("reason")) for e in audit.entries()]
    assert events == [
        ("sign-in-failed", UNKNOWN_NAME, "wrong user name or password"),
        ("sign-in-failed", UNKNOWN_NAME, "wrong user name or password"),
        ("locked-out", UNKNOWN_NAME, None),
        ("sign-in-failed", UNKNOWN_NAME, "locked"),
        ("sign-in-failed", "alice", "wrong user name or password"),
    ]
    assert "Correct-Horse-Battery-9" not in audit.path.read_text() + "\n".join(logged)
    assert logged[0] == "Sign-in failed for (unknown name) from 10.0.0.1: wrong user name or password."
    assert logged[-1] == "Sign-in failed for 'alice' from 10.0.0.1: wrong user name or password."


# -- the users file, read again when it changes ------------------------------------------------------


def test_the_directory_sees_a_changed_password_a_new_admin_and_a_removed_user(directory):
    path = directory.path
    assert directory.check("alice", "password-one") and not directory.get("alice").admin
    auth.add_user(path, "alice", "password-new", admin=True)
    assert directory.check("alice", "password-new") and not directory.check("alice", "password-one")
    assert directory.get("alice").admin
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines() if not line.startswith("bob:")))
    assert directory.get("bob") is None and not directory.check("bob", "password-two")


def test_add_user_replaces_the_file_whole(tmp_path):
    """The app may read the file at any moment: it is written aside and renamed, never truncated in place."""
    path = tmp_path / "users"
    auth.add_user(path, "alice", "password-one")
    before = path.stat().st_ino
    auth.add_user(path, "bob", "password-two")
    assert path.stat().st_ino != before
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["users"]


# -- session tokens --------------------------------------------------------------------------------


def test_a_session_ends_after_its_lifetime_and_when_idle(directory):
    clock = Clock()
    tokens = SessionTokens(directory, lifetime_s=12 * 3600, idle_s=120 * MINUTE, clock=clock)
    tokens["t1"] = "alice"
    assert tokens.get("t1") == "alice" and "t1" in tokens
    for _ in range(11):
        clock.advance(3600)  # used every hour: never idle
        assert tokens.get("t1") == "alice"
    clock.advance(3600)
    assert tokens.get("t1") is None and "t1" not in tokens and "t1" not in dict(tokens)
    tokens["t2"] = "alice"
    clock.advance(120 * MINUTE)
    assert tokens.get("t2") is None, "unused for the idle limit"


def test_a_session_ends_when_its_user_is_removed_or_gets_a_new_password(directory):
    tokens = SessionTokens(directory, lifetime_s=3600, clock=Clock())
    tokens["a"], tokens["b"] = "alice", "bob"
    auth.add_user(directory.path, "alice", "password-new")
    assert tokens.get("a") is None
    assert tokens.get("b") == "bob"
    directory.path.write_text("# nobody\n")
    assert tokens.get("b") is None


def test_gradio_can_still_sign_everyone_out(directory):
    """Gradio's /logout walks the table and deletes a user's tokens."""
    tokens = SessionTokens(directory, lifetime_s=3600, clock=Clock())
    tokens["a1"], tokens["a2"], tokens["b"] = "alice", "alice", "bob"
    for token in list(tokens.keys()):
        if tokens[token] == "alice":
            del tokens[token]
    assert list(tokens) == ["b"] and tokens.get("a1") is None


# -- the guard -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "allowed"), [
    ({"host": "127.0.0.1:7860", "origin": "http://127.0.0.1:7860"}, True),
    ({"host": "127.0.0.1:7860", "referer": "http://127.0.0.1:7860/?x=1"}, True),
    ({"host": "assistant.example.nhs.uk", "origin": "https://assistant.example.nhs.uk"}, True),
    ({"host": "127.0.0.1:7860"}, True),  # a script, not a web page
    ({"host": "127.0.0.1:7860", "origin": "http://evil.example"}, False),
    ({"host": "127.0.0.1:7860", "origin": "http://127.0.0.1:7861"}, False),
    ({"host": "127.0.0.1:7860", "origin": "null"}, False),
    ({"host": "127.0.0.1:7860", "referer": "http://evil.example/page"}, False),
    ({"host": "127.0.0.1:7860", "origin": "http://evil.example", "referer": "http://127.0.0.1:7860/"}, False),
])
def test_a_sign_in_must_come_from_the_apps_own_host(headers, allowed):
    assert same_origin(Headers(headers)) is allowed


def test_session_names_are_each_users_own():
    assert owned_session("abc", "alice") != owned_session("abc", "bob")
    assert owned_session("abc", "alice") == owned_session("abc", "alice")
    # no session hash one user can send becomes another user's session
    assert owned_session(owned_session("abc", "alice"), "bob") != owned_session("abc", "alice")
    assert json.dumps(owned_session("abc", "a@b.c")).isascii()
