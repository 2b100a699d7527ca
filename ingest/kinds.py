"""The kinds of file newsrag reads, told by their name, and how large each kind may be.

One table, read by the folder walk, the file loader, the upload check and the pipeline, so that a new kind is
added in one place.
"""

from __future__ import annotations

from pathlib import Path

TEXT_TYPES = frozenset({".txt", ".md", ".markdown"})
HTML_TYPES = frozenset({".html", ".htm"})
LINE_TYPES = frozenset({".jsonl", ".ndjson"})
RECORD_TYPES = frozenset({".json"}) | LINE_TYPES
PDF_TYPES = frozenset({".pdf"})
WORD_TYPES = frozenset({".docx"})
MAIL_TYPES = frozenset({".eml"})
MAILBOX_TYPES = frozenset({".mbox"})
WARC_TYPES = frozenset({".warc", ".warc.gz"})
SUPPORTED = TEXT_TYPES | HTML_TYPES | RECORD_TYPES | PDF_TYPES | WORD_TYPES | MAIL_TYPES | MAILBOX_TYPES | WARC_TYPES
# Files that hold many articles: one of them is never "replaced" by another from the same file.
MANY_ARTICLE_TYPES = RECORD_TYPES | MAILBOX_TYPES | WARC_TYPES
# Kinds named by two suffixes ("crawl.warc.gz"); Path.suffix sees only the last.
_DOUBLE = (".warc.gz",)

# How much larger than one article (NEWSRAG_MAX_ARTICLE_MB) a file of each kind may be. A file of many records
# may be far larger than one article: JSON Lines, mailboxes and web archives are read one record at a time. A
# .json file is parsed whole (in memory, several times its size), so it gets a smaller allowance. PDF and Word
# files carry images and fonts beside their text; an .eml carries attachments, which are not read.
SIZE_FACTOR = {".json": 20, ".pdf": 10, ".docx": 10, ".eml": 10} | dict.fromkeys(
    LINE_TYPES | MAILBOX_TYPES | WARC_TYPES, 200
)


def file_type(path: str | Path) -> str:
    """The kind of file ``path`` names: its lower-cased suffix, ``.warc.gz`` for a compressed web archive, or ""."""
    name = Path(path).name.lower()
    return next((d for d in _DOUBLE if name.endswith(d) and len(name) > len(d)), Path(name).suffix)


def size_limit(kind: str, max_bytes: int) -> int:
    """The largest file of ``kind`` read, for articles of at most ``max_bytes``."""
    return max_bytes * SIZE_FACTOR.get(kind, 1)


def holds_many_articles(origin: str) -> bool:
    """Whether the file or URL ``origin`` may hold many articles (a mailbox, an archive, a JSON file)."""
    return file_type(origin.split("?", 1)[0]) in MANY_ARTICLE_TYPES
