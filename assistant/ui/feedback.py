"""The Feedback tab: the latest ratings given in the Ask tab, and their export as CSV (the store
itself is ``assistant.feedback``'s). ``feedback_tab`` lays the tab out and wires the handlers,
module functions that take the app's ``Services`` first."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import gradio as gr

from assistant.feedback import FeedbackStore
from assistant.ui.services import PRIVATE, Services, bind, plural

RECENT_HEADERS = ["Time (UTC)", "Rating", "Question", "Comment", "User"]


def whose(services: Services, request: gr.Request | None) -> str | None:
    """Whose ratings this request may see and export: an administrator everyone's (None), a user
    only their own (a rating carries its question, answer and sources, which may quote the user's
    unpublished uploads)."""
    return None if services.is_admin(request) else services.user(request)


def recent_feedback(store: FeedbackStore, limit: int = 20, user: str | None = None) -> list[list]:
    rows = store.rows(user)[-limit:][::-1]
    return [[r["time"].replace("T", " ")[:16], "Helpful" if r["rating"] == "up" else "Not helpful",
             r["question"], r["comment"], r["user"] or "–"] for r in rows]


def make_csv(services: Services, request: gr.Request):
    if not services.allowed(request):
        return gr.update(visible=False), "Only signed-in users can export feedback."
    folder = Path(tempfile.mkdtemp(dir=services.exports_dir))
    path = folder / f"feedback-{date.today().isoformat()}.csv"
    rows = services.feedback.export_csv(path, whose(services, request))
    services.audit.record("export", user=services.user(request), address=services.address(request),
                          what="feedback", rows=rows)
    return gr.update(value=str(path), visible=True), f"{plural(rows, 'rating')} exported: download the file below."


def on_load(services: Services, request: gr.Request):
    allowed, user = services.allowed(request), whose(services, request)
    total = services.feedback.count(user)
    so_far = f"{plural(total, 'rating')} so far" + ("." if user is None else " of yours (an administrator sees everyone's).")
    return (gr.update(visible=allowed), gr.update(visible=not allowed), so_far,
            recent_feedback(services.feedback, user=user))


def feedback_tab(services: Services) -> tuple[Callable, list]:
    """The tab; returns its page-load handler and that handler's outputs."""
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
        export = gr.Button("Export feedback as CSV", elem_id="icb-feedback-export", variant="primary", scale=0,
                           min_width=260)
        download = gr.File(label="Download", interactive=False, elem_id="icb-feedback-file", visible=False)
    signed_out = gr.Markdown("Sign in to export feedback.", visible=False)
    export.click(bind(make_csv, services), None, [download, count], **PRIVATE)
    return bind(on_load, services), [export_box, signed_out, count, recent]
