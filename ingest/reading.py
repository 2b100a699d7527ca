"""Reading the inputs of an ingest into chunked articles, before the write lock is taken.

Each file is read, cleaned and chunked in a worker process within the budget of ``NEWSRAG_PARSE_CPU_SECONDS`` and
``NEWSRAG_PARSE_MEMORY_MB`` (``ingest/budget.py``): chunking belongs there because a text of single letters costs
more to split than to read. A kind of many articles (a mailbox, JSON Lines) gets the budget once per
:data:`BYTES_PER_BUDGET` of its size. An article that would make more than ``NEWSRAG_MAX_ARTICLE_CHUNKS`` chunks is
refused there too (its embedding would hold the write lock for minutes).

A file's articles stream (:func:`stream_file`, :class:`Stream`): each comes from the worker as it is read, and waits
in a small queue for the writer, so a mailbox of thousands of messages is held a few at a time and its first
messages are written while the rest is read. A file over its budget fails with the reason; a file of many articles
stopped part way keeps the whole articles read before (each is one item: it is written whole or not at all), and
its failure says where it stopped ("stopped after message 699: the 699 read before it are kept"). A single-article
file (a PDF) sends its article only when done, so nothing of it is kept. How far a file is comes as
:class:`Reading`: the pages of a PDF (from its worker), the articles of a mailbox.
"""

from __future__ import annotations

import math
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from llama_index.core.schema import TextNode

from ingest.article import Article
from ingest.budget import PROGRESS_SECONDS, Budget, OverBudget, Progress, run
from ingest.chunk import chunk_article
from ingest.dating import dated
from ingest.filekind import FileKind, Limits
from ingest.files import check_file, read_kind
from ingest.records import BadInput, Loaded, Skipped
from ingest.web import is_url
from rag.core.settings import Settings
from rag.core.text import mostly_non_latin

BYTES_PER_BUDGET = 4_000_000  # a many-article file's budget grows by one file's worth per this many bytes
QUEUE_READS = 32  # articles read ahead of the writer, per file being read; then its worker waits
UNITS = {"mbox": "message", "eml": "message", "jsonl": "record", "json": "record", "warc": "page"}


class Read(NamedTuple):
    """One article read and chunked (``nodes``), or why there is none (``loaded`` is a BadInput, no nodes)."""

    where: str
    loaded: Article | BadInput
    nodes: list[TextNode]
    note: str = ""  # what its outcome should say although it was read (a date in the future dropped)


_NOTHING = Read("", BadInput("nothing yet"), [])  # what the queue gave when it gave nothing in time


@dataclass(frozen=True)
class ReadOptions:
    """What reading needs from the settings; small and picklable, for the worker."""

    max_bytes: int
    max_items: int
    chunk_size: int
    chunk_overlap: int
    max_chunks: int
    budget: Budget
    english_embedder: bool = False  # the embedder serves English only: an article in another script is told so

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadOptions:
        return cls(
            max_bytes=int(settings.max_article_mb * 1_000_000),
            max_items=settings.max_archive_items,
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            max_chunks=settings.max_article_chunks,
            budget=Budget(settings.parse_cpu_seconds, settings.parse_memory_mb),
            english_embedder=settings.embedder == "minilm",
        )


class Reading(NamedTuple):
    """How far reading one input is: ``done`` of ``total`` (None: not known yet) ``unit``s ("page", "message")."""

    origin: str
    done: int
    total: int | None
    unit: str


Heard = Callable[[Reading], None]


def read_file(path: Path, options: ReadOptions) -> list[Read]:
    """Every article of one file, chunked, read in a worker within the budget; or one Read saying why none."""
    return list(stream_file(path, options))


def stream_file(path: Path, options: ReadOptions, heard: Heard | None = None) -> Iterator[Read]:
    """Every article of one file, chunked, as the worker reads it; then, if the worker failed, one Read saying why
    (and, after articles of a many-article file, where it stopped). ``heard`` hears how far it is."""
    origin = str(path.resolve())
    checked = check_file(path, options.max_bytes)
    if isinstance(checked, BadInput):
        yield Read(origin, checked, [])
        return
    budget = options.budget
    if checked.many:
        budget = budget.scaled(math.ceil(path.stat().st_size / BYTES_PER_BUDGET))
    unit = UNITS.get(checked.name, "article")

    def told(progress: Progress) -> None:
        if heard is not None:
            heard(Reading(origin, progress.done, progress.total, progress.unit))

    kept: list[str] = []  # where each article read so far came from (a few bytes each)
    try:
        for read in run(budget, _read_in_worker, checked, path, origin, options, progress=told):
            if not isinstance(read.loaded, Skipped):
                kept.append(read.where)
                if heard is not None and checked.many:
                    heard(Reading(origin, len(kept), None, unit))
            yield read
    except OverBudget as exc:
        yield Read(origin, BadInput(stopped(str(exc), kept, unit)), [])


