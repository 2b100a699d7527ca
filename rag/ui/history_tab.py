"""The History tab: past conversations, newest first, to read again and continue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.service.services import Services
from rag.ui.messages import escape, render_answer


@dataclass
class HistoryTab:
    past: gr.Dropdown
    open_button: gr.Button


def past_conversations_handler(services: Services) -> Any:
    def past_conversations(request: gr.Request) -> Any:
        listed = services.history.conversations(user=request.username if request else None)
        return gr.Dropdown(choices=[(c.label(), c.conversation_id) for c in listed], value=None)

    return past_conversations


def reopen_handler(services: Services) -> Any:
    def reopen(conversation: str | None) -> tuple[Any, ...]:
        """The conversation back in the chat, ready to continue, and the Chat tab shown."""
        if not conversation:
            return gr.skip(), gr.skip(), gr.skip()
        chat: list[gr.ChatMessage] = []
        for turn in services.history.turns(conversation):
            chat.append(gr.ChatMessage(role="user", content=escape(turn.question)))
            chat.extend(render_answer(turn.to_answer()))
        return chat, conversation, gr.Tabs(selected="chat")

    return reopen


def build() -> HistoryTab:
    """The tab's components, inside the caller's ``gr.Tab``; the page wires them to the chat."""
    gr.Markdown("Past conversations (newest first). Open one to read it again and continue it.")
    past = gr.Dropdown([], label="Conversation", elem_id="nr-past")
    open_button = gr.Button("Open in chat", elem_id="nr-open")
    return HistoryTab(past, open_button)
