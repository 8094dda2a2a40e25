"""Hybrid retrieval: dense (Chroma) and keyword (BM25) results fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

from index.catalog import Catalog, StoredChunk
from index.vectors import VectorStore

RRF_K = 60  # the usual reciprocal-rank-fusion constant


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its document's details and how it was found."""

    id: str
    doc: str
    title: str
    date: str
    section: str
    page: int | None
    start: int
    end: int
    text: str
    score: float  # fused score, higher is better
    dense_rank: int | None = None
    keyword_rank: int | None = None


class Retriever:
    def __init__(self, catalog: Catalog, vectors: VectorStore, dense_weight: float = 1.0, keyword_weight: float = 1.0):
        self.catalog = catalog
        self.vectors = vectors
        self.dense_weight = dense_weight
        self.keyword_weight = keyword_weight

    def search(self, query: str, k: int = 5, docs: list[str] | None = None, pool: int = 30) -> list[Passage]:
        query = query.strip()
        if not query:
            return []
        where = {"doc": {"$in": docs}} if docs else None
        dense = self.vectors.search(query, k=pool, where=where)
        keyword = self.catalog.keyword_search(query, k=pool, docs=docs)

        scores: dict[str, float] = {}
        dense_rank: dict[str, int] = {}
        keyword_rank: dict[str, int] = {}
        for rank, hit in enumerate(dense, start=1):
            dense_rank[hit.id] = rank
            scores[hit.id] = scores.get(hit.id, 0.0) + self.dense_weight / (RRF_K + rank)
        for rank, hit in enumerate(keyword, start=1):
            keyword_rank[hit.chunk.id] = rank
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + self.keyword_weight / (RRF_K + rank)

        best = sorted(scores, key=lambda i: scores[i], reverse=True)[:k]
        chunks = self.catalog.chunks_by_id(best)
        records = {r.doc: r for r in self.catalog.documents()}
        passages = []
        for chunk_id in best:
            chunk = chunks.get(chunk_id)
            if chunk is None:  # a vector the catalogue no longer knows
                continue
            record = records.get(chunk.doc)
            passages.append(
                _passage(chunk, record.title if record else chunk.doc, record.date if record else "",
                         scores[chunk_id], dense_rank.get(chunk_id), keyword_rank.get(chunk_id))
            )
        return passages


def _passage(chunk: StoredChunk, title: str, date: str, score: float, dense: int | None, keyword: int | None) -> Passage:
    return Passage(
        id=chunk.id, doc=chunk.doc, title=title, date=date, section=chunk.section, page=chunk.page,
        start=chunk.start, end=chunk.end, text=chunk.text, score=score, dense_rank=dense, keyword_rank=keyword,
    )
