"""The page (Gradio 6): Chat, Articles and History tabs, the status line, and the ``/ask`` Gradio API.

Its Gradio API: ``Client(url).predict(question, api_name="/ask")`` returns the answer as a dict
(``Answer.to_dict()`` and the log's ``turn_id``); ``api_name="/feedback"`` rates it (``turn_id``, "up" or
"down", a note); ``api_name="/ingest"`` indexes uploaded files or a URL.

Each browser gets a random visitor id on its first visit, kept in its localStorage (``gr.BrowserState``,
so it survives reloads and server restarts); without a login, it is whose history the page shows.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.core.errors import NewsRAGError
from rag.index.store import StoreError
from rag.service.history import Rating, is_visitor_id, new_visitor_id, scope_for
from rag.service.services import Services
from rag.service.turns import Asker
from rag.ui import articles_tab, chat_tab, history_tab
from rag.ui.feeds_panel import build_feeds_panel
from rag.ui.messages import count, escape, for_visitors
from rag.ui.roles import wire_role_controls

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
NO_ARTICLES = "No articles yet: add some in the Articles tab."
# Where the browser keeps its visitor id. Fixed, so that the id outlives a server restart (Gradio's default is a
# random key per process). The "secret" only obfuscates: Gradio sends it to the browser with the page. What keeps
# a visitor's history theirs is the id's 128 random bits, which only their browser (same-origin storage) holds.
VISITOR_STORAGE_KEY = "newsrag-visitor"
VISITOR_STORAGE_SECRET = "newsrag-visitor-id"


def visitor_id(stored: str | None) -> str:
    """The browser's visitor id: the one it keeps, or a new one for a first visit (or a tampered value)."""
    return stored if is_visitor_id(stored) else new_visitor_id()


def status_line(services: Services, articles: int | None = None) -> str:
    """The status line; ``articles`` saves a second count when the caller already has one."""
    newsrag, settings = services.newsrag, services.settings
    s = newsrag.status() if articles is None else newsrag.status(count_articles=False) | {"articles": articles}
    engine = newsrag.components.answerer.resolve_engine(None)
    model = f" ({settings.llm_model})" if engine == "llm" else ""
    logging = "on" if services.history.enabled else "off"
    return (
        f"**{count(s['articles'], 'article')} · {count(s['chunks'], 'chunk')}** · embedder `{s['embedder']}`"
        f" ({s['embedder_languages']})"
        f" · engine **{engine}**{model} · history log {logging}"
    )


def refresh_handler(services: Services, outputs: int) -> Any:
    """What changes with the index: the status, example questions, the source filter (the list pages itself)."""

    def refresh() -> tuple[Any, ...]:
        try:
            newest = services.newsrag.articles_page(limit=chat_tab.MAX_EXAMPLES)  # one page, never the whole list
            sources = services.newsrag.catalog.sources()
        except StoreError as exc:  # the page still loads, and says the index is unavailable
            return (f"⚠️ {escape(for_visitors(exc))}", *[gr.skip()] * (outputs - 1))
        titles = [r.title for r in newest.records]
        if not any(t.startswith(chat_tab.SAMPLE_TITLE) for t in titles):
            sample = services.newsrag.catalog.titled(chat_tab.SAMPLE_TITLE)
            titles = ([sample.title] if sample else []) + titles
        questions = chat_tab.example_questions(titles)
        buttons = [gr.Button(value=q, visible=True) for q in questions]
        buttons += [gr.Button(value="", visible=False)] * (chat_tab.MAX_EXAMPLES - len(questions))
        hint = "Examples from the indexed articles:" if newest.total else NO_ARTICLES
        return (status_line(services, newest.total), hint, gr.Dropdown(choices=sources), *buttons)

    return refresh


