"""Optional LLM-as-judge: faithfulness and correctness of an answer, each 1-5.

Used only when ``judge_model`` is configured (ICB_ASSISTANT_JUDGE_MODEL); the judge is any
OpenAI-compatible chat model (``judge_base_url``, else the OpenAI API with the configured key),
called through the same ChatOpenAI client as assistant/llm.py. The prompt is prompts/judge.txt.
A judge that fails on one item leaves that item unjudged (with the reason); the run goes on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from assistant.config import PROMPTS_DIR, Settings

SCORES = ("faithfulness", "correctness")


@dataclass
class Verdict:
    faithfulness: int | None = None
    correctness: int | None = None
    reason: str = ""
    error: str = ""


def judge_problem(settings: Settings) -> str:
    """Why the configured judge cannot run ("" when it can, or when none is configured)."""
    if not settings.judge_model:
        return ""
    if not (settings.judge_base_url or settings.openai_base_url or settings.api_key()):
        return (
            f"judge_model is set to '{settings.judge_model}' but there is no server to ask: set "
            "ICB_ASSISTANT_JUDGE_BASE_URL, or an API key (ICB_ASSISTANT_OPENAI_API_KEY / OPENAI_API_KEY) for the OpenAI API"
        )
    return ""


def parse_verdict(reply: str) -> Verdict:
    """Scores from the judge's reply: a JSON object, or failing that "faithfulness: 4" lines."""
    data: dict = {}
    match = re.search(r"\{.*\}", reply or "", re.S)
    if match:
        try:
            loaded = json.loads(match.group(0))
            data = loaded if isinstance(loaded, dict) else {}
        except json.JSONDecodeError:
            data = {}
    verdict = Verdict(reason=str(data.get("reason", ""))[:300])
    for name in SCORES:
        value = data.get(name)
        if value is None:
            found = re.search(rf"{name}\W+(\d)", reply or "", re.I)
            value = found.group(1) if found else None
        try:
            score = int(float(value)) if value is not None else None
        except (TypeError, ValueError):
            score = None
        setattr(verdict, name, min(5, max(1, score)) if score is not None else None)
    if verdict.faithfulness is None and verdict.correctness is None:
        verdict.error = f"the judge's reply had no scores: {(reply or '').strip()[:120]!r}"
    return verdict


class Judge:
    def __init__(self, settings: Settings, max_tokens: int = 200):
        from assistant.llm import ChatClient, ChatEndpoint

        problem = judge_problem(settings)
        if problem or not settings.judge_model:
            raise ValueError(problem or "no judge_model is configured")
        self.model = settings.judge_model
        self.template = (PROMPTS_DIR / "judge.txt").read_text(encoding="utf-8").strip()
        endpoint = ChatEndpoint(
            base_url=settings.judge_base_url or settings.openai_base_url,
            api_key=settings.api_key() or "not-needed",
            model=settings.judge_model,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.openai_max_retries,
        )
        self.client = ChatClient(endpoint, max_tokens)
        self.max_tokens = max_tokens

    def grade(self, question: str, reference_answer: str, passages: list[str], answer: str) -> Verdict:
        from assistant.llm import LLMUnavailable

        context = "\n\n".join(f"[{n}] {text}" for n, text in enumerate(passages, start=1)) or "(none)"
        prompt = self.template.format(
            question=question, reference_answer=reference_answer, passages=context, answer=answer
        )
        try:
            reply = self.client.complete([("human", prompt)], max_tokens=self.max_tokens)
        except LLMUnavailable as exc:
            return Verdict(error=str(exc))
        return parse_verdict(reply)
