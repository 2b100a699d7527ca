"""The archive: what the index holds, and the only way into it and out of it (ingest, forget), one writer at a time.

After every write the lexical index catches up at once, and a deletion leaves the article list at once too,
so the next question or listing in this process sees the change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict, Unpack

from ingest.article import IngestReport, normalise_url
from ingest.fetch_policy import FetchPolicy
from ingest.files import Loaded
from ingest.pipeline import Ingestor
from rag.index.catalog import ArticleView, CatalogPage, Selection, SortKey
from rag.index.embedder import embedder_id, embedder_languages
from rag.index.store import ArticleRecord
from rag.service.components import Components


class PageOptions(TypedDict, total=False):
    """How a page of the list is cut (defaults: ``ArticleCatalog.page``'s, newest 25 first)."""

    sort: SortKey | str
    descending: bool
    offset: int
    limit: int


class Archive:
    """The indexed articles: add, list, read and remove them."""

    def __init__(self, components: Components) -> None:
        self.components = components

    def ingest(
        self, sources: list[str | Path], *, prune: bool, progress: Any, policy: FetchPolicy, reading: Any = None
    ) -> IngestReport:
        """Index ``sources``; URLs are fetched (under ``policy``) before the write lock is taken."""
        c = self.components
        ingestor = Ingestor(c.settings, c.store, c.embedder, progress=progress, reading=reading, policy=policy)
        report = ingestor.run(sources, prune=prune, write_lock=c.write_lock)
        c.lexical.ensure_fresh(force=True)
        return report

    def ingest_fetched(self, origin: str, loaded: list[Loaded]) -> IngestReport:
        """Index what a feed poll already fetched from ``origin``."""
        c = self.components
        report = Ingestor(c.settings, c.store, c.embedder).run_fetched(origin, loaded, write_lock=c.write_lock)
        c.lexical.ensure_fresh(force=True)
        return report

    def articles(self) -> list[ArticleRecord]:
        records = list(self.components.store.articles().values())
        return sorted(records, key=lambda r: (r.published_at or "", r.ingested_at), reverse=True)

    def page(self, selection: Selection | None, **options: Unpack[PageOptions]) -> CatalogPage:
        return self.components.catalog.page(selection, **options)

    def article(self, article_id: str) -> ArticleView | None:
        return self.components.catalog.view(article_id)

    def forget(self, id_or_url: str) -> ArticleRecord | None:
        wanted = id_or_url.strip()
        record = self.components.catalog.find(wanted, same_url=lambda url: normalise_url(url) == normalise_url(wanted))
        if record is None:
            return None
        self._delete([record.article_id])
        return record

    def forget_selected(self, selection: Selection) -> list[ArticleRecord]:
        if selection == Selection():
            raise ValueError("name a source or a date range to delete articles in bulk")
        records = self.components.catalog.selected(selection)
        self._delete([r.article_id for r in records])
        return records

    def _delete(self, article_ids: list[str]) -> None:
        if not article_ids:
            return
        c = self.components
        with c.write_lock:
            c.store.begin_write()
            deleted = False
            try:
                c.store.delete_articles(article_ids)
                deleted = True
            finally:
                c.store.end_write(dirty=not deleted)  # a failed delete may leave part: the next writer repairs
        c.catalog.drop(article_ids)  # gone from the list at once, even while a large catalog is rebuilt
        c.lexical.ensure_fresh(force=True)

    def status(self, count_articles: bool = True) -> dict[str, Any]:
        settings = self.components.settings
        return {
            "embedder": embedder_id(settings),
            "embedder_languages": embedder_languages(settings),
            "chunks": self.components.store.count(),
            "articles": self.components.catalog.count() if count_articles else None,
            "store": f"chroma server {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else f"embedded chroma in {settings.chroma_path}",
        }
