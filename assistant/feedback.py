"""Thumbs up / down on answers, kept in SQLite (``<home>/feedback.sqlite3``) and exported as CSV.

Each row keeps what an evaluator needs to judge the answer again: the question, the earlier
questions of the conversation, the answer, its status and citations, the backend and model.
The CSV columns are fixed (``COLUMNS``): the evaluation's ``eval-drafts`` command reads them.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from assistant.answers import Answer, Source
from assistant.csv_safety import safe_row

COLUMNS = ("id", "time", "user", "rating", "comment", "question", "history", "answer", "status", "citations", "backend", "model")
RATINGS = ("up", "down")
CITATION_FIELDS = ("n", "doc", "title", "section", "page", "text", "start", "end")
MAX_COMMENT_CHARS = 4000

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT '',
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    history TEXT NOT NULL DEFAULT '[]',
    answer TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    backend TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT ''
);
"""


@dataclass
class Feedback:
    """One rating. ``history`` and ``citations`` are lists here and JSON text in the database."""

    rating: str
    question: str
    answer: str = ""
    status: str = ""
    history: list[str] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)
    backend: str = ""
    model: str = ""
    comment: str = ""
    user: str = ""
    time: str = ""
    id: int | None = None


def citation_dicts(sources: list[Source]) -> list[dict]:
    return [{name: getattr(source, name) for name in CITATION_FIELDS} for source in sources]


def from_answer(rating: str, question: str, history: list[str], answer: Answer, user: str = "", comment: str = "") -> Feedback:
    return Feedback(
        rating=rating, question=question, history=list(history), answer=answer.answer, status=answer.status,
        citations=citation_dicts(answer.citations), backend=answer.backend, model=answer.model,
        comment=comment, user=user,
    )


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FeedbackStore:
    """The feedback table. Safe to share between the UI's worker threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def add(self, item: Feedback) -> int:
        if item.rating not in RATINGS:
            raise ValueError(f"rating must be 'up' or 'down', not {item.rating!r}")
        values = {**asdict(item), "time": item.time or now(), "comment": item.comment.strip()[:MAX_COMMENT_CHARS]}
        values["history"] = json.dumps(values["history"], ensure_ascii=False)
        values["citations"] = json.dumps(values["citations"], ensure_ascii=False)
        names = [name for name in COLUMNS if name != "id"]
        with self._lock, self.db:
            cursor = self.db.execute(
                f"INSERT INTO feedback ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                [values[name] for name in names],
            )
        return int(cursor.lastrowid)

    def set_comment(self, feedback_id: int, comment: str) -> bool:
        """Add ``comment`` to the rating's comment (a second one goes on a new line after the
        first: a reviewer's earlier note is never replaced); False when there is no such rating."""
        comment = comment.strip()
        with self._lock, self.db:
            row = self.db.execute("SELECT comment FROM feedback WHERE id = ?", (feedback_id,)).fetchone()
            if row is None:
                return False
            earlier = row["comment"] or ""
            joined = f"{earlier}\n{comment}" if earlier and comment and comment != earlier else (earlier or comment)
            self.db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (joined[:MAX_COMMENT_CHARS], feedback_id))
        return True

    def set_rating(self, feedback_id: int, rating: str) -> bool:
        """A changed mind: the rating (and its time) of an answer already rated, its comment kept;
        False when there is no such rating."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        with self._lock, self.db:
            cursor = self.db.execute("UPDATE feedback SET rating = ?, time = ? WHERE id = ?", (rating, now(), feedback_id))
        return cursor.rowcount == 1

    def rows(self, user: str | None = None) -> list[dict]:
        """Every rating, oldest first, as the CSV has them (history and citations as JSON text);
        ``user``: only that user's ratings (None: everyone's)."""
        where, values = ("WHERE user = ?", (user,)) if user is not None else ("", ())
        with self._lock:
            found = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback {where} ORDER BY id", values).fetchall()
        return [dict(row) for row in found]

    def get(self, feedback_id: int) -> Feedback | None:
        with self._lock:
            row = self.db.execute("SELECT * FROM feedback WHERE id = ?", (feedback_id,)).fetchone()
        if row is None:
            return None
        data = dict(row)
        data["history"] = json.loads(data["history"])
        data["citations"] = json.loads(data["citations"])
        return Feedback(**data)

    def count(self, user: str | None = None) -> int:
        where, values = ("WHERE user = ?", (user,)) if user is not None else ("", ())
        with self._lock:
            return int(self.db.execute(f"SELECT COUNT(*) FROM feedback {where}", values).fetchone()[0])

    def export_csv(self, out: Path, user: str | None = None) -> int:
        """Write every rating (``user``: only theirs) to ``out`` with exactly ``COLUMNS``; returns how
        many rows. Cells a spreadsheet would run as a formula get a leading ``'`` (``csv_safety``;
        eval-drafts removes it)."""
        rows = self.rows(user)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")  # an earlier export stays whole until this one is
        try:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
                writer.writeheader()
                writer.writerows(safe_row(row) for row in rows)
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return len(rows)


def feedback_path(settings) -> Path:
    return settings.home / "feedback.sqlite3"
