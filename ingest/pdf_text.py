"""A PDF's text layer as PDFium (pypdfium2) reads it: each page's lines, whether a page holds images, and the
headline of page 1 by font size.

PDFium was chosen over pypdf and pdfminer.six (evals/pdf_engines.py, issue #34): on LaTeX-built manuals pypdf ran
over half of the word pairs together ("Currently,anRSAkey"), PDFium and pdfminer.six kept them apart as poppler
does, and PDFium read 10 to 60 times faster than either.

The text is normalised (NFKC: the "ﬁ" ligature becomes "fi", full-width letters plain ones), a word PDFium found
hyphenated at a line's end (it marks that hyphen U+0002 and joins the word) is joined, and contents-page dot
leaders are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_LEADER = re.compile(r"\s*(?:\.\s*){4,}(?:\s*(?:\d{1,4}|[ivxlc]{1,6}))?\s*$", re.IGNORECASE)
# A line that is only a page number ("12", "xiv", "12 / 233") or a section number ("2.5.8"): layout debris.
_BARE_NUMBER = re.compile(r"^(?:\d{1,4}|[ivx]{1,5})(?:\.\d{1,3})*\.?$|^(?:[Pp]age\s*)?\d{1,4}\s*(?:/|of)\s*\d{1,4}$")
HEADLINE_RATIO = 1.2  # a headline's font is this much larger than the page's commonest size, at least
HEADLINE_LINES = 3  # lines of the same large size joined into one headline


@dataclass(frozen=True)
class Pages:
    """Each page's lines (None: a page that could not be read), which pages draw images, and page 1's headline."""

    lines: list[list[str] | None]
    images: list[bool]
    headline: str


def read_pages(
    path: Path, max_bytes: int, password: str | None = None, on_page: Callable[[int, int], None] | None = None
) -> Pages:
    """The text layer of every page of ``path``; ValueError once its text passes ``max_bytes``. ``on_page`` hears
    (pages read, pages) after each page."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    document = pdfium.PdfDocument(path, password=password)
    try:
        lines: list[list[str] | None] = []
        images: list[bool] = []
        headline = ""
        total = 0
        count = len(document)
        for index in range(count):
            if on_page is not None and index:
                on_page(index, count)
            page = document[index]
            try:
                textpage = page.get_textpage()
                text = textpage.get_text_bounded()
                if index == 0:
                    headline = _headline(textpage)
            except Exception:  # one page's broken font or content stream costs that page, not the document
                lines.append(None)
                images.append(False)
                continue
            total += len(text)
            if total > max_bytes:
                raise ValueError(f"more text than one article may hold (over {max_bytes / 1e6:.1f} MB)")
            lines.append(page_lines(text))
            images.append(any(True for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2)))
        if on_page is not None:
            on_page(count, count)
        return Pages(lines, images, headline)
    finally:
        document.close()


def page_lines(text: str) -> list[str]:
    """A page's text as its non-blank lines: normalised, hyphenated words joined, dot leaders dropped."""
    text = unicodedata.normalize("NFKC", text.replace("\x02", ""))
    lines = []
    for raw_line in text.splitlines():
        line = " ".join(raw_line.split())
        if _LEADER.search(line):
            line = _LEADER.sub("", line) if not re.search(r"\d\s*$", line) else ""  # a contents entry: no text
        if line and not _BARE_NUMBER.match(line):
            lines.append(line)
    return lines


def _headline(textpage: object) -> str:
    """The first line of page 1 set in its largest font, when that is larger than the text's commonest size."""
    import pypdfium2.raw as raw

    handle = textpage.raw  # type: ignore[attr-defined]
    count = raw.FPDFText_CountChars(handle)
    lines: list[tuple[float, str]] = []
    chars: list[str] = []
    size = 0.0
    sizes: dict[float, int] = {}
    for i in range(min(count, 5000)):
        char = chr(raw.FPDFText_GetUnicode(handle, i) or 32)
        if char in "\r\n":
            if chars:
                lines.append((size, "".join(chars)))
            chars, size = [], 0.0
            continue
        chars.append(char)
        font = round(raw.FPDFText_GetFontSize(handle, i), 1)
        size = max(size, font)
        if not char.isspace():
            sizes[font] = sizes.get(font, 0) + 1
    if chars:
        lines.append((size, "".join(chars)))
    return pick_headline(lines, max(sizes, key=lambda s: sizes[s], default=0.0))


def pick_headline(lines: list[tuple[float, str]], body: float) -> str:
    """The largest-font lines among ``lines`` (size, text), joined, that are words, not a number."""
    candidates = [
        (size, text)
        for size, text in lines
        if size >= body * HEADLINE_RATIO and sum(c.isalpha() for c in text) >= 2 and not _BARE_NUMBER.match(text)
    ]
    if not candidates:
        return ""
    top = max(size for size, _ in candidates)
    start = next(i for i, (size, text) in enumerate(lines) if size == top and (size, text) in candidates)
    taken = []
    for size, text in lines[start : start + HEADLINE_LINES]:
        if size != top:
            break
        taken.append(" ".join(unicodedata.normalize("NFKC", text).split()))
    return " ".join(taken)
