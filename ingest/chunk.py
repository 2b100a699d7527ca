"""Splitting an article into sentence-aware chunks that carry the article's metadata.

Chunk size is measured in the embedder's own WordPiece tokens, so a chunk never exceeds what the
embedder reads (256 tokens for MiniLM). Only the passage text is embedded: article metadata is
kept on each node but excluded from the embedded and LLM-visible text, since prefixing it to every
passage made retrieval worse in our tests.
"""

from __future__ import annotations

import bisect
import hashlib
import time
from functools import lru_cache

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from ingest.article import Article
from rag.core.dates import date_to_timestamp
from rag.core.text import is_table_row
from rag.core.types import CHUNK_METADATA_KEYS, ChunkMetadata
from rag.index.embedder import count_tokens

# The embedder adds [CLS] and [SEP] to every text, and they count against its 256-token window.
SPECIAL_TOKENS = 2


@lru_cache(maxsize=8)
def splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    return SentenceSplitter(
        chunk_size=chunk_size - SPECIAL_TOKENS,
        chunk_overlap=min(chunk_overlap, chunk_size // 2),
        tokenizer=count_tokens,
        paragraph_separator="\n",
    )


# What says where, when and how an article was read rather than what it says: the same text fetched again (a new
# ``seen_at``) is the same version, and the index keeps when that version was first seen.
READ_FIELDS = {"origin", "seen_at", "date_source"}


def content_hash(article: Article, chunk_size: int, chunk_overlap: int) -> str:
    """Changes when what the article says changes (its text, title, date, ...) or the chunking settings do."""
    return content_hashes(article, chunk_size, chunk_overlap)[0]


def content_hashes(article: Article, chunk_size: int, chunk_overlap: int) -> tuple[str, ...]:
    """The article's version, then the other names an index may know that same version by: before ``seen_at`` left
    the version, a web archive's page counted its capture time (a page indexed then is not embedded again)."""
    # Fields added later count only when set, so that articles indexed before them keep their version.
    later = {"pages"} if not article.pages else set()
    versions = [_hash(article, READ_FIELDS | later, chunk_size, chunk_overlap)]
    if article.seen_at:
        versions.append(_hash(article, READ_FIELDS - {"seen_at"} | later, chunk_size, chunk_overlap))
    return tuple(versions)


def _hash(article: Article, exclude: set[str], chunk_size: int, chunk_overlap: int) -> str:
    basis = article.model_dump_json(exclude=exclude) + f"|{chunk_size}|{chunk_overlap}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def chunk_article(article: Article, chunk_size: int, chunk_overlap: int) -> list[TextNode]:
    """The article's chunks as nodes with stable ids (article, version, position)."""
    version = content_hash(article, chunk_size, chunk_overlap)
    texts = [t for t in splitter(chunk_size, chunk_overlap).split_text(article.text) if t.strip()]
    article_id = article.article_id
    now = time.time()
    spans = _page_spans(article, texts)
    texts = _with_table_headers(article.text, texts)
    nodes = []
    for index, text in enumerate(texts):
        page, last_page = spans[index]
        node = TextNode(
            id_=f"{article_id}-{version}-{index:05d}",
            text=text,
            metadata=ChunkMetadata(
                article_id=article_id,
                title=article.title,
                source=article.source,
                url=article.url,
                published_at=article.published_at,
                date_source=article.date_source,
                authors=", ".join(article.authors),
                origin=article.origin,
                seen_at=article.seen_at,
                page=page,
                last_page=last_page,
                published_ts=date_to_timestamp(article.published_at),
                content_hash=version,
                n_chunks=len(texts),
                chunk_index=index,
                ingested_at=now,
            ).model_dump(),
            excluded_embed_metadata_keys=list(CHUNK_METADATA_KEYS),
            excluded_llm_metadata_keys=list(CHUNK_METADATA_KEYS),
        )
        node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=article_id)
        nodes.append(node)
    return nodes


def _page_spans(article: Article, texts: list[str]) -> list[tuple[int, int]]:
    """The first and last page of each chunk of a paged article ((0, 0) for an article without pages).

    The splitter's chunks are pieces of the article's text, in order (overlapping by ``chunk_overlap``), so each
    is found after the start of the one before it.
    """
    if not article.pages:
        return [(0, 0)] * len(texts)
    offsets = [offset for offset, _ in article.pages]
    numbers = [number for _, number in article.pages]

    def page_at(position: int) -> int:
        return numbers[max(0, bisect.bisect_right(offsets, position) - 1)]

    spans, cursor = [], 0
    for text in texts:
        found = article.text.find(text[:80], cursor)
        start = found if found >= 0 else cursor  # not found (never seen): the page after the last chunk's start
        spans.append((page_at(start), page_at(start + len(text) - 1)))
        cursor = start + 1
    return spans


def _with_table_headers(text: str, chunks: list[str]) -> list[str]:
    """Each chunk that starts inside a table, led by that table's header row: a row without its header ("EPA | 388")
    does not say what its numbers are, neither to retrieval nor to the engine reading it."""
    lines = text.splitlines()
    out = []
    for chunk in chunks:
        first = chunk.lstrip("\n").split("\n", 1)[0]
        header = _header_of(lines, first) if is_table_row(first) else None
        out.append(f"{header}\n{chunk}" if header and header.strip() != first.strip() else chunk)
    return out


def _header_of(lines: list[str], row: str) -> str | None:
    """The first row of the table holding ``row`` (the line the chunk starts with, perhaps cut at its start)."""
    for at, line in enumerate(lines):
        if line.strip() and line.strip().endswith(row.strip()):
            start = at
            while start > 0 and is_table_row(lines[start - 1]):
                start -= 1
            return lines[start] if start < at else None
    return None
