"""PDF, Word, e-mail, mailbox and web-archive files, built here with real libraries, through the real loaders.

Each kind: title, date, source, text, cleaning and (for PDF) page numbers; and its hostile files (encrypted PDF,
zip-bomb .docx, a mailbox of 10,000 messages, truncated WARCs), each with a one-line reason.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.article import Article
from ingest.chunk import chunk_article
from ingest.files import MAX_ARCHIVE_ITEMS, load_file
from ingest.records import BadInput, Skipped
from ingest.walk import walk
from rag.core.settings import Settings
from tests.support.documents import (
    NOW,
    news_page,
    newsletter,
    write_docx,
    write_mbox,
    write_pdf,
    write_warc,
    write_zip_bomb_docx,
)

MAX_BYTES = int(Settings.model_fields["max_article_mb"].default * 1_000_000)
HEADER = "Example Corp - Annual Review 2024"
# Four pages of a report: a running header, wrapped lines, a hyphenated word, and a page number at the foot.
REPORT = [
    [
        HEADER,
        "Council backs school budget",
        "The city council voted on Tuesday to approve a new budget for public schools that",
        "adds funding for teachers, repairs old buildings and extends bus routes to the sub-",
        "urbs in the east of the county.",
        "1",
    ],
    [
        HEADER,
        "Opponents said the spending was too high, but the measure passed by seven votes to",
        "two after a debate that lasted late into the evening at the town hall.",
        "- 2 -",
    ],
    [
        HEADER,
        "The harbour authority will receive a separate grant to dredge the old shipping lane",
        "before the winter storms arrive, the mayor told reporters afterwards.",
        "Page 3 of 4",
    ],
    [HEADER, "A final vote on the transport plan is expected in the spring.", "Page 4 of 4"],
]


def loaded(path: Path, max_items: int = MAX_ARCHIVE_ITEMS) -> list[tuple[str, Article | BadInput]]:
    return list(load_file(path, MAX_BYTES, max_items=max_items))


def articles(path: Path, **kwargs: int) -> list[Article]:
    return [a for _, a in loaded(path, **kwargs) if isinstance(a, Article)]


def reason(path: Path) -> str:
    results = loaded(path)
    assert len(results) == 1, results
    bad = results[0][1]
    assert isinstance(bad, BadInput) and not isinstance(bad, Skipped), bad
    assert "\n" not in str(bad)
    return str(bad)


# ----- PDF
def report_pdf(path: Path, **meta: str) -> Path:
    info = {"/Title": "Council passes school budget", "/Author": "Jo Doe", "/CreationDate": "D:20240305120000Z"}
    return write_pdf(path, REPORT, info | meta)


def test_pdf_metadata_text_and_furniture(tmp_path: Path) -> None:
    [article] = articles(report_pdf(tmp_path / "report.pdf"))
    assert article.title == "Council passes school budget"
    assert article.authors == ["Jo Doe"]
    assert article.published_at == "2024-03-05T12:00:00+00:00"
    assert (article.source, article.url) == ("", "")
    text = article.text
    assert HEADER not in text and "Page 3 of 4" not in text and "- 2 -" not in text
    assert not any(line.strip().isdigit() for line in text.splitlines())
    # Lines wrapped by the layout are one sentence again; the hyphenated word is whole.
    assert "public schools that adds funding for teachers" in text
    assert "extends bus routes to the suburbs in the east" in text
    # A paragraph that runs on from page 1 to page 2 is joined too.
    assert "votes to two after a debate" in text


def test_pdf_pages_reach_the_chunks(tmp_path: Path) -> None:
    [article] = articles(report_pdf(tmp_path / "report.pdf"))
    assert [page for _, page in article.pages] == [1, 2, 3, 4]
    nodes = chunk_article(article, chunk_size=32, chunk_overlap=0)  # small chunks: about one per paragraph
    pages = {n.get_content(): (n.metadata["page"], n.metadata["last_page"]) for n in nodes}
    dredge = next(span for text, span in pages.items() if "dredge" in text)
    assert dredge == (3, 3)
    spring = next(span for text, span in pages.items() if "spring" in text)
    assert spring == (4, 4)
    assert next(span for text, span in pages.items() if "city council voted" in text)[0] == 1


def test_pdf_without_usable_title_uses_its_first_line(tmp_path: Path) -> None:
    path = report_pdf(tmp_path / "report.pdf", **{"/Title": "Microsoft Word - budget_final_v2.docx"})
    [article] = articles(path)
    assert article.title == "Council backs school budget"
    assert article.text.startswith("The city council voted")


def test_scanned_pdf_fails_and_scanned_pages_are_noted(tmp_path: Path) -> None:
    assert "no text layer" in reason(write_pdf(tmp_path / "scan.pdf", [[], [], []]))
    results = loaded(write_pdf(tmp_path / "mixed.pdf", [REPORT[0], [], REPORT[2]]))
    assert isinstance(results[0][1], Article)
    where, note = results[1]
    assert isinstance(note, Skipped) and where.endswith("#pages")
    assert "1 page(s) without readable text" in str(note) and str(note).endswith(": 2")


def test_pdf_page_that_cannot_be_read_costs_only_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdfium2 import PdfTextPage

    extract = PdfTextPage.get_text_bounded

    def broken_page_two(page: PdfTextPage, *args: object, **kwargs: object) -> str:
        text = extract(page, *args, **kwargs)
        if "Opponents" in text:  # page 2: a broken font or content stream
            raise KeyError("/Widths")
        return text

    monkeypatch.setattr(PdfTextPage, "get_text_bounded", broken_page_two)
    (_, article), (where, note) = loaded(report_pdf(tmp_path / "report.pdf"))
    assert isinstance(article, Article) and "Opponents" not in article.text and "harbour authority" in article.text
    assert where.endswith("#broken") and str(note) == "not read: 1 page(s) whose text could not be read: 2"


def test_pdf_glyphs_of_a_missing_font_are_read_in_the_standard_encoding(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, NumberObject

    # Its font entry is broken (a number, not a font): pypdf gave U+FFFD for each glyph; PDFium falls back to the
    # standard encoding, which is how these glyph codes were written. A font map that is wrong, not missing, is
    # refused by the quality check (tests/test_pdf_text.py).
    writer = PdfWriter(clone_from=PdfReader(report_pdf(tmp_path / "report.pdf")))
    for page in writer.pages:
        fonts = DictionaryObject({NameObject("/F1"): NumberObject(3)})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    writer.write(tmp_path / "glyphs.pdf")
    [article] = articles(tmp_path / "glyphs.pdf")
    assert "harbour authority" in article.text


def test_encrypted_pdf(tmp_path: Path) -> None:
    locked = write_pdf(tmp_path / "locked.pdf", REPORT, password="secret")
    assert reason(locked) == "encrypted: it needs a password to open; index an unprotected copy"
    # Protected only against printing and copying: no password is needed to read it, and it is read.
    protected = write_pdf(tmp_path / "protected.pdf", REPORT, password="", owner_password="owner")
    [article] = articles(protected)
    assert "harbour authority" in article.text


# ----- Word
def test_docx_properties_headings_paragraphs_tables(tmp_path: Path) -> None:
    created = datetime(2024, 6, 2, 9, 15, tzinfo=UTC)
    path = write_docx(tmp_path / "release.docx", title="Bridge reopens early", author="Ann Lee", created=created)
    [article] = articles(path)
    assert article.title == "Bridge reopens early"
    assert article.authors == ["Ann Lee"]
    assert article.published_at == "2024-06-02T09:15:00+00:00"
    assert article.source == ""
    lines = article.text.splitlines()
    assert lines[0] == "Harbour bridge reopens after repairs"  # the Title paragraph, unlike the properties' title
    assert "Traffic figures" in lines  # a heading
    assert "June | 52,500 | +28%" in lines  # a table row
    assert lines[-1] == "Cyclists will get a separate lane from September, the agency said."
    assert "PRESS OFFICE" not in article.text  # the running header is page furniture


def test_docx_without_title_property_uses_its_title_paragraph(tmp_path: Path) -> None:
    [article] = articles(write_docx(tmp_path / "release.docx"))
    assert article.title == "Harbour bridge reopens after repairs"
    assert article.text.startswith("The harbour bridge reopened")


def test_zip_bomb_docx(tmp_path: Path) -> None:
    bomb = write_zip_bomb_docx(tmp_path / "bomb.docx", unpacked_mb=120)
    assert bomb.stat().st_size < 1_000_000
    assert "(a zip bomb?)" in reason(bomb)
    # Under the total, one part packed 1000:1 is refused by its ratio.
    small = write_zip_bomb_docx(tmp_path / "small-bomb.docx", unpacked_mb=20)
    assert "unpacks" in reason(small) and "word/media/padding.bin" in reason(small)


# ----- e-mail
NEWSLETTER_HTML = """<html><body>
<div style="display:none">Preheader: this week's best reads</div>
<table><tr><td><a href="https://news.example.com/view/123">View this email in your browser</a></td></tr>
<tr><td><h1>The Morning Brief</h1>
<p>The central bank held interest rates steady on Wednesday, citing a slowdown in inflation over the winter
months and a weaker labour market.</p>
<p>Economists had expected the decision, which leaves the benchmark rate at 4.5 percent for a third meeting.</p>
</td></tr>
<tr><td><p>You are receiving this email because you signed up at example.com.</p>
<p><a href="https://news.example.com/u?id=1&amp;unsubscribe=1">Click here</a> to stop. Update your preferences.</p>
<img src="https://t.example.com/open.gif" width="1" height="1"></td></tr></table></body></html>"""


def test_eml_newsletter(tmp_path: Path) -> None:
    message = newsletter(
        "Rates on hold: the Morning Brief",
        "The Morning Brief <brief@news.example.com>",
        NOW,
        NEWSLETTER_HTML,
        plain="Plain version of the brief.",
        attachments={"chart.pdf": b"%PDF-1.4 chart"},
    )
    path = tmp_path / "brief.eml"
    path.write_bytes(message.as_bytes())
    (where, article), (note_where, note) = loaded(path)
    assert isinstance(article, Article), article
    assert where == str(path.resolve())
    assert article.title == "Rates on hold: the Morning Brief"
    assert article.source == "The Morning Brief"
    assert article.published_at == "2024-03-04T07:30:00+00:00"
    assert article.text.startswith("The central bank held interest rates steady on Wednesday")
    assert "third meeting" in article.text
    for furniture in ("browser", "receiving this", "preferences", "Click here", "Preheader", "Plain version"):
        assert furniture not in article.text
    assert note_where == f"{where}#attachments"
    assert isinstance(note, Skipped) and str(note) == "1 attachment(s) not read: chart.pdf"


def test_eml_plain_text_newsletter(tmp_path: Path) -> None:
    plain = (
        "View this email in your browser: https://wire.example.org/web/88\n\n"
        "Port strike ends\n\n"
        "Dock workers ended a two-week strike on Friday after the union accepted a new pay offer.\n"
        "https://click.wire.example.org/track/abc123\n"
        "Hundreds of containers had piled up at the harbour.\n\n"
        "Unsubscribe: https://wire.example.org/unsubscribe/88\n"
        "-- \n"
        "Wire Daily, 1 Example Street\n"
    )
    path = tmp_path / "wire.eml"
    path.write_bytes(newsletter("Port strike ends", "news@wire.example.org", NOW, None, plain=plain).as_bytes())
    [article] = articles(path)
    assert article.source == "wire.example.org"  # no display name: the sender's domain
    # Lines not parted by a blank line are one paragraph of plain-text mail (ingest/unwrap.py).
    assert article.text == (
        "Dock workers ended a two-week strike on Friday after the union accepted a new pay offer."
        " Hundreds of containers had piled up at the harbour."
    )


BRIEF = newsletter(
    "Brief NUMBER",
    "Daily <d@example.com>",
    NOW,
    None,
    plain="Brief NUMBER\n\nThe council met for the NUMBERth time this year to discuss the budget for schools.\n",
).as_bytes()


def brief(number: int) -> bytes:
    """A short plain-text newsletter (the same message, numbered: building 10,000 with ``email`` takes long)."""
    return BRIEF.replace(b"NUMBER", str(number).encode())


def test_mbox_each_message_one_article(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "briefs.mbox", [brief(n) for n in (1, 2, 3)])
    results = loaded(path)
    origin = str(path.resolve())
    assert [where for where, _ in results] == [f"{origin}#message{n}" for n in (1, 2, 3)]
    assert [a.title for _, a in results if isinstance(a, Article)] == ["Brief 1", "Brief 2", "Brief 3"]
    assert all(a.origin == origin for _, a in results if isinstance(a, Article))


def test_mailbox_of_10000_messages_is_read_up_to_its_cap(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "archive.mbox", [brief(n) for n in range(1, 10_001)])
    results = loaded(path, max_items=MAX_ARCHIVE_ITEMS)
    found = [a for _, a in results if isinstance(a, Article)]
    assert len(found) == MAX_ARCHIVE_ITEMS == 1000
    assert found[-1].title == "Brief 1000"
    where, rest = results[-1]
    assert isinstance(rest, Skipped) and where.endswith("#messages1001-10000")
    assert str(rest) == (
        "skipped: the mailbox holds 10,000 messages, and only the first 1,000 are read (NEWSRAG_MAX_ARCHIVE_ITEMS)"
    )


def test_mbox_oversized_message_costs_only_itself(tmp_path: Path) -> None:
    huge = brief(2) + b"x" * (MAX_BYTES * 10 + 10)
    path = write_mbox(tmp_path / "mixed.mbox", [brief(1), huge, brief(3)])
    results = loaded(path)
    assert [type(a).__name__ for _, a in results] == ["Article", "BadInput", "Article"]
    assert "message larger than 50.0 MB" in str(results[1][1])


# ----- web archives
PAGES = [
    (
        "https://news.example.com/2024/03/bridge",
        "2024-03-04T10:00:00Z",
        news_page(
            "Bridge reopens after repairs",
            [
                "The harbour bridge reopened to traffic on Monday after eight months of repairs to its steel deck.",
                "The city engineer said the work finished two weeks ahead of schedule and under budget.",
            ],
            date="2024-03-03",
        ),
    ),
    (
        "https://news.example.com/2024/03/strike",
        "2024-03-05T11:00:00Z",
        news_page(
            "Port strike ends",
            [
                "Dock workers ended a two-week strike on Friday after the union accepted a new pay offer.",
                "Hundreds of containers had piled up at the harbour, delaying deliveries across the region.",
            ],
        ),
    ),
]


@pytest.mark.parametrize("name", ["crawl.warc", "crawl.warc.gz"])
def test_warc_pages(tmp_path: Path, name: str) -> None:
    path = write_warc(tmp_path / name, PAGES, extra_image=True)
    results = loaded(path)
    bridge, strike = (a for _, a in results if isinstance(a, Article))
    assert bridge.title == "Bridge reopens after repairs"
    assert bridge.url == "https://news.example.com/2024/03/bridge"
    assert bridge.source == "news.example.com"
    assert bridge.published_at == "2024-03-03"
    assert bridge.seen_at == "2024-03-04T10:00:00+00:00"
    assert bridge.text.startswith("The harbour bridge reopened") and "Home" not in bridge.text
    assert "Copyright" not in bridge.text
    assert (strike.published_at, strike.seen_at) == ("", "2024-03-05T11:00:00+00:00")
    assert bridge.origin == strike.origin == str(path.resolve())
    where, other = results[-1]
    assert isinstance(other, Skipped) and "1 responses that are not HTML pages" in str(other)


@pytest.mark.parametrize("name", ["cut.warc", "cut.warc.gz"])
@pytest.mark.parametrize("cut", [60, 300, 700, 1000])
def test_truncated_warc_keeps_whole_pages_only(tmp_path: Path, name: str, cut: int) -> None:
    whole = write_warc(tmp_path / f"whole-{name}", PAGES, extra_image=True).read_bytes()
    path = tmp_path / name
    path.write_bytes(whole[:-cut])
    results = loaded(path)
    *pages, (where, damage) = results
    assert where == str(path.resolve())
    assert isinstance(damage, BadInput) and str(damage).startswith("damaged: ")
    for _, page in pages:  # whatever was read is whole: never half an article
        assert isinstance(page, Article)
        assert page.text in {
            "The harbour bridge reopened to traffic on Monday after eight months of repairs to its steel deck.\n"
            "The city engineer said the work finished two weeks ahead of schedule and under budget.",
            "Dock workers ended a two-week strike on Friday after the union accepted a new pay offer.\n"
            "Hundreds of containers had piled up at the harbour, delaying deliveries across the region.",
        }
    if pages:
        assert f"the {len(pages)} page(s) before the damage are read" in str(damage)


def test_warc_decompression_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.warc.gz"
    with gzip.open(path, "wb") as out:
        block = b"WARC/1.0\r\n" + b" " * 1_000_000
        for _ in range(60):
            out.write(block)
    results = list(load_file(path, 10_000))  # 10 KB articles: the archive may unpack to 10 MB
    assert len(results) == 1
    assert "unpacks to more than" in str(results[0][1])


def test_warc_page_cap(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "crawl.warc", PAGES)
    results = loaded(path, max_items=1)
    assert [type(a).__name__ for _, a in results] == ["Article", "Skipped"]
    assert "only the first 1 pages of a web archive are read" in str(results[1][1])


# ----- the folder walk
def test_walk_reports_what_it_does_not_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.pdf").write_bytes(b"%PDF")
    (tmp_path / "c.warc.gz").write_bytes(b"")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK")
    (tmp_path / "photo.PNG").write_bytes(b"\x89PNG")
    (tmp_path / "LICENSE").write_text("x")
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "ab.txt").write_text("x")
    found = walk(tmp_path)
    assert [p.name for p in found.files] == ["a.txt", "b.pdf", "c.warc.gz"]
    unread = {Path(u.path).name: u.kind for u in found.unread}
    assert unread == {".git": "hidden", "sheet.xlsx": ".xlsx", "photo.PNG": ".png", "LICENSE": "(none)"}
    assert all(u.reason for u in found.unread)


# ----- uploads
@pytest.mark.parametrize("name", ["report.pdf", "crawl.warc.gz", "brief.eml", "release.docx"])
def test_uploads_accept_the_new_kinds(tmp_path: Path, name: str) -> None:
    from ingest.uploads import save_upload

    source = tmp_path / "in" / name
    source.parent.mkdir()
    if name.endswith(".pdf"):
        write_pdf(source, REPORT)
    elif name.endswith(".warc.gz"):
        write_warc(source, PAGES)
    elif name.endswith(".eml"):
        source.write_bytes(newsletter("Rates on hold", "Brief <b@example.com>", NOW, NEWSLETTER_HTML).as_bytes())
    else:
        write_docx(source)
    saved, problem = save_upload(source, tmp_path / "uploads", 20_000_000)
    assert saved is not None, problem
    assert saved.name.endswith(name.split(".", 1)[1]) and saved.name != name  # the kind kept, the name generated
    assert articles(saved)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        # A copy of a PDF's text whose font had no map: private-use code points between the letters.
        ("pasted.txt", ("Headline\n" + "Th\ue001e c\ue002ou\ue003n\ue004cil m\ue005et \ue006\ue007 " * 80).encode()),
        # Letters of many scripts at random, as a broken font map gives them.
        ("scripts.json", ('{"title": "x", "text": "' + "ДжΩѦᚠᛟᚢ ⴰⵣⵓ ꓐꓑꓒ Ꭰ ᐁᐃᐅ " * 60 + '"}').encode()),
        # Letters drawn apart: words of one letter.
        (
            "apart.html",
            ("<html><body><h1>Council</h1><p>" + "T h e c o u n c i l m e t " * 60 + "</p></body></html>").encode(),
        ),
    ],
)
def test_text_that_is_no_writing_fails_with_a_plain_reason_in_any_format(
    tmp_path: Path, name: str, data: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert "text is unreadable" in reason(path)
