"""The answer engine: question in, cited answer out. The Python API the CLI, UI and evaluation share.

    from assistant.engine import Assistant
    assistant = Assistant()                       # settings from the environment / config file
    answer = assistant.ask("What are the urgent care priorities?", history=["..."])
    for event in assistant.stream(question): ...  # tokens as they come, then the final Answer

Steps: check the question → rewrite a follow-up into a standalone question → hybrid retrieval
→ number the passages within a token budget → generate (local LLM, hosted LLM, or extractive)
→ check the citations → status: answered / unanswerable / error. When the LLM is down, slow
or fails mid-answer, the extractive answer is given instead, with a notice saying so.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from assistant import extractive
from assistant.answers import Answer, Source
from assistant.citations import check_citations
from assistant.config import PROMPTS_DIR, Settings, load_settings
from assistant.language import NOT_ENGLISH_NOTICE, looks_english
from assistant.llm import ChatClient, ChatEndpoint, LLMUnavailable, openai_endpoint
from assistant.prompt_leak import LeakWatch
from assistant.retrieval import Filters, Passage, Retriever, fit_to_budget
from assistant.rewrite import history_block, is_follow_up, rewrite_by_rule

MAX_QUESTION_CHARS = 2000
NOT_IN_DOCUMENTS = "NOT_IN_DOCUMENTS"
# When the best sentence of the retrieved passages (with its headings) holds less than this share
# of the question's weighted terms, the documents do not cover the question. Set on a small
# hand-made check: 15 of 16 answerable questions above, 9 of 10 unanswerable ones below.
MIN_COVERAGE = 0.45
BACKENDS = ("local", "openai", "extractive")
WITHHELD = (
    "I can only answer questions from the ICB's documents, and I don't share my instructions. "
    "Ask about what the documents say, for example the priorities for 2025/26."
)


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer. kind: rewritten | sources | token | notice | reset | answer."""

    kind: str
    text: str = ""
    sources: tuple[Source, ...] = ()
    answer: Answer | None = None


@lru_cache(maxsize=16)
def prompt(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").strip()


def clean_question(question: str) -> str:
    """Drop control characters and squeeze whitespace; keep every script and emoji."""
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question or "")
    return re.sub(r"\s+", " ", kept).strip()


def understood_as(question: str, rewritten: str) -> str:
    """The rewritten question to show ("Understood as: …"), or "" when its words are the question's:
    line breaks, spacing and control characters are no rewrite."""
    rewritten = clean_question(rewritten)
    return rewritten if rewritten != clean_question(question) else ""


