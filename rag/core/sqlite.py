"""The SQLite files beside the index (the feed list, the question log, the article catalog), opened one way.

Each call opens its own short-lived connection, runs as one transaction and closes it: safe from any server
thread, and from the other processes (``newsrag feeds add`` beside ``newsrag serve``) that share the file.

A schema grows by named, append-only migrations, recorded by name in a ``migrations`` table (as simonw/llm
records its own): each runs once, in order. Never edit or reorder one that has shipped; append a new one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rag.core.disk import PRIVATE_FILE

Migration = tuple[str, str]  # (name, one SQL statement)


class Database:
    """One SQLite file.

    ``schema`` (idempotent SQL) runs on every connection, for a file that is only a cache and may be deleted
    under a running app. ``memory_fallback``: where the file cannot be opened (a read-only folder), the data
    lives in memory for the life of the process instead. ``prepare`` runs before each connection (the question
    log makes its file owner-only there).
    """

    def __init__(
        self,
        path: Path,
        *,
        timeout: float,
        schema: str = "",
        memory_fallback: bool = False,
        prepare: Callable[[], None] | None = None,
    ) -> None:
        self.path, self.timeout, self.schema = Path(path), timeout, schema
        self.memory_fallback, self._prepare = memory_fallback, prepare
        self._memory: sqlite3.Connection | None = None

    @property
    def in_memory(self) -> bool:
        """Whether the file could not be opened and the data lives in memory instead."""
        return self._memory is not None

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection whose rows read by index and by name, as one transaction: committed when the block ends,
        rolled back when it raises, then closed."""
        db = self._memory or self._open()
        try:
            with db:
                yield db
        finally:
            if db is not self._memory:
                db.close()

    def _open(self) -> sqlite3.Connection:
        db = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
            if self._prepare is not None:
                self._prepare()
            db = sqlite3.connect(self.path, timeout=self.timeout)
            db.row_factory = sqlite3.Row
            if self.schema:
                db.executescript(self.schema)
            return db
        except (sqlite3.Error, OSError):
            if db is not None:
                db.close()
            if not self.memory_fallback:
                raise
            # Shared by every thread of this process; the owner serialises its use (a lock of its own).
            self._memory = sqlite3.connect(":memory:", check_same_thread=False)
            self._memory.row_factory = sqlite3.Row
            self._memory.executescript(self.schema)
            return self._memory

    def migrate(self, migrations: Sequence[Migration]) -> list[str]:
        """Apply the migrations not yet applied, in order; returns their names.

        A file that is up to date is only read, so that one in a read-only folder still opens.
        """
        if set(self.applied()) >= {name for name, _ in migrations}:
            return []
        applied: list[str] = []
        with self.connect() as db:
            db.isolation_level = None  # explicit transactions: each migration applies whole or not at all
            db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
            for name, sql in migrations:
                db.execute("BEGIN IMMEDIATE")  # checked inside the lock: another process may be migrating too
                try:
                    if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone() is None:
                        db.execute(sql)
                        db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, time.time()))
                        applied.append(name)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        return applied

    def applied(self) -> list[str]:
        """The names of the migrations applied so far, in the order they were; none in a file without the table."""
        with self.connect() as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'").fetchone():
                return [row["name"] for row in db.execute("SELECT name FROM migrations ORDER BY rowid")]
        return []


def _create_private(path: Path) -> None:
    """Create a new database file owner-only, whatever the umask: it holds visitors' questions, feeds, the catalog.

    SQLite gives its journal files the database file's mode, so they stay private too."""
    if path.exists():
        return
    with contextlib.suppress(FileExistsError):  # another thread or process made it meanwhile
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
