"""The History tab: the visitor's own past conversations, newest first, to search, reopen, delete and export.

Whose they are comes from :func:`visitor_scope`: the logged-in user, else the browser's visitor id
(kept in the browser's localStorage by the page). A visitor without either sees nothing. Every handler
here reads and deletes through that scope, so naming another visitor's conversation id does nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.service.exports import conversation_markdown
from rag.service.history import scope_for
from rag.service.services import Services
from rag.ui.messages import escape, render_answer

HISTORY_HEADERS = ["date", "first question", "questions"]
LISTED = 100  # conversations one listing shows; a search finds older ones
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


@dataclass
class HistoryTab:
    search: gr.Textbox
    table: gr.Dataframe
    ids: gr.State  # the conversation ids of the rows shown
    chosen: gr.State  # the conversation opened in the tab
    panel: gr.Column
    open_button: gr.Button
    delete_button: gr.Button
    export_button: gr.Button
    exported: gr.Code
    said: gr.Markdown


def visitor_scope(request: gr.Request | None, visitor: str | None) -> str | None:
    """The history a browser event may read and write: its user's when logged in, else its visitor id's."""
    return scope_for(request.username if request else None, visitor, "ui")


def listing_handler(services: Services) -> Any:
    def listing(text: str, visitor: str | None, request: gr.Request) -> tuple[Any, ...]:
        scope = visitor_scope(request, visitor)
        listed = services.history.conversations(scope=scope, text=(text or "")[:200], limit=LISTED)
        rows = [
            [time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated_at)), c.first_question[:160], c.turns]
            for c in listed
        ]
        return gr.Dataframe(value=rows, headers=HISTORY_HEADERS), [c.conversation_id for c in listed]

    return listing


def pick(ids: list[str], event: gr.SelectData) -> tuple[Any, ...]:
    """Clicking a row chooses that conversation for the buttons below the list."""
    row = event.index[0] if isinstance(event.index, list | tuple) else event.index
    chosen = ids[row] if ids and 0 <= row < len(ids) else None
    question = str(event.row_value[1]) if chosen and event.row_value else ""
    said = f"Chosen: **{escape(question)}**" if chosen else ""
    return chosen, gr.Column(visible=chosen is not None), said, gr.Code(value="", visible=False)


def reopen_handler(services: Services) -> Any:
    def reopen(conversation: str | None, visitor: str | None, request: gr.Request) -> tuple[Any, ...]:
        """The conversation back in the chat, ready to continue, and the Chat tab shown; only the visitor's own."""
        turns = services.history.turns(conversation, scope=visitor_scope(request, visitor)) if conversation else []
        if not turns:  # nothing picked, or not theirs: the same answer either way
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        chat: list[gr.ChatMessage] = []
        for turn in turns:
            chat.append(gr.ChatMessage(role="user", content=escape(turn.question)))
            chat.extend(render_answer(turn.to_answer()))
        return chat, conversation, [t.id for t in turns], gr.Tabs(selected="chat")

    return reopen


def delete_handler(services: Services) -> Any:
    def delete(conversation: str | None, visitor: str | None, request: gr.Request) -> tuple[Any, ...]:
        removed = services.history.delete_conversation(conversation, scope=visitor_scope(request, visitor)) if (
            conversation
        ) else 0  # fmt: skip
        said = f"Deleted the conversation ({removed} question{'s' if removed != 1 else ''})." if removed else (
            "That conversation is no longer in your history."
        )  # fmt: skip
        return None, gr.Column(visible=False), said

    return delete


def export_handler(services: Services) -> Any:
    def export(conversation: str | None, visitor: str | None, request: gr.Request) -> Any:
        turns = services.history.turns(conversation, scope=visitor_scope(request, visitor)) if conversation else []
        return gr.Code(value=conversation_markdown(turns), visible=bool(turns))

    return export


def build() -> HistoryTab:
    """The tab's components, inside the caller's ``gr.Tab``; the page wires them to the chat and the visitor."""
    gr.Markdown("Your past conversations, newest first. Click one to open it in the chat, delete it or export it.")
    search = gr.Textbox(label="Search your questions and answers", elem_id="nr-history-search")
    table = gr.Dataframe(headers=HISTORY_HEADERS, interactive=False, wrap=True, elem_id="nr-past", max_height=600)
    ids, chosen = gr.State([]), gr.State(None)
    said = gr.Markdown(elem_id="nr-history-said")
    with gr.Column(visible=False, elem_id="nr-history-actions") as panel, gr.Row(elem_classes="nr-wrap-row"):
        open_button = gr.Button("Open in chat", variant="primary", elem_id="nr-open", min_width=120)
        export_button = gr.Button("Export as Markdown", elem_id="nr-export", min_width=120)
        delete_button = gr.Button("Delete", variant="stop", elem_id="nr-history-delete", min_width=120)
    exported = gr.Code(language="markdown", label="Markdown", visible=False, elem_id="nr-exported", wrap_lines=True)
    table.select(pick, inputs=ids, outputs=[chosen, panel, said, exported], **PRIVATE)
    return HistoryTab(search, table, ids, chosen, panel, open_button, delete_button, export_button, exported, said)
