"""FAQ drafting for the public engagement team: a list of drafts, their readability, exports.

Pure Python (no Gradio): questions in (pasted text or a CSV with a ``question`` column),
drafts answered for the public with their citations, edited, approved, and exported as DOCX
(python-docx), Markdown or CSV. Citations come numbered 1, 2, 3... in the order an answer uses
them (``assistant.citations.number_as_read``), so each answer's numbered source list starts at 1. Each draft's sentences are checked
against the sources they cite (``assistant.support``), as they stand after any edit; the exports
carry every sentence the check did not find supported, with the reason, and whether the reviewer
confirmed it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from assistant import comparison, support
from assistant.answers import Answer, Source
from assistant.csv_safety import restore, safe_row
from index.text import CITATION

MAX_QUESTIONS = 100
MAX_QUESTION_CHARS = 2000
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\(?\d{1,3}[.)])\s+")
DEFAULT_TITLE = "Frequently asked questions"
CSV_COLUMNS = ("question", "answer", "status", "approved", "reading_ease", "sentence_support", "sources")


class QuestionListError(ValueError):
    """A question list that cannot be read; the message says why."""


@dataclass
class Draft:
    """One FAQ entry. status: pending | answered | unanswerable | error."""

    question: str
    answer: str = ""
    status: str = "pending"
    citations: list[Source] = field(default_factory=list)
    approved: bool = False
    edited: bool = False
    notices: list[str] = field(default_factory=list)
    confirmed: bool = False  # approved by a person who checked the sentences the check did not find supported
    glossary: object = field(default=None, compare=False, repr=False)  # the engine's, so a re-check reads "A&E" as it did

    @property
    def reading_ease(self) -> float | None:
        return reading_ease(self.answer) if self.status in ("answered", "unanswerable") else None

    def sentences(self) -> list[support.SentenceSupport]:
        """Each sentence of the answer, as it stands now (edits too), checked against the sources it cites."""
        return support.check(self.answer, self.citations, self.glossary) if self.status == "answered" else []

    def flagged(self) -> list[support.SentenceSupport]:
        """The sentences the check did not find supported (unsupported or citing nothing)."""
        return [s for s in self.sentences() if s.support != "supported"]

    def needs_confirming(self) -> list[support.SentenceSupport]:
        """The sentences a person must confirm before the draft is approved: those its sources do
        not support, and those citing nothing that state a figure, sum, percentage or year (an
        uncited "Contact your GP practice." needs no confirming; an uncited "It costs £5bn." does)."""
        return [s for s in self.flagged() if s.support == "unsupported"
                or any(found.kind != "name" for found in support.specifics(s.text))]


def support_summary(draft: Draft) -> str:
    """One line on the draft's sentence checks, for the table and the CSV: "all 4 supported",
    "2 of 5 to check: “…” (£1bn is not in [2]); …", "–" for a draft with no answer to check."""
    checked = draft.sentences()
    if not checked:
        return "–"
    flagged = [s for s in checked if s.support != "supported"]
    if not flagged:
        return f"all {len(checked)} supported"
    reasons = "; ".join(f"“{s.text}” ({s.reason.rstrip('.')})" for s in flagged)
    confirmed = ", confirmed by the reviewer" if draft.approved and draft.confirmed else ""
    return f"{len(flagged)} of {len(checked)} to check{confirmed}: {reasons}"


# characters no Word file (XML 1.0) may hold: control characters other than tab and line ends, and
# U+FFFE / U+FFFF; one of them in a question or an edit once stopped every export
_NOT_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` without the characters no export can carry (see ``_NOT_PRINTABLE``)."""
    return _NOT_PRINTABLE.sub("", text)


# -- questions in ------------------------------------------------------------------------------


def parse_questions(text: str) -> list[str]:
    """One question a line; list marks ('-', '1.') and blank lines dropped, repeats kept once."""
    questions: list[str] = []
    for line in (text or "").splitlines():
        question = re.sub(r"\s+", " ", _LIST_MARK.sub("", printable(line))).strip()
        if question and question not in questions:
            questions.append(question[:MAX_QUESTION_CHARS])
    return _limited(questions)


def _limited(questions: list[str]) -> list[str]:
    if len(questions) > MAX_QUESTIONS:
        raise QuestionListError(f"There are {len(questions)} questions; draft at most {MAX_QUESTIONS} at a time.")
    return questions


def parse_csv_questions(text: str) -> list[str]:
    """The ``question`` column of a CSV (any letter case); other columns are ignored."""
    reader = csv.DictReader(io.StringIO(text))
    column = next((name for name in reader.fieldnames or [] if name and name.strip().lower() == "question"), None)
    if column is None:
        raise QuestionListError("The CSV has no 'question' column. Put the questions in a column headed 'question'.")
    questions: list[str] = []
    for row in reader:
        question = re.sub(r"\s+", " ", printable(restore(row.get(column) or ""))).strip()
        if question and question not in questions:
            questions.append(question[:MAX_QUESTION_CHARS])
    return _limited(questions)


