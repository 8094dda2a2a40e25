"""Answerers: what writes an answer from numbered passages, looked up by name.

    from assistant.answerers import ANSWERERS, make_answerer
    answerer = make_answerer("openai", settings)   # or "local", "extractive"
    for piece in answerer.generate(question, sources, "staff"): ...

Three are registered: ``local`` (the bundled model on a llama.cpp server), ``openai`` (a hosted or
compatible chat API) and ``extractive`` (no LLM: quoted sentences; also every answerer's fallback).
Everything that depends on which answerer runs (budgets, whether an LLM is asked, how many answers
the app runs at once, whether a model server must start) is an attribute here, so no caller
compares backend names. Tests register a scripted answerer with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Callable

from assistant import comparison, evidence, extractive
from assistant.answers import Source
from assistant.config import PROMPTS_DIR, Settings
from assistant.llm import ChatClient, ChatEndpoint, LLMUnavailable, openai_endpoint
from assistant.rewrite import history_block

# what the answer prompts tell a model to say when the passages do not answer the question
NOT_IN_DOCUMENTS = "NOT_IN_DOCUMENTS"
FALLBACK = "extractive"  # the answerer that writes the answer when an LLM cannot


class UnknownAnswerer(ValueError):
    """No answerer is registered under the name."""


@lru_cache(maxsize=16)
def prompt(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").strip()


class Answerer:
    """Writes an answer to a (standalone) question from numbered sources, as a stream of text."""

    name = ""
    uses_llm = False  # an LLM may fail, leak its instructions or say NOT_IN_DOCUMENTS: the engine guards it
    summarises_comparisons = False  # its model writes the sentence under a comparison's table (else the rule does)
    starts_model = False  # a model server must start before the first answer (minutes)
    concurrency = 4  # answers the app writes at once
    default_budget = 3000  # tokens of passages it reads, unless the settings give one (context_tokens)

    def __init__(self, settings: Settings):
        self.settings = settings

    @property
    def context_budget(self) -> int:
        return self.settings.context_tokens or self.default_budget

    @property
    def model(self) -> str:
        """The model's name, as an answer records it."""
        return self.name

    @property
    def passages(self) -> int:
        """Passages retrieved for an answer: its evidence is drawn from the best sentences of each."""
        return max(self.settings.search_top_k, self.settings.evidence_passages)

    def evidence(self, question: str, sources: list[Source], count_tokens: Callable[[str], int]) -> list[Source]:
        """The sources it reads: each numbered passage cut to its best sentences for the question,
        within its budget (see :mod:`assistant.evidence`)."""
        return evidence.best_sentences(question, sources, self.context_budget, count_tokens)

    def rewrite(self, question: str, history: list[str]) -> str:
        """A follow-up as a standalone question, or "" to keep the rule's rewrite."""
        return ""

    def simplify(self, text: str) -> str:
        """The answer rewritten more simply for the public, its citations kept (raises LLMUnavailable)."""
        raise NotImplementedError

    def summarise(self, question: str, table: comparison.Table, audience: str = "staff") -> Iterator[str]:
        """The sentence under a comparison's table: where its documents agree or differ."""
        yield comparison.rule_summary(table)

    def start(self) -> None:
        """Be ready to answer (start a model server if it is not running). Raises LLMUnavailable."""

    def warm_up(self) -> None:
        """Start now what the first question would otherwise wait for."""

    def generate(self, question: str, sources: list[Source], audience: str = "staff") -> Iterator[str]:
        raise NotImplementedError

    def close(self) -> None:
        """Stop what it started."""


class ExtractiveAnswerer(Answerer):
    """No LLM: the sentences or bullets of the sources that best answer the question, each cited."""

    name = "extractive"

    @property
    def passages(self) -> int:
        return self.settings.search_top_k

    def evidence(self, question: str, sources: list[Source], count_tokens: Callable[[str], int]) -> list[Source]:
        return sources  # it reads every retrieved passage whole: the widest budget is its own

    def generate(self, question: str, sources: list[Source], audience: str = "staff") -> Iterator[str]:
        yield extractive.for_audience(extractive.answer(question, sources).text, audience)

    def simplify(self, text: str) -> str:
        return extractive.for_audience(text, "public")


