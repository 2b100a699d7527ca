"""The lexical (BM25) side of hybrid retrieval: a tantivy index kept beside Chroma, updated one article at a time.

Chroma is the source of truth. This index holds only what BM25 and the filters need (the stemmed words,
the chunk id, source, article id and date) under ``index_dir/lexical``. It catches up from the store's
journal (see ``rag/index/store_journal.py``): every finished write names the articles it touched, and the
index re-reads just those articles' chunks from Chroma, so a change costs work proportional to the article,
in this app instance and in any other over the same Chroma server. It is rebuilt from Chroma only when it
is missing or unreadable, when it fell further behind than the journal reaches, or when its chunk count
disagrees with Chroma's. Passages are read back from Chroma by id, so the two sides never disagree on a
passage's text. tantivy was chosen over SQLite FTS5 and segmented bm25s by ``evals/lexical_compare.py``
(figures in ``bench/results-lexical-candidates.md``).

:class:`LexicalIndex` keeps the index in step with the store; its parts are the files (``lexical_folder.py``,
in memory when the folder cannot be written), the writes (``lexical_writes.py``), the queries
(``lexical_search.py``) and what a chunk becomes (``lexical_schema.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from rag.core.disk import disk_problem
from rag.index import lexical_writes
from rag.index.filters import Filters
from rag.index.lexical_folder import LexicalFolder
from rag.index.lexical_schema import Words, schema
from rag.index.lexical_search import LexicalSearch, Selection
from rag.index.store import ChunkStore
from rag.index.store_journal import JOURNAL_KEEP_SECONDS

log = logging.getLogger(__name__)
# How often a reader asks Chroma whether the content changed under it.
STALENESS_CHECK_SECONDS = 2.0
# Writers' clocks may differ this much: journal entries are re-read this far back (applying one twice is harmless).
CLOCK_SKEW_SECONDS = 120.0


class LexicalIndex:
    """BM25 over every chunk in the store, brought up to date article by article."""

    def __init__(self, store: ChunkStore, path: Path) -> None:
        self.store = store
        self.path = path
        self.generation: str | None = None
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._words = Words()
        self._folder = LexicalFolder(path, schema())
        self._search = LexicalSearch(self._folder.schema, self._words)

    def __len__(self) -> int:
        return len(self._search)

    @property
    def chunk_ids(self) -> list[str]:
        """The ids of the chunks this index holds (to check it against Chroma; reads every stored id)."""
        return self._search.chunk_ids()

    @property
    def _searcher(self) -> Any:
        """The tantivy searcher that queries read now (held by the query part; tests swap it to watch a search)."""
        return self._search.searcher

    @_searcher.setter
    def _searcher(self, searcher: Any) -> None:
        self._search.searcher = searcher

    # ----- querying (see lexical_search.py)
    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best matches with a positive score."""
        self.ensure_fresh()
        return self._search.search(query, top_k, filters)

    def selection(self, filters: Filters | None, limit: int, name_below: float) -> Selection:
        """How selective ``filters`` are, before a search uses them, and the ids of the chunks a narrow filter lets
        through (see :meth:`LexicalSearch.selection`): for those, a dense search restricted to them is faster than
        Chroma's own filter."""
        self.ensure_fresh()
        return self._search.selection(filters, limit, name_below)

    def document_frequency(self, text: str) -> tuple[int, int]:
        """(chunks holding every word of ``text``, all chunks): how common a name or phrase is in the index,
        remembered until the index changes."""
        self.ensure_fresh()
        return self._search.document_frequency(text)

    def retrieve(self, query: str, top_k: int, filters: Filters | None = None) -> list[NodeWithScore]:
        """The best matches as LlamaIndex nodes, their text read from Chroma."""
        hits = self.search(query, top_k, filters)
        if not hits:
            return []
        got = self.store.collection.get(ids=[h[0] for h in hits], include=["documents", "metadatas"])
        by_id = {
            chunk_id: metadata_dict_to_node(meta, text=text)
            for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [
            NodeWithScore(node=by_id[chunk_id], score=score)
            for chunk_id, score in hits
            if isinstance(by_id.get(chunk_id), TextNode)
        ]

    # ----- freshness
    def ensure_fresh(self, force: bool = False) -> None:
        """Catch up with what Chroma holds now (``force``: check now, not after the usual interval)."""
        now = time.monotonic()
        if not force and self.generation is not None and now - self._checked_at < STALENESS_CHECK_SECONDS:
            return
        if force or self.generation is None:
            with self._lock:
                self._refresh(now)
            return
        # A reader that has a searcher never queues behind an update: it searches what it has, whose vanished
        # chunks are dropped when read back from Chroma.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._refresh(now)
        finally:
            self._lock.release()

    def _refresh(self, now: float) -> None:
        try:
            self._refresh_on_disk(now)
        except (OSError, ValueError) as exc:  # tantivy reports a read-only or full folder as a ValueError
            if self._folder.in_memory or not disk_problem(self.path, exc):
                raise
            self._folder.to_memory(exc)
            self._rebuild(str(self.store.state().get("generation", "")))

    def _refresh_on_disk(self, now: float) -> None:
        state = self.store.state()
        current = str(state.get("generation", ""))
        self._checked_at = now
        if not self._folder.opened:
            self._open()
        if current == self.generation and self._count_agrees(state):
            return
        meta = self._folder.read_meta()
        if meta is None or time.time() - meta["synced_at"] > JOURNAL_KEEP_SECONDS - CLOCK_SKEW_SECONDS:
            self._rebuild(current)
            return
        if not self._catch_up(meta):
            return  # another process holds this folder's writer: it keeps the index current; read its commits
        self.generation = current
        if not self._count_agrees(self.store.state()):
            log.warning("the lexical index disagrees with Chroma on the chunk count; rebuilding it")
            self._rebuild(current)

    def _count_agrees(self, state: dict[str, Any]) -> bool:
        """As many chunks as Chroma holds, unless a writer is at work (then the next journal entry tells)."""
        self._reload()
        return bool(state.get("dirty")) or len(self) == self.store.count()

    def _open(self) -> None:
        self._folder.open()
        self._reload()

    def _reload(self) -> None:
        """Query what is committed now (this instance's updates, or another process's)."""
        self._search.use(self._folder.searcher())

    def _changed(self) -> None:
        self._search.forget()
        self._reload()

    def _catch_up(self, meta: dict[str, Any]) -> bool:
        """Re-read the articles named by journal entries not applied yet; False when the folder is busy."""
        entries = self.store.journal_since(meta["synced_at"] - CLOCK_SKEW_SECONDS)
        applied = set(meta["applied"])
        todo = sorted({a for gid, _at, articles in entries if gid not in applied for a in articles})
        if todo:
            started = time.perf_counter()
            writer = self._folder.writer()
            if writer is None:
                self._reload()
                return False
            lexical_writes.replace_articles(writer, self._words, todo, self.store.chunks_of(todo))
            self._changed()
            log.info("lexical index: %d articles updated in %.3fs", len(todo), time.perf_counter() - started)
        synced = max((at for _gid, at, _a in entries), default=meta["synced_at"])
        self._folder.write_meta(synced, [gid for gid, _at, _a in entries])
        return True

    def _rebuild(self, generation: str) -> None:
        started = time.perf_counter()
        # Entries from now on are applied after the build (again, if the build already saw them: harmless).
        since = time.time()
        entries = self.store.journal_since(since - CLOCK_SKEW_SECONDS)
        try:
            lexical_writes.build(self._folder.writer_or_memory(), self._words, self.store.iter_chunks())
        except (OSError, ValueError) as exc:
            if self._folder.in_memory:
                raise
            self._folder.to_memory(exc)
            lexical_writes.build(self._folder.writer_or_memory(), self._words, self.store.iter_chunks())
        self._changed()
        self._folder.write_meta(since, [gid for gid, _at, _a in entries])
        self.generation = generation
        log.info("rebuilt the lexical index: %d chunks in %.2fs", len(self), time.perf_counter() - started)
