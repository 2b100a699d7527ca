"""Following feeds: poll each due feed with a conditional GET, fetch its new and changed entries, ingest them.

A feed is read like any URL a web visitor gives (``ingest/fetch_policy.py``): the follower runs unattended
and the app lets visitors add feeds, so it connects only to public addresses and those the owner allows
in ``NEWSRAG_FETCH_ALLOW``. Each poll has its own budget of time and bytes. A feed that fails (down, slow,
malformed, too large) is retried later, waiting twice as long after each failure in a row (up to
``feed_max_backoff``); the other feeds go on. Only the first ``max_feed_items`` entries of a feed are read,
and the feed's note says how many were left out. An entry is fetched again only when its fingerprint
(title, link, dates, summary) changed; one that could not be fetched is tried again at the next poll.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest.article import IngestReport
from ingest.feed_list import Feed, FeedList
from ingest.fetch_guard import FetchBudget
from ingest.fetch_policy import FetchPolicy
from ingest.files import Loaded
from ingest.records import BadInput
from ingest.web import FEED_FACTOR, entry_article, open_client, read_body, send

NOT_MODIFIED = 304
# Statuses after which an entry counts as ingested (not fetched again until it changes).
DONE = {"added", "updated", "unchanged", "duplicate"}


@dataclass
class Poll:
    """What one poll of one feed found: its new state, the articles to ingest, and their entries' fingerprints."""

    feed: Feed
    loaded: list[Loaded] = field(default_factory=list)
    fingerprints: dict[str, tuple[str, str]] = field(default_factory=dict)  # where -> (entry key, fingerprint)


@dataclass
class FeedReport:
    """One feed's poll, as the follower logs it and the CLI shows it."""

    url: str
    status: str
    note: str = ""
    ingest: IngestReport | None = None


def entry_key(entry: Any) -> str:
    return str(entry.get("id") or entry.get("link") or entry.get("title") or "")


def fingerprint(entry: Any) -> str:
    # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning.
    parts = [dict.get(entry, name) or "" for name in ("title", "link", "updated", "published", "summary")]
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def poll(feed: Feed, known: dict[str, str], settings: Any, policy: FetchPolicy, now: float) -> Poll:
    """Poll ``feed`` once; never raises for what the feed or the network does (the state says it)."""
    result = Poll(feed=feed.model_copy(update={"last_polled_at": now}))
    max_bytes = int(settings.max_article_mb * 1_000_000)
    budget = FetchBudget.for_request(settings)
    try:
        with open_client(policy, budget) as client:
            body = _conditional_get(client, result.feed, max_bytes * FEED_FACTOR, budget)
            if body is None:
                return _succeeded(result, "not modified", now)
            _read_entries(result, client, body, known, settings.max_feed_items, max_bytes, budget)
    except BadInput as exc:
        return _failed(result, str(exc), now, settings.feed_max_backoff)
    status = f"{len(result.loaded)} new or changed" if result.loaded else "no new entries"
    return _succeeded(result, status, now)


def _conditional_get(client: Any, feed: Feed, max_bytes: int, budget: FetchBudget) -> bytes | None:
    """The feed's body, or None when the server says it has not changed (HTTP 304); updates the validators."""
    headers = {}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    budget.start_fetch()
    try:
        response = send(client, feed.url, headers)
        try:
            if response.status_code == NOT_MODIFIED:
                return None
            body = read_body(response, feed.url, max_bytes, budget)
            feed.etag = response.headers.get("etag", "")
            feed.last_modified = response.headers.get("last-modified", "")
            return body
        finally:
            response.close()
    except Exception as exc:  # httpx's errors: connection refused, timeouts, a broken stream
        if isinstance(exc, BadInput):
            raise
        if "Timeout" in type(exc).__name__:
            raise BadInput(budget.timed_out(feed.url)) from exc
        raise BadInput(f"unreachable: {type(exc).__name__}: {exc}") from exc


def _read_entries(
    result: Poll, client: Any, body: bytes, known: dict[str, str], cap: int, max_bytes: int, budget: FetchBudget
) -> None:
    import feedparser

    parsed = feedparser.parse(body)
    entries = parsed.entries
    if not entries:
        raise BadInput(f"not a readable feed ({parsed.bozo_exception})" if parsed.bozo else "feed has no entries")
    result.feed.note = (
        f"the feed has {len(entries)} entries; only the first {cap} are read (NEWSRAG_MAX_FEED_ITEMS)"
        if len(entries) > cap
        else ""
    )
    for number, entry in enumerate(entries[:cap], start=1):
        key, mark = entry_key(entry), fingerprint(entry)
        if not key or known.get(key) == mark:
            continue
        if budget.exhausted():
            break  # the rest at the next poll
        where, loaded = entry_article(client, result.feed.url, number, entry, max_bytes, budget)
        result.loaded.append((where, loaded))
        result.fingerprints[where] = (key, mark)


def _succeeded(result: Poll, status: str, now: float) -> Poll:
    feed = result.feed
    feed.failures, feed.last_ok_at, feed.last_status = 0, now, status
    feed.next_poll_at = now + feed.interval
    return result


def _failed(result: Poll, reason: str, now: float, max_backoff: float) -> Poll:
    feed = result.feed
    feed.failures += 1
    feed.last_status, feed.note = "failed", reason
    feed.next_poll_at = now + min(feed.interval * 2 ** (feed.failures - 1), max(max_backoff, feed.interval))
    return result


Ingest = Callable[[str, list[Loaded]], IngestReport]


def follow_due(
    feeds: FeedList,
    settings: Any,
    policy: FetchPolicy,
    ingest: Ingest,
    now: float | None = None,
    only: str | None = None,
) -> list[FeedReport]:
    """Poll every feed that is due (or just ``only``, due or not) and ingest what each brought."""
    now = time.time() if now is None else now
    due = [f for f in feeds.all() if f.url == only] if only else feeds.due(now)
    reports = []
    for feed in due:
        result = poll(feed, feeds.fingerprints(feed.url), settings, policy, now)
        report = FeedReport(url=feed.url, status=result.feed.last_status, note=result.feed.note)
        if result.loaded:
            report.ingest = ingest(feed.url, result.loaded)
            done = {o.origin for o in report.ingest.outcomes if o.status in DONE}
            feeds.remember(feed.url, dict(v for where, v in result.fingerprints.items() if where in done))
        feeds.save(result.feed)
        reports.append(report)
    return reports
