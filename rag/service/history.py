"""Every question and answer, logged to SQLite beside the index (``index_dir/history.sqlite``).

The schema grows by named, append-only migrations (:mod:`rag.core.sqlite`): each runs once, in order, and the
``migrations`` table records its name. Never edit or reorder one that has shipped; append a new one instead.

The log never stops a question from being answered: when it cannot be written or read (a read-only
folder, a full disk), the app logs a warning and carries on without it.

Privacy: each turn has a *scope*, whose history it is (see :func:`scope_for`), and every read a
front-end makes names one: a web visitor lists and reopens only their own conversations. Only
the owner's ``newsrag log`` reads across scopes (:data:`EVERYONE`). The file is kept owner-only (0600).
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
import stat
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from rag.core.disk import disk_problem
from rag.core.sqlite import Database, Migration
from rag.core.text import like_pattern
from rag.core.types import Answer, Citation

log = logging.getLogger(__name__)

MIGRATIONS: list[Migration] = [
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
    ("003_add_turns_scope", "ALTER TABLE turns ADD COLUMN scope TEXT"),
    (
        # Turns logged before scopes: a login's stay its user's, anonymous API calls go to their channel, and
        # anonymous browser turns (no visitor id was kept then) belong to no visitor: only `newsrag log` shows them.
        "004_scope_earlier_turns",
        """
        UPDATE turns SET scope = CASE
            WHEN user IS NOT NULL THEN 'user:' || user
            WHEN channel IN ('api', 'openai') THEN 'channel:' || channel
        END
        """,
    ),
    ("005_index_turns_by_scope", "CREATE INDEX turns_by_scope ON turns (scope, id)"),
    (
        # A reader's 👍/👎 on an answer and their note; one per turn, the latest kept (`newsrag log --as-suite`).
        "006_create_feedback",
        """
        CREATE TABLE feedback (
            turn_id INTEGER PRIMARY KEY,
            rating TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            rated_at REAL NOT NULL
        )
        """,
    ),
]

_JSON_COLUMNS = ("citations", "flags", "notices", "timings")


API_CHANNELS = ("api", "openai")  # callers without a browser: the Gradio API (/ask) and /v1
_VISITOR_ID = re.compile(r"[0-9a-f]{32}")
PRIVATE_MODE = 0o600  # the log holds every visitor's questions: readable by the owner alone


MAX_NOTE_CHARS = 2000


class Rating(enum.StrEnum):
    """A reader's verdict on an answer."""

    up = "up"  # 👍 right
    down = "down"  # 👎 wrong: the note says what it should have said

    @classmethod
    def parse(cls, value: object) -> Rating:
        aliases = {"👍": cls.up, "👎": cls.down, "like": cls.up, "dislike": cls.down}
        found = aliases.get(str(value).strip().lower()) or cls.__members__.get(str(value).strip().lower())
        if found is None:
            raise ValueError(f"a rating is 'up' (👍) or 'down' (👎), not {str(value)[:20]!r}")
        return found


class Everyone(enum.Enum):
    """The owner's view across all scopes (``newsrag log``); front-ends never pass it."""

    EVERYONE = "everyone"


EVERYONE = Everyone.EVERYONE
Scope = str | Everyone | None  # a scope from scope_for, EVERYONE, or None: no identity, so nothing to read


def new_conversation_id() -> str:
    return uuid.uuid4().hex[:16]


def new_visitor_id() -> str:
    """A browser's random id (128 bits): it is the visitor's only key to their history, so it must not be guessable."""
    return secrets.token_hex(16)


def is_visitor_id(value: object) -> bool:
    return isinstance(value, str) and _VISITOR_ID.fullmatch(value) is not None


def scope_for(user: str | None, visitor: str | None, channel: str) -> str | None:
    """Whose history a turn joins and a listing shows.

    The logged-in user's when there is a login (the same on every device). Otherwise the browser's
    visitor id, stored hashed, so the log (and its exports) never holds the key itself. API callers
    without a login have no browser identity: their turns go to their channel's scope, which no
    browser visitor can ever have. None (no identity at all) records a turn that no one but the
    owner's ``newsrag log`` reads, and reads nothing.
    """
    if user:
        return f"user:{user}"
    if is_visitor_id(visitor):
        return "visitor:" + hashlib.sha256(str(visitor).encode()).hexdigest()[:32]
    if channel in API_CHANNELS:
        return f"channel:{channel}"
    return None


