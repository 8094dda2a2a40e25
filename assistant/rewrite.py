"""Turn a follow-up ("and what about 2027/28?") into a standalone question before retrieval.

With an LLM, the condense-question prompt does it. Without one (extractive mode, or the LLM
is down), a rule does: an elliptical follow-up is read against the previous question, with
financial years moved on or back where the follow-up says so ("the year after").
"""

from __future__ import annotations

import re

from assistant.abbreviations import with_full_years

_YEAR = re.compile(r"\b((?:19|20)\d{2})/(\d{2})\b|\b((?:19|20)\d{2})\b")
_ELLIPTICAL_START = re.compile(
    r"^\s*(and|also|what about|how about|what of|same for|then|but|so|or|plus|and what|and how)\b", re.IGNORECASE
)
_REFERRING = re.compile(
    r"\b(it|its|they|them|their|that|those|this|these|there|the same|the year|the one|the (?:\w+ ){1,2}one|number \d+|next)\b",
    re.IGNORECASE,
)
# "they" among a question's first words refers to what was asked before, however long the question ("are they
# planning to use it for other conditions or in other areas?"); "it" there need not ("how long does it take to
# get an assessment…?", "is it true that…?"), nor "there", "this" or "that" ("is there a plan for dementia?")
_REFERS_EARLY = re.compile(r"\b(?:they|them|their)\b", re.IGNORECASE)
EARLY_WORDS = 4
_NEXT = re.compile(r"\b(year after|following year|next year|year later)\b", re.IGNORECASE)
_PREVIOUS = re.compile(r"\b(year before|previous year|year earlier|prior year|last year)\b", re.IGNORECASE)


def is_follow_up(question: str) -> bool:
    words = question.split()
    return (
        bool(_ELLIPTICAL_START.match(question))
        or len(words) <= 4
        or bool(_NEXT.search(question) or _PREVIOUS.search(question))
        or bool(_REFERRING.search(question) and len(words) <= 12)
        or bool(_REFERS_EARLY.search(" ".join(words[:EARLY_WORDS])))
    )


def _shift_year(match: re.Match, step: int) -> str:
    if match.group(1):  # a financial year such as 2026/27
        start = int(match.group(1)) + step
        return f"{start}/{(start + 1) % 100:02d}"
    return str(int(match.group(3)) + step)


def rewrite_by_rule(question: str, history: list[str]) -> str:
    """A standalone question without an LLM; the question itself when it already stands alone.

    The previous turn is read in its own standalone form, so a follow-up of a follow-up ("and
    the year after that?" after "and the year after?") still has a year to move on."""
    question = question.strip()
    previous = _standalone_last(history)
    if not previous or not is_follow_up(question):
        return question
    # a financial year typed short ("in 26/27", "and 27/28?") is moved on or swapped as the full one is
    question, previous = with_full_years(question), with_full_years(previous)
    step = _year_step(question)
    if step and _YEAR.search(previous):
        return _YEAR.sub(lambda m: _shift_year(m, step), previous)
    new_years = [m.group(0) for m in _YEAR.finditer(question)]
    old_years = [m.group(0) for m in _YEAR.finditer(previous)]
    rest = _YEAR.sub(" ", _ELLIPTICAL_START.sub(" ", question)).strip(" ?.!,")
    if new_years and old_years:
        # "And 2027/28?" after "cancer plans for 2026/27": the same question for the new year
        shifted = previous
        for old, new in zip(old_years, new_years):
            shifted = shifted.replace(old, new, 1)
        rest = re.sub(r"\b(in|for|during|by|of)\s*$", "", rest.strip(" ,")).strip(" ,")
        return shifted if len(rest.split()) <= 2 else f"{shifted.rstrip(' ?')}? {rest}?"
    return f"{previous.rstrip(' ?')}? {question}"


def moves_a_year(question: str, history: list[str]) -> bool:
    """Whether the rule reads ``question`` as the previous question for the year after or before
    ("and the year after?" following "cancer plans for 2026/27"). Its rewrite is then exact, and
    kept over an LLM's (a small model's rewrite can drop the earlier question's subject)."""
    question = question.strip()
    previous = _standalone_last(history)
    return bool(previous and is_follow_up(question) and _year_step(question) and _YEAR.search(with_full_years(previous)))


def _year_step(question: str) -> int:
    return 1 if _NEXT.search(question) else -1 if _PREVIOUS.search(question) else 0


def _standalone_last(history: list[str]) -> str:
    """The last turn of ``history`` as a standalone question (each turn read against the ones
    before it), or "" when there is none."""
    turns = [turn.strip() for turn in history if turn.strip()]
    standalone = ""
    for k, turn in enumerate(turns):
        standalone = turn if k == 0 else _rewrite_one(turn, standalone)
    return standalone


def _rewrite_one(question: str, previous: str) -> str:
    return rewrite_by_rule(question, [previous])


def history_block(history: list[str]) -> str:
    return "\n".join(f"- {turn.strip()}" for turn in history if turn.strip())
