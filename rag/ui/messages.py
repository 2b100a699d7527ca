"""Answers as Gradio chat messages (the answer, its notes, checkable sources), and chat messages back as turns."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import gradio as gr

from rag.core import html as h
from rag.core import render
from rag.core.types import Answer
from rag.index.store import StoreError

logger = logging.getLogger(__name__)


def escape(text: str) -> str:
    """Text for a chat message, ``gr.Markdown`` or an HTML block: markup in articles, answers and questions is shown,
    never run, and no Markdown in it becomes an image or a link (:func:`rag.core.html.inert`)."""
    return h.inert(text)


def _timings(answer: Answer) -> str:
    t = answer.timings
    parts = [f"engine: {answer.engine}"] + [
        f"{name} {t[key]:.0f} ms" for name, key in (("retrieval", "retrieval_ms"), ("total", "total_ms")) if key in t
    ]
    return f'<div class="nr-timings">{" · ".join(parts)}</div>'


def render_answer(answer: Answer) -> list[gr.ChatMessage]:
    """The answer, its notes (notices, flags) and a collapsible Sources block, as chat messages."""
    if answer.refused:
        text = (
            f"**{escape(answer.text)}**\n\nNothing in the indexed articles is close enough to this question to"
            " answer it. Rephrase it, widen the filters in Settings, or add articles in the Articles tab."
        )
    else:
        text = escape(answer.text)
    messages = [gr.ChatMessage(role="assistant", content=text)]
    notes = answer.notices + answer.flags
    if notes:
        body = "\n".join(f"- {escape(n)}" for n in notes)
        messages.append(gr.ChatMessage(role="assistant", content=body, metadata={"title": "⚠️ Notes"}))
    if answer.citations:
        body = render.sources_blocks(answer.citations) + _timings(answer)
        meta = {"title": "Sources", "status": "done", "log": count(len(answer.citations), "passage")}
        messages.append(gr.ChatMessage(role="assistant", content=body, metadata=meta))  # type: ignore[arg-type]
    return messages


def count(n: int, noun: str) -> str:
    """A count with its noun, plural unless one: 1 passage, 3 passages, 1,001 articles."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _text(content: Any) -> str:
    """A chat message's text, whether Gradio passes a string or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def turns_of(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(role, text) turns for the next question: Sources, Notes and errors (titled messages) left out."""
    turns = []
    for m in messages or []:
        text = _text(m.get("content"))
        if not (m.get("metadata") or {}).get("title") and m.get("role") in ("user", "assistant") and text:
            turns.append((m["role"], html.unescape(re.sub(r"<[^>]+>", "", text).replace("**", ""))))
    return turns


def for_visitors(exc: Exception) -> str:
    """What a web visitor is told about an error: an index failure's detail (paths, addresses) goes to the log."""
    if isinstance(exc, StoreError):
        logger.error("the index failed: %s", exc)
        return f"{StoreError.FOR_VISITORS.capitalize()} right now; the server's log says why. Try again shortly."
    return exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)


def error_message(exc: Exception) -> gr.ChatMessage:
    """Why a question could not be answered, as a titled chat message."""
    return gr.ChatMessage(role="assistant", content=escape(for_visitors(exc)), metadata={"title": "⚠️ Could not answer"})