class ChatAnswerer(Answerer):
    """An LLM behind the OpenAI chat API, given the answer prompt for the audience."""

    uses_llm = True
    summarises_comparisons = True

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self._client: ChatClient | None = None

    def endpoint(self) -> ChatEndpoint:
        raise NotImplementedError

    def client(self) -> ChatClient:
        """The chat client for the current endpoint (made again when the endpoint moved)."""
        endpoint = self.endpoint()
        if self._client is None or self._client.endpoint != endpoint:
            self._client = ChatClient(endpoint, self.settings.max_answer_tokens)
        return self._client

    def start(self) -> None:
        self.client()

    def generate(self, question: str, sources: list[Source], audience: str = "staff") -> Iterator[str]:
        yield from self.client().stream(answer_messages(question, sources, audience))

    def summarise(self, question: str, table: comparison.Table, audience: str = "staff") -> Iterator[str]:
        plain = " Write for a member of the public: short sentences and everyday words." if audience == "public" else ""
        text = prompt("compare_summary").format(table=table.markdown(), question=question, plain=plain)
        yield from self.client().stream([("system", prompt("system")), ("human", text)])

    def simplify(self, text: str) -> str:
        reply = self.client().complete([("system", prompt("system")), ("human", prompt("simplify_public").format(answer=text))],
                                       max_tokens=self.settings.max_answer_tokens)
        return reply.strip()

    def rewrite(self, question: str, history: list[str]) -> str:
        text = prompt("condense_question").format(history=history_block(history), question=question)
        reply = self.client().complete([("human", text)], max_tokens=60)
        reply = reply.strip().strip('"').splitlines()[0].strip() if reply.strip() else ""
        return reply if 3 <= len(reply) <= 400 else ""


class OpenAIAnswerer(ChatAnswerer):
    """A hosted model, or any server speaking the OpenAI chat API (Azure, vLLM, Ollama)."""

    name = "openai"

    @property
    def model(self) -> str:
        return self.settings.llm_model

    def endpoint(self) -> ChatEndpoint:
        return openai_endpoint(self.settings)


class LocalAnswerer(ChatAnswerer):
    """The bundled model on a llama.cpp server this process starts (and restarts after a crash)."""

    name = "local"
    starts_model = True
    concurrency = 1  # the server answers one question at a time on 2 cores
    # on dev comparisons the 1.5B model called two different budgets "the same" and invented reasons
    # for a difference: the rule's sentence, which states what each row gives, is written instead
    summarises_comparisons = False
    # it reads about 20 prompt tokens a second on 2 cores: keep its prompt short. Labels included, no
    # longer than before the best-sentence evidence: in the model's own tokens the user message is 594
    # p50 / 730 p95 over 120 dev questions with f08e7d4's 450 tokens of whole passages, and 594 / 620
    # with this budget (604 / 633 at 520)
    default_budget = 510

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.server = None  # the LocalModelServer, once started

    @property
    def model(self) -> str:
        from assistant.local_model import MODEL_NAME

        return MODEL_NAME

    def endpoint(self) -> ChatEndpoint:
        from assistant.local_model import LocalModelError, LocalModelServer, assemble_model

        settings = self.settings
        try:
            if self.server is None:
                path = settings.local_model_path or assemble_model(settings.models_dir)
                self.server = LocalModelServer(
                    model_path=path,
                    log_path=settings.logs_dir / "local-model.log",
                    port=settings.local_port,
                    threads=settings.local_threads,
                    context=settings.local_context,
                    start_timeout_s=settings.local_start_timeout_s,
                )
            base_url = self.server.ensure_running()
        except LocalModelError as exc:
            raise LLMUnavailable(str(exc)) from exc
        return ChatEndpoint(base_url, "local", self.model, settings.llm_timeout_s, 0)

    def warm_up(self) -> None:
        client = self.client()
        try:  # the server keeps the last prompt's state: read the fixed instructions into it now
            client.complete(answer_messages("", [], "staff"), max_tokens=1)
        except LLMUnavailable:
            pass  # started but not answering yet: the first question will tell

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


ANSWERERS: dict[str, type[Answerer]] = {}


def register(cls: type[Answerer]) -> type[Answerer]:
    """Make an answerer available under its name (tests register a scripted one)."""
    ANSWERERS[cls.name] = cls
    return cls


for _cls in (LocalAnswerer, OpenAIAnswerer, ExtractiveAnswerer):
    register(_cls)


def answerer_class(name: str) -> type[Answerer]:
    """The answerer registered under ``name``; UnknownAnswerer says which names there are."""
    try:
        return ANSWERERS[name]
    except KeyError:
        *first, last = ANSWERERS
        raise UnknownAnswerer(f"Unknown backend '{name}': choose {', '.join(first)} or {last}.") from None


def make_answerer(name: str, settings: Settings) -> Answerer:
    return answerer_class(name)(settings)


def answer_messages(question: str, sources: list[Source], audience: str) -> list[tuple[str, str]]:
    template = prompt("answer_public" if audience == "public" else "answer_staff")
    return [("system", prompt("system")), ("human", template.format(context=evidence.context(sources), question=question))]
