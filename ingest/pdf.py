"""PDF documents (press releases, filings, reports): the text layer of each page, without its page furniture.

The text is PDFium's (``ingest/pdf_text.py``); pypdf looks at the file's structure first. Title, author and date
come from the document's metadata where present, the title otherwise from page 1's largest-font line. Running
headers and footers (lines at the top or bottom of most pages, or of a chapter's pages) and page numbers ("3",
"- 3 -", "Page 3 of 9") are removed by rule, lines wrapped by the layout are joined back into paragraphs, and the page
each paragraph came from is kept (``Article.pages``) so that a citation can say "p. 3". A scanned page has no text
layer: a PDF of only such pages fails with that reason; one of some is read without them, with a note. Encrypted
PDFs open only when they need no password to be read (many are only protected against printing or copying). A page
with neither text nor images is blank, and passed over. A text layer that is noise (a font without a true map to its
characters) fails with that reason (``ingest/quality.py``) rather than being indexed.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.article import Article
from ingest.budget import report_progress
from ingest.clean import clean_text
from ingest.filekind import Limits
from ingest.pdf_text import Pages, read_pages
from ingest.quality import REASON, unreadable
from ingest.records import BadInput, Loaded, Skipped, authors_of, finish
from ingest.unwrap import text_width

MAX_PAGES = 2000  # a 2,000-page PDF is a book, not news; its text would be refused as too long anyway
# Pages may share a content stream (a blank page's); many sharing one make the same large stream read again and
# again: 40 pages of one 560 KB stream packed into a 9.8 KB file took pypdf 95 s of CPU.
MAX_SHARED_PAGES = 8
# Content stream bytes to interpret, a shared stream counted once per page, per byte of NEWSRAG_MAX_ARTICLE_MB:
# pypdf reads about 5 MB a second of them (a long report has a few MB).
CONTENT_FACTOR = 4
CHAPTER_PAGES = 4  # a chapter's running head repeats on at least this many pages close together
EDGE_LINES = 3  # running headers and footers sit in the first or last lines a page's text layer gives
_PAGE_NUMBER = re.compile(
    r"^(?:page\s*)?[-–—(\[]?\s*(?:\d{1,4}|[ivx]{1,5})\s*[-–—)\]]?(?:\s*(?:of|/)\s*\d{1,4})?\.?$", re.IGNORECASE
)
# Metadata titles that name the file or the program, not the document.
_JUNK_TITLE = re.compile(
    r"^(?:microsoft (?:word|powerpoint|excel)\b|untitled\b|document\d*$|slide \d+$"
    r"|.*\.(?:docx?|pdf|indd|rtf|odt|txt)$)",
    re.IGNORECASE,
)
_ENDS_SENTENCE = (".", "!", "?", ":", ";", '"', "”", "’", ")")


def load_pdf(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """The article a PDF holds (one per file), then a note on the pages without a text layer, if any."""
    try:
        pages, meta = _read(path, limits.max_bytes)
    except BadInput as exc:
        yield origin, exc
        return
    lines = [[line for line in page or [] if _readable(line)] for page in pages.lines]
    broken = [number for number, page in enumerate(pages.lines, start=1) if page is None]
    empty = [number for number, page in enumerate(lines, start=1) if not page and number not in broken]
    scanned = [number for number in empty if pages.images[number - 1]]  # no text, but an image: a scan
    if len(empty) == len(lines):
        reason = "no text layer: its pages are images (a scanned PDF?); run OCR on it first"
        yield origin, BadInput(reason if scanned else "no text: its pages are blank")
        return
    if len(empty) + len(broken) == len(lines):
        yield origin, BadInput(f"no page could be read ({len(broken)} broken, {len(empty)} without a text layer)")
        return
    if unreadable("\n".join(line for page in lines for line in page)):  # before cleaning drops what is noise
        yield origin, BadInput(REASON)
        return
    try:
        yield origin, _article(strip_furniture(lines), meta | {"headline": pages.headline}, origin)
    except BadInput as exc:
        yield origin, exc
        return
    if scanned:
        yield (
            f"{origin}#pages",
            Skipped(f"not read: {len(scanned)} page(s) without readable text (scanned?): {_list(scanned)}"),
        )
    if broken:
        yield (
            f"{origin}#broken",
            Skipped(f"not read: {len(broken)} page(s) whose text could not be read: {_list(broken)}"),
        )


def _readable(line: str) -> bool:
    """Not blank, and not mostly U+FFFD: glyphs of a font without a text mapping come out as that."""
    return bool(line.strip()) and line.count("\ufffd") * 3 < len(line.strip())


def _list(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:20])) + (" …" if len(numbers) > 20 else "")


def _read(path: Path, max_bytes: int) -> tuple[Pages, dict[str, Any]]:
    """Each page's lines and the metadata newsrag uses; BadInput for an encrypted, broken or overlong PDF.

    pypdf looks at the file's structure first (encryption, page count, the size of the drawing instructions: cheap,
    it interprets nothing), PDFium then reads the text.
    """
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    # pypdf logs each oddity of a broken file as a warning on stderr; the reason below says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    _check_is_pdf(path)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # an owner password alone (no printing, no copying) needs none to read
            except (DependencyError, NotImplementedError) as exc:
                raise BadInput(f"encrypted in a way newsrag cannot open ({exc})") from exc
            if not opened:
                raise BadInput("encrypted: it needs a password to open; index an unprotected copy")
        count = len(reader.pages)
        if count > MAX_PAGES:
            raise BadInput(f"too many pages for a news document ({count:,} > {MAX_PAGES:,})")
        check_contents(reader, max_bytes * CONTENT_FACTOR)
        meta = _metadata(reader)
        return read_pages(path, max_bytes, on_page=_page_read), meta
    except BadInput:
        raise
    except ValueError as exc:
        if str(exc).startswith("more text than"):
            raise BadInput(str(exc)) from exc
        raise BadInput(_unreadable(exc)) from exc
    except Exception as exc:  # pypdf and PDFium raise many kinds of error on broken files
        raise BadInput(_unreadable(exc)) from exc


def _page_read(done: int, pages: int) -> None:
    report_progress(done, pages, "page")  # in a reading worker, "page 40 of 143" reaches the CLI and the app


def _unreadable(exc: Exception) -> str:
    detail = next(iter(str(exc).splitlines()), "")[:160]
    return f"not a readable PDF ({type(exc).__name__}: {detail})".replace(": )", ")")


def _check_is_pdf(path: Path) -> None:
    """BadInput with a plain reason for a text file named .pdf (a PDF starts with "%PDF-" within its first KB)."""
    with path.open("rb") as file:
        head = file.read(1024)
    if b"%PDF-" in head or not head or b"\0" in head:
        return  # a PDF, or binary: then the parser says what it is not
    sample = head.decode("utf-8", "replace")
    if sum(not (c.isprintable() or c.isspace()) for c in sample) <= len(sample) // 50:
        raise BadInput("not a PDF: the file starts with text; rename it .txt")


def check_contents(reader: Any, max_content: int) -> None:
    """BadInput for a PDF whose pages would take too long to interpret: many pages sharing one content stream, or
    more than ``max_content`` bytes of content streams in all (unpacked: zlib is fast, interpreting them is not)."""
    from pypdf.generic import IndirectObject

    uses: Counter[int] = Counter()
    sizes: dict[int, int] = {}
    for page in reader.pages:
        contents = page.raw_get("/Contents") if "/Contents" in page else None
        for ref in contents if isinstance(contents, list) else [contents]:
            if isinstance(ref, IndirectObject):
                uses[ref.idnum] += 1
                if ref.idnum not in sizes:
                    sizes[ref.idnum] = len(ref.get_object().get_data())
    shared = max(uses.values(), default=0)
    if shared > MAX_SHARED_PAGES:
        raise BadInput(f"{shared} pages replay one content stream (more than {MAX_SHARED_PAGES}): made to be slow")
    total = sum(sizes[number] * n for number, n in uses.items())
    if total > max_content:
        raise BadInput(
            f"its pages hold {total / 1e6:,.0f} MB of drawing instructions, more than {max_content / 1e6:,.0f} MB"
            " can be read in time"
        )


def _metadata(reader: Any) -> dict[str, Any]:
    """Title, author and creation date from the document information, each only where it is readable."""
    info = reader.metadata
    if info is None:
        return {}
    meta: dict[str, Any] = {}
    readers = {
        "title": lambda: info.title,
        "author": lambda: info.author,
        "date": lambda: info.creation_date or info.modification_date,
    }
    for key, read in readers.items():
        try:
            value = read()
        except Exception:  # a malformed entry (a date like "D:2024-13-45") leaves that field unknown
            continue
        if value:
            meta[key] = value if isinstance(value, datetime) else str(value)
    if _JUNK_TITLE.match(meta.get("title", "").strip()):
        del meta["title"]
    return meta


def strip_furniture(pages: list[list[str]]) -> list[list[str]]:
    """The pages' lines without running headers and footers and without page numbers.

    A header or footer is a line among the first or last ``EDGE_LINES`` of pages, compared with its digits masked
    (so that "Report 2024 — page 3" matches "Report 2024 — page 4"), that repeats: on more than half of the pages
    (of three or more), or on ``CHAPTER_PAGES`` or more that lie close together, as a chapter's title does in the
    head of its pages ("Chapter 3. Network setup" on pages 40 to 59, every page or every other page).
    A page number is a line that is only one, at a page's top or bottom.
    """
    with_text = [lines for lines in pages if lines]
    repeated: set[str] = set()
    if len(with_text) >= 3:
        seen: dict[str, list[int]] = {}
        for number, lines in enumerate(with_text):
            for key in {_key(line) for line in _edges(lines)}:
                seen.setdefault(key, []).append(number)
        repeated = {key for key, where in seen.items() if _running(where, len(with_text))}
    stripped = []
    for lines in pages:
        last = len(lines) - EDGE_LINES
        stripped.append(
            [
                line
                for i, line in enumerate(lines)
                if not ((i < EDGE_LINES or i >= last) and (_key(line) in repeated or _PAGE_NUMBER.match(line)))
            ]
        )
    return stripped


def _running(where: list[int], pages: int) -> bool:
    """Whether a line at a page's edge on the pages ``where`` (indexes, in order) of ``pages`` is a running head."""
    if len(where) > pages / 2:
        return True
    return len(where) >= CHAPTER_PAGES and len(where) * 2 >= where[-1] - where[0] + 1


