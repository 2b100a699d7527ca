"""``newsrag feeds add|list|remove`` (the followed feeds) and ``newsrag follow`` (poll them).

See ``rag/cli/main.py``, which mounts them.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rag.core.settings import load_settings

if TYPE_CHECKING:  # imported where used: the CLI starts without LlamaIndex and chromadb
    from rag.service.newsrag import NewsRAG

console = Console(stderr=True)
out = Console()
feeds_app = typer.Typer(help="The followed RSS/Atom feeds, polled by `newsrag follow` and `newsrag serve`.")

IndexDir = Annotated[Path | None, typer.Option("--index-dir", help="Index folder (NEWSRAG_INDEX_DIR).")]


def _newsrag(index_dir: Path | None, **more: Any) -> NewsRAG:
    from rag.service.newsrag import NewsRAG

    return NewsRAG(load_settings(index_dir=index_dir, **more))


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else ""


@feeds_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The feed's http(s) URL.")],
    every: Annotated[
        float | None, typer.Option("--every", min=1, help="Seconds between polls (NEWSRAG_FEED_INTERVAL).")
    ] = None,
    index_dir: IndexDir = None,
) -> None:
    """Follow a feed: its new and changed entries are ingested at every poll."""
    try:
        feed = _newsrag(index_dir).add_feed(url, every)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    console.print(f"following {escape(feed.url)} every {feed.interval:g} s")


@feeds_app.command("list")
def list_feeds(
    json_out: Annotated[bool, typer.Option("--json", help="Print every field as JSON.")] = False,
    index_dir: IndexDir = None,
) -> None:
    """List the followed feeds and what their last poll found."""
    feeds = _newsrag(index_dir).feeds()
    if json_out:
        out.print_json(json.dumps([f.model_dump() for f in feeds]))
        return
    table = Table("url", "every s", "last poll", "status", "failures", "next poll", "note")
    for f in feeds:
        table.add_row(
            escape(f.url),
            f"{f.interval:g}",
            _when(f.last_polled_at),
            escape(f.last_status),
            str(f.failures),
            _when(f.next_poll_at) or "now",
            escape(f.note[:80]),
        )
    out.print(table)
    console.print(f"{len(feeds)} feeds followed")


@feeds_app.command("remove")
def remove(url: Annotated[str, typer.Argument(help="The feed's URL, as listed.")], index_dir: IndexDir = None) -> None:
    """Stop following a feed (its articles stay indexed; `newsrag forget` removes one)."""
    if not _newsrag(index_dir).remove_feed(url):
        console.print(f"[red]error:[/red] not followed: {escape(url)} (see `newsrag feeds list`)")
        raise typer.Exit(1)
    console.print(f"no longer following {escape(url)}")


def follow(
    once: Annotated[bool, typer.Option("--once", help="Poll every followed feed once, due or not, and exit.")] = False,
    index_dir: IndexDir = None,
    chroma_host: Annotated[str | None, typer.Option("--chroma-host", help="Chroma server host.")] = None,
    chroma_port: Annotated[int | None, typer.Option("--chroma-port", help="Chroma server port.")] = None,
) -> None:
    """Poll the followed feeds when due and ingest what they bring, until interrupted (`newsrag serve` does too)."""
    from rag.index.embedder import EmbedderError
    from rag.index.store import StoreError
    from rag.service.follower import Follower, log_report

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        newsrag = _newsrag(index_dir, chroma_host=chroma_host, chroma_port=chroma_port)
        newsrag.store  # noqa: B018 - open now: a wrong setting fails here
        if once:
            for feed in newsrag.feeds():
                for report in newsrag.poll_feeds(feed.url):
                    log_report(report)
            return
        console.print(f"following {len(newsrag.feeds())} feeds (Ctrl-C stops)")
        Follower(newsrag).run()
    except (StoreError, EmbedderError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        console.print("stopped")
