"""Check the numbered citations in a generated answer against the passages it was given, and
number the passages as the answer reads them.

A citation ``[n]`` must name one of the passages. A number that names none is removed from
the text and reported; an answer left with no valid citation is marked unsupported. Then the
passages are numbered 1, 2, 3 in the order the answer first cites them (the others after, in
their order): an answer citing only the fourth passage shows "[1]" and one source headed [1],
not "[4]" as if three were lost. Each source keeps the number it was read under as ``passage``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from assistant.answers import Source
from index.text import CITATION, WRITTEN_CITATION


@dataclass
class CitationCheck:
    text: str  # the answer with invalid citations removed
    cited: list[Source] = field(default_factory=list)  # valid sources, in order of first citation
    invalid: list[int] = field(default_factory=list)  # numbers that named no passage

    @property
    def supported(self) -> bool:
        return bool(self.cited)


def _numbers(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|and)\s*", group):
        if re.fullmatch(r"\d+\s*[-–]\s*\d+", part):
            low, high = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            numbers.extend(range(low, high + 1) if high - low < 20 else [low, high])
        elif part.strip().isdigit():
            numbers.append(int(part))
    return numbers


def check_citations(text: str, sources: list[Source]) -> CitationCheck:
    by_number = {source.n: source for source in sources}
    cited: dict[int, Source] = {}
    invalid: list[int] = []

    def rewrite(match: re.Match) -> str:
        numbers = _numbers(match.group(1))
        good = [n for n in numbers if n in by_number]
        invalid.extend(n for n in numbers if n not in by_number and n not in invalid)
        for n in good:
            cited.setdefault(n, by_number[n])
        return "".join(f"[{n}]" for n in dict.fromkeys(good))

    cleaned = WRITTEN_CITATION.sub(rewrite, text)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", cleaned)  # a removed citation leaves no stray space
    cleaned = re.sub(r"(?<=\S)[ \t]{2,}", " ", cleaned).strip()  # a nested bullet keeps its indent
    return CitationCheck(text=cleaned, cited=list(cited.values()), invalid=invalid)



def number_as_read(text: str, sources: Sequence[Source]) -> tuple[str, dict[int, int]]:
    """The text with its citations renumbered 1, 2, 3 in the order it first cites the sources, and
    the numbering (old number → new) of every source: the cited first, then the others in order."""
    known = {source.n for source in sources}
    order: list[int] = []
    for match in CITATION.finditer(text):
        number = int(match.group(1))
        if number in known and number not in order:
            order.append(number)
    order += [source.n for source in sources if source.n not in order]
    numbering = {old: new for new, old in enumerate(order, start=1)}
    return CITATION.sub(lambda m: f"[{numbering.get(int(m.group(1)), m.group(1))}]", text), numbering


def renumbered(sources: Sequence[Source], numbering: dict[int, int]) -> list[Source]:
    """The sources the numbering knows, numbered by it (in its order), each keeping the number it
    was read under as ``passage``."""
    kept = [replace(source, n=numbering[source.n], passage=source.passage or source.n)
            for source in sources if source.n in numbering]
    return sorted(kept, key=lambda source: source.n)
