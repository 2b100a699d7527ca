"""Reading articles from local files: each kind of file to its loader, within the size its kind may have.

Text, Markdown, HTML and JSON are read here; PDF (``ingest/pdf.py``), Word (``ingest/word.py``), e-mail
(``ingest/mail.py``) and web archives (``ingest/warc.py``) each have a module of their own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import yaml

from ingest.article import Article
from ingest.kinds import (
    HTML_TYPES,
    LINE_TYPES,
    MAIL_TYPES,
    MAILBOX_TYPES,
    MANY_ARTICLE_TYPES,
    PDF_TYPES,
    SUPPORTED,
    TEXT_TYPES,
    WARC_TYPES,
    WORD_TYPES,
    file_type,
    size_limit,
)
from ingest.mail import load_eml, load_mbox
from ingest.pdf import load_pdf
from ingest.records import BadInput, Loaded, from_html, from_plain_text, from_record
from ingest.walk import expand
from ingest.warc import load_warc
from ingest.word import load_docx

__all__ = ["Loaded", "decode", "expand", "load_file"]

SNIFF_BYTES = 8192
MAX_ARCHIVE_ITEMS = 1000  # the settings' default (NEWSRAG_MAX_ARCHIVE_ITEMS)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
# Real front matter is a dozen short lines (well under 2 KB); the YAML parser is pure Python, and the metadata
# kept from it is capped (see Article) anyway.
MAX_FRONT_MATTER_BYTES = 32_000
MAX_FRONT_MATTER_DEPTH = 20


def load_file(path: Path, max_bytes: int, max_items: int = MAX_ARCHIVE_ITEMS) -> Iterator[Loaded]:
    """Every article in one file, or one reason it has none; never raises for bad content.

    ``max_items`` is the most messages read from one mailbox, or pages from one web archive.
    """
    origin = str(path.resolve())
    kind = file_type(path)
    if kind not in SUPPORTED:
        yield origin, BadInput(f"unsupported file type {kind or '(none)'}; use {', '.join(sorted(SUPPORTED))}")
        return
    limit = size_limit(kind, max_bytes)
    try:
        size = path.stat().st_size
        if size == 0:
            yield origin, BadInput("empty file")
            return
        if size > limit:
            what = "a news article"
            if kind == ".json":
                what = "one JSON file; split it, or use JSON Lines"
            elif kind in MANY_ARTICLE_TYPES:
                what = "one file of articles; split it"
            yield origin, BadInput(f"too large for {what} ({size / 1e6:.1f} MB > {limit / 1e6:.1f} MB)")
            return
        if kind in LINE_TYPES:
            yield from _jsonl(path, origin, max_bytes)
            return
        if kind in PDF_TYPES | WORD_TYPES | MAIL_TYPES:
            load = load_pdf if kind in PDF_TYPES else load_docx if kind in WORD_TYPES else load_eml
            yield from load(path, origin, max_bytes)
            return
        if kind in MAILBOX_TYPES | WARC_TYPES:
            yield from (load_mbox if kind in MAILBOX_TYPES else load_warc)(path, origin, max_bytes, max_items)
            return
        data = path.read_bytes()
    except OSError as exc:
        yield origin, BadInput(f"cannot read: {exc.strerror or exc}")
        return
    if kind in HTML_TYPES:
        yield _one(origin, lambda: from_html(data, origin, max_bytes=max_bytes))
        return
    try:
        text = decode(data)
    except BadInput as exc:
        yield origin, exc
        return
    if kind in TEXT_TYPES:
        yield _one(origin, lambda: _plain(text, origin))
    else:
        yield from _json(text, origin, max_bytes)


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


def _one(origin: str, make: object) -> Loaded:
    try:
        return origin, make()  # type: ignore[operator]
    except BadInput as exc:
        return origin, exc


class _FrontMatterLoader(yaml.SafeLoader):
    """yaml's SafeLoader without aliases and with a nesting limit.

    An alias (``*name``) repeats a node without copying it, so nine lines of anchors and aliases (a "billion
    laughs") stand for a value of gigabytes once anything turns it into text. Metadata never needs one.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise BadInput(f"front matter uses a YAML alias (its line {mark.line + 1}); aliases are not allowed")
        if self.depth >= MAX_FRONT_MATTER_DEPTH:  # deeper would end in a RecursionError, after a second of work
            raise BadInput(f"front matter nested more than {MAX_FRONT_MATTER_DEPTH} levels deep")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _front_matter(block: str) -> object:
    """The YAML of a front matter block, parsed safely; BadInput says why it cannot be."""
    size = len(block.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise BadInput(f"front matter too large ({size:,} bytes > {MAX_FRONT_MATTER_BYTES:,})")
    try:
        return yaml.load(block, Loader=_FrontMatterLoader)  # a SafeLoader, stricter still
    except yaml.YAMLError as exc:
        raise BadInput(f"front matter is not valid YAML: {str(exc).splitlines()[0]}") from exc


def _plain(text: str, origin: str) -> Article:
    meta: dict[str, object] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        parsed = _front_matter(match.group(1))
        if isinstance(parsed, dict):
            meta, text = parsed, text[match.end() :]
    # Markdown headings and emphasis are layout, not words.
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"^!\[[^\]]*\]\([^)]*\)\s*$", "", text, flags=re.MULTILINE)
    return from_plain_text(text, origin, meta)


def _records(items: list[object], origin: str, max_bytes: int, label: str) -> Iterator[Loaded]:
    for number, record in enumerate(items, start=1):
        where = f"{origin}#{label}{number}"
        if len(json.dumps(record, default=str)) > max_bytes:
            yield where, BadInput("record too large for a news article")
            continue
        try:
            yield where, from_record(record, origin)
        except BadInput as exc:
            yield where, exc


def _parse(text: str, line_numbers: bool = False) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"invalid JSON: {exc.msg}" + (f" at line {exc.lineno}" if line_numbers else "")) from exc
    except RecursionError as exc:
        raise BadInput("invalid JSON: nested too deeply") from exc


