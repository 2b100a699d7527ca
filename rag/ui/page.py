"""The page (Gradio 6): Chat, Articles and History tabs, the status line, and the ``/ask`` Gradio API.

Its Gradio API: ``Client(url).predict(question, api_name="/ask")`` returns the answer as a dict
(``Answer.to_dict()``); ``api_name="/ingest"`` indexes uploaded files or a URL.

Each browser gets a random visitor id on its first visit, kept in its localStorage (``gr.BrowserState``,
so it survives reloads and server restarts); without a login, it is whose history the page shows.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.answering.answerer import QuestionError
from rag.index.store import StoreError
from rag.service.history import is_visitor_id, new_conversation_id, new_visitor_id, scope_for
from rag.service.services import Services
from rag.ui import articles_tab, chat_tab, history_tab
from rag.ui.messages import count, escape, for_visitors

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
# Where the browser keeps its visitor id. Fixed, so that the id outlives a server restart (Gradio's default is a
# random key per process). The "secret" only obfuscates: Gradio sends it to the browser with the page. What keeps
# a visitor's history theirs is the id's 128 random bits, which only their browser (same-origin storage) holds.
VISITOR_STORAGE_KEY = "newsrag-visitor"
VISITOR_STORAGE_SECRET = "newsrag-visitor-id"


def visitor_id(stored: str | None) -> str:
    """The browser's visitor id: the one it keeps, or a new one for a first visit (or a tampered value)."""
    return stored if is_visitor_id(stored) else new_visitor_id()


def status_line(services: Services, articles: int | None = None) -> str:
    """The status line; ``articles`` saves a second listing when the caller already has one."""
    newsrag, settings = services.newsrag, services.settings
    s = newsrag.status() if articles is None else newsrag.status(count_articles=False) | {"articles": articles}
    engine = newsrag.answerer.resolve_engine(None)
    model = f" ({settings.llm_model})" if engine == "llm" else ""
    logging = "on" if services.history.enabled else "off"
    return (
        f"**{count(s['articles'], 'article')} · {count(s['chunks'], 'chunk')}** · embedder `{s['embedder']}`"
        f" · engine **{engine}**{model} · history log {logging}"
    )


def refresh_handler(services: Services, outputs: int) -> Any:
    """What changes with the index: the status, example questions, the article list, the source filter."""

    def refresh() -> tuple[Any, ...]:
        try:
            records = services.newsrag.articles()
        except StoreError as exc:  # the page still loads, and says the index is unavailable
            return (f"⚠️ {escape(for_visitors(exc))}", *[gr.skip()] * (outputs - 1))
        rows = [[r.title, r.source, r.published_at[:10], r.n_chunks, r.article_id] for r in records]
        questions = chat_tab.example_questions([r.title for r in records])
        buttons = [gr.Button(value=q, visible=True) for q in questions]
        buttons += [gr.Button(value="", visible=False)] * (chat_tab.MAX_EXAMPLES - len(questions))
        choices = [(f"{r.title[:80]} ({r.article_id})", r.article_id) for r in records]
        sources = sorted({r.source for r in records if r.source})
        hint = "Examples from the indexed articles:" if records else "No articles yet: add some in the Articles tab."
        return (
            status_line(services, len(records)),
            hint,
            gr.Dataframe(value=rows, headers=articles_tab.ARTICLE_HEADERS),
            gr.Dropdown(choices=choices, value=None),
            gr.Dropdown(choices=sources),
            *buttons,
        )

    return refresh


def ask_handler(services: Services) -> Any:
    def ask(question: str, engine: str = "auto", top_k: int = 0, request: gr.Request = None) -> dict:  # type: ignore[assignment]
        """Answer one question from the indexed articles: the Answer as a dict (text, citations, ...).

        ``engine``: auto, llm or extractive; ``top_k``: passages to retrieve (0: the server's setting).
        """
        try:
            answer = services.newsrag.ask(question, engine=engine or None, top_k=top_k or None)
        except (QuestionError, ValueError, StoreError) as exc:
            raise gr.Error(for_visitors(exc), print_exception=False) from exc
        user = request.username if request else None
        scope = scope_for(user, None, "api")  # a Gradio API caller has no browser identity: see scope_for
        services.history.record(answer, conversation_id=new_conversation_id(), channel="api", scope=scope, user=user)
        return answer.to_dict()

    return ask


def build_ui(services: Services) -> gr.Blocks:
    """The page: each tab builds itself; here they are tied together. Handlers are thin over ``services``."""
    with gr.Blocks(title="newsrag") as demo:
        gr.Markdown("## newsrag — ask the news, check the sources")
        status = gr.Markdown(elem_id="nr-status")
        visitor = gr.BrowserState("", storage_key=VISITOR_STORAGE_KEY, secret=VISITOR_STORAGE_SECRET)
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                chat = chat_tab.build(services, visitor)
            with gr.Tab("Articles", id="articles"):
                articles = articles_tab.build(services)
            with gr.Tab("History", id="history"):
                history = history_tab.build()

        refreshed = [status, chat.examples_hint, articles.table, articles.chosen, chat.sources, *chat.examples]
        refresh = refresh_handler(services, len(refreshed))
        past_conversations = history_tab.past_conversations_handler(services)
        listing = {"inputs": visitor, "outputs": history.past, **PRIVATE}
        # The visitor id first: once the status line shows, the page knows whose history to log and list.
        loaded = demo.load(visitor_id, inputs=visitor, outputs=visitor, **PRIVATE)
        loaded.then(refresh, outputs=refreshed, **PRIVATE).then(past_conversations, **listing)
        for event in chat.asked:
            event.then(past_conversations, **listing)
        for event in articles.changed:
            event.then(refresh, outputs=refreshed, **PRIVATE)
        reopened = [chat.chatbot, chat.conversation, tabs]
        history.open_button.click(
            history_tab.reopen_handler(services), inputs=[history.past, visitor], outputs=reopened, **PRIVATE
        )
        tabs.select(past_conversations, **listing)
        gr.api(ask_handler(services), api_name="ask")
    return demo
