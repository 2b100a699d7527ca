"""A message's own words: what it quotes, its list footer and its archive's notes taken out of the indexed text.

Replies on mailing lists quote the message they answer (``>`` lines, and a line above them saying who wrote it),
and the list adds its footer to every message; indexed as they are, the same paragraph would be found in every
reply, and a citation would name the wrong message. What is taken out, by general rules (never by listing
senders or lists):

- quoted lines: ``>`` (nested too) and supercite's ``LK>``, wherever they stand (an interleaved reply keeps its
  own lines between them);
- the attribution above a quote: a paragraph of at most three lines just before it, ending with a colon (or with
  the quote's first line ``> wrote:``, where a long line was wrapped), that names a time, a date, an address or
  a verb of saying, in any language ("On Tue, 3 Mar 2020, Jane wrote:", "Dne 10.7.2012 13:48, Paul napsal(a):");
- an Outlook reply's tail: everything from "-----Original Message-----" (and its translations), or from a line
  of underscores followed by ``From:``;
- a list footer: a line of underscores and the block under it, when that block says "mailing list", links to
  "listinfo" or tells how to unsubscribe;
- pipermail's notes on attachments it removed ("-------------- next part --------------" and the block under it);
- in an HTML reply, the quoted message (``<blockquote type="cite">``, Gmail's ``gmail_quote`` blockquote) and its
  attribution (``gmail_attr``, Thunderbird's ``moz-cite-prefix``); a pull quote in a newsletter is a plain
  ``<blockquote>`` and stays.

Libraries were weighed: mail-parser-reply and email-reply-parser cut a message at its first reply header, which
loses an interleaved reply's own lines (and the first needs the languages named in advance); talon pulls in
scikit-learn and has not been released since 2021. The rules are a few lines each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ingest.records import remove_element

_QUOTE = re.compile(r"^\s{0,2}(?:>|[A-Z][A-Za-z]{0,3}>(?:\s|$))")
_WROTE_TAIL = re.compile(r"^\s*(?:\S+\s+)?(?:wrote|writes|said|a écrit|schrieb|escribió|napsal\(a\))\s*:\s*$", re.I)
_SAYING = re.compile(
    r"\b(?:wrote|writes|said|says|a écrit|schrieb|escribió|escreveu|ha scritto|skrev|kirjoitti|napsal|píše"
    r"|написал|napisał|schreef)\b",
    re.IGNORECASE,
)
_TIME_OR_DATE = re.compile(r"\b\d{1,2}:\d{2}\b|\b(?:19|20)\d{2}\b")
_ADDRESS = re.compile(r"\S+@\S+|\S+ at \S+\.\w+")
MAX_ATTRIBUTION_LINES = 3
MAX_ATTRIBUTION_CHARS = 300
_ORIGINAL = re.compile(
    r"^\s*-{3,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original"
    r"|messaggio originale|oorspronkelijk bericht|originalmeddelande|mensagem original)\s*-{3,}\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{20,}\s*$")
_HEADER_FROM = re.compile(r"^\s*(?:from|von|de|da|van|från)\s*:", re.IGNORECASE)
_LIST_FOOTER = re.compile(r"mailing list|/listinfo\b|unsubscribe", re.IGNORECASE)
_NEXT_PART = re.compile(r"^-{5,} next part -{5,}\s*$")
_SCRUBBED = re.compile(r"^An? .{0,40}attachment was scrubbed", re.IGNORECASE)
_HTML_ATTRIBUTION = ("gmail_attr", "moz-cite-prefix")


@dataclass(frozen=True)
class OwnText:
    """The text a message wrote itself, and whether anything it quoted was taken out."""

    text: str
    quoted: bool


def own_text(text: str) -> OwnText:
    """``text`` without its quotes, their attributions, an Outlook reply's tail, list footers and archive notes."""
    lines = _cut_tail(text.replace("\r\n", "\n").split("\n"))
    lines = _without_blocks(lines)
    kept: list[str] = []
    quoted = False
    for index, line in enumerate(lines):
        if _QUOTE.match(line):
            if index == 0 or not _QUOTE.match(lines[index - 1]):  # a quote starts: who wrote it is said above
                _drop_attribution(kept, line)
            quoted = True
            continue
        kept.append(line)
    return OwnText("\n".join(kept).strip("\n"), quoted)


def is_list_footer(text: str) -> bool:
    """Whether ``text`` (a part of its own, as Mailman adds it to a MIME message) is only a list footer."""
    lines = text.replace("\r\n", "\n").split("\n")
    return bool(text.strip()) and not any(line.strip() for line in _without_blocks(lines))


def _cut_tail(lines: list[str]) -> list[str]:
    """The lines above an Outlook reply's quoted original, which it appends whole below the reply."""
    for index, line in enumerate(lines):
        if _ORIGINAL.match(line):
            return lines[:index]
        if _RULE.match(line) and index + 1 < len(lines) and _HEADER_FROM.match(lines[index + 1]):
            return lines[:index]
    return lines


def _without_blocks(lines: list[str]) -> list[str]:
    """The lines without list footers and pipermail's notes on scrubbed attachments (each a line and its block)."""
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        end = _block_end(lines, index + 1)
        if _RULE.match(line) and _LIST_FOOTER.search("\n".join(lines[index + 1 : end])):
            index = end
            continue
        if _NEXT_PART.match(line):
            # the block below is the scrubber's note, else the text of a part pipermail kept inline
            index = end if index + 1 < len(lines) and _SCRUBBED.match(lines[index + 1]) else index + 1
            continue
        kept.append(line)
        index += 1
    return kept


def _block_end(lines: list[str], start: int) -> int:
    """Where the block of non-blank lines starting at ``start`` ends (a blank line, or the end)."""
    end = start
    while end < len(lines) and lines[end].strip():
        end += 1
    return end


def _drop_attribution(kept: list[str], first_quote: str) -> None:
    """Take the attribution paragraph (who wrote what follows) off the end of ``kept``, if it is one."""
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    start = end
    while start and kept[start - 1].strip() and end - start < MAX_ATTRIBUTION_LINES:
        start -= 1
    if start and kept[start - 1].strip():  # a longer paragraph: its last line is text, not an attribution
        return
    paragraph = " ".join(line.strip() for line in kept[start:end])
    wrapped = bool(_WROTE_TAIL.match(_QUOTE.sub("", first_quote, count=1)))
    if not paragraph or len(paragraph) > MAX_ATTRIBUTION_CHARS or not (paragraph.endswith(":") or wrapped):
        return
    if _SAYING.search(paragraph) or _TIME_OR_DATE.search(paragraph) or _ADDRESS.search(paragraph):
        del kept[start:]


def html_without_quotes(html: str) -> OwnText:
    """An HTML message without the message it quotes and the line saying who wrote it (as HTML)."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.document_fromstring(html)
    except (ValueError, etree.ParserError):  # empty or unparseable: trafilatura says why
        return OwnText(html, False)
    doomed = [e for e in root.iter() if isinstance(e.tag, str) and _is_html_quote(e)]
    for element in doomed:
        remove_element(element)
    return OwnText(lxml_html.tostring(root, encoding="unicode"), bool(doomed))


def _is_html_quote(element: Any) -> bool:
    classes = (element.get("class") or "").split()
    if element.tag.lower() == "blockquote":
        return (element.get("type") or "").lower() == "cite" or any("quote" in c for c in classes)
    return any(c in _HTML_ATTRIBUTION for c in classes)