def _json(text: str, origin: str, max_bytes: int) -> Iterator[Loaded]:
    try:
        data = _parse(text, line_numbers=True)
    except BadInput as exc:
        yield origin, exc
        return
    if isinstance(data, dict):
        nested = next(
            (data[k] for k in ("articles", "items", "data", "results") if isinstance(data.get(k), list)), None
        )
        data = nested if nested is not None else [data]
    if not isinstance(data, list):
        yield origin, BadInput(f"JSON holds a {type(data).__name__}, expected an object or a list of them")
        return
    if not data:
        yield origin, BadInput("JSON holds no records")
        return
    yield from _records(data, origin, max_bytes, "record")


def _jsonl(path: Path, origin: str, max_bytes: int) -> Iterator[Loaded]:
    """One record per line, read a line at a time: memory stays within one record however long the file."""
    seen = False
    with path.open("rb") as lines:
        if b"\x00" in lines.read(SNIFF_BYTES):
            yield origin, BadInput("binary file, not text")
            return
        lines.seek(0)
        for number, raw in enumerate(_lines(lines, max_bytes), start=1):
            where = f"{origin}#line{number}"
            if raw is not None and not raw.strip():
                continue
            seen = True
            if raw is None:
                yield where, BadInput("record too large for a news article")
                continue
            try:
                record = _parse(decode(raw))
            except BadInput as exc:
                yield where, exc
                continue
            for _where, loaded in _records([record], origin, max_bytes, "line"):
                yield where, loaded
    if not seen:
        yield origin, BadInput("no records (only blank lines)")


def _lines(stream: BinaryIO, max_bytes: int) -> Iterator[bytes | None]:
    """The lines of ``stream`` without their newline; None for a line longer than ``max_bytes`` (skipped unread)."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # the rest of the long line, a block at a time
                line = stream.readline(max_bytes + 1)
            yield None
            continue
        yield line.rstrip(b"\r\n") if line.endswith(b"\n") else line
