"""The FAQ drafting tab: questions from the public in, plain-English drafts with sources out, to
review, edit, approve and export (the drafts themselves are ``assistant.faq``'s).

Its handlers are module functions (those that ask or export take the app's ``Services`` first);
``faq_tab`` lays the tab out and wires them to Gradio.

A session's drafts are one list that every handler changes in place and hands back (Gradio keeps
a session's state as the object a handler returns, and passes that same object to the next). So a
slow handler (drafting, Simplify, Regenerate) writes only the drafts it made, into the list as it
stands when it ends: an edit or approval saved while the model was writing is kept, and a draft
changed or cleared meanwhile is not overwritten by a stale copy.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from datetime import date
from pathlib import Path

import gradio as gr

from assistant import faq, sources_view
from assistant.retrieval import Filters
from assistant.ui.services import LOG, PRIVATE, Services, bind, plural
from assistant.ui.style import md, support_mark

FAQ_HEADERS = ["#", "Question", "Status", "Reading ease", "Sentence checks", "Approved"]
STATUS_WORDS = {"answered": "Drafted", "unanswerable": "Not in the documents", "error": "Could not draft",
                "pending": "Waiting"}


def faq_rows(drafts: list[faq.Draft]) -> list[list]:
    rows = []
    for number, draft in enumerate(drafts, start=1):
        score = draft.reading_ease
        ease = "–" if score is None else f"{score:.0f} ({faq.reading_label(score)})"
        status = STATUS_WORDS.get(draft.status, draft.status) + (", edited" if draft.edited else "")
        checked = draft.sentences()
        flagged = [c for c in checked if c.support != "supported"]
        confirmed = ", confirmed" if draft.approved and draft.confirmed else ""
        checks = "–" if not checked else (f"⚠ {len(flagged)} to check{confirmed}" if flagged else "✓ all supported")
        rows.append([number, draft.question, status, ease, checks, "Yes" if draft.approved else ""])
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
    flagged = draft.flagged()
    if flagged:
        listed = "\n".join(f"- {support_mark(f).strip()} “{md(f.text)}”: {md(f.reason)}" for f in flagged)
        if draft.approved and draft.confirmed:
            confirm = "confirmed by you when you approved it"
        elif draft.needs_confirming():
            confirm = "check each against its source; to approve the draft anyway, tick the box below"
        else:
            confirm = "check each against its source"
        reading += (f"\n\n**{len(flagged)} sentence{'s' if len(flagged) > 1 else ''} not supported by "
                    f"{'their' if len(flagged) > 1 else 'its'} sources** ({confirm}):\n{listed}")
    elif draft.status == "answered":
        reading += "\n\n✓ Every sentence is supported by the sources it cites."
    if draft.citations:
        panel = sources_view.render_sources(draft.answer, draft.citations, [], draft.status)
    else:
        panel = sources_view.placeholder("This draft cites no sources.")
    return draft.answer, reading, panel


# -- handlers --------------------------------------------------------------------------------------


def ask_public(services: Services, question: str, request: gr.Request | None) -> faq.Draft:
    """A draft from the documents this user's questions may use (official and their own uploads)."""
    try:
        chosen = Filters(user=services.user(request))
        answer = services.assistant.ask(question, audience="public", filters=chosen)
        return faq.draft_from_answer(question, answer, services.assistant.retriever.glossary())
    except Exception as exc:  # noqa: BLE001 - one failed draft must not lose the others
        LOG.exception("drafting failed")
        failed = f"Could not draft this answer ({exc.__class__.__name__}). Try Regenerate."
        return faq.Draft(question, failed, "error")


def draft_all(services: Services, text, upload, drafts, request: gr.Request, progress=gr.Progress()):
    try:
        questions = faq.parse_questions(text or "")
        if upload:
            questions += [q for q in faq.read_question_file(Path(upload)) if q not in questions]
    except faq.QuestionListError as exc:
        return drafts, gr.update(), gr.update(), f"**Could not read the questions:** {md(str(exc))}"
    known = {d.question for d in drafts}
    drafts.extend(faq.Draft(q) for q in questions if q not in known)  # in place: see the module's docstring
    waiting = [d for d in drafts if d.status == "pending"]
    if not waiting:
        return drafts, faq_rows(drafts), gr.update(), "Paste or upload some new questions first."
    started = time.perf_counter()
    first = None
    for pending in progress.tqdm(waiting, desc="Drafting answers"):
        drafted = ask_public(services, pending.question, request)
        at = _position(drafts, pending)  # where it stands now; None when the drafts were cleared meanwhile
        if at is not None:
            drafts[at] = drafted
            first = at if first is None else first
    took = time.perf_counter() - started
    return (drafts, faq_rows(drafts), gr.update(choices=faq_choices(drafts), value=first),
            f"Drafted {plural(len(waiting), 'answer')} in {took:.0f} s. Review each one below.")