def stopped(reason: str, kept: list[str], unit: str) -> str:
    """Why a file failed, and, when articles of it were read before, where it stopped and that they are kept."""
    if not kept:
        return reason
    last = re.sub(r"^(\D+)(\d)", r"\1 \2", kept[-1].rsplit("#", 1)[-1]) if "#" in kept[-1] else f"{unit} {len(kept):,}"
    return f"{reason}; stopped after {last}: the {len(kept):,} {unit}(s) read before are kept, the rest was not read"


class Stream:
    """One input's articles, read in a thread of ``pool`` and handed over through a queue of :data:`QUEUE_READS`.

    While the queue is full the thread waits, and so does the worker behind it (its pipe fills): memory holds a few
    articles per file, not the file. The thread only notes how far the file is; :meth:`reads` tells it, in the
    caller's thread, at most every ``PROGRESS_SECONDS``.
    """

    def __init__(self, pool: Executor, make: Callable[[Heard], Iterator[Read]]) -> None:
        self._queue: queue.Queue[Read | None] = queue.Queue(QUEUE_READS)
        self._closed = threading.Event()
        self._latest: Reading | None = None
        self._told: Reading | None = None  # the last news given to the caller, and when
        self._when = 0.0
        self._future = pool.submit(self._fill, make)

    def _fill(self, make: Callable[[Heard], Iterator[Read]]) -> None:
        reads = make(self._heard)
        try:
            for read in reads:
                if not self._put(read):
                    return
        finally:
            close = getattr(reads, "close", None)
            if close is not None:
                close()  # a reader abandoned part way: its worker is killed (ingest/budget.py)
            self._put(None)

    def _heard(self, reading: Reading) -> None:
        self._latest = reading

    def _put(self, item: Read | None) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def reads(self, heard: Heard | None = None) -> Iterator[Read]:
        """The articles, in order, as they come; ``heard`` hears how far the file is meanwhile."""
        self._told, self._when = None, 0.0
        while True:
            try:
                item = self._queue.get(timeout=PROGRESS_SECONDS)
            except queue.Empty:
                item = _NOTHING
            if heard is not None:
                self._tell(heard, last=item is None)
            if item is None:
                break
            if item is not _NOTHING:
                yield item
        self._future.result()  # the reading thread's own failure, if any

    def _tell(self, heard: Heard, last: bool) -> None:
        latest = self._latest
        if latest is None or latest == self._told:
            return
        if last or latest.done == latest.total or time.monotonic() - self._when >= PROGRESS_SECONDS:
            heard(latest)
            self._told, self._when = latest, time.monotonic()

    def close(self) -> None:
        """Stop reading: the thread ends at its next article, and kills its worker."""
        self._closed.set()


def _read_in_worker(
    emit: Callable[[Read], None], kind: FileKind, path: Path, origin: str, options: ReadOptions
) -> None:
    limits = Limits(max_bytes=options.max_bytes, max_items=options.max_items)
    for where, loaded in guarded(origin, read_kind(kind, path, origin, limits)):
        emit(chunked(where, loaded, options))


def chunked(where: str, loaded: Article | BadInput, options: ReadOptions) -> Read:
    """An article, dated (``ingest/dating.py``), with its chunks; or a BadInput for one with too many of them (or
    for a BadInput). Every article an ingest reads, from a file, a page or a feed, comes through here."""
    if isinstance(loaded, BadInput):
        return Read(where, loaded, [])
    loaded, note = dated(loaded)
    nodes = chunk_article(loaded, options.chunk_size, options.chunk_overlap)
    if len(nodes) > options.max_chunks:
        reason = (
            f"too long for one article: {len(nodes):,} chunks, more than {options.max_chunks:,}"
            " (NEWSRAG_MAX_ARTICLE_CHUNKS)"
        )
        return Read(where, BadInput(reason), [])
    if options.english_embedder and mostly_non_latin(loaded.text[:5000]):
        found = "found by its words only: the bundled embedder serves English (docs/formats.md: a multilingual one)"
        note = f"{note}; {found}" if note else found
    return Read(where, loaded, nodes, note)


def guarded(item: str, loader: Iterator[Loaded]) -> Iterator[Loaded]:
    """What a loader (a generator: it runs as it is read) yields for ``item``; its bug costs ``item``, not the batch."""
    try:
        yield from loader
    except MemoryError:
        raise  # over the memory budget: the worker says so (ingest/budget.py), for the whole file
    except Exception as exc:
        origin = item if is_url(item) else str(Path(item).resolve())
        detail = next(iter(str(exc).splitlines()), "")[:200]
        yield origin, BadInput(f"could not be read: {type(exc).__name__}: {detail}".rstrip(": "))
