"""The `icb-assistant` command as a user runs it: help, index, search, docs, errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_here import run_cli_here
from tests.conftest import CORPUS

COMMANDS = ["index", "search", "docs", "remove", "config"]


def run_cli(*args: str, home: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """The command in a new Python process, as a user runs it (the slow tests, and what needs a process);
    the fast tests of what a command says run it in this one with :func:`tests.cli_here.run_cli_here`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ICB_ASSISTANT_")}
    environment["ICB_ASSISTANT_HOME"] = str(home)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True, text=True, env=environment, timeout=timeout,
    )


def test_importing_the_cli_leaves_heavy_libraries_alone():
    code = (
        "import sys, assistant.cli; "
        "heavy = [m for m in ('gradio', 'chromadb', 'onnxruntime', 'langchain_openai', 'langchain', 'openai') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_everywhere(command, tmp_path):
    args = ["--help"] if command is None else [command, "--help"]
    run = run_cli if command is None else run_cli_here  # `python -m assistant.cli --help` once in its own process
    result = run(*args, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    if command is None:
        for name in COMMANDS:
            assert name in result.stdout


def test_search_before_indexing_says_what_to_do(tmp_path):
    result = run_cli_here("search", "urgent care", home=tmp_path)
    assert result.returncode == 2
    assert "icb-assistant index" in result.stderr
    assert "Traceback" not in result.stderr


def test_empty_query_is_refused(tmp_path):
    result = run_cli_here("search", "   ", home=tmp_path)
    assert result.returncode == 2 and "empty" in result.stderr


def test_bad_configuration_is_a_message_not_a_traceback(tmp_path):
    result = run_cli_here("docs", home=tmp_path, env={"ICB_ASSISTANT_CHUNK_TOKENS": "lots"})
    assert result.returncode == 2
    assert "chunk_tokens" in result.stderr and "Traceback" not in result.stderr

    config = tmp_path / "broken.toml"
    config.write_text("this is = = not toml")
    result = run_cli_here("docs", home=tmp_path, env={"ICB_ASSISTANT_CONFIG": str(config)})
    assert result.returncode == 2 and "broken.toml" in result.stderr and "Traceback" not in result.stderr


def test_config_file_is_read(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('search_top_k = 9\nopenai_api_key = "sk-secret-value"\n')
    result = run_cli_here("config", home=tmp_path, env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "search_top_k" in result.stdout and " 9 " in result.stdout
    assert "sk-secret-value" not in result.stdout  # secrets are never shown


def test_unreachable_chroma_server_is_a_clear_error(tmp_path):
    from assistant.local_model import free_port

    port = free_port()  # a port nobody listens on
    result = run_cli_here("search", "cancer", home=tmp_path, env={"ICB_ASSISTANT_CHROMA_HOST": "127.0.0.1", "ICB_ASSISTANT_CHROMA_PORT": str(port)})
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_index_search_docs_with_the_real_model(tmp_path):
    """The real embedding model end to end on a small folder, as the README shows."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("lsc-2030-roadmap-programme-timelines-2025.txt", "lsc-icb-board-2030-roadmap-paper-2025-05-22.txt", "manifest.json"):
        (folder / name).write_bytes((CORPUS / name).read_bytes())
    (folder / "broken.pdf").write_bytes(b"%PDF-1.5 truncated")
    home = tmp_path / "home"

    first = run_cli("index", str(folder), home=home, env={"COLUMNS": "200"})
    assert first.returncode == 0, first.stderr
    assert "Documents in index" in first.stdout and "│ 2 " in first.stdout
    assert "broken.pdf" in first.stderr and "PDF" in first.stderr

    again = run_cli("index", str(folder), home=home, env={"COLUMNS": "200"})
    assert "Skipped (unchanged) │ 2" in again.stdout

    found = run_cli("search", "cancer plans for 2027/28", "-k", "3", home=home, env={"COLUMNS": "200"})
    assert found.returncode == 0, found.stderr
    assert "LSC2030 Roadmap > Cancer > 2027/28" in found.stdout.splitlines()[1]

    listing = run_cli("docs", home=home, env={"COLUMNS": "200"})
    assert "lsc-2030-roadmap-programme-timelines-2025.txt" in listing.stdout
    assert "board paper" in listing.stdout


@pytest.mark.slow
@pytest.mark.parametrize("damaged", ["index/catalog.sqlite3", "index/chroma/chroma.sqlite3"])
def test_a_damaged_index_is_named_and_rebuild_mends_it_keeping_the_old_one(tmp_path, damaged):
    """A catalogue or Chroma file overwritten with garbage: every command says so and what to do;
    `index --rebuild` sets the damaged part aside (kept, renamed) and builds a working index."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.md").write_text("# Ferry pilot\n\nThe kingfisher ferry carries patients across the Walney channel.\n")
    home = tmp_path / "home"
    env = {"COLUMNS": "200", "ICB_ASSISTANT_CORPUS_DIR": str(folder)}
    assert run_cli("index", home=home, env=env).returncode == 0

    garbage = os.urandom(8192)
    (home / damaged).write_bytes(garbage)
    for command in (["search", "kingfisher ferry"], ["index"]):
        broken = run_cli(*command, home=home, env=env)
        assert broken.returncode == 2, broken.stdout + broken.stderr
        message = " ".join(broken.stderr.split())
        assert "damaged" in message and "index --rebuild" in message and "Traceback" not in broken.stderr

    rebuilt = run_cli("index", "--rebuild", home=home, env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "could not be opened" in rebuilt.stderr and "│ 1 " in rebuilt.stdout
    kept = [p for p in (home / damaged).parent.parent.rglob("*.damaged-*") if p.is_file() or p.is_dir()]
    assert kept, "the damaged part is kept beside the new one"
    kept_file = kept[0] if kept[0].is_file() else kept[0] / Path(damaged).name
    assert kept_file.read_bytes() == garbage

    found = run_cli("search", "kingfisher ferry", home=home, env=env)
    assert found.returncode == 0, found.stderr
    assert "ferry.md" in found.stdout


# -- `index` in this process with the fake embedder: what a run takes and keeps ------------------


@pytest.fixture
def index_cli(home, monkeypatch):
    """Run `icb-assistant index ...` in this process, embedding with FakeEmbeddings (quick)."""
    from typer.testing import CliRunner

    import assistant.components
    from assistant.cli import app
    from tests.conftest import FakeEmbeddings

    monkeypatch.setattr(assistant.components, "make_embeddings", lambda settings: FakeEmbeddings())
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str):
        result = CliRunner().invoke(app, ["index", *args], catch_exceptions=False)
        result.said = " ".join(result.output.split())  # the output without the console's line wrapping
        return result

    return run


def indexed_docs(home: Path) -> dict[str, tuple]:
    import sqlite3

    db = sqlite3.connect(home / "index" / "catalog.sqlite3")
    try:
        return {doc: (title, kind, state) for doc, title, kind, state in
                db.execute("SELECT doc, title, kind, state FROM documents")}
    finally:
        db.close()


def add_upload(home: Path) -> None:
    """A document added in the web app: in <home>/uploads with its manifest entry, indexed as an upload is."""
    import json

    from assistant.components import open_indexer
    from assistant.config import load_settings
    from tests.conftest import FakeEmbeddings

    uploads = home / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "ferry-note.md").write_text("# Ferry\n\nThe kingfisher ferry carries patients across the Walney channel.\n")
    (uploads / "manifest.json").write_text(json.dumps([{"file": "ferry-note.md", "title": "Kingfisher ferry pilot",
                                                        "kind": "uploaded"}]))
    indexer = open_indexer(load_settings(), embeddings=FakeEmbeddings())
    try:
        assert indexer.run([uploads / "ferry-note.md"], prune=False).indexed == ["ferry-note.md"]
    finally:
        indexer.catalog.close()


def test_index_rebuild_keeps_the_documents_uploaded_in_the_app(home, tmp_path, index_cli):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "plan.md").write_text("# Plan\n\nThe plan for urgent care.\n")
    assert index_cli(str(folder)).exit_code == 0
    add_upload(home)

    plain = index_cli(str(folder))  # pruning keeps uploads: their files are still there
    assert plain.exit_code == 0, plain.output
    assert indexed_docs(home)["ferry-note.md"] == ("Kingfisher ferry pilot", "uploaded", "complete")

    rebuilt = index_cli(str(folder), "--rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert indexed_docs(home) == {"plan.md": ("Plan", "", "complete"),
                                  "ferry-note.md": ("Kingfisher ferry pilot", "uploaded", "complete")}


def test_index_skips_links_out_of_the_folder_and_the_apps_own_files(home, tmp_path, index_cli):
    home.mkdir(parents=True)
    users = home / "ui-users.txt"
    users.write_text("alice:$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo\n")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "plan.md").write_text("# Plan\n\nThe plan for urgent care.\n")
    (folder / "users.txt").symlink_to(users)

    result = index_cli(str(folder))
    assert result.exit_code == 0, result.output
    assert set(indexed_docs(home)) == {"plan.md"}
    assert f"{folder / 'users.txt'}: a link to {users}, outside the folder being indexed" in result.said

    direct = index_cli(str(users))
    assert set(indexed_docs(home)) == {"plan.md"}
    assert f"{users}: this is the assistant's own data, which is never indexed" in direct.said


