"""Mailboxes (mbox) split into their messages, read a line at a time: an .mbox file, or a Mailman 2 list's monthly
archive as pipermail writes it (``2019-March.txt``, gzipped as ``2019-March.txt.gz``).

A message starts at a line "From <sender> <date>" (the "From_" line). Where the mailbox's first such line carries
an asctime date ("From jdoe at example.org  Mon Mar  4 10:00:00 2019"), only lines of that shape start a message:
pipermail does not escape a line of text that begins "From " ("From time to time ..."), which would otherwise cut
a message in two. A mailbox whose first line has no such date is split at every "From " line, as Python's
``mailbox`` does.

A .txt file is a pipermail archive when it starts with a From_ line of that shape followed by a header
(:func:`looks_like_mbox`); the table of kinds asks this of every .txt file (``ingest/filekind.py``). A gzipped
archive is unpacked as it is read, at most as far as an uncompressed mailbox may be large.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ingest.records import BadInput

LINE_PIECE = 65_536  # a mailbox is read in lines of at most this many bytes, however long its lines are
_FROM_LINE = re.compile(
    rb"^From \S.* (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]?\d "
    rb"\d\d:\d\d(?::\d\d)?\b.*\d{4}"
)
_HEADER = re.compile(rb"^[!-9;-~]+:")
GZIP_MAGIC = b"\x1f\x8b"


def looks_like_mbox(head: bytes) -> bool:
    """Whether a file's first bytes are a mailbox's: a From_ line with its date, then a header line."""
    lines = head.lstrip(b"\r\n").split(b"\n", 2)
    return len(lines) >= 2 and bool(_FROM_LINE.match(lines[0])) and bool(_HEADER.match(lines[1]))


@contextmanager
def opened(path: Path) -> Iterator[BinaryIO]:
    """The mailbox's bytes, unpacked as they are read if the file is gzipped."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not gzipped:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
            yield unpacked  # type: ignore[misc]


def split_mbox(stream: BinaryIO, limit: int, total_limit: int | None = None) -> Iterator[bytes | None]:
    """Each message of an mbox (without its "From " line); None for one over ``limit`` bytes, which is not kept.

    BadInput when the stream is not a mailbox, when it unpacks past ``total_limit`` bytes, or when its compressed
    data is damaged (the messages before are yielded first).
    """
    data: bytearray | None = None
    over = started = False
    strict: bool | None = None  # whether only From_ lines with a date start a message: the first one tells
    line_start = True
    read = 0
    for piece in _lines(stream):
        read += len(piece)
        if total_limit is not None and read > total_limit:
            raise BadInput(f"it unpacks to more than {total_limit / 1e6:.0f} MB (a decompression bomb?)")
        if line_start and piece.startswith(b"From ") and (not strict or _FROM_LINE.match(piece)):
            if started:
                yield None if over else bytes(data or b"")
            strict = bool(_FROM_LINE.match(piece)) if strict is None else strict
            data, over, started = bytearray(), False, True
        elif not started:
            if piece.strip():
                raise BadInput("not an mbox mailbox: it does not start with a 'From ' line")
        elif not over:
            assert data is not None
            data += piece
            if len(data) > limit:
                data, over = None, True
        line_start = piece.endswith(b"\n")
    if started:
        yield None if over else bytes(data or b"")


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's lines (pieces of at most LINE_PIECE bytes); BadInput where its compressed data is damaged."""
    try:
        while piece := stream.readline(LINE_PIECE):
            yield piece
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise BadInput(f"the compressed mailbox is damaged or cut short ({exc})") from exc
