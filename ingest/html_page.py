"""Reading a saved web page (.html, .htm): one article, by trafilatura, as a page fetched from the web is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.filekind import Limits
from ingest.records import BadInput, Loaded, from_html


def load_html(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """The article a saved page holds, or why it has none."""
    data = path.read_bytes()
    try:
        yield origin, from_html(data, origin, max_bytes=limits.max_bytes)
    except BadInput as exc:
        yield origin, exc