def _position(drafts: list[faq.Draft], draft: faq.Draft) -> int | None:
    """Where this very draft (not an equal one) stands in the list now, or None when it is gone."""
    return next((i for i, d in enumerate(drafts) if d is draft), None)


def _still(drafts: list[faq.Draft], index: int, draft: faq.Draft) -> bool:
    """The draft at ``index`` is still the one a slow handler started from."""
    return 0 <= index < len(drafts) and drafts[index] is draft


def clear_all(drafts):
    drafts.clear()  # in place: a draft still being written then has nowhere to go, and is dropped
    return drafts, [], gr.update(choices=[], value=None), "", *draft_details(None), gr.update(value=None, visible=False)


def ask_to_clear(drafts):
    """"Clear all drafts" asks first: what it clears cannot be got back. (The question's row, its
    text, the status line, and how many drafts it asked about.)"""
    if not drafts:
        return gr.update(visible=False), "", "There are no drafts to clear.", 0
    approved = sum(d.approved for d in drafts)
    kept = f", {approved} of them approved" if approved else ""
    question = (f"**Clear all {plural(len(drafts), 'draft')}{kept}?** They cannot be got back: "
                "export the ones you want to keep first.")
    return gr.update(visible=True), question, gr.update(), len(drafts)


def clear_confirmed(drafts, asked, opened=None):
    """The drafts cleared once the reviewer has said yes to clearing as many as there are; the
    question hidden, no draft open. Drafts added since the question was asked (by "Draft answers")
    were not in it: it is asked again, and nothing is cleared."""
    if asked != len(drafts):
        row, question, status, count = ask_to_clear(drafts)
        keep = gr.update()
        return (drafts, keep, keep, status, keep, keep, keep, keep, row, opened, question, count)
    if opened is not None:
        opened["index"] = None
    return (*clear_all(drafts), gr.update(visible=False), opened, "", 0)


def open_index(opened) -> int | None:
    """The draft the editor holds: ``opened`` is the session's holder ({"index": n}), changed in
    place as drafts are opened, so a slow step that ends later sees where the reviewer is now."""
    return opened.get("index") if opened is not None else None


def unsaved(text, draft: faq.Draft) -> bool:
    """The editor holds text the reviewer typed and did not save into this draft. Line endings and
    spaces at the ends of lines are not an edit: opening an approved draft and moving on must not
    withdraw its approval."""
    def plain(value: str) -> str:
        return "\n".join(line.rstrip() for line in value.replace("\r\n", "\n").split("\n")).strip()

    return plain(faq.printable(text or "")) != plain(draft.answer)


def show(index, text, opened, drafts):
    """The picked draft in the editor. What the reviewer typed into the draft open before and did
    not save is saved into it first: picking another draft, or the list moving on to a new one,
    loses no edit (and, as any edit does, withdraws that draft's approval)."""
    note = gr.update()
    before = open_index(opened)
    if before is not None and before != index and 0 <= before < len(drafts) and unsaved(text, drafts[before]):
        drafts, _, _, saved = save_edit(before, text, drafts)
        note = f"Your edit to draft {before + 1} was not lost. " + saved
    draft = drafts[index] if isinstance(index, int) and 0 <= index < len(drafts) else None
    text, line, panel = draft_details(draft)
    opened["index"] = index if draft is not None else None  # in place: see open_index
    return (drafts, faq_rows(drafts), text, line, panel, gr.update(value=approve_label(draft)), gr.update(value=False),
            opened, note)


def row_clicked(drafts, event: gr.SelectData):
    row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
    return row if isinstance(row, int) and 0 <= row < len(drafts) else gr.update()


def approve_label(draft: faq.Draft | None) -> str:
    return "Withdraw approval" if draft is not None and draft.approved else "Approve"


