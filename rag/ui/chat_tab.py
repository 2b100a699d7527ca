"""The Chat tab: the conversation, the question box, example questions and the answer settings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.answering.answerer import QuestionError
from rag.index.store import StoreError
from rag.service.history import new_conversation_id
from rag.service.services import Services
from rag.ui.history_tab import visitor_scope
from rag.ui.messages import error_message, escape, render_answer, turns_of

SAMPLE_TITLE = "Trump says progress made in US envoy Witkoff"  # the bundled data/articles sample
SAMPLE_QUESTIONS = [  # checked against the sample by tests/test_answers.py and tests/test_app_browser.py
    "What are Putin's peace conditions?",
    "How long did Witkoff and Putin meet?",
    "What additional tariff did Trump impose on India on Aug 6?",
]
MAX_EXAMPLES = 6
ENGINES = ["auto", "llm", "extractive"]
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # page events: not part of the Gradio API


def example_questions(titles: list[str]) -> list[str]:
    """Known-good questions for the bundled sample when it is indexed, then one per other article (newest first)."""
    questions = list(SAMPLE_QUESTIONS) if any(t.startswith(SAMPLE_TITLE) for t in titles) else []
    for title in titles:
        if title and not title.startswith(SAMPLE_TITLE):
            questions.append(f"What does “{title}” report?")
    return questions[:MAX_EXAMPLES]


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
    examples_hint: gr.Markdown
    examples: list[gr.Button]
    sources: gr.Dropdown
    asked: list[Any]  # the events that answer a question, for the page to chain on


def respond_handler(services: Services) -> Any:
    """The chat's answer handler: streams the answer into the conversation, then logs it as the visitor's."""
    newsrag, log = services.newsrag, services.history

    def respond(message: str, chat: list, conversation: str, engine: str, top_k: float, sources: list[str],
                since: str, until: str, visitor: str | None,
                request: gr.Request) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        question = (message or "").strip()
        if not question:
            yield chat, message, conversation
            return
        conversation = conversation or new_conversation_id()
        history = turns_of(chat)
        chat = [*chat, gr.ChatMessage(role="user", content=escape(question))]
        yield chat, "", conversation
        started = time.perf_counter()
        filters = {
            "sources": sources or None,
            "since": (since or "").strip() or None,
            "until": (until or "").strip() or None,
        }
        try:
            response = newsrag.stream(question, history=history, engine=engine, top_k=int(top_k), **filters)
            for _ in response:
                yield [*chat, gr.ChatMessage(role="assistant", content=escape(response.streamed))], "", conversation
            answer = response.answer
        except (QuestionError, ValueError, StoreError) as exc:
            yield [*chat, error_message(exc)], "", conversation
            return
        served = {"served_ms": round((time.perf_counter() - started) * 1000, 1)}
        user, scope = request.username if request else None, visitor_scope(request, visitor)
        log.record(answer, conversation_id=conversation, channel="ui", scope=scope, user=user, extra_timings=served)
        yield [*chat, *render_answer(answer)], "", conversation

    return respond


def build(services: Services, visitor: gr.BrowserState) -> ChatTab:
    """The tab's components, inside the caller's ``gr.Tab``, with its own events wired.

    ``visitor`` is the page's visitor id, whose history each answer joins.
    """
    settings = services.settings
    conversation = gr.State("")
    chatbot = gr.Chatbot(
        elem_id="nr-chat",
        height=560,
        label="Conversation",
        buttons=["copy"],
        feedback_options=None,
        placeholder="Ask a question about the indexed articles. Every answer cites its sources.",
    )
    with gr.Row():
        question = gr.Textbox(
            elem_id="nr-question", show_label=False, placeholder="Your question…", scale=6, autofocus=True
        )
        ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="nr-ask")
        new_button = gr.Button("New conversation", scale=1, elem_id="nr-new")
    examples_hint = gr.Markdown()
    with gr.Row(elem_id="nr-examples"):
        examples = [gr.Button(visible=False, size="sm") for _ in range(MAX_EXAMPLES)]
    with gr.Accordion("Settings", open=False, elem_id="nr-settings"):
        engine = gr.Radio(ENGINES, value=settings.engine.value, label="Answer engine", info=llm_info(services))
        top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
        sources = gr.Dropdown([], multiselect=True, allow_custom_value=True, label="Only these sources (empty: all)")
        with gr.Row():
            since = gr.Textbox(label="Published on or after", placeholder="YYYY-MM-DD")
            until = gr.Textbox(label="Published on or before", placeholder="YYYY-MM-DD")

    respond = respond_handler(services)
    chat_io = {
        "inputs": [question, chatbot, conversation, engine, top_k, sources, since, until, visitor],
        "outputs": [chatbot, question, conversation],
    }
    asked = [trigger(respond, **chat_io, **PRIVATE) for trigger in (question.submit, ask_button.click)]
    for button in examples:
        picked = button.click(lambda q: q, inputs=button, outputs=question, **PRIVATE)
        asked.append(picked.then(respond, **chat_io, **PRIVATE))
    new_button.click(lambda: ([], "", ""), outputs=[chatbot, question, conversation], **PRIVATE)
    chatbot.clear(lambda: "", outputs=conversation, **PRIVATE)
    return ChatTab(chatbot, question, conversation, examples_hint, examples, sources, asked)
