"""Saving a file a user uploads: the kinds newsrag reads and the size allowed only, under a name derived from its
content."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

from ingest.kinds import kinds
from rag.core.disk import PRIVATE_FILE, PRIVATE_FOLDER, disk_problem

log = logging.getLogger(__name__)


def upload_types() -> tuple[str, ...]:
    """The extensions an upload may have: those of every kind newsrag reads (a loader plugin's too)."""
    return kinds().extensions()


def save_upload(path: Path, uploads: Path, max_bytes: int) -> tuple[Path | None, str]:
    """Copy an upload under a generated name (its content hash + its extension); the user's name is never a path."""
    suffix = kinds().file_type(path)  # ".warc.gz" whole: the generated name keeps what the loader tells kinds by
    if suffix not in upload_types():
        return None, f"unsupported file type {suffix or '(none)'}; use {', '.join(upload_types())}"
    size = path.stat().st_size
    if size > max_bytes:
        return None, f"too large: {size / 1e6:.1f} MB (the upload limit is {max_bytes / 1e6:g} MB)"
    data = path.read_bytes()
    target = uploads / f"{hashlib.sha256(data).hexdigest()[:24]}{suffix}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        try:
            uploads.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
            # Owner-only whatever the umask: an upload is a visitor's file, for the index alone.
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE), "wb") as out:
                out.write(data)
            partial.replace(target)
        except OSError as exc:  # a read-only or full disk
            if partial.exists():  # half-written on a full disk
                partial.unlink()
            problem = disk_problem(uploads, exc) or "cannot be written"
            # The visitor is told why in plain words; where (a server path) and the OS's error go to the log.
            log.warning("could not save an upload in %s: %s (%s)", uploads, problem, exc)
            return None, f"could not save the upload: the server's upload folder {problem}"
    return target, ""


def remove_upload(path: str | Path, folder: Path) -> None:
    """Delete one file the upload route stored in ``folder`` (and its folder, left empty); nothing else, ever."""
    target = Path(path)
    if not target.resolve().is_relative_to(folder.resolve()) or not target.is_file():
        return
    try:
        target.unlink()
        if target.parent.resolve() != folder.resolve() and not any(target.parent.iterdir()):
            target.parent.rmdir()
    except OSError:
        pass  # gone already, or the folder holds another upload meanwhile


def sweep_uploads(paths: Iterable[str], folder: Path, older_than: float = 3600.0) -> int:
    """Delete the uploads among ``paths`` (those the route handed out) older than ``older_than`` seconds: no ingest
    used them. Returns how many were deleted."""
    cutoff, swept = time.time() - older_than, 0
    for path in list(paths):
        try:
            old = Path(path).stat().st_mtime < cutoff
        except OSError:
            continue
        if old:
            remove_upload(path, folder)
            swept += 1
    return swept
