"""newsrag: question answering over news articles, with verified numbered citations.

The public API::

    from rag import NewsRAG
    rag = NewsRAG()                      # settings from NEWSRAG_* variables and .env
    rag.ingest("data/articles")
    answer = rag.ask("What are Putin's peace conditions?")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_names

if TYPE_CHECKING:
    from ingest.article import IngestReport, Outcome
    from rag.answer import Answer, Citation, Passage
    from rag.answering import QuestionError
    from rag.api import Chat, NewsRAG
    from rag.config import Settings, load_settings
    from rag.filters import Filters
    from rag.store import ArticleRecord, StoreError

# Imported on first use (rag.lazy), so that the CLI starts without LlamaIndex and chromadb.
_HOMES = {
    "Answer": "rag.answer",
    "ArticleRecord": "rag.store",
    "Chat": "rag.api",
    "Citation": "rag.answer",
    "Filters": "rag.filters",
    "IngestReport": "ingest.article",
    "NewsRAG": "rag.api",
    "Outcome": "ingest.article",
    "Passage": "rag.answer",
    "QuestionError": "rag.answering",
    "Settings": "rag.config",
    "StoreError": "rag.store",
    "load_settings": "rag.config",
}
__all__ = [
    "Answer",
    "ArticleRecord",
    "Chat",
    "Citation",
    "Filters",
    "IngestReport",
    "NewsRAG",
    "Outcome",
    "Passage",
    "QuestionError",
    "Settings",
    "StoreError",
    "load_settings",
]  # the names of _HOMES, spelled out for linters


__getattr__ = lazy_names("rag", _HOMES)
