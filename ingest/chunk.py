"""Splitting an article into sentence-aware chunks that carry the article's metadata.

Chunk size is measured in the embedder's own WordPiece tokens, so a chunk never exceeds what the
embedder reads (256 tokens for MiniLM). Only the passage text is embedded: article metadata is
kept on each node but excluded from the embedded and LLM-visible text, since prefixing it to every
passage made retrieval worse in our tests.
"""

from __future__ import annotations

import hashlib
import time
from functools import lru_cache

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from ingest.article import Article
from rag.core.dates import date_to_timestamp
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


def content_hash(article: Article, chunk_size: int, chunk_overlap: int) -> str:
    """Changes when anything that ends up in the index changes, chunking settings included."""
    basis = article.model_dump_json(exclude={"origin"}) + f"|{chunk_size}|{chunk_overlap}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def chunk_article(article: Article, chunk_size: int, chunk_overlap: int) -> list[TextNode]:
    """The article's chunks as nodes with stable ids (article, version, position)."""
    version = content_hash(article, chunk_size, chunk_overlap)
    texts = [t for t in splitter(chunk_size, chunk_overlap).split_text(article.text) if t.strip()]
    article_id = article.article_id
    now = time.time()
    nodes = []
    for index, text in enumerate(texts):
        node = TextNode(
            id_=f"{article_id}-{version}-{index:05d}",
            text=text,
            metadata=ChunkMetadata(
                article_id=article_id,
                title=article.title,
                source=article.source,
                url=article.url,
                published_at=article.published_at,
                authors=", ".join(article.authors),
                origin=article.origin,
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
