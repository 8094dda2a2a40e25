"""The web UI's pieces without a browser: escaping, upload names, uploads indexed, the app builds."""

from __future__ import annotations

from copy import deepcopy
from types import SimpleNamespace

import pytest

from assistant.answers import Answer, Source
from tests.conftest import FakeEmbeddings

ui = pytest.importorskip("assistant.ui")
import gradio as gr  # noqa: E402 - after the check that gradio is installed
from assistant.ui import chat, documents, style  # noqa: E402
from assistant.ui.services import Services  # noqa: E402
from index.uploads import safe_file_name  # noqa: E402


@pytest.mark.parametrize(
    "given, expected",
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\evil.PDF", "evil.pdf"),
        ("/abs/path/My Board Paper (final).docx", "My-Board-Paper-final.docx"),
        (".hidden.md", "hidden.md"),
        ("a..b.md", "a-b.md"),
        ("....", "document"),
        ("<script>x</script>.html", "script.html"),  # the '/' starts a folder name: dropped
        ("Café plan 2025.txt", "Café-plan-2025.txt"),
    ],
)
def test_upload_names_are_sanitised(given, expected):
    name = safe_file_name(given)
    assert name == expected
    assert "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")


def test_markdown_text_is_escaped_and_images_disarmed():
    text = style.md('<img src=x onerror=alert(1)> ![t](http://evil.example/x.png) [l](javascript:alert(1)) **bold**')
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "![" not in text and "](" not in text
    assert "**bold**" in text


def source(n: int = 1) -> Source:
    return Source(n=n, doc="d.txt", title="<b>Plan</b>", section="5 > Urgent", page=3, text="t", start=0, end=1)


def test_chat_messages_for_each_status():
    answered = chat.chat_message(Answer(status="answered", answer="Beds <b>close</b> [1].", citations=[source()],
                                      notices=["The language model is unavailable (x)"]), "Q?")
    assert "Beds &lt;b&gt;close&lt;/b&gt; [1]." in answered
    assert "[1] &lt;b&gt;Plan&lt;/b&gt; — 5 &gt; Urgent, page 3" in answered
    assert 'class="icb-callout icb-notice"' in answered and "language model is unavailable" in answered
    refused = chat.chat_message(Answer(status="unanswerable", answer="The documents don't cover <this>."), "Q?")
    assert 'class="icb-callout icb-unanswerable"' in refused and "Not covered by the documents" in refused
    assert "&lt;this&gt;" in refused
    failed = chat.chat_message(Answer(status="error", answer="Empty."), "Q?")
    assert "Could not answer" in failed
    followed = chat.chat_message(Answer(status="answered", answer="A [1].", citations=[source()], rewritten_question="Full Q?"), "And?")
    assert "Understood as: Full Q?" in followed


# -- the chat loop, driven without a browser -------------------------------------------------------


class ScriptedAssistant:
    """Streams the events it is given (or raises ``fails``), and keeps what it was asked."""

    def __init__(self, events: list | None = None, backend: str = "openai", fails: Exception | None = None):
        from assistant.answerers import answerer_class

        self.events, self.backend, self.fails = events or [], backend, fails
        self.answerer = answerer_class(backend)  # what the UI reads of it: uses_llm, concurrency
        self.asked: list[dict] = []

    def stream(self, question, history, audience, filters):
        self.asked.append({"question": question, "history": history, "audience": audience, "filters": filters})
        if self.fails is not None:
            raise self.fails
        yield from self.events


@pytest.fixture
def chat_services(settings):
    from assistant.feedback import FeedbackStore, feedback_path

    def make(assistant: ScriptedAssistant) -> Services:
        made = Services(assistant, settings, FeedbackStore(feedback_path(settings)), sign_in=True)
        opened.append(made)
        return made

    opened: list[Services] = []
    yield make
    for made in opened:
        made.feedback.close()


ALICE = SimpleNamespace(username="alice", client=SimpleNamespace(host="127.0.0.9"))


