"""The catalogue: one SQLite file recording what is indexed, with keyword search.

- ``documents``: one row per indexed file, with its content hash and state (``pending`` while
  it is being written, ``complete`` once its chunks are in both stores). A run that was killed
  leaves ``pending`` rows; the next run redoes those documents.
- ``chunks``: every chunk's text, heading path, page and offsets (neighbours for context).
- ``texts``: each document's extracted text, which every offset refers to.
- ``chunks_fts``: an FTS5 full-text index over each chunk's title, headings and text, ranked
  with SQLite's built-in BM25. It is written in the same transaction as ``chunks``, so the
  keyword index is always in step with the chunk list.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from index.documents import Chunk, DocumentInfo

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
    indexed_at TEXT NOT NULL
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


def keyword_query(text: str) -> str:
    """An FTS5 query matching any of the words of ``text``; safe for any user input."""
    return " OR ".join(query_terms(text))


class Catalog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
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

    def begin_document(self, info: DocumentInfo, content_hash: str, title: str) -> None:
        """Mark a document as being (re)written, dropping its old chunks."""
        with self._lock, self.db:
            self._delete_chunks(info.doc)
            self.db.execute(
                """INSERT INTO documents(doc, path, title, date, kind, publisher, content_hash, state, indexed_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)
                   ON CONFLICT(doc) DO UPDATE SET path=excluded.path, title=excluded.title,
                     date=excluded.date, kind=excluded.kind, publisher=excluded.publisher,
                     content_hash=excluded.content_hash, state='pending', chunks=0,
                     indexed_at=excluded.indexed_at""",
                (info.doc, str(info.path), title, info.date, info.kind, info.publisher, content_hash, _now()),
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
        """Changes whenever a document is added, replaced or removed: one cheap query, for caches."""
        row = self.db.execute("SELECT COUNT(*), MAX(indexed_at), SUM(chunks) FROM documents").fetchone()
        return tuple(row)

    def vector_count(self) -> int:
        """How many vectors the vector store should hold for the complete documents."""
        return self.db.execute("SELECT COALESCE(SUM(vectors), 0) FROM documents WHERE state='complete'").fetchone()[0]

    def chunk_count(self) -> int:
        """Chunks in the index. Read from the ledger (one row a document, kept in the same
        transaction as the chunks) rather than counting every chunk: it runs on each search."""
        return self.db.execute("SELECT COALESCE(SUM(chunks), 0) FROM documents").fetchone()[0]

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
    def rare_terms(self, query: str, limit: int) -> list[str]:
        """The words of ``query`` that occur in at least one and at most ``limit`` chunks:
        names and places such as "Millom" that pick out a passage."""
        rare = []
        for term in query_terms(query):
            sql = "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)"
            count = self.db.execute(sql, (term, limit + 1)).fetchone()[0]
            if 0 < count <= limit:
                rare.append(term.strip('"').replace('""', '"'))
        return rare

    def keyword_search(self, query: str, k: int, docs: list[str] | None = None) -> list[KeywordHit]:
        match = keyword_query(query)
        if not match:
            return []
        # rank inside the full-text index first, then read only the k chunks: joining every match
        # to its chunk row before the sort cost 40 ms a query at 100x the default corpus
        sql = "SELECT rowid, -bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ?"
        params: list = [match]
        if docs:
            sql += f" AND doc IN ({','.join('?' * len(docs))})"
            params += docs
        sql += " ORDER BY bm25(chunks_fts) LIMIT ?"
        params.append(k)
        ranked = [(row["rowid"], float(row["score"])) for row in self.db.execute(sql, params)]
        if not ranked:
            return []
        marks = ",".join("?" * len(ranked))
        rows = {row["rowid"]: row for row in self.db.execute(f"SELECT rowid, * FROM chunks WHERE rowid IN ({marks})", [r for r, _ in ranked])}
        return [KeywordHit(chunk=_stored(rows[rowid]), score=score) for rowid, score in ranked if rowid in rows]


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
