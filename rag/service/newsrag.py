"""The service: :class:`NewsRAG`, the one object users, the CLI, the Gradio app and the HTTP API talk to.

It is a façade over three parts, each in its own module and sharing one set of :class:`Components`:
asking (``asking.py``), the archive of indexed articles (``archive.py``) and the followed feeds (``feeds.py``).
Front-ends that keep a question log ask through ``turns.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Unpack

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import LLM

from ingest.article import IngestReport
from ingest.feed_list import Feed
from ingest.fetch_policy import TRUSTED, FetchPolicy
from ingest.follow import FeedReport
from rag.answering.answerer import History
from rag.answering.response import Response
from rag.core.settings import Settings, load_settings, offline_environment
from rag.core.types import Answer
from rag.index.catalog import ArticleCatalog, ArticleView, CatalogPage, Selection
from rag.index.lexical import LexicalIndex
from rag.index.store import ArticleRecord, ChunkStore
from rag.service.aio import AsyncResponse
from rag.service.archive import Archive, PageOptions
from rag.service.asking import Asking, AskOptions
from rag.service.components import Components
from rag.service.feeds import FollowedFeeds
from rag.service.roles import OWNER


class NewsRAG:
    """Question answering over news articles.

    >>> newsrag = NewsRAG(index_dir="/tmp/my-index")      # doctest: +SKIP
    >>> report = newsrag.ingest("data/articles")           # doctest: +SKIP
    >>> answer = newsrag.ask("What are Putin's peace conditions?")  # doctest: +SKIP
    >>> answer.text, answer.citations[0].title                   # doctest: +SKIP

    ``newsrag.components`` holds what it is built from (embedder, store, lexical index, catalog, LLM, answerer);
    ``store``, ``lexical`` and ``catalog`` are here too, for looking into the index.
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
        self.components = Components(self.settings, embedding=embedding, llm=llm, store=store)
        self._asking = Asking(self.components)
        self._archive = Archive(self.components)
        self._feeds = FollowedFeeds(self.settings, self._archive)

    def __repr__(self) -> str:
        where = (
            f"chroma={self.settings.chroma_host}:{self.settings.chroma_port}"
            if self.settings.chroma_host
            else f"index_dir={str(self.settings.index_dir)!r}"
        )
        return f"NewsRAG({where}, embedder={self.settings.embedder!r})"

    # ----- the index, for looking into it (each opened on first use)
    @property
    def store(self) -> ChunkStore:
        return self.components.store

    @property
    def lexical(self) -> LexicalIndex:
        return self.components.lexical

    @property
    def catalog(self) -> ArticleCatalog:
        return self.components.catalog

    # ----- questions
    def ask(self, question: str, **options: Unpack[AskOptions]) -> Answer:
        """Answer a question from the indexed articles, with verified citations.

        ``engine``: ``auto``, ``llm`` or ``extractive`` (default: the settings'); anything else raises
        :class:`~rag.core.errors.OptionError`. ``top_k``: passages to retrieve. ``history``: earlier
        (role, text) turns. Filters: ``sources=[...]``, ``since="2025-08-01"``, ``until=...``,
        ``article_ids=[...]``, ``as_of="2025-08-15"`` (ask as on that day: no later article is used, and "last week"
        means the week before it; default today); a bad one raises :class:`~rag.index.filters.FilterError`. Raises
        :class:`QuestionError` for an empty or over-long question. All three are ValueErrors and NewsRAGErrors.
        """
        return self._asking.ask(question, **options)

    def stream(self, question: str, **options: Unpack[AskOptions]) -> Response:
        """Like :meth:`ask`, streaming: iterate the :class:`Response` for text deltas, then read ``.answer``.

        The question, engine and filters are checked before this returns, so their errors come first.
        """
        return self._asking.stream(question, **options)

    async def aask(self, question: str, **options: Unpack[AskOptions]) -> Answer:
        """:meth:`ask` for ``await``: the answer is worked out in a worker thread, so the event loop stays free.

        ``await asyncio.gather(*(newsrag.aask(q) for q in questions))`` asks several at once. Same options and
        errors as :meth:`ask`.
        """
        return await self._asking.aask(question, **options)

    def astream(self, question: str, **options: Unpack[AskOptions]) -> AsyncResponse:
        """:meth:`stream` for ``async for``: iterate for text deltas, then read ``.answer`` (or ``await .final()``).

        The question and options are checked when iteration starts, before any text.
        """
        return self._asking.astream(question, **options)

    def ask_many(self, questions: Iterable[str], **options: Unpack[AskOptions]) -> Any:
        """Ask each question in turn; a pandas DataFrame with one row per question, for analysis in a notebook.

        Columns: ``question``, ``answer`` (the text), ``refused``, ``citations`` (how many) and ``latency_ms``
        (the answer's total time). ``options`` as for :meth:`ask`, for every question.
        """
        return self._asking.ask_many(questions, **options)

    def as_query_engine(self, llm: LLM | None = None, **options: Any) -> Any:
        """A LlamaIndex ``RetrieverQueryEngine`` over newsrag's hybrid retrieval (passages guarded against planted
        instructions): ``llm`` (default: newsrag's, else LlamaIndex's ``Settings.llm``) writes the answer; filters
        (``top_k``, ``sources``, ``since``, ``until``, ``as_of``) go to
        :class:`~rag.service.retrieval.NewsRAGRetriever`, the rest
        to ``RetrieverQueryEngine.from_args``."""
        from rag.service.retrieval import NewsRAGRetriever  # LlamaIndex's query engine only when one is asked for

        filters = {
            name: options.pop(name) for name in ("top_k", "sources", "since", "until", "as_of") if name in options
        }
        return NewsRAGRetriever(self, **filters).as_query_engine(llm=llm, **options)

    def chat(self, **defaults: Unpack[AskOptions]) -> Chat:
        """A multi-turn conversation: ``chat.ask(...)`` remembers earlier turns."""
        return Chat(self, defaults)

    # ----- ingest and the article list
    def ingest(
        self,
        *sources: str | Path,
        prune: bool = False,
        progress: Any = None,
        for_visitor: bool = False,
        reading: Any = None,
    ) -> IngestReport:
        """Index files, folders, article URLs or feed URLs; returns an :class:`IngestReport`.

        ``progress`` hears each article's :class:`~ingest.article.Outcome` as it is written (or not); ``reading``
        hears how far the file being read is, as an ``ingest.reading.Reading`` (origin, done, total or None,
        unit): "page 40 of 143" of a PDF, "message 340" of a mailbox, a few times a second at most.

        ``for_visitor=True`` is for what a web visitor asked for (the app): URLs are then fetched only from
        public addresses and those in ``fetch_allow``, and not at all when ``app_url_ingest`` is off. The owner
        (the CLI, this Python API) may fetch any address. URLs are fetched before the write lock is taken.
        """
        settings = self.settings
        policy = FetchPolicy.for_visitors(settings.fetch_allow, settings.app_url_ingest) if for_visitor else TRUSTED
        return self._archive.ingest(_flatten(sources), prune=prune, progress=progress, policy=policy, reading=reading)

    def articles(self) -> list[ArticleRecord]:
        """Every indexed article, newest first (undated last)."""
        return self._archive.articles()

    def articles_page(self, selection: Selection | None = None, **options: Unpack[PageOptions]) -> CatalogPage:
        """One page of the indexed articles matching ``selection`` (text, source, date range), sorted.

        ``sort`` (a ``SortKey``: date, added, title, source, chunks), ``descending`` (True), ``offset`` (0) and
        ``limit`` (25). Never the whole list: a page is at most ``rag.index.catalog.MAX_PAGE`` articles;
        ``total`` counts them all.
        """
        return self._archive.page(selection, **options)

    def article(self, article_id: str) -> ArticleView | None:
        """One indexed article with its chunks and cleaned text, or None."""
        return self._archive.article(article_id)

    def forget(self, id_or_url: str) -> ArticleRecord | None:
        """Remove one article by id, URL or source file; returns what was removed, or None."""
        return self._archive.forget(id_or_url)

    def forget_selected(self, selection: Selection) -> list[ArticleRecord]:
        """Remove every article ``selection`` matches (a source, a date range); returns what was removed.

        An empty selection matches everything and is refused: clearing the whole index takes a new index folder.
        """
        return self._archive.forget_selected(selection)

    def status(self, count_articles: bool = True) -> dict[str, Any]:
        """What the index holds and what builds it, for status lines and health checks."""
        return self._archive.status(count_articles)

    # ----- followed feeds
    def feeds(self) -> list[Feed]:
        """The followed feeds, oldest first, with what the follower last found (status, note, next poll)."""
        return self._feeds.all()

    def add_feed(self, url: str, interval: float | None = None, added_by: str = OWNER) -> Feed:
        """Follow an RSS/Atom feed: polled every ``interval`` seconds (default ``feed_interval``), first at once.

        ``added_by``: whose feed it is for the ``max_feeds_per_user`` cap (the owner's; the app passes the login).
        Raises ValueError for what is not an http(s) URL, a URL over 2,048 characters, or past the cap. The follower
        (``newsrag follow``, or inside ``newsrag serve``) fetches only public addresses and those in ``fetch_allow``.
        """
        return self._feeds.add(url, interval, added_by)

    def remove_feed(self, url: str) -> bool:
        """Stop following ``url``; its articles stay indexed (``forget`` removes them). False if not followed."""
        return self._feeds.remove(url)

    def poll_feeds(self, url: str | None = None) -> list[FeedReport]:
        """Poll the feeds that are due (or just ``url``, due or not) and ingest their new and changed entries."""
        return self._feeds.poll(url)


class Chat:
    """A conversation with :class:`NewsRAG`; follow-up questions are resolved against earlier turns."""

    def __init__(self, newsrag: NewsRAG, defaults: AskOptions) -> None:
        self.newsrag, self.defaults = newsrag, defaults
        self.history: History = []

    def ask(self, question: str, **options: Unpack[AskOptions]) -> Answer:
        answer = self.newsrag.ask(question, **(self.defaults | options | {"history": list(self.history)}))
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
