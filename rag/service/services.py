"""What the web front-ends share, built once per process: the one :class:`NewsRAG`, its question log, the logins."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property

from rag.core.settings import Settings
from rag.service.feedback_tokens import FeedbackTokens
from rag.service.history import HistoryLog
from rag.service.newsrag import NewsRAG
from rag.service.turns import Turns


@dataclass
class Services:
    """The server's NewsRAG, the question log it answers into, and the logins every entry point asks for."""

    newsrag: NewsRAG
    auth: dict[str, str] | None  # user -> password; None: no login

    @property
    def settings(self) -> Settings:
        return self.newsrag.settings

    @cached_property
    def history(self) -> HistoryLog:
        """The question log (``index_dir/history.sqlite``): the app and ``/v1`` record each answer in it."""
        return HistoryLog(self.settings.history_path, enabled=self.settings.log)

    @cached_property
    def turns(self) -> Turns:
        """How the front-ends ask: each answer is logged as a turn, with who asked and its timing."""
        return Turns(self.newsrag, self.history)

    @cached_property
    def tokens(self) -> FeedbackTokens:
        """The per-answer tokens that let a caller without a login rate its own answers, and only those."""
        return FeedbackTokens(self.settings.index_dir)

    def login(self, user: str, password: str) -> bool:
        """Whether ``user`` and ``password`` are one of the logins; compares with every one, in constant time."""
        matched = False
        for name, expected in (self.auth or {}).items():
            matched |= _same(user, name) & _same(password, expected)
        return matched

    def user_with_password(self, password: str) -> str | None:
        """The user a bearer token (their password) names; compares with every password, in constant time."""
        found = None
        for name, expected in (self.auth or {}).items():
            if _same(password, expected):
                found = name
        return found


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


def parse_auth(settings: Settings) -> dict[str, str] | None:
    """``NEWSRAG_AUTH=alice:pw1,bob:pw2`` as {user: password}; None when unset.

    A password may hold ':' (the first one ends the user) but not ',' (it ends the login). Passwords
    must differ between users, as a /v1 Bearer token is a password alone and must name one user.
    Errors name the faulty entry by position, never echoing a password.
    """
    if settings.auth is None or not settings.auth.get_secret_value().strip():
        return None
    entries = settings.auth.get_secret_value().split(",")
    logins: dict[str, str] = {}
    for number, entry in enumerate(entries, 1):
        user, sep, password = entry.strip().partition(":")
        where = f"entry {number} of {len(entries)}"
        if not sep or not user or not password:
            raise ValueError(
                f"NEWSRAG_AUTH must be user:password, or several separated by commas (alice:pw1,bob:pw2); {where}"
                " is not (a password may contain ':' but not ',')"
            )
        if user in logins:
            raise ValueError(f"NEWSRAG_AUTH names the user {user!r} twice ({where})")
        if password in logins.values():
            raise ValueError(
                f"NEWSRAG_AUTH gives {user!r} ({where}) the password of another user: each needs their own,"
                " as a /v1 Bearer token is the password and must name one user"
            )
        logins[user] = password
    return logins


def build_services(settings: Settings) -> Services:
    """The one NewsRAG of this process, opened and warmed up so the first question is quick."""
    auth = parse_auth(settings)  # first: a malformed login fails at once, before the slow start
    newsrag = NewsRAG(settings)
    answerer = newsrag.components.ready()  # opens the store now: a wrong setting fails here, not at the first question
    answerer.retriever.retrieve("warm up", 1, None, settings.retrieval)
    answerer.extractive.warm()
    newsrag.catalog.warm()  # the article list is ready too, if small (built once per index generation, kept on disk)
    return Services(newsrag=newsrag, auth=auth)
