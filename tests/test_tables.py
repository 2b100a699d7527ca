"""Tables keep their rows (#34): one line per row, cells joined by " | ", the header row first, in HTML, web
archives, newsletters and Word documents, so that chunking leads a mid-table chunk with its header and the
extractive engine answers from the right row.

Real files (tests/data/real/README.md, "Tables"): IANA's root-server and number-resource pages in a web archive
(pywb's sample crawl), a Debian Reference chapter (HTML), and a course schedule (.docx) from docx2python's tests.
Built cases: a link-heavy table (which trafilatura alone glues into one cell per line), a newsletter's layout and
data tables, tables in tables, spans, and a huge table.
"""

from __future__ import annotations

import logging
import re
import time
import zipfile
from pathlib import Path

import pytest
from lxml import html as lxml_html

from ingest.article import Article
from ingest.chunk import chunk_article
from ingest.files import load_file
from ingest.records import from_html
from ingest.tables import flatten_tables, is_data_table, table_lines
from rag.core.text import is_table_row
from rag.service.newsrag import NewsRAG
from tests.support.documents import NOW, newsletter, write_warc
from tests.test_formats import MAX_BYTES, articles

REAL = Path(__file__).parent / "data" / "real"
WARC = REAL / "iana-root-servers.warc.gz"
DEBIAN = REAL / "debian-reference-ch04.en.html"
SCHEDULE = REAL / "weekly-schedule.docx"
ROOT_HEADER = "Hostname | IP Addresses | Manager"


def page(path: Path, title: str) -> Article:
    return next(a for a in articles(path) if a.title == title)


def lines(article: Article) -> list[str]:
    return article.text.split("\n")


def rows_after(text_lines: list[str], header: str) -> list[str]:
    """The rows of the table that ``header`` starts: the table-row lines after it."""
    start = text_lines.index(header) + 1
    out = []
    for line in text_lines[start:]:
        if not is_table_row(line):
            break
        out.append(line)
    return out


# ----- real files
def test_web_archive_table_is_one_line_per_row() -> None:
    servers = page(WARC, "Root Servers")
    text = lines(servers)
    rows = rows_after(text, ROOT_HEADER)
    assert len(rows) == 13  # a. to m.root-servers.net, each a line of its own
    assert "k.root-servers.net | 193.0.14.129, 2001:7fd::1 | RIPE NCC" in rows
    assert "i.root-servers.net | 192.36.148.17, 2001:7fe::53 | Netnod" in rows
    assert all(row.count(" | ") == 2 for row in rows)
    assert "|" not in text[0] and not any(line.startswith("|") for line in text)  # no Markdown pipes or rules
    numbers = page(WARC, "Number Resources")
    assert rows_after(lines(numbers), "Registry | Area Covered")[-1] == (
        "RIPE NCC | Europe, the Middle East, and Central Asia"
    )


def test_debian_reference_tables_and_admonitions() -> None:
    [chapter] = articles(DEBIAN)
    text = lines(chapter)
    assert rows_after(text, "file | permission | user | group | description") == [
        "/etc/passwd | -rw-r--r-- | root | root | (sanitized) user account information",
        "/etc/shadow | -rw-r----- | root | shadow | secure user account information",
        "/etc/group | -rw-r--r-- | root | root | group information",
    ]
    # The same header in two tables: both kept (trafilatura drops a paragraph it has already taken).
    assert text.count("package | popcon | size | description") == 2
    assert "telnet | 23 | telnets | 992" in rows_after(
        text, "insecure service name | port | secure service name | port"
    )
    # A "Warning" box is a layout table (an icon and a paragraph): it reads as text, not as rows.
    warning = text.index("Warning")
    assert text[warning + 1].startswith("Configuration errors of PAM may lock you out")
    assert not any(is_table_row(line) for line in text[warning : warning + 2])


def test_mid_table_chunk_is_led_by_its_header() -> None:
    [chapter] = articles(DEBIAN)
    text = lines(chapter)
    headers = {line for i, line in enumerate(text) if is_table_row(line) and not is_table_row(text[i - 1])}
    chunks = [node.text for node in chunk_article(chapter, chunk_size=64, chunk_overlap=0)]
    led = 0
    for chunk in chunks:
        first, *rest = chunk.split("\n")
        if not is_table_row(first):
            continue
        assert first in headers, chunk  # every chunk that starts in a table starts with that table's header
        if rest and text[text.index(first) + 1] != rest[0]:
            led += 1  # the header was put before a chunk that starts further down the table
    assert led >= 3


