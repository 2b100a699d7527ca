"""The ingest pipeline: load → clean → chunk → embed → write, with a report of every outcome.

Unchanged articles cost no embedding work; a changed article replaces its old chunks; a broken
input is reported and skipped. Every URL is fetched, and every file read and chunked (each in a worker process
within a budget: ``ingest/reading.py``), before the write lock is taken, so neither a slow site nor a file
crafted to be slow keeps another ingest waiting. The lock is taken for one round of about :data:`ROUND_CHUNKS`
chunks at a time (the first round smaller, so the first articles are searchable soon), so a large batch holds at
most a round in memory and lets other writers in between rounds. A file's articles stream from its reader into the
rounds: a mailbox's first messages are written while the rest is read.
Writes follow the store's commit protocol (see ``rag/index/store.py``), so a run killed at any point and started
again leaves neither duplicates nor half an article.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import TextNode

from ingest.article import Article, IngestReport, Outcome, Unread
from ingest.chunk import content_hashes
from ingest.fetch_guard import FetchBudget
from ingest.fetch_policy import TRUSTED, FetchPolicy
from ingest.files import Loaded
from ingest.kinds import holds_many_articles
from ingest.reading import Heard, Read, ReadOptions, Stream, chunked, guarded, stream_file
from ingest.records import BadInput, Skipped
from ingest.walk import walk
from ingest.web import is_url, load_url
from rag.core.settings import Settings
from rag.index.store import ArticleRecord, ChunkStore, StoreError

# Articles looked up one by one before the ingest reads the whole list of indexed articles at once.
KNOWN_LOOKUPS = 200
# Embed this many chunks at once: big enough to batch well across short articles.
EMBED_GROUP = 256
# Chunks read before the write lock is taken to write them: a few embedding groups per round.
ROUND_CHUNKS = 4 * EMBED_GROUP
READERS = 2  # files read at once, each in its worker: a worker's start (~10 ms) overlaps another's reading
MAX_WRITE_FAILURES = 3

Progress = Callable[[Outcome], None]


def survey(sources: Iterable[str | Path]) -> tuple[list[str], list[Unread]]:
    """The concrete inputs behind ``sources`` (URLs as they are, folders walked to their files), and the files
    the folder walks left unread, with the reason."""
    inputs: list[str] = []
    unread: list[Unread] = []
    for source in sources:
        text = str(source)
        if is_url(text):
            inputs.append(text)
            continue
        found = walk(Path(text).expanduser())
        inputs.extend(str(p) for p in found.files)
        unread.extend(found.unread)
    return inputs, unread


def plan(sources: Iterable[str | Path]) -> list[str]:
    """The concrete inputs behind ``sources``: URLs as they are, folders expanded to their files."""
    return survey(sources)[0]


@dataclass
class _Pending:
    article: Article
    where: str
    status: str
    nodes: list[TextNode]
    note: str = ""


@dataclass
class Ingestor:
    """Runs one ingest against a store with an embedder; not thread-safe (one writer at a time).

    ``policy`` says where URLs may be fetched from: anywhere for the owner (the default), public addresses
    only for a web visitor (see ``ingest/fetch_policy.py``).
    """

    settings: Settings
    store: ChunkStore
    embedder: BaseEmbedding
    progress: Progress | None = None  # hears each article's outcome as it is written (or not)
    reading: Heard | None = None  # hears how far the file being read is (page 40 of 143; message 340)
    report: IngestReport = field(default_factory=IngestReport)
    policy: FetchPolicy = TRUSTED

    def run(
        self, sources: Iterable[str | Path], prune: bool = False, write_lock: AbstractContextManager[Any] | None = None
    ) -> IngestReport:
        """Fetch every URL, read the files, then, holding ``write_lock`` a round at a time, write the index."""
        started = time.perf_counter()
        inputs, self.report.unread = survey(sources)
        fetched = self._fetch_all(inputs)  # the network first: no fetch while the lock is held
        return self._write_rounds(self._read_all(inputs, fetched), prune, write_lock, started)

    def run_fetched(
        self, origin: str, loaded: list[Loaded], write_lock: AbstractContextManager[Any] | None = None
    ) -> IngestReport:
        """Write articles fetched already (a followed feed's new entries) as one ingest of ``origin``."""
        options = ReadOptions.from_settings(self.settings)
        reads = [chunked(where, item, options) for where, item in loaded]
        return self._write_rounds(iter(reads), False, write_lock, time.perf_counter())

    def _write_rounds(
        self,
        reads: Iterator[Read],
        prune: bool,
        write_lock: AbstractContextManager[Any] | None,
        started: float,
    ) -> IngestReport:
        """Write ``reads`` a round at a time; each round is read (outside the lock) before the lock is taken."""
        self._start(prune)
        try:
            for group, last in _rounds(reads):
                with write_lock or nullcontext():
                    self._write_round(group, prune and last)
        finally:
            self.report.seconds = time.perf_counter() - started
        return self.report

    def _start(self, prune: bool) -> None:
        # The indexed articles, looked up as the inputs name them; read whole for a large ingest or a prune.
        self.known: dict[str, ArticleRecord] = self.store.articles() if prune else {}
        self._known_all, self._lookups, self._forgotten = prune, 0, set[str]()
        self.seen: dict[str, str] = {}
        self.write_failures = 0

    def _write_round(self, group: list[Read], prune: bool) -> None:
        was_dirty = self.store.begin_write()
        self.failed_writes, finished = 0, False
        try:
            # Only a writer that died or a write that failed leaves versions to repair (and the collection dirty).
            self.report.repaired_chunks += self.store.repair() if was_dirty else 0
            pending: list[_Pending] = []
            for read in group:
                item = self._triage(read)
                if item is not None:
                    pending.append(item)
                if sum(len(p.nodes) for p in pending) >= EMBED_GROUP:
                    self._flush(pending)
                    pending = []
            self._flush(pending)
            if prune:
                self._prune()
            finished = True
        finally:
            self.store.end_write(dirty=self.failed_writes > 0 or not finished)

    # ----- stages
    def _fetch_all(self, inputs: list[str]) -> dict[int, list[Loaded]]:
        """What every URL among ``inputs`` yields, by position, within one budget of time and bytes."""
        settings = self.settings
        max_bytes = int(settings.max_article_mb * 1_000_000)
        budget = FetchBudget.for_request(settings)
        fetched: dict[int, list[Loaded]] = {}
        for position, item in enumerate(inputs):
            if is_url(item):
                load = load_url(
                    item,
                    max_bytes,
                    settings.fetch_timeout,
                    policy=self.policy,
                    budget=budget,
                    max_items=settings.max_feed_items,
                )
                fetched[position] = list(guarded(item, load))
        return fetched

    def _read_all(self, inputs: list[str], fetched: dict[int, list[Loaded]]) -> Iterator[Read]:
        """Every input's articles, chunked, in order, as they are read: files each in a worker within the budget
        (:data:`READERS` at once, so that starting workers overlaps), fetched pages here."""
        options = ReadOptions.from_settings(self.settings)

        def reader(position: int, item: str) -> Callable[[Heard], Iterator[Read]]:
            if position in fetched:
                return lambda heard: iter([chunked(where, loaded, options) for where, loaded in fetched[position]])
            return lambda heard: stream_file(Path(item), options, heard)

        with ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="newsrag-read") as pool:
            streams: deque[Stream] = deque()
            try:
                for position, item in enumerate(inputs):
                    streams.append(Stream(pool, reader(position, item)))
                    if len(streams) > READERS:
                        yield from streams[0].reads(self.reading)
                        streams.popleft()
                while streams:
                    yield from streams[0].reads(self.reading)
                    streams.popleft()
            finally:  # the writer gave up (an error, a closed generator): the readers stop, their workers die
                for stream in streams:
                    stream.close()
                pool.shutdown(wait=False, cancel_futures=True)

    def _record(self, outcome: Outcome) -> None:
        self.report.outcomes.append(outcome)
        if self.progress:
            self.progress(outcome)

    def _triage(self, read: Read) -> _Pending | None:
        """Decide what an article needs: nothing (unchanged, duplicate), or its chunks embedded."""
        where, loaded, nodes, note = read
        if isinstance(loaded, BadInput):
            status = "skipped" if isinstance(loaded, Skipped) else "failed"
            self._record(Outcome(origin=where, status=status, reason=str(loaded)))
            return None
        article = loaded
        article_id = article.article_id
        settings = self.settings
        versions = content_hashes(article, settings.chunk_size, settings.chunk_overlap)
        base = {"origin": where, "article_id": article_id, "title": article.title}
        if article_id in self.seen:
            reason = f"same article as {self.seen[article_id]}"
            self._record(Outcome(**base, status="duplicate", reason=reason))
            return None
        self.seen[article_id] = where
        known = self._known({"article_id": article_id}).get(article_id)
        if known is not None and known.content_hash in versions:
            if known.origin and known.origin != article.origin:
                reason = f"same article as {known.origin}"
                self._record(Outcome(**base, status="duplicate", chunks=known.n_chunks, reason=reason))
            else:
                self._record(Outcome(**base, status="unchanged", chunks=known.n_chunks, reason=note))
            return None
        if not nodes:
            self._record(Outcome(**base, status="failed", reason="no text left to index"))
            return None
        replaced = self._replaced_by(article)
        status = "updated" if known is not None or replaced else "added"
        return _Pending(article=article, where=where, status=status, nodes=nodes, note=note)

    def _replaced_by(self, article: Article) -> list[ArticleRecord]:
        """Older articles that came from the same single-article file or page as this one."""
        if not article.origin or "#" in article.origin or holds_many_articles(article.origin):
            return []
        return [
            r
            for r in self._known({"origin": article.origin}).values()
            if r.origin == article.origin and r.article_id != article.article_id and r.article_id not in self.seen
        ]

    def _known(self, where: dict[str, str]) -> dict[str, ArticleRecord]:
        """The indexed articles matching ``where`` (one field): a small query each, or all of them once many
        have been asked for."""
        if not self._known_all and self._lookups >= KNOWN_LOOKUPS:
            self.known, self._known_all = self.store.articles(), True
        if self._known_all:
            ((field_name, value),) = where.items()
            return {i: r for i, r in self.known.items() if getattr(r, field_name) == value}
        self._lookups += 1
        found = self.store.articles(where)
        self.known.update(found)
        return {i: r for i, r in found.items() if i not in self._forgotten}

    def _flush(self, pending: list[_Pending]) -> None:
        if not pending:
            return
        texts = [n.get_content() for p in pending for n in p.nodes]
        try:
            vectors = self.embedder.get_text_embedding_batch(texts)
        except Exception as exc:  # an embeddings API may fail in many ways; the batch is reported
            for p in pending:
                self._fail(p, f"embedding failed: {type(exc).__name__}: {exc}")
            return
        position = 0
        for p in pending:
            for node in p.nodes:
                node.embedding = vectors[position]
                position += 1
            self._write(p)

    def _write(self, p: _Pending) -> None:
        if self.write_failures >= MAX_WRITE_FAILURES:
            self._fail(p, "not written: the index kept failing (see the errors above)")
            return
        try:
            self.store.write_article(p.nodes)
            for old in self._replaced_by(p.article):
                self.store.delete_article(old.article_id)
                self.known.pop(old.article_id, None)
                self._forgotten.add(old.article_id)
        except Exception as exc:  # disk full, read-only folder, Chroma server gone (a StoreError says which)
            self.write_failures += 1
            reason = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
            self.failed_writes += 1
            self._fail(p, f"could not write to the index: {reason}")
            return
        self.write_failures = 0
        self.report.chunks_written += len(p.nodes)
        self._record(
            Outcome(
                origin=p.where,
                status=p.status,  # type: ignore[arg-type]
                article_id=p.article.article_id,
                title=p.article.title,
                chunks=len(p.nodes),
                reason=p.note,
            )
        )

    def _fail(self, p: _Pending, reason: str) -> None:
        self._record(
            Outcome(
                origin=p.where, status="failed", article_id=p.article.article_id, title=p.article.title, reason=reason
            )
        )

    def _prune(self) -> None:
        """Forget articles whose local source file no longer exists."""
        for record in list(self.known.values()):
            origin = record.origin
            if not origin or is_url(origin) or Path(origin).exists():
                continue
            self.store.delete_article(record.article_id)
            self.known.pop(record.article_id, None)
            self._record(
                Outcome(
                    origin=origin,
                    status="removed",
                    article_id=record.article_id,
                    title=record.title,
                    reason="source file is gone",
                )
            )


def _rounds(reads: Iterator[Read]) -> Iterator[tuple[list[Read], bool]]:
    """``reads`` in groups of about :data:`ROUND_CHUNKS` chunks, each with whether it is the last; the last group
    may be empty (a prune with nothing to read still has its round)."""
    group: list[Read] = []
    chunks, size = 0, EMBED_GROUP  # the first round is one embedding group: the first articles searchable soon
    for read in reads:
        group.append(read)
        chunks += len(read.nodes)
        if chunks >= size:
            yield group, False
            group, chunks, size = [], 0, ROUND_CHUNKS
    yield group, True
