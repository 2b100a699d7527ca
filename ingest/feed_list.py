"""The followed feeds and what the follower knows of each, in ``index_dir/feeds.sqlite``.

SQLite rather than a JSON file because two processes share it: ``newsrag feeds add`` writes the list while
``newsrag serve``'s follower writes each feed's poll state. Each feed keeps its validators (ETag,
Last-Modified) for conditional GETs, when it is next due, how many polls failed in a row (the backoff) and
why, and a fingerprint of every entry seen, so that only new and changed entries are fetched and ingested.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from pydantic import BaseModel

from rag.core.disk import disk_problem
from rag.core.sqlite import Database, Migration

log = logging.getLogger(__name__)

# Named, append-only (rag.core.sqlite). The first two say IF NOT EXISTS: a file written before migrations were
# recorded already holds both tables, and records them as applied when it is first opened.
MIGRATIONS: list[Migration] = [
    (
        "001_create_feeds",
        """
        CREATE TABLE IF NOT EXISTS feeds (
            url TEXT PRIMARY KEY,
            interval REAL NOT NULL,
            added_at REAL NOT NULL,
            etag TEXT NOT NULL DEFAULT '',
            last_modified TEXT NOT NULL DEFAULT '',
            next_poll_at REAL NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            last_polled_at REAL NOT NULL DEFAULT 0,
            last_ok_at REAL NOT NULL DEFAULT 0,
            last_status TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT ''
        )
        """,
    ),
    (
        "002_create_entries",
        """
        CREATE TABLE IF NOT EXISTS entries (
            feed_url TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            seen_at REAL NOT NULL,
            PRIMARY KEY (feed_url, key)
        )
        """,
    ),
    # Who added each feed, for the per-login cap; feeds of an older file were the owner's (the CLI's, '').
    ("003_add_feeds_added_by", "ALTER TABLE feeds ADD COLUMN added_by TEXT NOT NULL DEFAULT ''"),
]

MAX_FEED_URL = 2048  # characters: longer is no feed address, only a way to fill the list and every page showing it


class Feed(BaseModel):
    """One followed feed and its poll state."""

    url: str
    interval: float
    added_at: float
    etag: str = ""
    last_modified: str = ""
    next_poll_at: float = 0.0
    failures: int = 0
    last_polled_at: float = 0.0
    last_ok_at: float = 0.0
    last_status: str = ""  # new items, not modified, failed, ...
    note: str = ""  # the last error, or why entries were left out (a capped feed)
    added_by: str = ""  # who follows it: "" the owner (CLI, Python API), "user:<login>" or "*" in the app


class FeedList:
    """The followed feeds of one index folder; safe to use from several threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.database = Database(path, timeout=30)
        # Why the list cannot be used (a read-only or full folder): it then reads as empty and refuses changes.
        self.unavailable = ""
        try:
            self.database.migrate(MIGRATIONS)
        except (OSError, sqlite3.Error) as exc:
            problem = disk_problem(path, exc) or "cannot be opened"
            self.unavailable = f"the feed list {path} {problem} ({exc})"
            log.warning("%s: no feeds are followed", self.unavailable)

    def add(self, url: str, interval: float, *, added_by: str = "", limit: int | None = None) -> Feed:
        """Follow ``url`` (polled first at once); a feed already followed keeps its state, with the new interval.

        ``added_by`` may follow at most ``limit`` feeds (None: no cap). ValueError for a URL over
        :data:`MAX_FEED_URL` characters, past the cap, or when the list cannot be written."""
        if len(url) > MAX_FEED_URL:
            raise ValueError(f"a feed URL is at most {MAX_FEED_URL:,} characters; this one has {len(url):,}")
        if self.unavailable:
            raise ValueError(self.unavailable)
        with self.database.connect() as db:
            db.execute("BEGIN IMMEDIATE")  # counted and added in one lock: parallel adds cannot pass the cap together
            if limit is not None and db.execute("SELECT 1 FROM feeds WHERE url = ?", (url,)).fetchone() is None:
                (followed,) = db.execute("SELECT COUNT(*) FROM feeds WHERE added_by = ?", (added_by,)).fetchone()
                if followed >= limit:
                    raise ValueError(
                        f"at most {limit:,} feeds per login are followed (NEWSRAG_MAX_FEEDS_PER_USER);"
                        " stop following one first"
                    )
            db.execute(
                "INSERT INTO feeds (url, interval, added_at, added_by) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(url) DO UPDATE SET interval = excluded.interval",
                (url, interval, time.time(), added_by),
            )
        feed = self.get(url)
        assert feed is not None
        return feed

    def remove(self, url: str) -> bool:
        """Stop following ``url`` (its articles stay indexed); False when it was not followed."""
        if self.unavailable:
            return False
        with self.database.connect() as db:
            db.execute("DELETE FROM entries WHERE feed_url = ?", (url,))
            return db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount > 0

    def get(self, url: str) -> Feed | None:
        with self.database.connect() as db:
            row = db.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return Feed(**dict(row)) if row else None

    def all(self) -> list[Feed]:
        if self.unavailable:
            return []
        with self.database.connect() as db:
            rows = db.execute("SELECT * FROM feeds ORDER BY added_at").fetchall()
        return [Feed(**dict(r)) for r in rows]

    def due(self, now: float) -> list[Feed]:
        return [f for f in self.all() if f.next_poll_at <= now]

    def save(self, feed: Feed) -> None:
        """Write back a feed's poll state (unless it was removed meanwhile; its interval stays as the list has it)."""
        state = feed.model_dump(exclude={"url", "interval", "added_at", "added_by"})
        assignments = ", ".join(f"{name} = :{name}" for name in state)
        with self.database.connect() as db:
            db.execute(f"UPDATE feeds SET {assignments} WHERE url = :url", state | {"url": feed.url})  # noqa: S608

    def fingerprints(self, url: str) -> dict[str, str]:
        """The fingerprint of every entry of ``url`` ingested so far, by entry key."""
        with self.database.connect() as db:
            rows = db.execute("SELECT key, fingerprint FROM entries WHERE feed_url = ?", (url,)).fetchall()
        return {r["key"]: r["fingerprint"] for r in rows}

    def remember(self, url: str, entries: dict[str, str]) -> None:
        """Record entries of ``url`` as ingested, by key and fingerprint (only while the feed is followed)."""
        now = time.time()
        with self.database.connect() as db:
            if db.execute("SELECT 1 FROM feeds WHERE url = ?", (url,)).fetchone() is None:
                return
            db.executemany(
                "INSERT INTO entries (feed_url, key, fingerprint, seen_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(feed_url, key)"
                " DO UPDATE SET fingerprint = excluded.fingerprint, seen_at = excluded.seen_at",
                [(url, key, fingerprint, now) for key, fingerprint in entries.items()],
            )
