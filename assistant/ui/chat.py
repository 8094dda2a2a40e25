"""The Ask tab: chat for staff, with the sources panel, search limits and ratings.

Its handlers are module functions that take the app's ``Services`` first (``respond`` streams an
answer into the conversation); ``chat_tab`` lays the tab out and wires them to Gradio.
"""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from assistant import sources_view
from assistant.answers import QUOTED_HEADING, Answer, Source
from assistant.engine import Assistant, Event, understood_as
from assistant.feedback import from_answer
from assistant.retrieval import Filters
from assistant.ui.services import EXAMPLES, LOG, PRIVATE, Services, bind, official_records, searchable_records
from assistant.ui.style import callout, md, notice_box, with_support_marks
from index.catalog import DocumentRecord
from index.vectors import VectorStoreError

# -- messages --------------------------------------------------------------------------------------


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
        parts.append(with_support_marks(answer.answer, answer.sentences))
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


def streaming_message(text: str, notices: list[str], rewritten: str, question: str, quoted: str = "") -> str:
    """The message while an answer is written: the text so far; before the model's first token,
    the ``quoted`` extractive answer marked as quotes from the documents."""
    parts = []
    if rewrite := understood_as(question, rewritten):
        parts.append(f"*Understood as: {md(rewrite)}*")
    parts += [notice_box(n) for n in notices]
    if text:
        parts.append(md(text))
    elif quoted:
        parts.append(quoted_message(quoted))
    else:
        parts.append("*Writing the answer…*")
    return "\n\n".join(parts)


def quoted_message(text: str) -> str:
    """The quotes shown while the model writes: the marking, then the quotes as a block quote."""
    return f"*{QUOTED_HEADING}*\n\n" + "\n".join(f"> {line}" for line in md(text).splitlines())


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


# -- "Limit the search" ----------------------------------------------------------------------------


def document_choices(records: list[DocumentRecord]) -> list[tuple[str, str]]:
    return [(f"{r.title} ({r.date})" if r.date else r.title, r.doc) for r in records]


def kind_choices(records: list[DocumentRecord]) -> list[str]:
    return sorted({r.kind for r in records if r.kind})


def filter_updates(services: Services, request: gr.Request | None, docs=None, kinds=None) -> tuple:
    """New choices for "Limit the search" (documents, kinds): what this user's questions may use,
    keeping whichever of the chosen ``docs`` and ``kinds`` are still there."""
    records = searchable_records(services, request)
    doc_names, kind_names = {r.doc for r in records}, kind_choices(records)
    return (gr.update(choices=document_choices(records), value=[d for d in docs or [] if d in doc_names]),
            gr.update(choices=kind_names, value=[k for k in kinds or [] if k in kind_names]))


# -- handlers --------------------------------------------------------------------------------------


def respond(services: Services, text, messages, earlier, done, docs, kinds, date_from, date_to,
            request: gr.Request) -> Iterator:
    """Answer a question into the conversation, streaming. Yields (question box, messages, sources
    panel, earlier questions, answered turns); ``done`` holds one dict per answered question."""
    assistant = services.assistant
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
    streamed, quoted, notices, rewritten, final = "", "", [], "", None
    reading = gr.update()  # the sources panel of the passages an LLM reads
    for event in safe_stream(assistant, text, list(earlier), chosen):
        panel = gr.update()
        if event.kind == "rewritten":
            rewritten = event.text
        elif event.kind == "sources":
            # an LLM takes seconds to start: show what it reads meanwhile (extractive answers come at once)
            if assistant.answerer.uses_llm:
                reading = sources_view.render_sources("", [], list(event.sources), status="searching")
                yield gr.update(), messages, reading, earlier, done
            continue
        elif event.kind == "quoted":  # the quotes, and their sources, until the model's first token
            quoted = event.text
            panel = sources_view.render_sources(quoted, list(event.sources), status="quoted")
        elif event.kind == "token":
            if quoted:
                panel = reading
            streamed, quoted = streamed + event.text, ""  # the model's answer replaces the quotes
        elif event.kind == "notice":
            notices.append(event.text)
        elif event.kind == "reset":
            streamed = ""
        elif event.kind == "answer":
            final = event.answer
            continue
        messages[-1] = {"role": "assistant", "content": streaming_message(streamed, notices, rewritten, text, quoted)}
        yield gr.update(), messages, panel, earlier, done
    assert final is not None
    messages[-1] = {"role": "assistant", "content": chat_message(final, text)}
    turn = {"question": text, "history": list(earlier), "answer": final, "message": len(messages) - 1}
    earlier = list(earlier) + ([text] if final.status != "error" else [])
    panel = sources_view.render_sources(final.answer, final.citations, final.contexts, final.status)
    yield gr.update(), messages, panel, earlier, list(done) + [turn]


