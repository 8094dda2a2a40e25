"""Signing in to the web app: wrong passwords are slowed down and then locked out.

A user name is locked for ``ui_signin_lockout_minutes`` after ``ui_signin_max_failures`` wrong
passwords within ``ui_signin_window_minutes`` (default 5 in 15 minutes, locked 15 minutes), and a
client address after ``ui_signin_address_max_failures`` (default 20) wrong passwords for any names.
While locked, even the right password is refused ("Too many wrong passwords: try again in N
minutes"). Each wrong password is also answered more slowly than the one before (0.25 s, doubling,
at most 4 s). Attempts for one name, and attempts from one address, are checked one at a time, so
attempts sent in parallel get no more tries than attempts sent one by one. A right password clears
the name's count.

Every sign-in, wrong password and lockout goes to the audit log and the app's log (never the
password). A user name that is not a known user's is recorded as "(unknown name)", as it may be a
password typed into the wrong box.
"""

from __future__ import annotations

import asyncio
import contextlib
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
UNKNOWN_NAME = "(unknown name)"  # how a sign-in with a name that is no user's is recorded
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

    @staticmethod
    def _keys(name: str, address: str) -> list[tuple[str, str]]:
        return [("user", name)] + ([("address", address)] if address else [])

    def locked(self, name: str, address: str) -> Locked | None:
        """Is the name or the address locked now? (None: it may try.)"""
        now = self.clock()
        with self._lock:
            self._forget_old(now)
            waits = [self._locked_until[key] - now for key in self._keys(name, address) if key in self._locked_until]
        return Locked(max(waits)) if waits else None

    def succeeded(self, name: str) -> None:
        """The right password: the name starts afresh; the address keeps its other names' failures."""
        with self._lock:
            self._failures.pop(("user", name), None)

    def failed(self, name: str, address: str) -> Failure:
        """A wrong password: count it, and lock what reached its limit; the delay grows with the name's failures."""
        now = self.clock()
        locked = []
        with self._lock:
            self._forget_old(now)
            for key in self._keys(name, address):
                times = self._failures.setdefault(key, deque())
                times.append(now)
                if key[0] == "user":
                    count = len(times)
                if len(times) >= self.limits[key[0]]:
                    self._locked_until[key] = now + self.lockout_s
                    times.clear()
                    locked.append(key[0])
        delay = min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (count - 1))
        return Failure(locked, delay)


class _KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self):
        self._locks: dict[str, list] = {}  # key -> [lock, holders and waiters]

    @contextlib.asynccontextmanager
    async def hold(self, key: str):
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if not entry[1]:
                del self._locks[key]


class SignIn:
    """The ``auth=`` function of Gradio's sign-in page (``check``): the users file as it is now
    (``UserDirectory``), the limiter, and a record of every attempt in the audit log and app log."""

    def __init__(self, directory: UserDirectory, limiter: SignInLimiter, audit: AuditLog,
                 log: Callable[[str], None]):
        self.directory, self.limiter, self.audit, self.log = directory, limiter, audit, log
        self._names, self._addresses = _KeyedLocks(), _KeyedLocks()

    async def _audit(self, event: str, name: str, address: str, **details) -> None:
        """An audit entry, written (and fsync-ed) off the event loop."""
        await asyncio.to_thread(self.audit.record, event, name, address, **details)

    def recorded_name(self, name: str) -> str:
        """The name a sign-in is recorded under: as typed when it is a user the users file names now
        (so failures and lock-outs of real accounts stay traceable), else ``UNKNOWN_NAME``: a
        password typed into the name box is never written down."""
        return name if name and self.directory.get(name) is not None else UNKNOWN_NAME

    async def check(self, name: str, password: str) -> bool:
        """Signed in? Raises a 400 with the lockout message while the name or address is locked.

        Attempts for one name are checked one at a time, delay included, and so are attempts from one
        address (delay not included): attempts sent in parallel get no more tries than one by one."""
        name, address = (name or "").strip(), CLIENT_ADDRESS.get()
        recorded = self.recorded_name(name)  # for the audit log and the app's log, never a typed password
        shown = recorded if recorded == UNKNOWN_NAME else repr(recorded)
        async with self._names.hold(name):
            async with self._addresses.hold(address):
                locked = self.limiter.locked(name, address)
                if locked is not None:
                    await self._audit("sign-in-failed", recorded, address, reason="locked")
                    self.log(f"Sign-in refused for {shown} from {address}: locked for {locked.minutes} more minutes.")
                    raise HTTPException(status_code=400, detail=locked.message(),
                                        headers={"Retry-After": str(math.ceil(locked.seconds))})
                # scrypt takes ~50 ms: off the event loop, so other users' pages keep moving
                if await asyncio.to_thread(self.directory.check, name, password):
                    self.limiter.succeeded(name)
                    await self._audit("sign-in", name, address)
                    self.log(f"{name} signed in from {address}.")
                    return True
                failure = self.limiter.failed(name, address)
                await self._audit("sign-in-failed", recorded, address, reason="wrong user name or password")
                self.log(f"Sign-in failed for {shown} from {address}: wrong user name or password.")
                lockout_minutes = round(self.limiter.lockout_s / 60, 1)
                for scope in failure.locked:
                    await self._audit("locked-out", recorded, address, scope=scope, minutes=lockout_minutes)
                    self.log(f"Locked out {'the user name ' + shown if scope == 'user' else 'the address ' + address} "
                             f"for {lockout_minutes:g} minutes after too many wrong passwords.")
            await asyncio.sleep(failure.delay_s)
        if failure.locked:
            raise HTTPException(status_code=400, detail=Locked(self.limiter.lockout_s).message())
        return False
