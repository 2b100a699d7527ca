"""The Articles tab: add files or a URL; browse the index (search, sort, pages); read, delete, bulk-delete.

The list is paged on the server from the article catalog (``rag/index/catalog.py``): a page view sends
one page of rows and reads no chunk metadata, so the tab stays quick with 100k articles. Other panels of
the tab (the followed feeds) mount after :func:`build` inside the same ``gr.Tab``, and may chain
:meth:`ArticlesTab.reload` on their own events so that the list shows what they added.
"""

from __future__ import annotations

import os
import time
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.context import Context
from gradio.utils import get_upload_folder

from ingest.uploads import remove_upload, save_upload, sweep_uploads, upload_types
from rag.core.html import is_web_link
from rag.index.catalog import Selection
from rag.index.store import ArticleRecord, StoreError
from rag.service.roles import DELETE_REFUSED
from rag.service.services import Services
from rag.ui.messages import count, escape, for_visitors
from rag.ui.roles import manages_request

RESULT_HEADERS = ["file", "status", "title", "chunks", "reason"]
ARTICLE_HEADERS = ["title", "source", "date", "chunks", "added"]
PAGE_SIZE = 25
SORTS = [("date published", "date"), ("date added", "added"), ("title", "title"), ("source", "source"),
         ("chunks", "chunks")]  # fmt: skip
ORDERS = [("descending (newest, Z–A, most)", "desc"), ("ascending (oldest, A–Z, fewest)", "asc")]
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
NOT_AN_UPLOAD = "not an upload of this session: only files uploaded to this page are read"


@dataclass
class ArticlesTab:
    table: gr.Dataframe
    changed: list[Any]  # the events after which the index holds other articles
    reload: Any  # reload(event): chain a refresh of the list (at its current page) after ``event``
    show: Any  # show(blocks): fill the list when the page loads, at once (no other event to wait for)


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

            def reading(read: Any) -> None:  # how far one large file is: "page 40/143", "message 340"
                name = names.get(read.origin, Path(read.origin).name)
                progress((read.done, read.total), desc=f"Reading {name}", unit=f"{read.unit}s")

            try:
                # A visitor's URL is fetched under the visitor policy: public addresses only, unless allowed.
                report = newsrag.ingest(*inputs, progress=tick, for_visitor=True, reading=reading)
            except StoreError as exc:
                raise gr.Error(f"Could not index: {for_visitors(exc)}", print_exception=False) from exc
            finally:  # what the index needs was copied (index_dir/uploads): Gradio's copies go, whatever happened
                for upload in files or []:
                    if _is_gradio_upload(upload, upload_folder, uploaded):
                        remove_upload(upload, upload_folder)
                sweep_uploads(uploaded, upload_folder)  # and those uploaded an hour ago that no ingest used
            for o in report.outcomes:
                where = o.origin.split("#", 1)[0]
                rows.append([names.get(where, where), o.status, o.title, o.chunks, o.reason])
            rows.extend([Path(u.path).name, "not read", "", 0, u.reason] for u in report.unread)
        return rows

    return add_articles


def _rows(records: list[ArticleRecord]) -> list[list[Any]]:
    added = (time.strftime("%Y-%m-%d %H:%M", time.localtime(r.ingested_at)) for r in records)
    return [[r.title, r.source, r.published_at[:10], r.n_chunks, when] for r, when in zip(records, added, strict=True)]


