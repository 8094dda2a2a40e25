"""Small things a user is shown: "Understood as" only when a question's words were rewritten, and
`config` naming the users file in force."""

from __future__ import annotations


from assistant.engine import Assistant
from assistant.ui import chat
from tests.conftest import FakeEmbeddings

DOCUMENT = "lsc-2030-roadmap-programme-timelines-2025.txt"


def test_understood_as_ignores_line_breaks_spacing_and_control_characters():
    from assistant.engine import understood_as

    asked = "What are the\nurgent care\x07 priorities?\r\n"
    assert understood_as(asked, "What are the urgent care priorities?") == ""
    assert understood_as("And 2027/28?", "What are the priorities for 2027/28?") == "What are the priorities for 2027/28?"


def test_a_first_question_with_line_breaks_is_never_understood_as_itself(settings, corpus_copy):
    assistant = Assistant(settings, backend="extractive", embeddings=FakeEmbeddings())
    try:
        assistant.indexer.run([corpus_copy / DOCUMENT])
        for asked in ("What are the\nurgent and emergency care\x07 priorities?", "What\tare the\r\n\x00milestones?"):
            text = asked.strip()  # what the chat handler passes on
            events = list(assistant.stream(text))
            assert not [event for event in events if event.kind == "rewritten"]
            final = events[-1].answer
            assert final.rewritten_question  # the engine always says what it searched for
            assert "Understood as" not in chat.chat_message(final, text)
            assert "Understood as" not in chat.streaming_message("", [], final.rewritten_question, text)
        follow_up = assistant.ask("And the year after?", history=["What are the priorities for 2025/26?"])
        assert "Understood as: What are the priorities for 2026/27?" in chat.chat_message(follow_up, "And the year after?")
    finally:
        assistant.close()


def config_output(home, **extra) -> str:
    from tests.cli_here import run_cli_here

    result = run_cli_here("config", home=home, env={"COLUMNS": "400", **extra})  # no wrapping of long paths
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if "ui_users_file" in line)


def test_config_names_the_users_file_in_force(tmp_path):
    home = tmp_path / "home"
    default = home / "ui-users.txt"
    line = config_output(home)
    assert f"{default} (default, not present)" in line and "None" not in line
    home.mkdir()
    default.write_text("")
    line = config_output(home)
    assert f"{default} (default)" in line
    chosen = tmp_path / "team-users.txt"
    line = config_output(home, ICB_ASSISTANT_UI_USERS_FILE=str(chosen))
    assert str(chosen) in line and "default" not in line
