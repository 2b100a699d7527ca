"""The chunk store: one Chroma collection, embedded or on a Chroma server, and the source of truth.

Each chunk carries its article's metadata (id, title, source, url, date, origin) and the version it
belongs to. :class:`ChunkStore` is what the rest of newsrag uses; it is made of one part per concern:

- ``store_connection.py``: the collection, opened again after a failure, every call's failure explained;
- ``store_writes.py``: the write protocol (dirty before, a new generation after) and the repair of
  half-written or superseded article versions;
- ``store_journal.py``: the articles each finished write touched, which lexical indexes catch up from;
- ``store_reads.py``: chunks and articles read back page by page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from llama_index.core.schema import TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.core.settings import Settings
from rag.index import store_reads
from rag.index.store_connection import ChromaConnection, StoreError
from rag.index.store_journal import Journal
from rag.index.store_reads import ArticleRecord, Chunk
from rag.index.store_writes import StoreWrites

__all__ = ["ArticleRecord", "ChunkStore", "StoreError"]


class ChunkStore:
    """Reads and writes article chunks in Chroma; refuses to mix vectors of two embedders."""

    def __init__(self, settings: Settings, embedder_id: str, client: Any | None = None) -> None:
        self.settings = settings
        self.embedder_id = embedder_id
        self._connection = ChromaConnection(settings, embedder_id, client)  # opens now: a wrong setting fails here
        self.client = self._connection.client
        self.collection: Any = self._connection.collection
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)
        self._journal = Journal(self._connection)
        self._writes = StoreWrites(self._connection, self._journal, self.vector_store)

    # ----- state shared with readers and other instances
    def state(self) -> dict[str, Any]:
        """The collection's metadata, read fresh (another instance may have written)."""
        return self._connection.state()

    @property
    def generation(self) -> str:
        return str(self.state().get("generation", ""))

    def journal_since(self, at: float) -> list[tuple[str, float, list[str]]]:
        """The journal entries written at or after ``at`` (writer's clock), as (generation, at, article ids)."""
        return self._journal.since(at)

    # ----- writing (see store_writes.py)
    def begin_write(self) -> bool:
        """Mark the collection dirty; returns whether it was dirty already (a writer died, or failed to write)."""
        return self._writes.begin()

    def end_write(self, dirty: bool = False) -> str:
        """A new generation, after journalling the articles touched; ``dirty`` when some write failed."""
        return self._writes.end(dirty)

    def write_article(self, nodes: list[TextNode]) -> None:
        """Add one article version (all its chunks, with embeddings), then drop its older versions."""
        self._writes.write_article(nodes)

    def delete_article(self, article_id: str) -> None:
        """Delete every chunk of one article."""
        self._writes.delete_article(article_id)

    def delete_articles(self, article_ids: list[str]) -> None:
        """Delete many articles, a page of ids per request (Chroma caps the size of one filter)."""
        self._writes.delete_articles(article_ids)

    def repair(self) -> int:
        """Delete chunks of incomplete or superseded article versions; returns how many were removed."""
        return self._writes.repair()

    # ----- reading (see store_reads.py)
    def count(self) -> int:
        return self.collection.count()

    def iter_chunks(self, include_text: bool = True) -> Iterator[Chunk]:
        """Every chunk as (id, text, metadata), page by page."""
        return store_reads.iter_chunks(self.collection, include_text)

    def nodes(self) -> Iterator[TextNode]:
        """Every chunk as a LlamaIndex node."""
        return store_reads.nodes(self.collection)

    def chunks_of(self, article_ids: list[str]) -> Iterator[Chunk]:
        """The chunks of some articles as (id, text, metadata): what a lexical index re-reads after a change."""
        return store_reads.chunks_of(self.collection, article_ids)

    def article_chunks(self, article_id: str) -> list[tuple[str, dict[str, Any]]]:
        """One article's chunks as (text, metadata), in order (its newest version only)."""
        return store_reads.article_chunks(self.collection, article_id)

    def articles(self, where: dict[str, Any] | None = None) -> dict[str, ArticleRecord]:
        """The newest version of every indexed article (or of those matching ``where``), by article id."""
        return store_reads.articles(self.collection, where)
