"""The audit log: an append-only record of who did what to the app's documents and users.

One JSON object a line in ``<home>/audit.log`` (owner-only, 0600):
``{"time": "2026-12-02T06:30:00Z", "event": "upload", "user": "alice", "address": "127.0.0.1", ...}``.
Events: ``sign-in``, ``sign-in-failed``, ``locked-out``, ``upload``, ``publish``, ``remove``,
``export``. The file is only ever opened for appending (``O_APPEND``), each entry written whole
in one call and flushed to disk, so an entry is never rewritten, and a crash loses at most the
entry being written. Nothing secret is recorded: never a password, hash or session token.
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
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line)
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
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                found.append(entry)
        return found