def _edges(lines: list[str]) -> list[str]:
    return lines[:EDGE_LINES] + lines[EDGE_LINES:][-EDGE_LINES:]


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def paragraphs(pages: list[list[str]]) -> list[tuple[int, str]]:
    """The pages' lines joined into paragraphs, each with the page it starts on.

    A PDF's text layer breaks lines where the layout wrapped them. A line runs on into the next unless it ends a
    sentence and stops short of the text's width (:func:`~ingest.unwrap.text_width`, not the longest line: on a
    two-column page that is a full-width footer; a paragraph's last line), or is short without
    ending a sentence (a heading). A paragraph runs on onto the next page when its page's last line does not end a
    sentence.
    """
    joined: list[tuple[int, str]] = []
    runs_on = False
    for number, lines in enumerate(pages, start=1):
        width = text_width(lines)
        for i, line in enumerate(lines):
            if joined and runs_on:
                page, text = joined[-1]
                hyphenated = text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower()
                joined[-1] = (page, text[:-1] + line if hyphenated else f"{text} {line}")
            else:
                joined.append((number, line))
            ends = line.endswith(_ENDS_SENTENCE)
            if i == len(lines) - 1:
                runs_on = not ends and len(line) >= 0.6 * width
            else:
                runs_on = not (ends and len(line) < 0.9 * width) and not (not ends and len(line) < 0.6 * width)
    return joined


def _article(pages: list[list[str]], meta: dict[str, Any], origin: str) -> Article:
    parts = [(page, text) for page, paragraph in paragraphs(pages) if (text := clean_text(paragraph))]
    body = "\n".join(text for _, text in parts)
    article = finish(
        body,
        title=meta.get("title") or meta.get("headline", ""),
        date=meta.get("date"),
        authors=authors_of(meta.get("author")),
        origin=origin,
    )
    return article.model_copy(update={"pages": locate_pages(article.text, parts)})


def locate_pages(text: str, parts: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """Where each page begins in the article's final ``text``, from the paragraphs it was made of.

    Cleaning may have dropped a paragraph (the headline, taken as the title), so each is looked for in turn.
    """
    starts: list[tuple[int, int]] = []
    cursor = 0
    for page, paragraph in parts:
        found = text.find(paragraph, cursor)
        if found < 0:
            continue
        if not starts:
            starts.append((0, page))
        elif page != starts[-1][1]:
            starts.append((found, page))
        cursor = found + len(paragraph)
    return starts
