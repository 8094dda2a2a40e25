"""The committed answerability model over an index built with the real embedding model: the
model was fitted on MiniLM's similarities, so what it decides is checked here with them (the fast
tests run on fake embeddings, where the dense signals mean nothing)."""

from __future__ import annotations

import pytest

from tests.conftest import index_corpus, read_only

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_assistant(tmp_path_factory):
    from assistant.engine import Assistant

    with pytest.MonkeyPatch.context() as patch:
        settings = index_corpus(tmp_path_factory.mktemp("real-index"), patch)  # the real embedding model
        assistant = Assistant(settings.model_copy(update={"backend": "extractive"}))
        read_only(assistant.indexer)
        yield assistant
        assistant.close()


def test_a_covered_question_is_answered(real_assistant):
    answer = real_assistant.ask("What was the anticipated end of year system deficit without national support funding?")
    assert answer.status == "answered" and answer.decision.band == "answerable"


def test_a_question_with_a_clipped_word_is_answered(real_assistant):
    """"derm" is in no document; the glossary reads it as "dermatology", and the answer is about it."""
    answer = real_assistant.ask("derm - what's changing?")
    assert answer.status == "answered" and "ermatology" in answer.answer, (answer.decision.probability, answer.decision.signals)


@pytest.mark.parametrize("question", [
    "What are the car parking charges at Royal Preston Hospital?",  # plausible, near the topics
    "How many people are on the elective waiting list right now?",  # a live figure
])
def test_an_uncovered_question_is_refused(real_assistant, question):
    answer = real_assistant.ask(question)
    assert answer.status == "unanswerable", (answer.decision.probability, answer.decision.signals)