def save_edit(index, text, drafts):
    """The editor's text saved into the draft (control characters dropped: no export could carry
    them); an approved draft whose text changes is approved no longer: what was approved is not
    what stands now."""
    if not isinstance(index, int) or not 0 <= index < len(drafts):
        return drafts, gr.update(), gr.update(), "Pick a draft first."
    draft = drafts[index]
    note = f"Saved draft {index + 1}."
    text = faq.printable(text or "")
    if text != draft.answer:
        edited = dataclasses.replace(draft, answer=text, edited=True, confirmed=False)
        if draft.approved:
            edited = dataclasses.replace(edited, approved=False)
            why = (" the edit has sentences not supported by the sources (marked ⚠)" if edited.needs_confirming()
                   else " what you approved is not what it says now")
            note += f" Its approval is withdrawn:{why}. Approve it again when it reads right."
        drafts[index] = edited
    return drafts, faq_rows(drafts), draft_details(drafts[index])[1], note


def save_clicked(index, text, drafts):
    """Save: the edit kept, the Approve button telling the draft's state, the confirming tick cleared
    (it was given for the sentences shown before the edit)."""
    drafts, rows, line, note = save_edit(index, text, drafts)
    draft = drafts[index] if isinstance(index, int) and 0 <= index < len(drafts) else None
    return drafts, rows, line, note, gr.update(value=approve_label(draft)), gr.update(value=False)


def toggle_approval(index, text, drafts, confirmed=False):
    """Approve the draft (its edit saved first), or withdraw its approval. A draft with a sentence
    the check did not find supported is approved only when the reviewer ticks that they checked it;
    a tick given before the text changed confirms nothing."""
    if not isinstance(index, int) or not 0 <= index < len(drafts):
        return drafts, gr.update(), gr.update(), "Pick a draft first.", gr.update(), gr.update(value=False)
    withdrawing = drafts[index].approved  # the button's meaning, as the reviewer saw it
    confirmed = confirmed and faq.printable(text or "") == drafts[index].answer
    drafts, rows, line, note = save_edit(index, text, drafts)
    if drafts[index].status not in ("answered", "unanswerable"):
        return drafts, rows, line, "Only a drafted answer can be approved.", gr.update(), gr.update()
    draft = drafts[index]
    if not withdrawing and not draft.answer.strip():
        return (drafts, rows, line, f"**Not approved:** draft {index + 1} is empty. Write its answer first.",
                gr.update(value=approve_label(draft)), gr.update(value=False))
    if withdrawing:
        drafts[index] = dataclasses.replace(draft, approved=False, confirmed=False)
        return (drafts, faq_rows(drafts), draft_details(drafts[index])[1], f"Draft {index + 1} is no longer approved.",
                gr.update(value="Approve"), gr.update(value=False))
    flagged = draft.needs_confirming()
    if flagged and not confirmed:
        count = f"{len(flagged)} sentence{'s' if len(flagged) > 1 else ''}"
        return (drafts, rows, line, f"**Not approved:** {count} of draft {index + 1} "
                f"{'are' if len(flagged) > 1 else 'is'} not supported by the sources cited (marked ⚠ above). Check "
                "them against the sources, edit them, or tick “I have checked the marked sentences” to approve it anyway.",
                gr.update(value=approve_label(draft)), gr.update(value=False))
    draft = dataclasses.replace(draft, approved=True, confirmed=bool(flagged))
    drafts[index] = draft
    state = "approved"
    if draft.confirmed:
        state += f", with {len(flagged)} marked sentence{'s' if len(flagged) > 1 else ''} confirmed by you"
    return (drafts, faq_rows(drafts), draft_details(draft)[1], f"Draft {index + 1} is {state}.",
            gr.update(value="Withdraw approval"), gr.update(value=False))


