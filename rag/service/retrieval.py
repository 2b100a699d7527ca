"""newsrag's hybrid retrieval for others to build on: guarded passages, and a LlamaIndex retriever over them.

What goes out is what the answer engines read: the passages the hybrid retriever finds, with every sentence
addressed to an AI taken out of their text, title and source (``rag/answering/injection.py``), so that an agent,
an MCP client or a LlamaIndex synthesizer is never handed an article's planted orders as if they were news.
"""

from __future__ import annotations

from typing import Any, Protocol

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import LLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.answering.answerer import clean_question
from rag.answering.injection import drop_planted_instructions
from rag.core.settings import Settings
from rag.core.types import Passage
from rag.index.filters import Filters
from rag.service.components import Components


class NewsRAG(Protocol):
    """What retrieval needs of a :class:`~rag.service.newsrag.NewsRAG` (its settings and components); a protocol, so
    that ``NewsRAG.as_query_engine`` can build on this module without the two importing each other."""

    settings: Settings
    components: Components


MAX_PASSAGES = 50  # as many as an answer may read (``top_k``'s own cap)


def guarded_passages(newsrag: NewsRAG, query: str, limit: int | None = None, **filters: Any) -> list[Passage]:
    """The ``limit`` passages (default ``top_k``) hybrid retrieval finds for ``query``, instructions taken out.

    ``filters``: ``sources``, ``since``, ``until``, ``as_of``, ``article_ids`` (a bad one raises ``FilterError``).
    An empty or over-long query raises ``QuestionError``, as a question would.
    """
    settings = newsrag.settings
    count = max(1, min(limit or settings.top_k, MAX_PASSAGES))
    parsed = Filters.parse(**{name: value for name, value in filters.items() if value})
    retriever = newsrag.components.ready().retriever
    found = retriever.retrieve(clean_question(query), count, parsed, settings.retrieval)
    return drop_planted_instructions(found).passages


def passage_node(passage: Passage) -> NodeWithScore:
    """A passage as a LlamaIndex node: its text, and the article's title, source, date, url and id as metadata."""
    metadata = {
        "title": passage.title,
        "source": passage.source,
        "date": passage.published_at,
        "url": passage.url,
        "article_id": passage.article_id,
        "chunk_index": passage.chunk_index,
    }
    node = TextNode(id_=passage.chunk_id, text=passage.text, metadata=metadata)
    # The metadata rides along for citing; only the title helps a synthesizer read the text.
    node.excluded_llm_metadata_keys = ["article_id", "chunk_index", "url"]
    node.excluded_embed_metadata_keys = list(metadata)
    return NodeWithScore(node=node, score=passage.score)


class NewsRAGRetriever(BaseRetriever):
    """newsrag's hybrid retrieval (dense + BM25, fused) as a LlamaIndex retriever, passages guarded.

    >>> retriever = NewsRAGRetriever(newsrag, top_k=5, since="2025-08-01")   # doctest: +SKIP
    >>> engine = retriever.as_query_engine(llm=my_llm)                      # doctest: +SKIP
    >>> print(engine.query("What are Putin's peace conditions?"))          # doctest: +SKIP

    Each ``NodeWithScore`` carries ``title``, ``source``, ``date``, ``url`` and ``article_id`` in its metadata.
    """

    def __init__(self, newsrag: NewsRAG, top_k: int | None = None, **filters: Any) -> None:
        """``filters``: ``sources``, ``since``, ``until``, ``as_of``, ``article_ids``; checked now, so a bad one fails
        here."""
        super().__init__()
        Filters.parse(**{name: value for name, value in filters.items() if value})
        self.newsrag, self.top_k, self.filters = newsrag, top_k, filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages = guarded_passages(self.newsrag, query_bundle.query_str, self.top_k, **self.filters)
        return [passage_node(p) for p in passages]

    def as_query_engine(self, llm: LLM | None = None, **options: Any) -> RetrieverQueryEngine:
        """A LlamaIndex ``RetrieverQueryEngine`` over this retriever: ``llm`` (default: newsrag's, else LlamaIndex's
        ``Settings.llm``) writes the answer; ``options`` go to ``RetrieverQueryEngine.from_args`` (``response_mode``,
        ``text_qa_template``, ``node_postprocessors``, ``streaming``, ...)."""
        return RetrieverQueryEngine.from_args(self, llm=llm or self.newsrag.components.llm, **options)
