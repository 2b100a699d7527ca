"""The store's write protocol: a commit without transactions, and the repair that makes it safe.

Each chunk carries the version of the article it belongs to (``content_hash``, ``n_chunks``,
``ingested_at``): a version is complete when all of its ``n_chunks`` chunks are present, and
:meth:`StoreWrites.repair` drops incomplete versions and superseded ones. A writer marks the collection
dirty before writing and clean after, with a fresh ``generation`` that tells the lexical index (and other
app instances) that the content changed, and journals the articles it touched. An embedded index takes no
new articles while its disk is (nearly) full, where Chroma itself can hang.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from llama_index.core.schema import TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.core.disk import LOW_SPACE_BYTES, free_bytes
from rag.index.store_connection import ChromaConnection, StoreError
from rag.index.store_journal import Journal
from rag.index.store_reads import iter_chunks

# Ids (or article ids) in one delete request: Chroma caps the size of one filter.
PAGE = 2000


class StoreWrites:
    """Writes between :meth:`begin` and :meth:`end`, remembering which articles they touched."""

    def __init__(self, connection: ChromaConnection, journal: Journal, vector_store: ChromaVectorStore) -> None:
        self._connection = connection
        self._journal = journal
        self._vector_store = vector_store
        self._touched: set[str] = set()  # articles written or deleted since begin()

    def begin(self) -> bool:
        """Mark the collection dirty; returns whether it was dirty already (a writer died, or failed to write)."""
        self._check_room()
        self._touched = set()
        was_dirty = bool(self._connection.state().get("dirty"))
        self._set_state(dirty=True)
        return was_dirty

    def end(self, dirty: bool = False) -> str:
        """A new generation, after journalling the articles touched; the collection stays ``dirty`` when some
        write failed (it may have left half an article: the next writer repairs)."""
        generation = uuid.uuid4().hex
        if self._touched:
            self._journal.add(generation, sorted(self._touched))
        self._touched = set()
        self._set_state(dirty=dirty, generation=generation)
        return generation

    def write_article(self, nodes: list[TextNode]) -> None:
        """Add one article version (all its chunks, with embeddings), then drop its older versions."""
        if not nodes:
            return
        self._check_room()
        meta = nodes[0].metadata
        self._touched.add(meta["article_id"])
        self._vector_store.add(nodes)
        self._connection.collection.delete(
            where={
                "$and": [
                    {"article_id": meta["article_id"]},
                    {"content_hash": {"$ne": meta["content_hash"]}},
                ]
            }
        )

    def delete_articles(self, article_ids: list[str]) -> None:
        """Delete many articles, a page of ids per request."""
        self._touched.update(article_ids)
        for start in range(0, len(article_ids), PAGE):
            self._connection.collection.delete(where={"article_id": {"$in": article_ids[start : start + PAGE]}})

    def delete_article(self, article_id: str) -> None:
        self._touched.add(article_id)
        self._connection.collection.delete(where={"article_id": article_id})

    def repair(self) -> int:
        """Delete chunks of incomplete or superseded article versions; returns how many were removed."""
        collection = self._connection.collection
        versions: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        info: dict[tuple[str, str], dict[str, Any]] = {}
        for chunk_id, _text, meta in iter_chunks(collection, include_text=False):
            key = (meta["article_id"], meta["content_hash"])
            versions[meta["article_id"]][meta["content_hash"]].append(chunk_id)
            info.setdefault(key, meta)
        doomed: list[str] = []
        for article_id, by_hash in versions.items():
            complete = [h for h, ids in by_hash.items() if len(set(ids)) == int(info[(article_id, h)]["n_chunks"])]
            keep = max(complete, key=lambda h: float(info[(article_id, h)]["ingested_at"]), default=None)
            doomed.extend(i for h, ids in by_hash.items() if h != keep for i in ids)
            if any(h != keep for h in by_hash):
                self._touched.add(article_id)
        for start in range(0, len(doomed), PAGE):
            collection.delete(ids=doomed[start : start + PAGE])
        return len(doomed)

    def _set_state(self, **changes: Any) -> None:
        metadata = self._connection.state() | changes
        self._connection.collection.modify(metadata=metadata)

    def _check_room(self) -> None:
        """Refuse to add to an embedded index on a full disk, where Chroma can hang (see ``rag/core/disk.py``)."""
        settings = self._connection.settings
        free = None if settings.chroma_host else free_bytes(settings.chroma_path)
        if free is not None and free < LOW_SPACE_BYTES:
            raise StoreError(
                f"the index directory {settings.chroma_path} is on a full disk ({free // 1024} KB free; newsrag"
                f" writes to the index only with {LOW_SPACE_BYTES // 1_000_000} MB free): free some space and try again"
            )
