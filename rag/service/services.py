"""What the web front-ends share, built once per process: the one :class:`NewsRAG` and the login."""

from __future__ import annotations

from dataclasses import dataclass

from rag.core.settings import Settings
from rag.service.history import HistoryLog
from rag.service.newsrag import NewsRAG


@dataclass
class Services:
    """The server's NewsRAG (with its question log) and the login every entry point asks for."""

    newsrag: NewsRAG
    auth: tuple[str, str] | None  # (user, password)

    @property
    def settings(self) -> Settings:
        return self.newsrag.settings

    @property
    def history(self) -> HistoryLog:
        return self.newsrag.history


def parse_auth(settings: Settings) -> tuple[str, str] | None:
    """``NEWSRAG_AUTH=user:password`` as (user, password); None when unset."""
    if settings.auth is None or not settings.auth.get_secret_value():
        return None
    user, sep, password = settings.auth.get_secret_value().partition(":")
    if not sep or not user or not password:
        raise ValueError("NEWSRAG_AUTH must look like user:password")
    return user, password


def build_services(settings: Settings) -> Services:
    """The one NewsRAG of this process, opened and warmed up so the first question is quick."""
    newsrag = NewsRAG(settings)
    newsrag.store  # noqa: B018 - open now: a wrong setting fails here, not at the first question
    newsrag.answerer.retriever.retrieve("warm up", 1, None, settings.retrieval)
    return Services(newsrag=newsrag, auth=parse_auth(settings))
