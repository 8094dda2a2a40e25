"""The catalogue: one SQLite file recording what is indexed, with keyword search.

- ``documents``: one row per indexed file, with its content hash and state (``pending`` while
  it is being written, ``complete`` once its chunks are in both stores), and its provenance
  (``origin`` official or uploaded, ``owner``, ``uploaded_at``, ``published_by``, ``published_at``).
  A run that was killed leaves ``pending`` rows; the next run redoes those documents.
- ``chunks``: every chunk's text, heading path, page and offsets (neighbours for context).
- ``texts``: each document's extracted text, which every offset refers to.
- ``chunks_fts``: an FTS5 full-text index over each chunk's title, headings and text, ranked
  with SQLite's built-in BM25. It is written in the same transaction as ``chunks``, so the
  keyword index is always in step with the chunk list.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from dataclasses import astuple, dataclass
from datetime import datetime, timezone
from pathlib import Path

from index.documents import Chunk, DocumentInfo, Provenance

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    publisher TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'complete')),
    chunks INTEGER NOT NULL DEFAULT 0,
    vectors INTEGER NOT NULL DEFAULT 0,
    characters INTEGER NOT NULL DEFAULT 0,
    pages INTEGER,
    indexed_at TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'official',
    owner TEXT NOT NULL DEFAULT '',
    uploaded_at TEXT NOT NULL DEFAULT '',
    published_by TEXT NOT NULL DEFAULT '',
    published_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL REFERENCES documents(doc) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    section TEXT NOT NULL,
    page INTEGER,
    page_end INTEGER,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    lead_in TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc, idx);
CREATE TABLE IF NOT EXISTS texts (
    doc TEXT PRIMARY KEY REFERENCES documents(doc) ON DELETE CASCADE,
    text TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    search_text, doc UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
# An index from before the keyword index carried each chunk's document (to filter by document
# inside the full-text scan, without a join or a lookup per match): copied into the new form.
FTS_WITH_DOC = """
CREATE VIRTUAL TABLE chunks_fts_new USING fts5(
    search_text, doc UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO chunks_fts_new(rowid, search_text, doc)
    SELECT chunks_fts.rowid, chunks_fts.search_text, chunks.doc FROM chunks_fts JOIN chunks ON chunks.rowid = chunks_fts.rowid;
DROP TABLE chunks_fts;
ALTER TABLE chunks_fts_new RENAME TO chunks_fts;
"""
# An index from before documents had a provenance: every document in it counts as official (it was
# already visible to everyone; an administrator may remove any of them).
PROVENANCE_COLUMNS = {
    "origin": "TEXT NOT NULL DEFAULT 'official'",
    "owner": "TEXT NOT NULL DEFAULT ''",
    "uploaded_at": "TEXT NOT NULL DEFAULT ''",
    "published_by": "TEXT NOT NULL DEFAULT ''",
    "published_at": "TEXT NOT NULL DEFAULT ''",
}

# Words too common to help a keyword search; BM25 would weigh them low anyway.
STOPWORDS = frozenset(
    """a about all also an and any are as at be been but by can could did do does for from had has
    have how i if in into is it its me my no not of on or our over say says said should so than
    that the their them then there these they this those to under up us was we were what when
    where which while who whom why will with would you your tell please""".split()
)


@dataclass(frozen=True)
class DocumentRecord:
    doc: str
    path: str
    title: str
    date: str
    kind: str
    publisher: str
    content_hash: str
    state: str
    chunks: int
    vectors: int
    characters: int
    pages: int | None
    indexed_at: str
    origin: str = "official"
    owner: str = ""
    uploaded_at: str = ""
    published_by: str = ""
    published_at: str = ""

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.origin, self.owner, self.uploaded_at, self.published_by, self.published_at)


@dataclass(frozen=True)
class StoredChunk:
    id: str
    doc: str
    index: int
    section: str
    page: int | None
    page_end: int | None
    start: int
    end: int
    tokens: int
    lead_in: str
    text: str


@dataclass(frozen=True)
class KeywordHit:
    chunk: StoredChunk
    score: float  # BM25, higher is better


def chunk_id(doc: str, content_hash: str, index: int) -> str:
    return f"{doc}#{content_hash[:12]}#{index:05d}"


def doc_of(chunk_id: str) -> str:
    """The document a chunk id (see :func:`chunk_id`) belongs to."""
    return chunk_id.rsplit("#", 2)[0]


def query_terms(text: str) -> list[str]:
    """The words of ``text`` worth searching for, each quoted as an FTS5 phrase (safe for any input)."""
    words = re.findall(r"[\w£$%]+(?:[/.'’-][\w]+)*", text.lower())
    terms: list[str] = []
    for word in words:
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


COMMON_SHARE = 0.5  # a word in more than this share of chunks is left out of a keyword search
TERM_CACHE_SIZE = 50_000  # words whose chunk counts are kept until the index changes
DOCS_SEARCHED_ONE_BY_ONE = 10  # a keyword search within at most this many documents takes each alone
BM25_K1 = 1.2  # FTS5's BM25 term-frequency saturation (its default)
WIDE_SEARCH_CHUNKS = 1000  # best chunks of the whole index a keyword search within many documents looks through first


class Catalog:
    def __init__(self, path: Path, keyword_budget: int = 40_000):
        """``keyword_budget``: the chunks a keyword search scores first, for its rarest words
        (0: every word at once; see :meth:`keyword_plan`)."""
        self.path = Path(path)
        self.keyword_budget = keyword_budget
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._term_counts: tuple[tuple, dict[str, int]] = ((), {})
        self._ledger_cache: tuple[tuple, tuple] = ((), ())
        try:
            self.db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(documents)")}
            if "vectors" not in columns:  # an index from before chunks had several vectors
                with self.db:
                    self.db.execute("ALTER TABLE documents ADD COLUMN vectors INTEGER NOT NULL DEFAULT 0")
            missing = {name: kind for name, kind in PROVENANCE_COLUMNS.items() if name not in columns}
            if missing:
                with self.db:
                    for name, kind in missing.items():
                        self.db.execute(f"ALTER TABLE documents ADD COLUMN {name} {kind}")
            if "doc" not in {row[1] for row in self.db.execute("PRAGMA table_info(chunks_fts)")}:
                self.db.executescript("BEGIN;" + FTS_WITH_DOC + "COMMIT;")
        except sqlite3.DatabaseError as exc:
            raise CatalogError(
                f"The index catalogue {self.path} is damaged ({exc}). Rebuild it with `icb-assistant index --rebuild` "
                "(the damaged file is kept beside the new one)."
            ) from exc

    def close(self) -> None:
        self.db.close()

    # -- metadata ----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock, self.db:
            self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- documents ---------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        rows = self.db.execute("SELECT * FROM documents ORDER BY title COLLATE NOCASE").fetchall()
        return [DocumentRecord(**dict(row)) for row in rows]

    def document(self, doc: str) -> DocumentRecord | None:
        row = self.db.execute("SELECT * FROM documents WHERE doc = ?", (doc,)).fetchone()
        return DocumentRecord(**dict(row)) if row else None

    def is_current(self, doc: str, content_hash: str) -> bool:
        row = self.db.execute("SELECT content_hash, state FROM documents WHERE doc = ?", (doc,)).fetchone()
        return bool(row) and row["content_hash"] == content_hash and row["state"] == "complete"

    def set_path(self, doc: str, path: Path) -> None:
        """Record where an unchanged document now lives (its folder was moved or copied)."""
        with self._lock, self.db:
            self.db.execute("UPDATE documents SET path = ? WHERE doc = ?", (str(path), doc))

    def set_provenance(self, doc: str, provenance: Provenance) -> None:
        """Record where a document came from (an upload published, say); nothing else changes but
        :meth:`version` (who may see it is part of every cache's state)."""
        with self._lock, self.db:
            self.db.execute(
                """INSERT INTO meta(key, value) VALUES ('provenance_changes', '1')
                   ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"""
            )
            self.db.execute(
                "UPDATE documents SET origin=?, owner=?, uploaded_at=?, published_by=?, published_at=? WHERE doc=?",
                (*astuple(provenance), doc),
            )

    def begin_document(self, info: DocumentInfo, content_hash: str, title: str) -> None:
        """Mark a document as being (re)written, dropping its old chunks."""
        with self._lock, self.db:
            self._delete_chunks(info.doc)
            self.db.execute(
                """INSERT INTO documents(doc, path, title, date, kind, publisher, content_hash, state, indexed_at,
                                         origin, owner, uploaded_at, published_by, published_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(doc) DO UPDATE SET path=excluded.path, title=excluded.title,
                     date=excluded.date, kind=excluded.kind, publisher=excluded.publisher,
                     content_hash=excluded.content_hash, state='pending', chunks=0,
                     indexed_at=excluded.indexed_at, origin=excluded.origin, owner=excluded.owner,
                     uploaded_at=excluded.uploaded_at, published_by=excluded.published_by,
                     published_at=excluded.published_at""",
                (info.doc, str(info.path), title, info.date, info.kind, info.publisher, content_hash, _now(),
                 *astuple(info.provenance)),
            )

    def complete_document(
        self, doc: str, content_hash: str, chunks: list[Chunk], search_texts: list[str], text: str, pages: int | None,
        vectors: int | None = None,
    ) -> None:
        """Store a document's text, chunks and keyword index, and mark it complete: one transaction."""
        with self._lock, self.db:
            self._delete_chunks(doc)
            self.db.execute("INSERT OR REPLACE INTO texts(doc, text) VALUES (?, ?)", (doc, text))
            for chunk, search_text in zip(chunks, search_texts):
                cursor = self.db.execute(
                    """INSERT INTO chunks(id, doc, idx, section, page, page_end, start, end, tokens, lead_in, text)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        chunk_id(doc, content_hash, chunk.index), doc, chunk.index, chunk.section, chunk.page,
                        chunk.page_end, chunk.start, chunk.end, chunk.tokens, chunk.lead_in, chunk.text,
                    ),
                )
                self.db.execute(
                    "INSERT INTO chunks_fts(rowid, search_text, doc) VALUES (?, ?, ?)", (cursor.lastrowid, search_text, doc)
                )
            self.db.execute(
                "UPDATE documents SET state='complete', chunks=?, vectors=?, characters=?, pages=?, indexed_at=? WHERE doc=?",
                (len(chunks), len(chunks) if vectors is None else vectors, len(text), pages, _now(), doc),
            )

    def mark_pending(self, doc: str) -> None:
        with self._lock, self.db:
            self.db.execute("UPDATE documents SET state='pending' WHERE doc = ?", (doc,))

    def remove_document(self, doc: str) -> None:
        with self._lock, self.db:
            self._delete_chunks(doc)
            self.db.execute("DELETE FROM texts WHERE doc = ?", (doc,))
            self.db.execute("DELETE FROM documents WHERE doc = ?", (doc,))

    def clear(self) -> None:
        with self._lock, self.db:
            self.db.execute("DELETE FROM chunks_fts")
            self.db.execute("DELETE FROM chunks")
            self.db.execute("DELETE FROM texts")
            self.db.execute("DELETE FROM documents")

    def document_text(self, doc: str) -> str | None:
        row = self.db.execute("SELECT text FROM texts WHERE doc = ?", (doc,)).fetchone()
        return row["text"] if row else None

    def _delete_chunks(self, doc: str) -> None:
        self.db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE doc = ?)", (doc,))
        self.db.execute("DELETE FROM chunks WHERE doc = ?", (doc,))

    # -- chunks ------------------------------------------------------------------------------
    def version(self) -> tuple:
        """Changes whenever a document is added, replaced or removed, or its provenance changes: for caches."""
        return self._ledger()

    def _ledger(self) -> tuple:
        """(documents, when the last was indexed, chunks, provenance changes), read again only once
        the database has changed: ``PRAGMA data_version`` moves with other connections' commits
        and ``total_changes`` with this one's. A search asks several times; at 5,000 documents
        each read of the ledger costs about 1 ms."""
        with self._lock:
            stamp = (self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes)
            if self._ledger_cache[0] != stamp:
                row = self.db.execute(
                    "SELECT COUNT(*), MAX(indexed_at), COALESCE(SUM(chunks), 0), "
                    "(SELECT value FROM meta WHERE key = 'provenance_changes') FROM documents"
                ).fetchone()
                self._ledger_cache = (stamp, tuple(row))
            return self._ledger_cache[1]

    def vector_count(self) -> int:
        """How many vectors the vector store should hold for the complete documents."""
        return self.db.execute("SELECT COALESCE(SUM(vectors), 0) FROM documents WHERE state='complete'").fetchone()[0]

    def chunk_count(self) -> int:
        """Chunks in the index. Read from the ledger (one row a document, kept in the same
        transaction as the chunks) rather than counting every chunk: it runs on each search."""
        return self._ledger()[2]

    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT id FROM chunks")}

    def chunks_by_id(self, ids: list[str]) -> dict[str, StoredChunk]:
        found: dict[str, StoredChunk] = {}
        for begin in range(0, len(ids), 500):
            part = ids[begin : begin + 500]
            marks = ",".join("?" * len(part))
            for row in self.db.execute(f"SELECT * FROM chunks WHERE id IN ({marks})", part):
                found[row["id"]] = _stored(row)
        return found

    def neighbours(self, doc: str, index: int, before: int = 1, after: int = 1) -> list[StoredChunk]:
        rows = self.db.execute(
            "SELECT * FROM chunks WHERE doc = ? AND idx BETWEEN ? AND ? ORDER BY idx",
            (doc, index - before, index + after),
        )
        return [_stored(row) for row in rows]

    # -- keyword search ----------------------------------------------------------------------
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
            spans = self.db.execute(
                f"SELECT doc, MIN(rowid), MAX(rowid) FROM chunks WHERE doc IN ({','.join('?' * len(docs))}) GROUP BY doc", docs
            ).fetchall()
            ranked = [hit for doc, low, high in spans for hit in self._ranked(plan, k, docs=[doc], span=(low, high))]
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
        marks = ",".join("?" * len(ranked))
        rows = {row["rowid"]: row for row in self.db.execute(f"SELECT rowid, * FROM chunks WHERE rowid IN ({marks})", [r for r, _ in ranked])}
        return [KeywordHit(chunk=_stored(rows[rowid]), score=score) for rowid, score in ranked if rowid in rows]

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


@dataclass(frozen=True)
class KeywordPlan:
    """How one keyword search runs: FTS5 phrases of the ``rare`` words (searched: every chunk
    holding one is scored) and of the ``rest`` (they only add to those chunks' scores); ``bound``,
    the most the ``rest`` can give a chunk; ``postings``, how many chunks hold a rare word (at most)."""

    rare: list[str]
    rest: list[str]
    bound: float
    postings: int


class CatalogError(RuntimeError):
    """The catalogue database is unreadable."""


def _stored(row: sqlite3.Row) -> StoredChunk:
    return StoredChunk(
        id=row["id"], doc=row["doc"], index=row["idx"], section=row["section"], page=row["page"],
        page_end=row["page_end"], start=row["start"], end=row["end"], tokens=row["tokens"],
        lead_in=row["lead_in"], text=row["text"],
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
