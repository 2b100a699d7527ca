"""``newsrag formats``: the kinds of file newsrag reads, from the table in ``ingest/kinds.py`` (with the kinds of
any loader plugin installed); ``--markdown`` prints the table docs/formats.md shows, so that it cannot drift."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ingest.filekind import FileKind
from ingest.kinds import kinds
from rag.core.settings import load_settings

out = Console()


def formats(
    markdown: Annotated[bool, typer.Option("--markdown", help="The table of docs/formats.md.")] = False,
) -> None:
    """List the kinds of file newsrag reads (a loader plugin's too)."""
    if markdown:
        out.print(formats_markdown(kinds()), markup=False, highlight=False, soft_wrap=True)
        return
    max_mb = load_settings().max_article_mb
    table = Table("kind", "extensions", "media types", "largest file", "articles", "from")
    for kind in kinds():
        largest, many = f"{kind.size_factor * max_mb:g} MB", "many" if kind.many else "one"
        table.add_row(kind.name, " ".join(kind.extensions), " ".join(kind.media_types), largest, many, kind.origin)
    out.print(table)


def formats_markdown(kinds: Iterable[FileKind]) -> str:
    """A Markdown table of ``kinds``: what one article is, where its metadata comes from, how large a file may be."""
    rows = [
        "| input | one article is | title · source · date | largest file (× `NEWSRAG_MAX_ARTICLE_MB`) | notes |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind in kinds:
        inputs = ", ".join(f"`{e}`" for e in kind.extensions)
        rows.append(f"| {inputs} | {kind.article} | {kind.metadata} | {kind.size_factor} | {kind.notes} |")
    return "\n".join(rows)
