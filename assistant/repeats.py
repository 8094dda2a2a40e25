"""A small model sometimes says a sentence again, or falls into a loop, writing the same lines
until it runs out of tokens (dev: 8 of the local model's 243 answers said something twice, and
one looped for over five minutes). :func:`looping` tells, as the reply streams, that it has begun
to loop, so the stream can stop there; :func:`without_repeats` leaves out of the reply every
sentence it has already said (with its citations), and any line that leaves empty.

Only a statement of ``MIN_WORDS`` words or more counts: "Yes.", "Not stated." or "- Cancer" may
rightly come under several headings, and so may a heading. A table's rows are left whole.

    looping("- A plan for stroke [1]\\n- B [2]\\n- A plan for stroke [1]\\n- A plan for stroke [1]\\n- A plan for stroke [1]\\n")  # True
    without_repeats("A plan for stroke. [1] B. [2] A plan for stroke. [1]")  # "A plan for stroke. [1] B. [2]"
"""

from __future__ import annotations

import re

from assistant.support import LIST_MARK, stretches
from index.text import CITATION, SCORED_CITATION, WORD

MIN_WORDS = 4  # a statement shorter than this may rightly be said again
LOOP_LINES = 3  # the last lines all said before, citations and all: the model is looping
_BARE_ITEM = re.compile(r"^\s*(?:[-*•·–—▪●◦‣]|\d{1,2}[.)])?\s*$")  # a bullet or list number with nothing after it
_NOT_A_STATEMENT = re.compile(r"^\s*(?:#|\|)|^\s*\*\*[^*]+\*\*:?\s*$")  # a heading, a table row, a bold lead-in


def _said(text: str) -> str:
    """What a sentence or line says: without its citations, bullet, case and closing stop."""
    text = LIST_MARK.sub("", SCORED_CITATION.sub(" ", text))
    return re.sub(r"\s+", " ", text).strip(" .;:,(\"'“‘").casefold()


def _statement(said: str) -> bool:
    return len(WORD.findall(said)) >= MIN_WORDS


def looping(text: str) -> bool:
    """The last ``LOOP_LINES`` whole lines of ``text`` (the one still being written aside; blank
    lines, headings and table rows not counted) each repeat an earlier line, with the same
    citations: the model is going round and will not stop of its own accord."""
    lines = [line for line in text.split("\n")[:-1] if line.strip() and not _NOT_A_STATEMENT.match(line)]
    keys = [(_said(line), tuple(CITATION.findall(line))) for line in lines]
    if len(keys) <= LOOP_LINES:
        return False
    return all(_statement(key[0]) and key in keys[:i] for i, key in enumerate(keys) if i >= len(keys) - LOOP_LINES)


def without_repeats(text: str) -> str:
    """``text`` without each sentence that an earlier one already said, citing no passage the
    earlier did not ("- Cancer services expand [2]" under another year's heading, citing another
    passage, stays); its citations go with it unless the sentence before it, having none of its
    own, is checked against them ("X. Y. [1]": Y goes, "[1]" stays for X). A line left with nothing
    to say goes too."""
    placed = stretches(text)
    seen: dict[str, set[int]] = {}
    cuts: list[tuple[int, int, str]] = []
    for i, (begins, end, sentence, cited, own) in enumerate(placed):
        said = _said(sentence)
        line = text[text.rfind("\n", 0, begins) + 1:].split("\n", 1)[0]
        if not _statement(said) or _NOT_A_STATEMENT.match(line):
            continue
        if said in seen and set(cited) <= seen[said]:
            before = placed[i - 1] if i else None
            lent = own and before is not None and not before[4] and before[3] == cited and "\n" not in text[before[1]:begins]
            kept = " " + "".join(f"[{n}]" for n in cited) if lent else ""
            cuts.append((begins, end, kept))
        seen.setdefault(said, set()).update(cited)
    if not cuts:
        return text
    for begins, end, kept in reversed(cuts):
        text = text[:begins].rstrip(" ") + kept + "\0" + text[end:]  # \0 marks the line it was cut from
    lines = [re.sub(r"^(\s*)\0\s*", r"\1", line).replace("\0", "").rstrip() for line in text.split("\n")
             if "\0" not in line or not _BARE_ITEM.match(SCORED_CITATION.sub("", line.replace("\0", "")))]
    return "\n".join(lines).strip()