def listing_handler(services: Services) -> Any:
    """One page of the list: rows, the ids behind them, the count line, and the (clamped) offset."""
    newsrag = services.newsrag

    def listing(text: str, sort: str, order: str, offset: float) -> tuple[Any, ...]:
        try:
            page = newsrag.articles_page(
                Selection(text=(text or "")[:200]),
                sort=sort or "date",
                descending=order != "asc",
                offset=int(offset or 0),
                limit=PAGE_SIZE,
            )
            if page.offset and page.offset >= page.total:  # past the end (a delete emptied the last page)
                last = max(0, (page.total - 1) // PAGE_SIZE * PAGE_SIZE)
                return listing(text, sort, order, last)
        except StoreError as exc:
            return gr.skip(), gr.skip(), f"⚠️ {escape(for_visitors(exc))}", gr.skip()
        first, last = page.offset + 1, page.offset + len(page.records)
        pages = max(1, -(-page.total // PAGE_SIZE))
        found = "matching" if (text or "").strip() else "indexed"
        line = (
            f"**{first:,}–{last:,} of {count(page.total, 'article')} {found}** · page {page.offset // PAGE_SIZE + 1}"
            f" of {pages:,}"
            if page.total
            else ("No article matches." if (text or "").strip() else "No articles indexed yet.")
        )
        if page.stale and not page.total and not (text or "").strip():
            line = "The article list is being built: it shows here in a moment."
        elif page.stale:
            line += " · the list is being updated with the latest changes"
        table = gr.Dataframe(value=_rows(page.records), headers=ARTICLE_HEADERS)
        return table, [r.article_id for r in page.records], line, page.offset

    return listing


def open_handler(services: Services) -> Any:
    """Clicking a row opens that article: its metadata, cleaned text and chunks."""
    newsrag = services.newsrag

    def open_article(ids: list[str], event: gr.SelectData) -> tuple[Any, ...]:
        row = event.index[0] if isinstance(event.index, list | tuple) else event.index
        article_id = ids[row] if ids and 0 <= row < len(ids) else None
        view = newsrag.article(article_id) if article_id else None
        if view is None:
            return None, gr.Column(visible=False), "", "", ""
        r = view.record
        # Every field is the article author's: shown inert (no Markdown image or link of theirs can render, so
        # opening an article fetches nothing), and the one link, to the article's own http(s) url, built here.
        meta = " · ".join(escape(x) for x in (r.source, r.published_at[:10], r.authors) if x)
        link = f" · [link]({_markdown_url(r.url)})" if is_web_link(r.url) else ""
        title = escape(r.title or "(untitled)")
        head = f"### {title}\n{meta or 'no source or date known'}{link} · id {escape(r.article_id)}"
        chunks = "\n\n".join(
            f'<div class="nr-chunk"><b>chunk {i + 1} of {len(view.chunks)}</b><div>{escape(c)}</div></div>'
            for i, c in enumerate(view.chunks)
        )
        return article_id, gr.Column(visible=True), head, view.text, chunks

    return open_article


def _markdown_url(url: str) -> str:
    """``url`` as a Markdown link destination it cannot leave: its brackets, quotes and spaces percent-encoded."""
    return "".join(f"%{ord(c):02X}" if c in "()[]<>\"'\\` " else c for c in url.strip())


def delete_handler(services: Services) -> Any:
    """Delete the opened article: the owner's alone (rag/service/roles.py), checked here for the page and the API."""
    newsrag = services.newsrag
    uploads = services.settings.index_dir / "uploads"

    def delete(article_id: str | None, request: gr.Request = None) -> tuple[Any, ...]:  # type: ignore[assignment]
        if not manages_request(request, services.settings):
            return DELETE_REFUSED, gr.skip()
        if not article_id:
            return "Open an article to delete it.", gr.skip()
        try:
            removed = newsrag.forget(article_id)
        except StoreError as exc:
            return f"Could not delete: {escape(for_visitors(exc))}", gr.skip()
        if removed is None:
            return "That article is no longer indexed.", gr.Column(visible=False)
        _drop_upload(removed, uploads)
        return f"Deleted “{escape(removed.title)}”.", gr.Column(visible=False)

    return delete


def _drop_upload(removed: ArticleRecord, uploads: Path) -> None:
    origin = Path(removed.origin) if removed.origin else None
    if origin is not None and origin.parent == uploads.resolve() and origin.exists():
        origin.unlink()  # an upload we keep only for the index


def _selection(source: str | None, since: str, until: str) -> Selection:
    return Selection(source=source or "", since=(since or "").strip()[:10], until=(until or "").strip()[:10])


def bulk_count_handler(services: Services) -> Any:
    """Step one of a bulk delete: say how many articles the source or date range holds, and ask to confirm."""
    newsrag = services.newsrag

    def bulk_count(source: str | None, since: str, until: str, request: gr.Request = None) -> tuple[Any, ...]:  # type: ignore[assignment]
        if not manages_request(request, services.settings):
            return DELETE_REFUSED, gr.Button(visible=False), 0
        selection = _selection(source, since, until)
        if selection == Selection():
            return "Choose a source or a date range first.", gr.Button(visible=False), 0
        try:
            n = newsrag.catalog.count(selection)
        except StoreError as exc:
            return f"⚠️ {escape(for_visitors(exc))}", gr.Button(visible=False), 0
        if not n:
            return "No indexed article matches.", gr.Button(visible=False), 0
        what = " · ".join(x for x in (selection.source, _range(selection)) if x)
        question = f"**{count(n, 'article')} will be deleted** ({escape(what)}). This cannot be undone."
        return question, gr.Button(value=f"Delete {count(n, 'article')}", visible=True), n

    return bulk_count


def _range(selection: Selection) -> str:
    if selection.since or selection.until:
        return f"published {selection.since or '…'} to {selection.until or '…'}"
    return ""


def bulk_delete_handler(services: Services) -> Any:
    """Step two: delete them, unless the count changed since the user confirmed it (then ask again)."""
    newsrag = services.newsrag
    uploads = services.settings.index_dir / "uploads"

    def bulk_delete(
        source: str | None,
        since: str,
        until: str,
        confirmed: int,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, ...]:
        if not manages_request(request, services.settings):
            return DELETE_REFUSED, gr.Button(visible=False), 0
        selection = _selection(source, since, until)
        try:
            if selection == Selection() or newsrag.catalog.count(selection) != confirmed:
                return bulk_count_handler(services)(source, since, until, request)
            removed = newsrag.forget_selected(selection)
        except (StoreError, ValueError) as exc:
            return f"Could not delete: {escape(for_visitors(exc))}", gr.Button(visible=False), 0
        for record in removed:
            _drop_upload(record, uploads)
        return f"Deleted {count(len(removed), 'article')}.", gr.Button(visible=False), 0

    return bulk_delete


def sources_handler(services: Services) -> Any:
    def sources() -> Any:
        try:
            return gr.Dropdown(choices=services.newsrag.catalog.sources())
        except StoreError:
            return gr.skip()

    return sources


@dataclass
class _AddPanel:
    files: gr.File
    url: gr.Textbox
    button: gr.Button
    results: gr.Dataframe


def _add_panel(services: Services) -> _AddPanel:
    with gr.Accordion("Add articles", open=True, elem_id="nr-add-articles"):
        files = gr.File(
            label=f"Upload articles ({', '.join(upload_types())}; up to {services.settings.max_upload_mb:g} MB each)",
            file_count="multiple",
            file_types=list(upload_types()),  # the kinds newsrag reads, a loader plugin's too (ingest/kinds.py)
            elem_id="nr-files",
        )
        url = gr.Textbox(label="…or an article URL or RSS/Atom feed URL", elem_id="nr-url")
        button = gr.Button("Add to the index", variant="primary", elem_id="nr-add")
        results = gr.Dataframe(headers=RESULT_HEADERS, label="Result", interactive=False, elem_id="nr-results")
    return _AddPanel(files, url, button, results)


@dataclass
class _ListPanel:
    search: gr.Textbox
    sort: gr.Dropdown
    order: gr.Dropdown
    summary: gr.Markdown
    table: gr.Dataframe
    ids: gr.State  # the article ids of the rows shown, in order
    offset: gr.State
    previous_button: gr.Button
    next_button: gr.Button


def _list_panel() -> _ListPanel:
    with gr.Row(elem_classes="nr-wrap-row"):
        search = gr.Textbox(label="Search titles and sources", elem_id="nr-article-search", scale=3, min_width=200)
        sort = gr.Dropdown(SORTS, value="date", label="Sort by", elem_id="nr-sort", scale=1, min_width=140)
        order = gr.Dropdown(ORDERS, value="desc", label="Order", elem_id="nr-order", scale=1, min_width=140)
    summary = gr.Markdown(elem_id="nr-article-count")
    table = gr.Dataframe(
        headers=ARTICLE_HEADERS,
        label="Indexed articles (click one to read it)",
        interactive=False,
        wrap=True,
        elem_id="nr-articles",
        max_height=900,
    )
    ids, offset = gr.State([]), gr.State(0)
    with gr.Row(elem_classes="nr-pager"):
        previous_button = gr.Button("← Previous", size="sm", elem_id="nr-prev", min_width=100)
        next_button = gr.Button("Next →", size="sm", elem_id="nr-next", min_width=100)
    return _ListPanel(search, sort, order, summary, table, ids, offset, previous_button, next_button)


@dataclass
class _ArticlePanel:
    opened: gr.State  # the id of the article shown
    column: gr.Column
    head: gr.Markdown
    delete_button: gr.Button
    text: gr.Textbox
    chunks: gr.Markdown
    deleted: gr.Markdown


def _article_panel() -> _ArticlePanel:
    opened = gr.State(None)
    with gr.Column(visible=False, elem_id="nr-article") as column:
        head = gr.Markdown(elem_id="nr-article-head")
        delete_button = gr.Button("Delete this article", variant="stop", size="sm", elem_id="nr-delete")
        # A plain text box: the text exactly as indexed, with nothing in it taken for markup.
        text = gr.Textbox(
            label="Cleaned text (as indexed, rebuilt from its chunks)",
            lines=6,
            max_lines=20,
            interactive=False,
            elem_id="nr-article-text",
        )
        with gr.Accordion("Chunks", open=False, elem_id="nr-article-chunks"):
            # Markdown, not gr.HTML: Gradio 6 renders gr.HTML through a template compiled with Function(), which the
            # page's Content-Security-Policy (no 'unsafe-eval', rag/server/csp.py) refuses.
            chunks = gr.Markdown()
    deleted = gr.Markdown(elem_id="nr-deleted")
    return _ArticlePanel(opened, column, head, delete_button, text, chunks, deleted)


@dataclass
class _BulkPanel:
    accordion: gr.Accordion
    source: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox
    count_button: gr.Button
    confirm_text: gr.Markdown
    confirm_button: gr.Button
    counted: gr.State  # how many articles the visitor was asked to confirm


def _bulk_panel() -> _BulkPanel:
    with gr.Accordion("Delete in bulk", open=False, elem_id="nr-bulk") as accordion:
        with gr.Row(elem_classes="nr-wrap-row"):
            source = gr.Dropdown([], label="Source", allow_custom_value=True, elem_id="nr-bulk-source")
            since = gr.Textbox(label="Published on or after", placeholder="YYYY-MM-DD", elem_id="nr-bulk-since")
            until = gr.Textbox(label="Published on or before", placeholder="YYYY-MM-DD", elem_id="nr-bulk-until")
        count_button = gr.Button("Count the articles to delete", elem_id="nr-bulk-count")
        confirm_text = gr.Markdown(elem_id="nr-bulk-confirm-text")
        confirm_button = gr.Button(visible=False, variant="stop", elem_id="nr-bulk-confirm")
        counted = gr.State(0)
    return _BulkPanel(accordion, source, since, until, count_button, confirm_text, confirm_button, counted)


def build(services: Services) -> ArticlesTab:
    """The tab's components, inside the caller's ``gr.Tab``, with its own events wired."""
    adding, listed, article, bulk = _add_panel(services), _list_panel(), _article_panel(), _bulk_panel()

    listing = listing_handler(services)
    controls = [listed.search, listed.sort, listed.order]
    shown = [listed.table, listed.ids, listed.summary, listed.offset]
    browse = {"inputs": [*controls, listed.offset], "outputs": shown, **PRIVATE}
    first_page = {"inputs": controls, "outputs": shown, **PRIVATE}

    def reload(event: Any) -> Any:
        return event.then(listing, **browse).then(sources_handler(services), outputs=bulk.source, **PRIVATE)

    def show(blocks: gr.Blocks) -> Any:
        return blocks.load(lambda *a: listing(*a, 0), **first_page)

    bulk.accordion.expand(sources_handler(services), outputs=bulk.source, **PRIVATE)  # the sources, when asked for

    listed.search.submit(lambda *a: listing(*a, 0), **first_page)
    listed.search.change(lambda *a: listing(*a, 0), trigger_mode="always_last", **first_page)
    for control in (listed.sort, listed.order):
        control.input(lambda *a: listing(*a, 0), **first_page)
    listed.previous_button.click(lambda t, s, o, at: listing(t, s, o, max(0, at - PAGE_SIZE)), **browse)
    listed.next_button.click(lambda t, s, o, at: listing(t, s, o, at + PAGE_SIZE), **browse)
    opened = [article.opened, article.column, article.head, article.text, article.chunks]
    listed.table.select(open_handler(services), inputs=listed.ids, outputs=opened, **PRIVATE)

    changed = _wire_changes(services, adding, article, bulk)
    for event in changed:
        reload(event)
    return ArticlesTab(listed.table, changed, reload, show)


def _wire_changes(services: Services, adding: _AddPanel, article: _ArticlePanel, bulk: _BulkPanel) -> list[Any]:
    """Adding, deleting and bulk-deleting: the events after which the index holds other articles."""
    add = add_handler(services, _page_uploads())
    added = adding.button.click(add, inputs=[adding.files, adding.url], outputs=adding.results, api_name="ingest")
    added = added.then(lambda: (None, ""), outputs=[adding.files, adding.url], **PRIVATE)
    removed = article.delete_button.click(
        delete_handler(services), inputs=article.opened, outputs=[article.deleted, article.column], **PRIVATE
    )
    selected = [bulk.source, bulk.since, bulk.until]
    said = {"outputs": [bulk.confirm_text, bulk.confirm_button, bulk.counted], **PRIVATE}
    bulk.count_button.click(bulk_count_handler(services), inputs=selected, **said)
    bulk_removed = bulk.confirm_button.click(bulk_delete_handler(services), inputs=[*selected, bulk.counted], **said)
    return [added, removed, bulk_removed]
