"""Feedback on answers: stored in SQLite, exported as the CSV the evaluation reads."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from assistant.answers import Answer, Source
from assistant.feedback import COLUMNS, Feedback, FeedbackStore, feedback_path, from_answer


def make_answer() -> Answer:
    cited = Source(
        n=2, doc="plan.txt", title="The plan", section="5 > 5.2 Urgent care", page=12,
        text='Urgent care "first" <b>now</b>, £350m.', start=100, end=140,
    )
    return Answer(status="answered", answer="Urgent care comes first [2].", citations=[cited], backend="local", model="qwen")


def test_csv_columns_are_exactly_the_agreed_ones():
    assert COLUMNS == ("id", "time", "user", "rating", "comment", "question", "history", "answer", "status", "citations", "backend", "model")


def test_store_and_export_round_trip(settings, tmp_path):
    store = FeedbackStore(feedback_path(settings))
    assert store.path == settings.home / "feedback.sqlite3"
    first = store.add(from_answer("up", "And urgent care?", ["What are the priorities?"], make_answer(), user="alice"))
    second = store.add(Feedback(rating="down", question="What is the deficit?", comment="  wrong year, see p.4  "))
    assert (first, second) == (1, 2) and store.count() == 2

    out = tmp_path / "export" / "feedback.csv"
    assert store.export_csv(out) == 2
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == COLUMNS
        rows = list(reader)
    up, down = rows
    assert up["rating"] == "up" and up["user"] == "alice" and up["status"] == "answered"
    assert up["backend"] == "local" and up["model"] == "qwen"
    assert json.loads(up["history"]) == ["What are the priorities?"]
    citations = json.loads(up["citations"])
    assert citations == [{
        "n": 2, "doc": "plan.txt", "title": "The plan", "section": "5 > 5.2 Urgent care", "page": 12,
        "text": 'Urgent care "first" <b>now</b>, £350m.', "start": 100, "end": 140,
    }]
    assert up["time"].startswith("20") and "T" in up["time"]
    assert down["comment"] == "wrong year, see p.4"
    assert json.loads(down["history"]) == [] and json.loads(down["citations"]) == []
    store.close()


def test_comment_can_be_added_after_the_rating(settings):
    store = FeedbackStore(feedback_path(settings))
    rating = store.add(from_answer("down", "Q?", [], make_answer()))
    assert store.set_comment(rating, "Missed the 2026 target")
    assert store.get(rating).comment == "Missed the 2026 target"
    assert not store.set_comment(999, "nothing")
    store.close()


def test_bad_rating_is_refused(settings):
    store = FeedbackStore(feedback_path(settings))
    with pytest.raises(ValueError):
        store.add(Feedback(rating="meh", question="Q?"))
    store.close()


def test_the_database_is_plain_sqlite(settings):
    store = FeedbackStore(feedback_path(settings))
    store.add(from_answer("up", "Q?", [], make_answer()))
    store.close()
    with sqlite3.connect(feedback_path(settings)) as db:
        assert db.execute("SELECT rating, question FROM feedback").fetchall() == [("up", "Q?")]


def test_feedback_export_command(settings, tmp_path):
    store = FeedbackStore(feedback_path(settings))
    store.add(from_answer("up", "Q?", ["Earlier?"], make_answer()))
    store.close()
    from tests.cli_here import run_cli_here

    out = tmp_path / "fb.csv"
    result = run_cli_here("feedback-export", "--out", str(out), home=settings.home)
    assert result.returncode == 0, result.stderr
    assert "1 rating" in result.stdout
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["question"] == "Q?" and json.loads(rows[0]["history"]) == ["Earlier?"]


def test_a_second_comment_adds_to_the_first_and_a_changed_rating_is_one_row(settings):
    """The audit's case: a second "Save comment" replaced the first without a word, and rating an
    answer up, then down, kept both ratings (the 👍 counted as well as the 👎)."""
    from types import SimpleNamespace

    from assistant.ui import chat

    store = FeedbackStore(feedback_path(settings))
    services = SimpleNamespace(feedback=store, user=lambda request: "alice")
    turns = [{"question": "What is the deficit?", "history": [], "message": 1, "answer": make_answer()}]
    _, _, saved = chat.rate(services, turns, SimpleNamespace(liked=True, index=1), None)
    chat.keep_comment(services, saved, "The 2024/25 figure is wrong.")
    chat.keep_comment(services, saved, "Also the source link goes to the wrong page.")
    assert store.get(saved).comment == "The 2024/25 figure is wrong.\nAlso the source link goes to the wrong page."
    _, note, again = chat.rate(services, turns, SimpleNamespace(liked=False, index=1), None)
    assert again == saved and "not helpful" in note
    assert [(r["rating"], r["comment"].count("\n")) for r in store.rows()] == [("down", 1)]
    assert store.set_rating(saved, "up") and not store.set_rating(999, "up")
    with pytest.raises(ValueError):
        store.set_rating(saved, "meh")
    store.close()


def test_an_export_that_fails_leaves_the_earlier_one_whole(settings, tmp_path, monkeypatch):
    import assistant.feedback as feedback

    store = FeedbackStore(feedback_path(settings))
    store.add(from_answer("down", "What is the deficit?", [], make_answer()))
    out = tmp_path / "exports" / "feedback.csv"
    assert store.export_csv(out) == 1
    earlier = out.read_bytes()

    def full_disk(row):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(feedback, "safe_row", full_disk)  # the disk fills while the new export is written
    store.add(from_answer("up", "And the plan?", [], make_answer()))
    with pytest.raises(OSError):
        store.export_csv(out)
    assert out.read_bytes() == earlier and [p.name for p in out.parent.iterdir()] == ["feedback.csv"]
    store.close()
