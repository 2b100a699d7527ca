"""What a :class:`~rag.service.newsrag.NewsRAG` is made of, wired once from the settings and shared by its parts.

Each component is built on first use: the CLI's ``newsrag feeds list`` never loads the embedder, and opening
the store (which may repair a half-written collection) waits for the first command that reads it.
"""

from __future__ import annotations

import threading
from functools import cached_property

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import LLM

from rag.answering.answerer import Answerer
from rag.answering.candidates import commonness_from
from rag.answering.extractive import ExtractiveEngine
from rag.answering.llm import LLMEngine, build_llm
from rag.core.options import Engine
from rag.core.settings import Settings
from rag.index.catalog import ArticleCatalog
from rag.index.embedder import build_embedder, embedder_id
from rag.index.lexical import LexicalIndex
from rag.index.retrieve import Retriever
from rag.index.store import ChunkStore


class Components:
    """The embedder, store, lexical index, article catalog, LLM and answerer of one service, built on first use.

    ``embedding``, ``llm`` and ``store`` replace what the settings would build (a notebook's own model, a test's
    fake). :attr:`write_lock` lets one writer at a time into the index in this process; readers never wait.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embedding: BaseEmbedding | None = None,
        llm: LLM | None = None,
        store: ChunkStore | None = None,
    ) -> None:
        self.settings = settings
        given = {"embedder": embedding, "store": store, "llm": llm}
        self.__dict__.update({name: value for name, value in given.items() if value is not None})  # the cache
        self.write_lock = threading.Lock()
        self._build_lock = threading.Lock()  # aask and astream build the components in worker threads

    @cached_property
    def embedder(self) -> BaseEmbedding:
        return build_embedder(self.settings)

    @cached_property
    def store(self) -> ChunkStore:
        store = ChunkStore(self.settings, embedder_id(self.settings))
        # A writer that died leaves the collection dirty: drop its half-written versions now.
        if store.state().get("dirty"):
            with self.write_lock:
                store.begin_write()
                store.repair()
                store.end_write()
        return store

    @cached_property
    def lexical(self) -> LexicalIndex:
        return LexicalIndex(self.store, self.settings.lexical_path)

    @cached_property
    def catalog(self) -> ArticleCatalog:
        """The article list for search, sort and paging (a cache of the store's, per generation)."""
        return ArticleCatalog(self.store, self.settings.catalog_path)

    @cached_property
    def llm(self) -> LLM | None:
        """The configured LLM; None when there is none or the engine is ``extractive``."""
        if self.settings.llm_configured and self.settings.engine != Engine.extractive:
            return build_llm(self.settings)
        return None

    @cached_property
    def answerer(self) -> Answerer:
        retriever = Retriever(self.store, self.lexical, self.embedder)
        llm_engine = LLMEngine(self.llm) if self.llm is not None else None
        extractive = ExtractiveEngine(
            self.embedder,
            self.settings.min_relevance,
            commonness_from(self.lexical.document_frequency),
            self.settings.short_answer_confidence,
        )
        return Answerer(self.settings, retriever, extractive, llm_engine)

    def ready(self) -> Answerer:
        """The answerer, built once under a lock: concurrent first questions must not open the store twice."""
        with self._build_lock:
            return self.answerer
