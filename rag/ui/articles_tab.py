"""The Articles tab: add files or a URL to the index, see what is indexed, delete an article."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.uploads import UPLOAD_TYPES, save_upload
from rag.index.store import StoreError
from rag.service.services import Services
from rag.ui.messages import escape

RESULT_HEADERS = ["file", "status", "title", "chunks", "reason"]
ARTICLE_HEADERS = ["title", "source", "date", "chunks", "id"]
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


@dataclass
class ArticlesTab:
    table: gr.Dataframe
    chosen: gr.Dropdown
    changed: list[Any]  # the events after which the index holds other articles


def _selected_id(event: gr.SelectData) -> str | None:
    """Clicking a row of the article list picks that article for deletion."""
    return str(event.row_value[-1]) if event.row_value else None


def add_handler(services: Services) -> Any:
    newsrag, settings = services.newsrag, services.settings
    uploads = settings.index_dir / "uploads"
    max_bytes = int(settings.max_upload_mb * 1_000_000)

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
                report = newsrag.ingest(*inputs, progress=tick)
            except StoreError as exc:
                raise gr.Error(f"Could not index: {exc}", print_exception=False) from exc
            for o in report.outcomes:
                where = o.origin.split("#", 1)[0]
                rows.append([names.get(where, where), o.status, o.title, o.chunks, o.reason])
        return rows

    return add_articles


def delete_handler(services: Services) -> Any:
    newsrag = services.newsrag
    uploads = services.settings.index_dir / "uploads"

    def delete(article_id: str | None) -> str:
        if not article_id:
            return "Choose an article to delete."
        try:
            removed = newsrag.forget(article_id)
        except StoreError as exc:
            return f"Could not delete: {escape(str(exc))}"
        if removed is None:
            return "That article is no longer indexed."
        origin = Path(removed.origin) if removed.origin else None
        if origin is not None and origin.parent == uploads.resolve() and origin.exists():
            origin.unlink()  # an upload we keep only for the index
        return f"Deleted “{escape(removed.title)}”."

    return delete


def build(services: Services) -> ArticlesTab:
    """The tab's components, inside the caller's ``gr.Tab``, with its own events wired."""
    files = gr.File(
        label=f"Upload articles ({', '.join(UPLOAD_TYPES)}; up to {services.settings.max_upload_mb:g} MB each)",
        file_count="multiple",
        file_types=list(UPLOAD_TYPES),
        elem_id="nr-files",
    )
    url = gr.Textbox(label="…or an article URL or RSS/Atom feed URL", elem_id="nr-url")
    add_button = gr.Button("Add to the index", variant="primary", elem_id="nr-add")
    results = gr.Dataframe(headers=RESULT_HEADERS, label="Result", interactive=False, elem_id="nr-results")
    table = gr.Dataframe(headers=ARTICLE_HEADERS, label="Indexed articles", interactive=False, elem_id="nr-articles")
    with gr.Row():
        chosen = gr.Dropdown([], label="Article to delete", scale=4, elem_id="nr-chosen")
        delete_button = gr.Button("Delete article", variant="stop", scale=1, elem_id="nr-delete")
    deleted = gr.Markdown()

    added = add_button.click(add_handler(services), inputs=[files, url], outputs=results, api_name="ingest")
    added = added.then(lambda: (None, ""), outputs=[files, url], **PRIVATE)
    table.select(_selected_id, outputs=chosen, **PRIVATE)
    removed = delete_button.click(delete_handler(services), inputs=chosen, outputs=deleted, **PRIVATE)
    return ArticlesTab(table, chosen, [added, removed])
