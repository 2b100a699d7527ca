"""Reading articles from local files: each file to its kind's loader, within the size its kind may have.

The kinds, their loaders and their sizes are the table in ``ingest/kinds.py``; each loader is a module of its
own (``text.py``, ``html_page.py``, ``json_files.py``, ``pdf.py``, ``word.py``, ``mail.py``, ``warc.py``), or a
plugin's (``ingest/loader_plugins.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.filekind import Limits
from ingest.kinds import kinds
from ingest.records import BadInput, Loaded
from ingest.walk import expand

__all__ = ["Loaded", "expand", "load_file"]

MAX_ARCHIVE_ITEMS = 1000  # the settings' default (NEWSRAG_MAX_ARCHIVE_ITEMS)


def load_file(path: Path, max_bytes: int, max_items: int = MAX_ARCHIVE_ITEMS) -> Iterator[Loaded]:
    """Every article in one file, or one reason it has none; never raises for bad content.

    ``max_items`` is the most messages read from one mailbox, or pages from one web archive.
    """
    origin = str(path.resolve())
    registry = kinds()
    kind = registry.of(path)
    if kind is None:
        known = ", ".join(sorted(registry.extensions()))
        yield origin, BadInput(f"unsupported file type {registry.file_type(path) or '(none)'}; use {known}")
        return
    limit = kind.size_limit(max_bytes)
    try:
        size = path.stat().st_size
        if size == 0:
            yield origin, BadInput("empty file")
            return
        if size > limit:
            yield origin, BadInput(f"too large for {kind.refusal()} ({size / 1e6:.1f} MB > {limit / 1e6:.1f} MB)")
            return
        yield from kind.loader()(path, origin, Limits(max_bytes=max_bytes, max_items=max_items))
    except OSError as exc:
        yield origin, BadInput(f"cannot read: {exc.strerror or exc}")