def chat_steps(services: Services, *inputs) -> list[tuple]:
    """What the chat handler yields, each step as Gradio sends it then (the handler changes its lists in place)."""
    return [deepcopy(step) for step in chat.respond(services, *inputs, ALICE)]


def test_the_chat_handler_streams_an_answer_into_the_conversation(chat_services):
    from assistant import sources_view
    from assistant.engine import Event

    final = Answer(status="answered", answer="Beds <b>close</b> [1].", citations=[source()], contexts=[source()],
                   rewritten_question="What are the bed plans for 2026/27?")
    assistant = ScriptedAssistant([
        Event("rewritten", text=final.rewritten_question),
        Event("sources", sources=(source(),)),
        Event("token", text="Beds <b>close</b>"),
        Event("reset"),
        Event("notice", text="The language model is unavailable (x)"),
        Event("token", text="Beds <b>close</b> [1]."),
        Event("answer", answer=final),
    ])
    earlier = ["What are the bed plans?"]
    steps = chat_steps(chat_services(assistant), "  And for 2026/27?  ", [{"role": "user", "content": "Hi"}], earlier, [],
                       ["d.txt"], None, " 2024 ", "")

    asked = assistant.asked[0]
    assert (asked["question"], asked["history"], asked["audience"]) == ("And for 2026/27?", earlier, "staff")
    assert (asked["filters"].docs, asked["filters"].kinds, asked["filters"].date_from, asked["filters"].user) == (
        ["d.txt"], [], "2024", "alice")
    # at once: the question is cleared and shown (escaped), with a placeholder answer
    box, messages, panel, kept, done = steps[0]
    assert box == "" and kept == earlier and done == []
    assert messages[1:] == [{"role": "user", "content": "And for 2026/27?"},
                            {"role": "assistant", "content": "*Searching the documents…*"}]
    # an LLM's sources are shown while it writes
    searching = [step[2] for step in steps if isinstance(step[2], str)]
    assert searching[0] == sources_view.render_sources("", [], [source()], status="searching")
    # the answer grows, escaped, under "Understood as"; a reset starts it again; notices show
    written = [step[1][-1]["content"] for step in steps[1:-1]]
    assert any("Beds &lt;b&gt;close&lt;/b&gt;" in text and "[1]" not in text for text in written)
    assert all("Understood as: What are the bed plans for 2026/27?" in text for text in written)
    assert "language model is unavailable" in written[-1] and written[-1].count("Beds") == 1
    # the end: the finished message, its sources panel, the question kept for follow-ups, the turn for ratings
    box, messages, panel, kept, done = steps[-1]
    assert messages[-1] == {"role": "assistant", "content": chat.chat_message(final, "And for 2026/27?")}
    assert panel == sources_view.render_sources(final.answer, final.citations, final.contexts, final.status)
    assert kept == earlier + ["And for 2026/27?"]
    assert done == [{"question": "And for 2026/27?", "history": earlier, "answer": final, "message": 2}]


def test_the_chat_handler_shows_no_sources_early_for_extractive_answers(chat_services):
    from assistant.engine import Event

    final = Answer(status="answered", answer="Beds close [1].", citations=[source()], backend="extractive")
    assistant = ScriptedAssistant([Event("sources", sources=(source(),)), Event("answer", answer=final)],
                                  backend="extractive")
    steps = chat_steps(chat_services(assistant), "Beds?", [], [], [], [], [], "", "")
    assert [isinstance(step[2], str) for step in steps] == [False, True]  # only the finished answer's panel


