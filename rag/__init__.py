"""newsrag: question answering over news articles, with verified numbered citations.

The public API::

    from rag import NewsRAG
    rag = NewsRAG()                      # settings from NEWSRAG_* variables and .env
    rag.ingest("data/articles")
    answer = rag.ask("What are Putin's peace conditions?")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.article import IngestReport, Outcome
    from rag.answer import Answer, Citation, Passage
    from rag.answering import QuestionError
    from rag.api import Chat, NewsRAG
    from rag.config import Settings, load_settings
    from rag.filters import Filters
    from rag.store import ArticleRecord, StoreError

# Names are imported on first use (PEP 562): `rag.api` pulls in LlamaIndex and chromadb, which would cost every
# `newsrag` command, even `--help`, seconds before it could print a line.
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
