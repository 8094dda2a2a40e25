"""The web UI (Gradio Blocks): chat for staff, FAQ drafting for the public engagement team,
the documents in the index, and feedback export.

    build_app(assistant, settings) -> gr.Blocks     # the app, for tests or mounting
    serve(settings, host, port)                     # what `icb-assistant ui` runs

Offline by design: no analytics, no update check, no share link, system fonts only. Everything
shown from a document, a user or a model is escaped (see ``md`` and ``sources_view``).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_TELEMETRY_ENABLED", "False")


class _SkipGradioStubs(importlib.abc.MetaPathFinder):
    """On import, Gradio re-reads and parses the source of each of its ~80 components to refresh
    their .pyi type stubs: half its import time (18 of 36 s measured on 2 busy cores). The app never
    needs the stubs, so that step becomes a no-op; nothing else about Gradio changes."""

    def find_spec(self, name, path=None, target=None):
        if name != "gradio.component_meta":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module) -> None:
            run(module)
            if hasattr(module, "create_or_modify_pyi"):
                module.create_or_modify_pyi = lambda *args, **kwargs: None

        spec.loader.exec_module = exec_module
        return spec


if "gradio" not in sys.modules:
    sys.meta_path.insert(0, _SkipGradioStubs())

import atexit
import dataclasses
import html
import logging
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from assistant import faq, sources_view, uploads
from assistant.answers import Answer, Source
from assistant.audit import AuditLog, audit_path
from assistant.auth import UserDirectory
from assistant.config import Settings
from assistant.engine import Assistant, Event, understood_as
from assistant.feedback import FeedbackStore, feedback_path, from_answer
from assistant.retrieval import Filters
from assistant.uploads import UploadError, add_to_manifest, free_name, may_remove, may_replace, remove_from_manifest
from index.catalog import DocumentRecord
from index.documents import Provenance
from assistant.signin import SignIn, SignInLimiter
from assistant.web_guard import SessionTokens, SignInGuard
from index.vectors import VectorStoreError

LOG = logging.getLogger("icb_assistant.ui")
APP_TITLE = "ICB Strategy Assistant"
EXAMPLES = [
    "What are the urgent and emergency care priorities for 2025/26?",
    "What is the ICB's financial position?",
    "What will change for community services by 2030?",
    "What are the plans for cancer services?",
]
UPLOAD_TYPES = [".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"]
MAX_UPLOAD_NAME = 120
NHS_BLUE = "#005EB8"
PRIVATE = {"api_visibility": "private"}  # every event is for this page only: none is a public API endpoint

CSS = f"""
.gradio-container {{ max-width: 1400px !important; }}
#icb-header {{ background: {NHS_BLUE}; color: #fff; padding: 14px 20px; border-radius: 6px; }}
#icb-header h1 {{ color: #fff; margin: 0; font-size: 1.5rem; }}
#icb-header p {{ color: #e8f1fa; margin: 4px 0 0 0; }}
#icb-header a {{ color: #fff; }}
.icb-sources h3 {{ margin: 0 0 4px 0; font-size: 1.05rem; }}
.icb-sources .icb-note {{ color: #4c6272; margin: 0 0 8px 0; font-size: 0.9rem; }}
.icb-source {{ border: 1px solid #d8dde0; border-left: 4px solid {NHS_BLUE}; border-radius: 4px;
               margin: 0 0 8px 0; background: #fff; }}
.icb-source summary {{ cursor: pointer; padding: 8px 12px; list-style: none; }}
.icb-source summary::-webkit-details-marker {{ display: none; }}
.icb-source .icb-toggle {{ display: block; color: {NHS_BLUE}; font-size: 0.85rem; margin-top: 2px;
                           text-decoration: underline; }}
.icb-source .icb-toggle::before {{ content: "Show the passage"; }}
.icb-source[open] .icb-toggle::before {{ content: "Hide the passage"; }}
.icb-source .icb-n {{ font-weight: 700; color: {NHS_BLUE}; }}
.icb-source .icb-title {{ font-weight: 600; }}
.icb-source .icb-where {{ display: block; color: #4c6272; font-size: 0.88rem; }}
.icb-source .icb-origin {{ display: block; color: #4c6272; font-size: 0.82rem; }}
.icb-source.icb-uploaded {{ border-left-color: #ffb81c; }}
.icb-source.icb-uploaded .icb-origin {{ color: #7a4b00; font-weight: 600; }}
.icb-passage {{ white-space: pre-wrap; padding: 8px 12px; border-top: 1px solid #eef0f1; font-size: 0.92rem;
                line-height: 1.45; max-height: 420px; overflow-y: auto; }}
.icb-passage mark {{ background: #fff3a3; padding: 0 1px; }}
.icb-meta {{ color: #6b7c87; font-size: 0.8rem; padding: 0 12px 8px 12px; }}
.icb-empty {{ color: #4c6272; border: 1px dashed #c4cbd0; border-radius: 6px; padding: 12px; }}
#icb-feedback-note p {{ margin: 0; }}
.icb-table * {{ font-family: var(--font) !important; }}
.icb-callout {{ border-radius: 4px; padding: 10px 12px; margin: 4px 0; border-left: 6px solid; }}
.icb-callout strong {{ display: block; margin-bottom: 2px; }}
.icb-unanswerable {{ background: #fff9e6; border-color: #ffb81c; color: #212b32; }}
.icb-error {{ background: #fdecea; border-color: #d5281b; color: #212b32; }}
.icb-notice {{ background: #eef7ff; border-color: {NHS_BLUE}; color: #212b32; font-size: 0.92rem; }}
.icb-notice strong {{ display: inline; margin-right: 4px; }}
"""


def theme() -> gr.themes.Base:
    """NHS blue, system fonts only (nothing fetched from a font server)."""
    return gr.themes.Default(
        primary_hue=gr.themes.colors.blue,
        font=("Arial", "Helvetica", "system-ui", "sans-serif"),
        font_mono=("ui-monospace", "Consolas", "monospace"),
    ).set(button_primary_background_fill=NHS_BLUE, button_primary_background_fill_hover="#003d78")


# -- escaping ------------------------------------------------------------------------------------


def md(text: str) -> str:
    """Text for a Markdown message: HTML escaped, images and links disarmed; emphasis and lists kept."""
    text = html.escape(text or "", quote=False)
    text = text.replace("![", "!\\[").replace("](", "]\\(")
    return text


# -- chat rendering --------------------------------------------------------------------------------


def callout(kind: str, heading: str, text: str) -> str:
    """A coloured box in a chat message (HTML; heading and text escaped)."""
    return (f'<div class="icb-callout {kind}"><strong>{html.escape(heading)}</strong>'
            f'<span>{html.escape(text)}</span></div>')


def notice_box(text: str) -> str:
    return callout("icb-notice", "Note:", text)


def chat_message(answer: Answer, question: str) -> str:
    """The assistant's message for a finished answer (Markdown, escaped)."""
    parts: list[str] = []
    if rewrite := understood_as(question, answer.rewritten_question):
        parts.append(f"*Understood as: {md(rewrite)}*")
    parts += [notice_box(notice) for notice in answer.notices]
    if answer.status == "unanswerable":
        parts.append(callout("icb-unanswerable", "Not covered by the documents", answer.answer))
    elif answer.status == "error":
        parts.append(callout("icb-error", "Could not answer", answer.answer))
    else:
        parts.append(md(answer.answer))
        if answer.citations:
            parts.append("**Sources**  \n" + "  \n".join(source_line(s) for s in answer.citations))
    return "\n\n".join(parts)


def source_line(source: Source) -> str:
    """'[1] Title — Section, page 4 · official' for the list under an answer (Markdown, escaped);
    an upload says so: '· uploaded by alice on 2026-12-02 (not yet published)'."""
    where = f" — {md(source.section)}" if source.section else ""
    page = f", page {source.page}" if source.page else ""
    origin = md(source.provenance.describe())
    return f"[{source.n}] {md(source.title)}{where}{page} · {origin if source.provenance.official else f'**{origin}**'}"


def streaming_message(text: str, notices: list[str], rewritten: str, question: str) -> str:
    parts = []
    if rewrite := understood_as(question, rewritten):
        parts.append(f"*Understood as: {md(rewrite)}*")
    parts += [notice_box(n) for n in notices]
    parts.append(md(text) if text else "*Writing the answer…*")
    return "\n\n".join(parts)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def safe_stream(assistant: Assistant, question: str, history: list[str], filters: Filters | None) -> Iterator:
    """assistant.stream, but a failure ends in an error answer (logged), never a stack trace on screen."""
    try:
        yield from assistant.stream(question, history=history, audience="staff", filters=filters)
    except VectorStoreError as exc:  # the document store is down or missing: its message says what to do
        LOG.warning("answering failed: %s", exc)
        yield Event("answer", answer=Answer(status="error", answer=str(exc), backend=assistant.backend))
    except Exception as exc:  # noqa: BLE001 - the user gets a message; the log gets the details
        LOG.exception("answering failed")
        message = (f"Something went wrong while answering ({exc.__class__.__name__}). Try again; "
                   "if it keeps happening, tell the administrator.")
        yield Event("answer", answer=Answer(status="error", answer=message, backend=assistant.backend))


# -- the app's services ----------------------------------------------------------------------------


@dataclass
class Services:
    """What the handlers share: the assistant, feedback store, folders and sign-in state."""

    assistant: Assistant
    settings: Settings
    feedback: FeedbackStore
    sign_in: bool
    exports_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="icb-assistant-exports-")))
    index_lock: threading.Lock = field(default_factory=threading.Lock)
    audit: AuditLog | None = None
    indexing_note: str = ""  # what start-up indexing is doing, shown in the Documents tab
    accounts: UserDirectory | None = None  # the users file, read again when it changes

    def __post_init__(self) -> None:
        if self.audit is None:
            self.audit = AuditLog(audit_path(self.settings))
        atexit.register(shutil.rmtree, self.exports_dir, ignore_errors=True)  # exports never outlive the app
        if self.accounts is None:
            self.accounts = UserDirectory(self.settings)

    @property
    def uploads_dir(self) -> Path:
        return self.settings.uploads_dir

    def allowed(self, request: gr.Request | None) -> bool:
        """May this request upload or export? Anyone without sign-in; signed-in users with it."""
        return (not self.sign_in) or bool(request is not None and getattr(request, "username", None))

    def user(self, request: gr.Request | None) -> str:
        return (getattr(request, "username", None) or "") if request is not None else ""

    def address(self, request: gr.Request | None) -> str:
        """The client's address, for the audit log ("" when unknown)."""
        client = getattr(request, "client", None) if request is not None else None
        return str(getattr(client, "host", "") or "")

    def is_admin(self, request: gr.Request | None) -> bool:
        """May this request publish documents and remove anyone's? Without sign-in the app has one
        (local) user, who is its administrator; with sign-in, users marked ``admin`` in the users file."""
        if not self.sign_in:
            return True
        name = self.user(request)
        account = self.accounts.get(name) if name else None
        return bool(account is not None and account.admin)


def official_records(assistant: Assistant) -> list[DocumentRecord]:
    """The complete official documents: what every user sees (the page's first state, before it loads)."""
    return [r for r in assistant.indexer.catalog.documents() if r.state == "complete" and r.provenance.official]


def searchable_records(services: Services, request: gr.Request | None) -> list[DocumentRecord]:
    """The complete documents this request's questions may use: official ones and the user's own uploads."""
    user = services.user(request)
    return [r for r in services.assistant.indexer.catalog.documents()
            if r.state == "complete" and r.provenance.visible_to(user)]


def listed_records(services: Services, request: gr.Request | None) -> list[DocumentRecord]:
    """The documents the Documents tab lists: every one for an administrator (to review, publish or
    remove), else the ones this user's questions may use."""
    if services.is_admin(request):
        return [r for r in services.assistant.indexer.catalog.documents() if r.state == "complete"]
    return searchable_records(services, request)


def document_rows(records: list[DocumentRecord]) -> list[list]:
    return [[r.title, r.date or "–", r.kind or "–", r.provenance.describe(), r.chunks, r.doc] for r in records]


def document_choices(records: list[DocumentRecord]) -> list[tuple[str, str]]:
    return [(f"{r.title} ({r.date})" if r.date else r.title, r.doc) for r in records]


def kind_choices(records: list[DocumentRecord]) -> list[str]:
    return sorted({r.kind for r in records if r.kind})


def action_choices(services: Services, request: gr.Request | None) -> list[tuple[str, str]]:
    """The documents this user may publish or remove: any for an administrator, else their own uploads."""
    user, admin = services.user(request), services.is_admin(request)
    return [(f"{r.title} · {r.doc} · {r.provenance.describe()}", r.doc) for r in listed_records(services, request)
            if may_remove(r, user, admin)]


def filter_updates(services: Services, request: gr.Request | None, docs=None, kinds=None) -> tuple:
    """New choices for "Limit the search" (documents, kinds): what this user's questions may use,
    keeping whichever of the chosen ``docs`` and ``kinds`` are still there."""
    records = searchable_records(services, request)
    doc_names, kind_names = {r.doc for r in records}, kind_choices(records)
    return (gr.update(choices=document_choices(records), value=[d for d in docs or [] if d in doc_names]),
            gr.update(choices=kind_names, value=[k for k in kinds or [] if k in kind_names]))


# -- uploads -------------------------------------------------------------------------------------


def safe_file_name(name: str) -> str:
    """A file name fit for <home>/uploads: no folders, no '..', no odd characters, extension kept."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = base.replace("..", ".").strip().strip(".")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^\w-]+", "-", stem)  # spaces and punctuation become single dashes
    stem = re.sub(r"-{2,}", "-", stem).strip("-_")[:MAX_UPLOAD_NAME] or "document"
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def original_name(path: str) -> str:
    return Path(path).name


# -- the app ---------------------------------------------------------------------------------------


def build_app(assistant: Assistant, settings: Settings, sign_in: bool = False) -> gr.Blocks:
    """The whole UI. ``sign_in``: whether serve() puts a sign-in page in front of it."""
    services = Services(assistant, settings, FeedbackStore(feedback_path(settings)), sign_in)
    # files made for download are copied into Gradio's cache: forget them after a day
    with gr.Blocks(title=APP_TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.HTML(
            f'<div id="icb-header"><h1>{APP_TITLE}</h1><p>Answers from NHS Lancashire and South Cumbria ICB '
            "strategy documents, with the sources to check them against.</p></div>",
            padding=False,
            js_on_load=None,
        )
        signed_in = gr.Markdown("", visible=False, elem_id="icb-signed-in")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                filters = chat_tab(services)
            with gr.Tab("FAQ drafting", id="faq"):
                faq_tab(services)
            with gr.Tab("Documents", id="documents"):
                documents_hook = documents_tab(services, filters)
            with gr.Tab("Feedback", id="feedback"):
                feedback_hook = feedback_tab(services)

        def who(request: gr.Request):
            name = services.user(request)
            if not services.sign_in or not name:
                return gr.update(visible=False)
            return gr.update(value=f"Signed in as **{md(name)}** · [Sign out](/logout)", visible=True)

        demo.load(who, None, signed_in, **PRIVATE)
        for hook, outputs in (documents_hook, feedback_hook):
            demo.load(hook, None, outputs, **PRIVATE)
    demo.services = services  # serve() closes them; tests look inside
    return demo


def chat_tab(services: Services) -> dict:
    assistant = services.assistant
    turns = gr.State([])  # one dict per answered question: question, history, answer, message index
    history = gr.State([])  # earlier questions of this conversation (for follow-ups)
    rating_id = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="Conversation",
                show_label=False,
                elem_id="icb-chat",
                height=560,
                buttons=["copy", "copy_all"],
                feedback_options=("Like", "Dislike"),
                allow_tags=False,
                latex_delimiters=[],
                placeholder=(
                    "<h3>Ask about the ICB's strategy documents</h3>"
                    "<p>Answers come only from the documents, with numbered sources. Try an example:</p>"
                ),
                examples=[{"text": q} for q in EXAMPLES],
                layout="panel",
            )
            with gr.Row():
                question = gr.Textbox(
                    show_label=False, placeholder="Type a question, e.g. What are the priorities for primary care?",
                    scale=5, lines=1, max_lines=5, elem_id="icb-question", autofocus=True, submit_btn=False,
                )
                send = gr.Button("Send", variant="primary", scale=1, elem_id="icb-send", min_width=90)
            with gr.Row():
                new_chat = gr.Button("New conversation", size="sm", elem_id="icb-new", scale=0, min_width=170)
                gr.Markdown(
                    "Follow-up questions use the conversation. Rate an answer with the thumbs under it.",
                    elem_classes=["icb-hint"],
                )
            with gr.Column(visible=False, elem_id="icb-feedback", variant="panel") as feedback_box:
                feedback_note = gr.Markdown("", elem_id="icb-feedback-note")
                comment = gr.Textbox(
                    label="Add a comment (optional): what was good, wrong or missing?", lines=2,
                    elem_id="icb-comment",
                )
                save_comment = gr.Button("Save comment", size="sm", elem_id="icb-save-comment", scale=0, min_width=140)
        with gr.Column(scale=2):
            with gr.Accordion("Limit the search", open=False, elem_id="icb-filters"):
                doc_filter = gr.Dropdown(
                    choices=document_choices(official_records(assistant)), multiselect=True, label="Documents",
                    info="Leave empty to search them all.", elem_id="icb-doc-filter",
                )
                kind_filter = gr.Dropdown(choices=kind_choices(official_records(assistant)), multiselect=True,
                                          label="Kinds of document", elem_id="icb-kind-filter")
                with gr.Row():
                    since = gr.Textbox(label="Dated from", placeholder="e.g. 2024", max_lines=1)
                    until = gr.Textbox(label="Dated up to", placeholder="e.g. 2025-06", max_lines=1)
            sources = gr.HTML(sources_view.placeholder(), elem_id="icb-sources", label="Sources", js_on_load=None,
                              max_height=720)

    def respond(text, messages, earlier, done, docs, kinds, date_from, date_to, request: gr.Request) -> Iterator:
        text = (text or "").strip()
        if not text:
            yield gr.update(), gr.update(), gr.update(), earlier, done
            return
        messages = list(messages or []) + [
            {"role": "user", "content": md(text)},
            {"role": "assistant", "content": "*Searching the documents…*"},
        ]
        yield "", messages, gr.update(), earlier, done
        chosen = Filters(docs=list(docs or []), kinds=list(kinds or []), date_from=(date_from or "").strip(),
                         date_to=(date_to or "").strip(), user=services.user(request))
        streamed, notices, rewritten, final = "", [], "", None
        for event in safe_stream(assistant, text, list(earlier), chosen):
            if event.kind == "rewritten":
                rewritten = event.text
            elif event.kind == "sources":
                # an LLM takes seconds to start: show what it reads meanwhile (extractive answers come at once)
                if assistant.backend != "extractive":
                    found = sources_view.render_sources("", [], list(event.sources), status="searching")
                    yield gr.update(), messages, found, earlier, done
                continue
            elif event.kind == "token":
                streamed += event.text
            elif event.kind == "notice":
                notices.append(event.text)
            elif event.kind == "reset":
                streamed = ""
            elif event.kind == "answer":
                final = event.answer
                continue
            messages[-1] = {"role": "assistant", "content": streaming_message(streamed, notices, rewritten, text)}
            yield gr.update(), messages, gr.update(), earlier, done
        assert final is not None
        messages[-1] = {"role": "assistant", "content": chat_message(final, text)}
        turn = {"question": text, "history": list(earlier), "answer": final, "message": len(messages) - 1}
        earlier = list(earlier) + ([text] if final.status != "error" else [])
        panel = sources_view.render_sources(final.answer, final.citations, final.contexts, final.status)
        yield gr.update(), messages, panel, earlier, list(done) + [turn]

    outputs = [question, chatbot, sources, history, turns]
    inputs = [question, chatbot, history, turns, doc_filter, kind_filter, since, until]
    limit = 1 if assistant.backend == "local" else 4
    # the chat shows its own "Searching the documents…": no spinner overlays (they cost the browser dearly)
    answering = dict(concurrency_id="answer", concurrency_limit=limit, show_progress="hidden", **PRIVATE)
    send.click(respond, inputs, outputs, **answering)
    # the same event for HTTP clients (the load test, scripts): the browser's path, under an API name,
    # kept out of the API docs; sign-in guards it like every other event
    question.submit(respond, inputs, outputs, **dict(answering, api_visibility="undocumented", api_name="chat"))

    def use_example(event: gr.SelectData):
        value = event.value
        return value.get("text", "") if isinstance(value, dict) else str(value)

    chatbot.example_select(use_example, None, question, **PRIVATE).then(respond, inputs, outputs, **answering)

    def show_sources(done, event: gr.SelectData):
        index = event.index if isinstance(event.index, int) else (event.index[0] if event.index else -1)
        for turn in done:
            if turn["message"] in (index, index + 1):
                answer = turn["answer"]
                return sources_view.render_sources(answer.answer, answer.citations, answer.contexts, answer.status)
        return gr.update()

    chatbot.select(show_sources, turns, sources, **PRIVATE)

    def clear():
        return [], [], [], sources_view.placeholder(), "", gr.update(visible=False), None

    cleared = [chatbot, history, turns, sources, question, feedback_box, rating_id]
    new_chat.click(clear, None, cleared, **PRIVATE)
    chatbot.clear(clear, None, cleared, **PRIVATE)  # the chat's own bin button

    def rate(done, event: gr.LikeData, request: gr.Request):
        if event.liked not in (True, False):
            return gr.update(), gr.update(), None
        turn = next((t for t in done if t["message"] == event.index), None)
        if turn is None:
            return gr.update(), gr.update(), None
        rating = "up" if event.liked else "down"
        item = from_answer(rating, turn["question"], turn["history"], turn["answer"], user=services.user(request))
        saved = services.feedback.add(item)
        thanks = "Thanks: marked as helpful." if rating == "up" else "Thanks: marked as not helpful."
        return gr.update(visible=True), f"{thanks} Rating saved for: *{md(turn['question'])}*", saved

    chatbot.like(rate, turns, [feedback_box, feedback_note, rating_id], **PRIVATE)

    def keep_comment(saved, text):
        if saved is None:
            return gr.update(), "Rate an answer first (the thumbs under it)."
        if not (text or "").strip():
            return gr.update(), "Type a comment first."
        services.feedback.set_comment(saved, text)
        return "", "Comment saved with your rating. Thank you."

    save_comment.click(keep_comment, [rating_id, comment], [comment, feedback_note], **PRIVATE)
    return {"docs": doc_filter, "kinds": kind_filter}


# -- FAQ drafting ----------------------------------------------------------------------------------

FAQ_HEADERS = ["#", "Question", "Status", "Reading ease", "Approved"]
STATUS_WORDS = {"answered": "Drafted", "unanswerable": "Not in the documents", "error": "Could not draft",
                "pending": "Waiting"}


def faq_rows(drafts: list[faq.Draft]) -> list[list]:
    rows = []
    for number, draft in enumerate(drafts, start=1):
        score = draft.reading_ease
        ease = "–" if score is None else f"{score:.0f} ({faq.reading_label(score)})"
        status = STATUS_WORDS.get(draft.status, draft.status) + (", edited" if draft.edited else "")
        rows.append([number, draft.question, status, ease, "Yes" if draft.approved else ""])
    return rows


def faq_choices(drafts: list[faq.Draft]) -> list[tuple[str, int]]:
    return [(f"{i}. {d.question[:90]}", i - 1) for i, d in enumerate(drafts, start=1)]


def draft_details(draft: faq.Draft | None) -> tuple[str, str, str]:
    """(answer text, reading-ease line, sources HTML) for the editor."""
    if draft is None:
        return "", "", sources_view.placeholder("Pick a draft to see its sources.")
    score = draft.reading_ease
    if score is None:
        reading = ""
    else:
        verdict = ("plain English, good for the public" if score >= 60
                   else "harder than plain English: shorter sentences and everyday words help")
        reading = f"**Reading ease {score:.0f}** / 100 ({faq.reading_label(score)}): {verdict}."
    if draft.status == "unanswerable":
        reading = ("**Not in the documents.** The documents don't answer this: write the answer yourself "
                   "or drop the question. " + reading)
    if draft.citations:
        panel = sources_view.render_sources(draft.answer, draft.citations, [], draft.status)
    else:
        panel = sources_view.placeholder("This draft cites no sources.")
    return draft.answer, reading, panel


def faq_tab(services: Services) -> None:
    assistant = services.assistant
    drafts_state = gr.State([])
    gr.Markdown(
        "Paste questions from the public (one a line) or upload a list. Each answer is drafted in plain English "
        "for the public, with its sources. **Check every draft against its sources before you publish it.**"
    )
    with gr.Row():
        pasted = gr.Textbox(label="Questions, one a line", lines=6, scale=3, elem_id="icb-faq-questions",
                            placeholder="Will my local A&E stay open?\nHow do I register with a GP?")
        question_file = gr.File(label="…or upload a .txt (one a line) or .csv (a 'question' column)",
                                file_types=[".txt", ".csv"], type="filepath", scale=2, elem_id="icb-faq-file")
    with gr.Row():
        draft_button = gr.Button("Draft answers", variant="primary", elem_id="icb-faq-draft", scale=0, min_width=180)
        clear_button = gr.Button("Clear all drafts", size="sm", scale=0, min_width=150)
        faq_status = gr.Markdown("", elem_id="icb-faq-status")
    table = gr.Dataframe(headers=FAQ_HEADERS, value=[], interactive=False, wrap=True, elem_id="icb-faq-table",
                         elem_classes=["icb-table"], label="Drafts (click a row to review it)",
                         column_widths=["6%", "50%", "16%", "16%", "12%"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            pick = gr.Dropdown(choices=[], label="Draft to review", elem_id="icb-faq-pick", value=None)
            editor = gr.Textbox(label="Answer (edit freely; keep the [1], [2] source numbers)", lines=8,
                                elem_id="icb-faq-editor")
            reading = gr.Markdown("", elem_id="icb-faq-reading")
            with gr.Row():
                save = gr.Button("Save edit", elem_id="icb-faq-save")
                regenerate = gr.Button("Regenerate (loses edits)", elem_id="icb-faq-regenerate")
                approve = gr.Button("Approve", variant="primary", elem_id="icb-faq-approve")
        with gr.Column(scale=2):
            draft_sources = gr.HTML(sources_view.placeholder("Pick a draft to see its sources."),
                                    elem_id="icb-faq-sources", js_on_load=None)
    with gr.Accordion("Export", open=True):
        with gr.Row():
            scope = gr.Radio(["Approved answers only", "All drafted answers"], value="Approved answers only",
                             label="Which answers", elem_id="icb-faq-scope")
            title = gr.Textbox(label="Document title", value="Frequently asked questions", max_lines=1)
            export = gr.Button("Make Word, Markdown and CSV files", elem_id="icb-faq-export", variant="primary")
        export_note = gr.Markdown("")
        files = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="icb-faq-files",
                        visible=False)

    def ask_public(question: str, request: gr.Request | None) -> faq.Draft:
        """A draft from the documents this user's questions may use (official and their own uploads)."""
        try:
            chosen = Filters(user=services.user(request))
            return faq.draft_from_answer(question, assistant.ask(question, audience="public", filters=chosen))
        except Exception as exc:  # noqa: BLE001 - one failed draft must not lose the others
            LOG.exception("drafting failed")
            failed = f"Could not draft this answer ({exc.__class__.__name__}). Try Regenerate."
            return faq.Draft(question, failed, "error")

    def draft_all(text, upload, drafts, request: gr.Request, progress=gr.Progress()):
        try:
            questions = faq.parse_questions(text or "")
            if upload:
                questions += [q for q in faq.read_question_file(Path(upload)) if q not in questions]
        except faq.QuestionListError as exc:
            return drafts, gr.update(), gr.update(), f"**Could not read the questions:** {md(str(exc))}"
        known = {d.question for d in drafts}
        drafts = list(drafts) + [faq.Draft(q) for q in questions if q not in known]
        waiting = [i for i, d in enumerate(drafts) if d.status == "pending"]
        if not waiting:
            return drafts, faq_rows(drafts), gr.update(), "Paste or upload some new questions first."
        started = time.perf_counter()
        for index in progress.tqdm(waiting, desc="Drafting answers"):
            drafts[index] = ask_public(drafts[index].question, request)
        took = time.perf_counter() - started
        first = waiting[0]
        return (drafts, faq_rows(drafts), gr.update(choices=faq_choices(drafts), value=first),
                f"Drafted {plural(len(waiting), 'answer')} in {took:.0f} s. Review each one below.")

    draft_button.click(draft_all, [pasted, question_file, drafts_state], [drafts_state, table, pick, faq_status],
                       concurrency_id="answer", concurrency_limit=1 if assistant.backend == "local" else 2, **PRIVATE)

    def clear_all():
        return [], [], gr.update(choices=[], value=None), "", *draft_details(None), gr.update(value=None, visible=False)

    cleared = [drafts_state, table, pick, faq_status, editor, reading, draft_sources, files]
    clear_button.click(clear_all, None, cleared, **PRIVATE)

    def show(index, drafts):
        draft = drafts[index] if isinstance(index, int) and 0 <= index < len(drafts) else None
        text, line, panel = draft_details(draft)
        label = "Withdraw approval" if draft is not None and draft.approved else "Approve"
        return text, line, panel, gr.update(value=label)

    pick.change(show, [pick, drafts_state], [editor, reading, draft_sources, approve], **PRIVATE)

    def row_clicked(drafts, event: gr.SelectData):
        row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        return row if isinstance(row, int) and 0 <= row < len(drafts) else gr.update()

    table.select(row_clicked, drafts_state, pick, **PRIVATE)

    def save_edit(index, text, drafts):
        if not isinstance(index, int) or not 0 <= index < len(drafts):
            return drafts, gr.update(), gr.update(), "Pick a draft first."
        drafts = list(drafts)
        draft = drafts[index]
        if text != draft.answer:
            drafts[index] = dataclasses.replace(draft, answer=text, edited=True)
        return drafts, faq_rows(drafts), draft_details(drafts[index])[1], f"Saved draft {index + 1}."

    save.click(save_edit, [pick, editor, drafts_state], [drafts_state, table, reading, faq_status], **PRIVATE)

    def toggle_approval(index, text, drafts):
        drafts, rows, line, note = save_edit(index, text, drafts)
        if not isinstance(index, int) or not 0 <= index < len(drafts):
            return drafts, rows, line, note, gr.update()
        if drafts[index].status not in ("answered", "unanswerable"):
            return drafts, rows, line, "Only a drafted answer can be approved.", gr.update()
        draft = dataclasses.replace(drafts[index], approved=not drafts[index].approved)
        drafts[index] = draft
        state = "approved" if draft.approved else "no longer approved"
        label = "Withdraw approval" if draft.approved else "Approve"
        return drafts, faq_rows(drafts), line, f"Draft {index + 1} is {state}.", gr.update(value=label)

    approve.click(toggle_approval, [pick, editor, drafts_state], [drafts_state, table, reading, faq_status, approve],
                  **PRIVATE)

    def redo(index, drafts, request: gr.Request, progress=gr.Progress()):
        if not isinstance(index, int) or not 0 <= index < len(drafts):
            return drafts, gr.update(), gr.update(), gr.update(), gr.update(), "Pick a draft first.", gr.update()
        progress(0, desc="Drafting the answer again")
        drafts = list(drafts)
        drafts[index] = ask_public(drafts[index].question, request)
        text, line, panel = draft_details(drafts[index])
        again = f"Drafted answer {index + 1} again."
        return drafts, faq_rows(drafts), text, line, panel, again, gr.update(value="Approve")

    redone = [drafts_state, table, editor, reading, draft_sources, faq_status, approve]
    regenerate.click(redo, [pick, drafts_state], redone, concurrency_id="answer", **PRIVATE)

    def make_files(which, heading, drafts, request: gr.Request):
        chosen = faq.selected(drafts, approved_only=which.startswith("Approved"))
        if not chosen:
            hint = ("Approve some answers first, or choose “All drafted answers”." if which.startswith("Approved")
                    else "Draft some answers first.")
            return gr.update(value=None, visible=False), f"Nothing to export. {hint}"
        folder = Path(tempfile.mkdtemp(dir=services.exports_dir))
        stem = f"faq-{date.today().isoformat()}"
        paths = faq.write_exports(chosen, folder, stem=stem, title=(heading or "").strip() or faq.DEFAULT_TITLE)
        services.audit.record("export", user=services.user(request), address=services.address(request),
                              what="faq", rows=len(chosen))
        files_made = [str(p) for p in paths]
        note = f"{plural(len(chosen), 'answer')} exported: download the files below."
        return gr.update(value=files_made, visible=True), note

    export.click(make_files, [scope, title, drafts_state], [files, export_note], **PRIVATE)


# -- documents -------------------------------------------------------------------------------------

DOC_HEADERS = ["Title", "Date", "Kind", "Source", "Passages", "File"]


def documents_tab(services: Services, filters: dict) -> tuple[Callable, list]:
    assistant = services.assistant
    gr.Markdown("The documents the assistant answers from. Add your own below: they can be asked about straight away "
                "(with sign-in, by you alone until an administrator publishes them).")
    table = gr.Dataframe(headers=DOC_HEADERS, value=document_rows(official_records(assistant)), interactive=False,
                         wrap=True, elem_classes=["icb-table"],
                         elem_id="icb-docs-table", label="Indexed documents",
                         column_widths=["34%", "9%", "13%", "18%", "7%", "19%"])
    with gr.Group(visible=not services.sign_in, elem_id="icb-upload") as upload_box:
        gr.Markdown("### Add documents\nPDF, Word (.docx), web page (.html), Markdown or text. "
                    "Scanned PDFs without a text layer cannot be read.")
        uploads_box = gr.File(label="Files to add", file_count="multiple", file_types=UPLOAD_TYPES, type="filepath",
                              elem_id="icb-upload-files", height=150)
        with gr.Row():
            title = gr.Textbox(label="Title (optional; one file at a time)", max_lines=1)
            when = gr.Textbox(label="Date (optional, e.g. 2025-03)", max_lines=1)
            kind = gr.Textbox(label="Kind (optional, e.g. board paper)", max_lines=1)
        add = gr.Button("Add to the index", variant="primary", elem_id="icb-upload-add")
    result = gr.Markdown("", elem_id="icb-upload-result")
    note = gr.Markdown("", elem_id="icb-indexing-note")
    signed_out = gr.Markdown("Sign in to add documents.", visible=False)
    with gr.Group(visible=not services.sign_in, elem_id="icb-doc-actions") as actions_box:
        gr.Markdown("### Publish or remove a document\nYou can remove your own uploads; an administrator can "
                    "remove any document, and publish an upload: it becomes official, for every user's questions.")
        target = gr.Dropdown(choices=[], value=None, label="Document", elem_id="icb-doc-target")
        with gr.Row():
            publish = gr.Button("Publish", elem_id="icb-doc-publish", visible=not services.sign_in)
            remove = gr.Button("Remove", variant="stop", elem_id="icb-doc-remove")
        action_result = gr.Markdown("", elem_id="icb-doc-action-result")

    def refreshed(request: gr.Request | None, docs, kinds) -> tuple:
        """The table, the search filters and the action list as this user now sees them."""
        return (document_rows(listed_records(services, request)), *filter_updates(services, request, docs, kinds),
                gr.update(choices=action_choices(services, request), value=None))

    def add_files(paths, doc_title, doc_date, doc_kind, docs, kinds, request: gr.Request, progress=gr.Progress()):
        unchanged = (gr.update(), gr.update(), gr.update(), gr.update())
        if not services.allowed(request):
            return "Only signed-in users can add documents.", *unchanged, gr.update()
        if not paths:
            return "Choose one or more files first.", *unchanged, gr.update()
        paths = [paths] if isinstance(paths, str) else list(paths)
        messages = upload_files(services, paths, doc_title if len(paths) == 1 else "", doc_date, doc_kind, progress,
                                request=request)
        return messages, *refreshed(request, docs, kinds), None

    listing = [table, filters["docs"], filters["kinds"], target]
    add.click(add_files, [uploads_box, title, when, kind, filters["docs"], filters["kinds"]],
              [result, *listing, uploads_box], concurrency_id="index", concurrency_limit=1, **PRIVATE)

    def publish_chosen(doc, docs, kinds, request: gr.Request):
        return publish_document(services, doc, request), *refreshed(request, docs, kinds)

    def remove_chosen(doc, docs, kinds, request: gr.Request):
        return remove_document(services, doc, request), *refreshed(request, docs, kinds)

    acting = [target, filters["docs"], filters["kinds"]]
    publish.click(publish_chosen, acting, [action_result, *listing], concurrency_id="index", **PRIVATE)
    remove.click(remove_chosen, acting, [action_result, *listing], concurrency_id="index", **PRIVATE)

    def on_load(request: gr.Request):
        allowed = services.allowed(request)
        return (gr.update(visible=allowed), gr.update(visible=not allowed), gr.update(visible=allowed),
                gr.update(visible=services.is_admin(request)), services.indexing_note, *refreshed(request, [], []))

    return on_load, [upload_box, signed_out, actions_box, publish, note, *listing]


def forget_upload(path: str) -> None:
    """Delete the copy Gradio kept of a refused upload (only a file in Gradio's upload folder)."""
    from gradio.utils import get_upload_folder

    received = Path(path).resolve()
    if received.is_relative_to(Path(get_upload_folder()).resolve()):
        received.unlink(missing_ok=True)


def publish_document(services: Services, doc: str | None, request: gr.Request | None) -> str:
    """An administrator makes an upload official: every user's questions may use it. A Markdown report."""
    if not services.allowed(request):
        return "Only signed-in users can publish documents."
    if not doc:
        return "Choose a document first."
    if not services.is_admin(request):
        return "**Could not publish**: only an administrator can publish a document. Ask one to review it."
    user = services.user(request)
    with services.index_lock:
        try:
            record = uploads.publish(services.assistant.indexer, services.uploads_dir, doc, by=user)
        except UploadError as exc:
            return f"**Could not publish**: {md(str(exc))}"
    services.audit.record("publish", user=user, address=services.address(request), file=doc, title=record.title)
    return f"**Published {md(record.title)}** ({md(doc)}): it is official now, and every user's questions can use it."


def remove_document(services: Services, doc: str | None, request: gr.Request | None) -> str:
    """Remove a document: users their own unpublished uploads, administrators any. A Markdown report."""
    if not services.allowed(request):
        return "Only signed-in users can remove documents."
    if not doc:
        return "Choose a document first."
    user, admin = services.user(request), services.is_admin(request)
    with services.index_lock:
        record = services.assistant.indexer.catalog.document(doc)
        if record is None or not (admin or record.provenance.visible_to(user)):  # another's upload stays unseen
            return f"**Could not remove {md(doc)}**: it is not in the index."
        if not may_remove(record, user, admin):
            return (f"**Could not remove {md(record.title)}**: it is official, and only an administrator can remove "
                    "an official document.")
        try:
            uploads.remove(services.assistant.indexer, services.uploads_dir, doc)
        except (UploadError, VectorStoreError) as exc:
            LOG.warning("removing %s failed: %s", doc, exc)
            return f"**Could not remove {md(doc)}**: {md(str(exc))}"
    services.audit.record("remove", user=user, address=services.address(request), file=doc, title=record.title)
    kept = ("" if uploads.is_upload(record, services.uploads_dir) else
            " Its file was not uploaded here and stays where it is: indexing its folder again would add it back.")
    return f"**Removed {md(record.title)}** ({md(doc)}) from the index.{kept}"


def upload_files(
    services: Services, paths: list[str], title: str, when: str, kind: str, progress: Callable | None = None,
    request: gr.Request | None = None,
) -> str:
    """Save uploads into <home>/uploads under safe names and index them; a Markdown report.

    Each is the uploader's own: only their questions use it until an administrator publishes it.
    A name already taken (by an earlier file of this upload, another user's upload, a published
    one, or any file in the folder) gets the first free one, ``report-2.pdf``, ``report-3.pdf``...:
    only the uploader's own unpublished upload of that name is replaced."""
    folder = services.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    user = services.user(request)
    indexed = {r.doc: r for r in services.assistant.indexer.catalog.documents()}
    taken = set(indexed) | {p.name for p in folder.iterdir()}
    saved: list[Path] = []
    received: dict[str, str] = {}  # saved name: the file Gradio received
    renamed: dict[str, str] = {}  # saved name -> the name it came with
    lines: list[str] = []
    for path in paths:
        name = safe_file_name(original_name(path))
        if Path(name).suffix.lower() not in UPLOAD_TYPES:
            lines.append(f"**Could not add {md(original_name(path))}**: not a supported type "
                         "(PDF, DOCX, HTML, Markdown or text).")
            forget_upload(path)
            continue
        known = indexed.get(name)
        if known is not None and not uploads.is_upload(known, folder):
            lines.append(f"**Could not add {md(name)}**: a document with this file name is already indexed "
                         f"({md(known.title)}). Rename the file and add it again.")
            forget_upload(path)
            continue
        if name in taken and not (may_replace(known, user) and all(t.name != name for t in saved)):
            wanted, name = name, free_name(name, taken)
            renamed[name] = wanted
        target = folder / name
        target.write_bytes(Path(path).read_bytes())
        add_to_manifest(folder, name, title, when, kind, Provenance("uploaded", user, uploads.now()))
        saved.append(target)
        received[target.name] = path
        taken.add(name)
    if saved:
        with services.index_lock:
            def report_progress(step: int, total: int, doc: str | None) -> None:
                if progress is not None and total:
                    progress(step / total, desc=f"Indexing {doc}" if doc else "Finishing")

            try:
                report = services.assistant.indexer.run(saved, progress=report_progress, prune=False,
                                                        finish_pending=False)
            except VectorStoreError as exc:  # the document store is down: keep nothing half-added
                for target in saved:
                    if target.name not in indexed:
                        target.unlink(missing_ok=True)
                        remove_from_manifest(folder, target.name)
                LOG.warning("upload indexing failed: %s", exc)
                return "\n\n".join(lines + [f"**Could not add the files**: {md(str(exc))} Nothing was changed."])
        failed = {Path(p).name: reason for p, reason in report.failed}
        who = "you alone can ask about it until an administrator publishes it" if services.sign_in else "ready to ask about"
        for target in saved:
            if target.name in failed:
                target.unlink(missing_ok=True)
                remove_from_manifest(folder, target.name)
                forget_upload(received[target.name])
                reason = md(failed[target.name])
                lines.append(f"**Could not add {md(target.name)}**: {reason}. Nothing else was changed.")
            elif target.name in report.skipped:
                lines.append(f"**{md(target.name)}** is already in the index, unchanged.")
            else:
                record = services.assistant.indexer.catalog.document(target.name)
                chunks = record.chunks if record else 0
                was = renamed.get(target.name)
                note = f" (another document is named {md(was)}, so this one is saved as {md(target.name)})" if was else ""
                lines.append(f"**Added {md(target.name)}**{note}: {plural(chunks, 'passage')}, {who}.")
                services.audit.record("upload", user=user, address=services.address(request), file=target.name,
                                      title=record.title if record else "")
    return "\n\n".join(lines) or "Nothing was added."


# -- feedback --------------------------------------------------------------------------------------


RECENT_HEADERS = ["Time (UTC)", "Rating", "Question", "Comment", "User"]


def recent_feedback(store: FeedbackStore, limit: int = 20) -> list[list]:
    rows = store.rows()[-limit:][::-1]
    return [[r["time"].replace("T", " ")[:16], "Helpful" if r["rating"] == "up" else "Not helpful",
             r["question"], r["comment"], r["user"] or "–"] for r in rows]


def feedback_tab(services: Services) -> tuple[Callable, list]:
    gr.Markdown(
        "Ratings given with the thumbs up / down under answers in **Ask** are stored with the question, the "
        "conversation, the answer and its sources, so the answers can be checked and improved. Export them as a CSV "
        "file for a spreadsheet or the evaluation (`eval-drafts`)."
    )
    count = gr.Markdown("", elem_id="icb-feedback-count")
    recent = gr.Dataframe(headers=RECENT_HEADERS, value=[], interactive=False, wrap=True, elem_id="icb-feedback-table",
                          elem_classes=["icb-table"], label="Latest ratings",
                          column_widths=["14%", "10%", "44%", "24%", "8%"])
    with gr.Column(visible=not services.sign_in) as export_box:
        export = gr.Button("Export all feedback as CSV", elem_id="icb-feedback-export", variant="primary", scale=0,
                           min_width=260)
        download = gr.File(label="Download", interactive=False, elem_id="icb-feedback-file", visible=False)
    signed_out = gr.Markdown("Sign in to export feedback.", visible=False)

    def make_csv(request: gr.Request):
        if not services.allowed(request):
            return gr.update(visible=False), "Only signed-in users can export feedback."
        folder = Path(tempfile.mkdtemp(dir=services.exports_dir))
        path = folder / f"feedback-{date.today().isoformat()}.csv"
        rows = services.feedback.export_csv(path)
        services.audit.record("export", user=services.user(request), address=services.address(request),
                              what="feedback", rows=rows)
        return gr.update(value=str(path), visible=True), f"{plural(rows, 'rating')} exported: download the file below."

    export.click(make_csv, None, [download, count], **PRIVATE)

    def on_load(request: gr.Request):
        allowed = services.allowed(request)
        total = services.feedback.count()
        return (gr.update(visible=allowed), gr.update(visible=not allowed), f"{plural(total, 'rating')} so far.",
                recent_feedback(services.feedback))

    return on_load, [export_box, signed_out, count, recent]


# -- serving ---------------------------------------------------------------------------------------


def warm_up(assistant: Assistant, log: Callable[[str], None]) -> None:
    """Load the search models and start the local model now, so the first question does not wait."""
    started = time.perf_counter()
    try:  # the embedding model, vector store, keyword index, tokenizer and caches, before anyone asks
        assistant.ask(EXAMPLES[0], backend="extractive")
        log(f"Search is ready ({time.perf_counter() - started:.1f} s).")
    except Exception as exc:
        log(f"Search warm-up failed ({exc.__class__.__name__}: {exc}).")
    if assistant.backend != "local":
        return
    started = time.perf_counter()
    try:
        assistant.start_model()
        log(f"The local model is ready ({time.perf_counter() - started:.0f} s).")
    except Exception as exc:  # the first question will try again and fall back to extractive with a notice
        log(f"The local model did not start ({exc.__class__.__name__}: {exc}); answers fall back to quotations.")


def finish_interrupted(services: Services, log: Callable[[str], None]) -> None:
    """Finish the documents an interrupted upload (or a killed index run) left half-written: run at
    start-up in the background, under the lock uploads take, never inside someone's request. While
    it runs the Documents tab says so."""

    def progress(step: int, total: int, doc: str | None) -> None:
        if doc is None:
            return
        what = f"Finishing {plural(total, 'document')} left by an interrupted upload"
        if step == 0:
            log(what + "…")
        services.indexing_note = f"{what} ({step} of {total} done)…"

    with services.index_lock:
        try:
            report = services.assistant.indexer.finish_pending(progress)
        except Exception as exc:  # the index is still usable; the next `icb-assistant index` finishes them
            LOG.exception("finishing interrupted indexing failed")
            log(f"Could not finish the interrupted upload ({exc.__class__.__name__}: {exc}).")
            return
        finally:
            services.indexing_note = ""
    if report.indexed or report.removed or report.failed:
        failed = "".join(f"; could not index {Path(path).name}: {reason}" for path, reason in report.failed)
        log(f"Finished the interrupted upload: {plural(len(report.indexed), 'document')} indexed, "
            f"{len(report.removed)} removed{failed}.")


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    backend: str | None = None,
    users: dict[str, str] | None = None,
    log: Callable[..., None] = print,
) -> None:
    """Run the web UI until interrupted (what `icb-assistant ui` does). Never shares a public link.
    Any ``users`` (from the settings) put the sign-in page in front of it (see ``sign_in_options``)."""
    host = host or settings.ui_host
    port = port or settings.ui_port
    assistant = Assistant(settings, backend=backend)
    threading.Thread(target=warm_up, args=(assistant, log), daemon=True, name="warm-up").start()
    demo = build_app(assistant, settings, sign_in=bool(users))
    threading.Thread(target=finish_interrupted, args=(demo.services, log), daemon=True, name="finish-pending").start()
    demo.queue(default_concurrency_limit=2)
    shown = f"[{host}]" if ":" in host else host
    if threading.current_thread() is threading.main_thread():  # `kill` stops the app as Ctrl-C does, tidying up
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    log(f"ICB Strategy Assistant: open http://{shown}:{port} in your browser "
        f"({assistant.backend} answers{', sign-in on' if users else ''}). Ctrl-C stops it.")
    sessions, options = sign_in_options(demo.services, log) if users else (None, {})
    try:
        demo.launch(
            server_name=host,
            server_port=port,
            share=False,
            inbrowser=False,
            show_error=False,
            quiet=True,
            footer_links=[],
            max_file_size="200mb",
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
            enable_monitoring=False,
            theme=theme(),
            css=CSS,
            prevent_thread_lock=True,
            **options,
        )
        if sessions is not None:
            demo.server_app.tokens = sessions  # Gradio's table of sign-in tokens, now with a lifetime
        demo.block_thread()
    finally:
        demo.services.feedback.close()
        shutil.rmtree(demo.services.exports_dir, ignore_errors=True)
        assistant.close()


def sign_in_options(services: Services, log: Callable[..., None]) -> tuple[SessionTokens, dict]:
    """Gradio's sign-in page checked against the users file as it is now, with wrong passwords
    limited (``signin``), sessions that expire, same-site sign-in only and each user's page state
    their own (``web_guard``)."""
    settings = services.settings
    limiter = SignInLimiter.from_settings(settings)
    check = SignIn(services.accounts, limiter, services.audit, log).check
    sessions = SessionTokens.from_settings(services.accounts, settings)
    message = (f"Sign in with the user name and password you were given. After "
               f"{settings.ui_signin_max_failures} wrong passwords a user name is locked for "
               f"{settings.ui_signin_lockout_minutes:g} minutes.")
    guard = Middleware(SignInGuard, sessions=sessions, log=log)
    return sessions, {"auth": check, "auth_message": message, "app_kwargs": {"middleware": [guard]}}
