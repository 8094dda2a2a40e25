"""Keyword search: the BM25 planner over the catalogue's FTS5 index (``chunks_fts``).

FTS5 ranks chunks with its built-in BM25, but it scores every chunk that holds any word of a
query, which in a big index is most of a search's time. The planner searches the rarest words
first, within a budget of chunks, and proves from an upper bound on the other words' share of the
score that the k chunks found are the k that searching every word would give (see
:meth:`KeywordSearch.keyword_plan` and :meth:`KeywordSearch._ranked`).

:class:`KeywordSearch` is a part of :class:`index.catalog.Catalog` (its base class), so a
catalogue searches itself: ``catalog.keyword_search("urgent care", k=5)``. It reads the
catalogue's connection, lock and ledger, and its chunk store through :meth:`chunk_runs` and
:meth:`chunks_by_rowid`; the catalogue writes ``chunks_fts`` with its chunks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.text import SEARCH_WORD, STOPWORDS

if TYPE_CHECKING:
    from index.catalog import StoredChunk

COMMON_SHARE = 0.5  # a word in more than this share of chunks is left out of a keyword search
TERM_CACHE_SIZE = 50_000  # words whose chunk counts are kept until the index changes
DOCS_SEARCHED_ONE_BY_ONE = 10  # a keyword search within at most this many documents takes each alone
BM25_K1 = 1.2  # FTS5's BM25 term-frequency saturation (its default)
WIDE_SEARCH_CHUNKS = 1000  # best chunks of the whole index a keyword search within many documents looks through first


@dataclass(frozen=True)
class KeywordHit:
    chunk: StoredChunk
    score: float  # BM25, higher is better


@dataclass(frozen=True)
class KeywordPlan:
    """How one keyword search runs: FTS5 phrases of the ``rare`` words (searched: every chunk
    holding one is scored) and of the ``rest`` (they only add to those chunks' scores); ``bound``,
    the most the ``rest`` can give a chunk; ``postings``, how many chunks hold a rare word (at most)."""

    rare: list[str]
    rest: list[str]
    bound: float
    postings: int


def query_terms(text: str) -> list[str]:
    """The words of ``text`` worth searching for, each quoted as an FTS5 phrase (safe for any input)."""
    terms: list[str] = []
    for word in SEARCH_WORD.findall(text.lower()):
        word = word.replace("’", "'")
        if word in STOPWORDS or (len(word) == 1 and not word.isdigit()):
            continue
        # "co-produce" also as "coproduce", "follow-up" as "followup": documents spell them both ways
        forms = [word, word.replace("-", "")] if re.fullmatch(r"[a-z]+(?:-[a-z]+)+", word) else [word]
        for form in forms:
            quoted = '"' + form.replace('"', '""') + '"'
            if quoted not in terms:
                terms.append(quoted)
    return terms


class KeywordSearch:
    """BM25 keyword search over ``chunks_fts``, planned to a budget (the catalogue's base class).

    The catalogue supplies ``db`` (its SQLite connection), ``_lock``, :meth:`version`,
    :meth:`chunk_count`, :meth:`chunk_runs` and :meth:`chunks_by_rowid`."""

    def __init__(self, keyword_budget: int):
        """``keyword_budget``: the chunks a keyword search scores first, for its rarest words
        (0: every word at once; see :meth:`keyword_plan`)."""
        self.keyword_budget = keyword_budget
        self._term_counts: tuple[tuple, dict[str, int]] = ((), {})

    def term_counts(self, terms: list[str]) -> dict[str, int]:
        """How many chunks hold each of ``terms`` (FTS5 phrases, as :func:`query_terms` gives
        them). Kept until the index changes: counting a common word reads its whole posting list."""
        state = self.version()
        with self._lock:
            if self._term_counts[0] != state or len(self._term_counts[1]) > TERM_CACHE_SIZE:
                self._term_counts = (state, {})
            counts = self._term_counts[1]
            for term in terms:
                if term not in counts:
                    sql = "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?"
                    counts[term] = self.db.execute(sql, (term,)).fetchone()[0]
            return {term: counts[term] for term in terms}

    def rare_terms(self, query: str, limit: int) -> list[str]:
        """The words of ``query`` that occur in at least one and at most ``limit`` chunks:
        names and places such as "Millom" that pick out a passage."""
        counts = self.term_counts(query_terms(query))
        return [term.strip('"').replace('""', '"') for term, count in counts.items() if 0 < count <= limit]

    def search_terms(self, query: str) -> list[str]:
        """The words of ``query`` a keyword search uses: those in the index, less any in more
        than half the chunks (unless nothing else is left). BM25 gives such a word no weight
        (its IDF is below zero and FTS5 floors it), yet scoring every chunk that holds it is
        most of a search's time in a big index: "care" is in 69% of this corpus's chunks."""
        plan = self.keyword_plan(query)
        return [term for term in query_terms(query) if term in plan.rare or term in plan.rest]

    def keyword_plan(self, query: str) -> KeywordPlan:
        """How a keyword search for ``query`` runs (see :class:`KeywordPlan`).

        FTS5 scores every chunk that holds any word of the query, about 1.5 µs a chunk: in a big
        index, 100-200 ms a search. So the rarest words, up to ``keyword_budget`` chunks (at least
        one word), are searched; the others only add to the scores of the chunks found. Each word
        adds at most IDF x (k1 + 1) to a chunk's BM25 score; ``bound`` is that sum for the other
        words, the most that a chunk holding none of the rare words can score. When the k-th
        chunk found scores at least that, the k found are exactly the k that searching every
        word would give (see :meth:`_ranked`). With no budget, or a small index, every word is rare."""
        terms = query_terms(query)
        counts = self.term_counts(terms)
        present = [term for term in terms if counts[term]]
        total = self.chunk_count()
        present = [term for term in present if counts[term] <= COMMON_SHARE * total] or present
        rare: set[str] = set()
        postings = 0
        for term in sorted(present, key=counts.__getitem__):  # rarest first
            if rare and self.keyword_budget and postings + counts[term] > self.keyword_budget:
                break
            rare.add(term)
            postings += counts[term]
        rest = [term for term in present if term not in rare]
        bound = sum(_idf(total, counts[term]) * (BM25_K1 + 1) for term in rest) * 1.01 + 1e-9 if rest else 0.0
        return KeywordPlan([term for term in present if term in rare], rest, bound, postings)

    def keyword_search(self, query: str, k: int, docs: list[str] | None = None) -> list[KeywordHit]:
        """The k chunks (of ``docs`` only, when given) that rank best by BM25 for ``query``'s words."""
        plan = self.keyword_plan(query)
        if not plan.rare:
            return []
        if not docs:
            ranked = self._ranked(plan, k)
        elif len(docs) <= DOCS_SEARCHED_ONE_BY_ONE:
            # A document's chunks are written together, so their rows are one run: searching that
            # run lets FTS5 skip the rest of the index (3 ms, against 105 ms filtering by document
            # at 250,000 chunks). The document filter stays, so a run with gaps is still right.
            ranked = [hit for doc, low, high in self.chunk_runs(docs) for hit in self._ranked(plan, k, docs=[doc], span=(low, high))]
            ranked = sorted(ranked, key=lambda hit: hit[1], reverse=True)[:k]
        else:
            # many documents: theirs among the best of the whole index when that is sure to be
            # the answer (filtering each chunk by a long list of documents is the slow part)
            ranked = self._ranked(plan, k, within=set(docs))
            if ranked is None:
                ranked = self._ranked(plan, k, docs=docs)
        if not ranked:
            return []
        # rank inside the full-text index first, then read only the k chunks: joining every match
        # to its chunk row before the sort cost 40 ms a query at 100x the default corpus
        chunks = self.chunks_by_rowid([rowid for rowid, _ in ranked])
        return [KeywordHit(chunk=chunks[rowid], score=score) for rowid, score in ranked if rowid in chunks]

    def _ranked(
        self, plan: KeywordPlan, k: int, docs: list[str] | None = None,
        span: tuple[int, int] | None = None, within: set[str] | None = None,
    ) -> list[tuple[int, float]] | None:
        """(rowid, BM25 score) of the k best chunks for a :meth:`keyword_plan`, best first.

        With other words, two searches score only the chunks holding a rare word: those that
        also hold another word (``R AND O``: BM25 counts both) and those that do not (``R NOT
        O``). A chunk holding only other words scores at most the plan's bound, so if the k-th
        chunk found scores at least that, these k are the answer; else every word is searched.

        ``within``: the chunks of these documents among those of the whole index holding a rare
        word (or its best :data:`WIDE_SEARCH_CHUNKS`, if more), or None when a better chunk of
        theirs may lie beyond those."""
        rare, rest, bound = plan.rare, plan.rest, plan.bound
        either = " OR ".join(rare)
        depth = k if within is None else max(k, min(plan.postings, max(WIDE_SEARCH_CHUNKS, self.keyword_budget)))
        matches = [f"({either}) AND ({' OR '.join(rest)})", f"({either}) NOT ({' OR '.join(rest)})"] if rest else [either]
        found: list[tuple[int, float]] = []
        beyond = [bound] if rest else []  # the most a chunk not found can score
        for match in matches:
            rows = self._query(match, depth, docs, span, with_doc=within is not None)
            if len(rows) == depth:
                beyond.append(rows[-1][1])
            found += [(row[0], row[1]) for row in rows if within is None or row[2] in within]
        found = sorted(found, key=lambda hit: hit[1], reverse=True)[:k]
        if (found[-1][1] >= max(beyond, default=-math.inf)) if len(found) == k else not beyond:
            return found
        if within is not None:
            return None
        return self._query(f"{either} OR {' OR '.join(rest)}", k, docs, span)

    def _query(
        self, match: str, k: int, docs: list[str] | None = None, span: tuple[int, int] | None = None, with_doc: bool = False
    ) -> list[tuple]:
        """(rowid, BM25 score[, doc]) of the k best chunks for an FTS5 query, best first."""
        sql = "SELECT rowid, -bm25(chunks_fts) AS score, doc FROM chunks_fts WHERE chunks_fts MATCH ?"
        params: list = [match]
        if span:
            sql += " AND rowid BETWEEN ? AND ?"
            params += span
        if docs:
            sql += f" AND doc IN ({','.join('?' * len(docs))})"
            params += docs
        sql += " ORDER BY bm25(chunks_fts) LIMIT ?"
        params.append(k)
        return [(row[0], float(row[1]), row[2]) if with_doc else (row[0], float(row[1])) for row in self.db.execute(sql, params)]


def _idf(rows: int, holding: int) -> float:
    """FTS5's BM25 IDF of a word that ``holding`` of ``rows`` chunks hold (floored as FTS5 does)."""
    idf = math.log((rows - holding + 0.5) / (holding + 0.5))
    return idf if idf > 0 else 1e-6