class Assistant:
    def __init__(self, settings: Settings | None = None, backend: str | None = None, embeddings=None):
        from assistant.components import open_indexer

        self.settings = settings or load_settings()
        self.backend = backend or self.settings.backend
        if self.backend not in BACKENDS:
            raise ValueError(f"Unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        self.indexer = open_indexer(self.settings, embeddings)
        self.retriever = Retriever(
            self.indexer.catalog, self.indexer.vectors, self.settings.dense_weight, self.settings.keyword_weight
        )
        self._local_server = None
        self._clients: dict[str, ChatClient] = {}

    # -- public API ---------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: list[str] | None = None,
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
        history: list[str] | None = None,
        audience: str = "staff",
        filters: Filters | None = None,
        backend: str | None = None,
    ) -> Iterator[Event]:
        backend = backend or self.backend
        started = time.perf_counter()
        timings: dict[str, float] = {}
        history = [clean_question(turn) for turn in (history or []) if clean_question(turn)]
        question = clean_question(question)

        problem = self._question_problem(question)
        if problem:
            yield Event("answer", answer=Answer(status="error", answer=problem, backend=backend))
            return
        if self.indexer.catalog.chunk_count() == 0:
            message = "Nothing is indexed yet, so there is nothing to answer from. Build the index with `icb-assistant index`."
            yield Event("answer", answer=Answer(status="error", answer=message, backend=backend))
            return

        notices: list[str] = []
        llm_backend = backend in ("local", "openai")

        # 1. a follow-up becomes a standalone question
        mark = time.perf_counter()
        rewritten = question
        if history and is_follow_up(question):
            rewritten = rewrite_by_rule(question, history)
            if llm_backend:
                try:
                    rewritten = self._rewrite_with_llm(question, history, backend) or rewritten
                except LLMUnavailable:
                    pass  # the rule's rewrite stands; the answer step reports the LLM's state
        timings["rewrite"] = time.perf_counter() - mark
        if rewritten != question:
            yield Event("rewritten", text=rewritten)

        # 2. retrieve and number the passages
        mark = time.perf_counter()
        also = [question] if rewritten != question else []
        passages = self.retriever.search(rewritten, k=self.settings.search_top_k, filters=filters, also=also)
        tokens = self.indexer.chunker.tokens
        # every retrieved passage decides answerability and feeds the extractive answer; an LLM
        # gets the first of them within its budget (same numbering: the list is a prefix)
        wide = self.retriever.sources(passages, self.settings.context_budget("extractive"), tokens)
        sources = fit_to_budget(wide, self.settings.context_budget(backend), tokens) if llm_backend else wide
        timings["retrieve"] = time.perf_counter() - mark
        yield Event("sources", sources=tuple(sources))

        base = dict(contexts=sources, rewritten_question=rewritten, backend=backend, notices=notices)
        found = extractive.answer(rewritten, wide)
        if not wide or found.best < MIN_COVERAGE:
            if not looks_english(question):
                notices.append(NOT_ENGLISH_NOTICE)
            timings["total"] = time.perf_counter() - started
            answer = Answer(status="unanswerable", answer=self._not_covered(passages), timings=timings, model="", **base)
            yield Event("answer", answer=answer)
            return

        # 3. generate
        text, model = "", "extractive"
        if llm_backend:
            mark = time.perf_counter()
            try:
                self._client(backend)  # starts the local model server if it is not running
                timings["llm_ready"] = time.perf_counter() - mark
                mark = time.perf_counter()
                raw: list[str] = []
                watch = LeakWatch(f"{question} {rewritten}", [source.text for source in sources])
                pieces = self._generate(rewritten, sources, audience, backend, raw)
                for piece in pieces:
                    if "first_token" not in timings:
                        timings["first_token"] = time.perf_counter() - mark
                    yield Event("token", text=piece)
                    if watch.feed(piece):
                        pieces.close()
                        break
                text = "".join(raw).strip()
                model = self._client(backend).endpoint.model
                if watch.leaked:
                    notices.append("The model began to quote its own instructions, so its reply was withheld.")
                    yield Event("reset")
                    timings["total"] = time.perf_counter() - started
                    answer = Answer(status="unanswerable", answer=WITHHELD, timings=timings, model=model, **base)
                    yield Event("answer", answer=answer)
                    return
                if not text:
                    raise LLMUnavailable("the language model returned an empty answer")
            except LLMUnavailable as exc:
                notice = f"The language model is unavailable ({exc}), so this answer is made of sentences quoted from the documents."
                notices.append(notice)
                yield Event("notice", text=notice)
                yield Event("reset")
                text, model = "", "extractive"
        if not text:
            mark = time.perf_counter()
            text = found.text
            base["contexts"] = wide
            yield Event("token", text=text)
        timings["generate"] = time.perf_counter() - mark

        # 4. check the citations; decide the status
        if text.strip().upper().startswith(NOT_IN_DOCUMENTS) or text.strip() == NOT_IN_DOCUMENTS:
            timings["total"] = time.perf_counter() - started
            answer = Answer(status="unanswerable", answer=self._not_covered(passages), timings=timings, model=model, **base)
            yield Event("answer", answer=answer)
            return
        text = text.replace(NOT_IN_DOCUMENTS, "").strip()
        checked = check_citations(text, base["contexts"])
        if checked.invalid:
            numbers = ", ".join(f"[{n}]" for n in checked.invalid)
            notices.append(f"Removed citation {numbers}: it named no source given to the model.")
        if not checked.supported:
            notices.append("This answer cites no source, so it could not be checked against the documents. Treat it with care.")
        timings["total"] = time.perf_counter() - started
        answer = Answer(
            status="answered", answer=checked.text, citations=checked.cited, timings=timings, model=model,
            supported=checked.supported, **base,
        )
        yield Event("answer", answer=answer)

    def start_model(self) -> None:
        """Start the local model server now (it takes a minute), so the first question need not wait.
        Raises LLMUnavailable when it cannot start; a question would then fall back to extractive."""
        if self.backend == "local":
            client = self._client("local")
            try:  # the server keeps the last prompt's state: read the fixed instructions into it now
                client.complete(self._answer_messages("", [], "staff"), max_tokens=1)
            except LLMUnavailable:
                pass  # started but not answering yet: the first question will tell

    def close(self) -> None:
        if self._local_server is not None:
            self._local_server.stop()
        self.indexer.catalog.close()

    # -- steps ------------------------------------------------------------------------------
    def _question_problem(self, question: str) -> str:
        if not question:
            return "The question is empty. Type a question about the ICB's strategy documents."
        if len(question) > MAX_QUESTION_CHARS:
            return (
                f"The question is too long ({len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}). "
                "Shorten it to the question itself."
            )
        if not re.search(r"\w", question):
            return "The question has no words in it. Type a question about the ICB's strategy documents."
        return ""

    def _not_covered(self, passages: list[Passage]) -> str:
        topics = []
        for passage in passages:
            topic = passage.section.split(" > ")[-1] if passage.section else passage.title
            if topic and topic not in topics:
                topics.append(topic)
        message = "The documents don't cover this, so I can't answer it from them."
        if topics:
            message += " The closest topics they do cover: " + "; ".join(topics[:3]) + "."
        return message

    def _generate(self, question: str, sources: list[Source], audience: str, backend: str, raw: list[str]) -> Iterator[str]:
        """Stream the answer's visible pieces; every piece received is appended to ``raw``."""
        held, releasing = "", False
        for piece in self._client(backend).stream(self._answer_messages(question, sources, audience)):
            raw.append(piece)
            if releasing:
                yield piece
                continue
            held += piece
            start = held.strip()
            # hold back what is, or could still become, NOT_IN_DOCUMENTS: it is never shown
            if start.startswith(NOT_IN_DOCUMENTS) or NOT_IN_DOCUMENTS.startswith(start):
                continue
            releasing = True
            yield held

    @staticmethod
    def _answer_messages(question: str, sources: list[Source], audience: str) -> list[tuple[str, str]]:
        template = prompt("answer_public" if audience == "public" else "answer_staff")
        context = "\n\n".join(f"{source.label()}\n{source.text}" for source in sources)
        return [("system", prompt("system")), ("human", template.format(context=context, question=question))]

    def _rewrite_with_llm(self, question: str, history: list[str], backend: str) -> str:
        text = prompt("condense_question").format(history=history_block(history), question=question)
        reply = self._client(backend).complete([("human", text)], max_tokens=60)
        reply = reply.strip().strip('"').splitlines()[0].strip() if reply.strip() else ""
        return reply if 3 <= len(reply) <= 400 else ""

    def _client(self, backend: str) -> ChatClient:
        if backend == "local":
            base_url = self._local_base_url()
            endpoint = ChatEndpoint(base_url, "local", self._local_model_name(), self.settings.llm_timeout_s, 0)
            cached = self._clients.get("local")
            if cached is None or cached.endpoint.base_url != base_url:
                self._clients["local"] = ChatClient(endpoint, self.settings.max_answer_tokens)
            return self._clients["local"]
        if "openai" not in self._clients:
            self._clients["openai"] = ChatClient(openai_endpoint(self.settings), self.settings.max_answer_tokens)
        return self._clients["openai"]

    def _local_model_name(self) -> str:
        from assistant.local_model import MODEL_NAME

        return MODEL_NAME

    def _local_base_url(self) -> str:
        from assistant.local_model import LocalModelError, LocalModelServer, assemble_model

        try:
            if self._local_server is None:
                path = self.settings.local_model_path or assemble_model(self.settings.models_dir)
                self._local_server = LocalModelServer(
                    model_path=path,
                    log_path=self.settings.logs_dir / "local-model.log",
                    port=self.settings.local_port,
                    threads=self.settings.local_threads,
                    context=self.settings.local_context,
                    start_timeout_s=self.settings.local_start_timeout_s,
                )
            return self._local_server.ensure_running()
        except LocalModelError as exc:
            raise LLMUnavailable(str(exc)) from exc