def ask_handler(services: Services) -> Any:
    def ask(question: str, engine: str = "auto", top_k: int = 0, as_of: str = "", request: gr.Request = None) -> dict:  # type: ignore[assignment]
        """Answer one question from the indexed articles: the Answer as a dict (text, citations, ...).

        ``engine``: auto, llm or extractive; ``top_k``: passages to retrieve (0: the server's setting); ``as_of``:
        ask as on that day (YYYY-MM-DD; "": today): no later article is used.
        """
        user = request.username if request else None
        asker = Asker("api", scope_for(user, None, "api"), user)  # a Gradio API caller has no browser id: see scope_for
        try:
            options = {"engine": engine or None, "top_k": top_k or None, "as_of": (as_of or "").strip() or None}
            logged = services.turns.ask(question, asker, **options)
        except NewsRAGError as exc:
            raise gr.Error(for_visitors(exc), print_exception=False) from exc
        token = None if logged.turn_id is None else services.tokens.token(logged.turn_id)
        return logged.answer.to_dict() | {"turn_id": logged.turn_id, "feedback_token": token}

    return ask


def feedback_handler(services: Services) -> Any:
    def feedback(
        turn_id: int, rating: str, note: str = "", feedback_token: str = "", request: gr.Request = None
    ) -> dict:  # type: ignore[assignment]
        """Rate an answer that ``/ask`` gave: ``turn_id`` from its result, ``rating`` "up" (👍) or "down" (👎),
        an optional ``note`` (what it should have said), and without a login the ``feedback_token`` of its result.
        Kept in the question log for ``newsrag log --as-suite``.
        """
        try:
            parsed = Rating.parse(rating)
        except ValueError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        user = request.username if request else None
        scope = scope_for(user, None, "api")  # the scope /ask logged it in, shared by all callers without a login
        mine = user is not None or services.tokens.check(int(turn_id), feedback_token)
        if not mine or not services.history.rate(int(turn_id), parsed, note or "", scope=scope):
            raise gr.Error("no answer with that turn_id was given to you", print_exception=False)
        return {"turn_id": int(turn_id), "rating": parsed.value}

    return feedback


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
                role_note = gr.Markdown(visible=False, elem_id="nr-role-note")
                articles = articles_tab.build(services)
                build_feeds_panel(services)
            with gr.Tab("History", id="history"):
                history = history_tab.build()

        wire_role_controls(demo, services, role_note)  # visitors see the owner's controls disabled, and why
        refreshed = [status, chat.examples_hint, chat.sources, *chat.examples]
        refresh = refresh_handler(services, len(refreshed))
        conversations = history_tab.listing_handler(services)
        listing = {"inputs": [history.search, visitor], "outputs": [history.table, history.ids], **PRIVATE}
        # The visitor id first: once the status line shows, the page knows whose history to log and list.
        loaded = demo.load(visitor_id, inputs=visitor, outputs=visitor, **PRIVATE)
        loaded.then(refresh, outputs=refreshed, **PRIVATE).then(conversations, **listing)
        articles.show(demo)  # the article list needs no visitor: it loads alongside
        for event in chat.asked:
            event.then(conversations, **listing)
        for event in articles.changed:
            event.then(refresh, outputs=refreshed, **PRIVATE)
        history.search.submit(conversations, **listing)
        history.search.change(conversations, trigger_mode="always_last", **listing)
        reopened = [chat.chatbot, chat.conversation, chat.turn_ids, tabs]
        chosen = [history.chosen, visitor]
        history.open_button.click(history_tab.reopen_handler(services), inputs=chosen, outputs=reopened, **PRIVATE)
        deleted = history.delete_button.click(
            history_tab.delete_handler(services),
            inputs=chosen,
            outputs=[history.chosen, history.panel, history.said],
            **PRIVATE,
        )
        deleted.then(conversations, **listing)
        history.export_button.click(
            history_tab.export_handler(services), inputs=chosen, outputs=history.exported, **PRIVATE
        )
        tabs.select(conversations, **listing)
        gr.api(ask_handler(services), api_name="ask")
        gr.api(feedback_handler(services), api_name="feedback")
    return demo
