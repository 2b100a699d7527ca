"""The Chat tab: the conversation, the question box, example questions and the answer settings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.core.errors import NewsRAGError
from rag.service.exports import answer_markdown
from rag.service.history import Rating, new_conversation_id
from rag.service.services import Services
from rag.service.turns import Asker
from rag.ui.history_tab import visitor_scope
from rag.ui.messages import error_message, escape, render_answer, turns_of

SAMPLE_TITLE = "Trump says progress made in US envoy Witkoff"  # the bundled data/articles sample
SAMPLE_QUESTIONS = [  # checked against the sample by tests/test_answers.py and tests/served/test_app_browser.py
    "What are Putin's peace conditions?",
    "How long did Witkoff and Putin meet?",
    "What additional tariff did Trump impose on India on Aug 6?",
]
MAX_EXAMPLES = 6
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # page events: not part of the Gradio API


def example_questions(titles: list[str]) -> list[str]:
    """Known-good questions for the bundled sample when it is indexed, then one per other article (newest first)."""
    questions = list(SAMPLE_QUESTIONS) if any(t.startswith(SAMPLE_TITLE) for t in titles) else []
    for title in titles:
        if title and not title.startswith(SAMPLE_TITLE):
            questions.append(f"What does “{title}” report?")
    return questions[:MAX_EXAMPLES]


def _engines(services: Services) -> list[str]:
    """The engines to choose from: auto, llm, extractive, and those installed plugins add."""
    return services.newsrag.components.answerer.engine_names()


def llm_info(services: Services) -> str:
    s = services.settings
    if s.llm_configured:
        return f"An LLM is configured: {s.llm_model} at {s.llm_base_url or 'OpenAI'}. auto uses it."
    return (
        "No LLM is configured, so auto quotes the best sentences (extractive). To write answers with an LLM,"
        " start newsrag with NEWSRAG_LLM_BASE_URL=http://127.0.0.1:8080/v1 NEWSRAG_LLM_MODEL=<model>"
        " (any OpenAI-compatible server) or OPENAI_API_KEY=…"
    )


@dataclass
class ChatTab:
    chatbot: gr.Chatbot
    question: gr.Textbox
    conversation: gr.State
    turn_ids: gr.State  # the logged turn of each question in the chat, in order (for 👍/👎 and copying)
    examples_hint: gr.Markdown
    examples: list[gr.Button]
    sources: gr.Dropdown
    asked: list[Any]  # the events that answer a question, for the page to chain on


def respond_handler(services: Services) -> Any:
    """The chat's answer handler: streams the answer into the conversation, logged as the visitor's turn."""

    def respond(message: str, chat: list, conversation: str, engine: str, top_k: float, sources: list[str],
                since: str, until: str, as_of: str, visitor: str | None, turn_ids: list[int | None],
                request: gr.Request) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        question = (message or "").strip()
        if not question:
            yield chat, message, conversation, turn_ids
            return
        conversation = conversation or new_conversation_id()
        history = turns_of(chat)
        chat = [*chat, gr.ChatMessage(role="user", content=escape(question))]
        turn_ids = [*(turn_ids or []), None]  # this question's turn, known once it is logged
        yield chat, "", conversation, turn_ids
        user = request.username if request else None
        asker = Asker("ui", visitor_scope(request, visitor), user, conversation)
        filters = {
            "sources": sources or None,
            "since": (since or "").strip() or None,
            "until": (until or "").strip() or None,
            "as_of": (as_of or "").strip() or None,
        }
        try:
            stream = services.turns.stream(question, asker, history=history, engine=engine, top_k=int(top_k), **filters)
            for _ in stream:
                streamed = gr.ChatMessage(role="assistant", content=escape(stream.response.streamed))
                yield [*chat, streamed], "", conversation, turn_ids
            logged = stream.finish()
        except NewsRAGError as exc:
            yield [*chat, error_message(exc)], "", conversation, turn_ids
            return
        turn_ids[-1] = logged.turn_id
        yield [*chat, *render_answer(logged.answer)], "", conversation, turn_ids

    return respond


def _turn_at(chat: list[dict[str, Any]], turn_ids: list[int | None], index: Any) -> int | None:
    """The logged turn a chat message belongs to: the one of the question before it (or at it)."""
    position = index[0] if isinstance(index, list | tuple) else index
    asked = sum(1 for m in (chat or [])[: int(position) + 1] if m.get("role") == "user")
    return turn_ids[asked - 1] if 0 < asked <= len(turn_ids or []) else None


def rate_handler(services: Services) -> Any:
    """👍/👎 on an answer: recorded at once in the visitor's log; the note box then asks what it should have said."""

    def rate(chat: list, turn_ids: list[int | None], visitor: str | None, event: gr.LikeData,
             request: gr.Request) -> tuple[Any, ...]:  # fmt: skip
        turn_id = _turn_at(chat, turn_ids, event.index)
        if turn_id is None or event.liked not in (True, False):
            return None, gr.Column(visible=False), ""
        rating = Rating.up if event.liked is True else Rating.down
        if not services.history.rate(turn_id, rating, scope=visitor_scope(request, visitor)):
            return None, gr.Column(visible=False), "This answer could not be rated (the question log is off)."
        thanks = "Thanks: rated 👍." if rating == Rating.up else "Thanks: rated 👎. What should it have said?"
        return (turn_id, rating.value), gr.Column(visible=True), thanks

    return rate


