"""HTML for an answer's sources: title, section path and page, expandable to the passage with
the words of the citing sentences marked.

Everything that comes from a document, a user or a model is HTML-escaped before any tag is
added, so a passage holding ``<script>`` or ``<img onerror=...>`` shows as text and never runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from assistant import support
from assistant.answers import Source
from index.text import CITATION, MARK_STOPWORDS, MARK_WORD


def escape(text: str) -> str:
    """HTML-escape text (quotes too), safe inside elements and attribute values."""
    return html.escape(text or "", quote=True)


def cited_sentences(answer_text: str, n: int) -> list[str]:
    """The sentences of an answer that cite source ``n``, as the sentence-support check reads them
    (:func:`assistant.support.sentences`: "… (£20m). [1]" is the sentence before the citation's)."""
    return [sentence for sentence, cited in support.sentences(answer_text) if n in cited]


def terms_of(text: str) -> set[str]:
    """The words worth marking: lower-cased, citation markers, stopwords and 1-2 letter words left out."""
    text = CITATION.sub(" ", text or "")
    found = set()
    for word in MARK_WORD.findall(text):
        word = word.lower().strip(".,")
        if word in MARK_STOPWORDS or (len(word) < 3 and not any(ch.isdigit() for ch in word)):
            continue
        found.add(word)
    return found


def highlight(passage: str, terms: Iterable[str]) -> str:
    """The passage, HTML-escaped, with every word in ``terms`` wrapped in ``<mark>``.

    Neighbouring marked words (only spaces between them) share one ``<mark>``.
    """
    wanted = {term.lower() for term in terms}
    pieces: list[tuple[str, bool]] = []  # (raw text, marked?)
    position = 0
    for match in MARK_WORD.finditer(passage or ""):
        word = match.group(0)
        if word.lower().strip(".,") not in wanted:
            continue
        if match.start() > position:
            pieces.append((passage[position : match.start()], False))
        pieces.append((word, True))
        position = match.end()
    if position < len(passage or ""):
        pieces.append((passage[position:], False))

    merged: list[tuple[str, bool]] = []
    for index, (text, marked) in enumerate(pieces):
        between_marks = (
            not marked and text.strip(" ") == "" and 0 < index < len(pieces) - 1
            and pieces[index - 1][1] and pieces[index + 1][1]
        )
        if merged and merged[-1][1] and (marked or between_marks):
            merged[-1] = (merged[-1][0] + text, True)
        else:
            merged.append((text, marked))
    return "".join(f"<mark>{escape(text)}</mark>" if marked else escape(text) for text, marked in merged)


def where(source: Source) -> str:
    """'Section > Subsection · page 4' (plain text)."""
    parts = [source.section or "No section heading"]
    if source.page:
        parts.append(f"page {source.page}")
    return " · ".join(parts)


def origin_line(source: Source) -> str:
    """'Official', or 'Uploaded by alice on 2026-12-02 (not yet published)' (plain text)."""
    described = source.provenance.describe()
    return described[:1].upper() + described[1:]


def render_source(source: Source, answer_text: str = "", open_: bool = False) -> str:
    """One source as an expandable ``<details>``: the summary names it and says where it came from
    (official, or uploaded by whom and when), the body is the passage."""
    sentences = cited_sentences(answer_text, source.n)
    terms = terms_of(" ".join(sentences)) if sentences else set()
    body = highlight(source.text.strip(), terms)
    origin = "icb-official" if source.provenance.official else "icb-uploaded"
    return (
        f'<details class="icb-source {origin}" data-n="{source.n}"{" open" if open_ else ""}>'
        f'<summary><span class="icb-n">[{source.n}]</span> '
        f'<span class="icb-title">{escape(source.title)}</span>'
        f'<span class="icb-where">{escape(where(source))}</span>'
        f'<span class="icb-origin">{escape(origin_line(source))}</span>'
        '<span class="icb-toggle"></span></summary>'
        f'<div class="icb-passage">{body}</div>'
        f'<div class="icb-meta">{escape(source.doc)}, characters {source.start:,}–{source.end:,}</div>'
        "</details>"
    )


def render_sources(answer_text: str, citations: list[Source], contexts: list[Source] | None = None, status: str = "answered") -> str:
    """The sources panel for one answer: the cited sources, or the closest passages when none is cited.
    While an LLM writes: status "quoted", the sources of the quotes shown meanwhile; "searching",
    the passages the model reads."""
    if citations:
        heading = "Sources of the quotes" if status == "quoted" else "Sources cited in this answer"
        note = "Open a source to read the passage; the words the answer uses are highlighted."
        shown = citations
    elif contexts:
        heading = "Closest passages found" if status == "unanswerable" else "Passages searched"
        note = (
            "These passages were the nearest matches, but they do not answer the question."
            if status == "unanswerable"
            else "The model is writing its answer from these passages."
            if status == "searching"
            else "The answer cites none of these passages."
        )
        shown = contexts
    else:
        return placeholder()
    items = "".join(render_source(source, answer_text) for source in shown)
    return (
        f'<div class="icb-sources"><h3>{escape(heading)}</h3>'
        f'<p class="icb-note">{escape(note)}</p>{items}</div>'
    )


def placeholder(text: str = "Sources for the answer appear here: document, section and page, with the passage.") -> str:
    return f'<div class="icb-sources icb-empty"><p>{escape(text)}</p></div>'
