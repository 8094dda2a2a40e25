"""Shared fixtures: an isolated home folder per test, and a deterministic fake embedder.

Fast tests never load the real model: :class:`FakeEmbeddings` hashes words into a small
vector, so texts that share words are close and every run gives the same numbers.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
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


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh ICB_ASSISTANT_HOME for one test; no config file from the user's machine."""
    folder = tmp_path / "home"
    monkeypatch.setenv("ICB_ASSISTANT_HOME", str(folder))
    monkeypatch.delenv("ICB_ASSISTANT_CONFIG", raising=False)
    for name in list(os.environ):
        if name.startswith("ICB_ASSISTANT_") and name not in ("ICB_ASSISTANT_HOME",):
            monkeypatch.delenv(name, raising=False)
    return folder


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
