"""Check the numbered citations in a generated answer against the passages it was given.

A citation ``[n]`` must name one of the passages. A number that names none is removed from
the text and reported; an answer left with no valid citation is marked unsupported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answers import Source
from index.text import WRITTEN_CITATION


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
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned).strip()
    return CitationCheck(text=cleaned, cited=list(cited.values()), invalid=invalid)

