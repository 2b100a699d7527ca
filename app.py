"""The newsrag chat app (Gradio 6): answers with sources you can check, the article list, past conversations.

``python app.py`` starts the same server as ``newsrag serve`` (see ``rag/server.py``): this module only
builds the page. Its Gradio API: ``Client(url).predict(question, api_name="/ask")`` returns the
answer as a dict (``Answer.to_dict()``); ``api_name="/ingest"`` indexes uploaded files or a URL.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import offline_environment

offline_environment()  # before gradio is imported: no analytics, no hub calls

import gradio as gr  # noqa: E402

from ingest.uploads import UPLOAD_TYPES, save_upload  # noqa: E402
from rag.answer import Answer  # noqa: E402
from rag.answering import QuestionError  # noqa: E402
from rag.chat_messages import count, error_message, escape, render_answer, turns_of  # noqa: E402
from rag.history import new_conversation_id  # noqa: E402
from rag.store import StoreError  # noqa: E402

if TYPE_CHECKING:
    from rag.server import Services

SAMPLE_TITLE = "Trump says progress made in US envoy Witkoff"  # the bundled data/articles sample
SAMPLE_QUESTIONS = [  # checked against the sample by tests/test_answers.py and tests/test_app_browser.py
    "What are Putin's peace conditions?",
    "How long did Witkoff and Putin meet?",
    "What additional tariff did Trump impose on India on Aug 6?",
]
MAX_EXAMPLES = 6
RESULT_HEADERS = ["file", "status", "title", "chunks", "reason"]
ARTICLE_HEADERS = ["title", "source", "date", "chunks", "id"]

# System fonts only: the page needs no font download.
THEME = gr.themes.Default(
    font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
)
CSS = """
.nr-source { margin: 0 0 0.9em 0; }
.nr-source-head { font-weight: 600; }
.nr-source-meta { color: var(--body-text-color-subdued); font-size: 0.9em; }
.nr-passage { margin-top: 0.3em; padding-left: 0.7em; border-left: 3px solid var(--border-color-primary); }
.nr-passage mark { background: #fde68a; color: inherit; padding: 0 0.1em; }
.nr-warning { color: #b45309; }
.nr-timings { color: var(--body-text-color-subdued); font-size: 0.85em; }
#nr-status { font-size: 0.95em; }
"""


# ----- the article list
def example_questions(titles: list[str]) -> list[str]:
    """Known-good questions for the bundled sample when it is indexed, then one per other article (newest first)."""
    questions = list(SAMPLE_QUESTIONS) if any(t.startswith(SAMPLE_TITLE) for t in titles) else []
    for title in titles:
        if title and not title.startswith(SAMPLE_TITLE):
            questions.append(f"What does “{title}” report?")
    return questions[:MAX_EXAMPLES]


def _selected_id(event: gr.SelectData) -> str | None:
    """Clicking a row of the article list picks that article for deletion."""
    return str(event.row_value[-1]) if event.row_value else None


def llm_info(services: Services) -> str:
    s = services.settings
    if s.llm_configured:
        return f"An LLM is configured: {s.llm_model} at {s.llm_base_url or 'OpenAI'}. auto uses it."
    return (
        "No LLM is configured, so auto quotes the best sentences (extractive). To write answers with an LLM,"
        " start newsrag with NEWSRAG_LLM_BASE_URL=http://127.0.0.1:8080/v1 NEWSRAG_LLM_MODEL=<model>"
        " (any OpenAI-compatible server) or OPENAI_API_KEY=…"
    )


def build_ui(services: Services) -> gr.Blocks:
    """The page: Chat (with Settings), Articles, History. Handlers are thin over ``services.rag``."""
    rag, log, settings = services.rag, services.history, services.settings
    uploads = settings.index_dir / "uploads"
    max_bytes = int(settings.max_upload_mb * 1_000_000)

    def status(articles: int | None = None) -> str:
        """The status line; ``articles`` saves a second listing when the caller already has one."""
        s = rag.status() if articles is None else rag.status(count_articles=False) | {"articles": articles}
        engine = rag.answerer.resolve_engine(None)
        model = f" ({settings.llm_model})" if engine == "llm" else ""
        logging = "on" if log.enabled else "off"
        return (
            f"**{count(s['articles'], 'article')} · {count(s['chunks'], 'chunk')}** · embedder `{s['embedder']}`"
            f" · engine **{engine}**{model} · history log {logging}"
        )

    def refresh() -> tuple[Any, ...]:
        try:
            records = rag.articles()
        except StoreError as exc:  # the page still loads, and says why the index is unavailable
            return (f"⚠️ {escape(str(exc))}", *[gr.skip()] * (len(refreshed) - 1))
        rows = [[r.title, r.source, r.published_at[:10], r.n_chunks, r.article_id] for r in records]
        questions = example_questions([r.title for r in records])
        buttons = [gr.Button(value=q, visible=True) for q in questions]
        buttons += [gr.Button(value="", visible=False)] * (MAX_EXAMPLES - len(questions))
        choices = [(f"{r.title[:80]} ({r.article_id})", r.article_id) for r in records]
        sources = sorted({r.source for r in records if r.source})
        hint = "Examples from the indexed articles:" if records else "No articles yet: add some in the Articles tab."
        return (
            status(len(records)),
            hint,
            gr.Dataframe(value=rows, headers=ARTICLE_HEADERS),
            gr.Dropdown(choices=choices, value=None),
            gr.Dropdown(choices=sources),
            *buttons,
        )

    def past_conversations(request: gr.Request) -> Any:
        listed = log.conversations(user=request.username if request else None)
        return gr.Dropdown(choices=[(c.label(), c.conversation_id) for c in listed], value=None)

    def respond(message: str, chat: list, conversation: str, engine: str, top_k: float, sources: list[str],
                since: str, until: str, request: gr.Request):  # fmt: skip
        question = (message or "").strip()
        if not question:
            yield chat, message, conversation
            return
        conversation = conversation or new_conversation_id()
        history = turns_of(chat)
        chat = [*chat, gr.ChatMessage(role="user", content=escape(question))]
        yield chat, "", conversation
        started, streamed, answer = time.perf_counter(), "", None
        filters = {
            "sources": sources or None,
            "since": (since or "").strip() or None,
            "until": (until or "").strip() or None,
        }
        try:
            for item in rag.stream(question, history=history, engine=engine, top_k=int(top_k), **filters):
                if isinstance(item, Answer):
                    answer = item
                else:
                    streamed += item
                    yield [*chat, gr.ChatMessage(role="assistant", content=escape(streamed))], "", conversation
        except (QuestionError, ValueError, StoreError) as exc:
            yield [*chat, error_message(exc)], "", conversation
            return
        assert answer is not None
        served = {"served_ms": round((time.perf_counter() - started) * 1000, 1)}
        user = request.username if request else None
        log.record(answer, conversation_id=conversation, channel="ui", user=user, extra_timings=served)
        yield [*chat, *render_answer(answer)], "", conversation

    def reopen(conversation: str | None) -> tuple[Any, ...]:
        if not conversation:
            return gr.skip(), gr.skip(), gr.skip()
        chat: list[gr.ChatMessage] = []
        for turn in log.turns(conversation):
            chat.append(gr.ChatMessage(role="user", content=escape(turn.question)))
            chat.extend(render_answer(turn.to_answer()))
        return chat, conversation, gr.Tabs(selected="chat")

    def add_articles(files: list[str] | None, url: str, progress: Any = gr.Progress()) -> list[list[Any]]:  # noqa: B008
        """Index uploaded files and/or one article or feed URL; one result row per article or failed file."""
        rows: list[list[Any]] = []
        inputs: list[str] = []
        names: dict[str, str] = {}
        for upload in files or []:
            name = Path(upload).name  # the user's file name, shown, never used as a path
            saved, problem = save_upload(Path(upload), uploads, max_bytes)
            if saved is None:
                rows.append([name, "failed", "", 0, problem])
            else:
                names[str(saved.resolve())] = name
                inputs.append(str(saved))
        url = (url or "").strip()
        if url:
            if url.startswith(("http://", "https://")):
                inputs.append(url)
            else:
                rows.append([url, "failed", "", 0, "not a web address (http:// or https://)"])
        if inputs:
            progress(0, desc=f"Indexing {len(inputs)} input(s)…")
            done: set[str] = set()

            def tick(outcome: Any) -> None:
                done.add(outcome.origin.split("#", 1)[0])
                progress(len(done) / len(inputs), desc=f"Indexed {len(done)} of {len(inputs)}")

            try:
                report = rag.ingest(*inputs, progress=tick)
            except StoreError as exc:
                raise gr.Error(f"Could not index: {exc}", print_exception=False) from exc
            for o in report.outcomes:
                where = o.origin.split("#", 1)[0]
                rows.append([names.get(where, where), o.status, o.title, o.chunks, o.reason])
        return rows

    def delete(article_id: str | None) -> str:
        if not article_id:
            return "Choose an article to delete."
        try:
            removed = rag.forget(article_id)
        except StoreError as exc:
            return f"Could not delete: {escape(str(exc))}"
        if removed is None:
            return "That article is no longer indexed."
        origin = Path(removed.origin) if removed.origin else None
        if origin is not None and origin.parent == uploads.resolve() and origin.exists():
            origin.unlink()  # an upload we keep only for the index
        return f"Deleted “{escape(removed.title)}”."

    def ask(question: str, engine: str = "auto", top_k: int = 0, request: gr.Request = None) -> dict:  # type: ignore[assignment]
        """Answer one question from the indexed articles: the Answer as a dict (text, citations, ...).

        ``engine``: auto, llm or extractive; ``top_k``: passages to retrieve (0: the server's setting).
        """
        try:
            answer = rag.ask(question, engine=engine or None, top_k=top_k or None)
        except (QuestionError, ValueError, StoreError) as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        user = request.username if request else None
        log.record(answer, conversation_id=new_conversation_id(), channel="api", user=user)
        return answer.to_dict()

    with gr.Blocks(title="newsrag") as demo:
        conversation = gr.State("")
        gr.Markdown("## newsrag — ask the news, check the sources")
        status_line = gr.Markdown(elem_id="nr-status")
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
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
                    choices = ["auto", "llm", "extractive"]
                    engine = gr.Radio(choices, value=settings.engine, label="Answer engine", info=llm_info(services))
                    top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
                    sources = gr.Dropdown(
                        [], multiselect=True, allow_custom_value=True, label="Only these sources (empty: all)"
                    )
                    with gr.Row():
                        since = gr.Textbox(label="Published on or after", placeholder="YYYY-MM-DD")
                        until = gr.Textbox(label="Published on or before", placeholder="YYYY-MM-DD")
            with gr.Tab("Articles", id="articles"):
                files = gr.File(
                    label=f"Upload articles ({', '.join(UPLOAD_TYPES)}; up to {settings.max_upload_mb:g} MB each)",
                    file_count="multiple",
                    file_types=list(UPLOAD_TYPES),
                    elem_id="nr-files",
                )
                url = gr.Textbox(label="…or an article URL or RSS/Atom feed URL", elem_id="nr-url")
                add_button = gr.Button("Add to the index", variant="primary", elem_id="nr-add")
                results = gr.Dataframe(headers=RESULT_HEADERS, label="Result", interactive=False, elem_id="nr-results")
                articles = gr.Dataframe(
                    headers=ARTICLE_HEADERS, label="Indexed articles", interactive=False, elem_id="nr-articles"
                )
                with gr.Row():
                    chosen = gr.Dropdown([], label="Article to delete", scale=4, elem_id="nr-chosen")
                    delete_button = gr.Button("Delete article", variant="stop", scale=1, elem_id="nr-delete")
                deleted = gr.Markdown()
            with gr.Tab("History", id="history"):
                gr.Markdown("Past conversations (newest first). Open one to read it again and continue it.")
                past = gr.Dropdown([], label="Conversation", elem_id="nr-past")
                open_button = gr.Button("Open in chat", elem_id="nr-open")

        refreshed = [status_line, examples_hint, articles, chosen, sources, *examples]
        private: dict[str, Any] = {"api_visibility": "private"}
        demo.load(refresh, outputs=refreshed, **private).then(past_conversations, outputs=past, **private)
        chat_io = {
            "inputs": [question, chatbot, conversation, engine, top_k, sources, since, until],
            "outputs": [chatbot, question, conversation],
        }
        for trigger in (question.submit, ask_button.click):
            trigger(respond, **chat_io, **private).then(past_conversations, outputs=past, **private)
        for button in examples:
            button.click(lambda q: q, inputs=button, outputs=question, **private).then(respond, **chat_io, **private)
        new_button.click(lambda: ([], "", ""), outputs=[chatbot, question, conversation], **private)
        chatbot.clear(lambda: "", outputs=conversation, **private)
        add_button.click(add_articles, inputs=[files, url], outputs=results, api_name="ingest").then(
            lambda: (None, ""), outputs=[files, url], **private
        ).then(refresh, outputs=refreshed, **private)
        articles.select(_selected_id, outputs=chosen, **private)
        delete_button.click(delete, inputs=chosen, outputs=deleted, **private).then(
            refresh, outputs=refreshed, **private
        )
        open_button.click(reopen, inputs=past, outputs=[chatbot, conversation, tabs], **private)
        tabs.select(past_conversations, outputs=past, **private)
        gr.api(ask, api_name="ask")
    return demo


if __name__ == "__main__":
    import typer

    from rag.serve_cli import serve

    typer.run(serve)
