"""The assistant as LangChain Runnables, to compose with other chains.

    retriever = assistant.as_retriever(k=5)          # a langchain_core BaseRetriever
    docs = retriever.invoke("urgent care priorities")  # Documents: the passage text, its source in metadata
    chain = assistant.as_runnable()
    chain.invoke({"question": "What is the deficit?", "history": []})  # the dict `ask --json` prints
    for event in chain.stream({...}): ...            # {"event": "token", "text": ...}, … then the answer
    chain.batch([{...}, {...}])

The engine hands its own methods in (``retrieve``, ``stream``): this module imports only the
answer and retrieval types, never the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig

from assistant.answers import Event, Search
from assistant.retrieval import Filters, Passage


def passage_document(passage: Passage) -> Document:
    """A retrieved passage as a Document: its text, and where it is in which document."""
    metadata = {
        "doc": passage.doc, "title": passage.title, "section": passage.section, "page": passage.page,
        "start": passage.start, "end": passage.end, "date": passage.date, "score": passage.score,
        "provenance": asdict(passage.provenance),
    }
    return Document(page_content=passage.text, metadata=metadata, id=passage.id)


class PassageRetriever(BaseRetriever):
    """The engine's hybrid search: a question in, the top ``k`` passages out, best first."""

    retrieve: Callable[..., Search]  # Assistant.retrieve
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        found = self.retrieve(query, k=self.k, filters=self.filters)
        return [passage_document(passage) for passage in found.passages]


class AnswerRunnable(Runnable[dict, dict]):
    """``{"question", "history"?, "audience"?, "filters"?}`` in; out, ``ask --json``'s dict (invoke,
    batch) or the answer's events as dicts, the last ``{"event": "answer", "answer": <that dict>}``
    (stream). A ``reset`` event takes back the tokens streamed before it."""

    def __init__(self, stream: Callable[..., Iterator[Event]]):
        self._stream = stream  # Assistant.stream

    def invoke(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> dict:
        return self._call_with_config(self._answer, input, config)

    def stream(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[dict]:
        yield from self._transform_stream_with_config(iter([input]), self._transform, config)

    def _answer(self, request: dict) -> dict:
        final: dict = {}
        for event in self._events(request):
            final = event
        return final["answer"]

    def _transform(self, requests: Iterator[dict]) -> Iterator[dict]:
        for request in requests:
            yield from self._events(request)

    def _events(self, request: dict) -> Iterator[dict]:
        if not isinstance(request, dict) or not isinstance(request.get("question"), str):
            raise TypeError('The input is a dict with a "question" string (and "history", a list of earlier questions or chat messages).')
        events = self._stream(
            request["question"], history=request.get("history"),
            audience=request.get("audience", "staff"), filters=request.get("filters"),
        )
        for event in events:
            if event.kind == "answer":
                yield {"event": "answer", "answer": event.answer.to_dict()}
            elif event.kind == "sources":
                yield {"event": "sources", "sources": [asdict(source) for source in event.sources]}
            else:
                yield {"event": event.kind, "text": event.text}