def simplify(services: Services, index, text, drafts, opened=None, progress=gr.Progress()):
    """The draft (its edit saved first) rewritten more simply for the public, keeping its citations;
    what was approved is no longer what stands, so its approval is withdrawn."""
    drafts, rows, line, note = save_edit(index, text, drafts)
    if not isinstance(index, int) or not 0 <= index < len(drafts):
        return drafts, rows, gr.update(), line, note, gr.update(), gr.update(value=False)
    draft = drafts[index]
    if draft.status != "answered":
        return (drafts, rows, gr.update(), line, "Only a drafted answer can be simplified.",
                gr.update(value=approve_label(draft)), gr.update(value=False))
    progress(0, desc="Writing it more simply")
    try:
        simpler, citations, notices = services.assistant.simplify(draft.answer, draft.citations)
    except Exception as exc:  # noqa: BLE001 - the draft is kept as it is
        LOG.exception("simplifying failed")
        return (drafts, rows, gr.update(), line, f"Could not simplify draft {index + 1} ({exc.__class__.__name__}); it is unchanged.",
                gr.update(value=approve_label(draft)), gr.update(value=False))
    before = draft.reading_ease
    if not _still(drafts, index, draft):  # edited, approved or cleared while the model was writing
        return (drafts, faq_rows(drafts), gr.update(), gr.update(),
                f"Draft {index + 1} changed while it was being simplified, so the simpler version was not kept.",
                gr.update(), gr.update(value=False))
    if simpler == draft.answer:
        note = f"Draft {index + 1} is unchanged."
    else:
        drafts[index] = dataclasses.replace(draft, answer=simpler, citations=citations, edited=True, approved=False, confirmed=False)
        after = drafts[index].reading_ease
        ease = " → ".join("–" if score is None else f"{score:.0f}" for score in (before, after))
        note = f"Draft {index + 1} simplified: reading ease {ease}. Check it against the sources."
        if draft.approved:
            note += " Approve it again when it reads right."
    note = " ".join([note, *(md(n) for n in notices)])
    if not _still_open(opened, index):  # the reviewer opened another draft meanwhile: its editor stays as it is
        keep = gr.update()
        return drafts, faq_rows(drafts), keep, keep, note, keep, keep
    return (drafts, faq_rows(drafts), drafts[index].answer, draft_details(drafts[index])[1], note,
            gr.update(value=approve_label(drafts[index])), gr.update(value=False))


def _still_open(opened, index: int) -> bool:
    """The draft a slow step worked on is still the one in the editor (``opened`` None: not known, so yes)."""
    return opened is None or open_index(opened) == index


def redo(services: Services, index, drafts, opened=None, request: gr.Request = None, progress=gr.Progress()):
    if not isinstance(index, int) or not 0 <= index < len(drafts):
        return drafts, gr.update(), gr.update(), gr.update(), gr.update(), "Pick a draft first.", gr.update(), gr.update()
    progress(0, desc="Drafting the answer again")
    original = drafts[index]
    fresh = ask_public(services, original.question, request)
    if not _still(drafts, index, original):  # edited, approved or cleared while the model was writing
        return (drafts, faq_rows(drafts), gr.update(), gr.update(), gr.update(),
                f"Draft {index + 1} changed while it was being drafted again, so the new draft was not kept.",
                gr.update(), gr.update())
    drafts[index] = fresh
    again = f"Drafted answer {index + 1} again."
    if not _still_open(opened, index):  # the reviewer opened another draft meanwhile: its editor stays as it is
        keep = gr.update()
        return drafts, faq_rows(drafts), keep, keep, keep, again, keep, keep
    text, line, panel = draft_details(drafts[index])
    return drafts, faq_rows(drafts), text, line, panel, again, gr.update(value="Approve"), gr.update(value=False)


def make_files(services: Services, which, heading, drafts, opened, text, request: gr.Request):
    chosen = faq.selected(drafts, approved_only=which.startswith("Approved"))
    # an edit typed into the open draft and not saved is not what the files carry: say so
    at = open_index(opened)
    pending = (f" Draft {at + 1} has an edit you have not saved: it is exported as last saved "
               "(save it, then export again)." if at is not None and 0 <= at < len(drafts)
               and text is not None and unsaved(text, drafts[at]) else "")
    if not chosen:
        hint = ("Approve some answers first, or choose “All drafted answers”." if which.startswith("Approved")
                else "Draft some answers first.")
        return gr.update(value=None, visible=False), f"Nothing to export. {hint}{pending}"
    folder = Path(tempfile.mkdtemp(dir=services.exports_dir))
    stem = f"faq-{date.today().isoformat()}"
    try:
        paths = faq.write_exports(chosen, folder, stem=stem, title=(heading or "").strip() or faq.DEFAULT_TITLE)
    except (OSError, ValueError) as exc:  # a full disk, or text no file format can hold: the drafts stay as they are
        LOG.exception("export failed")
        return gr.update(value=None, visible=False), f"**Could not export the answers** ({md(str(exc))[:200]}); your drafts are unchanged."
    services.audit.record("export", user=services.user(request), address=services.address(request),
                          what="faq", rows=len(chosen))
    files_made = [str(p) for p in paths]
    note = f"{plural(len(chosen), 'answer')} exported: download the files below.{pending}"
    return gr.update(value=files_made, visible=True), note


