"""FAQ drafting: question lists in, drafts with citations and readability, DOCX/Markdown/CSV out."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date

import pytest

from assistant.answers import Answer, Source
from assistant.faq import (
    Draft,
    QuestionListError,
    draft_from_answer,
    export_csv,
    export_docx,
    export_markdown,
    parse_csv_questions,
    parse_questions,
    read_question_file,
    reading_ease,
    reading_label,
    selected,
    write_exports,
)
from tests.conftest import FakeEmbeddings, read_only
from tests.fakes import corpus_assistant, scripted  # noqa: F401 (fixtures)


def source(n: int, title: str = "The plan", page: int | None = 3) -> Source:
    return Source(n=n, doc="plan.txt", title=title, section="Priorities > Urgent care", page=page, text="Text.", start=0, end=5)


def test_pasted_questions_one_a_line():
    text = "1. What is the ICB?\n\n- Where will new services be?\n  What is the ICB?  \n• When does it start?\n"
    assert parse_questions(text) == ["What is the ICB?", "Where will new services be?", "When does it start?"]


def test_csv_questions_from_the_question_column():
    text = "id,Question,owner\n1,What is the ICB?,Sam\n2,\"Is A&E, in Preston, staying?\",Jo\n3,,Jo\n"
    assert parse_csv_questions(text) == ["What is the ICB?", "Is A&E, in Preston, staying?"]
    with pytest.raises(QuestionListError, match="'question' column"):
        parse_csv_questions("id,text\n1,What?\n")


def test_question_files(tmp_path):
    (tmp_path / "q.csv").write_bytes("\ufeffquestion\nWhat is the deficit?\n".encode("utf-8"))
    (tmp_path / "q.txt").write_text("What is the deficit?\nWhat about GPs?\n", encoding="utf-8")
    (tmp_path / "q.pdf").write_bytes(b"%PDF")
    assert read_question_file(tmp_path / "q.csv") == ["What is the deficit?"]
    assert read_question_file(tmp_path / "q.txt") == ["What is the deficit?", "What about GPs?"]
    with pytest.raises(QuestionListError, match="upload a .csv"):
        read_question_file(tmp_path / "q.pdf")


def test_too_many_questions_is_a_clear_error():
    with pytest.raises(QuestionListError, match="at most 100"):
        parse_questions("\n".join(f"Question {i}?" for i in range(101)))


def test_draft_from_answer_keeps_status_and_citations():
    answered = Answer(status="answered", answer="Beds close [1].", citations=[source(1)])
    draft = draft_from_answer("Will beds close?", answered)
    assert (draft.answer, [s.n for s in draft.citations], draft.status) == ("Beds close [1].", [1], "answered")
    refused = draft_from_answer("Weather?", Answer(status="unanswerable", answer="The documents don't cover this."))
    assert refused.status == "unanswerable" and refused.citations == []


def test_reading_ease_and_its_label():
    easy = reading_ease("We will open a new clinic. It will be near you. You can walk in [1].")
    hard = reading_ease(
        "Implementation of the comprehensive integrated neighbourhood multidisciplinary operating model "
        "necessitates organisational transformation across constituent provider collaboratives [1]."
    )
    assert easy is not None and hard is not None and easy > 60 > hard
    assert reading_label(easy) in ("very easy", "easy", "fairly easy", "plain English")
    assert reading_label(hard) in ("hard", "very hard", "fairly hard")
    assert reading_ease("") is None and reading_ease("[1]") is None and reading_label(None) == "–"
    # a comparison's table is read by its cells: its header, document labels and rules are no words of the answer
    table = ("| Document | What it says |\n|---|---|\n| Implementation programme organisational transformation (2019) | "
             "We will open a new clinic. [1] |\n| Neighbourhood multidisciplinary collaborative (2024) | It will be near you. [2] |")
    assert reading_ease(table) == reading_ease("We will open a new clinic. It will be near you.")


def drafts() -> list[Draft]:
    return [
        Draft("What is the ICB?", "The ICB plans local NHS care [1].\n\nIt covers 1.8 million people [2].", "answered",
              [source(1), source(2, "State of the system", None)], approved=True),
        Draft("Is A&E <closing>?", "No [1].", "answered", [source(1)], approved=False),
        Draft("Still drafting?", status="pending"),
    ]


def test_selected_drafts():
    assert [d.question for d in selected(drafts(), approved_only=True)] == ["What is the ICB?"]
    assert len(selected(drafts(), approved_only=False)) == 2  # pending drafts are never exported


def test_docx_export_opens_in_python_docx(tmp_path):
    from docx import Document

    path = export_docx(selected(drafts(), False), tmp_path / "faq.docx", "Public FAQ", date(2025, 6, 3))
    document = Document(str(path))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs[0] == ("Title", "Public FAQ")
    assert paragraphs[1][1] == "Drafted 3 June 2025"
    headings = [text for style, text in paragraphs if style == "Heading 1"]
    assert headings == ["What is the ICB?", "Is A&E <closing>?"]
    texts = [text for _, text in paragraphs]
    assert "The ICB plans local NHS care [1]." in texts and "It covers 1.8 million people [2]." in texts
    items = [text for style, text in paragraphs if style == "List Number"]
    assert items == ["The plan, Priorities > Urgent care, page 3", "State of the system, Priorities > Urgent care",
                     "The plan, Priorities > Urgent care, page 3"]
    # each answer's source list is numbered from 1: the two lists use different numbering instances
    num_ids = [p._p.pPr.numPr.numId.val for p in document.paragraphs if p.style.name == "List Number"]
    assert num_ids[0] == num_ids[1] != num_ids[2]


def test_markdown_export():
    text = export_markdown(selected(drafts(), True), "Public FAQ", date(2025, 6, 3))
    assert text.startswith("# Public FAQ\n\n_Drafted 3 June 2025_\n")
    assert "## What is the ICB?\n\nThe ICB plans local NHS care [1]." in text
    assert "**Sources**\n\n1. The plan, Priorities > Urgent care, page 3\n2. State of the system, Priorities > Urgent care\n" in text
    assert "Is A&E" not in text


def test_csv_export():
    rows = list(csv.DictReader(io.StringIO(export_csv(selected(drafts(), False)))))
    assert list(rows[0]) == ["question", "answer", "status", "approved", "reading_ease", "sentence_support", "sources"]
    assert rows[0]["approved"] == "yes" and rows[1]["approved"] == "no"
    assert rows[1]["question"] == "Is A&E <closing>?"
    assert rows[0]["sources"].startswith("[1] The plan, Priorities > Urgent care, page 3; [2] State of the system")
    assert float(rows[0]["reading_ease"]) > 0


def test_write_exports_makes_three_files(tmp_path):
    paths = write_exports(selected(drafts(), False), tmp_path / "out")
    assert [p.name for p in paths] == ["faq.docx", "faq.md", "faq.csv"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_drafting_public_answers_over_the_corpus(corpus_settings):
    from assistant.engine import Assistant

    assistant = Assistant(corpus_settings, backend="extractive", embeddings=FakeEmbeddings())
    read_only(assistant.indexer)
    try:
        question = "What are the urgent and emergency care priorities?"
        draft = draft_from_answer(question, assistant.ask(question, audience="public"))
    finally:
        assistant.close()
    assert draft.status == "answered" and draft.citations
    assert [s.n for s in draft.citations] == list(range(1, len(draft.citations) + 1))
    assert "[1]" in draft.answer and draft.reading_ease is not None


def test_every_export_says_which_sources_are_uploads_and_by_whom(tmp_path):
    from docx import Document

    from index.documents import Provenance

    upload = Source(n=2, doc="notes.txt", title="The plan", section="Money", page=None, text="Text.", start=0, end=5,
                    provenance=Provenance("uploaded", "alice", "2026-12-02T06:00:00Z"))
    draft = Draft(question="What is the budget?", answer="It is set [1] [2].", status="answered",
                  citations=[source(1), upload])
    docx_path, md_path, csv_path = write_exports([draft], tmp_path, stem="faq")
    word = "\n".join(paragraph.text for paragraph in Document(str(docx_path)).paragraphs)
    for text in (word, md_path.read_text(encoding="utf-8"), csv_path.read_text(encoding="utf-8")):
        assert "The plan, Money – uploaded by alice on 2026-12-02 (not yet published)" in text
        assert "The plan, Priorities > Urgent care, page 3 –" not in text.replace("&gt;", ">")  # official: no mark


# -- sentence support in drafts ----------------------------------------------------------------------

PASSAGE = Source(n=1, doc="plan.txt", title="The plan", section="Urgent care", page=None,
                 text="Urgent treatment centres in Blackpool will open 12 hours a day from 2026.", start=0, end=70)
GOOD = "Urgent treatment centres in Blackpool will open 12 hours a day from 2026 [1]."
BAD = "Urgent treatment centres in Blackpool will open 24 hours a day from 2026 [1]."


def test_a_drafts_sentences_are_checked_as_they_stand_after_an_edit():
    draft = Draft("When do the centres open?", GOOD, "answered", [PASSAGE])
    assert draft.flagged() == []
    edited = Draft("When do the centres open?", BAD, "answered", [PASSAGE])
    assert [s.reason for s in edited.flagged()] == ["24 is not in [1]."]


def test_a_draft_with_an_unsupported_sentence_is_approved_only_when_a_person_confirms():
    from assistant.ui import drafting

    drafts_ = [Draft("When do the centres open?", BAD, "answered", [PASSAGE])]
    # a tick given before the text changed confirms nothing: the new sentence was never shown marked
    edited = BAD + " It costs £9bn [1]."
    after, _, _, note, _, _ = drafting.toggle_approval(0, edited, drafts_, True)
    assert not after[0].approved and note.startswith("**Not approved:**")
    drafts_, rows, reading, note, _, _ = drafting.toggle_approval(0, BAD, drafts_, False)
    assert not drafts_[0].approved and note.startswith("**Not approved:**") and "24 is not in [1]" in reading
    assert rows[0][4] == "⚠ 1 to check"
    drafts_, rows, _, note, button, _ = drafting.toggle_approval(0, BAD, drafts_, True)
    assert drafts_[0].approved and drafts_[0].confirmed and "confirmed by you" in note
    assert rows[0][4] == "⚠ 1 to check, confirmed" and rows[0][5] == "Yes"
    good = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE])]
    good, rows, _, _, _, _ = drafting.toggle_approval(0, GOOD, good, False)  # nothing to confirm
    assert good[0].approved and not good[0].confirmed and rows[0][4] == "✓ all supported"
    # Withdraw approval withdraws, whatever the edit and the tick
    withdrawn, _, _, note, button, _ = drafting.toggle_approval(0, BAD, good, True)
    assert not withdrawn[0].approved and button["value"] == "Approve" and "no longer approved" in note
    # an edit that makes an approved draft unsupported withdraws its approval
    good = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE], approved=True)]
    good, rows, _, note = drafting.save_edit(0, BAD, good)
    assert not good[0].approved and "approval is withdrawn" in note and "not supported" in note
    # so does any other change to its text: what was approved is not what it says now (it was kept before)
    good = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE], approved=True)]
    good, rows, _, note = drafting.save_edit(0, "The centre is closing. Go to A&E instead.", good)
    assert not good[0].approved and "approval is withdrawn" in note and rows[0][5] == ""
    good = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE], approved=True)]
    good, _, _, note = drafting.save_edit(0, GOOD, good)  # saved unchanged: still approved
    assert good[0].approved and note == "Saved draft 1."
    # an empty draft is never approved
    empty, _, _, note, _, _ = drafting.toggle_approval(0, "  ", [Draft("Q?", GOOD, "answered", [PASSAGE])], False)
    assert not empty[0].approved and "is empty" in note
    # a sentence citing nothing needs confirming only when it states a figure, sum or year
    plain = [Draft("When do the centres open?", GOOD + " Ask your GP practice for details.", "answered", [PASSAGE])]
    plain, rows, _, _, _, _ = drafting.toggle_approval(0, plain[0].answer, plain, False)
    assert plain[0].approved and rows[0][4] == "⚠ 1 to check"
    figure = [Draft("When do the centres open?", GOOD + " It costs £5m a year.", "answered", [PASSAGE])]
    figure, _, _, note, _, _ = drafting.toggle_approval(0, figure[0].answer, figure, False)
    assert not figure[0].approved and note.startswith("**Not approved:**")


def test_exports_carry_the_sentences_to_check_and_whether_they_were_confirmed(tmp_path):
    from docx import Document

    confirmed = Draft("When do the centres open?", BAD, "answered", [PASSAGE], approved=True, confirmed=True)
    unchecked = Draft("And at night?", GOOD + " They run weekend dermatology clinics [1].", "answered", [PASSAGE])
    markdown = export_markdown([confirmed, unchecked], "FAQ", date(2025, 6, 3))
    assert "> ⚠ Not supported (confirmed by the reviewer): “" + BAD + "” – 24 is not in [1]." in markdown
    assert "> ⚠ Not supported (to check): “They run weekend dermatology clinics [1].” – Few of its words are in [1]." in markdown
    rows = list(csv.DictReader(io.StringIO(export_csv([confirmed, unchecked]))))
    assert rows[0]["sentence_support"].startswith("1 of 1 to check, confirmed by the reviewer: ")
    assert rows[1]["sentence_support"].startswith("1 of 2 to check: “They run weekend dermatology clinics [1].”")
    assert export_csv([Draft("Q?", GOOD, "answered", [PASSAGE])]).count("all 1 supported") == 1
    path = export_docx([confirmed], tmp_path / "faq.docx", "FAQ", date(2025, 6, 3))
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert any(t.startswith("⚠ Not supported (confirmed by the reviewer)") and "24 is not in [1]" in t for t in texts)


# -- plain English -----------------------------------------------------------------------------------


def test_quoted_answers_for_the_public_are_bullets_without_lead_ins():
    from assistant.extractive import for_audience

    quoted = "The priorities are: [1]\n- Urgent care in 2025/26 [1]\nThe budget is £5bn. It will grow [3]."
    assert for_audience(quoted, "staff") == quoted
    assert for_audience(quoted, "public") == "- Urgent care in 2025/26 [1]\n- The budget is £5bn. [3]\n- It will grow [3]."


def test_simplify_keeps_the_citations_or_keeps_the_draft(corpus_assistant, scripted):
    cited = [PASSAGE]
    scripted.simpler = "The centres in Blackpool open 12 hours a day from 2026 [1]. Ask at [4]."
    text, sources, notices = corpus_assistant.simplify(GOOD, cited, backend="scripted")
    assert text == "The centres in Blackpool open 12 hours a day from 2026 [1]. Ask at."
    assert [(s.n, s.doc) for s in sources] == [(1, "plan.txt")]
    assert notices == ["Removed citation [4]: it named no source of the answer."]
    scripted.simpler = "The centres open soon."  # every citation lost: the draft stays as it was
    assert corpus_assistant.simplify(GOOD, cited, backend="scripted") == (
        GOOD, cited, ["The simpler version lost its citations, so the draft is kept as it was."])
    two = [PASSAGE, dataclasses.replace(BOARD_SOURCE, n=2)]
    scripted.simpler = "The board sets shifts [2]."  # it cites only the second: numbered [1] now, the first dropped
    text, sources, _ = corpus_assistant.simplify(GOOD + " The board sets shifts [2].", two, backend="scripted")
    assert text == "The board sets shifts [1]." and [(s.n, s.doc) for s in sources] == [(1, "board.txt")]
    scripted.failure = "the model is down"
    text, _, notices = corpus_assistant.simplify("The priorities are: [1]\n- Urgent care [1]. Beds [1].", cited, backend="scripted")
    assert text == "- Urgent care [1].\n- Beds [1]." and "set out as bullets" in notices[0]


def test_simplify_never_adds_a_figure_the_sources_do_not_hold(corpus_assistant, scripted):
    scripted.simpler = "The centres in Blackpool open 24 hours a day from 2026 [1]."
    assert corpus_assistant.simplify(GOOD, [PASSAGE], backend="scripted") == (GOOD, [PASSAGE], [
        "The simpler version gave 24, which the draft's sources do not hold, so the draft is kept as it was."])
    # a figure the draft itself gives (an editor's, say) may stay in its simpler version
    scripted.simpler = "The 24 centres open 12 hours a day from 2026 [1]."
    text, _, notices = corpus_assistant.simplify("The 24 " + GOOD[len("Urgent "):], [PASSAGE], backend="scripted")
    assert text == "The 24 centres open 12 hours a day from 2026 [1]." and notices == []


BOARD_SOURCE = Source(n=2, doc="board.txt", title="Board paper", section="Roadmap", page=None,
                      text="The roadmap sets three big shifts.", start=0, end=40)


class _Services:
    """The app's services as the FAQ handlers use them: an assistant answering with the scripted model."""

    def __init__(self, assistant):
        self.assistant = self
        self._inner = assistant

    def simplify(self, text, citations):
        return self._inner.simplify(text, citations, backend="scripted")


