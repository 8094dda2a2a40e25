"""The catalogue: one SQLite file recording what is indexed (the ledger), the chunk store, and the
migrations of an older file; searched by keyword through its base class (see :mod:`index.keyword`).

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

import sqlite3
import threading
from dataclasses import astuple, dataclass
from datetime import datetime, timezone
from pathlib import Path

from index.documents import Chunk, DocumentInfo, Provenance
from index.keyword import KeywordSearch

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
    provenance: Provenance = Provenance()  # stored as one column per field


def _record(row: sqlite3.Row) -> DocumentRecord:
    values = dict(row)
    provenance = Provenance(**{name: values.pop(name) for name in PROVENANCE_COLUMNS})
    return DocumentRecord(**values, provenance=provenance)


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


def chunk_id(doc: str, content_hash: str, index: int) -> str:
    return f"{doc}#{content_hash[:12]}#{index:05d}"


def doc_of(chunk_id: str) -> str:
    """The document a chunk id (see :func:`chunk_id`) belongs to."""
    return chunk_id.rsplit("#", 2)[0]


class Catalog(KeywordSearch):
    def __init__(self, path: Path, keyword_budget: int = 40_000):
        """``keyword_budget``: see :class:`index.keyword.KeywordSearch`."""
        super().__init__(keyword_budget)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
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
        return [_record(row) for row in rows]

    def document(self, doc: str) -> DocumentRecord | None:
        row = self.db.execute("SELECT * FROM documents WHERE doc = ?", (doc,)).fetchone()
        return _record(row) if row else None

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

    def chunks_by_rowid(self, rowids: list[int]) -> dict[int, StoredChunk]:
        """The chunks at these rows (the full-text index's rowids are the chunks')."""
        marks = ",".join("?" * len(rowids))
        rows = self.db.execute(f"SELECT rowid, * FROM chunks WHERE rowid IN ({marks})", rowids)
        return {row["rowid"]: _stored(row) for row in rows}

    def chunk_runs(self, docs: list[str]) -> list[tuple[str, int, int]]:
        """(doc, first rowid, last rowid) of each document's chunks: written together, they are one run."""
        sql = f"SELECT doc, MIN(rowid), MAX(rowid) FROM chunks WHERE doc IN ({','.join('?' * len(docs))}) GROUP BY doc"
        return [tuple(row) for row in self.db.execute(sql, docs)]

    def chunk_sections(self) -> list[tuple[str, str, str]]:
        """(chunk id, doc, heading path) of every chunk."""
        return [tuple(row) for row in self.db.execute("SELECT id, doc, section FROM chunks")]

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
