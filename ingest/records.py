"""Turning raw inputs (JSON records, HTML pages, plain text) into cleaned :class:`Article`s.

Each function raises :class:`BadInput` with a one-line reason when the input holds no usable article.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from ingest.article import Article, DateSource
from ingest.clean import clean_text, normalise_date, split_title
from ingest.quality import unreadable
from ingest.tables import flatten_tables
from rag.core.errors import NewsRAGError
from rag.core.text import word_count
from rag.core.types import safe_url

TEXT_FIELDS = ("text", "body", "content", "article", "maintext", "full_text", "article_text")
TITLE_FIELDS = ("title", "headline", "name")
URL_FIELDS = ("url", "link", "canonical_url", "href")
SOURCE_FIELDS = ("source", "publisher", "site_name", "sitename", "site", "outlet", "source_name")
DATE_FIELDS = ("published_at", "publish_date", "published", "date", "pubDate", "datePublished", "pub_date")
AUTHOR_FIELDS = ("authors", "author", "byline", "creator")
# Fewer words than this after the headline is a headline, a caption or a note, not an article. Deliberately
# low, so that short wire briefs are kept; an empty file is reported as empty, not as too short.
MIN_WORDS = 5
# Compressed data is recognised by its first bytes (brotli and raw deflate have no such mark).
COMPRESSED = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}
SNIFF_BYTES = 8192  # a NUL byte among a text file's first bytes says it is binary


class BadInput(NewsRAGError, ValueError):
    """An input that holds no usable article; the message is the reason shown to the user."""


class Skipped(BadInput):
    """Inputs left out on purpose (a feed's entries past NEWSRAG_MAX_FEED_ITEMS, an e-mail's attachments):
    reported, not a failure."""


Loaded = tuple[str, Article | BadInput]
"""(where it came from, the article or why there is none)."""


def decode(data: bytes) -> str:
    """Strict UTF-8 (a BOM is allowed); binary files and other encodings get a clear reason."""
    if b"\x00" in data[:SNIFF_BYTES]:
        raise BadInput("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from exc


def _first(record: dict[str, Any], fields: tuple[str, ...]) -> tuple[str, Any]:
    for name in fields:
        if record.get(name) not in (None, "", []):
            return name, record[name]
    return "", None


def _as_text(field: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # {"name": "Reuters"} and the like
        value = value.get("name") or value.get("title") or value.get("href")
        if value is None:
            raise BadInput(f"field {field!r} is an object without a name, title or href, expected text")
    if not isinstance(value, str):
        raise BadInput(f"field {field!r} is {type(value).__name__}, expected text")
    return value


def authors_of(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [a.strip() for a in value.replace(" and ", ",").split(",") if a.strip()]
    if isinstance(value, list):
        return [_as_text("authors", a).strip() for a in value if a]
    raise BadInput(f"field 'authors' is {type(value).__name__}, expected text or a list")


def source_from_url(url: str) -> str:
    host = urlparse(url).hostname or ""
    return host.removeprefix("www.")


def finish(
    text: str,
    title: str = "",
    url: str = "",
    source: str = "",
    date: Any = None,
    date_source: DateSource = "page",
    **extra: Any,
) -> Article:
    """Clean the text, find a title if none is given, and check there is an article left.

    ``date_source`` says where ``date`` was found (see :class:`Article`); it is kept only when the date is one.
    """
    body = clean_text(text)
    clean_title = " ".join(title.split())
    if not clean_title:
        clean_title, body = split_title(body)
    elif body.split("\n", 1)[0].strip().lower() == clean_title.lower():
        body = body.split("\n", 1)[1].strip() if "\n" in body else ""
    words = word_count(body)  # a run of Japanese or Chinese counts a word per two characters, not one
    if not body:
        raise BadInput("no article text (empty after cleaning)")
    if words < MIN_WORDS:
        raise BadInput(f"article text too short ({words} words; a news article needs at least {MIN_WORDS})")
    if problem := unreadable(body):  # a binary file named .txt, a page in an encoding other than it says
        raise BadInput(f"text is unreadable: {problem} (not text, or not in the encoding it declares)")
    link = safe_url(url)  # a javascript: or data: url names no site either
    published = normalise_date(date)
    return Article(
        title=clean_title,
        text=body,
        url=link,
        source=source.strip() or source_from_url(link),
        published_at=published,
        date_source=date_source if published else "",
        **extra,
    )


def from_record(record: Any, origin: str) -> Article:
    """An article from a JSON record, mapping the field names news datasets commonly use."""
    if not isinstance(record, dict):
        raise BadInput(f"record is {type(record).__name__}, expected an object")
    text_field, text = _first(record, TEXT_FIELDS)
    if text is None:
        raise BadInput(f"record has no text (looked for {', '.join(TEXT_FIELDS)})")
    return finish(_as_text(text_field, text), origin=origin, date_source="record", **_metadata(record, _as_text))


def _metadata(record: dict[str, Any], as_text: Callable[[str, Any], str]) -> dict[str, Any]:
    """``finish``'s title, url, source, date and authors, found in ``record`` by the usual field names;
    ``as_text(field, value)`` turns a value into text (or says why it cannot be)."""
    _, date = _first(record, DATE_FIELDS)
    _, authors = _first(record, AUTHOR_FIELDS)
    return {
        "title": as_text(*_first(record, TITLE_FIELDS)),
        "url": as_text(*_first(record, URL_FIELDS)),
        "source": as_text(*_first(record, SOURCE_FIELDS)),
        "date": date,
        "authors": authors_of(authors),
    }


def page_text(data: bytes, max_bytes: int | None = None) -> str:
    """A page's bytes as text: unpacked if compressed, then decoded (declared or detected encoding).

    Unpacking stops at ``max_bytes`` (trafilatura's own 20 MB cap when None), so a small file that
    would unpack to gigabytes costs no more memory than an article may take.
    """
    from trafilatura.utils import decode_file, handle_compressed_file

    unpacked = handle_compressed_file(data, max_size=max_bytes)
    kind = next((k for mark, k in COMPRESSED.items() if data.startswith(mark)), None)
    if unpacked is data and kind:
        limit = f" or unpacks to more than {max_bytes / 1e6:.1f} MB" if max_bytes else ""
        raise BadInput(f"{kind}-compressed data that cannot be unpacked (corrupt{limit})")
    if b"\x00" in unpacked[:8192] and not unpacked.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise BadInput("binary file, not HTML")
    return decode_file(unpacked, max_size=max_bytes)


# Inline styles that hide an element from a reader. trafilatura drops some hidden elements itself, but not all
# spellings ("Display : None", opacity, font-size 0), and it puts back what it pruned when pruning took most of
# the page: text a reader never sees is how a page hides instructions for the models that read it.
_HIDDEN_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|opacity\s*:\s*0*(?:\.0*)?\s*(?:!important)?\s*"
    r"(?:;|$)|font-size\s*:\s*0*(?:\.0*)?(?:px|pt|em|rem|%)?\s*(?:!important)?\s*(?:;|$))",
    re.IGNORECASE,
)
_FRAME = ("html", "head", "body")  # anti-flicker snippets hide the whole page until scripts run: never drop these


def _drop_hidden(tree: Any) -> None:
    """Remove the elements a browser does not show: hidden by an inline style, ``hidden`` or ``aria-hidden="true"``.

    ``hidden="until-found"`` is kept: it is collapsed text a reader can open (and find-in-page shows).
    """
    hidden = [
        el
        for el in tree.iter()
        if isinstance(el.tag, str)
        and el.tag.lower() not in _FRAME
        and (
            (el.get("hidden") is not None and el.get("hidden").strip().lower() != "until-found")
            or (el.get("aria-hidden") or "").strip().lower() == "true"
            or _HIDDEN_STYLE.search(el.get("style") or "")
        )
    ]
    for el in hidden:
        remove_element(el)


def from_html(html: str | bytes, origin: str, url: str = "", max_bytes: int | None = None) -> Article:
    """The main text and metadata of a news page, by trafilatura (see :func:`page_text` for ``max_bytes``).

    Hidden elements are dropped first (:func:`_drop_hidden`): a page's invisible text is no part of its article.
    """
    doc = html_document(html, url, max_bytes)
    return finish(
        doc.text,
        title=doc.title or "",
        url=url or doc.url or "",
        source=doc.sitename or "",
        date=doc.date,
        authors=authors_of(doc.author),
        origin=origin,
    )


def html_document(html: str | bytes, url: str = "", max_bytes: int | None = None) -> Any:
    """trafilatura's reading of a page (``.text``, ``.title``, ``.sitename``, ``.date``, ``.author``, ``.url``).

    Every HTML newsrag reads goes through here: web pages, saved pages, e-mail newsletters and web archives.
    ``.date`` is the page's own (its metadata, JSON-LD, time elements), never its URL's: htmldate, which finds it
    for trafilatura, takes a date in the URL first, even over the page's metadata; a URL's date is
    ``ingest/dating.py``'s to give, after the page's, and named as the URL's.
    """
    import trafilatura
    from htmldate import find_date
    from trafilatura.settings import set_date_params
    from trafilatura.utils import load_html

    if isinstance(html, bytes):
        html = page_text(html, max_bytes)
    try:
        tree = load_html(html, max_bytes)  # parsed as trafilatura parses it
        if tree is not None:
            _drop_hidden(tree)
            flatten_tables(tree)  # a data table's rows as lines, a layout table as blocks (ingest/tables.py)
        # No extensive date search: it guesses "<year>-01-01" from a copyright line when a page has no date.
        dates = set_date_params(extensive=False)
        page = tree if tree is not None else html
        doc = trafilatura.bare_extraction(
            page, url=url or None, with_metadata=True, include_comments=False, date_extraction_params=dates
        )
        # A date htmldate may have read in the URL it was given (doc.url: ours, or the canonical link): ask for the
        # page's alone. trafilatura works on a copy of the tree, so it is as it was read.
        if doc is not None and doc.date and re.search(r"\d{4}", doc.url or ""):
            doc.date = find_date(page, url="", **dates)  # "": no URL to read, nor a canonical link to look for
    except Exception as exc:  # trafilatura raises assorted parser errors on broken pages
        raise BadInput(f"unreadable HTML ({type(exc).__name__})") from exc
    if doc is None or not (doc.text or "").strip():
        raise BadInput("no article text found in the HTML")
    return doc


def from_plain_text(text: str, origin: str, meta: dict[str, Any] | None = None) -> Article:
    """A plain-text or Markdown article: the first line is its headline unless front matter says."""
    # Front matter is looser than a record: a title of 2024 is the text "2024", not an error.
    return finish(text, origin=origin, **_metadata(meta or {}, lambda _field, value: str(value or "")))


def remove_element(element: Any) -> None:
    """Drop an HTML element but keep the text that follows it (its tail is visible text of the parent).

    An element inside one already dropped (no parent) is left alone.
    """
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
