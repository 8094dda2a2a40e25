"""The LangChain faces: the search as a BaseRetriever, the whole answer as a Runnable."""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from tests.conftest import CORPUS
from tests.fakes import corpus_assistant  # noqa: F401 (fixture)

DEFICIT = "What would the system deficit be without national support funding?"


def test_retriever_gives_documents_that_point_into_their_source(corpus_assistant):
    retriever = corpus_assistant.as_retriever(k=3)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("urgent care priorities")
    assert len(docs) == 3 and all(isinstance(doc, Document) for doc in docs)
    for doc in docs:
        meta = doc.metadata
        assert {"doc", "title", "section", "page", "start", "end", "score", "provenance"} <= set(meta)
        assert (CORPUS / meta["doc"]).read_text()[meta["start"]: meta["end"]] == doc.page_content
        assert meta["provenance"]["origin"] == "official"
    assert [d.metadata["score"] for d in docs] == sorted((d.metadata["score"] for d in docs), reverse=True)
    assert [d.id for d in docs] == [p.id for p in corpus_assistant.retrieve("urgent care priorities", k=3).passages]


def test_retriever_composes_with_other_runnables(corpus_assistant):
    chain = corpus_assistant.as_retriever(k=2) | RunnableLambda(lambda docs: [d.metadata["doc"] for d in docs])
    assert chain.invoke(DEFICIT)[0] == "lsc-icb-commissioning-intentions-2025-26.txt"


def test_runnable_invoke_gives_what_ask_json_prints(corpus_assistant):
    runnable = corpus_assistant.as_runnable()
    assert isinstance(runnable, Runnable)
    history = ["What are the cancer plans in the LSC2030 roadmap for 2026/27?"]
    out = runnable.invoke({"question": "And the year after?", "history": history})
    expected = corpus_assistant.ask("And the year after?", history=history).to_dict()
    assert out.pop("timings").keys() == expected.pop("timings").keys()
    assert out == expected


def test_runnable_streams_events_then_the_answer(corpus_assistant):
    events = list(corpus_assistant.as_runnable().stream({"question": DEFICIT}))
    kinds = [event["event"] for event in events]
    assert kinds[0] == "sources" and "token" in kinds and kinds[-1] == "answer"
    assert events[-1]["answer"]["status"] == "answered" and "£350million" in events[-1]["answer"]["answer"]
    assert events[0]["sources"][0]["n"] == 1


def test_runnable_batch_answers_each(corpus_assistant):
    questions = [DEFICIT, "What is the best recipe for a Victoria sponge cake?"]
    outs = corpus_assistant.as_runnable().batch([{"question": q, "history": []} for q in questions])
    assert [out["status"] for out in outs] == ["answered", "unanswerable"]


def test_runnable_says_what_input_it_wants(corpus_assistant):
    import pytest

    with pytest.raises(TypeError, match='"question"'):
        corpus_assistant.as_runnable().invoke("just a string")


def test_the_package_gives_the_assistant_as_the_readme_shows():
    import assistant
    from assistant.engine import Assistant

    assert assistant.Assistant is Assistant


def test_runnable_takes_the_history_as_langchain_messages(corpus_assistant):
    from langchain_core.messages import AIMessage, HumanMessage

    asked = "What are the cancer plans in the LSC2030 roadmap for 2026/27?"
    runnable = corpus_assistant.as_runnable()
    by_text = runnable.invoke({"question": "And the year after?", "history": [asked]})
    by_messages = runnable.invoke({"question": "And the year after?",
                                   "history": [HumanMessage(asked), AIMessage("Faster diagnosis [1].")]})
    assert by_messages["answer"] == by_text["answer"] and by_messages["rewritten_question"] == by_text["rewritten_question"]
    assert "2027/28" in by_text["rewritten_question"]
