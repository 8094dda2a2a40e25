"""The evidence an LLM reads: the best sentences of the top passages, within its token budget.

A small model on two cores reads about 20 prompt tokens a second, so its budget is a few hundred
tokens: whole passages would be about two of them, and a list, synthesis or comparison would lose
most of its facts. Instead each of the top passages gives its best sentences, scored against the
question as the extractive answer scores them (:func:`assistant.extractive.score`), and keeps its
own number, heading path and document year. The budget is filled round by round in rank order:
every passage's best sentence first, then a second one for each, then more for the top passages
only. A passage's sentences are shown in document order, "…" marking sentences left out; a
sentence that leads into a list ("The four places are:") brings its items, and an item its lead-in.
The budget counts everything the model reads of the passages: labels, sentences and gaps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace

from assistant import extractive
from assistant.answers import Source
from assistant.retrieval import fit_to_budget

GAP = "…"
HEADINGS = 2  # the last levels of a heading path a label shows ("6.1. 2030 Roadmap > 6.1.4. Service configuration")


def label(source: Source) -> str:
    """'[3] Our next steps (2019) — Priority 5 > 2019/20': its number, short title, year and headings."""
    title = re.split(r" - |: | \(", source.title, maxsplit=1)[0].strip()
    year = f" ({source.date[:4]})" if source.date[:4].isdigit() else ""
    path = " > ".join(source.section.split(" > ")[-HEADINGS:]) if source.section else ""
    return f"[{source.n}] {title}{year}" + (f" — {path}" if path else "")


def context(sources: list[Source]) -> str:
    """The passages as the answer prompt gives them: each labelled, then its text."""
    return "\n\n".join(f"{label(source)}\n{source.text}" for source in sources)


def best_sentences(
    question: str, sources: list[Source], budget: int, count_tokens: Callable[[str], int]
) -> list[Source]:
    """The sources, each cut to its best sentences for ``question``, so that :func:`context` of them
    fits ``budget`` tokens. Sources keep their numbers and spans; one whose best sentence no longer
    fits is left out. With a budget wide enough for every sentence, every source is kept whole."""
    scoring = extractive.score(question, sources, bullet_sentences=True)
    if scoring is None:  # nothing to score by: the first passages, whole
        return fit_to_budget(sources, budget, count_tokens)
    units = scoring.units
    shares = [scoring.share(i) for i in range(len(units))]
    queues = {
        source.n: sorted((i for i in range(len(units)) if units[i].source.n == source.n), key=lambda i: (-shares[i], units[i].position))
        for source in sources
    }
    picked: dict[int, list[int]] = {source.n: [] for source in sources}

    def render(n: int) -> str:
        return _text([units[i] for i in sorted(picked[n], key=lambda i: units[i].position)])

    def spent() -> int:
        kept = [replace(source, text=render(source.n)) for source in sources if picked[source.n]]
        return count_tokens(context(kept))

    round_ = 0
    while any(queues.values()):
        # rounds 1 and 2 reach every passage; then the top half, the top third, ... and, once
        # those have no sentence left, every passage again
        reach = [source for source in sources[: math.ceil(len(sources) / max(1, round_))] if queues[source.n]]
        for source in reach or [source for source in sources if queues[source.n]]:
            queue = queues[source.n]
            first = queue.pop(0)
            for i in [first, *_kin(units, first, queue)]:  # a list comes whole, as far as it fits
                picked[source.n].append(i)
                if spent() > budget:
                    picked[source.n].pop()  # it does not fit: a shorter one further down may
                    break
                if i in queue:
                    queue.remove(i)
            if picked[source.n] and units[picked[source.n][-1]].leads_in:
                picked[source.n].pop()  # a lead-in none of whose items fit is no evidence
        round_ += 1
    return [replace(source, text=render(source.n)) for source in sources if picked[source.n]]


def _kin(units: list[extractive.Unit], i: int, queue: list[int]) -> list[int]:
    """A lead-in's items (up to the extractive answer's cap), or an item's lead-in, of those still
    in its passage's queue, in document order."""
    unit = units[i]
    if unit.lead is None:
        return []
    if unit.leads_in:
        return sorted((j for j in queue if units[j].lead == unit.lead), key=lambda j: units[j].position)[: extractive.MAX_ITEMS]
    return [j for j in queue if units[j].position == unit.lead and units[j].leads_in]


def _text(chosen: list[extractive.Unit]) -> str:
    """Units in document order: a bullet on its own line, sentences of one line joined by a space,
    "…" where units were left out."""
    text = ""
    for before, unit in zip([None, *chosen], chosen):
        piece = f"- {unit.text}" if unit.bullet else unit.text
        if before is None:
            text = piece
            continue
        apart = unit.bullet or unit.line != before.line
        if unit.position != before.position + 1:
            text += f"\n{GAP}\n" if apart else f" {GAP} "
        else:
            text += "\n" if apart else " "
        text += piece
    return text
