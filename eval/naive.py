"""The naive reference: what a plain RAG baseline would do with the same documents.

BM25 (rank-bm25's Okapi BM25) over fixed 1,000-character chunks of the same extracted text the
index holds; the top k chunks are its retrieval, and its answer is the extractive answerer of
assistant/extractive.py applied to those chunks, refused below the engine's coverage threshold.
No headings, no hybrid search, no query rewriting: a follow-up is read together with the earlier
questions as one query. Every run scores it on the same items, so a report always shows how far
the real system is above (or below) this floor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.answers import Source
from index.text import STOPWORDS, WORD

CHUNK_CHARS = 1000
# the reference refuses by the engine's former lexical rule: the best sentence holds less than this
# share of the question's weighted terms (the engine now decides by assistant/answerability.py)
MIN_COVERAGE = 0.45


@dataclass(frozen=True)
class Chunk:
    doc: str
    title: str
    start: int
    end: int
    text: str
    section: str = ""


@dataclass
class NaiveAnswer:
    status: str  # answered | unanswerable
    answer: str
    passages: list[Chunk]
    citations: list[Source]
    seconds: float


def tokenize(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOPWORDS]


def fixed_chunks(doc: str, text: str, title: str = "", size: int = CHUNK_CHARS) -> list[Chunk]:
    """Back-to-back windows of ``size`` characters; the last may be shorter."""
    return [Chunk(doc, title or doc, start, min(start + size, len(text)), text[start : start + size])
            for start in range(0, len(text), size) if text[start : start + size].strip()]


class NaiveReference:
    def __init__(self, texts: dict[str, str], titles: dict[str, str] | None = None, size: int = CHUNK_CHARS):
        from rank_bm25 import BM25Okapi

        titles = titles or {}
        self.chunks = [chunk for doc in sorted(texts) for chunk in fixed_chunks(doc, texts[doc], titles.get(doc, ""), size)]
        if not self.chunks:
            raise ValueError("the naive reference has no text to search")
        self.bm25 = BM25Okapi([tokenize(chunk.text) or ["_"] for chunk in self.chunks])

    def search(self, query: str, k: int) -> list[Chunk]:
        words = tokenize(query)
        if not words:
            return []
        scores = self.bm25.get_scores(words)
        best = sorted(range(len(self.chunks)), key=lambda i: (-scores[i], i))[:k]
        return [self.chunks[i] for i in best if scores[i] > 0]

    def ask(self, question: str, history: list[str] | tuple[str, ...] = (), k: int = 5) -> NaiveAnswer:
        from assistant import extractive
        from assistant.citations import check_citations

        started = time.perf_counter()
        query = " ".join([*history, question])
        passages = self.search(query, k)
        sources = [
            Source(n=n, doc=c.doc, title=c.title, section="", page=None, text=c.text, start=c.start, end=c.end)
            for n, c in enumerate(passages, start=1)
        ]
        found = extractive.answer(query, sources) if sources else None
        if found is None or not found.text or found.best < MIN_COVERAGE:
            return NaiveAnswer("unanswerable", "The documents don't cover this.", passages, [], time.perf_counter() - started)
        cited = check_citations(found.text, sources).cited
        return NaiveAnswer("answered", found.text, passages, cited, time.perf_counter() - started)
