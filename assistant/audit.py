"""The audit log: an append-only record of who did what to the app's documents and users.

One JSON object a line in ``<home>/audit.log`` (owner-only, 0600):
``{"time": "2026-12-02T06:30:00Z", "event": "upload", "user": "alice", "address": "127.0.0.1", ...}``.
Events: ``sign-in``, ``sign-in-failed``, ``locked-out``, ``upload``, ``publish``, ``remove``,
``export``. The file is only ever opened for appending (``O_APPEND``), each entry written whole
in one call (the rest written after it if the system takes only part) and flushed to disk, so an
entry is never rewritten, and a crash loses at most the entry being written: an entry after a torn
one starts on a line of its own. A line separator inside a value (U+2028, U+0085) is written
escaped and the file is read line by line at "\n" only, so no value can hide an entry. Nothing
secret is recorded: never a password, hash or session token.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

AUDIT_FILE = "audit.log"
EVENTS = ("sign-in", "sign-in-failed", "locked-out", "upload", "publish", "remove", "export")
MAX_DETAIL_CHARS = 500  # one entry stays small whatever a request carries
# characters other readers (and str.splitlines) take for the end of a line: written as \uXXXX escapes
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"}


def audit_path(settings) -> Path:
    return settings.home / AUDIT_FILE


def _short(value):
    if isinstance(value, str):
        return value if len(value) <= MAX_DETAIL_CHARS else value[:MAX_DETAIL_CHARS] + "…"
    if isinstance(value, (list, tuple)):
        return [_short(item) for item in list(value)[:50]]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return _short(str(value))


class AuditLog:
    """Append-only JSON lines; safe to share between threads (one lock, one write per entry)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, event: str, user: str = "", address: str = "", **details) -> dict:
        """Append one entry and return it. ``event`` is one of ``EVENTS``."""
        if event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}")
        entry = {
            "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event": event,
            "user": _short(user or ""),
            "address": _short(address or ""),
        }
        entry.update({key: _short(value) for key, value in details.items()})
        text = json.dumps(entry, ensure_ascii=False)
        for character, escaped in _LINE_BREAKS.items():
            text = text.replace(character, escaped)  # only inside strings: JSON's own breaks are none of these
        line = (text + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(descriptor).st_size
                if size and os.pread(descriptor, 1, size - 1) != b"\n":
                    line = b"\n" + line  # the last entry was torn by a crash: this one starts a line of its own
                while line:  # a write may take only part (a full disk, a size limit): the rest, or an error
                    written = os.write(descriptor, line)
                    if written <= 0:
                        raise OSError(f"Could not write to the audit log {self.path}.")
                    line = line[written:]
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return entry

    def entries(self) -> list[dict]:
        """Every entry, oldest first; a damaged line (a crash mid-write) is skipped."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found = []
        for line in text.split("\n"):  # not splitlines(): it also breaks at U+2028 and the like
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                found.append(entry)
        return found
