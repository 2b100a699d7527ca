"""The LLM answer engine: any OpenAI-compatible chat endpoint through LlamaIndex's ``OpenAILike``.

OpenAI itself, vLLM, Ollama, llama.cpp or LM Studio: model, key, base URL, timeout and temperature
come from settings. Retries with exponential backoff on transient errors (429, 5xx, connection) are
the openai client's own (``max_retries``); every wait is bounded by ``llm_timeout``.
"""

from __future__ import annotations

from collections.abc import Iterator

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms import LLM

from rag.answering.prompts import load_prompt
from rag.answering.spotlight import neutralise, new_key
from rag.core.errors import NewsRAGError
from rag.core.settings import Settings
from rag.core.types import Passage

# Conversation turns given to the condenser: enough for a follow-up, short enough for small models.
HISTORY_TURNS = 6


class LLMUnavailable(NewsRAGError, RuntimeError):
    """The LLM could not produce an answer; the message is shown to the user as a notice."""


def build_llm(settings: Settings) -> LLM:
    """An ``OpenAILike`` client for the configured endpoint (OpenAI's when no base URL is set)."""
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        model=settings.llm_model,
        api_base=settings.llm_base_url,  # None: the openai library default (OpenAI itself)
        api_key=settings.openai_key(settings.llm_api_key) or "unused",
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        is_chat_model=True,
        context_window=8192,
        max_tokens=400,
    )


def _escape(text: str, key: str) -> str:
    # A passage must not be able to close its own delimiter and speak as the system ("</PASSAGE >" too).
    return neutralise(text, key)


def _attribute(text: str, key: str) -> str:
    # A title or source stays inside its quotes and on its line: it cannot add attributes or lines of its own.
    return " ".join(_escape(text, key).replace('"', "'").split())


def format_passages(passages: list[Passage], key: str | None = None) -> str:
    """The passages as ``<passage … key="K">`` elements closed by ``</passage key="K">``: text, title and source are
    data inside them, never outside (see spotlight.py; ``key`` is drawn afresh when not given).

    The answerer has already taken instructions to an AI out of all three (rag/answering/injection.py).
    """
    key = key or new_key()
    template = load_prompt("passage")
    return "\n\n".join(
        template.format(
            number=i,
            title=_attribute(p.title, key),
            source=_attribute(p.source, key),
            date=p.published_at[:10] or "unknown",
            text=_escape(p.text, key),
            key=key,
        )
        for i, p in enumerate(passages, start=1)
    )


def _describe(exc: Exception) -> str:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    return f"{name} (HTTP {status})" if status else name


class LLMEngine:
    """Writes cited answers and condenses follow-up questions with an LLM."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    def messages(self, question: str, passages: list[Passage]) -> list[ChatMessage]:
        """The system prompt and the question with its passages, delimited with a key drawn for this request."""
        user = load_prompt("answer").format(passages=format_passages(passages, new_key()), question=question)
        return [
            ChatMessage(role=MessageRole.SYSTEM, content=load_prompt("system")),
            ChatMessage(role=MessageRole.USER, content=user),
        ]

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str]:
        """Text deltas of the answer; raises :class:`LLMUnavailable` on any failure."""
        try:
            for chunk in self.llm.stream_chat(self.messages(question, passages)):
                if chunk.delta:
                    yield chunk.delta
        except Exception as exc:  # the openai client raises many kinds; all mean "no LLM answer"
            raise LLMUnavailable(f"the LLM failed: {_describe(exc)}: {exc}") from exc

    def complete(self, question: str, passages: list[Passage]) -> str:
        try:
            response = self.llm.chat(self.messages(question, passages))
        except Exception as exc:
            raise LLMUnavailable(f"the LLM failed: {_describe(exc)}: {exc}") from exc
        return response.message.content or ""

    def condense(self, history: list[tuple[str, str]], question: str) -> str:
        """A standalone version of a follow-up question, given (role, text) history."""
        if not history:
            return question
        lines = [f"{role}: {text}" for role, text in history[-HISTORY_TURNS:]]
        prompt = load_prompt("condense").format(history="\n".join(lines), question=question)
        try:
            response = self.llm.chat([ChatMessage(role=MessageRole.USER, content=prompt)])
        except Exception as exc:
            raise LLMUnavailable(f"the LLM failed: {_describe(exc)}: {exc}") from exc
        condensed = (response.message.content or "").strip().strip('"').splitlines()
        return condensed[0].strip() if condensed and condensed[0].strip() else question
