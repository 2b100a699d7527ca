"""The connection to the store's Chroma collection: embedded under ``index_dir`` or on a Chroma server.

Every call into Chroma goes through :meth:`ChromaConnection.call`: a server that went away, a read-only
index directory or a full disk becomes a :class:`StoreError` that says so. With a Chroma server the
next call opens the collection again, so an instance recovers by itself when the server is back; a
connection left read-only is replaced and the call made once more.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from chromadb.errors import ChromaError, NotFoundError

from rag.core.disk import disk_problem
from rag.core.errors import NewsRAGError
from rag.core.settings import Settings

log = logging.getLogger(__name__)

# What Chroma raises when the server, the disk or the database fails (rather than when it is misused).
FAILURES = (httpx.HTTPError, ChromaError, OSError, sqlite3.Error)
# What a write through a connection opened while the folder was read-only fails with: SQLite's code 8, or
# Chroma's log purge or compaction failing on it (their cause is not passed on).
STALE_CONNECTION = (
    "attempt to write a readonly database",
    "Error purging logs",
    "Failed to apply logs to the metadata segment",
)


class StoreError(NewsRAGError, RuntimeError):
    """The store cannot be opened or used as asked; the message says what to do."""

    # What a web visitor is told instead: the message names the index folder or the Chroma server's address,
    # which are for the owner (the CLI shows them; the server logs them).
    FOR_VISITORS = "the index is unavailable"


def explain(settings: Settings, exc: BaseException) -> str:
    """A failure of Chroma as a user should read it: what is wrong, and what to do."""
    reason = f"{type(exc).__name__}: {exc}"
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        if isinstance(exc, httpx.TimeoutException):
            waited = f"did not answer within {settings.chroma_timeout:g} s"
            return f"the Chroma server at {where} {waited} (is it overloaded or paused?): {reason}"
        if isinstance(exc, httpx.TransportError | ConnectionError):
            return f"cannot reach the Chroma server at {where} (is it running?): {reason}"
        return f"the Chroma server at {where} failed: {reason}"
    problem = _disk_advice(disk_problem(settings.chroma_path, exc))
    if problem:
        return f"the index directory {settings.chroma_path} {problem} ({reason})"
    return f"the index in {settings.chroma_path} failed: {reason}"


def _disk_advice(problem: str) -> str:
    if problem == "is read-only":
        return f"{problem}: Chroma writes there to open the index and to add or remove articles, so make it writable"
    if problem:
        return f"{problem}: free some space and try again; the next ingest repairs any article left half-written"
    return ""


def chroma_client(settings: Settings) -> Any:
    """An embedded ``PersistentClient`` under ``index_dir``, or an ``HttpClient`` to a Chroma server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            # chromadb's own first requests below have no timeout: ask once with ours, so a paused server fails here.
            httpx.get(f"http://{where}/api/v2/heartbeat", timeout=settings.chroma_timeout).raise_for_status()
        except httpx.HTTPError as exc:
            raise StoreError(explain(settings, exc)) from exc
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # chromadb wraps a refused connection in a ValueError here
            raise StoreError(f"cannot reach the Chroma server at {where} (is it running?): {exc}") from exc
        # chromadb's HTTP client waits forever (httpx timeout=None), so a paused or wedged server would hang every
        # question and ingest; it offers no setting for this, hence the reach into its session.
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):
            session.timeout = httpx.Timeout(settings.chroma_timeout)
        return client
    try:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:  # a read-only folder, a full disk, a broken database file
        problem = _disk_advice(disk_problem(settings.chroma_path, exc))
        why = f"the folder {problem} ({type(exc).__name__}: {exc})" if problem else str(exc)
        raise StoreError(f"cannot open the index in {settings.chroma_path}: {why}") from exc


class ChromaConnection:
    """The store's collection, opened now and again after a failure; refuses vectors of another embedder."""

    def __init__(self, settings: Settings, embedder_id: str, client: Any | None = None) -> None:
        self.settings = settings
        self.embedder_id = embedder_id
        self.client = client if client is not None else chroma_client(settings)
        self._lock = threading.Lock()
        self._opened: Any = None
        self._handle()  # open now: a wrong setting fails here
        # Readers and writers (LlamaIndex's vector store too) use the collection through call().
        self.collection: Any = _GuardedCollection(self)

    @contextmanager
    def explained_failures(self) -> Iterator[None]:
        """Turn Chroma's failures into a :class:`StoreError` that says what is wrong."""
        try:
            yield
        except FAILURES as exc:
            # A restarted server or a re-created collection: open it again next time.
            if self.settings.chroma_host or isinstance(exc, NotFoundError):
                self._opened = None
            raise StoreError(explain(self.settings, exc)) from exc

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``method(*args, **kwargs)`` inside :meth:`explained_failures`; when a connection left read-only refused
        it, once more after opening the embedded database again (only then: on a full disk, reopening can hang)."""
        try:
            with self.explained_failures():
                return method(*args, **kwargs)
        except StoreError as exc:
            if exc.__cause__ is None or not self._stale_read_only(exc.__cause__):
                raise
        self._reconnect()
        with self.explained_failures():
            return method(*args, **kwargs)

    def state(self) -> dict[str, Any]:
        """The collection's metadata, read fresh (another instance may have written)."""
        collection = self.call(self.client.get_collection, self.settings.collection, embedding_function=None)
        return dict(collection.metadata or {})

    def _stale_read_only(self, exc: BaseException) -> bool:
        """SQLite refused a write as read-only although the folder is writable again: the refusal came from a
        connection opened while it was read-only, which stays read-only for its life."""
        if self.settings.chroma_host or not any(sign in str(exc) for sign in STALE_CONNECTION):
            return False
        return not disk_problem(self.settings.chroma_path)

    def _reconnect(self) -> None:
        """Open the embedded database again, with fresh connections; calls under way finish on the old ones."""
        server = getattr(self.client, "_server", None)
        if hasattr(server, "bindings"):  # chromadb's Rust-backed embedded client; start() replaces its bindings
            try:
                server.start()
            except Exception as exc:  # the old bindings stay; the caller reports the failure it had
                log.warning("could not reopen the index in %s: %s", self.settings.chroma_path, exc)

    def _handle(self) -> Any:
        """The Chroma collection, opened on first use and again after a failure."""
        with self._lock:
            if self._opened is None:
                self._opened = self.call(self._open_collection)
            return self._opened

    def _open_collection(self) -> Any:
        name = self.settings.collection
        try:
            collection = self.client.get_or_create_collection(
                name,
                metadata={"embedder": self.embedder_id, "generation": "", "dirty": False},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except FAILURES:
            raise  # explained by explained_failures()
        except Exception as exc:
            raise StoreError(f"cannot open Chroma collection {name!r}: {exc}") from exc
        built_with = (collection.metadata or {}).get("embedder")
        if built_with != self.embedder_id:
            raise StoreError(
                f"the index was built with the embedder {built_with!r} but the settings ask for "
                f"{self.embedder_id!r}: switch NEWSRAG_EMBEDDER back, or run `newsrag reindex` "
                "to re-embed every chunk with the new one"
            )
        return collection


class _GuardedCollection:
    """The store's Chroma collection, every method call made through :meth:`ChromaConnection.call`."""

    def __init__(self, connection: ChromaConnection) -> None:
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._connection._handle(), name)
        if not callable(attr):
            return attr

        return functools.partial(self._connection.call, attr)
