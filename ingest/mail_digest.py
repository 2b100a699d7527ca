"""Digests: the messages a mailing list's digest (or a message forwarding others) holds, each one read on its own.

A MIME digest (RFC 2046's multipart/digest, as Mailman sends) holds each message as a message/rfc822 part; so
does a message that forwards others as attachments. A plain-text digest (RFC 1153, Mailman's "plain" digests) is
one text/plain body: a masthead and "Today's Topics:", a line of 70 dashes, then the messages, each a header
block ("Message: 3", From, Date, Subject) and its text, separated by lines of 30 dashes, then the footer.

The masthead, the topics list and the footer are not messages: only the enclosed messages are read. A line of 30
dashes separates messages only where a header block follows it; otherwise it is a line of the message's text.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage

# RFC 1153: 70 dashes end the preamble, 30 separate the messages; Mailman writes exactly these.
_PREAMBLE_END = re.compile(r"^-{70}[ \t]*$", re.MULTILINE)
_SEPARATOR = re.compile(r"^-{30}[ \t]*$", re.MULTILINE)
_HEADER_LINE = re.compile(r"^[!-9;-~]+:[ \t]")
_MESSAGE_HEADERS = ("from", "subject", "date")
_FOOTER_SUBJECT = re.compile(r"^digest footer$", re.IGNORECASE)
MAX_DEPTH = 3  # a digest forwarded inside a digest is read; deeper nesting is not a digest but a trap


@dataclass(frozen=True)
class Enclosed:
    """The messages a message holds, and whether the message is a digest (its own text is then not read)."""

    messages: list[EmailMessage]
    digest: bool


def enclosed(parsed: EmailMessage) -> Enclosed:
    """The messages ``parsed`` encloses: its message/rfc822 parts, or a plain-text digest's messages."""
    parts = _rfc822_parts(parsed)
    if parts or _has_part(parsed, "multipart/digest"):
        return Enclosed(parts, digest=_has_part(parsed, "multipart/digest"))
    if parsed.get_content_type() == "text/plain":
        messages = text_digest(_text(parsed))
        if messages is not None:
            return Enclosed(messages, digest=True)
    return Enclosed([], digest=False)


def text_digest(body: str) -> list[EmailMessage] | None:
    """The messages of a plain-text digest (the footer left out); None when ``body`` is not one."""
    body = body.replace("\r\n", "\n")
    preamble = _PREAMBLE_END.search(body)
    if preamble is None or "Today's Topics:" not in body[: preamble.start()]:
        return None
    chunks: list[str] = []
    for piece in _SEPARATOR.split(body[preamble.end() :]):
        if _starts_with_headers(piece) or not chunks:
            chunks.append(piece)
        else:  # a line of dashes inside a message's text
            chunks[-1] += "-" * 30 + piece
    messages = [_parse(chunk.strip("\n") + "\n") for chunk in chunks if _starts_with_headers(chunk)]
    return [m for m in messages if _is_message(m)]


def _starts_with_headers(chunk: str) -> bool:
    first = chunk.lstrip("\n").split("\n", 1)[0]
    return bool(_HEADER_LINE.match(first))


def _is_message(message: EmailMessage) -> bool:
    """A message, not the digest's footer ("Subject: Digest Footer") or its closing line."""
    if _FOOTER_SUBJECT.match(str(message.get("subject", "")).strip()):
        return False
    return any(message.get(name) for name in _MESSAGE_HEADERS)


def _parse(text: str) -> EmailMessage:
    message = email.message_from_string(text, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _rfc822_parts(parsed: EmailMessage, depth: int = 0) -> list[EmailMessage]:
    """The messages enclosed as message/rfc822 parts, in order (a digest inside a digest: its messages)."""
    found: list[EmailMessage] = []
    if depth > MAX_DEPTH or not parsed.is_multipart():
        return found
    for part in parsed.iter_parts():
        if not isinstance(part, EmailMessage):
            continue
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload(0) if part.is_multipart() else None
            if isinstance(inner, EmailMessage):
                nested = _rfc822_parts(inner, depth + 1) if _has_part(inner, "multipart/digest") else []
                found.extend(nested or [inner])
        elif part.is_multipart():
            found.extend(_rfc822_parts(part, depth + 1))
    return found


def _has_part(parsed: EmailMessage, content_type: str) -> bool:
    return any(part.get_content_type() == content_type for part in parsed.walk())


def _text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        return ""
    return content if isinstance(content, str) else ""
