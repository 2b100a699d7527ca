"""Word documents (.docx): headings, paragraphs and tables as text, with the core properties' title, author, date.

A .docx is a zip archive, and python-docx unpacks every part of it into memory, so the archive is checked
first from its directory (nothing unpacked): how many parts, how large unpacked in all, and how much more
each part unpacks to than it takes (a zip bomb packs gigabytes of zeros into kilobytes). Python's zipfile never
unpacks a part past the size its directory declares, so checking the declared sizes bounds what is read.
Headers and footers are page furniture and are not read.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.article import Article
from ingest.filekind import Limits
from ingest.records import BadInput, Loaded, authors_of, finish
from ingest.tables import MAX_CELL_CHARS, row_lines
from rag.core.text import is_table_row

MAX_PARTS = 5000  # a long report with many images has a few hundred
UNPACKED_FACTOR = 20  # all parts unpacked: at most this many times NEWSRAG_MAX_ARTICLE_MB (XML is verbose)
MAX_RATIO = 100  # XML packs 5-20 times; a part packed over 100 times is a bomb...
RATIO_FLOOR = 1_000_000  # ...once it unpacks to more than this (a tiny part may pack well by chance)
MAX_NESTING = 20  # tables in tables deeper than this are read as their cells' own text
MAX_PARAGRAPHS = 100_000  # a 400-page book has ~10,000; 150 KB of empty ones held the server 10 s
_PARAGRAPH = re.compile(rb"<w:p[ />]")  # a paragraph's start tag (not <w:pPr>, <w:pStyle>)
_OLE = b"\xd0\xcf\x11\xe0"  # the container of old .doc files and of password-protected .docx files


def load_docx(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """The article a .docx holds, or why it has none."""
    try:
        check_archive(path, limits.max_bytes)
        yield origin, _article(path, origin)
    except BadInput as exc:
        yield origin, exc


def check_archive(path: Path, max_bytes: int) -> None:
    """BadInput unless ``path`` is a zip archive of sane size that unpacks to at most its declared sizes."""
    with path.open("rb") as stream:
        head = stream.read(4)
    if head == _OLE:
        raise BadInput("a password-protected Word file or an old .doc, not a .docx: save it as an unprotected .docx")
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise BadInput(f"not a .docx (not a readable zip archive: {exc})") from exc
    if len(parts) > MAX_PARTS:
        raise BadInput(f"too many parts for a Word document ({len(parts):,} > {MAX_PARTS:,})")
    unpacked = sum(p.file_size for p in parts)
    limit = max_bytes * UNPACKED_FACTOR
    if unpacked > limit:
        raise BadInput(f"unpacks to {unpacked / 1e6:,.0f} MB, more than {limit / 1e6:,.0f} MB (a zip bomb?)")
    for part in parts:
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            ratio = part.file_size / max(part.compress_size, 1)
            raise BadInput(f"part {part.filename[:80]!r} unpacks {ratio:,.0f} times its size (a zip bomb?)")
        if part.flag_bits & 0x1:
            raise BadInput("encrypted zip archive, not a .docx")
    with zipfile.ZipFile(path) as archive:
        paragraphs = count_paragraphs(archive)
    if paragraphs > MAX_PARAGRAPHS:
        raise BadInput(f"too many paragraphs for a news document ({paragraphs:,} > {MAX_PARAGRAPHS:,})")


def count_paragraphs(archive: zipfile.ZipFile) -> int:
    """The paragraphs of the document part, counted as it unpacks (a block at a time), before anything parses it."""
    try:
        part = archive.open("word/document.xml")
    except KeyError:
        return 0  # python-docx says what is missing
    count, tail = 0, b""
    with part:
        while block := part.read(1 << 20):
            data = tail + block
            count += len(_PARAGRAPH.findall(data))
            tail = data[-4:]  # a tag cut by the block's end; shorter than one, so never counted twice
    return count


def _article(path: Path, origin: str) -> Article:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(str(path))
        lines, heading = _body(document)
        props = _core_properties(document)
        title = _read(lambda: props.title) or heading
        author = _read(lambda: props.author)
        date = _read(lambda: props.created) or _read(lambda: props.modified)
    except PackageNotFoundError as exc:
        raise BadInput("not a Word document (the archive has no document part)") from exc
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:  # a part missing or malformed
        raise BadInput(f"not a readable .docx ({type(exc).__name__}: {str(exc)[:160]})") from exc
    if not title and lines and is_table_row(lines[0]):
        title = path.stem  # a table's header row is no headline, and the table needs it
    return finish("\n".join(lines), title=str(title or ""), date=date, authors=authors_of(author), origin=origin)


def _core_properties(document: Any) -> Any:
    """The document's own core properties, or None when it has none: python-docx then makes up its defaults (title
    "Word Document", modified now), which are no title and no date of this document."""
    from docx.opc.constants import RELATIONSHIP_TYPE

    try:
        document.part.package.part_related_by(RELATIONSHIP_TYPE.CORE_PROPERTIES)
    except KeyError:
        return None
    return document.core_properties


def _read(get: Any) -> Any:
    """A core property, or None when it is malformed (a date that is not one) or the document has none."""
    try:
        return get()
    except (ValueError, TypeError, AttributeError):
        return None


def _body(document: Any) -> tuple[list[str], str]:
    """The body's lines in reading order (paragraphs, headings, table rows), and its title or first heading."""
    from docx.table import Table

    lines: list[str] = []
    title = heading = ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_rows(block))
            continue
        text = " ".join(block.text.split())
        if not text:
            continue
        style = (block.style.name if block.style is not None else "") or ""
        if style == "Title" and not title:
            title = text
        elif style.startswith("Heading") and not heading:
            heading = text
        lines.append(text)
    return lines, title or heading


def _rows(table: Any, depth: int = 0) -> list[str]:
    """The table's rows as lines (``ingest.tables.row_lines``: cells joined by " | ").

    A table in a cell is part of that cell's text, unless the row lays out the page (one cell, or a cell a block
    of text, as in HTML: ``ingest/tables.py``): then that row's cells are read as paragraphs and tables in order.
    """
    lines: list[str] = []
    rows: list[list[str]] = []  # the rows read as rows since the last row laid out
    for row in table.rows:
        cells = _cells(row)
        texts = [_cell_text(cell) for cell in cells]
        nested = depth < MAX_NESTING and any(cell.tables for cell in cells)
        if nested and (len(cells) == 1 or any(len(text) > MAX_CELL_CHARS for text in texts)):
            lines += row_lines(rows) + [line for cell in cells for line in _cell_lines(cell, depth + 1)]
            rows = []
        else:
            rows.append(texts)
    return lines + row_lines(rows)


def _cells(row: Any) -> list[Any]:
    """The row's cells, each once: python-docx gives a merged cell once per grid column it spans."""
    cells: list[Any] = []
    seen: set[Any] = set()  # the cells' XML elements (lxml elements hash by identity)
    for cell in row.cells:
        if cell._tc not in seen:
            seen.add(cell._tc)
            cells.append(cell)
    return cells


def _cell_text(cell: Any) -> str:
    """A cell's text on one line, a table in it included (``cell.text`` has only the cell's own paragraphs)."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    if not cell.tables:
        return " ".join(cell.text.split())
    return " ".join(" ".join(Paragraph(p, cell).text for p in cell._tc.iter(qn("w:p"))).split())


def _cell_lines(cell: Any, depth: int) -> list[str]:
    from docx.table import Table

    lines: list[str] = []
    for block in cell.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_rows(block, depth))
        elif text := " ".join(block.text.split()):
            lines.append(text)
    return lines