def test_the_chat_handler_shows_the_quotes_at_once_then_the_models_answer_in_their_place(chat_services):
    from assistant.answers import QUOTED_HEADING
    from assistant.engine import Event

    from assistant import sources_view

    final = Answer(status="answered", answer="Beds close in 2026 [1].", citations=[source()], contexts=[source()])
    quoted = "Two <b>wards</b> will close [1].\n- Beds move [2]"
    assistant = ScriptedAssistant([
        Event("sources", sources=(source(),)),
        Event("quoted", text=quoted, sources=(source(1), source(2))),
        Event("token", text="Beds close"),
        Event("token", text=" in 2026 [1]."),
        Event("answer", answer=final),
    ])
    steps = chat_steps(chat_services(assistant), "Beds?", [], [], [], [], [], "", "")
    shown = [step[1][-1]["content"] for step in steps]
    assert shown[:2] == ["*Searching the documents…*"] * 2  # the question, then the sources panel
    quotes = shown[2]  # the first text: the quotes, marked as such, escaped, as a block quote
    assert QUOTED_HEADING in quotes and "> Two &lt;b&gt;wards&lt;/b&gt; will close [1]." in quotes
    assert "> - Beds move [2]" in quotes
    model = shown[3]  # the model's first token replaces them
    assert model == "Beds close" and "wards" not in model and QUOTED_HEADING not in model
    assert shown[-1] == chat.chat_message(final, "Beds?")
    # the sources panel: what the model reads, then the sources of the quotes, then what it reads again
    panels = [step[2] for step in steps[1:4]]
    reading = sources_view.render_sources("", [], [source()], status="searching")
    assert panels == [reading, sources_view.render_sources(quoted, [source(1), source(2)], status="quoted"), reading]
    assert "Sources of the quotes" in panels[1]


def test_the_chat_handler_turns_a_failure_into_a_message(chat_services):
    assistant = ScriptedAssistant(fails=RuntimeError("boom"))
    *_, (box, messages, panel, kept, done) = chat_steps(chat_services(assistant), "Beds?", [], ["Earlier?"], [], [], [],
                                                       "", "")
    assert "Could not answer" in messages[-1]["content"] and "(RuntimeError)" in messages[-1]["content"]
    assert "boom" not in messages[-1]["content"]  # no details of the failure on screen
    assert kept == ["Earlier?"]  # a failed question is not a follow-up's context
    assert done[0]["answer"].status == "error"


def test_the_chat_handler_ignores_an_empty_question(chat_services):
    assistant = ScriptedAssistant()
    steps = chat_steps(chat_services(assistant), "   ", [{"role": "user", "content": "Hi"}], ["Q?"], [], [], [], "", "")
    assert steps == [(gr.update(), gr.update(), gr.update(), ["Q?"], [])]
    assert assistant.asked == []


@pytest.fixture
def services(settings, corpus_copy):
    from assistant.engine import Assistant
    from assistant.feedback import FeedbackStore, feedback_path

    assistant = Assistant(settings, backend="extractive", embeddings=FakeEmbeddings())
    assistant.indexer.run([corpus_copy / "lsc-2030-roadmap-programme-timelines-2025.txt"])
    made = Services(assistant, settings, FeedbackStore(feedback_path(settings)), sign_in=False)
    yield made
    made.feedback.close()
    assistant.close()


def test_upload_indexes_good_files_and_reports_bad_ones(services, tmp_path):
    good = tmp_path / "in" / "Heron Plan.md"
    good.parent.mkdir()
    good.write_text("# Heron plan\n\nThe heron sanctuary opens in spring 2027 beside the estuary.\n", encoding="utf-8")
    bad = tmp_path / "in" / "broken.pdf"
    bad.write_bytes(b"not a pdf")
    odd = tmp_path / "in" / "notes.exe"
    odd.write_bytes(b"MZ")
    before = {r.doc for r in services.assistant.indexer.catalog.documents()}

    report = documents.upload_files(services, [str(good), str(bad), str(odd)], "Heron sanctuary plan", "2025-04", "plan")

    assert "Added Heron-Plan.md" in report and "1 passage" in report
    assert "Could not add broken.pdf" in report and "PDF" in report
    assert "Could not add notes.exe" in report
    uploads = services.uploads_dir
    assert (uploads / "Heron-Plan.md").is_file() and not (uploads / "broken.pdf").exists()
    record = services.assistant.indexer.catalog.document("Heron-Plan.md")
    assert (record.title, record.date, record.kind) == ("Heron sanctuary plan", "2025-04", "plan")
    assert before <= {r.doc for r in services.assistant.indexer.catalog.documents()}  # nothing lost
    answer = services.assistant.ask("When does the heron sanctuary open?")
    assert answer.status == "answered" and "2027" in answer.answer
    assert answer.citations[0].doc == "Heron-Plan.md"