def note_handler(services: Services) -> Any:
    def save_note(rated: tuple[int, str] | None, note: str, visitor: str | None, request: gr.Request) -> tuple:
        if not rated or not (note or "").strip():
            return gr.skip(), "Write a note first."
        turn_id, rating = rated
        saved = services.history.rate(turn_id, rating, note, scope=visitor_scope(request, visitor))
        return ("", "Note saved with your rating.") if saved else (gr.skip(), "The note could not be saved.")

    return save_note


def markdown_handler(services: Services) -> Any:
    """The latest answer as Markdown with its numbered sources, to copy or download."""

    def as_markdown(turn_ids: list[int | None], visitor: str | None, request: gr.Request) -> Any:
        logged = [t for t in (turn_ids or []) if t is not None]
        turn = services.history.turn(logged[-1], scope=visitor_scope(request, visitor)) if logged else None
        if turn is None:
            return gr.Code(value="No logged answer to copy yet.", visible=True)
        return gr.Code(value=f"**{turn.question}**\n\n{answer_markdown(turn.to_answer())}", visible=True)

    return as_markdown


def _note_box() -> tuple[gr.Column, gr.Textbox, gr.Button]:
    """Shown after a 👍/👎: an optional note on what the answer should have said."""
    with gr.Column(visible=False, elem_id="nr-note-box") as note_box, gr.Row(elem_classes="nr-wrap-row"):
        note = gr.Textbox(
            label="Note (optional): what should it have said?",
            placeholder="e.g. should have said Cuba",
            elem_id="nr-note",
            scale=4,
            min_width=200,
        )
        note_button = gr.Button("Save note", size="sm", elem_id="nr-save-note", scale=1, min_width=100)
    return note_box, note, note_button


def _question_row() -> tuple[gr.Textbox, gr.Button, gr.Button]:
    with gr.Row(elem_classes="nr-wrap-row"):
        # One line that grows: Enter asks (Gradio submits on Enter when lines=1), Shift+Enter adds a line.
        question = gr.Textbox(
            elem_id="nr-question",
            show_label=False,
            placeholder="Your question… (Enter asks, Shift+Enter adds a line)",
            lines=1,
            max_lines=8,
            scale=6,
            min_width=220,
            autofocus=True,
        )
        ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="nr-ask", min_width=80)
        new_button = gr.Button("New conversation", scale=1, elem_id="nr-new", min_width=120)
    return question, ask_button, new_button