def use_example(event: gr.SelectData):
    value = event.value
    return value.get("text", "") if isinstance(value, dict) else str(value)


def show_sources(done, event: gr.SelectData):
    index = event.index if isinstance(event.index, int) else (event.index[0] if event.index else -1)
    for turn in done:
        if turn["message"] in (index, index + 1):
            answer = turn["answer"]
            return sources_view.render_sources(answer.answer, answer.citations, answer.contexts, answer.status)
    return gr.update()


def clear():
    return [], [], [], sources_view.placeholder(), "", gr.update(visible=False), None


def rate(services: Services, done, event: gr.LikeData, request: gr.Request):
    if event.liked not in (True, False):
        return gr.update(), gr.update(), None
    turn = next((t for t in done if t["message"] == event.index), None)
    if turn is None:
        return gr.update(), gr.update(), None
    rating = "up" if event.liked else "down"
    saved = turn.get("feedback_id")  # rated before in this conversation: the rating changes, no second row
    if saved is None or not services.feedback.set_rating(saved, rating):
        item = from_answer(rating, turn["question"], turn["history"], turn["answer"], user=services.user(request))
        saved = services.feedback.add(item)
        turn["feedback_id"] = saved  # in place: the session's own turn, as Gradio keeps it
    thanks = "Thanks: marked as helpful." if rating == "up" else "Thanks: marked as not helpful."
    return gr.update(visible=True), f"{thanks} Rating saved for: *{md(turn['question'])}*", saved


def keep_comment(services: Services, saved, text):
    if saved is None:
        return gr.update(), "Rate an answer first (the thumbs under it)."
    if not (text or "").strip():
        return gr.update(), "Type a comment first."
    services.feedback.set_comment(saved, text)  # added to any earlier comment on it, never replacing it
    return "", "Comment saved with your rating. Thank you."


# -- the tab ---------------------------------------------------------------------------------------


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

    answer = bind(respond, services)
    outputs = [question, chatbot, sources, history, turns]
    inputs = [question, chatbot, history, turns, doc_filter, kind_filter, since, until]
    limit = assistant.answerer.concurrency
    # the chat shows its own "Searching the documents…": no spinner overlays (they cost the browser dearly)
    answering = dict(concurrency_id="answer", concurrency_limit=limit, show_progress="hidden", **PRIVATE)
    send.click(answer, inputs, outputs, **answering)
    # the same event for HTTP clients (the load test, scripts): the browser's path, under an API name,
    # kept out of the API docs; sign-in guards it like every other event
    question.submit(answer, inputs, outputs, **dict(answering, api_visibility="undocumented", api_name="chat"))
    chatbot.example_select(use_example, None, question, **PRIVATE).then(answer, inputs, outputs, **answering)
    chatbot.select(show_sources, turns, sources, **PRIVATE)

    cleared = [chatbot, history, turns, sources, question, feedback_box, rating_id]
    new_chat.click(clear, None, cleared, **PRIVATE)
    chatbot.clear(clear, None, cleared, **PRIVATE)  # the chat's own bin button
    chatbot.like(bind(rate, services), turns, [feedback_box, feedback_note, rating_id], **PRIVATE)
    save_comment.click(bind(keep_comment, services), [rating_id, comment], [comment, feedback_note], **PRIVATE)
    return {"docs": doc_filter, "kinds": kind_filter}
