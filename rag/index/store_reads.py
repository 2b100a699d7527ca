"""Reading the store's chunks and articles out of a Chroma collection, page by page.

A page of known ids costs time in proportion to the page, but a page by offset (or by a filter) costs time in
proportion to the collection, so many chunks are read by listing their ids first, then reading those.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from pydantic import BaseModel

from rag.core.types import ARTICLE_FIELDS, Link, SourceName, Title

# Chunks read per request when reading many. At 1M chunks, reading everything by offset had read 7% after 13
# minutes; by ids it took about 8 minutes in all. Above about 1,000 ids a request gets slower per id.
READ_PAGE = 500
# Articles named in one filter when reading the chunks of many.
ARTICLES_PER_READ = 100

Chunk = tuple[str, str | None, dict[str, Any]]  # (id, text, metadata)


class ArticleRecord(BaseModel):
    """One indexed article, as the store knows it (metadata checked again: the index may predate the checks)."""

    article_id: str
    title: Title
    source: SourceName = ""
    url: Link = ""
    published_at: str = ""
    authors: str = ""
    origin: str = ""
    content_hash: str
    n_chunks: int
    ingested_at: float


def read_pages(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every record of a Chroma collection (or those matching ``where``) as ``get`` results of READ_PAGE records.

    The ids are listed first, then read by id: a chunk deleted in between is skipped, one added is not seen.
    """
    ids = collection.get(where=where, include=[])["ids"]
    for start in range(0, len(ids), READ_PAGE):
        page = collection.get(ids=ids[start : start + READ_PAGE], include=include)
        if page["ids"]:
            yield page


def iter_chunks(collection: Any, include_text: bool = True) -> Iterator[Chunk]:
    """Every chunk as (id, text, metadata), page by page."""
    include = ["metadatas", "documents"] if include_text else ["metadatas"]
    for page in read_pages(collection, include):
        ids = page["ids"]
        docs = page.get("documents") or [None] * len(ids)
        yield from zip(ids, docs, page["metadatas"], strict=True)


def nodes(collection: Any) -> Iterator[TextNode]:
    """Every chunk as a LlamaIndex node."""
    for _id, text, metadata in iter_chunks(collection):
        node = metadata_dict_to_node(metadata, text=text)
        assert isinstance(node, TextNode)
        yield node


def chunks_of(collection: Any, article_ids: list[str]) -> Iterator[Chunk]:
    """The chunks of some articles as (id, text, metadata): what a lexical index re-reads after a change."""
    for start in range(0, len(article_ids), ARTICLES_PER_READ):
        got = collection.get(
            where={"article_id": {"$in": article_ids[start : start + ARTICLES_PER_READ]}},
            include=["documents", "metadatas"],
        )
        yield from zip(got["ids"], got["documents"], got["metadatas"], strict=True)


def article_chunks(collection: Any, article_id: str) -> list[tuple[str, dict[str, Any]]]:
    """One article's chunks as (text, metadata), in order (its newest version only)."""
    got = collection.get(where={"article_id": article_id}, include=["documents", "metadatas"])
    chunks = sorted(zip(got["documents"], got["metadatas"], strict=True), key=lambda c: c[1]["chunk_index"])
    newest = max((float(m["ingested_at"]) for _, m in chunks), default=0.0)
    return [(text, meta) for text, meta in chunks if float(meta["ingested_at"]) == newest]


def articles(collection: Any, where: dict[str, Any] | None = None) -> dict[str, ArticleRecord]:
    """The newest version of every indexed article (or of those matching ``where``), by article id.

    Reads only each version's first chunk: the store's repair (run whenever a writer died or a write failed)
    guarantees that the versions left are complete.
    """
    best: dict[str, ArticleRecord] = {}
    first = {"chunk_index": 0}
    condition = {"$and": [first, where]} if where else first
    for page in read_pages(collection, ["metadatas"], where=condition):
        for meta in page["metadatas"]:
            record = ArticleRecord(**{k: meta.get(k) or "" for k in ARTICLE_FIELDS} | _version(meta))
            current = best.get(record.article_id)
            if current is None or record.ingested_at > current.ingested_at:
                best[record.article_id] = record
    return best


def _version(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "content_hash": meta["content_hash"],
        "n_chunks": int(meta["n_chunks"]),
        "ingested_at": float(meta.get("ingested_at") or time.time()),
    }
