"""A scripted answerer, registered for a test as simonw/llm's conftest registers its mock model,
and an assistant over the session's read-only index of the default corpus (fake embeddings).

    from tests.fakes import corpus_assistant, scripted  # noqa: F401 (fixtures)
    def test_x(corpus_assistant, scripted):
        scripted.reply = "Plans [1]."
        answer = corpus_assistant.ask("...", backend="scripted")
"""

from __future__ import annotations

import pytest

from assistant.answerers import ANSWERERS, Answerer
from assistant.llm import LLMUnavailable
from tests.conftest import FakeEmbeddings, read_only


class ScriptedAnswerer(Answerer):
    """An LLM answerer that streams ``reply`` word by word (or fails with ``failure``) and keeps
    every question it was asked, with its sources."""

    name = "scripted"
    uses_llm = True
    reply = "The answer [1]."
    failure: str = ""  # when set, generating raises LLMUnavailable with this message
    asked: list[tuple[str, list]] = []

    def generate(self, question, sources, audience="staff"):
        type(self).asked.append((question, list(sources)))
        if self.failure:
            raise LLMUnavailable(self.failure)
        for i, word in enumerate(self.reply.split(" ")):
            yield word if i == 0 else " " + word


@pytest.fixture
def scripted(monkeypatch) -> type[ScriptedAnswerer]:
    """Registers "scripted" for one test; set its ``reply`` or ``failure`` before asking (both are
    put back after the test, and ``asked`` starts empty)."""
    monkeypatch.setitem(ANSWERERS, ScriptedAnswerer.name, ScriptedAnswerer)
    for name, value in (("reply", ScriptedAnswerer.reply), ("failure", ""), ("asked", [])):
        monkeypatch.setattr(ScriptedAnswerer, name, value)
    return ScriptedAnswerer


@pytest.fixture(scope="module")
def corpus_assistant(_shared_corpus_index):
    """An extractive Assistant over the session's read-only index of the default corpus
    (tests/conftest.py), which it may only read."""
    from assistant.config import load_settings
    from assistant.engine import Assistant

    settings = load_settings(home=_shared_corpus_index, backend="extractive")
    assistant = Assistant(settings, embeddings=FakeEmbeddings())
    read_only(assistant.indexer)
    yield assistant
    assistant.close()
