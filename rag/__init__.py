"""newsrag: question answering over news articles, with verified numbered citations.

The public API::

    from rag import NewsRAG
    newsrag = NewsRAG()                    # settings from NEWSRAG_* variables and .env
    newsrag.ingest("data/articles")
    answer = newsrag.ask("What are Putin's peace conditions?")
    answers = await asyncio.gather(*(newsrag.aask(q) for q in questions))   # in async code and notebooks
    frame = newsrag.ask_many(questions)    # a pandas DataFrame, one row per question

The package is layered, lowest first (an import-linter contract in ``make test`` keeps it so):
``rag.core`` (types, settings, errors) → ``rag.index`` → ``ingest`` → ``rag.answering`` →
``rag.service`` (``NewsRAG``) → the front-ends ``rag.server``, ``rag.ui`` and ``rag.cli`` → ``evals``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.core.lazy import lazy_names

if TYPE_CHECKING:
    from ingest.article import IngestReport, Outcome
    from rag.answering.answerer import QuestionError
    from rag.answering.response import Response
    from rag.core.errors import NewsRAGError, OptionError
    from rag.core.options import Engine, RetrievalMode
    from rag.core.settings import Settings, load_settings
    from rag.core.types import Answer, AnswerCandidate, Citation, Passage
    from rag.index.filters import Filters
    from rag.index.store import ArticleRecord, StoreError
    from rag.service.aio import AsyncResponse
    from rag.service.newsrag import Chat, NewsRAG
    from rag.service.retrieval import NewsRAGRetriever

# Imported on first use (rag.core.lazy), so that the CLI starts without LlamaIndex and chromadb.
_HOMES = {
    "Answer": "rag.core.types",
    "AnswerCandidate": "rag.core.types",
    "ArticleRecord": "rag.index.store",
    "AsyncResponse": "rag.service.aio",
    "Chat": "rag.service.newsrag",
    "Citation": "rag.core.types",
    "Engine": "rag.core.options",
    "Filters": "rag.index.filters",
    "IngestReport": "ingest.article",
    "NewsRAG": "rag.service.newsrag",
    "NewsRAGError": "rag.core.errors",
    "NewsRAGRetriever": "rag.service.retrieval",
    "OptionError": "rag.core.errors",
    "Outcome": "ingest.article",
    "Passage": "rag.core.types",
    "QuestionError": "rag.answering.answerer",
    "Response": "rag.answering.response",
    "RetrievalMode": "rag.core.options",
    "Settings": "rag.core.settings",
    "StoreError": "rag.index.store",
    "load_settings": "rag.core.settings",
}
__all__ = [
    "Answer",
    "AnswerCandidate",
    "ArticleRecord",
    "AsyncResponse",
    "Chat",
    "Citation",
    "Engine",
    "Filters",
    "IngestReport",
    "NewsRAG",
    "NewsRAGError",
    "NewsRAGRetriever",
    "OptionError",
    "Outcome",
    "Passage",
    "QuestionError",
    "Response",
    "RetrievalMode",
    "Settings",
    "StoreError",
    "load_settings",
]  # the names of _HOMES, spelled out for linters


__getattr__ = lazy_names("rag", _HOMES)
