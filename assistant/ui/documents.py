"""The Documents tab: the documents in the index, adding uploads, publishing and removing.

Saving uploads, the uploads folder's manifest, publishing and removing are ``index.uploads``'s;
this module checks who may do what, takes the index lock, writes the reports and the audit log.
Its handlers are module functions that take the app's ``Services`` first; ``documents_tab`` lays
the tab out and wires them to Gradio.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from assistant.ui.chat import filter_updates
from assistant.ui.services import LOG, PRIVATE, Services, bind, listed_records, official_records, plural
from assistant.ui.style import md
from index import uploads
from index.catalog import DocumentRecord
from index.uploads import NAME_INDEXED, NOT_SAVED, UPLOAD_TYPES, Received, UploadError, may_remove
from index.vectors import VectorStoreError

DOC_HEADERS = ["Title", "Date", "Kind", "Source", "Passages", "File"]


def document_rows(records: list[DocumentRecord]) -> list[list]:
    return [[r.title, r.date or "–", r.kind or "–", r.provenance.describe(), r.chunks, r.doc] for r in records]


def action_choices(services: Services, request: gr.Request | None) -> list[tuple[str, str]]:
    """The documents this user may publish or remove: any for an administrator, else their own uploads."""
    user, admin = services.user(request), services.is_admin(request)
    return [(f"{r.title} · {r.doc} · {r.provenance.describe()}", r.doc) for r in listed_records(services, request)
            if may_remove(r, user, admin)]


def forget_upload(path: str) -> None:
    """Delete the copy Gradio kept of a refused upload (only a file in Gradio's upload folder)."""
    from gradio.utils import get_upload_folder

    received = Path(path).resolve()
    if received.is_relative_to(Path(get_upload_folder()).resolve()):
        received.unlink(missing_ok=True)


# -- actions ---------------------------------------------------------------------------------------


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
        try:  # the manifest first, then the catalogue: a failure leaves both as they were
            record = uploads.publish(services.assistant.indexer, services.uploads_dir, doc, by=user)
        except (UploadError, OSError) as exc:
            LOG.warning("publishing %s failed: %s", doc, exc)
            return f"**Could not publish {md(doc)}**: {md(str(exc))}"
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
        except (UploadError, VectorStoreError, OSError) as exc:  # undone: the document is as it was
            LOG.warning("removing %s failed: %s", doc, exc)
            return f"**Could not remove {md(doc)}**: {md(str(exc))}"
    services.audit.record("remove", user=user, address=services.address(request), file=doc, title=record.title)
    kept = ("" if uploads.is_upload(record, services.uploads_dir) else
            " Its file was not uploaded here and stays where it is: indexing its folder again would add it back.")
    return f"**Removed {md(record.title)}** ({md(doc)}) from the index.{kept}"


def refused_line(item: Received) -> str:
    """Why an upload was not saved (Markdown, escaped)."""
    if item.refused == NAME_INDEXED:
        return (f"**Could not add {md(item.name)}**: a document with this file name is already indexed "
                f"({md(item.clash.title)}). Rename the file and add it again.")
    if item.refused == NOT_SAVED:
        return f"**Could not add {md(Path(item.path).name)}**: {md(item.reason)}"
    return f"**Could not add {md(Path(item.path).name)}**: not a supported type (PDF, DOCX, HTML, Markdown or text)."


def upload_files(
    services: Services, paths: list[str], title: str, when: str, kind: str, progress: Callable | None = None,
    request: gr.Request | None = None,
) -> str:
    """Save uploads into <home>/uploads under safe names and index them (``index.uploads``); a
    Markdown report. Each is the uploader's own: only their questions use it until an
    administrator publishes it."""
    folder = services.uploads_dir
    user = services.user(request)
    indexed = {r.doc: r for r in services.assistant.indexer.catalog.documents()}
    received = uploads.save(folder, paths, indexed, user=user, title=title, when=when, kind=kind)
    lines: list[str] = []
    for item in received:
        if item.refused:
            lines.append(refused_line(item))
            forget_upload(item.path)
    saved = [item for item in received if not item.refused]
    if saved:
        with services.index_lock:
            def report_progress(step: int, total: int, doc: str | None) -> None:
                if progress is not None and total:
                    progress(step / total, desc=f"Indexing {doc}" if doc else "Finishing")

            try:
                report = uploads.index_saved(services.assistant.indexer, folder, saved, indexed, report_progress)
            except (VectorStoreError, UploadError, sqlite3.Error) as exc:  # undone: nothing was kept half-added
                LOG.warning("upload indexing failed: %s", exc)
                down = isinstance(exc, VectorStoreError)
                what = md(saved[0].name) if len(saved) == 1 and not down else "the files"
                why = (f"{str(exc).rstrip('.')}. Nothing was changed." if down else
                       str(exc) if isinstance(exc, UploadError) else  # it says what was kept, and why
                       f"the index catalogue could not be written ({exc}), so nothing was changed. Try again.")
                return "\n\n".join(lines + [f"**Could not add {what}**: {md(why)}"])
        failed = {Path(p).name: reason for p, reason in report.failed}
        who = "you alone can ask about it until an administrator publishes it" if services.sign_in else "ready to ask about"
        for item in saved:
            if item.name in failed:
                forget_upload(item.path)
                now = services.assistant.indexer.catalog.document(item.name)
                earlier = indexed.get(item.name)
                kept = (f" Your earlier {md(item.name)} is kept as it was." if item.staged and now and earlier
                        and now.provenance == earlier.provenance else "")
                lines.append(f"**Could not add {md(item.name)}**: {md(failed[item.name].rstrip('.'))}.{kept} "
                             "Nothing else was changed.")
            elif item.name in report.skipped:
                lines.append(f"**{md(item.name)}** is already in the index, unchanged.")
            else:
                record = services.assistant.indexer.catalog.document(item.name)
                chunks = record.chunks if record else 0
                note = (f" (another document is named {md(item.wanted)}, so this one is saved as {md(item.name)})"
                        if item.wanted else "")
                lines.append(f"**Added {md(item.name)}**{note}: {plural(chunks, 'passage')}, {who}.")
                services.audit.record("upload", user=user, address=services.address(request), file=item.name,
                                      title=record.title if record else "")
    return "\n\n".join(lines) or "Nothing was added."


# -- handlers --------------------------------------------------------------------------------------


def refreshed(services: Services, request: gr.Request | None, docs, kinds) -> tuple:
    """The table, the search filters and the action list as this user now sees them."""
    return (document_rows(listed_records(services, request)), *filter_updates(services, request, docs, kinds),
            gr.update(choices=action_choices(services, request), value=None))


def add_files(services: Services, paths, doc_title, doc_date, doc_kind, docs, kinds, request: gr.Request,
              progress=gr.Progress()):
    unchanged = (gr.update(), gr.update(), gr.update(), gr.update())
    if not services.allowed(request):
        return "Only signed-in users can add documents.", *unchanged, gr.update()
    if not paths:
        return "Choose one or more files first.", *unchanged, gr.update()
    paths = [paths] if isinstance(paths, str) else list(paths)
    messages = upload_files(services, paths, doc_title if len(paths) == 1 else "", doc_date, doc_kind, progress,
                            request=request)
    return messages, *refreshed(services, request, docs, kinds), None


def publish_chosen(services: Services, doc, docs, kinds, request: gr.Request):
    return publish_document(services, doc, request), *refreshed(services, request, docs, kinds)


def remove_chosen(services: Services, doc, docs, kinds, request: gr.Request):
    return remove_document(services, doc, request), *refreshed(services, request, docs, kinds)


def on_load(services: Services, request: gr.Request):
    allowed = services.allowed(request)
    return (gr.update(visible=allowed), gr.update(visible=not allowed), gr.update(visible=allowed),
            gr.update(visible=services.is_admin(request)), services.indexing_note, *refreshed(services, request, [], []))


# -- the tab ---------------------------------------------------------------------------------------


def documents_tab(services: Services, filters: dict) -> tuple[Callable, list]:
    """The tab; returns its page-load handler and that handler's outputs."""
    gr.Markdown("The documents the assistant answers from. Add your own below: they can be asked about straight away "
                "(with sign-in, by you alone until an administrator publishes them).")
    table = gr.Dataframe(headers=DOC_HEADERS, value=document_rows(official_records(services.assistant)),
                         interactive=False, wrap=True, elem_classes=["icb-table"],
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

    listing = [table, filters["docs"], filters["kinds"], target]
    add.click(bind(add_files, services), [uploads_box, title, when, kind, filters["docs"], filters["kinds"]],
              [result, *listing, uploads_box], concurrency_id="index", concurrency_limit=1, **PRIVATE)
    acting = [target, filters["docs"], filters["kinds"]]
    publish.click(bind(publish_chosen, services), acting, [action_result, *listing], concurrency_id="index", **PRIVATE)
    remove.click(bind(remove_chosen, services), acting, [action_result, *listing], concurrency_id="index", **PRIVATE)
    return bind(on_load, services), [upload_box, signed_out, actions_box, publish, note, *listing]
