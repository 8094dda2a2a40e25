"""The vector store: one Chroma collection of chunk embeddings.

Embedded (``PersistentClient`` in a folder) by default, or a Chroma server (``chroma run``)
for several app workers. Chroma always gets our own embedding function: its default one
downloads a model, which fails offline. Telemetry is off. The collection records the
embedding model that built it; opening it with another model raises :class:`ModelMismatch`.

A running app outlives the server's ups and downs: each call that fails because the server
went away, or because another process rebuilt the collection (a new collection id), fetches
the collection again by name and is tried once more; when the server is still unreachable it
raises :class:`VectorStoreError` with a message saying what to do.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.embeddings import Embeddings

from index.catalog import doc_of
from index.embeddings import model_id_of

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


# Chroma keeps a collection of fewer than its sync threshold (1,000) vectors out of the graph it
# saves, and builds that graph afresh in each process that opens it. With a search beam of 200,
# each fresh graph missed one or two of the true nearest vectors for a different 2-3 of the gold
# set's 408 questions, so the same question on the same index could be answered in one process and
# refused in the next. A beam of 1,000 searches every vector of a collection that small, so the
# nearest vectors found are the true ones, in every process; over a big collection, a wider beam
# only raises recall (its cost at 91,400 vectors: README, "Many users").
SEARCH_BEAM = 1000
HNSW_CONFIGURATION = {"hnsw": {"space": "cosine", "num_threads": 1, "ef_search": SEARCH_BEAM, "ef_construction": 200}}
VECTORS_PER_HIT = 4  # nearest vectors fetched per chunk wanted: a chunk's windows crowd together
WIDE_SEARCH_VECTORS = 1000  # nearest vectors a search within some documents looks through first
T = TypeVar("T")


def _forget_failed_client(folder: Path) -> None:
    """Chroma keeps one client system per folder for the whole process, also one whose start
    failed; drop it, so that a new folder at the same path (after a rebuild) can be opened."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        for key in {str(folder), str(folder.resolve())}:
            SharedSystemClient._identifier_to_system.pop(key, None)
    except Exception:  # a Chroma without this cache: nothing to forget
        pass


class VectorStoreError(RuntimeError):
    """Chroma could not be reached or used; the message says what to do."""


class ModelMismatch(VectorStoreError):
    """The index was built with a different embedding model than the one configured."""


def vector_id(chunk_id: str, n: int) -> str:
    """The id of a chunk's n-th vector (0: the whole chunk; 1..: its windows)."""
    return f"{chunk_id}@{n}"


def chunk_of(vector_id: str) -> str:
    return vector_id.rsplit("@", 1)[0]


@dataclass(frozen=True)
class VectorHit:
    id: str  # the chunk's id (its best-matching vector stands for it); its text is in the catalogue
    score: float  # cosine similarity, higher is better


def _chroma_embedding_function(embeddings: Embeddings):
    from chromadb.api.types import Documents, EmbeddingFunction

    class OurEmbeddingFunction(EmbeddingFunction[Documents]):
        """Adapts a LangChain Embeddings object to Chroma's interface."""

        def __init__(self, inner: Embeddings):
            self.inner = inner

        def __call__(self, input: Documents):
            return self.inner.embed_documents(list(input))

        def embed_query(self, input: Documents):
            return [self.inner.embed_query(text) for text in input]

        @staticmethod
        def name() -> str:
            return "icb-assistant"

        def get_config(self) -> dict[str, Any]:
            return {"model_id": model_id_of(self.inner)}

        @staticmethod
        def build_from_config(config: dict[str, Any]):
            raise VectorStoreError("open the index through icb-assistant, which supplies the embedding model")

        def default_space(self):
            return "cosine"

    return OurEmbeddingFunction(embeddings)


def _lost_connection(exc: BaseException) -> bool:
    """Did a call fail because the Chroma server could not be reached (down, restarting, dropped)?"""
    try:
        import httpx
    except ImportError:  # pragma: no cover - chromadb's HTTP client depends on it
        return False
    return isinstance(exc, (httpx.TransportError, ConnectionError))


def _stale_collection(exc: BaseException) -> bool:
    """Did a call fail because the collection handle names a collection that no longer exists
    (rebuilt by another process, or the server restarted with new data)?"""
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError)


def chroma_settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