def test_the_simplify_button_rewrites_the_draft_and_withdraws_an_approval(corpus_assistant, scripted):
    from assistant.ui import drafting

    scripted.simpler = "Centres in Blackpool open 12 hours a day. They start in 2026 [1]."
    drafts_ = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE], approved=True)]
    drafts_, rows, text, reading, note, button, _ = drafting.simplify(_Services(corpus_assistant), 0, GOOD, drafts_,
                                                                      progress=lambda *a, **k: None)
    assert text == drafts_[0].answer == scripted.simpler and drafts_[0].edited and not drafts_[0].approved
    assert note.startswith("Draft 1 simplified: reading ease") and "Approve it again" in note
    assert rows[0][5] == "" and button["value"] == "Approve"
    scripted.simpler = ""  # unchanged: an approval and its confirmation stand
    confirmed = [dataclasses.replace(drafts_[0], approved=True, confirmed=True)]
    confirmed, *_ = drafting.simplify(_Services(corpus_assistant), 0, confirmed[0].answer, confirmed, progress=lambda *a, **k: None)
    assert confirmed[0].approved and confirmed[0].confirmed


def test_a_draft_is_re_checked_with_the_engines_glossary():
    from assistant.abbreviations import Glossary

    passage = Source(n=1, doc="plan.txt", title="The plan", section="Urgent care", page=None,
                     text="Waits in accident and emergency departments in Blackpool will fall by 2026.", start=0, end=80)
    text = "Waits in A&E departments in Blackpool will fall by 2026 [1]."
    answer = Answer(status="answered", answer=text, citations=[passage])
    assert draft_from_answer("A&E?", answer, Glossary()).flagged() == []  # A&E: accident and emergency
    assert [s.reason for s in draft_from_answer("A&E?", answer).flagged()] == ["A&E is not in [1]."]