def test_a_commands_failure_code_is_the_process_exit_code(tmp_path):
    """A command ends with `typer.Exit(1)` (index with nothing indexable, the evaluation gate on a
    regression): `main()`, the installed entry point, must exit with it, not 0. Click returns the
    code instead of exiting when it is not in standalone mode, and a CI gate would then pass."""
    result = run_cli_here("index", str(tmp_path / "missing.txt"), home=tmp_path / "home")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "no such file or folder" in " ".join(result.stderr.split())


# -- what `chat` and `ask` print while an LLM writes ---------------------------------------------


def streamed_to_console(monkeypatch, events: list) -> str:
    """What the terminal shows (standard error, where answers stream) for these engine events."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    import assistant.cli as cli

    shown = io.StringIO()
    monkeypatch.setattr(cli, "errors", Console(file=shown, width=200))
    engine = SimpleNamespace(answerer=SimpleNamespace(uses_llm=True), stream=lambda *args, **kwargs: iter(events))
    final = cli._stream_to_console(engine, "Beds?", [], "staff", None)
    assert final is events[-1].answer
    return shown.getvalue()


def test_the_quotes_show_at_once_then_the_models_answer_below_them(monkeypatch):
    from assistant.answers import QUOTED_HEADING, Answer, Event

    shown = streamed_to_console(monkeypatch, [
        Event("sources"), Event("quoted", text="Two wards will close [1]."),
        Event("token", text="Beds close"), Event("token", text=" in 2026 [1]."),
        Event("answer", answer=Answer(status="answered", answer="Beds close in 2026 [1].")),
    ])
    assert shown.index(QUOTED_HEADING) < shown.index("Two wards will close [1].") < shown.index("Model's answer:")
    assert shown.index("Model's answer:") < shown.index("Beds close in 2026 [1].")


def test_when_the_model_fails_the_quotes_are_not_called_its_answer(monkeypatch):
    from assistant.answers import QUOTED_HEADING, Answer, Event

    shown = streamed_to_console(monkeypatch, [
        Event("quoted", text="Two wards will close [1]."), Event("notice", text="The model is down."),
        Event("reset"), Event("token", text="Two wards will close [1]."),
        Event("answer", answer=Answer(status="answered", answer="Two wards will close [1].")),
    ])
    assert QUOTED_HEADING in shown and "Model's answer:" not in shown


def test_ask_lists_the_sentences_to_check_with_their_reasons(monkeypatch):
    import io

    from rich.console import Console

    import assistant.cli as cli
    from assistant.answers import Answer
    from assistant.support import SentenceSupport

    shown = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=shown, width=200))
    cli._print_answer(Answer(status="answered", answer="Beds close in 2026 [1]. It costs £9bn [1].", sentences=[
        SentenceSupport("Beds close in 2026 [1].", (1,), "supported"),
        SentenceSupport("It costs £9bn [1].", (1,), "unsupported", "£9bn is not in [1]."),
    ]))
    text = shown.getvalue()
    assert "⚠ 1 sentence to check against the sources" in text
    assert "⚠ not supported: “It costs £9bn [1].” – £9bn is not in [1]." in text and "Beds close in 2026 [1]. It" in text


def test_ask_batch_reads_every_line_before_answering_and_names_a_bad_history(tmp_path):
    import json

    batch, out = tmp_path / "questions.jsonl", tmp_path / "answers.jsonl"
    lines = [{"id": "a", "question": "What is the deficit?", "history": []},
             {"id": "b", "question": "And the year after?", "history": [{"role": "user", "content": "Cancer plans?"},
                                                                       {"role": "assistant", "content": "…"}]},
             {"id": "c", "question": "And after that?", "history": [{"role": "user"}]}]
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = run_cli_here("ask", "--backend", "extractive", "--batch", str(batch), "--out", str(out),
                          home=tmp_path / "home", env={"COLUMNS": "300"})
    assert result.returncode == 2, (result.stdout, result.stderr)
    said = " ".join(result.stderr.split())
    assert f"{batch}, line 3: Turn 1 of the conversation history cannot be read" in said
    assert "Traceback" not in said and "Unexpected error" not in said
    assert not out.exists()  # nothing answered, nothing half written
