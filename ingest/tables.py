"""Tables as newsrag writes them, from HTML and Word alike: one line per row, cells joined by " | ", header first.

This is the convention of the Word loader (``ingest/word.py``), of chunking (a chunk that starts inside a table is
led by its header row) and of the answer engine (a row is a sentence read with its header): see
``rag.core.text.is_table_row``. A row must name its own names, so a cell that spans rows is repeated in each.

Pages and newsletters use tables for two things. A *data table* (a header, or rows of short cells) becomes a block
of row lines before trafilatura reads the page, which keeps them as lines (its own reading puts a link-heavy
table's cells one per line, the rows lost, and drops a row it has read before). A *layout table* (cells holding
blocks of text, or tables in tables) is unwrapped into plain blocks: its text reads as text, not as rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# A cell longer than this is a block of text (a layout cell), not a value in a table.
MAX_CELL_CHARS = 300
MAX_BLOCK_SHARE = 4  # a table whose cells are blocks more than one time in this many lays out a page
# A cell spanning rows is repeated only when it is a name or a value: a long one would multiply the page's text.
MAX_REPEATED_CHARS = 100
MAX_SPAN = 1000  # rowspan and colspan past this are broken markup, not a table
SEPARATOR = " | "
EMPTY = "–"  # the other cells of a row that has one value: a row, not a line of text
_SECTIONS = ("thead", "tbody", "tfoot")
_PARTS = ("table", *_SECTIONS, "tr", "td", "th", "caption", "colgroup", "col")
_UNREAD = frozenset(("script", "style", "noscript", "template"))
# Elements that end a line of text: their text is kept apart from the text around them inside a cell.
_BREAKS = frozenset(
    [
        "br",
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "hr",
        "tr",
        "td",
        "th",
        "section",
        "article",
        "figure",
    ]
)
_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
_BLOCKS = frozenset(["p", "ul", "ol", "blockquote", "pre"])


def flatten_tables(root: Any) -> None:
    """Replace each table under ``root`` (an lxml HTML tree) by its rows as lines, or unwrap it if it lays out a page.

    Tables are judged first and changed after, so a table nested in another is judged as it stands in the page.
    """
    judged = [(table, is_data_table(table)) for table in root.iter("table")]
    for table, data in reversed(judged):  # innermost first: an outer layout table's cells then hold the inner's rows
        if data:
            _replace_with_rows(table)
        else:
            _unwrap(table)


def is_data_table(table: Any) -> bool:
    """A table of values: no table inside it, few cells that are blocks of text, and a header (``th`` or
    ``thead``) with a row of two cells or more, or two rows of two cells or more.

    A few long cells (a registry's comments) do not make a list of values a layout; a layout's cells are mostly
    blocks (a newsletter's stories) or stand one to a row.
    """
    if any(_tag(el) == "table" for el in table.iterdescendants()):
        return False
    rows = [[(cell, text) for cell in _cells(row) if (text := _text(cell))] for row in _rows(table)]
    filled = [cell for row in rows for cell in row]
    if sum(_is_block(*cell) for cell in filled) * MAX_BLOCK_SHARE > len(filled):
        return False
    wide = sum(len(row) >= 2 for row in rows)
    has_header = any(_tag(el) in ("th", "thead") for el in table.iterdescendants())
    return wide >= (1 if has_header else 2)


def table_lines(table: Any) -> list[str]:
    """The table's caption, then one line per row (see :func:`row_lines`), header first and footer last."""
    captions = [_text(caption) for caption in table.iterchildren("caption")]
    return [line for line in captions if line] + row_lines(_grid(table))


def row_lines(rows: Iterable[list[str]]) -> list[str]:
    """Rows of cell texts (a cell that spans columns given once, an empty cell as "") as lines: the non-empty cells
    joined by " | ", so that every line of a row is one ``is_table_row`` accepts.

    A row that is one cell in a table of wider rows labels a group: it leads each row after it ("Europe | k |
    RIPE NCC") until the next label, and a label straight after another joins it. One before the first wide row
    is a title line; one after the last a note. A row whose other cells are empty says its one value with a dash
    ("2014 | –"), still a row.
    """
    lines: list[str] = []
    label, labelled, started = "", False, False
    for row in rows:
        cells = [cell for cell in row if cell]
        if not cells:
            continue
        if len(row) > 1:
            cells = cells if len(cells) > 1 else [cells[0], EMPTY]
            lines.append(SEPARATOR.join([label, *cells] if label else cells))
            labelled, started = labelled or bool(label), True
        elif not started:
            lines.append(cells[0])
        else:
            label = f"{label}{SEPARATOR}{cells[0]}" if label and not labelled else cells[0]
            labelled = False
    if label and not labelled:
        lines.append(label)
    return lines


def _grid(table: Any) -> list[list[str]]:
    """Each row's cell texts in column order ("" for an empty cell), a cell spanning rows repeated in the rows below
    it, a cell spanning columns once."""
    carried: dict[int, tuple[str, int]] = {}  # column -> (text, rows below still to fill)
    grid = []
    for row in _rows(table):
        placed: dict[int, str] = {}
        spanning: dict[int, tuple[str, int]] = {}
        column = 0
        for cell in _cells(row):
            while column in carried:
                column += 1
            text = placed[column] = _text(cell)
            down = _span(cell.get("rowspan"))
            if down > 1:  # a long text holds its column but is not repeated
                spanning[column] = (text if len(text) <= MAX_REPEATED_CHARS else "", down - 1)
            column += _span(cell.get("colspan"))
        for at, (text, left) in list(carried.items()):
            placed[at] = text
            if left > 1:
                carried[at] = (text, left - 1)
            else:
                del carried[at]
        carried.update(spanning)
        grid.append([placed[at] for at in sorted(placed)])
    return grid


def _rows(table: Any) -> list[Any]:
    """The table's own rows (not a nested table's): head, body, then foot, as a browser shows them."""
    head, body, foot = [], [], []
    for child in table.iterchildren():
        tag = _tag(child)
        if tag == "tr":
            body.append(child)
        elif tag in _SECTIONS:
            rows = [r for r in child.iterchildren() if _tag(r) == "tr"]
            {"thead": head, "tbody": body, "tfoot": foot}[tag].extend(rows)
    return head + body + foot


def _cells(row: Any) -> list[Any]:
    return [cell for cell in row.iterchildren() if _tag(cell) in ("td", "th")]


def _is_block(cell: Any, text: str) -> bool:
    """A cell (whose text is ``text``) that holds a block of text: long, or a heading, or several paragraphs or
    lists."""
    if len(text) > MAX_CELL_CHARS:
        return True
    inner = [_tag(el) for el in cell.iterdescendants()]
    return any(tag in _HEADINGS for tag in inner) or sum(tag in _BLOCKS for tag in inner) > 1


def _text(element: Any) -> str:
    """The element's visible text on one line: a line break or a block inside it is a space, scripts are not text."""
    if len(element) == 0:  # most cells: text alone, read without a walk (which costs ten times more)
        return " ".join((element.text or "").replace("\u00a0", " ").split())
    from lxml import etree

    parts: list[str] = []
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, el in walker:
        tag = _tag(el)
        if event == "start":
            if tag in _UNREAD:
                walker.skip_subtree()
                continue
            parts.append(" " if tag in _BREAKS else "")
            parts.append(el.text or "" if tag else "")  # a comment's text is not the page's
        else:
            parts.append(" " if tag in _BREAKS else "")
            parts.append(el.tail or "" if el is not element else "")
    return " ".join("".join(parts).replace("\u00a0", " ").split())


def _span(value: str | None) -> int:
    """A rowspan or colspan as a count of rows or columns (0, "to the end of the section", counts as many)."""
    if value is None:
        return 1
    try:
        number = int(value.strip())
    except ValueError:
        return 1
    return MAX_SPAN if number == 0 else max(1, min(number, MAX_SPAN))


def _replace_with_rows(table: Any) -> None:
    """The table becomes one paragraph of row lines, in a block that keeps its class and id (which the page's
    reader may judge it by). One paragraph, not one per row: trafilatura drops a paragraph whose text it has
    already taken, so the second table with the same header row would lose it."""
    block = table.makeelement("div", {k: v for k, v in table.attrib.items() if k in ("class", "id", "role")})
    paragraph = block.makeelement("p", {})
    block.append(paragraph)
    lines = table_lines(table)
    paragraph.text = lines[0] if lines else ""
    for line in lines[1:]:
        br = paragraph.makeelement("br", {})
        br.tail = line
        paragraph.append(br)
    block.tail = table.tail
    table.getparent().replace(table, block)


def _unwrap(table: Any) -> None:
    """A layout table's parts become plain blocks, a cell of inline text a paragraph (a page's reader keeps those,
    where it drops loose text in blocks: an admonition's "Note"). Tables inside it were changed before it, so every
    table part under it is its own."""
    for element in [table, *(el for el in table.iterdescendants() if _tag(el) in _PARTS)]:
        inline = _tag(element) in ("td", "th", "caption") and not any(
            _tag(el) in _BREAKS - {"br"} for el in element.iterdescendants()
        )
        element.tag = "p" if inline else "div"
        for attribute in ("rowspan", "colspan"):
            element.attrib.pop(attribute, None)


def _tag(element: Any) -> str:
    return element.tag.lower() if element is not None and isinstance(element.tag, str) else ""
