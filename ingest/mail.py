"""E-mail: one .eml message, or every message of a mailbox (.mbox, a pipermail archive), each one article.

The Subject is the title, the sender's name (From) the source, the Date the date. The HTML part is read as a web
page is (``records.html_document``: hidden text dropped, trafilatura), after the newsletter's own furniture is
taken out (``ingest/newsletter.py``); a message without HTML is read from its plain-text part. Attachments are
not read, and a note says so.

Mail is read as people read it:

- a digest's messages are articles of their own, with their own sender, subject and date; the digest's masthead,
  topics and footer are not read (``ingest/mail_digest.py``); so are messages forwarded as attachments;
- what a reply quotes, a list's footer and pipermail's notes are not indexed (``ingest/mail_text.py``): a reply
  with fewer than five words of its own is skipped, with a line saying so, as the messages it quotes are read on
  their own;
- the sender of pipermail's ``jdoe at example.org (John Doe)`` is "John Doe";
- where subjects repeat in one mailbox or digest, each title carries its date (``ingest/mail_titles.py``).

A mailbox is read a message at a time (memory stays within one message), and at most ``max_items`` messages
(NEWSRAG_MAX_ARCHIVE_ITEMS) are read from it: an export of 10,000 messages indexes its first ones, and one
line says how many were skipped, so that the batch still finishes in reasonable time. It is read twice: first
its headers only, for the titles, then its messages.
"""

from __future__ import annotations

import email
import email.errors
import email.parser
import email.policy
import email.utils
import re
from collections.abc import Iterator
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ingest.article import Article
from ingest.filekind import Limits
from ingest.kinds import size_limit
from ingest.mail_digest import enclosed
from ingest.mail_text import OwnText, html_without_quotes, is_list_footer, own_text
from ingest.mail_titles import Heading, titles
from ingest.mailbox import looks_like_mbox, opened, split_mbox
from ingest.newsletter import strip_html, strip_lines
from ingest.records import MIN_WORDS, BadInput, Loaded, Skipped, finish, html_document
from ingest.unwrap import unwrap
from rag.core.text import word_count
from rag.core.types import capped

__all__ = ["load_eml", "load_mbox", "looks_like_mbox", "message"]

_OBFUSCATED = re.compile(r"^\s*([^\s@<>()]+) at ([^\s@<>()]+\.[^\s@<>()]+)\s*")  # pipermail: "jdoe at example.org"
_NOT_ATTACHMENTS = ("application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature")


