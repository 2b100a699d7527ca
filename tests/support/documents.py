"""Real documents of each kind newsrag reads, built in the test itself: PDF, Word, e-mail, mailbox, web archive.

PDFs are written with pypdf (a text layer of Helvetica lines), Word files with python-docx, messages with the
standard library's ``email``, web archives with warcio: the same libraries, or the ones the field uses, so
the files are what real tools produce.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _helvetica(writer: Any) -> Any:
    """A reference to a Type 1 Helvetica font object added to ``writer`` (the font every test PDF draws with)."""
    from pypdf.generic import DictionaryObject, NameObject

    font = {"/Type": "/Font", "/Subtype": "/Type1", "/BaseFont": "/Helvetica"}
    return writer._add_object(DictionaryObject({NameObject(k): NameObject(v) for k, v in font.items()}))


def write_pdf(
    path: Path,
    pages: list[list[str] | None],
    metadata: dict[str, str] | None = None,
    password: str | None = None,
    owner_password: str | None = None,
) -> Path:
    """A PDF whose page ``i`` shows the lines ``pages[i]`` (an empty list: a scanned page, an image without a text
    layer; None: a blank page, nothing at all)."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    font = _helvetica(writer)
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        if lines is None:
            continue
        if not lines:
            _draw_scan(writer, page)
            continue
        resources = DictionaryObject({NameObject("/F1"): font})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): resources})
        stream = StreamObject()
        shown = " ".join(f"{_pdf_string(line)} '" for line in lines)
        stream.set_data(f"BT /F1 10 Tf 50 760 Td 13 TL {shown} ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if metadata:
        writer.add_metadata(metadata)
    if password is not None or owner_password is not None:
        writer.encrypt(user_password=password or "", owner_password=owner_password, algorithm="AES-256")
    with path.open("wb") as out:
        writer.write(out)
    return path


def _draw_scan(writer: object, page: object) -> None:
    """An 8 x 8 grey image over the page, as a scanner's page is an image and no text."""
    from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject

    image = StreamObject()
    image.set_data(bytes(range(0, 256, 4)))
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(8),
            NameObject("/Height"): NumberObject(8),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
            NameObject("/BitsPerComponent"): NumberObject(8),
        }
    )
    xobjects = DictionaryObject({NameObject("/Im1"): writer._add_object(image)})  # type: ignore[attr-defined]
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): xobjects})  # type: ignore[index]
    stream = StreamObject()
    stream.set_data(b"q 612 0 0 792 0 0 cm /Im1 Do Q")
    page[NameObject("/Contents")] = writer._add_object(stream)  # type: ignore[attr-defined,index]


def write_docx(path: Path, title: str = "", author: str = "", created: datetime | None = None) -> Path:
    """A Word press release: a Title paragraph, a heading, paragraphs, a table, and a running header."""
    from docx import Document

    document = Document()
    document.sections[0].header.paragraphs[0].text = "ACME CORP PRESS OFFICE - CONFIDENTIAL"
    document.add_heading("Harbour bridge reopens after repairs", level=0)  # level 0 is the Title style
    document.add_paragraph(
        "The harbour bridge reopened to traffic on Monday after eight months of repairs to its steel deck. "
        "The city engineer said the work finished two weeks ahead of schedule and under budget."
    )
    document.add_heading("Traffic figures", level=1)
    document.add_paragraph("Crossings per day before and after the closure were counted by the transport agency.")
    table = document.add_table(rows=3, cols=3)
    rows = [("Month", "Crossings", "Change"), ("March", "41,000", "-"), ("June", "52,500", "+28%")]
    for row, cells in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_paragraph("Cyclists will get a separate lane from September, the agency said.")
    props = document.core_properties
    props.title, props.author = title, author
    if created is not None:
        props.created = created
    document.save(str(path))
    return path


def write_zip_bomb_docx(path: Path, unpacked_mb: int = 200) -> Path:
    """A real .docx with one more part that unpacks to ``unpacked_mb`` MB of zeros (about 200 KB packed)."""
    write_docx(path, title="Bomb")
    zeros = b"\0" * 1_000_000
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/padding.bin", "w", force_zip64=True) as part,
    ):
        for _ in range(unpacked_mb):
            part.write(zeros)
    return path


