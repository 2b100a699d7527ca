"""Reading the inputs of an ingest into chunked articles, before the write lock is taken.

Each file is read, cleaned and chunked in a worker process within the budget of ``NEWSRAG_PARSE_CPU_SECONDS`` and
``NEWSRAG_PARSE_MEMORY_MB`` (``ingest/budget.py``): chunking belongs there because a text of single letters costs
more to split than to read. A file over the budget fails alone, whole: nothing it held reaches the index. A kind
of many articles (a mailbox, JSON Lines) gets the budget once per :data:`BYTES_PER_BUDGET` of its size. An article
that would make more than ``NEWSRAG_MAX_ARTICLE_CHUNKS`` chunks is refused there too (its embedding would hold the
write lock for minutes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from llama_index.core.schema import TextNode

from ingest.article import Article
from ingest.budget import Budget, OverBudget, run
from ingest.chunk import chunk_article
from ingest.dating import dated
from ingest.filekind import FileKind, Limits
from ingest.files import check_file, read_kind
from ingest.records import BadInput, Loaded
from ingest.web import is_url
from rag.core.settings import Settings

BYTES_PER_BUDGET = 4_000_000  # a many-article file's budget grows by one file's worth per this many bytes


class Read(NamedTuple):
    """One article read and chunked (``nodes``), or why there is none (``loaded`` is a BadInput, no nodes)."""

    where: str
    loaded: Article | BadInput
    nodes: list[TextNode]
    note: str = ""  # what its outcome should say although it was read (a date in the future dropped)


@dataclass(frozen=True)
class ReadOptions:
    """What reading needs from the settings; small and picklable, for the worker."""

    max_bytes: int
    max_items: int
    chunk_size: int
    chunk_overlap: int
    max_chunks: int
    budget: Budget

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadOptions:
        return cls(
            max_bytes=int(settings.max_article_mb * 1_000_000),
            max_items=settings.max_archive_items,
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            max_chunks=settings.max_article_chunks,
            budget=Budget(settings.parse_cpu_seconds, settings.parse_memory_mb),
        )


def read_file(path: Path, options: ReadOptions) -> list[Read]:
    """Every article of one file, chunked, read in a worker within the budget; or one Read saying why none."""
    origin = str(path.resolve())
    checked = check_file(path, options.max_bytes)
    if isinstance(checked, BadInput):
        return [Read(origin, checked, [])]
    budget = options.budget
    if checked.many:
        budget = budget.scaled(math.ceil(path.stat().st_size / BYTES_PER_BUDGET))
    try:
        return list(run(budget, _read_in_worker, checked, path, origin, options))
    except OverBudget as exc:
        return [Read(origin, BadInput(str(exc)), [])]


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
