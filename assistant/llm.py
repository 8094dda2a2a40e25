"""Chat models behind one interface: the OpenAI chat API through LangChain (``init_chat_model``).

The local llama.cpp server, OpenAI, Azure OpenAI's v1 endpoint, vLLM or Ollama are all the
same code path; only the base URL, key and model name differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from assistant.config import Settings


class LLMUnavailable(RuntimeError):
    """The LLM could not be reached, refused, or was too slow; the caller falls back."""


@dataclass
class ChatEndpoint:
    base_url: str | None
    api_key: str
    model: str
    timeout_s: float
    max_retries: int


def openai_endpoint(settings: Settings) -> ChatEndpoint:
    api_key = settings.api_key()
    if not api_key and not settings.openai_base_url:
        raise LLMUnavailable(
            "The 'openai' backend needs an API key (ICB_ASSISTANT_OPENAI_API_KEY or OPENAI_API_KEY) "
            "or the base URL of a compatible server (ICB_ASSISTANT_OPENAI_BASE_URL)."
        )
    return ChatEndpoint(
        base_url=settings.openai_base_url,
        api_key=api_key or "not-needed",
        model=settings.llm_model,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.openai_max_retries,
    )


class ChatClient:
    """Streams a chat completion, turning every failure into :class:`LLMUnavailable`."""

    def __init__(self, endpoint: ChatEndpoint, max_tokens: int):
        from langchain.chat_models import init_chat_model

        self.endpoint = endpoint
        self.model = init_chat_model(
            endpoint.model,
            model_provider="openai",  # the OpenAI chat API, whoever serves it
            api_key=endpoint.api_key,
            base_url=endpoint.base_url,
            timeout=endpoint.timeout_s,
            max_retries=endpoint.max_retries,
            temperature=0,
            max_completion_tokens=max_tokens,
        )

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[str]:
        finish = None
        try:
            for piece in self.model.stream(messages):
                finish = (piece.response_metadata or {}).get("finish_reason") or finish
                text = piece.content if isinstance(piece.content, str) else ""
                if text:
                    yield text
        except Exception as exc:  # openai/httpx raise many types: timeouts, refused, 401, 404, 5xx
            raise LLMUnavailable(describe_failure(exc, self.endpoint)) from exc
        if finish is None:  # the stream ended without the server saying it was done: it broke off
            raise LLMUnavailable(f"the language model at {self.endpoint.base_url or 'the OpenAI API'} stopped in the middle of its answer")

    def complete(self, messages: list[tuple[str, str]], max_tokens: int = 80) -> str:
        try:
            reply = self.model.bind(max_completion_tokens=max_tokens).invoke(messages)
        except Exception as exc:
            raise LLMUnavailable(describe_failure(exc, self.endpoint)) from exc
        return reply.content if isinstance(reply.content, str) else ""


def describe_failure(exc: Exception, endpoint: ChatEndpoint) -> str:
    """A sentence for the user; never the API key."""
    name = exc.__class__.__name__
    where = endpoint.base_url or "the OpenAI API"
    text = str(exc)
    if endpoint.api_key and endpoint.api_key in text:
        text = text.replace(endpoint.api_key, "***")
    if "Timeout" in name:
        return f"the language model at {where} did not answer within {endpoint.timeout_s:.0f} s"
    if "Connection" in name:
        return f"the language model at {where} could not be reached"
    if "Authentication" in name or "401" in text:
        return f"the language model at {where} refused the API key"
    if "NotFound" in name or "404" in text:
        return f"the model '{endpoint.model}' was not found at {where}"
    return f"the language model at {where} failed ({name}: {text[:200]})"
