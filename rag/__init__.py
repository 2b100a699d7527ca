"""newsrag: question answering over news articles, with verified numbered citations.

The public API::

    from rag import NewsRAG
    rag = NewsRAG()                      # settings from NEWSRAG_* variables and .env
    rag.ingest("data/articles")
    answer = rag.ask("What are Putin's peace conditions?")
"""

from ingest.article import IngestReport, Outcome
from rag.answer import Answer, Citation, Passage
from rag.answering import QuestionError
from rag.api import Chat, NewsRAG
from rag.config import Settings, load_settings
from rag.filters import Filters
from rag.store import ArticleRecord, StoreError

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
]
