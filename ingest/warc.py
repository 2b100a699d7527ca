"""Web archives (.warc, .warc.gz, as crawlers and archiving tools write them), read with warcio.

Every HTML response (status 2xx) is read as the page at its URL, as a fetched page would be
(``records.from_html``), with the capture date kept as ``seen_at`` ("seen 2024-03-01" in a citation). The
archive is read a record at a time; at most ``max_items`` pages (NEWSRAG_MAX_ARCHIVE_ITEMS) are read, and a
compressed archive is unpacked at most ``UNPACK_FACTOR`` times its size limit.

warcio's own warnings (a record not followed by its blank lines, a Target-URI with spaces) go to stderr or its log
without the archive's name; here they are logged with it.

A truncated or damaged archive keeps the pages read before the damage, and one line says where it stopped:
a page is yielded only once its whole record was read, so never half an article. warcio itself ends quietly
at a cut gzip member or a short last record, so both are checked here: the gzip stream is unpacked by Python's
``gzip`` (which raises at a cut member), and each record's block must be read to its declared length.
"""

from __future__ import annotations

import functools
import gzip
import logging
import zlib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO

from ingest.clean import normalise_date
from ingest.filekind import Limits
from ingest.kinds import size_limit
from ingest.records import BadInput, Loaded, Skipped, from_html

UNPACK_FACTOR = 5  # web pages pack 4-6 times in gzip; far more than that is a decompression bomb
HTML_TYPES = ("text/html", "application/xhtml+xml")
READ_BLOCK = 65_536
log = logging.getLogger(__name__)
_reading: ContextVar[str] = ContextVar("warc_reading", default="")  # the archive being read, for warcio's log


class Damaged(Exception):
    """The archive cannot be read on (cut short, corrupt, or unpacking past its limit); the message says which.

    Not an EOFError or OSError: warcio takes those for the archive's normal end.
    """


