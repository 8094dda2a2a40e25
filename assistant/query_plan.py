"""How to search one question: its extra queries, the documents it names, and the sides a
comparison's top k must draw from.

- A comparison ("2019 vs 2024", "Blackpool and South Cumbria") also runs one query per side.
- A question names documents by the year they were published ("the 2019 strategy"), their kind
  ("the board paper") or two neighbouring words of their title ("Our next steps"); each named
  document is also searched alone, with the words that name it left out (within a document
  they match every passage, and BM25 then favours its shortest ones over the one that answers).
- Sides: a comparison of documents ("the 2019 strategy and the 2024 report", "how has the 2019
  target changed since?") and a question across the documents ("is it consistent across its
  documents?") search within each side too, and their top k starts with the best passage of
  each side, so one document's many matching passages cannot fill it.

The retriever (``assistant/retrieval.py``) runs and fuses the searches; this module only reads the
question and the list of documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.catalog import DocumentRecord
from index.text import title_words

MAX_NAMED_ALONE = 3  # documents a question names that are each searched alone; more are searched as one
MAX_NAMED_GROUP = 50  # a name that fits more documents than this picks out none of them: no search within them
MAX_SIDES = 5  # documents a question "across the documents" alternates between
ACROSS_MIN_SHARE = 0.5  # ... each with a best passage scoring at least this share of the best one (chosen on dev)

_YEAR = re.compile(r"\b(?:19|20)\d{2}(?:/\d{2})?\b")
_COMPARISON = re.compile(
    r"\b(compare[sd]?|comparison|versus|vs\.?|differ(?:s|ence|ences|ent)?|changed?|contrast|between)\b", re.IGNORECASE
)
# a question that sets one named document against the rest ("has that been updated in the newer
# plans?", "compared with today's places"): a strict comparison, or a word for the other side's time
_AGAINST_OTHERS = re.compile(
    r"\b(compare[sd]?|comparison|versus|vs\.?|differ(?:s|ence|ent)?|contrast|changed?|updated?|newer|older|"
    r"today(?:'s)?|current(?:ly)?|since|latest|more recent)\b",
    re.IGNORECASE,
)
_ACROSS = re.compile(
    r"\b(?:across|in all|all|each|every|both|different|between|of|in)\s+(?:the\s+|its\s+|their\s+|our\s+|these\s+)?"
    r"(?:documents|papers|reports|publications|plans and reports)\b"
    r"|\bthe documents\b|\bcompared? (?:the )?documents\b",
    re.IGNORECASE,
)


# the words that make a question a comparison, not what it is about: a keyword search leaves them
# out (a document rarely says "compare", and BM25 then ranks the one passage that does first)
_COMPARING_WORDS = re.compile(
    r"\b(?:compar(?:e|es|ed|ing|ison|isons)|versus|vs\.?|differ(?:s|ed|ence|ences|ent|ently)?|contrast(?:s|ed)?)\b",
    re.IGNORECASE,
)


def keyword_text(query: str) -> str:
    """``query`` for a keyword search: without the words that only make it a comparison."""
    left = re.sub(r"\s+", " ", _COMPARING_WORDS.sub(" ", query)).strip()
    return left or query


def expand_query(query: str) -> list[str]:
    """The query, plus one query per side when it asks for a comparison."""
    queries = [query]
    years = list(dict.fromkeys(_YEAR.findall(query)))
    if len(years) >= 2:
        for year in years:
            others = [y for y in years if y != year]
            side = query
            for other in others:
                side = side.replace(other, " ")
            queries.append(re.sub(r"\s+", " ", side).strip())
    elif _COMPARISON.search(query):
        match = re.search(
            r"((?:[A-Z][\w&'-]*\s?)+)\s+(?:and|with|versus|vs\.?|to)\s+((?:[A-Z][\w&'-]*\s?)+)", query
        )
        if match:
            left, right = match.group(1).strip(), match.group(2).strip()
            queries.append(query.replace(right, " ").strip())
            queries.append(query.replace(left, " ").strip())
    return queries


def _title_pairs(title: str) -> set[tuple[str, str]]:
    words = title_words(title)
    return set(zip(words, words[1:]))


class DocumentNames:
    """Which documents a question names: by the year it was published ("the 2019 strategy"; a
    financial year such as 2025/26 does not count), its kind ("the board paper"), or two
    neighbouring words of its title ("Our next steps", "state of the system").

    Built once per index state; a question is then looked up by its years, kinds and word
    pairs, not matched against every document (5,000 documents cost 80 ms a question)."""

    def __init__(self, records: list[DocumentRecord]):
        self.order = {record.doc: i for i, record in enumerate(records)}
        self.by_year: dict[str, set[str]] = {}
        self.by_kind: dict[str, set[str]] = {}
        self.by_pair: dict[tuple[str, str], set[str]] = {}
        self.naming: dict[str, re.Pattern] = {}
        self.by_initials: dict[str, set[str]] = {}  # "CI": the commissioning intentions
        for record in records:
            if record.date[:4]:
                self.by_year.setdefault(record.date[:4], set()).add(record.doc)
            kind = record.kind.lower().strip()
            if kind:
                self.by_kind.setdefault(kind, set()).add(record.doc)
                if initials(kind):
                    self.by_initials.setdefault(initials(kind), set()).add(record.doc)
            for pair in _title_pairs(record.title):
                self.by_pair.setdefault(pair, set()).add(record.doc)
            self.naming[record.doc] = _naming_words(record)
        self.kinds = [(re.compile(rf"\b{re.escape(kind)}\b"), docs) for kind, docs in self.by_kind.items()]

    def named(self, query: str) -> list[str]:
        lowered = query.lower()
        years = set(re.findall(r"\b((?:19|20)\d{2})\b(?!/)", lowered))
        words = title_words(lowered)
        pairs = {pair for pair in zip(words, words[1:]) if not any(w.isdigit() for w in pair)}
        found: set[str] = set()
        for year in years:
            found |= self.by_year.get(year, set())
        for pattern, docs in self.kinds:
            if pattern.search(lowered):
                found |= docs
        for pair in pairs:
            found |= self.by_pair.get(pair, set())
        for word in re.findall(r"\b[A-Z]{2,4}\b", query):
            found |= self.by_initials.get(word, set())
        return sorted(found, key=self.order.__getitem__)

    def within(self, query: str, docs: Iterable[str]) -> str:
        """``query`` as searched within a document it names: without the words of the titles,
        kinds and years of ``docs`` (the documents it names), which match every passage of their
        own document and nothing of what is asked (the query itself when nothing else is left)."""
        left = query
        for doc in docs:
            pattern = self.naming.get(doc)
            if pattern is not None:
                left = pattern.sub(" ", left)
        left = re.sub(r"\s+", " ", left).strip()
        return left if title_words(left) else query


def initials(kind: str) -> str:
    """How a kind of document of two or more words is abbreviated: "CI" for "commissioning
    intentions" ("" for a kind of one word)."""
    words = re.findall(r"[a-z]+", kind.lower())
    return "".join(word[0] for word in words).upper() if len(words) >= 2 else ""