def write_shared_stream_pdf(path: Path, pages: int = 40, stream_kb: int = 560, text: bool = True) -> Path:
    """A PDF whose ``pages`` pages all draw one packed content stream of ``stream_kb`` KB of text operators (or,
    without ``text``, of drawing operators that show nothing, then one sentence: slow to read, short to index).

    Small on disk (the stream packs a hundred times), slow to read: a reader interprets the stream once per page.
    """
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    font = _helvetica(writer)
    shown = "(The council met again on Monday.) ' " * (stream_kb * 1024 // 37)
    if not text:
        shown = "0 0 m 1 1 l " * (stream_kb * 1024 // 12) + "(The council met again on Monday to vote.) '"
    stream = StreamObject()
    stream.set_data(f"BT /F1 10 Tf 50 760 Td 13 TL {shown} ET".encode("latin-1"))
    shared = writer._add_object(stream.flate_encode())
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        page[NameObject("/Contents")] = shared
    with path.open("wb") as out:
        writer.write(out)
    return path


def write_empty_paragraphs_docx(path: Path, paragraphs: int) -> Path:
    """A real .docx whose body is ``paragraphs`` empty paragraphs, each with its own revision id, so that the
    document part packs about as well as a real one (a zip bomb check does not catch it)."""
    import random

    write_docx(path, title="Empty")
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    document = parts["word/document.xml"].decode("utf-8")
    rng = random.Random(7)
    empty = "".join(f'<w:p w:rsidR="{rng.getrandbits(32):08X}"/>' for _ in range(paragraphs))
    start, end = document.index("<w:body>") + len("<w:body>"), document.index("<w:sectPr")
    parts["word/document.xml"] = (document[:start] + empty + document[end:]).encode("utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def newsletter(
    subject: str,
    sender: str,
    when: datetime,
    html: str | None,
    plain: str | None = None,
    attachments: dict[str, bytes] | None = None,
) -> EmailMessage:
    """A newsletter as a mail program writes it: plain and/or HTML alternatives, and attachments."""
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, sender, "reader@example.org"
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<{abs(hash((subject, when)))}@news.example.com>"
    if plain is not None:
        message.set_content(plain)
    if html is not None:
        if plain is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name, data in (attachments or {}).items():
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


def write_mbox(path: Path, messages: list[EmailMessage] | list[bytes]) -> Path:
    """An mbox mailbox of ``messages`` (each after its "From " line), written in one go."""
    with path.open("wb") as out:
        for message in messages:
            data = message if isinstance(message, bytes) else message.as_bytes()
            out.write(b"From news@example.com Mon Mar  4 07:00:00 2024\n" + data.rstrip(b"\n") + b"\n\n")
    return path


def write_warc(path: Path, pages: list[tuple[str, str, str]], extra_image: bool = False) -> Path:
    """A web archive (gzipped per record when ``path`` ends in .gz) of (url, capture date, html) responses.

    Each page also gets the request record a crawler writes before it; ``extra_image`` adds a PNG response.
    """
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=path.name.endswith(".gz"))
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "newsrag tests"}))
        responses = [(url, date, "text/html; charset=utf-8", html.encode("utf-8")) for url, date, html in pages]
        if extra_image:
            responses.append(("https://news.example.com/logo.png", "2024-03-04T10:00:00Z", "image/png", b"\x89PNG"))
        for url, date, kind, body in responses:
            request = StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", "news.example.com")], is_http_request=True)
            writer.write_record(
                writer.create_warc_record(url, "request", http_headers=request, warc_headers_dict={"WARC-Date": date})
            )
            headers = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=headers, warc_headers_dict={"WARC-Date": date}
            )
            writer.write_record(record)
    return path


def news_page(headline: str, paragraphs: list[str], date: str = "") -> str:
    """A news page as a site serves it: navigation, the article, and a footer."""
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{headline}</title>{meta}</head><body>"
        '<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<article><h1>{headline}</h1>{body}</article>"
        "<footer>Copyright 2024 Example News</footer></body></html>"
    )


NOW = datetime(2024, 3, 4, 7, 30, tzinfo=UTC)


def write_garbled_pdf(path: Path, lines: list[str], first: int = 0xE000) -> Path:
    """A PDF whose font's ToUnicode map is broken: each byte code maps to ``first`` + code (private-use code
    points by default, or e.g. 0x4E00 for rare Han characters), as a subset font with a lost map comes out."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    cmap = StreamObject()
    ranges = f"<20> <7e> <{first + 0x20:04x}>"
    cmap.set_data(
        (
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Broken def "
            "1 begincodespacerange <00> <ff> endcodespacerange "
            f"1 beginbfrange {ranges} endbfrange endcmap CMapName currentdict /CMap defineresource pop end end"
        ).encode("ascii")
    )
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/ToUnicode"): writer._add_object(cmap),
            }
        )
    )
    page = writer.add_blank_page(612, 792)
    fonts = DictionaryObject({NameObject("/F1"): font})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    stream = StreamObject()
    shown = " ".join(f"{_pdf_string(line)} '" for line in lines)
    stream.set_data(f"BT /F1 10 Tf 50 760 Td 13 TL {shown} ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    with path.open("wb") as out:
        writer.write(out)
    return path
