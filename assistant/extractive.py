"""The extractive answerer: no LLM, the sentences or bullets that best answer the question.

Deterministic and fast. Used when asked for, in fast tests, and as the fallback when the LLM
is down or too slow. Each sentence is quoted verbatim from a passage and cited.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from assistant.answers import Source
from index.text import sentence_spans, terms

_BULLET = re.compile(r"^\s*(?:[-•·*–—▪●◦‣]|\d{1,2}[.)]|[a-z][.)])\s+")
_LIST_QUESTION = re.compile(r"^\s*(what are|which|list|name|give)\b|\b(priorities|plans|actions|steps|areas|ambitions|aims|themes)\b", re.I)


@dataclass(frozen=True)
class Unit:
    source: Source
    text: str
    bullet: bool
    position: int  # order within its source


@dataclass
class ExtractiveResult:
    text: str
    coverage: float  # share of the question's weighted terms the chosen text holds, 0..1
    cited: list[int]
    best: float = 0.0  # the same share for the single best sentence or bullet (with its headings)


def units_of(source: Source) -> list[Unit]:
    """A source cut into sentences, and into single bullets or table rows where it has them."""
    units: list[Unit] = []
    for line in source.text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if _BULLET.match(stripped) or stripped.startswith("|"):
            text = _BULLET.sub("", stripped).strip("| ").replace("\t", " ")
            units.append(Unit(source, re.sub(r"\s*\|\s*", " | ", text), True, len(units)))
            continue
        for start, end in sentence_spans(stripped):
            units.append(Unit(source, stripped[start:end], False, len(units)))
    return units


def answer(question: str, sources: list[Source], max_units: int = 3, max_list_units: int = 6) -> ExtractiveResult:
    """Pick the units that cover the question best; cite each with its source number."""
    wanted = list(dict.fromkeys(terms(question)))
    all_units = [unit for source in sources for unit in units_of(source)]
    if not wanted or not all_units:
        return ExtractiveResult(text="", coverage=0.0, cited=[], best=0.0)

    # rarer terms tell more: weight each question term by its inverse frequency over the units
    unit_terms = [set(terms(unit.text)) for unit in all_units]
    section_terms = {source.n: set(terms(source.section + " " + source.title)) for source in sources}
    count = len(all_units)
    weight = {t: math.log(1 + count / (1 + sum(t in ts for ts in unit_terms))) + (1.0 if re.search(r"\d", t) else 0.0) for t in wanted}
    total = sum(weight.values())

    def share(i: int) -> float:
        unit = all_units[i]
        got = sum(weight[t] for t in wanted if t in unit_terms[i])
        got += 0.7 * sum(weight[t] for t in wanted if t not in unit_terms[i] and t in section_terms[unit.source.n])
        return got / total

    shares = [share(i) for i in range(count)]
    scores = [shares[i] + 0.05 / all_units[i].source.n for i in range(count)]  # earlier sources win ties
    scored = sorted(range(count), key=lambda i: (-scores[i], all_units[i].source.n, all_units[i].position))
    best = scored[0]
    best_score = scores[best]
    chosen = [best]
    listing = bool(_LIST_QUESTION.search(question)) and all_units[best].bullet
    limit = max_list_units if listing else max_units
    for i in scored[1:]:
        if len(chosen) >= limit:
            break
        unit = all_units[i]
        same_list = listing and unit.bullet and unit.source.n == all_units[best].source.n
        if same_list or scores[i] >= 0.6 * best_score:
            if unit.text not in {all_units[j].text for j in chosen}:
                chosen.append(i)
    chosen.sort(key=lambda i: (all_units[i].source.n != all_units[best].source.n, all_units[i].source.n, all_units[i].position))

    covered = set()
    for i in chosen:
        unit = all_units[i]
        covered |= {t for t in wanted if t in unit_terms[i] or t in section_terms[unit.source.n]}
    coverage = sum(weight[t] for t in covered) / total

    lines = []
    for i in chosen:
        unit = all_units[i]
        text = unit.text.rstrip()
        lines.append(("- " if listing else "") + f"{text} [{unit.source.n}]")
    body = "\n".join(lines) if listing else " ".join(lines)
    cited = list(dict.fromkeys(all_units[i].source.n for i in chosen))
    return ExtractiveResult(text=body, coverage=coverage, cited=cited, best=shares[best])
