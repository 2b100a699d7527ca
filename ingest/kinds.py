"""The kinds of file newsrag reads: one table, from which the folder walk, the file loader, the upload check, the
pipeline, the app's upload filter and the table in docs/formats.md (``newsrag formats --markdown``) all take them.

A new kind is a loader module and one entry in :data:`BUILT_IN`; another package adds one through the
``newsrag.loaders`` entry point (``ingest/loader_plugins.py``). What an entry holds: ``ingest/filekind.py``.
"""

from __future__ import annotations

from functools import cache

from ingest.filekind import FileKind, Kinds
from ingest.loader_plugins import register_plugins

# Size allowances (size_factor, times NEWSRAG_MAX_ARTICLE_MB): JSON Lines, mailboxes and web archives are read one
# record at a time, so they may be far larger than one article. A .json file is parsed whole (in memory, several
# times its size): a smaller allowance. PDF and Word files carry images and fonts beside their text; an .eml
# carries attachments, which are not read.
BUILT_IN = (
    FileKind(
        name="text",
        extensions=(".txt", ".md", ".markdown"),
        load="ingest.text:load_text",
        media_types=("text/plain", "text/markdown"),
        article="the file",
        metadata="first line or front matter",
        notes="Markdown layout dropped; YAML front matter read safely",
    ),
    FileKind(
        name="html",
        extensions=(".html", ".htm"),
        load="ingest.html_page:load_html",
        media_types=("text/html", "application/xhtml+xml"),
        article="the page",
        metadata="the page's metadata (trafilatura)",
        notes="hidden text and page furniture dropped",
    ),
    FileKind(
        name="json",
        extensions=(".json",),
        load="ingest.json_files:load_json",
        media_types=("application/json",),
        size_factor=20,
        many=True,
        too_large="one JSON file; split it, or use JSON Lines",
        article="each record (a list, or one under `articles`, `items`, `data` or `results`)",
        metadata="the usual field names of news datasets",
        notes="parsed whole: use JSON Lines for large sets",
    ),
    FileKind(
        name="jsonl",
        extensions=(".jsonl", ".ndjson"),
        load="ingest.json_files:load_jsonl",
        media_types=("application/jsonl", "application/x-ndjson"),
        size_factor=200,
        many=True,
        article="each line's record",
        metadata="as `.json`",
        notes="read a record at a time; a bad line fails alone",
    ),
    FileKind(
        name="pdf",
        extensions=(".pdf",),
        load="ingest.pdf:load_pdf",
        media_types=("application/pdf",),
        size_factor=10,
        article="the document",
        metadata="metadata title (else page 1's largest-font line) · — · creation date; author",
        notes="text layer only, read with PDFium; ligatures mapped, hyphenated line ends rejoined, running heads"
        " (per chapter too), footers, page numbers and contents dot leaders removed; the page is kept, so citations"
        ' say "p. 3"; an unreadable text layer (a broken font map) fails with "run OCR on it"',
    ),
    FileKind(
        name="docx",
        extensions=(".docx",),
        load="ingest.word:load_docx",
        media_types=("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
        size_factor=10,
        article="the document",
        metadata="core properties' title (else the Title paragraph) · — · created; author",
        notes="headings, paragraphs and tables (a row as `cell \\| cell`); headers and footers are not read",
    ),
    FileKind(
        name="eml",
        extensions=(".eml",),
        load="ingest.mail:load_eml",
        media_types=("message/rfc822",),
        size_factor=10,
        article="the message",
        metadata="Subject · sender's name (From) · Date",
        notes="the HTML part read as a web page, without unsubscribe, view-in-browser and tracking blocks;"
        " attachments not read (a note says so)",
    ),
    FileKind(
        name="mbox",
        extensions=(".mbox", ".txt.gz"),
        load="ingest.mail:load_mbox",
        media_types=("application/mbox",),
        size_factor=200,
        many=True,
        article="each message",
        metadata="as `.eml`",
        notes="read a message at a time; the first `NEWSRAG_MAX_ARCHIVE_ITEMS` (1,000), then one line for the rest;"
        " a pipermail archive too (`2019-March.txt`, or `.txt.gz`: unpacked as read, as far as an `.mbox` may be)",
        # pipermail, Mailman 2's archiver, names a list's monthly mailbox 2019-March.txt (gzipped: .txt.gz)
        claims=(".txt",),
        sniff="ingest.mailbox:looks_like_mbox",
    ),
    FileKind(
        name="warc",
        extensions=(".warc", ".warc.gz"),
        load="ingest.warc:load_warc",
        media_types=("application/warc",),
        size_factor=200,
        many=True,
        article="each HTML page (2xx response)",
        metadata='the page\'s metadata · its site · its date; capture date as "seen at"',
        notes="as `.mbox` for the cap; other responses counted in one line",
    ),
)


def registry(plugins: bool = True) -> Kinds:
    """A new registry: the kinds built in, then (with ``plugins``) those of every installed loader plugin."""
    table = Kinds(BUILT_IN)
    if plugins:
        register_plugins(table)
    return table


@cache  # two threads asking first may both build it: the same kinds, and a broken plugin's warning twice
def kinds() -> Kinds:
    """Every kind newsrag reads; the plugins are loaded once, here, when a file's kind is first asked."""
    return registry()


def size_limit(extension: str, max_bytes: int) -> int:
    """The largest file with ``extension`` read, for articles of at most ``max_bytes``."""
    kind = kinds().of(f"file{extension}")
    return kind.size_limit(max_bytes) if kind else max_bytes


def holds_many_articles(origin: str) -> bool:
    """Whether the file or URL ``origin`` may hold many articles (a mailbox, an archive, a JSON file)."""
    kind = kinds().of(origin.split("?", 1)[0])
    return kind is not None and kind.many