# -- the tab ---------------------------------------------------------------------------------------


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
        clear_button = gr.Button("Clear all drafts", size="sm", scale=0, min_width=150, elem_id="icb-faq-clear")
        faq_status = gr.Markdown("", elem_id="icb-faq-status")
    with gr.Row(visible=False, elem_id="icb-faq-clear-ask") as clear_ask:
        clear_question = gr.Markdown("")
        clear_yes = gr.Button("Yes, clear them", variant="stop", size="sm", scale=0, min_width=150,
                              elem_id="icb-faq-clear-yes")
        clear_no = gr.Button("Keep them", size="sm", scale=0, min_width=120, elem_id="icb-faq-clear-no")
    table = gr.Dataframe(headers=FAQ_HEADERS, value=[], interactive=False, wrap=True, elem_id="icb-faq-table",
                         elem_classes=["icb-table"], label="Drafts (click a row to review it)",
                         column_widths=["5%", "43%", "14%", "14%", "14%", "10%"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            pick = gr.Dropdown(choices=[], label="Draft to review", elem_id="icb-faq-pick", value=None)
            editor = gr.Textbox(label="Answer (edit freely; keep the [1], [2] source numbers)", lines=8,
                                elem_id="icb-faq-editor")
            reading = gr.Markdown("", elem_id="icb-faq-reading")
            with gr.Row():
                save = gr.Button("Save edit", elem_id="icb-faq-save")
                simpler = gr.Button("Simplify", elem_id="icb-faq-simplify")
                regenerate = gr.Button("Regenerate (loses edits)", elem_id="icb-faq-regenerate")
                approve = gr.Button("Approve", variant="primary", elem_id="icb-faq-approve")
            confirm = gr.Checkbox(label="I have checked the marked sentences against their sources", value=False,
                                  elem_id="icb-faq-confirm")
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

    draft_button.click(bind(draft_all, services), [pasted, question_file, drafts_state],
                       [drafts_state, table, pick, faq_status],
                       concurrency_id="answer", concurrency_limit=min(2, assistant.answerer.concurrency), **PRIVATE)
    # the draft the editor holds ({"index": n}, changed in place): an edit left unsaved there is saved on
    # leaving it, and a slow step that ends after the reviewer moved on leaves the editor alone
    opened = gr.State({"index": None})
    clear_count = gr.State(0)  # how many drafts "Clear all drafts" asked about
    clear_button.click(ask_to_clear, drafts_state, [clear_ask, clear_question, faq_status, clear_count], **PRIVATE)
    cleared = [drafts_state, table, pick, faq_status, editor, reading, draft_sources, files, clear_ask, opened,
               clear_question, clear_count]
    clear_yes.click(clear_confirmed, [drafts_state, clear_count, opened], cleared, **PRIVATE)
    clear_no.click(lambda: gr.update(visible=False), None, clear_ask, **PRIVATE)
    pick.change(show, [pick, editor, opened, drafts_state],
                [drafts_state, table, editor, reading, draft_sources, approve, confirm, opened, faq_status], **PRIVATE)
    table.select(row_clicked, drafts_state, pick, **PRIVATE)
    save.click(save_clicked, [pick, editor, drafts_state], [drafts_state, table, reading, faq_status, approve, confirm],
               **PRIVATE)
    approve.click(toggle_approval, [pick, editor, drafts_state, confirm],
                  [drafts_state, table, reading, faq_status, approve, confirm], **PRIVATE)
    simpler.click(bind(simplify, services), [pick, editor, drafts_state, opened],
                  [drafts_state, table, editor, reading, faq_status, approve, confirm], concurrency_id="answer", **PRIVATE)
    redone = [drafts_state, table, editor, reading, draft_sources, faq_status, approve, confirm]
    regenerate.click(bind(redo, services), [pick, drafts_state, opened], redone, concurrency_id="answer", **PRIVATE)
    export.click(bind(make_files, services), [scope, title, drafts_state, opened, editor], [files, export_note], **PRIVATE)
