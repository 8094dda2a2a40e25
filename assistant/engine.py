"""The answer engine: question in, cited answer out. The Python API the CLI, UI and evaluation share.

    from assistant.engine import Assistant
    assistant = Assistant()                       # settings from the environment / config file
    answer = assistant.ask("What are the urgent care priorities?", history=["..."])
    for event in assistant.stream(question): ...  # tokens as they come, then the final Answer
    assistant.as_retriever(k=5), assistant.as_runnable()   # the same, as LangChain Runnables

The stages (see :mod:`assistant.stages`): prepare the question → respell a misspelt word as the
documents' word it was meant as → rewrite a follow-up into a standalone question → hybrid retrieval, passages numbered within a token budget → decide whether
the documents cover it → a comparison of documents as a table of what each says (see
:mod:`assistant.comparison`), any other question → generate (local LLM, hosted LLM, or extractive: see
:mod:`assistant.answerers`) → verify the citations → status: answered / unanswerable / error.
With an LLM, the extractive answer the decision read is sent at once (a ``quoted`` event), so
there is something to read while the model starts; its first token replaces it. When the LLM is
down, slow or fails mid-answer, the extractive answer is given instead, with a notice saying so.
Every answer carries its trace: what was searched, found and decided.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from assistant import answerability, stages, support
from assistant.answerers import FALLBACK, Answerer, make_answerer
from assistant.answers import Answer, Event, Search, Source
from assistant.citations import check_citations, number_as_read, renumbered
from assistant.config import Settings, load_settings
from assistant.llm import LLMUnavailable
from assistant.prompt_leak import quotes_instructions
from assistant.retrieval import Filters, Retriever


def understood_as(question: str, rewritten: str) -> str:
    """The rewritten question to show ("Understood as: …"), or "" when its words are the question's:
    line breaks, spacing and control characters are no rewrite."""
    rewritten = stages.clean_question(rewritten)
    return rewritten if rewritten != stages.clean_question(question) else ""


class Assistant:
    def __init__(self, settings: Settings | None = None, backend: str | None = None, embeddings=None):
        from assistant.components import open_indexer

        self.settings = settings or load_settings()
        self.answerer = make_answerer(backend or self.settings.backend, self.settings)  # unknown: ValueError
        self.backend = self.answerer.name
        self.indexer = open_indexer(self.settings, embeddings)
        self.retriever = Retriever(
            self.indexer.catalog, self.indexer.vectors, self.settings.dense_weight, self.settings.keyword_weight
        )
        self._answerers: dict[str, Answerer] = {self.backend: self.answerer}

    # -- public API ---------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence | None = None,  # the earlier questions, or chat messages (stages.earlier_questions)
        audience: str = "staff",
        filters: Filters | None = None,
        backend: str | None = None,
    ) -> Answer:
        final = None
        for event in self.stream(question, history, audience, filters, backend):
            if event.kind == "answer":
                final = event.answer
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        history: Sequence | None = None,  # the earlier questions, or chat messages (stages.earlier_questions)
        audience: str = "staff",
        filters: Filters | None = None,
        backend: str | None = None,
    ) -> Iterator[Event]:
        """The stages in order; every exit goes through ``finish``, the one place an Answer is made."""
        answerer = self.answerer_for(backend)
        started = time.perf_counter()
        timings: dict[str, float] = {}

        def finish(**fields) -> Event:
            timings["total"] = time.perf_counter() - started
            return Event("answer", answer=Answer(timings=timings, backend=answerer.name, **fields))

        prepared = stages.prepare(question, history, indexed=self.indexer.catalog.chunk_count() > 0)
        if prepared.problem:
            yield finish(status="error", answer=prepared.problem)
            return

        mark = time.perf_counter()
        prepared = stages.respell(prepared, self.retriever.glossary())
        query = stages.rewrite(prepared, answerer)
        timings["rewrite"] = time.perf_counter() - mark
        if query != (prepared.typed or prepared.question):
            yield Event("rewritten", text=query)

        mark = time.perf_counter()
        search = stages.retrieve(self.retriever, prepared, query, answerer.passages, filters)
        # the top search_top_k passages decide answerability and feed the extractive answer; an LLM
        # reads the best sentences of every retrieved passage within its budget (same numbering)
        numbered = self._number(search)
        wide = numbered[: self.settings.search_top_k]
        evidence = answerer.evidence(query, numbered, self.indexer.chunker.tokens)
        timings["retrieve"] = time.perf_counter() - mark
        yield Event("sources", sources=tuple(evidence))

        top = search.passages[: self.settings.search_top_k]  # a prefix: the fused ranking is cut after sorting
        decision = stages.decide(query, top, wide, self.retriever, answerer.uses_llm)
        trace = dict(rewritten_question=query, search=search, decision=decision)
        if not decision.answerable:
            missing = answerability.missing_names(query, self.retriever.catalog) if decision.signals.get("names_found", 1.0) < 1 else []
            yield finish(status="unanswerable", answer=stages.not_covered(search.passages, query, missing), contexts=evidence,
                         notices=stages.refusal_notices(prepared.question), **trace)
            return

        # a comparison of documents is answered as a table of what each says: quoted, so only where
        # quotes would answer (P at or above the extractive answerer's threshold), whatever writes
        table, compared = None, []
        if decision.probability >= answerability.load_model().extractive:
            table, compared = stages.compare(self.retriever, query, wide, filters, self.indexer.chunker.tokens)
        fallback = self.answerer_for(FALLBACK)
        if table is not None:
            generated = yield from stages.compared(answerer, table, compared, query, audience, timings)
            numbered = compared
        else:
            if answerer.uses_llm and decision.quoted:  # quotes at once; the model's first token replaces them
                cited = check_citations(decision.quoted, wide).cited
                quoted, numbering = number_as_read(decision.quoted, cited)  # numbered as read, as the answer will be
                yield Event("quoted", text=quoted, sources=tuple(renumbered(cited, numbering)))
            generated = yield from stages.generate(
                answerer, fallback, prepared, query, evidence, wide, audience, timings, decision.quoted
            )
        glossary = self.retriever.glossary()
        verified = stages.verify(generated, search.passages, numbered, glossary)
        if stages.overruled(decision, generated, verified):
            yield Event("notice", text=stages.OVERRULED)
            notices = generated.notices + [stages.OVERRULED]
            generated = yield from stages.quote(fallback, query, wide, audience, timings, notices, True, decision.quoted)
            verified = stages.verify(generated, search.passages, numbered, glossary)
        asked = f"{prepared.question}\n{query}"
        figures = stages.made_up(generated, verified, numbered, asked) if table is None else []
        unbacked = stages.unbacked(generated, verified, asked) if table is None and not figures else []
        if figures or unbacked:  # fail closed: what the extractive answerer says in its place, quotes or a refusal
            quoted = decision.probability >= answerability.load_model().extractive
            instead = stages.QUOTED_INSTEAD if quoted else stages.MAY_NOT_ANSWER
            notice = stages.made_up_notice(figures or unbacked, instead, cited=not figures)
            yield Event("notice", text=notice)
            yield Event("reset")
            notices = generated.notices + [notice]
            if not quoted:
                yield finish(status="unanswerable", answer=stages.not_covered(search.passages, query), contexts=evidence,
                             notices=notices, **trace)
                return
            generated = yield from stages.quote(fallback, query, wide, audience, timings, notices, True, decision.quoted)
            verified = stages.verify(generated, search.passages, numbered, glossary)
        yield finish(
            status=verified.status, answer=verified.text, citations=verified.citations,
            contexts=verified.contexts if verified.contexts is not None else generated.contexts,
            model=generated.model, supported=verified.supported, notices=generated.notices + verified.notices,
            fell_back=generated.fell_back, sentences=verified.sentences, **trace,
        )

    def retrieve(
        self, question: str, history: Sequence | None = None, k: int | None = None, filters: Filters | None = None
    ) -> Search:
        """The search an answer would make (a follow-up rewritten by rule: no model is asked), alone."""
        history = stages.earlier_questions(history)  # one that cannot be read raises HistoryError, saying why
        prepared = stages.respell(stages.prepare(question, history), self.retriever.glossary())
        return stages.retrieve(self.retriever, prepared, stages.rewrite(prepared), k or self.settings.search_top_k, filters)

    def simplify(self, text: str, citations: Sequence[Source], backend: str | None = None) -> tuple[str, list[Source], list[str]]:
        """An answer rewritten more simply for the public, its citations kept: by the answerer's model
        (prompts/simplify_public.txt), or, with no model or when it fails, its sentences set out as
        bullets. Returns the text, its sources (numbered as it first cites them: those it no longer
        cites are dropped) and notices; the answer and sources unchanged when the rewrite lost its
        citations or quoted the instructions."""
        kept = (text, list(citations))
        answerer, notices = self.answerer_for(backend), []
        try:
            simpler = answerer.simplify(text)
        except LLMUnavailable as exc:
            simpler = self.answerer_for(FALLBACK).simplify(text)
            notices.append(f"The model could not simplify it ({exc}), so its sentences are set out as bullets instead.")
        if quotes_instructions(simpler, text, [source.text for source in citations]):
            return *kept, notices + ["The simpler version began to repeat the assistant's instructions, so the draft is kept as it was."]
        added = support.unsourced_figures(simpler, list(citations), asked=text)
        if added:
            return *kept, notices + [f"The simpler version gave {', '.join(added)}, which the draft's sources do not hold, "
                                     "so the draft is kept as it was."]
        checked = check_citations(simpler, list(citations))
        if citations and not checked.cited:
            return *kept, notices + ["The simpler version lost its citations, so the draft is kept as it was."]
        if checked.invalid:
            notices.append(f"Removed citation {', '.join(f'[{n}]' for n in checked.invalid)}: it named no source of the answer.")
        if checked.text == text:
            return *kept, notices
        simpler, numbering = number_as_read(checked.text, checked.cited)
        return simpler, renumbered(checked.cited, numbering), notices

    def as_retriever(self, k: int = 5, filters: Filters | None = None):
        """A LangChain ``BaseRetriever``: ``invoke(question)`` gives Documents with their source in metadata."""
        from assistant.lc import PassageRetriever

        return PassageRetriever(retrieve=self.retrieve, k=k, filters=filters)

    def as_runnable(self):
        """A LangChain Runnable: ``invoke({"question": ..., "history": [...]})`` gives ``ask --json``'s dict."""
        from assistant.lc import AnswerRunnable

        return AnswerRunnable(self.stream)

    def answerer_for(self, name: str | None = None) -> Answerer:
        """The answerer of that name (made on first use), or this assistant's own."""
        if not name:
            return self.answerer
        if name not in self._answerers:
            self._answerers[name] = make_answerer(name, self.settings)
        return self._answerers[name]

    def start_model(self) -> None:
        """Start the local model server now (it takes a minute), so the first question need not wait.
        Raises LLMUnavailable when it cannot start; a question would then fall back to extractive."""
        self.answerer.warm_up()

    def close(self) -> None:
        for answerer in self._answerers.values():
            answerer.close()
        self.indexer.catalog.close()

    def _number(self, search: Search):
        """The passages numbered and widened within the widest budget (the fallback's)."""
        budget = self.answerer_for(FALLBACK).context_budget
        return self.retriever.sources(list(search.passages), budget, self.indexer.chunker.tokens)