def _scoped(scope: Scope, column: str = "scope") -> tuple[str, tuple[Any, ...]]:
    """A WHERE condition limiting rows to ``scope``; None matches nothing (SQL: NULL = NULL is not true)."""
    return f"(? OR {column} = ?)", (scope is EVERYONE, None if isinstance(scope, Everyone) else scope)


class Turn(BaseModel):
    """One logged question and its answer."""

    id: int
    conversation_id: str
    created_at: float
    user: str | None = None
    scope: str | None = None  # whose history it is: see scope_for
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
    rating: Rating | None = None  # the reader's 👍/👎, if any
    note: str = ""  # and what they said about it

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
        self._exposed = False  # its mode could not be tightened (warned once)
        # One short-lived connection per call: safe from any server thread. The mode is checked each time, as
        # a log deleted under a running server would otherwise come back with the default (world-readable) mode.
        self.database = Database(self.path, timeout=10, prepare=self._keep_private)
        if enabled:
            try:
                self.migrate()
            except (sqlite3.Error, OSError) as exc:
                self._warn("prepared", exc)

    def _warn(self, doing: str, exc: Exception) -> None:
        problem = disk_problem(self.path, exc)
        where = f"{self.path} {problem}" if problem else str(self.path)
        log.warning("the question log could not be %s (%s: %s); answering goes on without it", doing, where, exc)

    def _keep_private(self) -> None:
        """Create the file owner-only, and tighten one an older version (or a umask) left readable to others.

        SQLite gives its journal files the database file's mode, so they stay private too.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
            return  # a new file: private from its first byte
        except FileExistsError:
            pass
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077 and not self._exposed:
            try:
                self.path.chmod(PRIVATE_MODE)
            except OSError as exc:  # not our file, or a read-only disk: still readable, but say it is exposed
                self._exposed = True
                log.warning("the question log %s is readable by others (mode %o) and cannot be made private: %s",
                            self.path, mode, exc)  # fmt: skip

    def migrate(self, migrations: list[Migration] = MIGRATIONS) -> list[str]:
        """Apply the migrations not yet applied, in order; returns their names."""
        return self.database.migrate(migrations)

    def applied(self) -> list[str]:
        return self.database.applied()

    def record(
        self,
        answer: Answer,
        *,
        conversation_id: str,
        channel: str,
        scope: str | None = None,
        user: str | None = None,
        extra_timings: dict[str, float] | None = None,
    ) -> int | None:
        """Log one answered question in ``scope`` (:func:`scope_for`; None: no one's); its row id (None when off)."""
        if not self.enabled:
            return None
        citations = [c.model_dump(mode="json") for c in answer.citations]
        timings = answer.timings | (extra_timings or {})
        row = (
            conversation_id,
            time.time(),
            user,
            scope,
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
            with self.database.connect() as db:
                cursor = db.execute(
                    "INSERT INTO turns (conversation_id, created_at, user, scope, channel, question,"
                    " standalone_question, answer, engine, refused, citations, flags, notices, timings)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                return cursor.lastrowid
        except (sqlite3.Error, OSError) as exc:
            self._warn("written", exc)
            return None

    def recent(self, limit: int = 20, scope: Scope = EVERYONE) -> list[Turn]:
        """The latest turns, newest first; all of them by default, as this is the owner's export (``newsrag log``)."""
        where, params = _scoped(scope)
        return self._turns(f"WHERE {where} ORDER BY id DESC LIMIT ?", (*params, limit))

    def turns(self, conversation_id: str, *, scope: Scope = None) -> list[Turn]:
        """One conversation's turns in ``scope``, oldest first: none when the conversation is someone else's."""
        where, params = _scoped(scope)
        return self._turns(f"WHERE conversation_id = ? AND {where} ORDER BY id", (conversation_id, *params))

    def turn(self, turn_id: int, *, scope: Scope = None) -> Turn | None:
        """One turn of ``scope`` by its id; None when there is none, or it is someone else's."""
        where, params = _scoped(scope)
        found = self._turns(f"WHERE id = ? AND {where}", (turn_id, *params))
        return found[0] if found else None

    def conversations(self, *, scope: Scope = None, limit: int = 50, text: str = "") -> list[Conversation]:
        """The conversations in ``scope``, most recently active first; with ``text``, those that asked or said it."""
        where, params = _scoped(scope)
        first_where, first_params = _scoped(scope, "first.scope")
        if text.strip():
            like = like_pattern(text)
            inner, inner_params = _scoped(scope)
            where += (
                " AND conversation_id IN (SELECT conversation_id FROM turns WHERE"
                f" (question LIKE ? ESCAPE '\\' OR answer LIKE ? ESCAPE '\\') AND {inner})"
            )
            params = (*params, like, like, *inner_params)
        rows = self._select(
            "SELECT conversation_id, MIN(created_at) AS started_at, MAX(created_at) AS updated_at,"
            " MAX(user) AS user, COUNT(*) AS turns,"
            " (SELECT question FROM turns AS first WHERE first.conversation_id = t.conversation_id"
            f"  AND {first_where} ORDER BY id LIMIT 1) AS first_question"
            f" FROM turns AS t WHERE {where}"
            " GROUP BY conversation_id ORDER BY MAX(id) DESC LIMIT ?",
            (*first_params, *params, limit),
        )
        return [Conversation(**dict(row)) for row in rows]

    def delete_conversation(self, conversation_id: str, *, scope: Scope = None) -> int:
        """Delete one conversation of ``scope`` (and its ratings); how many turns went (0: none, or not theirs)."""
        if not self.enabled:
            return 0
        where, params = _scoped(scope)
        doomed = f"SELECT id FROM turns WHERE conversation_id = ? AND {where}"
        with self.database.connect() as db:
            db.execute(f"DELETE FROM feedback WHERE turn_id IN ({doomed})", (conversation_id, *params))
            return db.execute(f"DELETE FROM turns WHERE id IN ({doomed})", (conversation_id, *params)).rowcount

    def rate(self, turn_id: int, rating: Rating | str, note: str = "", *, scope: Scope = None) -> bool:
        """Record a 👍/👎 (and a note) on one answer of ``scope``; False when there is no such turn in it."""
        rating = Rating.parse(rating)
        note = " ".join((note or "").split())[:MAX_NOTE_CHARS]
        if not self.enabled:
            return False
        where, params = _scoped(scope)
        with self.database.connect() as db:
            if db.execute(f"SELECT 1 FROM turns WHERE id = ? AND {where}", (turn_id, *params)).fetchone() is None:
                return False
            db.execute(
                "INSERT OR REPLACE INTO feedback (turn_id, rating, note, rated_at) VALUES (?, ?, ?, ?)",
                (turn_id, rating.value, note, time.time()),
            )
        return True

    def rated(self, scope: Scope = EVERYONE) -> list[Turn]:
        """Every rated answer, oldest first (the owner's export to an eval suite: ``newsrag log --as-suite``)."""
        where, params = _scoped(scope)
        return self._turns(f"WHERE feedback.rating IS NOT NULL AND {where} ORDER BY id", params)

    def continued(self, history: list[tuple[str, str]], *, scope: Scope = None) -> str | None:
        """The conversation in ``scope`` whose latest turn is the end of ``history`` (a client resending its turns).

        Scoped, so that resending someone else's question and answer cannot add turns to their conversation.
        """
        if not self.enabled:
            return None
        question = next((text for role, text in reversed(history) if role == "user"), None)
        answer = next((text for role, text in reversed(history) if role == "assistant"), None)
        if question is None or answer is None:
            return None
        where, params = _scoped(scope)
        rows = self._select(
            f"SELECT conversation_id FROM turns WHERE question = ? AND answer = ? AND {where} ORDER BY id DESC LIMIT 1",
            (" ".join(question.split()), answer.strip(), *params),
        )
        return rows[0]["conversation_id"] if rows else None

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        """The rows of a query; none (with a warning) when logging is off or the log cannot be read."""
        if not self.enabled:
            return []
        try:
            with self.database.connect() as db:
                return db.execute(sql, params).fetchall()
        except (sqlite3.Error, OSError) as exc:
            self._warn("read", exc)
            return []

    def _turns(self, where: str, params: tuple[Any, ...]) -> list[Turn]:
        rows = self._select(
            f"SELECT turns.*, feedback.rating, COALESCE(feedback.note, '') AS note FROM turns"
            f" LEFT JOIN feedback ON feedback.turn_id = turns.id {where}",
            params,
        )
        turns = []
        for row in rows:
            data = dict(row)
            for column in _JSON_COLUMNS:
                data[column] = json.loads(data[column])
            turns.append(Turn(**data))
        return turns
