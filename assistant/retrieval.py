"""Hybrid retrieval and the context an answerer is given.

- Rankings fused by weighted reciprocal rank: dense (Chroma; each chunk is embedded whole and as
  small sentence windows, and its best vector stands for it), keyword (SQLite FTS5 BM25), chunks
  whose own heading the question names ("urgent care" finds "5.2.1. Urgent care"), chunks holding
  the question's rare words ("Millom"), and, when the question names a document ("the 2019
  strategy", "the board paper"), dense and keyword searches within each such document. Equal
  fused scores are ordered by chunk id, so a ranking never changes between runs.
- How one question is searched (its per-side queries, the documents it names, the sides of a
  comparison and their top k) is planned in ``assistant/query_plan.py``; abbreviations are
  expanded from a glossary.
- Filters by document, kind and date, and by who asks: a user's questions use the official
  documents and their own uploads only (see :class:`Filters`).
- Small-to-big: a short passage (a roadmap year's bullets, say) is widened with its
  neighbours from the same section, and the passages are cut to a token budget.

Why one module of ~400 lines: the rankings above are fused in one search whose caches (the
document list and names, the glossary, the heading index) are all keyed by one index state; the
query plan lives in ``assistant/query_plan.py``, the BM25 planner in ``index/keyword.py`` and the
text rules in ``index/text.py``.
"""

from __future__ import annotations

import heapq
import re
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from assistant import rerank
from assistant.abbreviations import Glossary, mine, vocabulary
from assistant.answers import Source
from assistant.query_plan import MAX_NAMED_ALONE, Compared, DocumentNames, across_sides, compared, comparison_sides, expand_query, interleave, keyword_text, named_groups, side_groups
from index.catalog import Catalog, DocumentRecord, StoredChunk
from index.documents import Provenance
from index.embeddings import english_words
from index.text import sentence_spans, terms
from index.vectors import VectorStore

RRF_K = 60  # the usual reciprocal-rank-fusion constant
SEARCH_THREADS = 4  # dense searches running beside keyword ones, across all searches at once
NAMED_DOCUMENT_WEIGHT = 0.5  # weight of the search within a document the question names
RARE_MIN_CHUNKS = 3  # a word in at most this many chunks (or 1% of them) is rare: it picks out its passages


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its document's details and how it was found."""

    id: str
    doc: str
    title: str
    date: str
    section: str
    page: int | None
    index: int
    start: int
    end: int
    text: str
    tokens: int
    score: float  # fused score, higher is better
    dense_score: float | None = None  # cosine similarity, if the dense search found it
    keyword_score: float | None = None  # BM25, if the keyword search found it
    provenance: Provenance = Provenance()  # where its document came from


@dataclass
class Filters:
    """Which documents to search. Dates compare as text prefixes: "2024" matches "2024-05".

    ``user``: who asks. A user's questions use the official documents and their own uploads, never
    another user's unpublished upload ("" is the one local user of an app without sign-in). None:
    every document, for the server console (the command line and the evaluation)."""

    docs: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    date_from: str = ""
    date_to: str = ""
    user: str | None = None

    def is_empty(self) -> bool:
        return not (self.docs or self.kinds or self.date_from or self.date_to) and self.user is None

    def allows(self, record: DocumentRecord) -> bool:
        if not record.provenance.visible_to(self.user):
            return False
        if self.docs and record.doc not in self.docs:
            return False
        if self.kinds and record.kind.lower() not in {k.lower() for k in self.kinds}:
            return False
        date = record.date or ""
        if self.date_from and (not date or date[: len(self.date_from)] < self.date_from):
            return False
        if self.date_to and (not date or date[: len(self.date_to)] > self.date_to):
            return False
        return True


