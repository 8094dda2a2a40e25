"""The metrics, as pure functions: text in, numbers out. No index, no model, no files.

Key facts (each a list of alternative spellings) are matched after :func:`normalise`; passages
are matched to gold quotes by their character spans in the document's extracted text. Every
function that has nothing to measure returns ``None`` (shown as "–"), never a made-up 0 or 1.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant import support
from index.text import SCORED_CITATION

KeyFacts = Sequence[Sequence[str]]

_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"'})
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_POUND_SPACE = re.compile(r"£\s+(?=\d)")


def normalise(text: str) -> str:
    """Lower case; every run of whitespace one space; unicode dashes "-"; curly quotes straight;
    thousands commas dropped ("35,000" → "35000"); "£ 5m" → "£5m". Applied to both sides."""
    text = (text or "").casefold()
    text = _DASHES.sub("-", text).translate(_QUOTES)
    text = _THOUSANDS.sub("", text)
    text = " ".join(text.split())
    return _POUND_SPACE.sub("£", text)


def fact_present(fact: Sequence[str], text: str, normalised: bool = False) -> bool:
    """True when any alternative of the fact occurs in the text (both normalised)."""
    haystack = text if normalised else normalise(text)
    return any(normalise(alternative) and normalise(alternative) in haystack for alternative in fact)


def facts_found(key_facts: KeyFacts, text: str) -> list[bool]:
    haystack = normalise(text)
    return [fact_present(fact, haystack, normalised=True) for fact in key_facts]


def key_fact_recall(key_facts: KeyFacts, text: str) -> float | None:
    """Share of the key facts present in ``text``; None when there are no key facts."""
    if not key_facts:
        return None
    found = facts_found(key_facts, text)
    return sum(found) / len(found)


def missing_facts(key_facts: KeyFacts, text: str) -> list[str]:
    """The first spelling of every key fact absent from ``text``."""
    return [fact[0] for fact, found in zip(key_facts, facts_found(key_facts, text)) if not found]


def fully_correct(key_facts: KeyFacts, text: str) -> bool | None:
    recall = key_fact_recall(key_facts, text)
    return None if recall is None else recall == 1.0


# -- passages against gold quotes ------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Where a gold quote lies in a document's extracted text: [start, end)."""

    doc: str
    start: int
    end: int
    quote: str


def quote_spans(doc: str, quote: str, text: str | None) -> list[Span]:
    """Every place the quote occurs in the document text (empty when it occurs nowhere)."""
    spans: list[Span] = []
    if not text or not quote:
        return spans
    at = text.find(quote)
    while at >= 0:
        spans.append(Span(doc, at, at + len(quote), quote))
        at = text.find(quote, at + 1)
    return spans


def passage_holds_quote(
    doc: str, start: int, end: int, text: str, span: Span, min_overlap: float = 0.5, section: str = ""
) -> bool:
    """Does the passage ``doc[start:end]`` hold the gold quote?

    Yes when it is in the same document and either covers at least ``min_overlap`` of the
    quote's characters, or holds the quote's text (normalised; its heading path included, since
    a quote can be a heading).
    """
    if doc != span.doc:
        return False
    length = max(1, span.end - span.start)
    if min(end, span.end) - max(start, span.start) >= min_overlap * length:
        return True
    return normalise(span.quote) in normalise(f"{section} {text}")


def passage_hits(passage, spans: Iterable[Span], min_overlap: float = 0.5) -> bool:
    """A passage (anything with doc, start, end, text and optionally section) hits any gold span."""
    section = getattr(passage, "section", "") or ""
    return any(
        passage_holds_quote(passage.doc, passage.start, passage.end, passage.text, span, min_overlap, section)
        for span in spans
    )


def first_hit_rank(passages: Sequence, spans: Sequence[Span], k: int | None = None) -> int | None:
    """1-based rank of the first passage that holds a gold quote, within the top k; None if none."""
    for rank, passage in enumerate(passages[:k] if k else passages, start=1):
        if passage_hits(passage, spans):
            return rank
    return None


def hit_at_k(passages: Sequence, spans: Sequence[Span], k: int) -> bool | None:
    """True when any of the top k passages holds a gold quote; None without gold spans."""
    if not spans:
        return None
    return first_hit_rank(passages, spans, k) is not None


def reciprocal_rank(passages: Sequence, spans: Sequence[Span], k: int | None = None) -> float | None:
    """1/rank of the first passage holding a gold quote (0 when none is in the top k)."""
    if not spans:
        return None
    rank = first_hit_rank(passages, spans, k)
    return 0.0 if rank is None else 1.0 / rank


def quote_recall(passages: Sequence, quotes: Sequence[Sequence[Span]], k: int | None = None) -> float | None:
    """Share of the gold quotes (each with its possible spans) held by the top k passages."""
    quotes = [spans for spans in quotes if spans]
    if not quotes:
        return None
    top = passages[:k] if k else passages
    return sum(any(passage_hits(p, spans) for p in top) for spans in quotes) / len(quotes)


def context_text(passages: Iterable) -> str:
    """The text an answerer sees: each passage's heading path and text."""
    return "\n".join(f"{getattr(p, 'section', '') or ''}\n{p.text}" for p in passages)


# -- citations ---------------------------------------------------------------------------------


def citation_supported(citation, key_facts: KeyFacts, spans: Sequence[Span]) -> bool:
    """A cited passage supports the answer when it holds a key fact or overlaps a gold quote."""
    haystack = normalise(f"{getattr(citation, 'section', '') or ''} {citation.text}")
    if any(fact_present(fact, haystack, normalised=True) for fact in key_facts):
        return True
    return passage_hits(citation, spans, min_overlap=1e-9)


def citation_support(citations: Sequence, key_facts: KeyFacts, spans: Sequence[Span]) -> float | None:
    """Share of the cited passages that support the answer; None when nothing is cited."""
    if not citations:
        return None
    return sum(citation_supported(c, key_facts, spans) for c in citations) / len(citations)


def sentence_support(sentences: Sequence) -> float | None:
    """Share of an answer's sentences the check marked supported (assistant/support.py); None for none."""
    return sum(s.support == "supported" for s in sentences) / len(sentences) if sentences else None


def answer_sentences(text: str) -> list[str]:
    """The answer cut into sentences and bullets, as the sentence-support check cuts it
    (:func:`assistant.support.sentences`): a citation written after the full stop ("... £350m. [2]")
    belongs to the sentence before it; lead-in lines ending in ":" and fragments without a letter
    or digit are not counted."""
    return [sentence for sentence, _ in support.sentences(text)]


def citation_coverage(text: str) -> float | None:
    """Share of the answer's sentences that carry at least one [n]; None for an empty answer."""
    sentences = answer_sentences(text)
    if not sentences:
        return None
    return sum(bool(SCORED_CITATION.search(s)) for s in sentences) / len(sentences)


# -- aggregation ---------------------------------------------------------------------------------


def mean(values: Iterable) -> float | None:
    """Mean of the values that are not None (booleans count as 0/1); None when there are none."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between the closest ranks; None for no values."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Iterable[float]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None
