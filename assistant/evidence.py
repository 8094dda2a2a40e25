"""The evidence an LLM reads: the best sentences of the top passages, within its token budget.

A small model on two cores reads about 20 prompt tokens a second, so its budget is a few hundred
tokens, labels included. Sentences are scored against the question as the extractive answer
scores them (:func:`assistant.extractive.score`); every passage keeps its own number, heading
path and document year. First, each of the top passages (in rank order) whose best sentence holds
at least ``FLOOR`` of what the best sentence of all holds gives that sentence (a lead-in with its
list's items, an item with its lead-in), so a passage ranked low that answers the question is
read too; then the rest of the budget goes to the passages in rank order, each grown around the
sentences it has (neighbours first, since the sentence after the best one often holds the fact)
until it is whole. A passage's sentences are shown in document order, "…" marking what was left out.

Chosen on dev (key facts in what the model reads, 132 answerable items, same prompt size): whole
passages (the first that fit) held 0.824 of the key facts; best sentences of 10 passages, FLOOR
0.8: 0.853 (lists 0.72 -> 0.74, synthesis 0.64 -> 0.73, comparisons 0.75 -> 0.81). Spreading the
budget evenly over 8-10 passages held only 0.57-0.80: the facts sit mostly in the top passages,
often in sentences that share no word with the question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from assistant import extractive
from assistant.answers import Source
from assistant.retrieval import fit_to_budget
from index.text import CITATION

GAP = "…"
FLOOR = 0.8  # a passage whose best sentence holds less than this share of what the best one does gives none first
LIST_ITEMS = 8  # a lead-in brings at most this many of its items first (the rest may come as the budget allows)
HEADINGS = 2  # the last levels of a heading path a label shows ("6.1. 2030 Roadmap > 6.1.4. Service configuration")


def short_title(source: Source) -> str:
    """The title as a label gives it: "Our next steps" for "Our next steps: ... (2019)"."""
    return re.split(r" - |: | \(", source.title, maxsplit=1)[0].strip()


def label(source: Source) -> str:
    """'[3] Our next steps (2019) — Priority 5 > 2019/20': its number, short title, year and headings."""
    title = short_title(source)
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
    own = {source.n: [i for i in range(len(units)) if units[i].source.n == source.n] for source in sources}
    picked: dict[int, list[int]] = {source.n: [] for source in sources}
    cost: dict[int, int] = {}  # tokens of each passage's block as picked so far ("\n\n" between blocks included)

    def render(n: int) -> str:
        return _text([units[i] for i in sorted(picked[n], key=lambda i: units[i].position)])

    def add(source: Source, i: int) -> bool:
        """Pick unit ``i`` of ``source`` if the blocks still fit the budget."""
        picked[source.n].append(i)
        tokens = count_tokens(f"{label(source)}\n{render(source.n)}\n\n")
        if sum(cost.values()) - cost.get(source.n, 0) + tokens > budget:
            picked[source.n].pop()
            return False
        cost[source.n] = tokens
        return True

    # 1. each passage's best sentence, in rank order, when it holds enough of the question
    top = max(shares)
    for source in sources:
        best = min(own[source.n], key=lambda i: (-shares[i], units[i].position))
        if shares[best] > 0 and shares[best] >= FLOOR * top and add(source, best):
            for i in _kin(units, best, own[source.n]):  # a lead-in's items, an item's lead-in
                if i not in picked[source.n] and not add(source, i):
                    break
    # 2. the rest of the budget: the passages in rank order, each grown around its sentences
    for source in sources:
        def distance(i: int) -> int:
            return min((abs(units[i].position - units[j].position) for j in picked[source.n]), default=units[i].position)
        for i in sorted((i for i in own[source.n] if i not in picked[source.n]), key=lambda i: (distance(i), units[i].position)):
            if not add(source, i):
                break
    return [replace(source, text=render(source.n)) for source in sources if picked[source.n]]


def _kin(units: list[extractive.Unit], i: int, queue: list[int]) -> list[int]:
    """A lead-in's items (up to LIST_ITEMS), or an item's lead-in, of those still in its passage's
    queue, in document order."""
    unit = units[i]
    if unit.lead is None:
        return []
    if unit.leads_in:
        return sorted((j for j in queue if units[j].lead == unit.lead), key=lambda j: units[j].position)[:LIST_ITEMS]
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


_LINE_START = re.compile(r"^\s*(?:[-*•]\s*|\d{1,2}[.)]\s*)?(?:\[\d+\]\s*)?")  # a bullet or a list number, then [n]


def without_labels(text: str, sources: list[Source]) -> str:
    """``text`` without the lines that copy a passage's label ("- [1] Our next steps (2019) —
    Priority 8"): a small model sometimes repeats the labels of the passages it read as if they
    were its answer (dev: 6 of the local model's 243 answers); they say nothing of their own. A
    line is a label's copy when, past its bullet and number, it is a passage's short title (with
    or without its year), a dash, and nothing but headings of the passages read (citations aside);
    "Our next steps (2019) — Priority 8: teams will be in place by 2020 [1]." says something, and stays."""
    headings = [_plain(source.section) for source in sources if source.section]
    titles = sorted({title for title in map(short_title, sources) if title}, key=len, reverse=True)
    if not titles or not headings:
        return text
    label = re.compile(r"(?:" + "|".join(re.escape(title) for title in titles) + r")\s*(?:\((?:19|20)\d{2}\))?\s*[—–-]\s*(.*)$",
                       re.IGNORECASE)

    def copied(line: str) -> bool:
        match = label.match(_LINE_START.sub("", CITATION.sub(" ", line), count=1).strip())
        rest = _plain(match.group(1)) if match else ""
        return bool(rest) and any(rest in path for path in headings)

    return "\n".join(line for line in text.splitlines() if not copied(line)).strip()


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" :.").casefold()