class Retriever:
    def __init__(
        self,
        catalog: Catalog,
        vectors: VectorStore,
        dense_weight: float = 1.0,
        keyword_weight: float = 1.0,
        pool: int = 30,
        reranker: rerank.Reranker | None = None,
    ):
        """``reranker``: orders the head of the fused ranking (default: the committed one,
        ``assistant/reranker.json``; depth 0 keeps the fused order)."""
        self.catalog = catalog
        self.reranker = reranker if reranker is not None else rerank.load_model()
        self.vectors = vectors
        self.dense_weight = dense_weight
        self.keyword_weight = keyword_weight
        self.pool = pool
        self._sections: tuple[tuple, dict[str, list[tuple[frozenset, frozenset, list[tuple[str, str]]]]]] | None = None
        self._glossary: tuple[tuple, Glossary] | None = None
        self._documents: tuple[tuple, dict[str, DocumentRecord], DocumentNames] | None = None

    def documents(self) -> dict[str, DocumentRecord]:
        """The complete documents by name (a copy of the cache that each search reads)."""
        return dict(self._document_index(self.catalog.version())[0])

    def compared(self, query: str, filters: Filters | None = None) -> Compared | None:
        """The documents ``query`` compares (see :func:`assistant.query_plan.compared`) among those
        ``filters`` lets its asker see (an upload nobody else may see never changes what is compared)."""
        records, names = self._document_index(self.catalog.version())
        named = [doc for doc in names.named(query) if filters is None or filters.allows(records[doc])]
        if filters is not None and filters.docs:
            named = [doc for doc in named if doc in filters.docs]
        # unlike a search's named groups, naming every document still sets them side by side
        return compared(query, [[doc] for doc in named] if len(named) <= MAX_NAMED_ALONE else [named])

    def within(self, query: str, docs: list[str]) -> str:
        """``query`` as asked of one of ``docs``: without the words that name them."""
        return self._document_index(self.catalog.version())[1].within(query, docs)

    def _document_index(self, state: tuple) -> tuple[dict[str, DocumentRecord], DocumentNames]:
        if self._documents is None or self._documents[0] != state:
            records = {record.doc: record for record in self.catalog.documents() if record.state == "complete"}
            self._documents = (state, records, DocumentNames(list(records.values())))
        return self._documents[1], self._documents[2]

    def search(self, query: str, k: int = 5, filters: Filters | None = None, also: list[str] | None = None) -> list[Passage]:
        """The k best passages for ``query``; ``also`` adds queries fused at a lower weight
        (for a follow-up: the follow-up's own words beside its rewritten form)."""
        query = query.strip()
        if not query:
            return []
        state = self.catalog.version()  # one index state for every cache this search reads
        records, names = self._document_index(state)
        docs: list[str] | None = None
        if filters is not None and not filters.is_empty():
            docs = [doc for doc, record in records.items() if filters.allows(record)]
            if not docs:
                return []
            if len(docs) == len(records):  # every document: search unfiltered (the same, and faster)
                docs = None
        in_docs = sum(records[doc].chunks for doc in docs) if docs else None

        scores: dict[str, float] = {}
        dense_scores: dict[str, float] = {}
        keyword_scores: dict[str, float] = {}
        glossary = self.glossary(state)
        chunk_count = self.catalog.chunk_count()
        queries = [glossary.expand(q) for q in expand_query(query)[:5]]
        queries += [glossary.expand(q.strip()) for q in (also or []) if q.strip() and q.strip() != query]
        weights = [1.0] + [0.8] * (len(queries) - 1)
        # the question names a document ("the 2019 strategy", "the board paper"): search each
        # named one alone too, without the words that name it, so each side of a comparison has
        # its own ranking (a name that fits several is one group; one that fits very many, such
        # as "the board paper" among a thousand board papers, names none in particular)
        groups = [named_groups(text, names, docs, records) for text in queries]
        # a comparison of documents alternates between its sides' best passages, and searches
        # within each side (the other documents too, when it sets one against the rest)
        sides = comparison_sides(query, groups[0])
        groups[0] = groups[0] + side_groups(sides, groups[0], docs, records)
        within = [
            [names.within(text, [group[0] for group in text_groups if len(group) == 1])] * len(text_groups)
            for text, text_groups in zip(queries, groups)
        ]
        # the dense searches (the question's embedding, then Chroma) run beside the keyword ones:
        # both spend their time outside Python, so on two cores a search costs the longer of them
        executor = _search_threads()
        dense = [
            [executor.submit(self.vectors.search, text, self.pool, docs, in_docs)]
            + [
                executor.submit(self.vectors.search, inner, self.pool, group, sum(records[d].chunks for d in group))
                for inner, group in zip(inner_texts, text_groups)
            ]
            for text, text_groups, inner_texts in zip(queries, groups, within)
        ]
        keyword_best: list[str] = []  # the question's own keyword search's best passage
        for weight_scale, text, text_groups, inner_texts, jobs in zip(weights, queries, groups, within, dense):
            words = keyword_text(text)
            keyword_hits = self.catalog.keyword_search(words, k=self.pool, docs=docs)
            if not keyword_best and keyword_hits:
                keyword_best = [keyword_hits[0].chunk.id]
            headings = self._heading_matches(text, docs, state)
            rare = self.catalog.rare_terms(words, limit=max(RARE_MIN_CHUNKS, chunk_count // 100))
            rare_hits = self.catalog.keyword_search(" ".join(rare), k=self.pool, docs=docs) if rare else []
            named_hits = [
                self.catalog.keyword_search(keyword_text(inner), k=self.pool, docs=group)
                for inner, group in zip(inner_texts, text_groups)
            ]

            for rank, hit in enumerate(jobs[0].result(), start=1):
                scores[hit.id] = scores.get(hit.id, 0.0) + weight_scale * self.dense_weight / (RRF_K + rank)
                dense_scores[hit.id] = max(dense_scores.get(hit.id, -1.0), hit.score)
            for rank, hit in enumerate(keyword_hits, start=1):
                chunk_id = hit.chunk.id
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weight_scale * self.keyword_weight / (RRF_K + rank)
                keyword_scores[chunk_id] = max(keyword_scores.get(chunk_id, 0.0), hit.score)
            for rank, chunk_id in enumerate(headings, start=1):
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weight_scale * self.keyword_weight / (RRF_K + rank)
            for rank, hit in enumerate(rare_hits, start=1):
                scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + weight_scale * self.keyword_weight / (RRF_K + rank)
            scale = weight_scale * NAMED_DOCUMENT_WEIGHT
            for job, group_hits in zip(jobs[1:], named_hits):
                for rank, hit in enumerate(job.result(), start=1):
                    scores[hit.id] = scores.get(hit.id, 0.0) + scale * self.dense_weight / (RRF_K + rank)
                for rank, hit in enumerate(group_hits, start=1):
                    scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + scale * self.keyword_weight / (RRF_K + rank)

        ranked = sorted(scores, key=lambda i: (-scores[i], i))  # equal scores in chunk id order, every time
        ranked = self._reranked(queries[0], ranked, dense_scores, keyword_scores, keyword_best)
        if sides is None:
            best = ranked[:k]
            chunks = self.catalog.chunks_by_id(best)
        else:  # a comparison of documents: the best of each side in turn
            chunks = self.catalog.chunks_by_id(ranked)
            doc_of = {chunk_id: chunk.doc for chunk_id, chunk in chunks.items()}
            best = interleave(ranked, doc_of, sides or across_sides(ranked, doc_of, scores), k)
        passages = []
        for chunk_id in best:
            chunk = chunks.get(chunk_id)
            if chunk is None:  # a vector the catalogue no longer knows
                continue
            record = records.get(chunk.doc)
            # fail closed: a document completed after this search began (an upload committing now)
            # is not in its snapshot, so nobody is known to be allowed to see it yet
            if record is None or (filters is not None and not filters.allows(record)):
                continue
            passages.append(
                _passage(chunk, record.title, record.date, scores[chunk_id], dense_scores.get(chunk_id),
                         keyword_scores.get(chunk_id), record.provenance)
            )
        return passages

    def _reranked(self, query: str, ranked: list[str], dense: dict[str, float], keyword: dict[str, float],
                  also: Sequence[str] = ()) -> list[str]:
        """The fused ranking with its first ``depth`` chunks in the reranker's order (see
        :mod:`assistant.rerank`); a comparison's sides are interleaved after this. ``also``: chunks
        from further down that the reranker weighs beside them (the keyword search's best: fusion
        by rank alone can leave the one passage holding the question's words below passages each
        search found only half-way down; dev hit@5 0.945 -> 0.970, MRR 0.840 -> 0.853)."""
        depth = self.reranker.depth
        if depth <= 1 or len(ranked) < 2:
            return ranked
        extra = [chunk_id for chunk_id in dict.fromkeys(also) if chunk_id in ranked[depth:]]
        chunks = self.catalog.chunks_by_id(ranked[:depth] + extra)
        head = [chunk_id for chunk_id in ranked[:depth] + extra if chunk_id in chunks]
        position = {chunk_id: rank for rank, chunk_id in enumerate(ranked, start=1)}
        candidates = [
            rerank.Candidate(position[c], chunks[c].section, chunks[c].text, dense.get(c), keyword.get(c))
            for c in head
        ]
        found = rerank.signals(query, candidates, self.catalog.term_counts, self.catalog.chunk_count())
        return [head[i] for i in self.reranker.order(found)] + [c for c in ranked[depth:] if c not in extra]

    def glossary(self, state: tuple | None = None) -> Glossary:
        """Common NHS abbreviations plus those the official documents define (cached per index
        state): an upload must not change how anyone else's question is read, so it adds no
        abbreviation and no word a misspelling is read as; its words only keep a question's same
        words from being taken for misspellings."""
        state = self.catalog.version() if state is None else state
        if self._glossary is None or self._glossary[0] != state:
            defined: dict[str, str] = {}
            words: Counter[str] = Counter()
            known: set[str] = set()  # an upload's words too: none of them is taken for a misspelling
            for record in self.catalog.documents():
                text = self.catalog.document_text(record.doc) or ""
                if not record.provenance.official:
                    known |= set(vocabulary(text))
                    continue
                for abbreviation, meaning in mine(text).items():
                    defined.setdefault(abbreviation, meaning)
                words.update(vocabulary(text))
            self._glossary = (state, Glossary(defined, words, english_words(), frozenset(known)))
        return self._glossary[1]

    def _heading_matches(self, query: str, docs: list[str] | None, state: tuple) -> list[str]:
        """Chunks whose own (last) heading is named by the query, best-matching path first
        (then by chunk id)."""
        wanted = frozenset(terms(query))
        if not wanted:
            return []
        by_term = self._section_index(state)
        sections = {id(entry): entry for term in wanted for entry in by_term.get(term, ())}
        ranked: dict[tuple[int, int], list[list[tuple[str, str]]]] = {}
        for own, path, chunks in sections.values():
            if own <= wanted:
                ranked.setdefault((-len(path & wanted), -len(own)), []).append(chunks)
        allowed = set(docs) if docs is not None else None
        found: list[str] = []
        for key in sorted(ranked):
            for chunk_id, doc in heapq.merge(*ranked[key]):
                if allowed is None or doc in allowed:
                    found.append(chunk_id)
                    if len(found) == self.pool:
                        return found
        return found

    def _section_index(self, state: tuple) -> dict[str, list[tuple[frozenset, frozenset, list[tuple[str, str]]]]]:
        """Each heading term → the sections whose own heading holds it, as (terms of the own
        heading, terms of the heading path, its chunks as (chunk id, doc) in id order); cached
        per index state. By section, not by chunk: a big index repeats its headings, and a
        question then looks at each distinct heading once (at 250,000 chunks, 120 ms → <5 ms)."""
        def heading_terms(text: str) -> frozenset:
            return frozenset(t for t in terms(text) if not re.fullmatch(r"[\d.]+", t))

        if self._sections is None or self._sections[0] != state:
            by_section: dict[tuple[frozenset, frozenset], list[tuple[str, str]]] = {}
            seen: dict[str, tuple[frozenset, frozenset]] = {}
            for chunk_id, doc, section in self.catalog.chunk_sections():
                if section not in seen:
                    seen[section] = (heading_terms(section.split(" > ")[-1]), heading_terms(section))
                by_section.setdefault(seen[section], []).append((chunk_id, doc))
            index: dict[str, list[tuple[frozenset, frozenset, list[tuple[str, str]]]]] = {}
            for (own, path), chunks in by_section.items():
                entry = (own, path, sorted(chunks))
                for term in own:
                    index.setdefault(term, []).append(entry)
            self._sections = (state, index)
        return self._sections[1]

    def sources(self, passages: list[Passage], budget_tokens: int, count_tokens, widen_below: int = 120) -> list[Source]:
        """Number the passages for the answerer, widening short ones, within a token budget.

        A passage under ``widen_below`` tokens takes in the next chunks of its section (then
        the previous ones) while they fit. Passages are kept whole while the budget allows;
        the last one is cut at a sentence end. Always at least one source.
        """
        return fit_to_budget(self._widened(passages, widen_below, budget_tokens), budget_tokens, count_tokens)

    def _widened(self, passages: list[Passage], widen_below: int, budget_tokens: int) -> list[tuple[Source, int]]:
        """Each passage (not already taken in by an earlier one) widened, with its token count."""
        widened: list[tuple[Source, int]] = []
        texts: dict[str, str | None] = {}  # each document's text, read once per call
        used: set[tuple[str, int]] = set()
        spent = 0
        for passage in passages:
            if spent >= budget_tokens:
                break
            if (passage.doc, passage.index) in used:
                continue
            group = [passage.index]
            tokens = passage.tokens
            if passage.tokens < widen_below:
                around = self.catalog.neighbours(passage.doc, passage.index, before=2, after=3)
                same = {c.index: c for c in around if c.section == passage.section}
                for step in (1, 2, 3, -1, -2):
                    chunk = same.get(passage.index + step)
                    if chunk is None or (chunk.doc, chunk.index) in used or tokens + chunk.tokens > widen_below * 2:
                        continue
                    if step > 0 and (passage.index + step - 1) not in group:
                        continue
                    if step < 0 and (passage.index + step + 1) not in group:
                        continue
                    group.append(chunk.index)
                    tokens += chunk.tokens
            group.sort()
            members = self.catalog.neighbours(passage.doc, group[0], before=0, after=group[-1] - group[0])
            start, end = members[0].start, members[-1].end
            if passage.doc not in texts:
                texts[passage.doc] = self.catalog.document_text(passage.doc)
            text = texts[passage.doc]
            body = text[start:end] if text else "\n".join(c.text for c in members)
            source = Source(
                n=len(widened) + 1, doc=passage.doc, title=passage.title, section=passage.section,
                page=passage.page, text=body, start=start, end=end, provenance=passage.provenance, date=passage.date,
            )
            widened.append((source, tokens))
            used.update((passage.doc, i) for i in group)
            spent += tokens
        return widened


_THREADS: ThreadPoolExecutor | None = None
_THREADS_LOCK = threading.Lock()


def _search_threads() -> ThreadPoolExecutor:
    """The threads that run dense searches beside keyword ones (shared by every retriever)."""
    global _THREADS
    with _THREADS_LOCK:
        if _THREADS is None:
            _THREADS = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="dense-search")
        return _THREADS


def fit_to_budget(sources: list[tuple[Source, int]] | list[Source], budget_tokens: int, count_tokens) -> list[Source]:
    """The first sources that fit ``budget_tokens``, the last one cut at a sentence end.

    Takes ``(source, tokens)`` pairs or plain sources (then counted). Always keeps at least one
    source; numbering is unchanged, so a smaller budget gives a prefix of a larger one.
    """
    kept: list[Source] = []
    spent = 0
    for entry in sources:
        source, tokens = entry if isinstance(entry, tuple) else (entry, count_tokens(entry.text))
        if spent + tokens > budget_tokens and kept:
            room = budget_tokens - spent
            if room < 40:
                break
            cut = _cut_to_tokens(source.text, room, count_tokens)
            if not cut:
                break
            source = replace(source, text=cut, end=source.start + len(cut))
            tokens = count_tokens(cut)
        kept.append(source)
        spent += tokens
        if spent >= budget_tokens:
            break
    return kept


def _cut_to_tokens(text: str, budget: int, count_tokens) -> str:
    """The longest run of whole sentences from the start of ``text`` within ``budget`` tokens."""
    kept = ""
    for start, end in sentence_spans(text):
        candidate = text[: end]
        if count_tokens(candidate) > budget:
            break
        kept = candidate
    return kept


def _passage(
    chunk: StoredChunk, title: str, date: str, score: float, dense: float | None, keyword: float | None,
    provenance: Provenance,
) -> Passage:
    return Passage(
        id=chunk.id, doc=chunk.doc, title=title, date=date, section=chunk.section, page=chunk.page,
        index=chunk.index, start=chunk.start, end=chunk.end, text=chunk.text, tokens=chunk.tokens,
        score=score, dense_score=dense, keyword_score=keyword, provenance=provenance,
    )