# -- a slow handler and the reviewer's edits in the same session ------------------------------------


class _Meanwhile:
    """Services whose model, while it writes, lets ``meanwhile`` run: the reviewer's events of the
    same session, which Gradio runs beside a slow one on the same list of drafts."""

    def __init__(self, meanwhile=None):
        from types import SimpleNamespace

        self.meanwhile = meanwhile
        self.assistant = self
        self.retriever = SimpleNamespace(glossary=lambda: None)

    def user(self, request):
        return ""

    def ask(self, question, audience="public", filters=None):
        if self.meanwhile:
            self.meanwhile()
        return Answer(status="answered", answer=GOOD, citations=[PASSAGE])

    def simplify(self, text, citations):
        if self.meanwhile:
            self.meanwhile()
        return "Centres open 12 hours a day from 2026 [1].", citations, []


def _quiet(*args, **kwargs):
    return None


_quiet.tqdm = lambda items, desc="": items


def test_an_edit_and_approval_saved_while_answers_are_drafted_are_kept():
    """The audit's case: "Draft answers" ran on a copy of the drafts taken when it started and put
    the whole copy back when it ended, so an edit and approval saved meanwhile were lost."""
    from assistant.ui import drafting

    edit = "Blackpool's urgent treatment centres will open 12 hours a day from 2026 [1]."
    drafts_ = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE])]

    def reviewer():
        if len(drafts_) == 2 and not drafts_[0].approved:
            drafting.save_edit(0, edit, drafts_)
            drafting.toggle_approval(0, edit, drafts_, False)

    out, rows, pick, note = drafting.draft_all(_Meanwhile(reviewer), "Where is my nearest centre?", None, drafts_,
                                               None, progress=_quiet)
    assert out is drafts_  # the session's one list, changed in place
    assert out[0].answer == edit and out[0].approved and rows[0][5] == "Yes"
    assert out[1].status == "answered" and pick["value"] == 1 and note.startswith("Drafted 1 answer")


