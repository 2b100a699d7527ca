"""The Articles tab: add files or a URL to the index, see what is indexed, delete an article."""

from __future__ import annotations

import os
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.context import Context
from gradio.utils import get_upload_folder

from ingest.uploads import UPLOAD_TYPES, save_upload
from rag.index.store import StoreError
from rag.service.services import Services
from rag.ui.feeds_panel import build_feeds_panel
from rag.ui.messages import escape, for_visitors

RESULT_HEADERS = ["file", "status", "title", "chunks", "reason"]
ARTICLE_HEADERS = ["title", "source", "date", "chunks", "id"]
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
NOT_AN_UPLOAD = "not an upload of this session: only files uploaded to this page are read"


@dataclass
class ArticlesTab:
    table: gr.Dataframe
    chosen: gr.Dropdown
    changed: list[Any]  # the events after which the index holds other articles


def _selected_id(event: gr.SelectData) -> str | None:
    """Clicking a row of the article list picks that article for deletion."""
    return str(event.row_value[-1]) if event.row_value else None


def _page_uploads() -> Set[str]:
    """The live set of paths Gradio's upload route has handed out on this page (``Blocks.upload_file_set``)."""
    if Context.root_block is None:
        raise RuntimeError("the Articles tab is built inside the page's gr.Blocks")
    return Context.root_block.upload_file_set


def _is_gradio_upload(path: str, upload_folder: Path, uploaded: Set[str]) -> bool:
    """Whether ``path`` is a file Gradio's upload route stored, in its upload folder; never any other server file.

    Being inside the folder is not enough: when Gradio's own check is off, Gradio first copies whatever file a
    request names into that same folder, and the handler would see the copy. So the path must also be one the
    upload route handed out. Gradio 6 does not record which session uploaded a file: the route takes no session,
    and a path holds a keyed hash of the content, so it can be named only by whoever uploaded that content or was
    shown the path. Gradio's own check (rag/ui/web.py) refuses other paths first; this one holds on its own.
    """
    if not Path(path).resolve().is_relative_to(upload_folder):  # links and ".." resolved
        return False
    wanted = os.path.abspath(path)
    return any(os.path.abspath(p) == wanted for p in frozenset(uploaded))  # a copy: uploads add to it meanwhile


def add_handler(services: Services, uploaded: Set[str]) -> Any:
    """The "Add to the index" handler; ``uploaded`` is the live set of paths Gradio's upload route handed out."""
    newsrag, settings = services.newsrag, services.settings
    uploads = settings.index_dir / "uploads"
    upload_folder = Path(get_upload_folder()).resolve()  # where Gradio puts what visitors upload
    max_bytes = int(settings.max_upload_mb * 1_000_000)

    def add_articles(files: list[str] | None, url: str, progress: Any = gr.Progress()) -> list[list[Any]]:  # noqa: B008
        """Index uploaded files and/or one article or feed URL; one result row per article or failed file."""
        rows: list[list[Any]] = []
        inputs: list[str] = []
        names: dict[str, str] = {}
        for upload in files or []:
            name = Path(upload).name  # the user's file name, shown, never used as a path
            if not _is_gradio_upload(upload, upload_folder, uploaded):
                rows.append([name, "failed", "", 0, NOT_AN_UPLOAD])
                continue
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
                # A visitor's URL is fetched under the visitor policy: public addresses only, unless allowed.
                report = newsrag.ingest(*inputs, progress=tick, for_visitor=True)
            except StoreError as exc:
                raise gr.Error(f"Could not index: {for_visitors(exc)}", print_exception=False) from exc
            for o in report.outcomes:
                where = o.origin.split("#", 1)[0]
                rows.append([names.get(where, where), o.status, o.title, o.chunks, o.reason])
            rows.extend([Path(u.path).name, "not read", "", 0, u.reason] for u in report.unread)
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
            return f"Could not delete: {escape(for_visitors(exc))}"
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

    add = add_handler(services, _page_uploads())
    added = add_button.click(add, inputs=[files, url], outputs=results, api_name="ingest")
    added = added.then(lambda: (None, ""), outputs=[files, url], **PRIVATE)
    table.select(_selected_id, outputs=chosen, **PRIVATE)
    removed = delete_button.click(delete_handler(services), inputs=chosen, outputs=deleted, **PRIVATE)
    build_feeds_panel(services)
    return ArticlesTab(table, chosen, [added, removed])