def test_upload_while_the_document_store_is_down_keeps_nothing_half_added(services, tmp_path, monkeypatch):
    from index.vectors import VectorStoreError

    note = tmp_path / "kingfisher.md"
    note.write_text("# Kingfisher ferry\n\nThe kingfisher ferry runs on Sundays.\n", encoding="utf-8")

    def store_down(*args, **kwargs):
        raise VectorStoreError("The document store (the Chroma server at http://127.0.0.1:1) cannot be reached.")

    monkeypatch.setattr(services.assistant.indexer, "run", store_down)
    report = documents.upload_files(services, [str(note)], "", "", "")
    assert "Could not add the files" in report and "cannot be reached" in report and "Nothing was changed" in report
    assert not (services.uploads_dir / "kingfisher.md").exists()
    manifest = services.uploads_dir / "manifest.json"
    assert not manifest.exists() or "kingfisher" not in manifest.read_text()


def test_upload_never_replaces_a_document_from_elsewhere(services, tmp_path):
    clash = tmp_path / "lsc-2030-roadmap-programme-timelines-2025.txt"
    clash.write_text("Something else entirely.", encoding="utf-8")
    report = documents.upload_files(services, [str(clash)], "", "", "")
    assert "already indexed" in report
    assert "LSC2030" in services.assistant.indexer.catalog.document(clash.name).title


def test_two_files_with_one_name_in_one_upload_are_both_kept(services, tmp_path):
    texts = {"a": "# Otter survey\n\nThe otter survey counts otters on the Lune.\n",
             "b": "# Badger survey\n\nThe badger survey counts setts in Bowland.\n"}
    paths = []
    for folder, text in texts.items():
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.md").write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / folder / "report.md"))

    report = documents.upload_files(services, paths, "", "", "")

    assert "Added report.md" in report and "Added report-2.md" in report, report
    assert (services.uploads_dir / "report.md").read_text() == texts["a"]
    assert (services.uploads_dir / "report-2.md").read_text() == texts["b"]
    catalog = services.assistant.indexer.catalog
    assert catalog.document("report.md").title == "Otter survey" and catalog.document("report-2.md").title == "Badger survey"


def test_sign_in_gate(services):
    class Request:
        def __init__(self, username):
            self.username = username

    assert services.allowed(None) and services.allowed(Request(None))
    services.sign_in = True
    assert not services.allowed(None) and not services.allowed(Request(None))
    assert services.allowed(Request("alice"))


def test_the_app_builds(settings, corpus_copy):
    from assistant.engine import Assistant

    assistant = Assistant(settings, backend="extractive", embeddings=FakeEmbeddings())
    try:
        demo = ui.build_app(assistant, settings)
        assert demo.title == "ICB Strategy Assistant"
        assert (settings.home / "feedback.sqlite3").is_file()
        demo.services.feedback.close()
    finally:
        assistant.close()


def test_ui_command_help_and_options(tmp_path):
    from tests.cli_here import run_cli_here

    result = run_cli_here("ui", "--help", home=tmp_path)
    assert result.returncode == 0
    for option in ("--host", "--port", "--backend"):
        assert option in result.stdout
    listing = run_cli_here("--help", home=tmp_path).stdout
    for command in ("ui", "add-user", "feedback-export"):
        assert command in listing


def test_ui_settings_defaults(settings):
    assert (settings.ui_host, settings.ui_port, settings.ui_users_file, settings.ui_users) == ("127.0.0.1", 7860, None, None)


def test_config_command_hides_sign_in_users(tmp_path):
    from tests.cli_here import run_cli_here

    result = run_cli_here("config", home=tmp_path, env={"ICB_ASSISTANT_UI_USERS": "alice:scrypt$16384$8$1$aa$bb"})
    assert result.returncode == 0 and "ui_users" in result.stdout
    assert "scrypt$" not in result.stdout and "alice" not in result.stdout