def test_drafts_cleared_while_answers_are_drafted_stay_cleared():
    from assistant.ui import drafting

    drafts_: list = []
    out, rows, _, _ = drafting.draft_all(_Meanwhile(lambda: drafting.clear_all(drafts_)), "One?\nTwo?", None, drafts_,
                                         None, progress=_quiet)
    assert out is drafts_ and out == [] and rows == []


def test_a_draft_changed_while_it_is_redrafted_or_simplified_keeps_the_change():
    from assistant.ui import drafting

    edit = "Centres in Blackpool open 12 hours a day from 2026 [1]."
    drafts_ = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE])]
    services = _Meanwhile(lambda: drafting.toggle_approval(0, edit, drafts_, False) if not drafts_[0].approved else None)
    out, rows, _, _, _, note, _, _ = drafting.redo(services, 0, drafts_, None, progress=_quiet)
    assert out[0].answer == edit and out[0].approved and "was not kept" in note

    drafts_ = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE])]
    services = _Meanwhile(lambda: drafting.toggle_approval(0, edit, drafts_, False) if not drafts_[0].approved else None)
    out, rows, _, _, note, _, _ = drafting.simplify(services, 0, GOOD, drafts_, progress=_quiet)
    assert out[0].answer == edit and out[0].approved and "was not kept" in note

    drafts_ = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE])]  # nothing meanwhile: redrafted
    out, _, text, _, _, note, _, _ = drafting.redo(_Meanwhile(), 0, drafts_, None, progress=_quiet)
    assert out is drafts_ and text == GOOD and note == "Drafted answer 1 again."