def test_word_table_rows_and_title() -> None:
    [schedule] = articles(SCHEDULE)
    # The first line is the table's header row: it stays the table's, and the file names the document.
    assert schedule.title == "weekly-schedule"
    text = lines(schedule)
    assert text[0] == "Spring 2026 | Week Starting | Day | Topics (Sections – Blitzer)"
    assert (
        "Week 4 | 1/26 | Tuesday | Test 1 in GL 263 (2.1, 2.2, and 2.5) | Pre class assignment(on canvas) HW 4" in text
    )
    # A cell holding a (one-row) table keeps its row a row, the inner table's text in the cell.
    assert any(line.startswith("Week 7 | 2/16 | Tuesday | Test 2 in GL 263") for line in text)
    assert "Tests | 45%" in text and "Total | 100%" in text
    assert all(is_table_row(line) for line in rows_after(text, text[0]))


def test_question_about_a_row_is_answered_from_that_row(tmp_path: Path) -> None:
    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive")
    assert newsrag.ingest(WARC).ok
    for question in ("Who manages k.root-servers.net?", "What is the IP address of k.root-servers.net?"):
        answer = newsrag.ask(question)
        assert not answer.refused, answer
        first = answer.text.split("[1]")[0]
        assert "k.root-servers.net" in first and "RIPE NCC" in first, answer.text
        assert "Netnod" not in first
        assert first.startswith(f"{ROOT_HEADER}: ")  # the row is read with its header


# ----- built cases
ROOT_SERVERS = [("a", "Verisign, Inc."), ("i", "Netnod"), ("j", "Verisign, Inc."), ("k", "RIPE NCC"), ("l", "ICANN")]


def linked_table_page() -> str:
    """A page like root-servers.org's list: every cell a link, which makes trafilatura read the table as
    boilerplate and fall back to one cell per line."""
    rows = "".join(
        f'<tr><td><a href="/{h}">{h}.root-servers.net</a></td><td><a href="https://op.example/{h}">{o}</a></td></tr>'
        for h, o in ROOT_SERVERS
    )
    return (
        "<html><head><title>Root servers</title></head><body><nav><a href='/'>Home</a></nav>"
        "<div class='content'><h1>Root servers</h1>"
        f"<table><tr><th>Hostname</th><th>Operator</th></tr>{rows}</table>"
        "<p>Each operator runs many instances of its server around the world using anycast.</p></div></body></html>"
    )


def test_link_heavy_table_keeps_its_rows_in_a_page_and_an_archive(tmp_path: Path) -> None:
    article = from_html(linked_table_page(), origin="root.html")
    assert rows_after(lines(article), "Hostname | Operator") == [f"{h}.root-servers.net | {o}" for h, o in ROOT_SERVERS]
    archive = write_warc(
        tmp_path / "crawl.warc.gz", [("https://root.example/", "2024-03-01T10:00:00Z", linked_table_page())]
    )
    [captured] = articles(archive)
    assert "k.root-servers.net | RIPE NCC" in lines(captured)


NEWSLETTER = """<html><body>
<table width="100%"><tr><td><img src="logo.png" width="120"></td></tr>
<tr><td><h1>The Harbour Weekly</h1>
<p>The harbour board met on Tuesday and agreed next year's fees after a long debate about the cost of dredging
the old shipping lane, which the board says it can no longer put off.</p>
<table class="fees"><tr><th>Berth</th><th>Fee per day</th></tr>
<tr><td>North quay</td><td>120 euros</td></tr><tr><td>South quay</td><td>95 euros</td></tr></table>
<p>The new fees take effect in March, the board's chair said after the vote.</p></td>
<td><h2>Also this week</h2><p>The ferry timetable changes on Sunday, with an extra crossing on Saturday evenings
in the summer months.</p></td></tr></table>
</body></html>"""


def test_newsletter_layout_table_stays_text_and_its_data_table_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "weekly.eml"
    path.write_bytes(newsletter("The Harbour Weekly", "Harbour <news@harbour.example>", NOW, NEWSLETTER).as_bytes())
    [article] = articles(path)
    text = lines(article)
    assert rows_after(text, "Berth | Fee per day") == ["North quay | 120 euros", "South quay | 95 euros"]
    # The layout's cells are paragraphs: no row glues the story and the side column together.
    assert sum(is_table_row(line) for line in text) == 3
    assert any(line.startswith("The harbour board met on Tuesday") for line in text)
    assert text[-1].startswith("The ferry timetable changes on Sunday")  # the side column, after the story


def fragment(html: str) -> lxml_html.HtmlElement:
    return lxml_html.fragment_fromstring(html, create_parent="div")