def _naming_words(record: DocumentRecord) -> re.Pattern:
    words = set(re.findall(r"[a-z0-9]+", f"{record.title} {record.kind}".lower()))
    if initials(record.kind):
        words.add(initials(record.kind).lower())
    words = {word for word in words if not word.isdigit() or len(word) == 4}
    if record.date[:4]:
        words.add(record.date[:4])
    alternatives = "|".join(sorted((re.escape(word) for word in words), key=len, reverse=True))
    # a year is a publication year only on its own: "2025/26" stays whole
    return re.compile(rf"(?<![\w/])(?:{alternatives})(?![\w/])", re.IGNORECASE)


def named_documents(query: str, records: list[DocumentRecord]) -> list[str]:
    """The documents ``query`` names, in the order of ``records`` (see :class:`DocumentNames`)."""
    return DocumentNames(records).named(query)


def named_groups(query: str, names: DocumentNames, docs: list[str] | None, every: Iterable[str]) -> list[list[str]]:
    """The documents ``query`` names among ``docs`` (None: all of ``every``), each alone, or as
    one group when there are several; none when the name fits (nearly) every document."""
    named = names.named(query)
    if named and docs is not None:
        named = [doc for doc in named if doc in docs]
    if not named or len(named) >= len(docs if docs is not None else list(every)) or len(named) > MAX_NAMED_GROUP:
        return []
    return [[doc] for doc in named] if len(named) <= MAX_NAMED_ALONE else [named]


def comparison_sides(query: str, groups: list[list[str]]) -> list[frozenset[str]] | None:
    """The sides whose best passages a comparison's top k alternates between, as sets of
    documents; an empty set stands for "every other document". None: not a comparison of
    documents. A question across the documents gives ``[]``: alternate between the documents
    of its best passages (see :func:`across_sides`). ``groups``: what :func:`named_groups` gave."""
    if _ACROSS.search(query):
        return []
    alone = [group[0] for group in groups if len(group) == 1]
    if len(alone) >= 2 and (_COMPARISON.search(query) or _AGAINST_OTHERS.search(query)):
        return [frozenset([doc]) for doc in alone]
    if len(alone) == 1 and _AGAINST_OTHERS.search(query):
        return [frozenset(alone), frozenset()]
    return None