def test_a_control_character_in_a_question_or_an_edit_stops_no_export(tmp_path):
    """python-docx refuses control characters: one in an uploaded question list, or pasted into an
    edit, once stopped every export."""
    from docx import Document

    from assistant.faq import parse_csv_questions, parse_questions, write_exports
    from assistant.ui import drafting

    assert parse_questions("Is the walk-in\x08 centre closing?\nWhen\x1b?") == ["Is the walk-in centre closing?", "When?"]
    assert parse_csv_questions("question\n\"Bell\x07?\"\n") == ["Bell?"]
    drafts_ = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE])]
    drafts_, *_ = drafting.save_edit(0, GOOD + " Call 111\x1b for help.\ufffe", drafts_)
    assert drafts_[0].answer == GOOD + " Call 111 for help."
    drafts_.append(Draft("Odd\x0b question?", "An answer\x00 with a NUL [1].", "answered", [PASSAGE]))  # made elsewhere
    paths = write_exports(drafts_, tmp_path, title="FAQ\x0c")
    assert sorted(p.suffix for p in paths) == [".csv", ".docx", ".md"]
    text = [p.text for p in Document(str(tmp_path / "faq.docx")).paragraphs]
    assert "Odd question?" in text and "An answer with a NUL [1]." in text


def test_an_edit_left_unsaved_is_kept_when_another_draft_is_opened():
    """The audit's case: an edit typed into one draft was lost when the reviewer clicked another
    before pressing Save. It is saved into the draft it was typed into (and, as any edit, withdraws
    that draft's approval); opening drafts without typing changes nothing, approvals included."""
    from assistant.ui import drafting

    other = "The centres are run by the trust [1]."
    drafts_ = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE], approved=True),
               Draft("Who runs them?", other, "answered", [PASSAGE])]
    # looking through the drafts: nothing saved, the approval stays (line endings and end spaces are no edit)
    for shown in (GOOD, GOOD + "  \r\n"):
        opened = {"index": 0}
        out, rows, text, _, _, button, _, held, note = drafting.show(1, shown, opened, drafts_)
        assert out is drafts_ and out[0].answer == GOOD and out[0].approved and not out[0].edited
        assert text == other and held is opened and opened == {"index": 1} and note == {"__type__": "update"}
    # typed into draft 1, then draft 2 opened: the edit is in draft 1, its approval withdrawn, and it says so
    typed = "Blackpool's centres open 12 hours a day from 2026 [1]."
    out, rows, text, _, _, button, _, opened, note = drafting.show(1, typed, {"index": 0}, drafts_)
    assert out[0].answer == typed and out[0].edited and not out[0].approved
    assert rows[0][2] == "Drafted, edited" and rows[0][5] == ""
    assert "draft 1 was not lost" in note and "approval is withdrawn" in note
    assert text == other and opened == {"index": 1} and button["value"] == "Approve"
    # the editor's text is never saved into a draft it was not typed into
    out, _, text, *_, opened, _ = drafting.show(0, "Typed for draft 2.", {"index": None}, drafts_)
    assert out[1].answer == other and text == typed and opened == {"index": 0}
    out, *_ = drafting.show(None, "Typed for draft 9.", {"index": 8}, drafts_)  # a draft that is gone: nothing saved
    assert [d.answer for d in out] == [typed, other]


