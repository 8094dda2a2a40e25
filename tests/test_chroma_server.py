"""Client/server mode against a real `chroma run` on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from assistant.local_model import free_port
from tests.conftest import FakeEmbeddings
from tests.servers import ChromaServer


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    yield server.port
    server.stop()


@pytest.fixture
def server_settings(home, monkeypatch, chroma_server):
    from assistant.config import load_settings

    monkeypatch.setenv("ICB_ASSISTANT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ICB_ASSISTANT_CHROMA_PORT", str(chroma_server))
    monkeypatch.setenv("ICB_ASSISTANT_COLLECTION", f"test_{time.monotonic_ns()}")
    return load_settings()


@pytest.mark.slow
def test_index_and_search_through_the_server(server_settings, corpus_copy):
    from assistant.components import open_indexer
    from assistant.retrieval import Retriever
    from index.vectors import VectorStore

    indexer = open_indexer(server_settings, embeddings=FakeEmbeddings())
    assert indexer.vectors.where.startswith("http://127.0.0.1:")
    report = indexer.run([corpus_copy])
    assert report.documents_total == 5 and not report.failed
    assert indexer.vectors.count() == indexer.catalog.vector_count() > indexer.catalog.chunk_count() > 100

    passages = Retriever(indexer.catalog, indexer.vectors).search("urgent care", k=5)
    assert any(p.doc == "lsc-icb-commissioning-intentions-2025-26.txt" for p in passages)

    # a second client (another app worker) sees the same collection
    other = VectorStore.open_server("127.0.0.1", server_settings.chroma_port, server_settings.collection, FakeEmbeddings())
    assert other.count() == indexer.vectors.count()

    again = open_indexer(server_settings, embeddings=FakeEmbeddings()).run([corpus_copy])
    assert len(again.skipped) == 5 and not again.indexed


def test_unreachable_server_is_a_clear_error():
    from index.vectors import VectorStore, VectorStoreError

    port = free_port()
    with pytest.raises(VectorStoreError, match=rf"127\.0\.0\.1:{port}.*chroma run"):
        VectorStore.open_server("127.0.0.1", port, "icb_documents", FakeEmbeddings())