def read_question_file(path: Path) -> list[str]:
    """Questions from an uploaded .csv (a ``question`` column) or a text file (one a line)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QuestionListError(f"Could not read {path.name}: {exc.strerror or exc}") from exc
    if len(raw) > 2_000_000:
        raise QuestionListError(f"{path.name} is too large for a question list (over 2 MB).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel's CSV on Windows
    if path.suffix.lower() == ".csv":
        return parse_csv_questions(text)
    if path.suffix.lower() not in (".txt", ".text", ".md", ""):
        raise QuestionListError(f"{path.name}: upload a .csv with a 'question' column, or a .txt with one question a line.")
    return parse_questions(text)


# -- drafts ------------------------------------------------------------------------------------


def draft_from_answer(question: str, answer: Answer, glossary=None) -> Draft:
    """The answer as a draft: its sources come numbered 1, 2, 3 in the order it cites them (the engine numbers them so)."""
    citations = list(answer.citations) if answer.status == "answered" else []
    return Draft(question=printable(question), answer=printable(answer.answer), status=answer.status, citations=citations,
                 notices=list(answer.notices), glossary=glossary)


def _offline_textstat():
    """textstat, kept offline: recent versions count syllables with NLTK's CMU dictionary and
    download it on first use. Without a local copy, syllables come from pyphen's bundled
    hyphenation dictionaries instead (how textstat counted them before)."""
    import textstat

    try:
        from textstat.backend.counts import _count_syllables
    except ImportError:  # an older textstat: pyphen only, nothing to download
        return textstat
    original = _count_syllables.get_cmudict
    if getattr(original, "icb_offline", False):
        return textstat

    def local_cmudict_only(lang: str):
        try:
            import nltk

            nltk.data.find("corpora/cmudict")
        except (ImportError, LookupError):
            return None
        return original(lang)

    local_cmudict_only.icb_offline = True
    _count_syllables.get_cmudict = local_cmudict_only
    return textstat


def reading_ease(text: str) -> float | None:
    """Flesch reading ease (textstat) of the answer's words (a comparison's table by its cells, without
    its header, document labels and rules), citation markers left out, within the
    scale's 0-100 (the formula gives over 100 for a few very short sentences); None for no text."""
    textstat = _offline_textstat()
    read = [block if isinstance(block, str) else "\n".join(" ".join(row[1:]) for row in block[1:])
            for block in comparison.blocks(text or "")]  # a table by its cells, not its header or document labels
    words = CITATION.sub("", "\n".join(read)).strip()
    if not re.search(r"\w", words):
        return None
    return round(min(100.0, max(0.0, float(textstat.flesch_reading_ease(words)))), 1)


def reading_label(score: float | None) -> str:
    """Flesch's bands in words; 60 and over is plain English."""
    if score is None:
        return "–"
    for floor, label in ((90, "very easy"), (80, "easy"), (70, "fairly easy"), (60, "plain English"), (50, "fairly hard"), (30, "hard")):
        if score >= floor:
            return label
    return "very hard"


def source_line(source: Source) -> str:
    """'Title, Section > Subsection, page 4' for a numbered source list; a source that is not
    official says so ('…, page 4 – uploaded by alice on 2026-12-02 (not yet published)'), so an
    export never passes an upload off as an official document."""
    parts = [source.title]
    if source.section:
        parts.append(source.section)
    if source.page:
        parts.append(f"page {source.page}")
    line = ", ".join(parts)
    return line if source.provenance.official else f"{line} – {source.provenance.describe()}"


def selected(drafts: list[Draft], approved_only: bool) -> list[Draft]:
    return [d for d in drafts if d.status != "pending" and (d.approved or not approved_only)]


# -- exports -----------------------------------------------------------------------------------


def _flag_line(draft: Draft, sentence: support.SentenceSupport) -> str:
    state = "confirmed by the reviewer" if draft.approved and draft.confirmed else "to check"
    label = "Not supported" if sentence.support == "unsupported" else "No source cited"
    return f"{label} ({state}): “{sentence.text}” – {sentence.reason}"


