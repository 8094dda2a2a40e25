"""Signing in to the web app: wrong passwords are slowed down and then locked out.

A user name is locked for ``ui_signin_lockout_minutes`` after ``ui_signin_max_failures`` wrong
passwords within ``ui_signin_window_minutes`` (default 5 in 15 minutes, locked 15 minutes), and a
client address after ``ui_signin_address_max_failures`` (default 20) wrong passwords for any names.
While locked, even the right password is refused ("Too many wrong passwords: try again in N
minutes"). Each wrong password is also answered more slowly than the one before (0.25 s, doubling,
at most 4 s). An attempt counts as wrong until its password is found right, so attempts sent in
parallel get no more tries than attempts sent one by one. A right password clears the name's count.

Every sign-in, wrong password and lockout goes to the audit log and the app's log (never the
password).
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import HTTPException

from assistant.audit import AuditLog
from assistant.auth import UserDirectory

FIRST_DELAY_S = 0.25
MAX_DELAY_S = 4.0
CLIENT_ADDRESS: contextvars.ContextVar[str] = contextvars.ContextVar("client_address", default="")
"""The address of the client whose sign-in is being checked (set by ``web_guard.SignInGuard``)."""


@dataclass(frozen=True)
class Locked:
    """A refused attempt: the name or address is locked for ``seconds`` more."""

    seconds: float

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))

    def message(self) -> str:
        minutes = self.minutes
        return f"Too many wrong passwords: try again in {minutes} minute{'' if minutes == 1 else 's'}."


@dataclass(frozen=True)
class Attempt:
    """An attempt let through: counted as wrong until ``succeeded``."""

    name: str
    address: str
    at: float

    def keys(self) -> list[tuple[str, str]]:
        return [("user", self.name)] + ([("address", self.address)] if self.address else [])


@dataclass(frozen=True)
class Failure:
    """What a wrong password led to: the scopes it locked ("user", "address") and the delay to answer."""

    locked: list[str] = field(default_factory=list)
    delay_s: float = 0.0


class SignInLimiter:
    """Counts wrong passwords per user name and per client address; ``clock`` is injectable for tests."""

    def __init__(self, max_failures: int = 5, address_max_failures: int = 20, window_s: float = 900,
                 lockout_s: float = 900, clock: Callable[[], float] = time.monotonic):
        self.limits = {"user": max_failures, "address": address_max_failures}
        self.window_s, self.lockout_s, self.clock = window_s, lockout_s, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._locked_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings, clock: Callable[[], float] = time.monotonic) -> SignInLimiter:
        return cls(settings.ui_signin_max_failures, settings.ui_signin_address_max_failures,
                   settings.ui_signin_window_minutes * 60, settings.ui_signin_lockout_minutes * 60, clock)

    def _forget_old(self, now: float) -> None:
        for key in list(self._failures):
            times = self._failures[key]
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if not times:
                del self._failures[key]
        for key in [key for key, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]

    def begin(self, name: str, address: str) -> Attempt | Locked:
        """Let an attempt through (counted as wrong for now), or refuse it while locked."""
        now = self.clock()
        attempt = Attempt(name, address, now)
        with self._lock:
            self._forget_old(now)
            waits = []
            for key in attempt.keys():
                if key in self._locked_until:
                    waits.append(self._locked_until[key] - now)
                elif len(self._failures.get(key, ())) >= self.limits[key[0]]:
                    waits.append(self.lockout_s)  # its last tries are still being checked
            if waits:
                return Locked(max(waits))
            for key in attempt.keys():
                self._failures.setdefault(key, deque()).append(now)
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The right password: the name starts afresh; the address keeps its other names' failures."""
        with self._lock:
            self._failures.pop(("user", attempt.name), None)
            times = self._failures.get(("address", attempt.address))
            if times is not None and attempt.at in times:
                times.remove(attempt.at)

    def failed(self, attempt: Attempt) -> Failure:
        """A wrong password: lock what reached its limit; the delay grows with the name's failures."""
        now = self.clock()
        locked = []
        with self._lock:
            count = len(self._failures.get(("user", attempt.name), ()))
            for key in attempt.keys():
                times = self._failures.get(key)
                if times is not None and len(times) >= self.limits[key[0]] and key not in self._locked_until:
                    self._locked_until[key] = now + self.lockout_s
                    times.clear()
                    locked.append(key[0])
        delay = min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** max(count - 1, 0))
        return Failure(locked, delay)


class SignIn:
    """The ``auth=`` function of Gradio's sign-in page (``check``): the users file as it is now
    (``UserDirectory``), the limiter, and a record of every attempt in the audit log and app log."""

    def __init__(self, directory: UserDirectory, limiter: SignInLimiter, audit: AuditLog,
                 log: Callable[[str], None]):
        self.directory, self.limiter, self.audit, self.log = directory, limiter, audit, log

    async def check(self, name: str, password: str) -> bool:
        """Signed in? Raises a 400 with the lockout message while the name or address is locked."""
        name, address = (name or "").strip(), CLIENT_ADDRESS.get()
        shown = repr(name[:64])  # as typed, for the app's log
        attempt = self.limiter.begin(name, address)
        if isinstance(attempt, Locked):
            self.audit.record("sign-in-failed", name, address, reason="locked")
            self.log(f"Sign-in refused for {shown} from {address}: locked for {attempt.minutes} more minutes.")
            raise HTTPException(status_code=400, detail=attempt.message(),
                                headers={"Retry-After": str(math.ceil(attempt.seconds))})
        # scrypt takes ~50 ms: off the event loop, so other users' pages keep moving
        if await asyncio.to_thread(self.directory.check, name, password):
            self.limiter.succeeded(attempt)
            self.audit.record("sign-in", name, address)
            self.log(f"{name} signed in from {address}.")
            return True
        failure = self.limiter.failed(attempt)
        self.audit.record("sign-in-failed", name, address, reason="wrong user name or password")
        self.log(f"Sign-in failed for {shown} from {address}: wrong user name or password.")
        lockout_minutes = round(self.limiter.lockout_s / 60, 1)
        for scope in failure.locked:
            self.audit.record("locked-out", name, address, scope=scope, minutes=lockout_minutes)
            self.log(f"Locked out {'the user name ' + shown if scope == 'user' else 'the address ' + address} "
                     f"for {lockout_minutes:g} minutes after too many wrong passwords.")
        await asyncio.sleep(failure.delay_s)
        if failure.locked:
            raise HTTPException(status_code=400, detail=Locked(self.limiter.lockout_s).message())
        return False
