"""The SQLite plumbing the feed list, the question log and the catalog share, and files written before it."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from ingest.feed_list import FeedList
from rag.core.sqlite import Database
from rag.service.history import MIGRATIONS, HistoryLog
from tests.test_history import _answer

# The feed list's schema as the code before migrations ran it at every open (ingest/feed_list.py at be4ade0).
FEEDS_BEFORE_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, interval REAL NOT NULL, added_at REAL NOT NULL, etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '', next_poll_at REAL NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0, last_polled_at REAL NOT NULL DEFAULT 0, last_ok_at REAL NOT NULL DEFAULT 0,
    last_status TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS entries (
    feed_url TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, seen_at REAL NOT NULL,
    PRIMARY KEY (feed_url, key)
);
"""
FEED = "https://news.example/feed.xml"


def test_a_feed_list_written_before_migrations_opens_and_works(tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite"
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(FEEDS_BEFORE_MIGRATIONS)
        db.execute(
            "INSERT INTO feeds (url, interval, added_at, etag, failures) VALUES (?, 600, 1.0, 'W/1', 2)", (FEED,)
        )
        db.execute("INSERT INTO entries VALUES (?, 'entry-1', 'abc', 1.0)", (FEED,))
    feeds = FeedList(path)
    assert not feeds.unavailable
    # Recorded, nothing lost; the old feeds are the owner's (who added them was not kept then).
    assert feeds.database.applied() == ["001_create_feeds", "002_create_entries", "003_add_feeds_added_by"]
    old = feeds.get(FEED)
    assert old is not None and (old.interval, old.etag, old.failures, old.added_by) == (600, "W/1", 2, "")
    assert feeds.fingerprints(FEED) == {"entry-1": "abc"}
    feeds.add("https://other.example/rss", 60)
    assert [f.url for f in FeedList(path).all()] == [FEED, "https://other.example/rss"]


def test_a_question_log_written_by_the_previous_code_opens_and_works(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with closing(sqlite3.connect(path)) as db, db:  # what HistoryLog.migrate wrote before rag.core.sqlite
        db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        for name, sql in MIGRATIONS:
            db.execute(sql)
            db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, 1.0)", (name,))
        db.execute(
            "INSERT INTO turns (conversation_id, created_at, channel, question, answer, engine, refused, citations,"
            " flags, notices, timings, scope) VALUES ('c', 1.0, 'ui', 'old?', 'old.', 'extractive', 0, '[]', '[]',"
            " '[]', '{}', 'user:a')"
        )
    log = HistoryLog(path)
    assert log.applied() == [name for name, _ in MIGRATIONS] and log.migrate() == []
    log.record(_answer("new?"), conversation_id="c", channel="ui", scope="user:a")
    assert [t.question for t in log.turns("c", scope="user:a")] == ["old?", "new?"]


def test_a_connection_is_one_transaction_with_named_rows(tmp_path: Path) -> None:
    database = Database(tmp_path / "deep" / "folder" / "x.sqlite", timeout=1, schema="CREATE TABLE IF NOT EXISTS t (v)")
    with database.connect() as db:
        db.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(ZeroDivisionError), database.connect() as db:
        db.execute("INSERT INTO t VALUES (2)")
        1 / 0  # noqa: B018
    with database.connect() as db:
        rows = db.execute("SELECT v FROM t").fetchall()
        assert [(r[0], r["v"]) for r in rows] == [(1, 1)]  # the failed block left nothing
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.execute("SELECT 1")  # each connection is closed after its block
    assert not database.in_memory


def test_where_the_file_cannot_be_opened_a_cache_lives_in_memory(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path / "a-file" / "x.sqlite"
    with pytest.raises(OSError), Database(path, timeout=1).connect():
        pass
    cache = Database(path, timeout=1, schema="CREATE TABLE IF NOT EXISTS t (v)", memory_fallback=True)
    with cache.connect() as db:
        db.execute("INSERT INTO t VALUES ('kept')")
    with cache.connect() as db:
        assert cache.in_memory and db.execute("SELECT v FROM t").fetchone()["v"] == "kept"


def test_an_up_to_date_file_is_only_read_when_migrated(tmp_path: Path) -> None:
    calls: list[str] = []
    database = Database(tmp_path / "x.sqlite", timeout=0.2, prepare=lambda: calls.append("prepared"))
    steps = [("001_t", "CREATE TABLE t (v)"), ("002_u", "CREATE TABLE u (v)")]
    assert database.migrate(steps[:1]) == ["001_t"] and database.migrate(steps) == ["002_u"]
    assert calls and set(calls) == {"prepared"}  # before every connection
    # Another process holds the write lock: a file that needs nothing opens all the same (a read-only folder too).
    with closing(sqlite3.connect(database.path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        assert database.migrate(steps) == []
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            database.migrate([*steps, ("003_v", "CREATE TABLE v (v)")])
        writer.execute("ROLLBACK")
    assert database.applied() == ["001_t", "002_u"]
