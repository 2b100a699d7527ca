"""Why a write under a folder fails, in words a user can act on: the folder is read-only, or its disk is full.

The index, the question log and the upload folder all live under ``index_dir``; when a write there
fails, the library's own error (a SQLite code, a Chroma compaction error) rarely says why.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

# Under this much free space a disk counts as full. The index stops taking new articles there: Chroma's
# embedded database can hang for good when its disk fills up completely (seen with chromadb 1.5.9).
LOW_SPACE_BYTES = 8_000_000


def free_bytes(path: Path) -> int | None:
    """Free space for unprivileged writers on the disk holding ``path`` (or its nearest existing parent)."""
    try:
        fs = os.statvfs(_nearest_existing(path))
    except OSError:
        return None
    return fs.f_bavail * fs.f_frsize


def disk_problem(path: Path, exc: BaseException | None = None) -> str:
    """What stops writes under ``path``: "is read-only", "is on a full disk (120 KB free)", or "" if neither."""
    code = getattr(exc, "errno", None)
    try:
        read_only = bool(os.statvfs(_nearest_existing(path)).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if code == errno.EROFS or read_only:
        return "is read-only"
    free = free_bytes(path)
    if code in (errno.ENOSPC, errno.EDQUOT) or (free is not None and free < LOW_SPACE_BYTES):
        return "is on a full disk" + (f" ({free // 1024} KB free)" if free is not None else "")
    return ""


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path
