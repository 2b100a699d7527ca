"""Every question and answer, logged to SQLite beside the index (``index_dir/history.sqlite``).

The schema grows by named, append-only migrations: each runs once, in order, and the ``migrations``
table records its name. Never edit or reorder one that has shipped; append a new one instead.

The log never stops a question from being answered: when it cannot be written or read (a read-only
folder, a full disk), the app logs a warning and carries on without it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from rag.core.disk import disk_problem
from rag.core.types import Answer, Citation

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[str, str]] = [
    (
        "001_create_turns",
        """
        CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            conversation_id TEXT NOT NULL,
            created_at REAL NOT NULL,
            user TEXT,
            channel TEXT NOT NULL,
            question TEXT NOT NULL,
            standalone_question TEXT NOT NULL DEFAULT '',
            answer TEXT NOT NULL,
            engine TEXT NOT NULL,
            refused INTEGER NOT NULL,
            citations TEXT NOT NULL,
            flags TEXT NOT NULL,
            notices TEXT NOT NULL,
            timings TEXT NOT NULL
        )
        """,
    ),
    ("002_index_turns_by_conversation", "CREATE INDEX turns_by_conversation ON turns (conversation_id, id)"),
]

_JSON_COLUMNS = ("citations", "flags", "notices", "timings")


def new_conversation_id() -> str:
    return uuid.uuid4().hex[:16]


class Turn(BaseModel):
    """One logged question and its answer."""

    id: int
    conversation_id: str
    created_at: float
    user: str | None = None
    channel: str  # "ui", "api" (Gradio API) or "openai" (/v1)
    question: str
    standalone_question: str = ""
    answer: str
    engine: str
    refused: bool
    citations: list[dict[str, Any]] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)

    def to_answer(self) -> Answer:
        """The logged answer as an :class:`Answer` again (without the uncited passages)."""
        return Answer(
            question=self.question,
            text=self.answer,
            engine=self.engine if self.engine in ("llm", "extractive") else "extractive",  # type: ignore[arg-type]
            citations=[Citation.model_validate(c) for c in self.citations],
            refused=self.refused,
            flags=self.flags,
            notices=self.notices,
            timings=self.timings,
            standalone_question=self.standalone_question,
        )


class Conversation(BaseModel):
    """A conversation as listed for reopening: when it started, its first question, how many turns."""

    conversation_id: str
    started_at: float
    updated_at: float
    user: str | None = None
    first_question: str
    turns: int

    def label(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.updated_at))
        plural = "s" if self.turns != 1 else ""
        return f"{when} · {self.first_question[:80]} ({self.turns} question{plural})"


class HistoryLog:
    """The question log; ``enabled=False`` (``NEWSRAG_LOG=off``) writes and returns nothing."""

    def __init__(self, path: Path, enabled: bool = True) -> None:
        self.path, self.enabled = Path(path), enabled
        if enabled:
            try:
                self.migrate()
            except (sqlite3.Error, OSError) as exc:
                self._warn("prepared", exc)

    def _warn(self, doing: str, exc: Exception) -> None:
        problem = disk_problem(self.path, exc)
        where = f"{self.path} {problem}" if problem else str(self.path)
        log.warning("the question log could not be %s (%s: %s); answering goes on without it", doing, where, exc)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per call: safe from any server thread.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def migrate(self, migrations: list[tuple[str, str]] = MIGRATIONS) -> list[str]:
        """Apply the migrations not yet applied, in order; returns their names."""
        applied: list[str] = []
        with self._connect() as db:
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
        with self._connect() as db:
            return [row["name"] for row in db.execute("SELECT name FROM migrations ORDER BY rowid")]

    def record(
        self,
        answer: Answer,
        *,
        conversation_id: str,
        channel: str,
        user: str | None = None,
        extra_timings: dict[str, float] | None = None,
    ) -> int | None:
        """Log one answered question; returns its row id (None when logging is off)."""
        if not self.enabled:
            return None
        citations = [c.model_dump(mode="json") for c in answer.citations]
        timings = answer.timings | (extra_timings or {})
        row = (
            conversation_id,
            time.time(),
            user,
            channel,
            answer.question,
            answer.standalone_question,
            answer.text,
            answer.engine,
            int(answer.refused),
            json.dumps(citations),
            json.dumps(answer.flags),
            json.dumps(answer.notices),
            json.dumps(timings),
        )
        try:
            with self._connect() as db:
                cursor = db.execute(
                    "INSERT INTO turns (conversation_id, created_at, user, channel, question, standalone_question,"
                    " answer, engine, refused, citations, flags, notices, timings)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                return cursor.lastrowid
        except (sqlite3.Error, OSError) as exc:
            self._warn("written", exc)
            return None

    def recent(self, limit: int = 20, user: str | None = None) -> list[Turn]:
        """The latest turns, newest first."""
        return self._turns("WHERE (? IS NULL OR user = ?) ORDER BY id DESC LIMIT ?", (user, user, limit))

    def turns(self, conversation_id: str) -> list[Turn]:
        """One conversation's turns, oldest first."""
        return self._turns("WHERE conversation_id = ? ORDER BY id", (conversation_id,))

    def conversations(self, limit: int = 50, user: str | None = None) -> list[Conversation]:
        """Conversations, most recently active first."""
        rows = self._select(
            "SELECT conversation_id, MIN(created_at) AS started_at, MAX(created_at) AS updated_at,"
            " MAX(user) AS user, COUNT(*) AS turns,"
            " (SELECT question FROM turns AS first WHERE first.conversation_id = t.conversation_id"
            "  ORDER BY id LIMIT 1) AS first_question"
            " FROM turns AS t WHERE (? IS NULL OR user = ?)"
            " GROUP BY conversation_id ORDER BY MAX(id) DESC LIMIT ?",
            (user, user, limit),
        )
        return [Conversation(**dict(row)) for row in rows]

    def continued(self, history: list[tuple[str, str]], user: str | None = None) -> str | None:
        """The conversation whose latest turn is the end of ``history`` (a client resending its turns)."""
        if not self.enabled:
            return None
        question = next((text for role, text in reversed(history) if role == "user"), None)
        answer = next((text for role, text in reversed(history) if role == "assistant"), None)
        if question is None or answer is None:
            return None
        rows = self._select(
            "SELECT conversation_id FROM turns WHERE question = ? AND answer = ? AND (? IS NULL OR user = ?)"
            " ORDER BY id DESC LIMIT 1",
            (" ".join(question.split()), answer.strip(), user, user),
        )
        return rows[0]["conversation_id"] if rows else None

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        """The rows of a query; none (with a warning) when logging is off or the log cannot be read."""
        if not self.enabled:
            return []
        try:
            with self._connect() as db:
                return db.execute(sql, params).fetchall()
        except (sqlite3.Error, OSError) as exc:
            self._warn("read", exc)
            return []

    def _turns(self, where: str, params: tuple[Any, ...]) -> list[Turn]:
        rows = self._select(f"SELECT * FROM turns {where}", params)
        turns = []
        for row in rows:
            data = dict(row)
            for column in _JSON_COLUMNS:
                data[column] = json.loads(data[column])
            turns.append(Turn(**data))
        return turns
