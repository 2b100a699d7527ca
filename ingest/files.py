"""Reading articles from local files: each file to its kind's loader, within the size its kind may have.

The kinds, their loaders and their sizes are the table in ``ingest/kinds.py``; each loader is a module of its
own (``text.py``, ``html_page.py``, ``json_files.py``, ``pdf.py``, ``word.py``, ``mail.py``, ``warc.py``), or a
plugin's (``ingest/loader_plugins.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.filekind import FileKind, Limits
from ingest.kinds import kinds
from ingest.records import BadInput, Loaded
from ingest.walk import expand

__all__ = ["Loaded", "check_file", "expand", "load_file", "read_kind"]

MAX_ARCHIVE_ITEMS = 1000  # the settings' default (NEWSRAG_MAX_ARCHIVE_ITEMS)


def load_file(path: Path, max_bytes: int, max_items: int = MAX_ARCHIVE_ITEMS) -> Iterator[Loaded]:
    """Every article in one file, or one reason it has none; never raises for bad content.

    ``max_items`` is the most messages read from one mailbox, or pages from one web archive. This reads in the
    calling process, with no budget: an ingest reads each file in a worker process (``ingest/reading.py``).
    """
    origin = str(path.resolve())
    checked = check_file(path, max_bytes)
    if isinstance(checked, BadInput):
        yield origin, checked
        return
    yield from read_kind(checked, path, origin, Limits(max_bytes=max_bytes, max_items=max_items))


def check_file(path: Path, max_bytes: int) -> FileKind | BadInput:
    """The kind that reads ``path``, or why it is not read at all (an unknown kind, empty, too large)."""
    registry = kinds()
    kind = registry.of(path)
    if kind is None:
        known = ", ".join(sorted(registry.extensions()))
        return BadInput(f"unsupported file type {registry.file_type(path) or '(none)'}; use {known}")
    limit = kind.size_limit(max_bytes)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return BadInput(f"cannot read: {exc.strerror or exc}")
    if size == 0:
        return BadInput("empty file")
    if size > limit:
        return BadInput(f"too large for {kind.refusal()} ({size / 1e6:.1f} MB > {limit / 1e6:.1f} MB)")
    return kind


def read_kind(kind: FileKind, path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """What ``kind``'s loader reads from ``path`` (checked already); an OSError becomes "cannot read"."""
    try:
        yield from kind.loader()(path, origin, limits)
    except OSError as exc:
        yield origin, BadInput(f"cannot read: {exc.strerror or exc}")