class _Unpacked:
    """The archive's bytes as warcio reads them: unpacked if gzipped, counted, damage raised as :class:`Damaged`."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        self.inner: Any = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
        self.limit, self.count = limit, 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.inner.read1(size if size is not None and size >= 0 else READ_BLOCK)
        except EOFError as exc:
            raise Damaged("it is cut short (truncated in the middle of a record)") from exc
        except (OSError, zlib.error) as exc:
            raise Damaged(f"its compressed data is damaged ({exc})") from exc
        self.count += len(data)
        if self.count > self.limit:
            raise Damaged(f"it unpacks to more than {self.limit / 1e9:.1f} GB (a decompression bomb?)")
        return data

    def tell(self) -> int:
        return self.count


def load_warc(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """The article of each HTML page in the archive, in order, then a line for what was not read."""
    max_bytes, max_items = limits.max_bytes, limits.max_items
    pages = others = read = misframed = number = 0
    limit = size_limit(".warc", max_bytes) * UNPACK_FACTOR
    with path.open("rb") as raw:
        unpacked = _Unpacked(raw, limit)
        archive = _iterator()(unpacked)
        try:
            for number, record in enumerate(_records(archive, origin), start=1):
                misframed = _warn_misframed(archive, origin, number - 1, misframed)
                if record.format != "warc":  # warcio takes any line of five words for an old ARC record
                    raise ValueError(f"record {number} is not a WARC record")
                if not _is_page(record):
                    others += record.rec_type in ("response", "resource")
                    _drain(record, number)
                    continue
                pages += 1
                if pages > max_items:
                    reason = f"skipped: only the first {max_items:,} pages of a web archive are read"
                    yield f"{origin}#pages{pages}-", Skipped(reason + " (NEWSRAG_MAX_ARCHIVE_ITEMS)")
                    break
                yield _page(record, number, origin, max_bytes)
                read += 1
            else:
                _warn_misframed(archive, origin, number, misframed)
                # warcio ends quietly at a record whose headers are cut off: bytes past the last whole record
                if unpacked.count > archive.offset:
                    raise Damaged("it is cut short (an incomplete record at its end)")
        except Exception as exc:  # warcio raises assorted errors on a damaged archive; the pages before it stay
            yield origin, BadInput(_damage(exc, unpacked, read))
            return
    if pages == 0:
        yield origin, BadInput(f"no HTML pages in the web archive ({others} other responses)")
    elif others:
        reason = f"not read: {others} responses that are not HTML pages (images, scripts, styles, redirects, errors)"
        yield f"{origin}#other", Skipped(reason)


@functools.cache
def _iterator() -> type:
    """warcio's ArchiveIterator, its stderr warning silenced (:func:`_warn_misframed` logs it, naming the archive),
    and its log's warnings prefixed with the archive's name."""
    from warcio.archiveiterator import ArchiveIterator

    logging.getLogger("warcio.recordloader").addFilter(_name_archive)

    class Iterator(ArchiveIterator):  # type: ignore[misc]
        INC_RECORD = ""  # written to stderr as is; warcio still counts it in err_count

    return Iterator


def _records(archive: Any, origin: str) -> Iterator[Any]:
    """The archive's records, warcio's log naming ``origin`` while it reads each (and only then: a page is
    yielded to code that may read another archive)."""
    records = iter(archive)
    while True:
        naming = _reading.set(origin)
        try:
            record = next(records)
        except StopIteration:
            return
        finally:
            _reading.reset(naming)
        yield record


def _name_archive(record: logging.LogRecord) -> bool:
    """Prefix a warcio log line with the archive being read (in this thread or task)."""
    if name := _reading.get():
        record.msg, record.args = f"{name}: {record.getMessage()}", ()
    return True


def _warn_misframed(archive: Any, origin: str, number: int, warned: int) -> int:
    """Log the records warcio found not followed by the blank lines that end a record since the last call (their
    Content-Length is likely wrong; reading goes on at the next record). Returns the count so far."""
    if archive.err_count > warned:
        log.warning(
            "%s: record %d is not followed by the blank lines that end a record (its Content-Length may be wrong);"
            " reading on at the next record",
            origin,
            number,
        )
    return archive.err_count


def _damage(exc: Exception, unpacked: _Unpacked, read: int) -> str:
    """Why the archive could not be read on. A cut gzip member shows only at the next read, after warcio has
    already choked on the short data it got, so the rest of the stream is read to find the real cause."""
    if not isinstance(exc, Damaged):
        try:
            while unpacked.read(READ_BLOCK):
                pass
        except Damaged as cause:
            exc = cause
    detail = " ".join(str(exc).split())[:200]
    if not isinstance(exc, Damaged):
        detail = f"{type(exc).__name__}: {detail}".rstrip(": ")
    what = "damaged" if isinstance(exc, Damaged) or read else "not a web archive, or a damaged one"
    return f"{what}: {detail}" + (f"; the {read} page(s) before the damage are read" if read else "")


def _drain(record: Any, number: int) -> None:
    """Read a record to its end (as warcio would), so that one cut short is found even if it is not a page."""
    while record.raw_stream.read(READ_BLOCK):
        pass
    if getattr(record.raw_stream, "limit", 0) > 0:  # the file ended before the record's declared length
        raise Damaged(f"it is cut short in record {number}")


def _is_page(record: Any) -> bool:
    """An HTML page that was served: a 2xx response (or an archived resource) of an HTML type."""
    if record.rec_type not in ("response", "resource"):
        return False
    headers = record.http_headers
    if record.rec_type == "response":
        if headers is None or not str(headers.get_statuscode() or "").startswith("2"):
            return False
        kind = headers.get_header("Content-Type") or ""
    else:
        kind = record.rec_headers.get_header("Content-Type") or ""
    return kind.split(";", 1)[0].strip().lower() in HTML_TYPES


def _page(record: Any, number: int, origin: str, max_bytes: int) -> Loaded:
    """The article of one page record; :class:`Damaged` when the record is cut short."""
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    where = f"{origin}#record{number}" + (f" ({url[:200]})" if url else "")
    stream = record.content_stream()
    body = bytearray()
    while block := stream.read(READ_BLOCK):
        body += block
        if len(body) > max_bytes:
            return where, BadInput(f"page larger than {max_bytes / 1e6:.1f} MB")
    _drain(record, number)
    try:
        article = from_html(bytes(body), origin=origin, url=url, max_bytes=max_bytes)
    except BadInput as exc:
        return where, exc
    seen = normalise_date(record.rec_headers.get_header("WARC-Date"))
    return where, article.model_copy(update={"seen_at": seen})
