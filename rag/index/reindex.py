"""Re-embedding every chunk with another embedder, when ``NEWSRAG_EMBEDDER`` changes.

The chunks (text and metadata) are copied from the old collection into a new one with fresh
vectors; only when all are written is the old collection dropped and the new one renamed, so an
interrupted reindex leaves the old index as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from llama_index.core.base.embeddings.base import BaseEmbedding

from rag.core.settings import Settings
from rag.index.embedder import embedder_id
from rag.index.store_connection import chroma_client
from rag.index.store_reads import read_pages


def reindex(settings: Settings, embedder: BaseEmbedding, progress: Callable[[int], None] | None = None) -> int:
    """Re-embed the whole collection with ``embedder``; returns the number of chunks written."""
    client = chroma_client(settings)
    name, staging = settings.collection, f"{settings.collection}-reindex"
    old = client.get_collection(name, embedding_function=None)
    if staging in [c.name for c in client.list_collections()]:
        client.delete_collection(staging)  # left by an interrupted reindex
    new = client.create_collection(
        staging,
        metadata={"embedder": embedder_id(settings), "generation": uuid.uuid4().hex, "dirty": False},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    written = 0
    for page in read_pages(old, ["documents", "metadatas"]):
        vectors = embedder.get_text_embedding_batch(page["documents"])
        new.add(ids=page["ids"], embeddings=vectors, documents=page["documents"], metadatas=page["metadatas"])
        written += len(page["ids"])
        if progress:
            progress(written)
    client.delete_collection(name)
    new.modify(name=name)
    return written
