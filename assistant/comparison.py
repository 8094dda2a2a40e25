"""Comparison answers: what each document says, side by side, then where they agree or differ.

A question that compares documents ("how has the deficit changed since 2019?", "do the
commissioning intentions and the roadmap agree on …?", "is it consistent across the documents?")
is answered as a table, one row per document (its title and year) with the sentences of that
document that best answer the question, each cited, oldest document first. Which documents it
compares comes from its wording and the documents it names (:func:`assistant.query_plan.compared`);
the rows come from the passages already retrieved (a comparison's search draws its top passages
from each side). Each row is chosen by the extractive scoring within that document alone, the
question asked without the words that name the documents.

Below the table, one sentence says where they agree or differ: written by the answerer's model
when it has one (``prompts/compare_summary.txt``), else by rule from the figures, sums, shares and
dates the rows give (:func:`rule_summary`), and left out when the rows give nothing to set side by
side. The table is quoted and cited like any extractive answer, so the sentence checks of
:mod:`assistant.support` read each row as one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant import extractive, support
from assistant.answers import Source
from assistant.query_plan import Compared, topic_text
from index.text import CITATION, cited_stretches

MAX_ROWS = 4  # documents side by side at most
MAX_CELL_CHARS = 450  # characters quoted in one row at most (beyond its first sentence)
MIN_ROW_SHARE = 0.25  # a document not named joins only when its best sentence holds this share of the question (chosen on dev)
FIGURE_SHARE = 0.5  # a row without a figure adds its best sentence with one holding this share of the best's (chosen on dev)
HEADER = support.TABLE_HEADER  # ("Document", "What it says"): the sentence check knows it
# what a rule compares, in this order: a plain year or figure is too often a name's ("LSC 2030") or a count's
_KINDS = (("money", "sums"), ("percent", "shares"), ("year", "financial years"))


@dataclass(frozen=True)
class Row:
    doc: str
    label: str  # the document's title and year
    date: str
    text: str  # quoted sentences, each cited: "… £167m per annum [1]"
    cited: tuple[int, ...]
    share: float  # the share of the question the row's best sentence holds


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]

    def markdown(self) -> str:
        lines = [f"| {HEADER[0]} | {HEADER[1]} |", "|---|---|"]
        lines += [f"| {_cell(row.label)} | {_cell(row.text)} |" for row in self.rows]
        return "\n".join(lines)

    def cited(self) -> list[int]:
        return list(dict.fromkeys(n for row in self.rows for n in row.cited))


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("|", "/")).strip()


def label(source: Source) -> str:
    year = source.date[:4]
    return f"{source.title} ({year})" if year and year not in source.title else source.title


def build(question: str, plan: Compared, sources: Sequence[Source], within: Callable[[str, list[str]], str]) -> Table | None:
    """The table for ``question`` from the numbered ``sources``: a row for each document it names
    that the sources hold, and (``plan.others``) for each other document among them whose best
    sentence holds at least ``MIN_ROW_SHARE`` of the question; None when fewer than two documents
    have a row. ``within(question, docs)``: the question without the words naming ``docs``."""
    by_doc: dict[str, list[Source]] = {}
    for source in sources:
        by_doc.setdefault(source.doc, []).append(source)
    asked = within(question, list(plan.named)) if plan.named else question
    rows: list[Row] = []
    for doc, held in by_doc.items():
        named = doc in plan.named
        if not named and not plan.others:
            continue
        row = _row(asked, held)
        if row is not None and (named or row.share >= MIN_ROW_SHARE):
            rows.append(row)
    if plan.others:  # the named ones first, then the others best first
        rows.sort(key=lambda row: (row.doc not in plan.named, -row.share))
    rows = rows[:MAX_ROWS]
    if len(rows) < 2:
        return None
    return Table(tuple(sorted(rows, key=lambda row: (not row.date, row.date))))  # an undated document last


def _row(question: str, held: list[Source]) -> Row | None:
    """What one document says: its extractive answer, and, when that gives no sum, share or
    financial year, its best sentence that gives one (what changed is most often a figure), if it
    holds at least ``FIGURE_SHARE`` of what the best sentence does."""
    asked = topic_text(question)
    result = extractive.answer(asked, held, max_chars=MAX_CELL_CHARS)
    if not result.text or result.best <= 0:
        return None
    text = result.text
    if not _figures(text):
        scoring = extractive.score(asked, held)
        figured = [i for i, unit in enumerate(scoring.units) if _figures(unit.text) and unit.text not in text]
        best = max(figured, key=scoring.share, default=None)
        if best is not None and scoring.share(best) >= FIGURE_SHARE * result.best:
            unit = scoring.units[best]
            text += f" {unit.text.rstrip()} [{unit.source.n}]"
            result.cited.append(unit.source.n)
    text = _one_line(text)
    first = held[0]
    return Row(first.doc, label(first), first.date, text, tuple(result.cited), result.best)


def _figures(text: str) -> list[support.Specific]:
    return [s for s in support.specifics(text) if s.kind in ("money", "percent") or (s.kind == "year" and len(s.value) == 2)]


def _one_line(text: str) -> str:
    """An extractive answer as one cell: its quoted units in order, one after a full stop or a
    lead-in's colon joined by a space, others (list items, headings) by "; ", and a citation said
    once for a run of units citing the same passage."""
    units: list[tuple[str, str]] = []  # (quoted text, its citations)
    for line in text.splitlines():
        line = re.sub(r"^- ", "", line.strip())
        for match in re.finditer(r"(.*?)((?:\s*\[\d+\])+|$)", line):
            if match.group(1).strip():
                units.append((match.group(1).strip(), re.sub(r"\s+", " ", match.group(2)).strip()))
    joined = ""
    for i, (quoted, cites) in enumerate(units):
        following = units[i + 1][1] if i + 1 < len(units) else None
        joined += quoted if not joined else (" " if joined.rstrip()[-1:] in ".!?:" or _ENDS_SENTENCE.search(joined) else "; ") + quoted
        if cites and cites != following:  # "A; B [1]": a run's citation comes at its end
            joined += " " + cites
    return joined


_ENDS_SENTENCE = re.compile(r"[.!?:]\s*(?:\[\d+\]\s*)+$")


def rule_summary(table: Table) -> str:
    """One sentence on where the rows agree or differ, from the sums, shares, dates and figures
    they give (the first kind that at least two rows give); "" when no two rows give one."""
    for kind, plural in _KINDS:
        given: list[tuple[Row, list[support.Specific]]] = []
        for row in table.rows:
            found = [s for s in _figures(row.text) if s.kind == kind]
            if found:
                given.append((row, list({s.value: s for s in found}.values())[:2]))
        if len(given) < 2:
            continue
        values = [frozenset(s.value for s in found) for _, found in given]
        shared = frozenset.intersection(*values)
        if shared:
            same = [s for s in given[0][1] if s.value in shared]
            cites = "".join(f"[{n}]" for n in dict.fromkeys(n for row, _ in given for n in _cite(row, same[:1])))
            who = "Both" if len(given) == 2 else "All of them"
            return f"{who} give {_and([s.written for s in same])} {cites}."
        parts = [f"{_and([s.written for s in found])} in {row.label} {''.join(f'[{n}]' for n in _cite(row, found))}"
                 for row, found in given]
        return f"They give different {plural}: {'; '.join(parts)}."
    return ""


def _cite(row: Row, found: list[support.Specific]) -> list[int]:
    """The passages of ``row`` whose sentences give ``found``: for each, the first that does."""
    cites: list[int] = []
    for figure in found:
        for words, cited in cited_stretches(row.text):  # "A [4]; B [5]": each stretch with its own citation
            # by value: "£5.4bn" is given by a stretch writing "£5.4 billion"
            if cited and any(s.kind == figure.kind and s.value == figure.value for s in support.specifics(words)):
                cites.append(int(cited[0]))
                break
    return list(dict.fromkeys(cites)) or [row.cited[0]]


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def blocks(text: str) -> list[str | list[list[str]]]:
    """An answer cut into its paragraphs (text) and Markdown tables (a list of rows of cells, the
    header first), in order: for exports and a terminal that draw a table as a table."""
    found: list[str | list[list[str]]] = []
    lines = (text or "").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and i + 1 < len(lines) and support.TABLE_RULE.match(lines[i + 1]):
            rows = [_cells(lines[i])]
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            found.append(rows)
            continue
        paragraph = []
        while i < len(lines) and not (lines[i].lstrip().startswith("|") and i + 1 < len(lines) and support.TABLE_RULE.match(lines[i + 1])):
            paragraph.append(lines[i])
            i += 1
        found += [part.strip() for part in re.split(r"\n\s*\n", "\n".join(paragraph)) if part.strip()]
    return found


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def answer_text(table: Table, summary: str) -> str:
    """The comparison answer: the table, then the summary sentence (when there is one)."""
    return table.markdown() + (f"\n\n{summary.strip()}" if summary.strip() else "")