# words that set documents side by side without "compare": "is the timing the same in the CI and
# the roadmap?", "do they agree on …?", "the report says £175m but the commissioning intentions say £350m",
# "the report and the commissioning intentions both quote a budget" (no dev or test question changed; a new
# probe's comparison gained a row with its figure), not "both X and Y" ("both mental and physical health")
_SIDE_BY_SIDE = re.compile(
    r"\b(?:the same|agree[sd]?|consistent|align(?:ed)?|moved on|the way|but|whereas|which is right"
    r"|both(?!\s+\S+(?:\s+\S+)?\s+and\b))\b", re.IGNORECASE
)
# a question across the documents that asks for each one's answer ("is it consistent across its
# documents?"), not "what do the documents say about …?"
_ACROSS_EACH = re.compile(
    r"\b(?:across|in all|all|each|every|both|different|between)\s+(?:the\s+|its\s+|their\s+|our\s+|these\s+)?"
    r"(?:documents|papers|reports|publications|plans)\b|\bcompared? (?:the )?documents\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Compared:
    """The documents a comparison sets side by side: those it names, in the order named, and
    (``others``) whichever other documents its passages come from ("since 2019", "across the
    documents")."""

    named: tuple[str, ...]
    others: bool


def compared(query: str, groups: list[list[str]]) -> Compared | None:
    """What ``query`` (as asked, not glossary-expanded: "SDEC" is not "the same") compares, from its
    wording and the documents it names (``groups``: each named document alone); None when it
    compares no documents: two named documents need a word that sets them side by side ("compare",
    "since", "the same", "agree", "but"), one named document a word for the others' time ("since",
    "newer", "changed"), and a question across the documents asks for each ("across its documents")."""
    alone = tuple(group[0] for group in groups if len(group) == 1)
    if _ACROSS_EACH.search(query):
        return Compared(alone, True)
    if len(alone) >= 2 and (_COMPARISON.search(query) or _AGAINST_OTHERS.search(query) or _SIDE_BY_SIDE.search(query)):
        return Compared(alone, False)
    if len(alone) == 1 and _AGAINST_OTHERS.search(query):  # "since the 2019 strategy", "in the newer plans"
        return Compared(alone, True)
    return None


def topic_text(query: str) -> str:
    """What a comparison asks about, without the words that make it one ("changed since", "the
    same in"): what each document is asked for its row."""
    left = _SIDE_BY_SIDE.sub(" ", _AGAINST_OTHERS.sub(" ", keyword_text(query)))
    left = re.sub(r"\b(?:same|match(?:es)?)\b", " ", left, flags=re.IGNORECASE)  # "the same" once "the" named a document
    left = re.sub(r"\s+", " ", left).strip()
    return left if title_words(left) else query


def side_groups(sides: list[frozenset[str]] | None, groups: list[list[str]], docs: list[str] | None, every: Iterable[str]) -> list[list[str]]:
    """The searches within documents that the sides need beside ``groups`` (the named ones):
    "every other document" as one group, and each document for a question across them (when
    there are at most ``MAX_SIDES``; in a bigger index its best passages' documents are the sides)."""
    if sides is None:
        return []
    allowed = list(docs if docs is not None else every)
    searched = [group for group in groups if len(group) == 1]
    if not sides:
        return [[doc] for doc in allowed if [doc] not in searched] if len(allowed) <= MAX_SIDES else []
    named = frozenset().union(*sides)
    others = [doc for doc in allowed if doc not in named]
    return [others] if others and frozenset() in sides else []


def across_sides(ranked: list[str], doc_of: dict[str, str], scores: dict[str, float]) -> list[frozenset[str]]:
    """The sides of a question across the documents: each of the first ``MAX_SIDES`` documents of
    the fused ranking whose best passage scores at least ``ACROSS_MIN_SHARE`` of the best one (a
    document with nothing close to the question is not made to give a passage)."""
    if not ranked:
        return []
    floor = ACROSS_MIN_SHARE * scores[ranked[0]]
    docs = [doc_of[chunk] for chunk in ranked if chunk in doc_of and scores[chunk] >= floor]
    return [frozenset([doc]) for doc in list(dict.fromkeys(docs))[:MAX_SIDES]]


def interleave(ranked: list[str], doc_of: dict[str, str], sides: list[frozenset[str]], k: int) -> list[str]:
    """The top k of ``ranked`` (chunk ids, best first) with the best passage of each side first
    (the sides in the order of their best passages; an empty side is every document not on
    another side), then the rest in ranked order. Every side is in the top k, and a side's
    second passage still outranks another side's weak best one only by its score.
    (Measured on dev against taking each side in turn all the way down: MRR 0.831 against 0.829,
    comparisons hit@5 0.929 against 0.857.)"""
    named = frozenset().union(*sides) if sides else frozenset()

    def on_side(chunk: str, side: frozenset[str]) -> bool:
        doc = doc_of.get(chunk)
        return doc in side if side else doc not in named

    bests = [next((chunk for chunk in ranked if on_side(chunk, side)), None) for side in sides]
    chosen = sorted({chunk for chunk in bests if chunk is not None}, key=ranked.index)[:k]
    return chosen + [chunk for chunk in ranked if chunk not in chosen][: k - len(chosen)]
