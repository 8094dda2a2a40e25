"""A small model sometimes says a sentence again, or falls into a loop, writing the same lines
until it runs out of tokens (dev: 8 of the local model's 243 answers said something twice, and
one looped for over five minutes). :func:`looping` tells, as the reply streams, that it has begun
to loop, so the stream can stop there; :func:`without_repeats` leaves out of the reply every
sentence it has already said (with its citations), and any line that leaves empty.

    looping("- A [1]\\n- B [2]\\n- A [1]\\n- A [1]\\n")   # True: a line written for the third time
    without_repeats("A. [1] B. [2] A. [1]")             # "A. [1] B. [2]"
"""

from __future__ import annotations

import re
from collections import Counter

from assistant.support import stretches
from index.text import SCORED_CITATION

_BARE_BULLET = re.compile(r"^\s*[-*•·–—]\s*$")
LOOP_LINES = 3  # a line written this many times: the model is looping


def _said(text: str) -> str:
    """What a sentence or line says: without its citations, bullet, case and closing stop."""
    text = SCORED_CITATION.sub(" ", text)
    text = re.sub(r"^\s*(?:[-*•·–—]|\d{1,2}[.)])\s+", "", text)
    return re.sub(r"\s+", " ", text).strip(" .;:,").casefold()


def looping(text: str) -> bool:
    """A whole line of ``text`` (the last, still being written, aside) has been written
    ``LOOP_LINES`` times: the model is repeating itself and will not stop of its own accord."""
    lines = [_said(line) for line in text.split("\n")[:-1]]
    return any(count >= LOOP_LINES for line, count in Counter(lines).items() if re.search(r"\w", line))


def without_repeats(text: str) -> str:
    """``text`` without each sentence, and its own citations, that an earlier sentence already
    said; a line left with nothing to say (a bullet, a citation) goes too."""
    seen: set[str] = set()
    cuts: list[tuple[int, int]] = []
    for begins, end, sentence, _, _ in stretches(text):
        said = _said(sentence)
        if said in seen:
            cuts.append((begins, end))
        seen.add(said)
    if not cuts:
        return text
    for begins, end in reversed(cuts):
        text = text[:begins] + "\0" + text[end:]  # marks the line it was cut from
    kept = [line.replace("\0", "").rstrip() for line in text.split("\n")
            if "\0" not in line or re.search(r"\w", SCORED_CITATION.sub("", line))]
    kept = [line for line in kept if not _BARE_BULLET.match(line)]  # a stopped stream's last "-"
    return re.sub(r"[ \t]{2,}", " ", "\n".join(kept)).strip()
