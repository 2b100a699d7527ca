"""The chunk store: one Chroma collection, embedded or on a Chroma server, and the source of truth.

Each chunk carries its article's metadata (id, title, source, url, date, origin) and the version it
belongs to (``content_hash``, ``n_chunks``, ``ingested_at``). That makes a commit protocol possible
without transactions: an article version is complete when all of its ``n_chunks`` chunks are
present, and :meth:`ChunkStore.repair` drops incomplete versions and superseded ones. Writers mark
the collection dirty before writing and clean after, with a fresh ``generation`` that tells the
lexical index (and other app instances) that the content changed. Each finished write also leaves one
entry in a small journal collection (``<collection>-journal``): the ids of the articles it touched, so that
a lexical index anywhere catches up by re-reading those articles rather than the whole collection.

Every call into Chroma goes through :meth:`ChunkStore.call`: a server that went away, a read-only
index directory or a full disk becomes a :class:`StoreError` that says so. With a Chroma server the
next call opens the collection again, so an instance recovers by itself when the server is back; a
connection left read-only is replaced and the call made once more. An embedded index takes no new
articles while its disk is (nearly) full, where Chroma itself can hang.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from chromadb.errors import ChromaError, NotFoundError
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.vector_stores.chroma import ChromaVectorStore
from pydantic import BaseModel

from rag.core.disk import LOW_SPACE_BYTES, disk_problem, free_bytes
from rag.core.errors import NewsRAGError
from rag.core.settings import Settings
from rag.core.types import ARTICLE_FIELDS, Link, SourceName, Title

log = logging.getLogger(__name__)

PAGE = 2000
# Chunks read per request when reading many. A page of known ids costs time in proportion to the page, but a page
# by offset (or by a filter) costs time in proportion to the collection: at 1M chunks, reading everything by offset
# had read 7% after 13 minutes; by ids it took about 8 minutes in all. Above about 1,000 ids a request gets slower
# per id.
READ_PAGE = 500
JOURNAL_SUFFIX = "-journal"
# Journal entries older than this are dropped; an index that was last brought up to date before that rebuilds.
JOURNAL_KEEP_SECONDS = 30 * 86_400
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


class ArticleRecord(BaseModel):
    """One indexed article, as the store knows it (metadata checked again: the index may predate the checks)."""

    article_id: str
    title: Title
    source: SourceName = ""
    url: Link = ""
    published_at: str = ""
    authors: str = ""
    origin: str = ""
    content_hash: str
    n_chunks: int
    ingested_at: float


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


class ChunkStore:
    """Reads and writes article chunks in Chroma; refuses to mix vectors of two embedders."""

    def __init__(self, settings: Settings, embedder_id: str, client: Any | None = None) -> None:
        self.settings = settings
        self.embedder_id = embedder_id
        self.client = client if client is not None else chroma_client(settings)
        self._lock = threading.Lock()
        self._opened: Any = None
        self._journal: Any = None
        self._touched: set[str] = set()  # articles written or deleted since begin_write()
        self._handle()  # open now: a wrong setting fails here
        # Readers and writers (LlamaIndex's vector store too) use the collection through call().
        self.collection: Any = _GuardedCollection(self)
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)

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

    # ----- state shared with readers and other instances
    def state(self) -> dict[str, Any]:
        """The collection's metadata, read fresh (another instance may have written)."""
        collection = self.call(self.client.get_collection, self.settings.collection, embedding_function=None)
        return dict(collection.metadata or {})

    @property
    def generation(self) -> str:
        return str(self.state().get("generation", ""))

    def _set_state(self, **changes: Any) -> None:
        metadata = self.state() | changes
        self.collection.modify(metadata=metadata)

    def begin_write(self) -> bool:
        """Mark the collection dirty; returns whether it was dirty already (a writer died, or failed to write)."""
        self._check_room()
        self._touched = set()
        was_dirty = bool(self.state().get("dirty"))
        self._set_state(dirty=True)
        return was_dirty

    def end_write(self, dirty: bool = False) -> str:
        """A new generation, after journalling the articles touched; the collection stays ``dirty`` when some
        write failed (it may have left half an article: the next writer repairs)."""
        generation = uuid.uuid4().hex
        if self._touched:
            self._journal_add(generation, sorted(self._touched))
        self._touched = set()
        self._set_state(dirty=dirty, generation=generation)
        return generation

    # ----- the journal of touched articles
    def _journal_collection(self, create: bool = True) -> Any:
        """The journal collection; None when it does not exist yet and ``create`` is off (a reader never
        creates it: creating writes, and a reader's folder may be read-only)."""
        if self._journal is None:
            name = self.settings.collection + JOURNAL_SUFFIX
            try:
                if create:
                    self._journal = self.call(self.client.get_or_create_collection, name, embedding_function=None)
                else:
                    self._journal = self.call(self.client.get_collection, name, embedding_function=None)
            except StoreError as exc:
                if create or not isinstance(exc.__cause__, NotFoundError | ValueError):
                    raise
        return self._journal

    def _journal_add(self, generation: str, article_ids: list[str]) -> None:
        now = time.time()
        journal = self._journal_collection()
        # Chroma wants a vector for every record; the journal is only ever read by its metadata.
        self.call(
            journal.add,
            ids=[generation],
            documents=[json.dumps(article_ids)],
            metadatas=[{"at": now}],
            embeddings=[[1.0]],
        )
        self.call(journal.delete, where={"at": {"$lt": now - JOURNAL_KEEP_SECONDS}})

    def journal_since(self, at: float) -> list[tuple[str, float, list[str]]]:
        """The journal entries written at or after ``at`` (writer's clock), as (generation, at, article ids)."""
        journal = self._journal_collection(create=False)
        if journal is None:
            return []
        got = self.call(journal.get, where={"at": {"$gte": at}}, include=["documents", "metadatas"])
        entries = [
            (gid, float(meta["at"]), list(json.loads(doc)))
            for gid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(entries, key=lambda e: e[1])

    def chunks_of(self, article_ids: list[str]) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        """The chunks of some articles as (id, text, metadata): what a lexical index re-reads after a change."""
        for start in range(0, len(article_ids), 100):
            got = self.collection.get(
                where={"article_id": {"$in": article_ids[start : start + 100]}}, include=["documents", "metadatas"]
            )
            yield from zip(got["ids"], got["documents"], got["metadatas"], strict=True)

    def count(self) -> int:
        return self.collection.count()

    # ----- writing
    def write_article(self, nodes: list[TextNode]) -> None:
        """Add one article version (all its chunks, with embeddings), then drop its older versions."""
        if not nodes:
            return
        self._check_room()
        meta = nodes[0].metadata
        self._touched.add(meta["article_id"])
        self.vector_store.add(nodes)
        self.collection.delete(
            where={
                "$and": [
                    {"article_id": meta["article_id"]},
                    {"content_hash": {"$ne": meta["content_hash"]}},
                ]
            }
        )

    def _check_room(self) -> None:
        """Refuse to add to an embedded index on a full disk, where Chroma can hang (see ``rag/core/disk.py``)."""
        free = None if self.settings.chroma_host else free_bytes(self.settings.chroma_path)
        if free is not None and free < LOW_SPACE_BYTES:
            raise StoreError(
                f"the index directory {self.settings.chroma_path} is on a full disk ({free // 1024} KB free; newsrag"
                f" writes to the index only with {LOW_SPACE_BYTES // 1_000_000} MB free): free some space and try again"
            )

    def delete_article(self, article_id: str) -> None:
        self._touched.add(article_id)
        self.collection.delete(where={"article_id": article_id})

    def delete_articles(self, article_ids: list[str]) -> None:
        """Delete many articles, a page of ids per request (Chroma caps the size of one filter)."""
        self._touched.update(article_ids)
        for start in range(0, len(article_ids), PAGE):
            self.collection.delete(where={"article_id": {"$in": article_ids[start : start + PAGE]}})

    def article_chunks(self, article_id: str) -> list[tuple[str, dict[str, Any]]]:
        """One article's chunks as (text, metadata), in order (its newest version only)."""
        got = self.collection.get(where={"article_id": article_id}, include=["documents", "metadatas"])
        chunks = sorted(zip(got["documents"], got["metadatas"], strict=True), key=lambda c: c[1]["chunk_index"])
        newest = max((float(m["ingested_at"]) for _, m in chunks), default=0.0)
        return [(text, meta) for text, meta in chunks if float(meta["ingested_at"]) == newest]

    # ----- reading
    def iter_chunks(self, include_text: bool = True) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        """Every chunk as (id, text, metadata), page by page."""
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        for page in read_pages(self.collection, include):
            ids = page["ids"]
            docs = page.get("documents") or [None] * len(ids)
            yield from zip(ids, docs, page["metadatas"], strict=True)

    def nodes(self) -> Iterator[TextNode]:
        """Every chunk as a LlamaIndex node (what the lexical index is built from)."""
        for _id, text, metadata in self.iter_chunks():
            node = metadata_dict_to_node(metadata, text=text)
            assert isinstance(node, TextNode)
            yield node

    def articles(self, where: dict[str, Any] | None = None) -> dict[str, ArticleRecord]:
        """The newest version of every indexed article (or of those matching ``where``), by article id.

        Reads only each version's first chunk: :meth:`repair` (run whenever a writer died or a write failed)
        guarantees that the versions left are complete.
        """
        best: dict[str, ArticleRecord] = {}
        first = {"chunk_index": 0}
        condition = {"$and": [first, where]} if where else first
        for page in read_pages(self.collection, ["metadatas"], where=condition):
            for meta in page["metadatas"]:
                record = ArticleRecord(**{k: meta.get(k) or "" for k in ARTICLE_FIELDS} | _version(meta))
                current = best.get(record.article_id)
                if current is None or record.ingested_at > current.ingested_at:
                    best[record.article_id] = record
        return best

    def repair(self) -> int:
        """Delete chunks of incomplete or superseded article versions; returns how many were removed."""
        versions: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        info: dict[tuple[str, str], dict[str, Any]] = {}
        for chunk_id, _text, meta in self.iter_chunks(include_text=False):
            key = (meta["article_id"], meta["content_hash"])
            versions[meta["article_id"]][meta["content_hash"]].append(chunk_id)
            info.setdefault(key, meta)
        doomed: list[str] = []
        for article_id, by_hash in versions.items():
            complete = [h for h, ids in by_hash.items() if len(set(ids)) == int(info[(article_id, h)]["n_chunks"])]
            keep = max(complete, key=lambda h: float(info[(article_id, h)]["ingested_at"]), default=None)
            doomed.extend(i for h, ids in by_hash.items() if h != keep for i in ids)
            if any(h != keep for h in by_hash):
                self._touched.add(article_id)
        for start in range(0, len(doomed), PAGE):
            self.collection.delete(ids=doomed[start : start + PAGE])
        return len(doomed)


class _GuardedCollection:
    """The store's Chroma collection, every method call made through :meth:`ChunkStore.call`."""

    def __init__(self, store: ChunkStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store._handle(), name)
        if not callable(attr):
            return attr

        return functools.partial(self._store.call, attr)


def read_pages(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every record of a Chroma collection (or those matching ``where``) as ``get`` results of READ_PAGE records.

    The ids are listed first, then read by id: a chunk deleted in between is skipped, one added is not seen.
    """
    ids = collection.get(where=where, include=[])["ids"]
    for start in range(0, len(ids), READ_PAGE):
        page = collection.get(ids=ids[start : start + READ_PAGE], include=include)
        if page["ids"]:
            yield page


def _version(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "content_hash": meta["content_hash"],
        "n_chunks": int(meta["n_chunks"]),
        "ingested_at": float(meta.get("ingested_at") or time.time()),
    }