def load_eml(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """The article one .eml message holds (a digest's: one per message), then a note on its attachments."""
    yield from message(path.read_bytes(), origin, origin, limits.max_bytes)


def load_mbox(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """The article of each of the mailbox's first ``max_items`` messages, then one line for the rest, if any."""
    max_bytes, max_items = limits.max_bytes, limits.max_items
    limit = size_limit(".eml", max_bytes)  # a message in a mailbox may be as large as one in an .eml file
    total = size_limit(".mbox", max_bytes)  # and a gzipped archive unpacks as far as a mailbox may be large
    named = _mailbox_titles(path, limit, total, max_items)
    count = 0
    with opened(path) as stream:
        try:
            for count, data in enumerate(split_mbox(stream, limit, total), start=1):
                if count > max_items:
                    continue  # counted, not read
                where = f"{origin}#message{count}"
                if data is None:
                    yield where, BadInput(f"message larger than {limit / 1e6:.1f} MB")
                else:
                    yield from message(data, where, origin, max_bytes, named.get(count))
        except BadInput as exc:
            yield origin, exc
            return
    if count == 0:
        yield origin, BadInput("no messages in the mailbox")
    elif count > max_items:
        reason = f"skipped: the mailbox holds {count:,} messages, and only the first {max_items:,} are read"
        yield f"{origin}#messages{max_items + 1}-{count}", Skipped(reason + " (NEWSRAG_MAX_ARCHIVE_ITEMS)")


def _mailbox_titles(path: Path, limit: int, total: int, max_items: int) -> dict[int, str]:
    """The title of each of the mailbox's first ``max_items`` messages, by number, from their headers alone."""
    headings: dict[int, Heading] = {}
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    with opened(path) as stream:
        try:
            for count, data in enumerate(split_mbox(stream, limit, total), start=1):
                if count > max_items:
                    break
                if data is not None:
                    headings[count] = _heading(parser.parsebytes(data))  # type: ignore[arg-type]
        except BadInput:
            pass  # the second reading says why
    return dict(zip(headings, titles(list(headings.values())), strict=True))


def message(data: bytes, where: str, origin: str, max_bytes: int, title: str | None = None) -> Iterator[Loaded]:
    """The article of one message (or of each message a digest holds), then a note on its attachments."""
    try:
        parsed = email.message_from_bytes(data, policy=email.policy.default)
    except (ValueError, TypeError, IndexError) as exc:  # the parser is lenient: this is rare
        yield where, BadInput(f"not a readable message ({type(exc).__name__})")
        return
    assert isinstance(parsed, EmailMessage)
    inside = enclosed(parsed)
    if not inside.digest:
        try:
            yield where, _article(parsed, origin, max_bytes, title)
        except BadInput as exc:
            if not inside.messages:  # a message that only forwards others has no text of its own to miss
                yield where, exc
    elif not inside.messages:
        yield where, BadInput("a digest with no messages in it")
    named = titles([_heading(m) for m in inside.messages])
    for number, (part, part_title) in enumerate(zip(inside.messages, named, strict=True), start=1):
        part_where = f"{where}.{number}" if "#message" in where else f"{where}#message{number}"
        try:
            yield part_where, _article(part, origin, max_bytes, part_title)
        except BadInput as exc:
            yield part_where, exc
    names = [] if inside.digest else [_attachment_name(part) for part in _attachments(parsed)]
    if names:
        listed = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
        yield f"{where}#attachments", Skipped(f"{len(names)} attachment(s) not read: {listed}")


def _article(parsed: EmailMessage, origin: str, max_bytes: int, title: str | None) -> Article:
    """One message's article: its own text (without what it quotes), titled, dated and sourced."""
    if title is None:
        title = titles([_heading(parsed)])[0]
    own = _own_text(parsed, max_bytes)
    text = own.text
    words = word_count(text)
    if own.quoted and words < MIN_WORDS:
        said = f"{words} word(s) of its own" if words else "nothing of its own"
        raise Skipped(f"a reply with {said} beside what it quotes (the quoted messages are read on their own)")
    return finish(text, title=title, source=_sender(parsed), date=_date(parsed), date_source="mail", origin=origin)


def _own_text(parsed: EmailMessage, max_bytes: int) -> OwnText:
    """The message's text from its HTML part (else its plain-text part), without what it quotes and without its
    furniture lines."""
    html = _part(parsed, "html")
    problem = None
    if html is not None:
        try:
            own = html_without_quotes(_content(html))
            return OwnText(strip_lines(html_document(strip_html(own.text), max_bytes=max_bytes).text), own.quoted)
        except BadInput as exc:  # fall back to the plain-text part, if there is one
            problem = exc
    plain = _part(parsed, "plain")
    if plain is None:
        raise problem or BadInput("no text or HTML part to read")
    own = own_text(_content(plain))
    # Plain-text mail is wrapped at ~72 columns; its furniture lines (a bare link) go first, or they would be joined.
    return OwnText(unwrap(strip_lines(own.text)), own.quoted)


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


def _heading(parsed: EmailMessage) -> Heading:
    return Heading(_header(parsed, "subject"), _datetime(parsed), _sender(parsed), _header(parsed, "list-id"))


def _sender(parsed: EmailMessage) -> str:
    """The sender's display name ("The Morning Brief", or the comment of ``jdoe at example.org (John Doe)``),
    else the domain of the address."""
    raw = _raw_header(parsed, "from")
    name, address = email.utils.parseaddr(_OBFUSCATED.sub(r"\1@\2 ", raw))
    if name.strip():
        return " ".join(name.split())
    if "@" in address:
        return address.rsplit("@", 1)[1].strip().lower()
    return " ".join(raw.split())


def _raw_header(parsed: EmailMessage, name: str) -> str:
    """A header as written, its encoded words decoded: the parsed form drops the (Name) comment pipermail uses."""
    for key, value in parsed.raw_items():
        if key.lower() == name:
            try:
                return str(make_header(decode_header(str(value))))
            except (LookupError, ValueError, UnicodeDecodeError, email.errors.HeaderParseError):
                return str(value)
    return ""


def _datetime(parsed: EmailMessage) -> datetime | None:
    try:
        header = parsed["date"]
        value = getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return value if isinstance(value, datetime) else None


def _date(parsed: EmailMessage) -> Any:
    try:
        header = parsed["date"]
        return getattr(header, "datetime", None) or (str(header) if header else None)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


def _attachments(parsed: EmailMessage) -> list[EmailMessage]:
    """The parts not read: not the enclosed messages (read), signatures or a list's footer (nothing to read)."""
    try:
        parts = [p for p in parsed.iter_attachments() if isinstance(p, EmailMessage)]
    except (KeyError, TypeError, ValueError):
        return []
    return [p for p in parts if not _nothing_to_read(p)]


def _nothing_to_read(part: EmailMessage) -> bool:
    kind = part.get_content_type()
    if kind in _NOT_ATTACHMENTS or kind == "message/rfc822" or part.get_content_maintype() == "multipart":
        return True  # a multipart part holds the body (multipart/signed) or is counted by its own parts' readers
    return kind == "text/plain" and not part.get_filename() and is_list_footer(_content(part))


def _attachment_name(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or part.get_content_type()
    except (ValueError, TypeError, IndexError):
        name = "(unnamed)"
    return capped(str(name), 80)