def export_docx(drafts: list[Draft], path: Path, title: str = DEFAULT_TITLE, when: date | None = None) -> Path:
    """A Word document: the title and date, then each question as a heading, its answer (a
    comparison's table as a Word table) and its sources as a numbered list. Every text goes in
    :func:`printable`: a stray control character would stop python-docx, and the whole export."""
    from docx import Document

    title = printable(title)
    document = Document()
    document.core_properties.title = title
    document.add_heading(title, level=0)
    document.add_paragraph(f"Drafted {(when or date.today()).strftime('%d %B %Y').lstrip('0')}")
    for draft in drafts:
        document.add_heading(printable(draft.question), level=1)
        for block in comparison.blocks(draft.answer) or [""]:
            if isinstance(block, str):
                document.add_paragraph(printable(block))
                continue
            table = document.add_table(rows=0, cols=max(len(row) for row in block))
            table.style = "Table Grid"
            for number, row in enumerate(block):
                cells = table.add_row().cells
                for cell, text in zip(cells, row):
                    cell.text = printable(text)
                    if number == 0:  # the header row in bold
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
        for sentence in draft.flagged():
            note = document.add_paragraph()
            note.add_run(printable(f"⚠ {_flag_line(draft, sentence)}")).italic = True
        if draft.citations:
            document.add_paragraph("Sources", style="Heading 3")
            items = [document.add_paragraph(printable(source_line(source)), style="List Number") for source in draft.citations]
            _restart_numbering(document, items)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def _restart_numbering(document, paragraphs) -> None:
    """Number these list paragraphs from 1 (Word would otherwise carry on from the last list)."""
    numbering = document.part.numbering_part.numbering_definitions._numbering
    style_num = document.styles["List Number"].element.pPr.numPr.numId.val
    abstract_id = numbering.num_having_numId(style_num).abstractNumId.val
    num = numbering.add_num(abstract_id)
    num.add_lvlOverride(ilvl=0).add_startOverride(1)
    for paragraph in paragraphs:
        numbering_properties = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        numbering_properties.get_or_add_ilvl().val = 0
        numbering_properties.get_or_add_numId().val = num.numId


def markdown_text(text: str) -> str:
    """Text that stays text in any Markdown renderer: ``<`` as ``&lt;`` (no raw HTML such as
    ``<script>`` or ``<img onerror=…>``, no ``<javascript:…>`` autolinks), and the link forms
    ``[x](target)`` and ``[x]: target`` broken (``](`` and ``]:`` with the character as an entity),
    so no ``javascript:``, ``data:`` or ``vbscript:`` target becomes a link; and a line that would
    make a heading (opening with ``#``, or only ``=`` or ``-`` under a line of text) has its mark
    escaped, so an answer cannot add a question of its own to the page. Everything else, citation
    markers ``[1]``, lists and tables included, reads as written."""
    text = (text or "").replace("<", "&lt;").replace("](", "]&#40;").replace("]:", "]&#58;")
    return _HEADING_LINE.sub(lambda match: match.group(1) + "\\" + match.group(2), text)


_HEADING_LINE = re.compile(r"^( {0,3})(#|=+\s*$|-+\s*$)", re.M)


def _heading(text: str) -> str:
    """One line of escaped text for a heading (a line break would end the heading)."""
    return markdown_text(" ".join((text or "").split()))


def export_markdown(drafts: list[Draft], title: str = DEFAULT_TITLE, when: date | None = None) -> str:
    """The drafts as Markdown; every question, answer, title and source is escaped (``markdown_text``)."""
    lines = [f"# {_heading(title)}", "", f"_Drafted {(when or date.today()).strftime('%d %B %Y').lstrip('0')}_", ""]
    for draft in drafts:
        lines += [f"## {_heading(draft.question)}", "", markdown_text(draft.answer.strip()), ""]
        flagged = draft.flagged()
        if flagged:
            lines += [f"> ⚠ {markdown_text(_flag_line(draft, sentence))}" for sentence in flagged] + [""]
        if draft.citations:
            lines += ["**Sources**", ""]
            lines += [f"{source.n}. {_heading(source_line(source))}" for source in draft.citations]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def export_csv(drafts: list[Draft]) -> str:
    """One row a draft; cells a spreadsheet would run as a formula get a leading ``'`` (``csv_safety``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS))
    writer.writeheader()
    for draft in drafts:
        score = draft.reading_ease
        writer.writerow(safe_row({
            "question": draft.question,
            "answer": draft.answer,
            "status": draft.status,
            "approved": "yes" if draft.approved else "no",
            "reading_ease": "" if score is None else round(score, 1),  # a number: never neutralised
            "sentence_support": support_summary(draft),
            "sources": "; ".join(f"[{s.n}] {source_line(s)}" for s in draft.citations),
        }))
    return buffer.getvalue()


def write_exports(drafts: list[Draft], folder: Path, stem: str = "faq", title: str = DEFAULT_TITLE) -> list[Path]:
    """The three exports side by side in ``folder``: ``stem``.docx, .md and .csv."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    docx_path = export_docx(drafts, folder / f"{stem}.docx", title)
    md_path = folder / f"{stem}.md"
    md_path.write_text(export_markdown(drafts, title), encoding="utf-8")
    csv_path = folder / f"{stem}.csv"
    csv_path.write_text(export_csv(drafts), encoding="utf-8", newline="")
    return [docx_path, md_path, csv_path]
