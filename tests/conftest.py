"""Shared fixtures: an isolated home folder per test, a deterministic fake embedder, and one
read-only index of the shipped corpus for the whole session.

Fast tests never load the real model: :class:`FakeEmbeddings` hashes words into a small
vector, so texts that share words are close and every run gives the same numbers.

Tests that only search or ask use ``corpus_settings`` (or ``corpus_indexer``): the corpus is indexed
once per session, its catalogue is opened query-only and its vector store refuses writes, and at
the session's end the index must be as it was built. A test that adds, changes or removes
documents indexes ``corpus_copy`` into its own ``home`` instead.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


class FakeEmbeddings(Embeddings):
    """Bag of hashed words, L2-normalised: deterministic, instant, good enough to rank."""

    def __init__(self, dimension: int = 64, model_id: str = "fake-hash-64"):
        self.dimension = dimension
        self.model_id = model_id
        self.calls = 0

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for word in re.findall(r"\w+", text.lower()):
            bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
            vector[bucket] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture(scope="session", autouse=True)
def _offline_tiktoken(tmp_path_factory):
    """Every test session starts from an empty tiktoken cache: nothing may come from the network."""
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    yield cache


def use_home(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ICB_ASSISTANT_HOME at ``folder``; no other ICB_ASSISTANT_* setting, no user config file."""
    monkeypatch.setenv("ICB_ASSISTANT_HOME", str(folder))
    for name in list(os.environ):
        if name.startswith("ICB_ASSISTANT_") and name != "ICB_ASSISTANT_HOME":
            monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh ICB_ASSISTANT_HOME for one test; no config file from the user's machine."""
    return use_home(tmp_path / "home", monkeypatch)


@pytest.fixture
def settings(home):
    from assistant.config import load_settings

    return load_settings()


@pytest.fixture
def fake_embeddings() -> FakeEmbeddings:
    return FakeEmbeddings()


@pytest.fixture
def indexer(settings, fake_embeddings):
    from assistant.components import open_indexer

    built = open_indexer(settings, embeddings=fake_embeddings)
    yield built
    built.catalog.close()


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


# -- one read-only index of the corpus for the whole session ----------------------------------------


def fingerprint(folder: Path) -> dict[str, str]:
    """What every file under ``folder`` holds: an SQLite database by its rows (committed pages in
    its write-ahead log included), any other file by its bytes."""
    seen = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        if path.suffix in (".sqlite3", ".sqlite"):
            db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
            try:
                content = "\n".join(db.iterdump()).encode()
            finally:
                db.close()
        else:
            content = path.read_bytes()
        seen[path.relative_to(folder).as_posix()] = hashlib.sha256(content).hexdigest()
    return seen


def read_only(indexer):
    """Make ``indexer`` (an index.pipeline.Indexer over the shared index) refuse every write: its
    catalogue connection becomes query-only and its vector store's writing methods raise."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test wrote into the shared read-only index: give it its own (corpus_copy)")

    indexer.catalog.db.execute("PRAGMA query_only = ON")
    for name in ("add", "delete_document", "delete_ids", "reset"):
        setattr(indexer.vectors, name, refuse)
    indexer.run = refuse
    return indexer


def index_corpus(root: Path, patch: pytest.MonkeyPatch, embeddings=None):
    """Index a copy of the shipped corpus into ``root``/home (made this test's home through
    ``patch``) with ``embeddings`` (None: the real model); the settings of that home."""
    from assistant.components import open_indexer
    from assistant.config import load_settings

    corpus = shutil.copytree(CORPUS, root / "corpus")
    use_home(root / "home", patch)
    settings = load_settings()
    indexer = open_indexer(settings, embeddings=embeddings)
    try:
        report = indexer.run([corpus])
    finally:
        indexer.catalog.close()
    assert len(report.indexed) == 5 and not report.failed, report
    return settings


@pytest.fixture(scope="session")
def _shared_corpus_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus-index")
    with pytest.MonkeyPatch.context() as patch:
        index_corpus(root, patch, FakeEmbeddings())
    built = fingerprint(root)
    yield root / "home"
    assert fingerprint(root) == built, "a test changed the shared read-only index of the corpus"


@pytest.fixture
def corpus_settings(_shared_corpus_index, monkeypatch):
    """Settings whose home (this test's ICB_ASSISTANT_HOME) holds the session's index of the shipped
    corpus, built with :class:`FakeEmbeddings`. Only for reading: open it through :func:`read_only`."""
    from assistant.config import load_settings

    use_home(_shared_corpus_index, monkeypatch)
    return load_settings()


@pytest.fixture
def corpus_indexer(corpus_settings):
    """A read-only indexer over the session's index of the corpus."""
    from assistant.components import open_indexer

    opened = read_only(open_indexer(corpus_settings, embeddings=FakeEmbeddings()))
    yield opened
    opened.catalog.close()
