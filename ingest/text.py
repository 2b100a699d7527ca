"""Reading a text or Markdown file: one article, its headline the first line unless YAML front matter says.

The front matter is untrusted YAML, read by a SafeLoader without aliases and with a nesting limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from ingest.article import Article
from ingest.filekind import Limits
from ingest.records import BadInput, Loaded, decode, from_plain_text
from ingest.unwrap import unwrap

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
# Real front matter is a dozen short lines (well under 2 KB); the YAML parser is pure Python, and the metadata
# kept from it is capped (see Article) anyway.
MAX_FRONT_MATTER_BYTES = 32_000
MAX_FRONT_MATTER_DEPTH = 20


def load_text(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """The article a text or Markdown file holds, or why it has none."""
    try:
        yield origin, _plain(decode(path.read_bytes()), origin)
    except BadInput as exc:
        yield origin, exc


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
    text = unwrap(text)  # a text wrapped at a fixed width, one paragraph a line (ingest/unwrap.py)
    # Markdown headings and emphasis are layout, not words.
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"^!\[[^\]]*\]\([^)]*\)\s*$", "", text, flags=re.MULTILINE)
    return from_plain_text(text, origin, meta)
