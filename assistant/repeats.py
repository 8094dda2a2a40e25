"""A small model sometimes says a sentence again, or falls into a loop, writing the same lines
until it runs out of tokens (dev, stop 23: 8 of the local model's 243 answers said something
twice, and one looped for over five minutes). :func:`looping` tells, as the reply streams, that it
has begun to loop, so the stream can stop there; :func:`without_repeats` leaves out of the reply
what it has already said (with its citations), and any line or heading that leaves empty.

What a sentence says is read under its headings: the headings, bold lines and short lead-ins
("2026/27:", "Key actions:") above it, each under the ones of a higher level. "- Stroke care is a priority [1]" under "### Blackpool" and again under
"### Preston" says two things; twice under one heading, one. A table's rows are left as they are.

    without_repeats("A plan for stroke care. [1] B. [2] A plan for stroke care. [1]")
    # "A plan for stroke care. [1] B. [2]"
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass

from assistant.support import LIST_MARK, stretches
from index.text import CITATION, SCORED_CITATION, WORD

MIN_WORDS = 4  # a shorter sentence inside a line ("Yes.") is said again only with its whole line
LOOP_SENTENCES = 8  # the last sentences all said before, under the same heading, citations and all: a loop (a block said twice is not)
LOOP_WINDOW = 4000  # characters of the end of a reply read for a loop (a loop repeats what is near)
_BARE_ITEM = re.compile(r"^\s*(?:[-*•·–—▪●◦‣]|\d{1,2}[.)])?\s*$")  # a bullet or list number with nothing after it
_HEADING = re.compile(r"^\s*(?:#{1,6}\s|\*\*[^*]+\*\*:?\s*$)")  # a heading, a bold line
_LEAD_IN = re.compile(r":\s*(?:\[\d+\]\s*)*$")  # a line ending in ":" leads into what follows
LABEL_WORDS = 6  # a lead-in of at most this many words is a label ("2026/27:", "Key actions:"): a heading
_TABLE_ROW = re.compile(r"^\s*\|")


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str
    heading: str  # what it is read under: the headings above it ("blackpool > key actions"; "" for none)
    kind: str  # "heading" | "lead" (a lead-in sentence) | "table" | "blank" | "statement"
    indent: int


def _said(text: str) -> str:
    """What a sentence or line says: without its citations, bullet, case, brackets and closing stop."""
    text = LIST_MARK.sub("", SCORED_CITATION.sub(" ", text))
    return re.sub(r"\s+", " ", text).strip(" .;:,()\"'“”‘’*#").casefold()


def _level(line: str) -> float:
    """How deep a heading is: "#" to "######" 1 to 6, a bold line below them, a lead-in below all."""
    marks = re.match(r"\s*(#{1,6})\s", line)
    return len(marks.group(1)) if marks else 6.5 if line.strip().startswith("**") else 7


def _lines(text: str) -> list[_Line]:
    lines, path, at = [], [], 0  # path: the headings above, (level, what it says), outermost first
    for raw in text.split("\n"):
        kind = ("blank" if not raw.strip() else "table" if _TABLE_ROW.match(raw) else "heading" if _HEADING.search(raw)
                else ("heading" if len(WORD.findall(_said(raw))) <= LABEL_WORDS else "lead") if _LEAD_IN.search(raw)
                else "statement")
        if kind == "heading":
            level = _level(raw)
            path = [entry for entry in path if entry[0] < level] + [(level, _said(raw))]
        heading = " > ".join(said for _, said in path)
        lines.append(_Line(at, at + len(raw), raw, heading, kind, len(raw) - len(raw.lstrip())))
        at += len(raw) + 1
    return lines


def _lines_of(lines: list[_Line], placed: list) -> list[int]:
    """The line each sentence ``placed`` (:func:`assistant.support.stretches`) starts on."""
    starts = [line.start for line in lines]
    return [bisect_right(starts, begins) - 1 for begins, *_ in placed]


def _below(lines: list[_Line], n: int) -> _Line | None:
    """The first line after line ``n`` that is not blank."""
    return next((other for other in lines[n + 1:] if other.kind != "blank"), None)


def _has_items(lines: list[_Line], n: int) -> bool:
    """Lines are indented under line ``n``: cutting it would give its items another parent."""
    below = _below(lines, n)
    return below is not None and below.indent > lines[n].indent


def looping(text: str) -> bool:
    """The last ``LOOP_SENTENCES`` whole sentences of ``text`` (the one still being written aside;
    headings and table rows not counted) each repeat an earlier sentence under the same heading,
    with the same citations: the model is going round and will not stop of its own accord. Read
    over the last ``LOOP_WINDOW`` characters, so a long reply costs no more to check."""
    window = text[-LOOP_WINDOW:]
    window = window[window.find("\n") + 1:] if len(text) > LOOP_WINDOW else window  # from a whole line
    lines = _lines(window)
    placed = stretches(window)
    if not window.endswith("\n"):
        placed = placed[:-1]  # the sentence still being written, or its citation
    keys = [(lines[n].heading, _said(sentence), cited)
            for n, (_, _, sentence, cited, _) in zip(_lines_of(lines, placed), placed) if lines[n].kind == "statement"]
    if len(keys) <= LOOP_SENTENCES:
        return False
    return all(key in keys[:i] for i, key in enumerate(keys) if i >= len(keys) - LOOP_SENTENCES)


def settled(text: str) -> str:
    """``text`` without the sentence it was writing when it was stopped (the whole line when that
    sentence began it): what a stopped loop leaves, as far as its last whole sentence."""
    if text.endswith("\n"):
        return text
    placed = stretches(text)
    if not placed:
        return text
    cut = placed[-1][0]
    line_start = text.rfind("\n", 0, cut) + 1
    if _BARE_ITEM.match(text[line_start:cut]):
        cut = line_start
    return text[:cut]


def without_repeats(text: str) -> str:
    """``text`` without each sentence that an earlier one under the same heading already said,
    citing no passage the earlier did not (a sentence under ``MIN_WORDS`` words only with its whole
    line: "- Cancer [1]" twice in one list); its citations go with it unless the sentence before it
    in its line, having none of its own and kept, is checked against them ("X. Y. [1]": Y goes,
    "[1]" stays for X). A line with lines indented under it stays, so no item changes its parent. A
    line left with nothing to say goes, and so does a heading said before that has nothing left
    under it."""
    lines = _lines(text)
    placed = stretches(text)
    at_line = _lines_of(lines, placed)
    per_line = Counter(at_line)
    alone = {i for i, n in enumerate(at_line) if per_line[n] == 1}  # the only sentence of its line
    seen: dict[tuple[str, str], set[int]] = {}
    cut: list[int] = []
    for i, (begins, end, sentence, cited, own) in enumerate(placed):
        n = at_line[i]
        line = lines[n]
        if line.kind != "statement":
            continue
        said = _said(sentence)
        key = (line.heading, said)
        if (key in seen and set(cited) <= seen[key] and not _has_items(lines, n)
                and (i in alone or len(WORD.findall(said)) >= MIN_WORDS)):
            cut.append(i)
        seen.setdefault(key, set()).update(cited)
    return _cut(text, placed, cut, at_line)


def citation_changes(before: str, after: str) -> tuple[int, int]:
    """How many sentences of ``after`` with citations of their own cite other passages than the same
    sentence under the same headings in ``before`` (its own citations, or those it was checked
    against): (cited where it cited nothing, cited another passage). What
    :func:`assistant.support.attribute` and :func:`assistant.support.recite` changed, counted over
    the sentences :func:`without_repeats` left."""
    def citing(text: str, own_only: bool) -> dict[tuple[str, str], list[tuple[int, ...]]]:
        lines, placed = _lines(text), stretches(text)
        found: dict[tuple[str, str], list[tuple[int, ...]]] = {}
        for n, (_, _, sentence, cited, own) in zip(_lines_of(lines, placed), placed):
            if own or not own_only:
                found.setdefault((lines[n].heading, _said(sentence)), []).append(cited)
        return found

    was = citing(before, own_only=False)  # each copy's citations: one the model cited itself is no change
    changed = [any(was[key]) for key, now in citing(after, own_only=True).items()
               if key in was and now[0] not in was[key]]
    return sum(not old for old in changed), sum(changed)


def without(text: str, unwanted) -> str:
    """``text`` without the sentences for which ``unwanted(sentence)`` is true, cut as
    :func:`without_repeats` cuts a repeat (a line with items under it stays)."""
    lines = _lines(text)
    placed = stretches(text)
    at_line = _lines_of(lines, placed)
    cut = []
    for i, (_, _, sentence, _, _) in enumerate(placed):
        n = at_line[i]
        if lines[n].kind == "statement" and unwanted(sentence) and not _has_items(lines, n):
            cut.append(i)
    return _cut(text, placed, cut, at_line)


def _cut(text: str, placed: list, cut: list[int], at_line: list[int]) -> str:
    """``text`` without the sentences ``placed[i]`` for each i in ``cut``: a sentence's citations go with
    it unless the sentence before it in its line, having none of its own and kept, is checked against
    them; a line left with nothing to say goes, and so does a heading said before with nothing left under it."""
    if not cut:
        return text
    for i in reversed(cut):
        begins, end, _, cited, own = placed[i]
        before = i - 1
        lent = (own and before >= 0 and before not in cut and at_line[before] == at_line[i]
                and not placed[before][4] and placed[before][3] == cited)
        kept = " " + "".join(f"[{n}]" for n in cited) if lent else ""
        text = text[:begins].rstrip(" ") + kept + "\0" + text[end:]  # \0 marks the line it was cut from
    kept_lines: list[str] = []
    emptied: set[int] = set()  # the headings and lead-ins (by kept position) a line under them was cut from
    for raw in text.split("\n"):
        if "\0" in raw:
            raw = re.sub(r"^(\s*)\0[\0\s]*", r"\1", raw).replace("\0", "").rstrip()
            if _BARE_ITEM.match(SCORED_CITATION.sub("", raw)):
                above = next((k for k in range(len(kept_lines) - 1, -1, -1)
                              if _HEADING.search(kept_lines[k]) or _LEAD_IN.search(kept_lines[k])), None)
                if above is not None:
                    emptied.add(above)
                continue
        kept_lines.append(raw)
    return _without_empty_headings(kept_lines, emptied).strip()


def _without_empty_headings(raw_lines: list[str], emptied: set[int] = frozenset()) -> str:
    """The lines without a heading or lead-in that now has nothing under it and was said before
    (what a loop or a repeated block leaves) or had a line under it cut (``emptied``)."""
    lines = _lines("\n".join(raw_lines))
    said_before: set[tuple[str, str]] = set()
    kept = []
    for n, line in enumerate(lines):
        if line.kind in ("heading", "lead"):
            below = _below(lines, n)
            empty = below is None or below.kind in ("heading", "lead") or (
                line.kind == "lead" and below.indent <= line.indent and not LIST_MARK.match(below.text))
            key = (line.heading, _said(line.text))
            if empty and (key in said_before or n in emptied):
                continue
            said_before.add(key)
        kept.append(line.text)
    return "\n".join(kept)