def _answer_settings(
    services: Services,
) -> tuple[gr.Radio, gr.Slider, gr.Dropdown, gr.Textbox, gr.Textbox, gr.Textbox]:
    """The Settings accordion: engine, top-k, sources, since, until, as of (the order the answer handler takes them)."""
    settings = services.settings
    with gr.Accordion("Settings", open=False, elem_id="nr-settings"):
        engine = gr.Radio(_engines(services), value=settings.engine, label="Answer engine", info=llm_info(services))
        top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
        sources = gr.Dropdown([], multiselect=True, allow_custom_value=True, label="Only these sources (empty: all)")
        with gr.Row():
            since = gr.Textbox(label="Published on or after", placeholder="YYYY-MM-DD")
            until = gr.Textbox(label="Published on or before", placeholder="YYYY-MM-DD")
            as_of = gr.Textbox(
                label="Ask as of", placeholder="YYYY-MM-DD (empty: today)", elem_id="nr-as-of",
                info="Nothing published later is used; 'last week' is the week before this day.",
            )  # fmt: skip
    return engine, top_k, sources, since, until, as_of


def build(services: Services, visitor: gr.BrowserState) -> ChatTab:
    """The tab's components, inside the caller's ``gr.Tab``, with its own events wired.

    ``visitor`` is the page's visitor id, whose history each answer joins.
    """
    conversation = gr.State("")
    turn_ids = gr.State([])
    chatbot = gr.Chatbot(
        elem_id="nr-chat",
        height=560,
        label="Conversation",
        buttons=["copy"],
        feedback_options=("Like", "Dislike"),
        placeholder="Ask a question about the indexed articles. Every answer cites its sources.",
    )
    rated = gr.State(None)  # (turn id, rating) of the answer rated last, for its note
    feedback_said = gr.Markdown(elem_id="nr-feedback-said")
    note_box, note, note_button = _note_box()
    question, ask_button, new_button = _question_row()
    copy_button = gr.Button("Copy the answer as Markdown", size="sm", elem_id="nr-copy-md")
    # Its own copy button copies it: a js= step that writes the clipboard would need 'unsafe-eval' in the page's
    # Content-Security-Policy (rag/server/csp.py), as Gradio compiles an event's js with AsyncFunction.
    copied = gr.Code(language="markdown", label="Answer as Markdown", visible=False, elem_id="nr-answer-md",
                     wrap_lines=True, buttons=["copy"])  # fmt: skip
    examples_hint = gr.Markdown()
    with gr.Row(elem_id="nr-examples"):
        examples = [gr.Button(visible=False, size="sm") for _ in range(MAX_EXAMPLES)]
    engine, top_k, sources, since, until, as_of = _answer_settings(services)

    respond = respond_handler(services)
    chat_io = {
        "inputs": [question, chatbot, conversation, engine, top_k, sources, since, until, as_of, visitor, turn_ids],
        "outputs": [chatbot, question, conversation, turn_ids],
    }
    asked = [trigger(respond, **chat_io, **PRIVATE) for trigger in (question.submit, ask_button.click)]
    for button in examples:
        picked = button.click(lambda q: q, inputs=button, outputs=question, **PRIVATE)
        asked.append(picked.then(respond, **chat_io, **PRIVATE))
    new_button.click(lambda: ([], "", "", []), outputs=[chatbot, question, conversation, turn_ids], **PRIVATE)
    chatbot.clear(lambda: ("", []), outputs=[conversation, turn_ids], **PRIVATE)
    chatbot.like(
        rate_handler(services), inputs=[chatbot, turn_ids, visitor], outputs=[rated, note_box, feedback_said], **PRIVATE
    )
    saved = {"inputs": [rated, note, visitor], "outputs": [note, feedback_said], **PRIVATE}
    note_button.click(note_handler(services), **saved)
    note.submit(note_handler(services), **saved)
    copy_button.click(markdown_handler(services), inputs=[turn_ids, visitor], outputs=copied, **PRIVATE)
    return ChatTab(chatbot, question, conversation, turn_ids, examples_hint, examples, sources, asked)
