"""Walking a folder: the files newsrag reads, and every file it leaves unread with the reason why.

A folder of PDFs once ingested as "0 added, 0 failed" in silence; now what a walk passes over is counted by
kind in the report (``IngestReport.unread``), and named with ``newsrag ingest --verbose``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.article import Unread
from ingest.kinds import kinds

HIDDEN = "hidden (its name, or a folder's above it, starts with a dot)"


def unsupported(kind: str) -> str:
    """Why a file of ``kind`` is not read."""
    return f"not a kind newsrag reads ({kind or 'no extension'}); it reads {', '.join(sorted(kinds().extensions()))}"


@dataclass
class Walk:
    """What a walk found: the files to read, in order, and those it passed over."""

    files: list[Path] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)


def walk(path: Path) -> Walk:
    """The supported files at ``path`` (itself, or everything below it) and the unread ones, with reasons.

    A hidden file or folder (``.git``, ``.DS_Store``) is reported once, at its top: what is inside it is not listed.
    A file named directly is always returned: reading it says why it cannot be read.
    """
    found = Walk()
    if not path.is_dir():
        found.files.append(path)
        return found
    hidden: set[Path] = set()
    registry = kinds()
    for child in sorted(path.rglob("*")):
        parts = child.relative_to(path).parts
        top_hidden = next((i for i, p in enumerate(parts) if p.startswith(".")), None)
        if top_hidden is not None:
            top = path.joinpath(*parts[: top_hidden + 1])
            if top not in hidden:
                hidden.add(top)
                found.unread.append(Unread(path=str(top), kind="hidden", reason=HIDDEN))
            continue
        if not child.is_file():
            continue
        if registry.of(child) is not None:
            found.files.append(child)
        else:
            kind = registry.file_type(child)
            found.unread.append(Unread(path=str(child), kind=kind or "(none)", reason=unsupported(kind)))
    return found


def expand(path: Path) -> Iterator[Path]:
    """The supported files at ``path``: itself, or everything below it (hidden files skipped)."""
    yield from walk(path).files
