"""``newsrag mcp``: newsrag's MCP server over stdio, for desktop assistants and agents (docs/mcp.md).

The assistant starts the command and speaks MCP on its stdin and stdout; nothing else may be written to stdout
(the SDK's stdio transport points it at stderr while it runs). The assistant acts for the owner who configured
it, so ``ingest_url`` fetches as the CLI does. ``newsrag serve`` serves the same tools at ``/mcp``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from rag.cli.engine import EngineOption
from rag.core.disk import make_private
from rag.core.settings import load_settings

console = Console(stderr=True)


def mcp(
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help="Index folder (NEWSRAG_INDEX_DIR).")] = None,
    chroma_host: Annotated[str | None, typer.Option("--chroma-host", help="Chroma server host.")] = None,
    chroma_port: Annotated[int | None, typer.Option("--chroma-port", help="Chroma server port.")] = None,
    engine: EngineOption = None,
) -> None:
    """Serve the MCP tools (search_news, ask_news, list_articles, get_article, ingest_url) over stdio."""
    # Here, not at the top: the CLI starts without LlamaIndex, chromadb and the SDK (tests/test_packages.py).
    from pydantic import ValidationError

    from rag.index.embedder import EmbedderError
    from rag.index.store import StoreError
    from rag.server.mcp import build_mcp_server
    from rag.service.newsrag import NewsRAG

    try:
        settings = load_settings(index_dir=index_dir, chroma_host=chroma_host, chroma_port=chroma_port, engine=engine)
        for path in make_private(settings.index_dir)[:3]:
            console.print(f"[yellow]warning:[/yellow] {escape(str(path))} is readable by others")
        newsrag = NewsRAG(settings)
        newsrag.components.ready()  # open the index and load the models now: a wrong setting fails before serving
    except (StoreError, EmbedderError, ValidationError, ValueError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    console.print(f"newsrag: MCP server on stdio over {escape(repr(newsrag))}")
    build_mcp_server(newsrag).run("stdio")
