"""A scripted answerer, registered for a test as simonw/llm's conftest registers its mock model,
and an assistant over the session's read-only index of the default corpus (fake embeddings).

    from tests.fakes import corpus_assistant, in_band, scripted  # noqa: F401 (fixtures)
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
    summarises_comparisons = True
    reply = "The answer [1]."
    simpler = ""  # what simplify returns ("": the text it was given)
    failure: str = ""  # when set, generating (and simplifying) raises LLMUnavailable with this message
    summary = "They differ [1] [2]."  # the sentence it writes under a comparison's table
    asked: list[tuple[str, list]] = []

    def simplify(self, text):
        if self.failure:
            raise LLMUnavailable(self.failure)
        return self.simpler or text

    def summarise(self, question, table, audience="staff"):
        type(self).asked.append((question, list(table.rows)))
        if self.failure:
            raise LLMUnavailable(self.failure)
        for i, word in enumerate(self.summary.split(" ")):
            yield word if i == 0 else " " + word

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
    for name, value in (("reply", ScriptedAnswerer.reply), ("simpler", ""), ("failure", ""), ("asked", []),
                        ("summary", ScriptedAnswerer.summary)):
        monkeypatch.setattr(ScriptedAnswerer, name, value)
    return ScriptedAnswerer


@pytest.fixture
def in_band(monkeypatch):
    """``in_band(assistant, question, band)``: decide with a model whose thresholds put the
    question's P(answerable) (from the committed model) in that band, so a test of what a band
    does holds whatever a re-fit does to the committed thresholds."""
    import dataclasses

    from assistant import answerability

    def place(assistant, question: str, band: str) -> float:
        model = answerability.load_model()
        p = assistant.ask(question, backend="extractive").decision.probability
        assert 0.0 < p < 1.0, f"P(answerable) of {question!r} is {p}: no band can be placed around it"
        if band == "uncertain":  # refuse < P < answer; the extractive answerer's threshold at P: it answers
            thresholds = dict(refuse=p / 2, extractive=p, answer=(p + 1) / 2)
        elif band == "unquoted":  # uncertain, and below the extractive answerer's threshold: quotes would refuse
            thresholds = dict(refuse=p / 2, extractive=(p + 1) / 2, answer=(p + 1) / 2)
        elif band == "answerable":
            thresholds = dict(refuse=p / 3, extractive=p / 2, answer=p)
        else:
            thresholds = dict(refuse=(p + 1) / 2, extractive=(p + 1) / 2, answer=(p + 1) / 2)
        placed = dataclasses.replace(model, **thresholds)
        monkeypatch.setattr(answerability, "load_model", lambda: placed)
        return p

    return place


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
