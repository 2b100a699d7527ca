"""E-mail newsletters: one .eml message, or every message of an .mbox mailbox, each one article.

The Subject is the title, the sender's name (From) the source, the Date the date. The HTML part is read as a web
page is (``records.html_document``: hidden text dropped, trafilatura), after the newsletter's own furniture is
taken out (``ingest/newsletter.py``); a message without HTML is read from its plain-text part. Attachments are
not read, and a note says so.

A mailbox is read a message at a time (memory stays within one message), and at most ``max_items`` messages
(NEWSRAG_MAX_ARCHIVE_ITEMS) are read from it: an export of 10,000 messages indexes its first ones, and one
line says how many were skipped, so that the batch still finishes in reasonable time.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, BinaryIO

from ingest.article import Article
from ingest.filekind import Limits
from ingest.kinds import size_limit
from ingest.newsletter import strip_html, strip_lines
from ingest.records import BadInput, Loaded, Skipped, finish, html_document
from rag.core.types import capped

LINE_PIECE = 65_536  # an mbox is read in lines of at most this many bytes, however long its lines are


def load_eml(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """The article one .eml message holds, then a note on its attachments, if any."""
    yield from message(path.read_bytes(), origin, origin, limits.max_bytes)


def load_mbox(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """The article of each of the mailbox's first ``max_items`` messages, then one line for the rest, if any."""
    max_bytes, max_items = limits.max_bytes, limits.max_items
    limit = size_limit(".eml", max_bytes)  # a message in a mailbox may be as large as one in an .eml file
    count = 0
    with path.open("rb") as stream:
        try:
            for count, data in enumerate(split_mbox(stream, limit), start=1):
                if count > max_items:
                    continue  # counted, not read
                where = f"{origin}#message{count}"
                if data is None:
                    yield where, BadInput(f"message larger than {limit / 1e6:.1f} MB")
                else:
                    yield from message(data, where, origin, max_bytes)
        except BadInput as exc:
            yield origin, exc
            return
    if count == 0:
        yield origin, BadInput("no messages in the mailbox")
    elif count > max_items:
        reason = f"skipped: the mailbox holds {count:,} messages, and only the first {max_items:,} are read"
        yield f"{origin}#messages{max_items + 1}-{count}", Skipped(reason + " (NEWSRAG_MAX_ARCHIVE_ITEMS)")


def split_mbox(stream: BinaryIO, limit: int) -> Iterator[bytes | None]:
    """Each message of an mbox (without its "From " line); None for one over ``limit`` bytes, which is not kept.

    A message starts at every line that starts with "From ", as Python's ``mailbox`` reads them (inside a
    message such a line is written ">From ").
    """
    data: bytearray | None = None
    over = started = False
    line_start = True
    while piece := stream.readline(LINE_PIECE):
        if line_start and piece.startswith(b"From "):
            if started:
                yield None if over else bytes(data or b"")
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


def message(data: bytes, where: str, origin: str, max_bytes: int) -> Iterator[Loaded]:
    """The article of one message, then a note on its attachments; BadInput when it has no usable text."""
    try:
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        yield where, _article(parsed, origin, max_bytes)
    except BadInput as exc:
        yield where, exc
        return
    names = [_attachment_name(part) for part in _attachments(parsed)]
    if names:
        listed = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
        yield f"{where}#attachments", Skipped(f"{len(names)} attachment(s) not read: {listed}")


def _article(parsed: EmailMessage, origin: str, max_bytes: int) -> Article:
    title, source, date = _header(parsed, "subject"), _sender(parsed), _date(parsed)
    texts: list[str] = []
    html = _part(parsed, "html")
    problem = None
    if html is not None:
        try:
            texts.append(html_document(strip_html(_content(html)), max_bytes=max_bytes).text)
        except BadInput as exc:  # fall back to the plain-text part, if there is one
            problem = exc
    plain = _part(parsed, "plain") if not texts else None
    if plain is not None:
        texts.append(_content(plain))
    if not texts:
        raise problem or BadInput("no text or HTML part to read")
    return finish(strip_lines(texts[0]), title=title, source=source, date=date, date_source="mail", origin=origin)


def _part(parsed: EmailMessage, kind: str) -> EmailMessage | None:
    try:
        part = parsed.get_body(preferencelist=(kind,))
    except (KeyError, TypeError, ValueError):  # a malformed multipart structure
        return None
    return part if isinstance(part, EmailMessage) else None


def _content(part: EmailMessage) -> str:
    """A text part's text, decoded by its charset (by UTF-8, with replacements, for a charset Python lacks)."""
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, ValueError, AssertionError):
        pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def _header(parsed: EmailMessage, name: str) -> str:
    try:
        return " ".join(str(parsed.get(name, "") or "").split())
    except (ValueError, TypeError, IndexError):  # a header the parser cannot decode
        return ""


def _sender(parsed: EmailMessage) -> str:
    """The sender's display name ("The Morning Brief"), else the domain of the address."""
    try:
        addresses = parsed["from"].addresses if parsed["from"] is not None else ()
    except (AttributeError, ValueError, TypeError, IndexError):
        return _header(parsed, "from")
    for address in addresses:
        if address.display_name.strip():
            return address.display_name.strip()
        if address.domain:
            return address.domain
    return ""


def _date(parsed: EmailMessage) -> Any:
    try:
        header = parsed["date"]
        return getattr(header, "datetime", None) or (str(header) if header else None)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


def _attachments(parsed: EmailMessage) -> list[EmailMessage]:
    try:
        return [p for p in parsed.iter_attachments() if isinstance(p, EmailMessage)]
    except (KeyError, TypeError, ValueError):
        return []


def _attachment_name(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or part.get_content_type()
    except (ValueError, TypeError, IndexError):
        name = "(unnamed)"
    return capped(str(name), 80)
