"""Why a write under a folder fails, in words a user can act on: the folder is read-only, or its disk is full.

The index, the question log and the upload folder all live under ``index_dir``; when a write there
fails, the library's own error (a SQLite code, a Chroma compaction error) rarely says why. And what is
written there is its user's alone: :func:`use_private_umask` and :func:`make_private` keep it owner-only.
"""

from __future__ import annotations

import errno
import os
import stat
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


PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
PRIVATE_UMASK = 0o077  # what the CLI and the server create is their user's alone: articles, questions, feeds


def use_private_umask() -> None:
    """Make every file and folder this process creates from now on owner-only.

    For the CLI and the server's entry points only: a library changing its host's umask would surprise it.
    """
    os.umask(PRIVATE_UMASK)


def make_private(folder: Path) -> list[Path]:
    """Tighten ``folder`` and everything under it to owner-only (folders 700, files 600); links are left alone.

    An index written by an older version, or under a lax umask, was readable by every local user (item 8).
    Returns what could not be tightened (not our file, a read-only disk), for a warning.
    """
    stuck: list[Path] = []
    if not folder.is_dir() or folder.is_symlink():
        return stuck
    _tighten(folder, PRIVATE_FOLDER, stuck)
    for parent, folders, files in os.walk(folder):
        for name in folders:
            _tighten(Path(parent, name), PRIVATE_FOLDER, stuck)
        for name in files:
            _tighten(Path(parent, name), PRIVATE_FILE, stuck)
    return stuck


def _tighten(path: Path, wanted: int, stuck: list[Path]) -> None:
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or not stat.S_IMODE(mode) & 0o077:
            return
        path.chmod(wanted)
    except OSError:
        stuck.append(path)
