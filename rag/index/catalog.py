"""The article catalog: one row per indexed article in SQLite, for search, sort and paging at 100k articles.

Chroma cannot sort, search titles or count by filter, and listing its articles means reading every
first chunk (:meth:`ChunkStore.articles`): seconds at 100k articles. The catalog keeps that listing in
``index_dir/catalog.sqlite``, tagged with the store's ``generation``. Every read first compares the tag
with the store's generation (one small request) and rebuilds the table when it differs, so an article
added or deleted by another app instance on the same Chroma server shows on the next read. The file is a
cache: deleting it costs one rebuild. Where it cannot be written (a read-only folder), it lives in memory.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from rag.core.sqlite import Database
from rag.core.text import like_pattern, rejoin
from rag.index.store import ArticleRecord, ChunkStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS catalog_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, url TEXT NOT NULL,
    published_at TEXT NOT NULL, authors TEXT NOT NULL, origin TEXT NOT NULL, content_hash TEXT NOT NULL,
    n_chunks INTEGER NOT NULL, ingested_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_by_date ON articles (published_at, ingested_at);
CREATE INDEX IF NOT EXISTS articles_by_added ON articles (ingested_at);
CREATE INDEX IF NOT EXISTS articles_by_title ON articles (title COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS articles_by_source ON articles (source COLLATE NOCASE, published_at);
CREATE INDEX IF NOT EXISTS articles_by_chunks ON articles (n_chunks);
"""
COLUMNS = tuple(ArticleRecord.model_fields)
MAX_PAGE = 200  # rows one page may ask for: a page is never the whole list
# Up to this many articles a new generation's table is built before the read that needs it (about a second per
# 5,000 articles on 2 cores); above it, reads get the previous table (or none, the first time: an index of more
# chunks than this) while a thread builds the new one.
QUICK_REBUILD = 20_000


class SortKey(enum.StrEnum):
    """The columns a listing can be sorted by."""

    date = "date"
    added = "added"
    title = "title"
    source = "source"
    chunks = "chunks"


_ORDER = {
    SortKey.date: "published_at {d}, ingested_at {d}",
    SortKey.added: "ingested_at {d}",
    SortKey.title: "title COLLATE NOCASE {d}",
    SortKey.source: "source COLLATE NOCASE {d}, published_at DESC",
    SortKey.chunks: "n_chunks {d}, published_at DESC",
}


class Selection(BaseModel):
    """Which articles: a text in the title or source, one source, a published-date range (ISO, inclusive)."""

    text: str = ""
    source: str = ""
    since: str = ""
    until: str = ""

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["1"], []
        if self.text.strip():
            like = like_pattern(self.text)
            clauses.append("(title LIKE ? ESCAPE '\\' OR source LIKE ? ESCAPE '\\')")
            params += [like, like]
        if self.source:
            clauses.append("source = ?")
            params.append(self.source)
        if self.since:
            clauses.append("published_at != '' AND substr(published_at, 1, 10) >= ?")
            params.append(self.since[:10])
        if self.until:
            clauses.append("published_at != '' AND substr(published_at, 1, 10) <= ?")
            params.append(self.until[:10])
        return " AND ".join(clauses), params


class CatalogPage(BaseModel):
    """One page of a listing and how many articles the whole selection holds."""

    total: int
    offset: int
    records: list[ArticleRecord]
    stale: bool = False  # from the previous generation's table, while the new one is being built


class ArticleView(BaseModel):
    """One article to read: its record, its chunks in order, and its cleaned text rebuilt from them."""

    record: ArticleRecord
    chunks: list[str]

    @property
    def text(self) -> str:
        return rejoin(self.chunks)


