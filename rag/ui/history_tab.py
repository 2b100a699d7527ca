"""The History tab: the visitor's own past conversations, newest first, to read again and continue.

Whose they are comes from :func:`visitor_scope`: the logged-in user, else the browser's visitor id
(kept in the browser's localStorage by the page). A visitor without either sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.service.history import scope_for
from rag.service.services import Services
from rag.ui.messages import escape, render_answer


@dataclass
class HistoryTab:
    past: gr.Dropdown
    open_button: gr.Button


def visitor_scope(request: gr.Request | None, visitor: str | None) -> str | None:
    """The history a browser event may read and write: its user's when logged in, else its visitor id's."""
    return scope_for(request.username if request else None, visitor, "ui")


def past_conversations_handler(services: Services) -> Any:
    def past_conversations(visitor: str | None, request: gr.Request) -> Any:
        listed = services.history.conversations(scope=visitor_scope(request, visitor))
        return gr.Dropdown(choices=[(c.label(), c.conversation_id) for c in listed], value=None)

    return past_conversations


def reopen_handler(services: Services) -> Any:
    def reopen(conversation: str | None, visitor: str | None, request: gr.Request) -> tuple[Any, ...]:
        """The conversation back in the chat, ready to continue, and the Chat tab shown; only the visitor's own."""
        turns = services.history.turns(conversation, scope=visitor_scope(request, visitor)) if conversation else []
        if not turns:  # nothing picked, or not theirs: the same answer either way
            return gr.skip(), gr.skip(), gr.skip()
        chat: list[gr.ChatMessage] = []
        for turn in turns:
            chat.append(gr.ChatMessage(role="user", content=escape(turn.question)))
            chat.extend(render_answer(turn.to_answer()))
        return chat, conversation, gr.Tabs(selected="chat")

    return reopen


def build() -> HistoryTab:
    """The tab's components, inside the caller's ``gr.Tab``; the page wires them to the chat."""
    gr.Markdown("Your past conversations (newest first). Open one to read it again and continue it.")
    past = gr.Dropdown([], label="Conversation", elem_id="nr-past")
    open_button = gr.Button("Open in chat", elem_id="nr-open")
    return HistoryTab(past, open_button)
