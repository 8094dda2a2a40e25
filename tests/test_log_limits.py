"""A cap on what one request can write to the web app's log: every write to standard output or
error (Gradio's tracebacks, log records) keeps its beginning and end, and says how much it cut."""

from __future__ import annotations

import io
import logging
import sys
import uuid

import httpx
import pytest

from assistant.log_limits import MAX_WRITE_CHARS, CappedStream, capped_output, shorten
from tests.servers import App, build_index, small_corpus

DOCUMENT = "lsc-2030-roadmap-programme-timelines-2025.txt"


def test_a_long_write_keeps_its_beginning_and_end():
    text = "start " + "x" * 100_000 + " the end"
    short = shorten(text)
    assert len(short) < MAX_WRITE_CHARS + 100
    assert short.startswith("start ") and short.endswith(" the end")
    assert f"[{len(text) - MAX_WRITE_CHARS:,} characters left out of the log]" in short
    assert shorten("a short line\n") == "a short line\n"


def test_a_huge_log_record_is_capped():
    sink = io.StringIO()
    logger = logging.getLogger("icb_assistant.test_log_limits")
    handler = logging.StreamHandler(CappedStream(sink))
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("bad payload: " + "m" * 700_000)
        except ValueError:
            logger.error("answering failed: %s", "q" * 700_000, exc_info=True)
    finally:
        logger.removeHandler(handler)
    written = sink.getvalue()
    assert len(written) < MAX_WRITE_CHARS + 100
    assert written.startswith("answering failed: qqq")
    assert written.rstrip().endswith("m" * 100)  # the end of the traceback (the exception) is kept


def test_capped_output_wraps_standard_streams_and_restores_them(capsys):
    before = sys.stdout, sys.stderr
    with capped_output():
        print("e" * 50_000, file=sys.stderr)
        print("fine")
    assert (sys.stdout, sys.stderr) == before
    captured = capsys.readouterr()
    assert captured.out == "fine\n" and len(captured.err) < MAX_WRITE_CHARS + 100


# -- the running app -----------------------------------------------------------------------------


def chat_event(url: str) -> int:
    config = httpx.get(f"{url}config").json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == "chat")


def call_chat(url: str, event: int, question: str, messages: list) -> dict:
    """POST the chat event as the page does and read its stream to the end: the last message."""
    import json

    session = uuid.uuid4().hex[:12]
    body = {"data": [question, messages, None, None, [], [], "", ""], "fn_index": event, "session_hash": session,
            "event_data": None, "trigger_id": None}
    with httpx.Client(timeout=None) as http:
        http.post(f"{url}gradio_api/queue/join", json=body).raise_for_status()
        with http.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        return message
    raise AssertionError("the stream closed before the event completed")


@pytest.mark.slow
def test_a_malformed_request_with_4000_chat_messages_logs_little(tmp_path):
    corpus = small_corpus(tmp_path / "corpus", [DOCUMENT])
    home = tmp_path / "home"
    build_index(home, corpus)
    app = App(home, corpus)
    try:
        app.wait_for_log("Search is ready")
        event = chat_event(app.url)
        before = app.log_path.stat().st_size
        malformed = [{"role": "nobody", "content": {"bad": index}, "extra": "z" * 100} for index in range(4000)]
        refused = call_chat(app.url, event, "What are the milestones?", malformed)
        assert refused["success"] is False
        grown = app.log_path.stat().st_size - before
        assert grown < 20_000, app.log_path.read_text()[-3000:]
        assert "characters left out of the log" in app.log_path.read_text()
        # the app still answers, and a first question split over lines is not "understood as" itself
        answered = call_chat(app.url, event, "What are the\nmilestones?", [])
        assert answered["success"] is True
        last = answered["output"]["data"][1][-1]["content"]
        text = last if isinstance(last, str) else str(last)
        assert "Understood as" not in text and "Searching" not in text
    finally:
        app.stop()
