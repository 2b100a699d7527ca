"""The furniture of e-mail newsletters: unsubscribe and preference links, "view in browser", tracking pixels.

Recognised by general rules (what these blocks say, and that they are short), never by listing particular
senders. The HTML rules run before trafilatura reads the message as it reads a web page; the line rules run on
the text after it, and on plain-text messages.
"""

from __future__ import annotations

import re
from typing import Any

from ingest.records import remove_element
from ingest.tables import flatten_tables

# Blocks longer than this are text, even if they mention unsubscribing: furniture is a line or two.
MAX_FURNITURE_CHARS = 160
FURNITURE = re.compile(
    r"\bunsubscribe\b|\bopt[ -]out\b"
    r"|\bview (?:this |it |the )?(?:e-?mail |newsletter |message |issue )?(?:in|on) (?:your |a |the )?"
    r"(?:web )?browser\b"
    r"|\b(?:view|read) (?:this |the )?(?:e-?mail|newsletter|issue|message) (?:online|on the web)\b|\bview online\b"
    r"|\bweb version\b|\b(?:trouble|problems?|difficulty) (?:viewing|reading|seeing) this\b"
    r"|\b(?:update|manage|change|edit) (?:your )?(?:e-?mail |subscription |newsletter )?"
    r"(?:preferences|subscriptions?|settings)\b"
    r"|\byou(?:'re|’re| are) receiving this\b|\bwhy (?:did|am) i (?:get|getting|receiving) this\b"
    r"|\bforward (?:this )?(?:e-?mail |newsletter |message )?to a friend\b|\bwas (?:this|it) forwarded to you\b"
    r"|\badd (?:us|\S+@\S+) to your (?:address book|contacts|safe senders?)\b"
    r"|\bthis (?:e-?mail|message|newsletter) was sent (?:to|by)\b|\bsent to \S+@\S+"
    r"|\bour mailing address is\b|\bpowered by (?:mailchimp|substack|beehiiv|convertkit|sendgrid|buttondown)\b",
    re.IGNORECASE,
)
_FURNITURE_LINK = re.compile(r"unsubscribe|optout|opt-out|/preferences|list-manage\.com/(?:profile|unsubscribe)", re.I)
_ONLY_LINK = re.compile(r"^(?:\[\d+\]\s*)?<?https?://\S+>?$")
_SIGNATURE = "-- "  # the line that starts a plain-text signature (RFC 3676)
_FRAME = ("html", "head", "body")


def strip_html(html: str) -> str:
    """The newsletter's HTML without its furniture blocks and tracking pixels (as HTML, for trafilatura)."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.document_fromstring(html)
    except (ValueError, etree.ParserError):  # empty or unparseable: trafilatura says why
        return html
    doomed: dict[Any, None] = {}  # in document order, so the outermost block of furniture is met first
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag.lower() in _FRAME:
            continue
        if any(a in doomed for a in element.iterancestors()):  # inside a block already dropped
            continue
        if _is_furniture(element):
            doomed[element] = None
    for element in doomed:
        remove_element(element)
    # Newsletters are laid out with tables, whose cells are blocks of text: those are unwrapped, and a table of
    # data among them (prices, a schedule) keeps its rows, one line each (ingest/tables.py).
    flatten_tables(root)
    return lxml_html.tostring(root, encoding="unicode")


def _is_furniture(element: Any) -> bool:
    tag = element.tag.lower()
    if tag == "img":
        return _is_pixel(element)
    if tag == "a" and _FURNITURE_LINK.search(element.get("href") or ""):
        return True
    text = " ".join(element.text_content().split())
    return 0 < len(text) <= MAX_FURNITURE_CHARS and bool(FURNITURE.search(text))


def _is_pixel(image: Any) -> bool:
    """A tracking pixel: an image of at most 2 by 2 pixels (it reports that the message was opened)."""
    sizes = [re.match(r"\s*(\d+)", image.get(side) or "") for side in ("width", "height")]
    return any(m is not None and int(m.group(1)) <= 2 for m in sizes)


def strip_lines(text: str) -> str:
    """The text without furniture lines, lines that are only a link, and a plain-text signature."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line == _SIGNATURE or line.rstrip() == "--":
            break
        bare = " ".join(line.split())
        if _ONLY_LINK.match(bare) or (len(bare) <= MAX_FURNITURE_CHARS and FURNITURE.search(bare)):
            continue
        kept.append(line)
    return "\n".join(kept)
