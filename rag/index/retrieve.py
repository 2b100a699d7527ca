"""Hybrid retrieval: dense (Chroma through LlamaIndex) and BM25, fused by reciprocal rank.

Fusion is LlamaIndex's ``QueryFusionRetriever`` in reciprocal-rank mode with one query (no LLM
query rewriting). The dense side's cosine similarities are kept, because the answer engines use
them to decide whether anything relevant was found at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from llama_index.core import VectorStoreIndex
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
from llama_index.core.schema import NodeWithScore, QueryBundle

from rag.core.types import Passage
from rag.index.filters import Filters
from rag.index.lexical import LexicalIndex
from rag.index.store import ChunkStore
from rag.index.store_connection import StoreError

Mode = Literal["hybrid", "dense", "lexical"]
# Each side proposes this many times top_k candidates before fusion.
CANDIDATES = 2


# A filter that lets a fair part of the chunks through is applied to an unfiltered search, fetched larger by its
# share: Chroma's filtered search first lists every matching id from SQLite, which costs more than the search (at
# 22k chunks an as-of date took the dense search from 40 to 200 ms; at 100k chunks a window keeping 24% of them,
# 550 ms, and 72 ms filtering an unfiltered search of 1.5 / 0.24 times as many).
POST_FILTER_SHARE = 0.05
OVERFETCH = 1.5
# A filter that keeps few chunks (a week of a large archive) names them instead, from the lexical index: Chroma's
# search among given ids costs ~45 ms for 800 ids at 100k chunks, its metadata filter ~370 ms.
MAX_NAMED_IDS = 5_000


class DenseRetriever(BaseRetriever):
    """Chroma vector search that remembers the cosine similarity of what it returned.

    ``share``: the part of the index ``filters`` let through (see :meth:`LexicalIndex.share`); from
    :data:`POST_FILTER_SHARE` up, they are applied to the results of a larger unfiltered search, and only when that
    falls short, in Chroma's search itself. ``ids``: the chunks they let through, named (a narrow filter), which
    Chroma then searches among instead of applying the filter itself.
    """

    def __init__(
        self,
        index: VectorStoreIndex,
        top_k: int,
        filters: Filters | None,
        share: float = 0.0,
        ids: list[str] | None = None,
    ) -> None:
        super().__init__()
        metadata_filters = filters.to_metadata_filters() if filters else None
        self._top_k, self._post = top_k, filters if metadata_filters and share >= POST_FILTER_SHARE else None
        self._fetch = math.ceil(top_k / share * OVERFETCH) if self._post else top_k
        self._ids = None if self._post else ids
        self._filtered = index.as_retriever(similarity_top_k=top_k, filters=metadata_filters)
        # The chunks the filters keep, named: Chroma searches only those.
        self._named = index.as_retriever(similarity_top_k=top_k, vector_store_kwargs={"ids": ids}) if ids else None
        self._inner = index.as_retriever(similarity_top_k=self._fetch) if self._post else self._filtered
        self.similarities: dict[str, float] = {}

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        if self._ids == []:
            return []  # nothing passes the filters
        hits = self._search_named(query_bundle) if self._named is not None else self._inner.retrieve(query_bundle)
        if self._post is not None:
            kept = [h for h in hits if self._post.admits(h.node.metadata)]
            # Fewer than asked, from a search that was not given the whole index: search with the filter after all.
            hits = kept[: self._top_k] if len(kept) >= self._top_k or len(hits) < self._fetch else None
            hits = hits if hits is not None else self._filtered.retrieve(query_bundle)
        for hit in hits:
            # ChromaVectorStore reports exp(-distance); with cosine space, distance = 1 - cos.
            self.similarities[hit.node.node_id] = 1.0 + math.log(max(hit.score or 1e-12, 1e-12))
        return hits

    def _search_named(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """Among the named chunks; with Chroma's own filter when it does not know one of them (the lexical index
        can name a chunk an ingest is removing from Chroma at that moment)."""
        try:
            return self._named.retrieve(query_bundle)  # type: ignore[union-attr]
        except StoreError:
            return self._filtered.retrieve(query_bundle)


class LexicalRetriever(BaseRetriever):
    """The BM25 index as a LlamaIndex retriever."""

    def __init__(self, lexical: LexicalIndex, top_k: int, filters: Filters | None) -> None:
        super().__init__()
        self._lexical, self._top_k, self._filters = lexical, top_k, filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self._lexical.retrieve(query_bundle.query_str, self._top_k, self._filters)


class Retriever:
    """Finds the passages that could ground an answer."""

    def __init__(self, store: ChunkStore, lexical: LexicalIndex, embedder: BaseEmbedding) -> None:
        self.store, self.lexical, self.embedder = store, lexical, embedder
        self.index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embedder)

    def retrieve(
        self,
        question: str,
        top_k: int = 5,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        rerank: Callable[[list[Passage]], list[Passage]] | None = None,
    ) -> list[Passage]:
        """The ``top_k`` best passages; ``rerank`` (e.g. the recency prior) orders all candidates before the cut."""
        if filters is not None and filters.empty:
            filters = None
        pool = top_k * CANDIDATES
        share, ids = self.lexical.selection(filters, MAX_NAMED_IDS, POST_FILTER_SHARE) if filters else (0.0, None)
        dense = DenseRetriever(self.index, pool, filters, share, ids)
        if mode == "dense":
            hits = dense.retrieve(question)  # the whole pool, for rerank; cut below
        elif mode == "lexical":
            hits = LexicalRetriever(self.lexical, top_k, filters).retrieve(question)
        else:
            fusion = QueryFusionRetriever(
                [dense, LexicalRetriever(self.lexical, pool, filters)],
                llm=MockLLM(),
                mode=FUSION_MODES.RECIPROCAL_RANK,
                similarity_top_k=pool,
                num_queries=1,
                use_async=False,
            )
            hits = fusion.retrieve(question)
        passages = [Passage.from_node(h.node, h.score, dense.similarities.get(h.node.node_id)) for h in hits]
        # News is about time: among equal scores, the newer article comes first.
        passages.sort(key=lambda p: (round(p.score, 9), p.published_at), reverse=True)
        if rerank is not None:
            passages = rerank(passages)
        return passages[:top_k]
