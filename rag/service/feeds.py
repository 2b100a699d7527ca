"""The followed feeds: which RSS/Atom feeds the service follows, and polling them into the archive.

The list lives in ``index_dir/feeds.sqlite`` (``ingest/feed_list.py``); the follower (``rag/service/follower.py``)
polls it in the background, through :meth:`FollowedFeeds.poll`.
"""

from __future__ import annotations

from functools import cached_property

from ingest.feed_list import MAX_FEED_URL, Feed, FeedList
from ingest.fetch_policy import FetchPolicy
from ingest.follow import FeedReport, follow_due
from ingest.web import is_url
from rag.core.settings import Settings
from rag.service.archive import Archive
from rag.service.roles import OWNER


class FollowedFeeds:
    """Follow, list, stop following and poll feeds; what a poll brings is ingested through ``archive``."""

    def __init__(self, settings: Settings, archive: Archive) -> None:
        self.settings, self.archive = settings, archive

    @cached_property
    def _list(self) -> FeedList:
        return FeedList(self.settings.feeds_path)

    def all(self) -> list[Feed]:
        return self._list.all()

    def add(self, url: str, interval: float | None = None, added_by: str = OWNER) -> Feed:
        """Raises ValueError for what is not an http(s) URL (or is over 2,048 characters), an interval that is not
        positive, or past ``max_feeds_per_user`` feeds followed by ``added_by`` (the owner's, by default)."""
        wanted = url.strip()
        if len(wanted) > MAX_FEED_URL:
            raise ValueError(f"a feed URL is at most {MAX_FEED_URL:,} characters; this one has {len(wanted):,}")
        if not is_url(wanted) or any(c.isspace() for c in wanted):
            raise ValueError(f"not a feed URL: {wanted[:200]!r} (give an http:// or https:// address)")
        every = self.settings.feed_interval if interval is None else interval
        if every <= 0:
            raise ValueError(f"the interval must be positive, not {every}")
        return self._list.add(wanted, every, added_by=added_by, limit=self.settings.max_feeds_per_user)

    def remove(self, url: str) -> bool:
        return self._list.remove(url.strip())

    def poll(self, url: str | None = None) -> list[FeedReport]:
        """Feeds are fetched as for a visitor: public addresses only, and those in ``fetch_allow``."""
        policy = FetchPolicy.for_visitors(self.settings.fetch_allow)
        return follow_due(self._list, self.settings, policy, self.archive.ingest_fetched, only=url)