class ArticleCatalog:
    """The store's articles as a SQLite table, rebuilt whenever the store's generation moves on.

    A large archive's rebuild (over ``QUICK_REBUILD`` articles) runs in a thread: reads meanwhile get the
    previous table, marked ``stale``, with this process's own deletions already applied (:meth:`drop`).
    """

    def __init__(self, store: ChunkStore, path: Path) -> None:
        self.store, self.path = store, Path(path)
        self._lock = threading.Lock()  # guards the table: one reader or writer at a time in this process
        # A cache: its idempotent schema is run on every connection, and where the folder cannot be written the
        # table lives in memory.
        self.database = Database(self.path, timeout=30, schema=SCHEMA, memory_fallback=True)
        self._builder: threading.Thread | None = None
        self.stale = False  # the last read came from the previous generation's table

    @contextmanager
    def _fresh(self) -> Iterator[sqlite3.Connection]:
        """A connection on a table that matches the store's current generation (or is being brought up to it)."""
        generation = self.store.generation
        with self._lock, self.database.connect() as db:
            row = db.execute("SELECT value FROM catalog_state WHERE key = 'generation'").fetchone()
            self.stale = row is not None and row[0] != generation
            if row is None and self._large():
                # No table yet for a large archive (a first start, an index built elsewhere): listing it takes a
                # while at 1M chunks, so `newsrag serve` answers meanwhile and the list shows as being built.
                self.stale = True
                self._rebuild_in_background(generation)
            elif row is None:
                self._write(db, generation, self.store.articles().values())
            elif self.stale:
                if db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] <= QUICK_REBUILD:
                    self._write(db, generation, self.store.articles().values())
                    self.stale = False
                else:
                    self._rebuild_in_background(generation)
            yield db

    def _rebuild_in_background(self, generation: str) -> None:
        if self._builder is not None and self._builder.is_alive():
            return

        def rebuild() -> None:
            try:
                records = self.store.articles().values()  # the slow part, outside the lock
            except Exception:  # noqa: BLE001 - the next read tries again (and a StoreError reaches the reader)
                return
            with self._lock, self.database.connect() as db:
                self._write(db, generation, records)

        self._builder = threading.Thread(target=rebuild, name="catalog-rebuild", daemon=True)
        self._builder.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background rebuild to finish (tests, benchmarks)."""
        if self._builder is not None:
            self._builder.join(timeout)

    def drop(self, article_ids: list[str]) -> None:
        """Take deleted articles out of the table at once (the next rebuild would too)."""
        with self._lock, self.database.connect() as db:
            db.executemany("DELETE FROM articles WHERE article_id = ?", [(i,) for i in article_ids])

    def _write(self, db: sqlite3.Connection, generation: str, records: Any) -> None:
        with db:
            db.execute("DELETE FROM articles")
            db.executemany(
                f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                ([getattr(r, c) for c in COLUMNS] for r in records),
            )
            db.execute("INSERT OR REPLACE INTO catalog_state VALUES ('generation', ?)", (generation,))

    @staticmethod
    def _record(row: tuple[Any, ...]) -> ArticleRecord:
        return ArticleRecord(**dict(zip(COLUMNS, row, strict=True)))

    def page(
        self,
        selection: Selection | None = None,
        *,
        sort: SortKey | str = SortKey.date,
        descending: bool = True,
        offset: int = 0,
        limit: int = 25,
    ) -> CatalogPage:
        """One page of the selected articles, sorted; ``sort`` outside :class:`SortKey` raises ValueError."""
        where, params = (selection or Selection()).where()
        order = _ORDER[SortKey(sort)].format(d="DESC" if descending else "ASC")
        limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)
        query = f"SELECT {', '.join(COLUMNS)} FROM articles WHERE {where} ORDER BY {order}, article_id LIMIT ? OFFSET ?"
        with self._fresh() as db:
            total = db.execute(f"SELECT COUNT(*) FROM articles WHERE {where}", params).fetchone()[0]
            rows = db.execute(query, [*params, limit, offset]).fetchall()
            stale = self.stale
        return CatalogPage(total=total, offset=offset, records=[self._record(r) for r in rows], stale=stale)

    def count(self, selection: Selection | None = None) -> int:
        return self.page(selection, limit=1).total

    def warm(self) -> None:
        """Bring the table up to date now when that is quick. A large archive's is brought up to date when the
        list is first read instead: building it beside a starting server delays the first answers (by seconds at
        1M chunks), and a list read a moment later loses nothing."""
        if not self._large():
            self.count()

    def _large(self) -> bool:
        """Whether the store may hold more than QUICK_REBUILD articles: its chunk count is an upper bound that
        costs nothing to ask, where counting articles means listing them."""
        return self.store.count() > QUICK_REBUILD

    def selected(self, selection: Selection) -> list[ArticleRecord]:
        """Every selected article (for a bulk delete)."""
        where, params = selection.where()
        with self._fresh() as db:
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM articles WHERE {where}", params).fetchall()
        return [self._record(r) for r in rows]

    def get(self, article_id: str) -> ArticleRecord | None:
        with self._fresh() as db:
            row = db.execute(f"SELECT {', '.join(COLUMNS)} FROM articles WHERE article_id = ?", (article_id,))
            found = row.fetchone()
        return self._record(found) if found else None

    def find(self, id_or_url_or_origin: str, same_url: Any = None) -> ArticleRecord | None:
        """The article with this id or origin, or (``same_url(url)`` true) this URL."""
        wanted = id_or_url_or_origin.strip()
        with self._fresh() as db:
            query = f"SELECT {', '.join(COLUMNS)} FROM articles WHERE article_id = ? OR origin = ? LIMIT 1"
            found = db.execute(query, (wanted, wanted)).fetchone()
            if found is None and same_url is not None:
                for row in db.execute(f"SELECT {', '.join(COLUMNS)} FROM articles WHERE url != ''"):
                    if same_url(row[COLUMNS.index("url")]):
                        found = row
                        break
        return self._record(found) if found else None

    def titled(self, prefix: str) -> ArticleRecord | None:
        """An article whose title starts with ``prefix`` (any case): a walk of the title index, not a scan."""
        query = f"SELECT {', '.join(COLUMNS)} FROM articles WHERE title LIKE ? ESCAPE '\\' LIMIT 1"
        with self._fresh() as db:
            found = db.execute(query, (like_pattern(prefix)[1:],)).fetchone()
        return self._record(found) if found else None

    def sources(self) -> list[str]:
        with self._fresh() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT source FROM articles WHERE source != '' ORDER BY 1")]

    def view(self, article_id: str) -> ArticleView | None:
        """The article with its chunks, read from the store (the catalog holds no text)."""
        record = self.get(article_id)
        if record is None:
            return None
        return ArticleView(record=record, chunks=[text for text, _ in self.store.article_chunks(article_id)])