def test_nested_tables_outer_is_layout_inner_keeps_rows() -> None:
    root = fragment(
        "<table><tr><td>Story text of the page, laid out in a table.</td><td><table><tr><th>City</th><th>Rain</th>"
        "</tr><tr><td>Oslo</td><td>12 mm</td></tr></table></td></tr></table>"
    )
    outer = root.find("table")
    assert not is_data_table(outer) and is_data_table(outer.find(".//table"))
    flatten_tables(root)
    assert root.find(".//table") is None
    assert root.text_content().count("City | Rain") == 1 and "Oslo | 12 mm" in root.text_content()
    assert "Story text of the page" in root.text_content() and "page, laid out in a table. |" not in root.text_content()


def test_spans_labels_and_lone_values_make_rows() -> None:
    table = fragment(
        "<table><caption>Root servers by region</caption><tr><th>Host</th><th>Address</th><th>Operator</th></tr>"
        "<tr><td colspan='3'>Europe</td></tr><tr><td rowspan='2'>k</td><td>193.0.14.129</td>"
        "<td rowspan='2'>RIPE NCC</td></tr><tr><td>2001:7fd::1</td></tr>"
        "<tr><td>m</td><td></td><td></td></tr><tr><td colspan='3'>Addresses as of 2014.</td></tr></table>"
    ).find("table")
    assert table_lines(table) == [
        "Root servers by region",
        "Host | Address | Operator",
        "Europe | k | 193.0.14.129 | RIPE NCC",  # a one-cell row labels the rows under it
        "Europe | k | 2001:7fd::1 | RIPE NCC",  # a cell spanning two rows names both
        "Europe | m | –",  # a row of one value is still a row
        "Addresses as of 2014.",  # a one-cell row after the last is a note
    ]
    assert all(is_table_row(line) for line in table_lines(table)[1:-1])


def test_hostile_spans_and_a_huge_table_are_bounded() -> None:
    rows = "".join(f"<tr><td>row {n}</td><td>{n}</td></tr>" for n in range(20_000))
    html = (
        "<html><body><article><h1>Big table</h1><p>A table of twenty thousand rows follows in this page.</p>"
        f"<table><tr><th>Name</th><th>Value</th></tr>{rows}</table></article></body></html>"
    )
    started = time.perf_counter()
    article = from_html(html, origin="big.html")
    assert time.perf_counter() - started < 30
    # No row cap of its own: the page's size limit (NEWSRAG_MAX_ARTICLE_MB) bounds a table as it bounds any text.
    assert len(rows_after(lines(article), "Name | Value")) == 20_000
    # A cell spanning rows repeats only into rows that exist, and a long one is not repeated at all.
    long = "x" * 500
    hostile = fragment(
        f"<table><tr><th>a</th><th>b</th></tr><tr><td rowspan='0'>{long}</td><td colspan='999999999'>1</td></tr>"
        + "<tr><td>2</td></tr>" * 50
        + "</table>"
    ).find("table")
    out = table_lines(hostile)
    assert len(out) == 52 and sum(long in line for line in out) == 1


# ----- the small items
def test_warcio_warnings_name_the_archive(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    html = "<html><body><article><h1>Quay</h1><p>" + "The quay reopened on Monday after repairs. " * 4
    path = write_warc(tmp_path / "crawl.warc", [("https://news.example.com/a b", "2024-03-01T10:00:00Z", html)] * 2)
    data = path.read_bytes()
    # The first response declares 9 bytes fewer than it holds, as a crawler with a bad Content-Length writes it.
    at = data.index(b"Content-Length: ", data.index(b"WARC-Type: response"))
    end = data.index(b"\r\n", at)
    path.write_bytes(data[: at + 16] + str(int(data[at + 16 : end]) - 9).encode() + data[end:])
    with caplog.at_level(logging.WARNING):
        loaded = list(load_file(path, MAX_BYTES))
    assert sum(isinstance(a, Article) for _, a in loaded) == 2  # reading goes on
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"{path}: record 3 is not followed by the blank lines" in m for m in messages), messages
    assert any(f"{path}: Replacing spaces in invalid WARC-Target-URI" in m for m in messages), messages
    assert "Record not followed by newline" not in capsys.readouterr().err  # warcio's own, nameless line


def test_docx_without_core_properties_is_titled_by_its_heading(tmp_path: Path) -> None:
    from docx import Document

    made = tmp_path / "made.docx"
    document = Document()
    document.add_heading("Harbour fees agreed", 1)
    document.add_paragraph("The harbour board agreed next year's fees on Tuesday after a long debate.")
    document.save(made)
    bare = tmp_path / "report.docx"
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(bare, "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                continue  # the part some tools never write
            if item.filename in ("_rels/.rels", "[Content_Types].xml"):
                data = re.sub(rb"<(Relationship|Override) [^>]*core[-.]propert[^>]*/>", b"", data)
            out.writestr(item, data)
    [article] = articles(bare)
    assert article.title == "Harbour fees agreed"  # not python-docx's made-up "Word Document"
    assert article.published_at == ""  # nor its made-up date of now
