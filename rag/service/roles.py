"""Who manages the archive: the owner deletes articles and follows feeds; other visitors ask, rate and add articles.

The CLI and the Python API are run by the owner and always manage. In the app, a logged-in user named in
``NEWSRAG_ADMINS`` manages; ``*`` there makes every visitor an owner (with or without a login). Without a
login nobody on the web manages unless ``admins`` is ``*``: an anonymous visitor cannot be told apart from
any other. Every front-end asks :func:`manages` in the handler that changes the archive, so that the Gradio
API (which calls the same handlers as the page) is refused as the page is.
"""

from __future__ import annotations

from rag.core.settings import Settings

EVERY_VISITOR = "*"
OWNER = ""  # who the CLI and the Python API act as, in the feed list's "added by" column
ANONYMOUS = "*"  # a web visitor without a login, managing because admins is "*"
ADMINS_HINT = "the server's owner can name your login in NEWSRAG_ADMINS, or do it with the `newsrag` command"
DELETE_REFUSED = f"Deleting articles is for the archive's owner: {ADMINS_HINT} (`newsrag forget`)."
FEEDS_REFUSED = f"Following and unfollowing feeds is for the archive's owner: {ADMINS_HINT} (`newsrag feeds`)."


def admins(settings: Settings) -> frozenset[str]:
    """The logins named in ``admins`` (``*`` kept as is)."""
    return frozenset(name.strip() for name in settings.admins.split(",") if name.strip())


def manages(user: str | None, settings: Settings) -> bool:
    """Whether a web visitor logged in as ``user`` (None: no login) manages the archive."""
    named = admins(settings)
    return EVERY_VISITOR in named or (bool(user) and user in named)


def web_owner(user: str | None) -> str:
    """Whose feeds a managing web visitor adds, for the per-login count: their login, or every anonymous one."""
    return f"user:{user}" if user else ANONYMOUS