class VectorStore:
    def __init__(self, client, collection_name: str, embeddings: Embeddings, where: str, server: bool = False):
        self.client = client
        self.embeddings = embeddings
        self.model_id = model_id_of(embeddings)
        self.where = where
        self._recent_queries: dict[str, list[float]] = {}
        try:
            self.collection = client.get_or_create_collection(
                collection_name,
                embedding_function=_chroma_embedding_function(embeddings),
                metadata={"embedding_model": self.model_id},
                configuration=HNSW_CONFIGURATION,
            )
            self.max_batch = int(client.get_max_batch_size())
        except Exception as exc:
            if server and _lost_connection(exc):
                raise self._unreachable(exc) from exc
            raise VectorStoreError(f"Could not open the Chroma collection at {where}: {exc}") from exc
        self._widen_search_beam(server)

    def _widen_search_beam(self, server: bool = False) -> None:
        """An index made before SEARCH_BEAM was widened gets the wider beam (a setting only: no vector
        is rewritten), used from the next process that opens it: the app's own at start-up, or a
        Chroma server's after it restarts (one already running keeps the beam it loaded, and the
        log says so). Where it cannot be changed (a read-only copy), the search works as before."""
        try:
            beam = (self.collection.configuration_json.get("hnsw") or {}).get("ef_search")
            if beam is not None and beam < SEARCH_BEAM:
                self.collection.modify(configuration={"hnsw": {"ef_search": SEARCH_BEAM}})
                if server:
                    logging.getLogger(__name__).warning(
                        "The search beam of the collection on the Chroma server at %s is widened from %s to %s; "
                        "the server uses it after its next restart.", self.where, beam, SEARCH_BEAM)
        except Exception as exc:  # noqa: BLE001 - a narrower beam still searches
            logging.getLogger(__name__).warning("Could not widen the search beam of %s: %s", self.where, exc)

    # -- surviving the server's restarts --------------------------------------------------------
    def _unreachable(self, exc: BaseException) -> VectorStoreError:
        return VectorStoreError(
            f"The document store (the Chroma server at {self.where}) cannot be reached "
            f"({exc.__class__.__name__}), so the documents cannot be searched. Start it with `chroma run` "
            "(with its --path and --port), or check ICB_ASSISTANT_CHROMA_HOST and ICB_ASSISTANT_CHROMA_PORT; "
            "unset ICB_ASSISTANT_CHROMA_HOST to use the embedded index. Then try again."
        )

    def _refetch(self) -> None:
        """The collection again by name (a new handle after a rebuild elsewhere or a server restart)."""
        try:
            collection = self.client.get_collection(
                self.collection.name, embedding_function=_chroma_embedding_function(self.embeddings)
            )
        except Exception as exc:
            if _lost_connection(exc):
                raise self._unreachable(exc) from exc
            if _stale_collection(exc):
                raise VectorStoreError(
                    f"The collection '{self.collection.name}' is missing at {self.where}. "
                    "Build the index with `icb-assistant index`."
                ) from exc
            raise VectorStoreError(f"Could not open the Chroma collection at {self.where}: {exc}") from exc
        self.collection = collection
        self.check_model()  # rebuilt elsewhere, perhaps with another model

    def _call(self, operation: Callable[[], T]) -> T:
        """Run one collection call; on a lost connection or a stale collection, fetch the collection
        again and try once more. A server still unreachable: :class:`VectorStoreError`."""
        try:
            return operation()
        except Exception as exc:
            if not (_lost_connection(exc) or _stale_collection(exc)):
                raise
            try:
                self._refetch()
                return operation()
            except VectorStoreError:
                raise
            except Exception as again:
                if _lost_connection(again):
                    raise self._unreachable(again) from again
                raise

    # -- opening --------------------------------------------------------------------------
    @classmethod
    def open_local(cls, folder: Path, collection: str, embeddings: Embeddings) -> "VectorStore":
        import chromadb

        folder.mkdir(parents=True, exist_ok=True)
        try:
            client = chromadb.PersistentClient(path=str(folder), settings=chroma_settings())
        except Exception as exc:
            _forget_failed_client(folder)
            raise VectorStoreError(
                f"Could not open the Chroma index in {folder}: {exc}. If it is damaged, rebuild it with "
                "`icb-assistant index --rebuild` (the old folder is kept beside the new one)."
            ) from exc
        return cls(client, collection, embeddings, where=str(folder))

    @classmethod
    def open_server(
        cls, host: str, port: int, collection: str, embeddings: Embeddings, ssl: bool = False
    ) -> "VectorStore":
        import chromadb

        shown_host = f"[{host}]" if ":" in host and not host.startswith("[") else host  # IPv6
        where = f"{'https' if ssl else 'http'}://{shown_host}:{port}"
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings())
            client.heartbeat()
        except Exception as exc:
            raise VectorStoreError(
                f"Cannot reach the Chroma server at {where} ({exc.__class__.__name__}). "
                "Is `chroma run` started there? Unset ICB_ASSISTANT_CHROMA_HOST to use the embedded index."
            ) from exc
        return cls(client, collection, embeddings, where=where, server=True)

    # -- the model that built it ------------------------------------------------------------
    def built_with(self) -> str | None:
        metadata = self.collection.metadata or {}
        return metadata.get("embedding_model")

    def check_model(self) -> None:
        built = self.built_with()
        if built and built != self.model_id and self.count() > 0:
            raise ModelMismatch(
                f"The index at {self.where} was built with the embedding model '{built}', but the "
                f"configured model is '{self.model_id}'. Searching it would return nonsense. "
                "Rebuild it with `icb-assistant index --rebuild`, or configure the original model."
            )

    # -- writing ----------------------------------------------------------------------------
    def add(self, ids: list[str], texts: list[str], vectors: list[list[float]], metadatas: list[dict]) -> None:
        for begin in range(0, len(ids), self.max_batch):
            end = begin + self.max_batch
            self._call(lambda: self.collection.upsert(
                ids=ids[begin:end],
                documents=texts[begin:end],
                embeddings=vectors[begin:end],
                metadatas=[{k: v for k, v in m.items() if v is not None} for m in metadatas[begin:end]],
            ))

    def delete_document(self, doc: str) -> None:
        self._call(lambda: self.collection.delete(where={"doc": doc}))

    def delete_ids(self, ids: list[str]) -> None:
        for begin in range(0, len(ids), self.max_batch):
            self._call(lambda: self.collection.delete(ids=ids[begin : begin + self.max_batch]))

    def reset(self) -> None:
        """Drop every vector and record the configured model as the builder."""
        name = self.collection.name
        try:
            self.client.delete_collection(name)
            self.collection = self.client.get_or_create_collection(
                name,
                embedding_function=_chroma_embedding_function(self.embeddings),
                metadata={"embedding_model": self.model_id},
                configuration=HNSW_CONFIGURATION,
            )
        except Exception as exc:
            raise VectorStoreError(f"Could not reset the Chroma collection at {self.where}: {exc}") from exc

    # -- reading ----------------------------------------------------------------------------
    def count(self) -> int:
        return self._call(lambda: self.collection.count())

    def all_ids(self) -> list[str]:
        ids: list[str] = []
        offset, page = 0, 5000
        while True:
            batch = self._call(lambda: self.collection.get(include=[], limit=page, offset=offset))["ids"]
            ids.extend(batch)
            if len(batch) < page:
                return ids
            offset += page

    def _query_vector(self, query: str) -> list[float]:
        """The query's embedding; the last few are kept, as one question is searched several ways."""
        cache = self._recent_queries
        if query not in cache:
            if len(cache) >= 16:
                cache.pop(next(iter(cache)))
            cache[query] = self.embeddings.embed_query(query)
        return cache[query]

    def search(self, query: str, k: int, docs: list[str] | None = None, chunks_in_docs: int | None = None) -> list[VectorHit]:
        """The k chunks whose best vector is nearest the query (a chunk has several vectors),
        from ``docs`` only when given (``chunks_in_docs``: how many chunks they hold, if known).

        A search within documents first takes the nearest vectors of the whole collection and
        keeps those of ``docs``: when that finds k chunks (or all the documents have), they are
        exactly the k that a filtered search would find, at a fraction of its cost (Chroma
        filters by metadata slowly: 150-900 ms at 900,000 vectors, against 6 ms for this).
        Otherwise Chroma's own filter does the search."""
        self.check_model()  # reads the collection's metadata already in hand: no round trip
        if not docs:
            return self._nearest(query, k * VECTORS_PER_HIT, None)[:k]
        wanted = set(docs)
        enough = min(k, chunks_in_docs) if chunks_in_docs is not None else k
        nearest = [hit for hit in self._nearest(query, WIDE_SEARCH_VECTORS, None) if doc_of(hit.id) in wanted]
        if len(nearest) >= enough:
            return nearest[:k]
        where = {"doc": docs[0]} if len(docs) == 1 else {"doc": {"$in": list(docs)}}
        return self._nearest(query, k * VECTORS_PER_HIT, where)[:k]

    def _nearest(self, query: str, vectors: int, where: dict | None) -> list[VectorHit]:
        """The chunks of the nearest ``vectors`` vectors, nearest first, each once."""
        vector = self._query_vector(query)
        result = self._call(lambda: self.collection.query(
            query_embeddings=[vector],
            n_results=vectors,
            where=where,
            # ids and distances only: fetching each hit's text and metadata from Chroma's store cost
            # 3-4x the search itself, and the catalogue has them already
            include=["distances"],
        ))
        hits: dict[str, VectorHit] = {}
        for i, distance in zip(result["ids"][0], result["distances"][0]):
            chunk = chunk_of(i)
            if chunk not in hits:  # results come nearest first
                hits[chunk] = VectorHit(id=chunk, score=1.0 - float(distance))
        return list(hits.values())
