"""The service: one object wires settings, embedder, store, lexical index and engines once.

The CLI, the Gradio app and the HTTP API are thin layers over :class:`NewsRAG`; it is the one place
that asks, ingests and keeps the question log.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import LLM

from ingest.article import IngestReport, normalise_url
from ingest.feed_list import Feed, FeedList
from ingest.fetch_policy import TRUSTED, FetchPolicy
from ingest.files import Loaded
from ingest.follow import FeedReport, follow_due
from ingest.pipeline import Ingestor
from ingest.web import is_url
from rag.answering.answerer import Answerer, History
from rag.answering.candidates import commonness_from
from rag.answering.extractive import ExtractiveEngine
from rag.answering.llm import LLMEngine, build_llm
from rag.answering.response import Response
from rag.core.options import Engine
from rag.core.settings import Settings, load_settings, offline_environment
from rag.core.types import Answer
from rag.index.catalog import ArticleCatalog, ArticleView, CatalogPage, Selection, SortKey
from rag.index.embedder import build_embedder, embedder_id
from rag.index.filters import Filters
from rag.index.lexical import LexicalIndex
from rag.index.retrieve import Retriever
from rag.index.store import ArticleRecord, ChunkStore
from rag.service.aio import AsyncResponse
from rag.service.history import HistoryLog


class NewsRAG:
    """Question answering over news articles.

    >>> newsrag = NewsRAG(index_dir="/tmp/my-index")      # doctest: +SKIP
    >>> report = newsrag.ingest("data/articles")           # doctest: +SKIP
    >>> answer = newsrag.ask("What are Putin's peace conditions?")  # doctest: +SKIP
    >>> answer.text, answer.citations[0].title                   # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedding: BaseEmbedding | None = None,
        llm: LLM | None = None,
        store: ChunkStore | None = None,
        **overrides: Any,
    ) -> None:
        """Settings from ``settings`` or the environment, ``overrides`` on top (``index_dir=...``).

        ``embedding`` (a LlamaIndex ``BaseEmbedding``), ``llm`` (a LlamaIndex ``LLM``) and ``store`` replace
        the components the settings would build: a notebook can bring its own embedding model or LLM, and
        unit tests of pure logic can pass fakes. (``embedder="openai"`` is still the setting's name.)
        """
        offline_environment()
        self.settings = settings.model_copy(update=overrides) if settings else load_settings(**overrides)
        given = {"embedder": embedding, "store": store, "_llm": llm}
        self.__dict__.update({name: value for name, value in given.items() if value is not None})
        # One writer at a time per process; readers never block.
        self._write_lock = threading.Lock()
        self._build_lock = threading.Lock()  # aask and astream build the components in worker threads
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
    def _llm(self) -> LLM | None:
        if self.settings.llm_configured and self.settings.engine != Engine.extractive:
            return build_llm(self.settings)
        return None

    @cached_property
    def catalog(self) -> ArticleCatalog:
        """The article list for search, sort and paging (a cache of the store's, per generation)."""
        return ArticleCatalog(self.store, self.settings.catalog_path)

    @cached_property
    def answerer(self) -> Answerer:
        retriever = Retriever(self.store, self.lexical, self.embedder)
        llm_engine = LLMEngine(self._llm) if self._llm is not None else None
        extractive = ExtractiveEngine(
            self.embedder,
            self.settings.min_relevance,
            commonness_from(self.lexical.document_frequency),
            self.settings.short_answer_confidence,
        )
        return Answerer(self.settings, retriever, extractive, llm_engine)

    @cached_property
    def history(self) -> HistoryLog:
        """The question log (``index_dir/history.sqlite``): the app and ``/v1`` record each answer in it."""
        return HistoryLog(self.settings.history_path, enabled=self.settings.log)

    # ----- questions
    def ask(
        self,
        question: str,
        *,
        engine: Engine | str | None = None,
        top_k: int | None = None,
        history: History | None = None,
        **filters: Any,
    ) -> Answer:
        """Answer a question from the indexed articles, with verified citations.

        ``engine``: ``auto``, ``llm`` or ``extractive`` (default: the settings'); anything else raises
        :class:`~rag.core.errors.OptionError`. ``filters``: ``sources=[...]``, ``since="2025-08-01"``,
        ``until=...``, ``article_ids=[...]``. Raises :class:`QuestionError` for an empty or over-long question.
        """
        return self.stream(question, engine=engine, top_k=top_k, history=history, **filters).answer

    def stream(
        self,
        question: str,
        *,
        engine: Engine | str | None = None,
        top_k: int | None = None,
        history: History | None = None,
        **filters: Any,
    ) -> Response:
        """Like :meth:`ask`, streaming: iterate the :class:`Response` for text deltas, then read ``.answer``.

        The question, engine and filters are checked before this returns, so their errors come first.
        """
        engine = Engine.parse(engine, "engine")
        return self.answerer.stream(question, engine=engine, top_k=top_k, filters=Filters(**filters), history=history)

    async def aask(
        self,
        question: str,
        *,
        engine: Engine | str | None = None,
        top_k: int | None = None,
        history: History | None = None,
        **filters: Any,
    ) -> Answer:
        """:meth:`ask` for ``await``: the answer is worked out in a worker thread, so the event loop stays free.

        ``await asyncio.gather(*(newsrag.aask(q) for q in questions))`` asks several at once. Same options and
        errors as :meth:`ask`.
        """
        options = {"engine": engine, "top_k": top_k, "history": history} | filters
        return await asyncio.to_thread(self._ask_when_ready, question, options)

    def astream(
        self,
        question: str,
        *,
        engine: Engine | str | None = None,
        top_k: int | None = None,
        history: History | None = None,
        **filters: Any,
    ) -> AsyncResponse:
        """:meth:`stream` for ``async for``: iterate for text deltas, then read ``.answer`` (or ``await .final()``).

        The question and options are checked when iteration starts, before any text.
        """
        options = {"engine": engine, "top_k": top_k, "history": history} | filters
        return AsyncResponse(lambda: self._ready().stream(question, **options))

    def ask_many(self, questions: Iterable[str], **options: Any) -> Any:
        """Ask each question in turn; a pandas DataFrame with one row per question, for analysis in a notebook.

        Columns: ``question``, ``answer`` (the text), ``refused``, ``citations`` (how many) and ``latency_ms``
        (the answer's total time). ``options`` as for :meth:`ask`, for every question.
        """
        import pandas as pd  # only notebooks need it, and it is slow to import

        rows = []
        for question in questions:
            answer = self.ask(question, **options)
            rows.append(
                {
                    "question": question,
                    "answer": answer.text,
                    "refused": answer.refused,
                    "citations": len(answer.citations),
                    "latency_ms": answer.timings.get("total_ms"),
                }
            )
        return pd.DataFrame(rows, columns=["question", "answer", "refused", "citations", "latency_ms"])

    def _ready(self) -> NewsRAG:
        """Build the components once, under a lock: concurrent first questions must not open the store twice."""
        with self._build_lock:
            self.answerer  # noqa: B018 - a cached_property: building it builds the embedder, store and index
        return self

    def _ask_when_ready(self, question: str, options: dict[str, Any]) -> Answer:
        return self._ready().ask(question, **options)

    def chat(self, **defaults: Any) -> Chat:
        """A multi-turn conversation: ``chat.ask(...)`` remembers earlier turns."""
        return Chat(self, defaults)

    # ----- ingest and the article list
    def ingest(
        self, *sources: str | Path, prune: bool = False, progress: Any = None, for_visitor: bool = False
    ) -> IngestReport:
        """Index files, folders, article URLs or feed URLs; returns an :class:`IngestReport`.

        ``for_visitor=True`` is for what a web visitor asked for (the app): URLs are then fetched only from
        public addresses and those in ``fetch_allow``, and not at all when ``app_url_ingest`` is off. The owner
        (the CLI, this Python API) may fetch any address. URLs are fetched before the write lock is taken.
        """
        settings = self.settings
        policy = FetchPolicy.for_visitors(settings.fetch_allow, settings.app_url_ingest) if for_visitor else TRUSTED
        ingestor = Ingestor(settings, self.store, self.embedder, progress=progress, policy=policy)
        report = ingestor.run(_flatten(sources), prune=prune, write_lock=self._write_lock)
        self.lexical.ensure_fresh(force=True)
        return report

    def articles(self) -> list[ArticleRecord]:
        """Every indexed article, newest first (undated last)."""
        records = list(self.store.articles().values())
        return sorted(records, key=lambda r: (r.published_at or "", r.ingested_at), reverse=True)

    def articles_page(
        self,
        selection: Selection | None = None,
        *,
        sort: SortKey | str = SortKey.date,
        descending: bool = True,
        offset: int = 0,
        limit: int = 25,
    ) -> CatalogPage:
        """One page of the indexed articles matching ``selection`` (text, source, date range), sorted.

        Never the whole list: a page is at most ``rag.index.catalog.MAX_PAGE`` articles; ``total`` counts them all.
        """
        return self.catalog.page(selection, sort=sort, descending=descending, offset=offset, limit=limit)

    def article(self, article_id: str) -> ArticleView | None:
        """One indexed article with its chunks and cleaned text, or None."""
        return self.catalog.view(article_id)

    def forget(self, id_or_url: str) -> ArticleRecord | None:
        """Remove one article by id, URL or source file; returns what was removed, or None."""
        wanted = id_or_url.strip()
        record = self.catalog.find(wanted, same_url=lambda url: normalise_url(url) == normalise_url(wanted))
        if record is None:
            return None
        self._delete([record.article_id])
        return record

    def forget_selected(self, selection: Selection) -> list[ArticleRecord]:
        """Remove every article ``selection`` matches (a source, a date range); returns what was removed.

        An empty selection matches everything and is refused: clearing the whole index takes a new index folder.
        """
        if selection == Selection():
            raise ValueError("name a source or a date range to delete articles in bulk")
        records = self.catalog.selected(selection)
        self._delete([r.article_id for r in records])
        return records

    def _delete(self, article_ids: list[str]) -> None:
        if not article_ids:
            return
        with self._write_lock:
            self.store.begin_write()
            deleted = False
            try:
                self.store.delete_articles(article_ids)
                deleted = True
            finally:
                self.store.end_write(dirty=not deleted)  # a failed delete may leave part: the next writer repairs
        self.catalog.drop(article_ids)  # gone from the list at once, even while a large catalog is rebuilt
        self.lexical.ensure_fresh(force=True)

    # ----- followed feeds
    @cached_property
    def _feed_list(self) -> FeedList:
        return FeedList(self.settings.feeds_path)

    def feeds(self) -> list[Feed]:
        """The followed feeds, oldest first, with what the follower last found (status, note, next poll)."""
        return self._feed_list.all()

    def add_feed(self, url: str, interval: float | None = None) -> Feed:
        """Follow an RSS/Atom feed: polled every ``interval`` seconds (default ``feed_interval``), first at once.

        Raises ValueError for what is not an http(s) URL. The follower (``newsrag follow``, or inside
        ``newsrag serve``) fetches only public addresses and those in ``fetch_allow``.
        """
        wanted = url.strip()
        if not is_url(wanted) or any(c.isspace() for c in wanted):
            raise ValueError(f"not a feed URL: {wanted[:200]!r} (give an http:// or https:// address)")
        every = self.settings.feed_interval if interval is None else interval
        if every <= 0:
            raise ValueError(f"the interval must be positive, not {every}")
        return self._feed_list.add(wanted, every)

    def remove_feed(self, url: str) -> bool:
        """Stop following ``url``; its articles stay indexed (``forget`` removes them). False if not followed."""
        return self._feed_list.remove(url.strip())

    def poll_feeds(self, url: str | None = None) -> list[FeedReport]:
        """Poll the feeds that are due (or just ``url``, due or not) and ingest their new and changed entries."""
        policy = FetchPolicy.for_visitors(self.settings.fetch_allow)
        reports = follow_due(self._feed_list, self.settings, policy, self._ingest_fetched, only=url)
        return reports

    def _ingest_fetched(self, origin: str, loaded: list[Loaded]) -> IngestReport:
        ingestor = Ingestor(self.settings, self.store, self.embedder)
        report = ingestor.run_fetched(origin, loaded, write_lock=self._write_lock)
        self.lexical.ensure_fresh(force=True)
        return report

    def status(self, count_articles: bool = True) -> dict[str, Any]:
        """What the index holds and what builds it, for status lines and health checks."""
        return {
            "embedder": embedder_id(self.settings),
            "chunks": self.store.count(),
            "articles": self.catalog.count() if count_articles else None,
            "store": f"chroma server {self.settings.chroma_host}:{self.settings.chroma_port}"
            if self.settings.chroma_host
            else f"embedded chroma in {self.settings.chroma_path}",
        }


class Chat:
    """A conversation with :class:`NewsRAG`; follow-up questions are resolved against earlier turns."""

    def __init__(self, newsrag: NewsRAG, defaults: dict[str, Any]) -> None:
        self.newsrag, self.defaults = newsrag, defaults
        self.history: History = []

    def ask(self, question: str, **kwargs: Any) -> Answer:
        answer = self.newsrag.ask(question, history=list(self.history), **(self.defaults | kwargs))
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
