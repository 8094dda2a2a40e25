"""The audit log: append-only JSON lines, owner-only, nothing secret, damaged lines skipped."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from assistant.audit import MAX_DETAIL_CHARS, AuditLog


def test_entries_are_appended_in_order_and_read_back(tmp_path):
    log = AuditLog(tmp_path / "home" / "audit.log")
    log.record("sign-in", user="alice", address="127.0.0.1")
    log.record("upload", user="alice", address="127.0.0.1", file="plan.pdf", visibility="private")
    entries = log.entries()
    assert [e["event"] for e in entries] == ["sign-in", "upload"]
    assert entries[1]["file"] == "plan.pdf" and entries[1]["user"] == "alice"
    assert entries[0]["time"].endswith("Z")
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600


def test_an_existing_log_is_appended_to_never_rewritten(tmp_path):
    path = tmp_path / "audit.log"
    AuditLog(path).record("export", user="bob", what="feedback")
    first = path.read_bytes()
    AuditLog(path).record("remove", user="bob", file="x.txt")
    assert path.read_bytes().startswith(first)


def test_unknown_events_are_refused(tmp_path):
    with pytest.raises(ValueError):
        AuditLog(tmp_path / "audit.log").record("made-up")


def test_a_huge_detail_is_cut_and_a_damaged_line_skipped(tmp_path):
    log = AuditLog(tmp_path / "audit.log")
    log.record("upload", user="x" * 10_000, file="y" * 10_000)
    with log.path.open("a") as handle:
        handle.write('{"event": "upl')  # a crash mid-write
    entries = log.entries()
    assert len(entries) == 1
    assert len(entries[0]["file"]) <= MAX_DETAIL_CHARS + 1 and len(entries[0]["user"]) <= MAX_DETAIL_CHARS + 1
    assert len(log.path.read_text().splitlines()[0]) < 3 * MAX_DETAIL_CHARS


def test_concurrent_writers_never_interleave_lines(tmp_path):
    log = AuditLog(tmp_path / "audit.log")

    def write(n):
        for i in range(25):
            log.record("export", user=f"user{n}", what="feedback", i=i)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = log.path.read_text().splitlines()
    assert len(lines) == 100
    assert all(json.loads(line)["event"] == "export" for line in lines)


def test_a_line_separator_in_a_value_hides_no_entry(tmp_path):
    """U+2028 and U+0085 are line ends to str.splitlines: a title or a typed user name holding one
    once split its entry in two, and both halves were skipped as damaged."""
    log = AuditLog(tmp_path / "audit.log")
    log.record("sign-in-failed", user="mallory\u2028", address="10.0.0.6")
    log.record("upload", user="alice", file="x.md", title="Budget\u2028note\u0085v2\u2029")
    log.record("export", user="bob", what="faq")
    entries = log.entries()
    assert [e["event"] for e in entries] == ["sign-in-failed", "upload", "export"]
    assert entries[1]["title"] == "Budget\u2028note\u0085v2\u2029" and entries[0]["user"] == "mallory\u2028"
    assert len(log.path.read_text(encoding="utf-8").splitlines()) == 3  # any reader sees three lines


def test_after_a_torn_entry_the_next_one_starts_its_own_line(tmp_path):
    log = AuditLog(tmp_path / "audit.log")
    log.record("sign-in", user="alice")
    with log.path.open("a") as handle:
        handle.write('{"time": "2026-01-01T00:00:00Z", "event": "remo')  # a crash mid-write
    log.record("sign-in-failed", user="mallory", address="10.0.0.6")
    assert [e["event"] for e in log.entries()] == ["sign-in", "sign-in-failed"]


def test_a_write_the_system_cuts_short_is_finished_or_raises(tmp_path, monkeypatch):
    """os.write may take only part of an entry (a full disk, a size limit): the rest is written,
    and a write that takes nothing raises instead of reporting the entry kept."""
    import assistant.audit as audit

    real_write = os.write
    taken = []

    def a_few_bytes(descriptor, data):
        taken.append(len(data))
        return real_write(descriptor, data[:7])

    log = AuditLog(tmp_path / "audit.log")
    monkeypatch.setattr(audit.os, "write", a_few_bytes)
    log.record("remove", user="admin", file="board-paper.pdf")
    assert len(taken) > 5 and [e["file"] for e in log.entries()] == ["board-paper.pdf"]

    monkeypatch.setattr(audit.os, "write", lambda descriptor, data: 0)
    with pytest.raises(OSError):
        log.record("export", user="bob", what="faq")
    monkeypatch.setattr(audit.os, "write", real_write)
    log.record("export", user="bob", what="feedback")
    assert [e["event"] for e in log.entries()] == ["remove", "export"]