def test_a_slow_step_that_ends_after_the_reviewer_moved_on_leaves_the_editor_alone():
    """The review's case: Simplify on draft 1, the reviewer opens draft 2 meanwhile; Simplify put
    draft 1's simpler text into the editor, then leaving draft 2 saved that text into draft 2 and
    withdrew its approval."""
    from assistant.ui import drafting

    other = "The centres are run by the trust [1]."
    drafts_ = [Draft("When do the centres open?", GOOD, "answered", [PASSAGE]),
               Draft("Who runs them?", other, "answered", [PASSAGE], approved=True)]
    opened = {"index": 0}
    moved = {}

    def reviewer_opens_draft_2():  # without typing: the editor holds draft 1 as it stands
        if not moved:
            moved["show"] = drafting.show(1, drafts_[0].answer, opened, drafts_)

    out, rows, text, reading, note, button, _ = drafting.simplify(_Meanwhile(reviewer_opens_draft_2), 0, GOOD,
                                                                   drafts_, opened, progress=_quiet)
    assert out[0].answer != GOOD and "simplified" in note  # draft 1 simplified, in the list
    assert text == {"__type__": "update"} and button == {"__type__": "update"}  # draft 2's editor untouched
    editor = moved["show"][2]  # what the editor holds: draft 2
    out, *_, note = drafting.show(0, editor, opened, drafts_)  # leaving draft 2 saves nothing into it
    assert out[1].answer == other and out[1].approved and note == {"__type__": "update"}
    # Regenerate likewise
    opened = {"index": 0}
    moved.clear()
    out, rows, text, reading, panel, note, button, _ = drafting.redo(_Meanwhile(reviewer_opens_draft_2), 0, drafts_,
                                                                     opened, progress=_quiet)
    assert note == "Drafted answer 1 again." and text == {"__type__": "update"} and panel == {"__type__": "update"}
    # ... and with the draft still open, the editor shows the new text
    opened = {"index": 0}
    out, rows, text, *_ = drafting.redo(_Meanwhile(), 0, drafts_, opened, progress=_quiet)
    assert text == out[0].answer


def test_clear_all_drafts_asks_first():
    from assistant.ui import drafting

    drafts_ = [Draft("A?", GOOD, "answered", [PASSAGE], approved=True), Draft("B?", GOOD, "answered", [PASSAGE])]
    row, question, status, asked = drafting.ask_to_clear(drafts_)
    assert row["visible"] and "Clear all 2 drafts, 1 of them approved?" in question and len(drafts_) == 2 and asked == 2
    assert drafting.ask_to_clear([])[2] == "There are no drafts to clear."
    # drafts added after the question was asked were not in it: asked again, nothing cleared
    drafts_.append(Draft("C?", GOOD, "answered", [PASSAGE]))
    out, *_, row, opened, question, asked = drafting.clear_confirmed(drafts_, 2, {"index": 1})
    assert len(out) == 3 and row["visible"] and "Clear all 3 drafts" in question and asked == 3
    opened = {"index": 1}
    out, rows, pick, *_, row, held, question, asked = drafting.clear_confirmed(drafts_, 3, opened)
    assert out is drafts_ and out == [] and rows == [] and not row["visible"] and held is opened and opened["index"] is None
