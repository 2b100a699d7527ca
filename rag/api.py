"""The public Python API: one object wires settings, embedder, store and lexical index once.

The CLI, the Gradio app and the HTTP API are thin layers over :class:`NewsRAG`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from rag.answer import Answer
from rag.answering import Answerer, History
from rag.config import Settings, load_settings, offline_environment
from rag.embedder import build_embedder, embedder_id
from rag.extractive import ExtractiveEngine
from rag.filters import Filters
from rag.lexical import LexicalIndex
from rag.store import ArticleRecord, ChunkStore


class NewsRAG:
    """Question answering over news articles.

    >>> rag = NewsRAG(index_dir="/tmp/my-index")      # doctest: +SKIP
    >>> report = rag.ingest("data/articles")           # doctest: +SKIP
    >>> answer = rag.ask("What are Putin's peace conditions?")  # doctest: +SKIP
    >>> answer.text, answer.citations[0].title                   # doctest: +SKIP
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        offline_environment()
        self.settings = settings.model_copy(update=overrides) if settings else load_settings(**overrides)
        # One writer at a time per process; readers never block.
        self._write_lock = threading.Lock()
        self._repaired = False

    def __repr__(self) -> str:
        where = (
            f"chroma={self.settings.chroma_host}:{self.settings.chroma_port}"
            if self.settings.chroma_host
            else f"index_dir={str(self.settings.index_dir)!r}"
        )
        return f"NewsRAG({where}, embedder={self.settings.embedder!r})"

    # ----- components, built on first use
    @cached_property
    def embedder(self) -> BaseEmbedding:
        return build_embedder(self.settings)

    @cached_property
    def store(self) -> ChunkStore:
        store = ChunkStore(self.settings, embedder_id(self.settings))
        # A writer that died leaves the collection dirty: drop its half-written versions now.
        if store.state().get("dirty"):
            with self._write_lock:
                store.begin_write()
                store.repair()
                store.end_write()
        return store

    @cached_property
    def lexical(self) -> LexicalIndex:
        return LexicalIndex(self.store, self.settings.lexical_path)

    @cached_property
    def answerer(self) -> Answerer:
        from rag.retrieve import Retriever

        llm_engine = None
        if self.settings.llm_configured and self.settings.engine != "extractive":
            from rag.llm import LLMEngine, build_llm

            llm_engine = LLMEngine(build_llm(self.settings))
        retriever = Retriever(self.store, self.lexical, self.embedder)
        return Answerer(
            self.settings, retriever, ExtractiveEngine(self.embedder, self.settings.min_relevance), llm_engine
        )

    # ----- questions
    def ask(
        self,
        question: str,
        *,
        engine: str | None = None,
        top_k: int | None = None,
        history: History | None = None,
        **filters: Any,
    ) -> Answer:
        """Answer a question from the indexed articles, with verified citations.

        ``filters``: ``sources=[...]``, ``since="2025-08-01"``, ``until=...``, ``article_ids=[...]``.
        Raises :class:`rag.answering.QuestionError` for an empty or over-long question.
        """
        return self.answerer.ask(question, engine=engine, top_k=top_k, filters=Filters(**filters), history=history)

    def stream(
        self,
        question: str,
        *,
        engine: str | None = None,
        top_k: int | None = None,
        history: History | None = None,
        **filters: Any,
    ) -> Iterator[str | Answer]:
        """Like :meth:`ask`, streaming: yields text deltas, then the final checked :class:`Answer`."""
        return self.answerer.stream(question, engine=engine, top_k=top_k, filters=Filters(**filters), history=history)

    def chat(self, **defaults: Any) -> Chat:
        """A multi-turn conversation: ``chat.ask(...)`` remembers earlier turns."""
        return Chat(self, defaults)

    # ----- ingest and the article list
    def ingest(self, *sources: str | Path, prune: bool = False, progress: Any = None) -> Any:
        """Index files, folders, article URLs or feed URLs; returns an :class:`IngestReport`."""
        from ingest.pipeline import Ingestor

        with self._write_lock:
            report = Ingestor(self.settings, self.store, self.embedder, progress=progress).run(
                _flatten(sources), prune=prune
            )
        self.lexical.ensure_fresh(force=True)
        return report

    def articles(self) -> list[ArticleRecord]:
        """Every indexed article, newest first (undated last)."""
        records = list(self.store.articles().values())
        return sorted(records, key=lambda r: (r.published_at or "", r.ingested_at), reverse=True)

    def forget(self, id_or_url: str) -> ArticleRecord | None:
        """Remove one article by id, URL or source file; returns what was removed, or None."""
        from ingest.article import normalise_url

        wanted = id_or_url.strip()
        for record in self.store.articles().values():
            if wanted in (record.article_id, record.origin) or (
                record.url and normalise_url(record.url) == normalise_url(wanted)
            ):
                with self._write_lock:
                    self.store.begin_write()
                    try:
                        self.store.delete_article(record.article_id)
                    finally:
                        self.store.end_write()
                self.lexical.ensure_fresh(force=True)
                return record
        return None

    def status(self, count_articles: bool = True) -> dict[str, Any]:
        """What the index holds and what builds it, for status lines and health checks."""
        return {
            "embedder": embedder_id(self.settings),
            "chunks": self.store.count(),
            "articles": len(self.store.articles()) if count_articles else None,
            "store": f"chroma server {self.settings.chroma_host}:{self.settings.chroma_port}"
            if self.settings.chroma_host
            else f"embedded chroma in {self.settings.chroma_path}",
        }


class Chat:
    """A conversation with :class:`NewsRAG`; follow-up questions are resolved against earlier turns."""

    def __init__(self, rag: NewsRAG, defaults: dict[str, Any]) -> None:
        self.rag, self.defaults = rag, defaults
        self.history: History = []

    def ask(self, question: str, **kwargs: Any) -> Answer:
        answer = self.rag.ask(question, history=list(self.history), **(self.defaults | kwargs))
        self.history += [("user", question), ("assistant", answer.text)]
        return answer

    def reset(self) -> None:
        self.history.clear()


def _flatten(sources: Iterable[Any]) -> list[str | Path]:
    flat: list[str | Path] = []
    for source in sources:
        if isinstance(source, list | tuple):
            flat.extend(source)
        else:
            flat.append(source)
    return flat
