"""One indexing run: find → load → chunk → embed → store, incrementally.

Each document's content hash (its bytes, its metadata and the chunker's settings) decides
its fate: unchanged documents are skipped, changed ones replaced, and indexed documents whose
file has gone are deleted. Writes are ordered so that a run killed at any point and run again
ends in the same index as one clean run:

1. the catalogue marks the document ``pending`` and drops its old chunks;
2. its old vectors are deleted from Chroma, the new ones upserted under deterministic ids;
3. the catalogue stores the chunks and keyword index and marks it ``complete`` in one transaction.

A ``pending`` document found at the start of a run is redone (or deleted if its file is gone),
unless the run is told to index only its own files (an upload): then :meth:`Indexer.finish_pending`
does it (the app calls it at start-up, in the background). Both first repair what a crashed
upload left in the app's uploads folder (``index.uploads.repair``), so a replacement that never
took its place is not what gets finished.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from index.catalog import Catalog, chunk_id
from index.chunking import CHUNKER_VERSION, Chunker
from index.corpus import UPLOADS_FOLDER, discover, title_from_name
from index.documents import DocumentInfo, LoadedDocument
from index.embeddings import EmbeddingError, model_id_of
from index.loaders import LoadError, load_file
from index.vectors import ModelMismatch, VectorStore, chunk_of, vector_id


@dataclass
class IndexReport:
    """What a run did. ``failed`` holds (file, reason) for every file that could not be indexed."""

    indexed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    documents_total: int = 0
    chunks_total: int = 0
    seconds: float = 0.0


# progress(step, total, doc): called before each document and once at the end with doc=None
Progress = Callable[[int, int, str | None], None]


def content_hash(info: DocumentInfo, chunker: Chunker, raw: bytes) -> str:
    digest = hashlib.sha256(raw)
    settings = chunker.settings
    extra = {
        "chunker": CHUNKER_VERSION,
        "target": settings.target_tokens,
        "max": settings.max_tokens,
        "window": settings.window_tokens,
        "encoding": settings.encoding,
        "title": info.title,
        "date": info.date,
        "kind": info.kind,
        "publisher": info.publisher,
    }
    digest.update(json.dumps(extra, sort_keys=True).encode())
    return digest.hexdigest()


class Indexer:
    """Keeps the catalogue and the vector store in step with a set of source files."""

    def __init__(self, catalog: Catalog, vectors: VectorStore, chunker: Chunker, app_home: Path | None = None):
        self.catalog = catalog
        self.vectors = vectors
        self.chunker = chunker
        self.app_home = app_home  # the app's data folder: never indexed, but for its uploads
        self.model_id = model_id_of(vectors.embeddings)

    def check_model(self) -> None:
        built = self.catalog.get_meta("embedding_model")
        if built and built != self.model_id and self.catalog.chunk_count() > 0:
            raise ModelMismatch(
                f"The index was built with the embedding model '{built}', but the configured model is "
                f"'{self.model_id}'. Rebuild it with `icb-assistant index --rebuild`, or configure the original model."
            )
        self.vectors.check_model()

    def rebuild(self) -> None:
        """Forget everything indexed (for a new embedding model or a damaged index)."""
        self.catalog.clear()
        self.vectors.reset()
        self.catalog.set_meta("embedding_model", self.model_id)

    def run(self, paths: list[Path], progress: Progress | None = None, prune: bool = True,
            finish_pending: bool = True) -> IndexReport:
        """Index the files under ``paths``. With ``prune``, drop indexed documents whose file has gone.
        With ``finish_pending`` (the command line), also redo the documents a killed run left pending;
        without it (an upload), index only the files under ``paths``."""
        started = time.perf_counter()
        report = IndexReport()
        self.check_model()
        self.catalog.set_meta("embedding_model", self.model_id)

        if finish_pending:
            self.repair_uploads()
            self._reconcile()
        found = discover(paths, app_home=self.app_home)
        report.failed += [(str(path), reason) for path, reason in found.skipped]
        documents = list(found.documents)
        wanted = {info.doc for info in documents}
        if finish_pending:
            documents += [info for info in self.pending() if info.doc not in wanted]
            wanted |= {info.doc for info in documents}
        self._index_all(documents, report, progress)

        if prune:
            for record in self.catalog.documents():
                if record.doc not in wanted and not Path(record.path).is_file():
                    self.remove(record.doc)
                    report.removed.append(record.doc)
        return self._finish(report, started)

    def pending(self) -> list[DocumentInfo]:
        """The documents a killed run left half-written whose file is still there."""
        return [
            DocumentInfo(Path(record.path), record.title, record.date, record.kind, record.publisher,
                         record.provenance)
            for record in self.catalog.documents()
            if record.state == "pending" and Path(record.path).is_file()
        ]

    def finish_pending(self, progress: Progress | None = None) -> IndexReport:
        """Finish what a killed run left: bring the stores back in step, redo every pending document
        whose file is still there and remove those whose file has gone."""
        started = time.perf_counter()
        report = IndexReport()
        self.check_model()
        self.repair_uploads()
        self._reconcile()
        self._index_all(self.pending(), report, progress)
        for record in self.catalog.documents():
            if record.state == "pending" and not Path(record.path).is_file():
                self.remove(record.doc)
                report.removed.append(record.doc)
        return self._finish(report, started)

    def repair_uploads(self) -> None:
        """Before pending documents are finished: point any record a crashed upload left inside the
        uploads folder's hidden staging folders back at the committed file, and tidy those folders,
        so a replacement that never took its place is never indexed (see ``index.uploads.repair``)."""
        if self.app_home is None:
            return
        from index.uploads import repair  # here: index.uploads builds on this module

        repair(self, self.app_home / UPLOADS_FOLDER)

    def _index_all(self, documents: list[DocumentInfo], report: IndexReport, progress: Progress | None) -> None:
        for step, info in enumerate(documents):
            if progress:
                progress(step, len(documents), info.doc)
            try:
                if self._index_one(info):
                    report.indexed.append(info.doc)
                else:
                    report.skipped.append(info.doc)
            except LoadError as exc:
                report.failed.append((str(info.path), str(exc)))
            except EmbeddingError as exc:
                report.failed.append((str(info.path), f"embedding failed: {exc}"))
        if progress:
            progress(len(documents), len(documents), None)

    def _finish(self, report: IndexReport, started: float) -> IndexReport:
        records = self.catalog.documents()
        indexed_now = set(report.indexed)
        report.chunks_added = sum(r.chunks for r in records if r.doc in indexed_now)
        report.documents_total = sum(1 for r in records if r.state == "complete")
        report.chunks_total = self.catalog.chunk_count()
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, doc: str) -> bool:
        """Delete one document from both stores. False if it was not indexed."""
        if self.catalog.document(doc) is None:
            return False
        self.vectors.delete_document(doc)
        self.catalog.remove_document(doc)
        return True

    def _index_one(self, info: DocumentInfo) -> bool:
        """Index one file if it changed. True if it was (re)indexed, False if unchanged."""
        try:
            raw = info.path.read_bytes()
        except OSError as exc:
            raise LoadError(f"cannot read the file ({exc.strerror or exc})") from exc
        digest = content_hash(info, self.chunker, raw)
        if self.catalog.is_current(info.doc, digest):
            record = self.catalog.document(info.doc)
            if record is not None and record.path != str(info.path):
                self.catalog.set_path(info.doc, info.path)  # same content, new place: nothing to embed
            if record is not None and record.provenance != info.provenance:
                self.catalog.set_provenance(info.doc, info.provenance)  # e.g. a manifest restored
            return False

        extracted = load_file(info.path)
        title = info.title or extracted.title or title_from_name(info.path)
        info = replace(info, title=title, date=info.date or extracted.date)
        document = LoadedDocument(info=info, text=extracted.text, page_starts=extracted.page_starts)
        chunks = self.chunker.chunk(document)
        if not chunks:
            raise LoadError("no text could be extracted")
        search_texts = [chunk.search_text(title) for chunk in chunks]

        self.catalog.begin_document(info, digest, title)
        self.vectors.delete_document(info.doc)
        ids, texts, metadatas = [], [], []
        for chunk in chunks:
            base = chunk_id(info.doc, digest, chunk.index)
            for n, embedded in enumerate(self.chunker.embedding_texts(chunk)):
                ids.append(vector_id(base, n))
                texts.append(embedded)
                metadatas.append(
                    {
                        "doc": info.doc, "title": title, "date": info.date, "kind": info.kind,
                        "section": chunk.section, "page": chunk.page, "index": chunk.index,
                        "start": chunk.start, "end": chunk.end,
                    }
                )
        vectors = self.vectors.embeddings.embed_documents(texts)
        self.vectors.add(ids=ids, texts=texts, vectors=vectors, metadatas=metadatas)
        self.catalog.complete_document(
            info.doc, digest, chunks, search_texts,
            text=document.text,
            pages=len(document.page_starts) or None,
            vectors=len(ids),
        )
        return True

    def _reconcile(self) -> None:
        """Bring the two stores back in step after a crash or a lost folder.

        Vectors the catalogue does not know are dropped; documents whose vectors are missing
        are marked pending, so this run writes them again.
        """
        if self.vectors.count() == self.catalog.vector_count():
            return
        known = self.catalog.chunk_ids()
        present_ids = self.vectors.all_ids()
        stray = [i for i in present_ids if chunk_of(i) not in known]
        if stray:
            self.vectors.delete_ids(stray)
        present = {chunk_of(i) for i in present_ids}
        for missing in known - present:
            self.catalog.mark_pending(missing.rsplit("#", 2)[0])
