"""The journal of finished writes: which articles each one touched, so that a reader re-reads only those.

Each finished write leaves one entry in a small collection beside the chunks (``<collection>-journal``),
keyed by the generation the write ended with. A lexical index anywhere (this app instance or another
over the same Chroma server) catches up by re-reading the articles named since it last looked, rather
than the whole collection.
"""

from __future__ import annotations

import json
import time
from typing import Any

from chromadb.errors import NotFoundError

from rag.index.store_connection import ChromaConnection, StoreError

JOURNAL_SUFFIX = "-journal"
# Journal entries older than this are dropped; an index that was last brought up to date before that rebuilds.
JOURNAL_KEEP_SECONDS = 30 * 86_400


class Journal:
    """Entries of (generation, written at, article ids), kept for :data:`JOURNAL_KEEP_SECONDS`."""

    def __init__(self, connection: ChromaConnection) -> None:
        self._connection = connection
        self._opened: Any = None

    def add(self, generation: str, article_ids: list[str]) -> None:
        """Record that the write ending with ``generation`` touched ``article_ids``; drop entries too old to keep."""
        now = time.time()
        journal = self._collection()
        # Chroma wants a vector for every record; the journal is only ever read by its metadata.
        self._connection.call(
            journal.add,
            ids=[generation],
            documents=[json.dumps(article_ids)],
            metadatas=[{"at": now}],
            embeddings=[[1.0]],
        )
        self._connection.call(journal.delete, where={"at": {"$lt": now - JOURNAL_KEEP_SECONDS}})

    def since(self, at: float) -> list[tuple[str, float, list[str]]]:
        """The entries written at or after ``at`` (writer's clock), as (generation, at, article ids), oldest first."""
        journal = self._collection(create=False)
        if journal is None:
            return []
        got = self._connection.call(journal.get, where={"at": {"$gte": at}}, include=["documents", "metadatas"])
        entries = [
            (gid, float(meta["at"]), list(json.loads(doc)))
            for gid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(entries, key=lambda e: e[1])

    def _collection(self, create: bool = True) -> Any:
        """The journal collection; None when it does not exist yet and ``create`` is off (a reader never
        creates it: creating writes, and a reader's folder may be read-only)."""
        if self._opened is None:
            client = self._connection.client
            name = self._connection.settings.collection + JOURNAL_SUFFIX
            try:
                if create:
                    self._opened = self._connection.call(client.get_or_create_collection, name, embedding_function=None)
                else:
                    self._opened = self._connection.call(client.get_collection, name, embedding_function=None)
            except StoreError as exc:
                if create or not isinstance(exc.__cause__, NotFoundError | ValueError):
                    raise
        return self._opened
