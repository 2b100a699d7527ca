"""The ``newsrag`` command line: a thin layer over :class:`rag.service.newsrag.NewsRAG`.

Commands of higher layers join through the ``newsrag.commands`` entry point (``rag/cli/plugins.py``),
as simonw/llm's plugins add theirs: ``newsrag eval`` and ``newsrag bench`` come from ``evals``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from rag.cli.engine import EngineOption
from rag.cli.feeds import feeds_app, follow
from rag.cli.formats import formats
from rag.cli.ingest_progress import IngestDisplay
from rag.cli.mcp import mcp
from rag.cli.plugins import register_plugins
from rag.cli.serve import log, serve
from rag.core import render
from rag.core.disk import make_private, use_private_umask
from rag.core.errors import NewsRAGError
from rag.core.settings import Settings, load_settings

if TYPE_CHECKING:  # imported where used: `newsrag --help` starts without LlamaIndex and chromadb
    from rag.answering.answerer import History
    from rag.core.types import Answer
    from rag.service.newsrag import NewsRAG

app = typer.Typer(help="Question answering over news articles, with verified citations.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()
_BOLD = re.compile(r"\*\*(.+?)\*\*")

IndexDir = Annotated[Path | None, typer.Option("--index-dir", help="Index folder (NEWSRAG_INDEX_DIR).")]
ChromaHost = Annotated[str | None, typer.Option("--chroma-host", help="Chroma server host (NEWSRAG_CHROMA_HOST).")]
ChromaPort = Annotated[int | None, typer.Option("--chroma-port", help="Chroma server port (NEWSRAG_CHROMA_PORT).")]


@contextmanager
def _clear_errors() -> Iterator[None]:
    """The index or the embedder failing (a Chroma server gone, a read-only folder, a full disk): one line, exit 2."""
    from rag.index.embedder import EmbedderError
    from rag.index.store import StoreError

    try:
        yield
    except (StoreError, EmbedderError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


@app.callback()
def _owner_only() -> None:
    """What any command writes (the index, uploads, the feed list, the logs) is readable by its user alone."""
    use_private_umask()


def _rag(index_dir: Path | None, chroma_host: str | None, chroma_port: int | None, **more: Any) -> NewsRAG:
    from rag.service.newsrag import NewsRAG

    with _clear_errors():
        settings = load_settings(index_dir=index_dir, chroma_host=chroma_host, chroma_port=chroma_port, **more)
        for path in make_private(settings.index_dir)[:3]:  # an index an older version left readable to others
            console.print(
                f"[yellow]warning:[/yellow] {escape(str(path))} is readable by others and cannot be made private"
            )
        newsrag = NewsRAG(settings)
        newsrag.store  # noqa: B018 - open now, so that a wrong setting fails before any work
    return newsrag


@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="Files, folders, article URLs or RSS/Atom feed URLs.")],
    prune: Annotated[bool, typer.Option(help="Forget articles whose source file is gone.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Name each file the folder walk left unread, and why.")
    ] = False,
    index_dir: IndexDir = None,
    chroma_host: ChromaHost = None,
    chroma_port: ChromaPort = None,
) -> None:
    """Index news articles into Chroma; exits 1 if any input failed.

    Reads .txt, .md, .html, .json, .jsonl, .pdf, .docx, .eml, .mbox, .warc and .warc.gz; a folder walk counts
    the files it leaves unread by kind (--verbose names them).
    """
    from ingest.pipeline import plan

    newsrag = _rag(index_dir, chroma_host, chroma_port)
    with IngestDisplay(console, len(plan(sources)), quiet=json_out) as display, _clear_errors():
        report = newsrag.ingest(*sources, prune=prune, progress=display.outcome, reading=display.reading)
    if json_out:
        out.print_json(report.model_dump_json())
    else:
        for outcome in report.outcomes:
            if outcome.status in ("failed", "skipped"):
                # Names and titles come from the files: never markup, and a long path stays on one line.
                colour = "red" if outcome.status == "failed" else "yellow"
                line = f"[{colour}]{outcome.status}[/{colour}] {escape(outcome.origin)}: {escape(outcome.reason)}"
                console.print(line, soft_wrap=True, highlight=False)
            elif outcome.status in ("added", "updated", "removed"):
                line = f"[green]{outcome.status}[/green] {escape(outcome.title)} ({outcome.chunks} chunks)"
                console.print(line, soft_wrap=True, highlight=False)
        _print_unread(report, verbose)
        console.print(report.summary())
    raise typer.Exit(0 if report.ok else 1)


def _print_unread(report: Any, verbose: bool) -> None:
    """The files the folder walk passed over: each one with --verbose, else a count per kind and why."""
    if verbose:
        for unread in report.unread:
            line = f"[yellow]not read[/yellow] {escape(unread.path)}: {escape(unread.reason)}"
            console.print(line, soft_wrap=True, highlight=False)
        return
    reasons = {u.kind: u.reason for u in report.unread}
    for kind, count in report.unread_by_kind().items():
        line = (
            f"[yellow]not read[/yellow] {count} {escape(kind)} file(s): {escape(reasons[kind])} (--verbose names them)"
        )
        console.print(line, soft_wrap=True, highlight=False)


@app.command()
def articles(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    index_dir: IndexDir = None,
    chroma_host: ChromaHost = None,
    chroma_port: ChromaPort = None,
) -> None:
    """List the indexed articles."""
    with _clear_errors():
        records = _rag(index_dir, chroma_host, chroma_port).articles()
    if json_out:
        out.print_json(json.dumps([r.model_dump() for r in records]))
        return
    table = Table("id", "date", "source", "title", "chunks")
    for r in records:
        table.add_row(r.article_id, r.published_at[:10], escape(r.source), escape(r.title[:70]), str(r.n_chunks))
    out.print(table)
    console.print(f"{len(records)} articles")


@app.command()
def forget(
    id_or_url: Annotated[str, typer.Argument(help="Article id, URL or source file.")],
    index_dir: IndexDir = None,
    chroma_host: ChromaHost = None,
    chroma_port: ChromaPort = None,
) -> None:
    """Remove one article from the index."""
    with _clear_errors():
        removed = _rag(index_dir, chroma_host, chroma_port).forget(id_or_url)
    if removed is None:
        wanted = escape(repr(id_or_url))
        console.print(f"[red]error:[/red] no indexed article matches {wanted} (see `newsrag articles`)")
        raise typer.Exit(1)
    console.print(f"removed {escape(repr(removed.title))} ({removed.article_id})")


TopK = Annotated[int | None, typer.Option("--top-k", help="Passages to retrieve (NEWSRAG_TOP_K).")]
Sources = Annotated[list[str] | None, typer.Option("--source", help="Only these sources (repeatable).")]
Since = Annotated[str | None, typer.Option("--since", help="Only articles published on or after (YYYY-MM-DD).")]
Until = Annotated[str | None, typer.Option("--until", help="Only articles published on or before (YYYY-MM-DD).")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Ask as on this day (YYYY-MM-DD): no later article is used; 'last week' is before it."
    ),
]


def _print_answer(answer: Any) -> None:
    for notice in answer.notices:
        console.print(f"[yellow]note:[/yellow] {escape(notice)}")
    if answer.citations:
        out.print("\n[bold]Sources[/bold]")
        out.print(render.sources_text(answer.citations), markup=False, highlight=False)
    for flag in answer.flags:
        console.print(f"[yellow]flag:[/yellow] {escape(flag)}")
    console.print(
        f"[dim]engine: {answer.engine} · retrieval {answer.timings.get('retrieval_ms', 0):.0f} ms · "
        f"total {answer.timings.get('total_ms', 0):.0f} ms[/dim]"
    )


def styled(text: str, terminal: bool) -> Text | str:
    """On a terminal, the short answer's Markdown bold ("**Cuba** — …") is shown bold; piped output keeps it."""
    if not terminal:
        return text
    styled, last = Text(), 0
    for match in _BOLD.finditer(text):
        styled.append(text[last : match.start()])
        styled.append(match.group(1), style="bold")
        last = match.end()
    styled.append(text[last:])
    return styled


def _ask_one(newsrag: NewsRAG, question: str, json_out: bool, history: History | None = None, **options: Any) -> Answer:
    try:
        if json_out:
            answer = newsrag.ask(question, history=history, **options)
            out.print_json(json.dumps(answer.to_dict()))
            return answer
        response = newsrag.stream(question, history=history, **options)
        for delta in response:
            out.print(styled(delta, out.is_terminal), end="", markup=False, highlight=False)
        out.print()
        answer = response.answer
        if response.changed():
            # Citations were checked after streaming: show the answer as it stands now.
            out.print(f"\n[bold]Checked answer:[/bold] {escape(answer.text)}", highlight=False)
    except NewsRAGError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    _print_answer(answer)
    return answer


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the whole answer as JSON.")] = False,
    engine: EngineOption = None,
    top_k: TopK = None,
    source: Sources = None,
    since: Since = None,
    until: Until = None,
    as_of: AsOf = None,
    index_dir: IndexDir = None,
    chroma_host: ChromaHost = None,
    chroma_port: ChromaPort = None,
) -> None:
    """Answer a question from the indexed articles, with citations."""
    newsrag = _rag(index_dir, chroma_host, chroma_port)
    filters = {"sources": source, "since": since, "until": until, "as_of": as_of}
    _ask_one(newsrag, question, json_out, engine=engine, top_k=top_k, **filters)


@app.command()
def chat(
    engine: EngineOption = None,
    top_k: TopK = None,
    as_of: AsOf = None,
    index_dir: IndexDir = None,
    chroma_host: ChromaHost = None,
    chroma_port: ChromaPort = None,
) -> None:
    """An interactive conversation; follow-up questions understand earlier turns. Ctrl-D ends it."""
    newsrag = _rag(index_dir, chroma_host, chroma_port)
    history: list[tuple[str, str]] = []
    console.print("Ask about the indexed news. Empty line: new conversation. Ctrl-D: quit.")
    while True:
        try:
            question = input("\n> ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not question.strip():
            history.clear()
            console.print("[dim](new conversation)[/dim]")
            continue
        try:
            answer = _ask_one(newsrag, question, False, history=list(history), engine=engine, top_k=top_k, as_of=as_of)
        except typer.Exit:
            continue
        history += [("user", question), ("assistant", answer.text)]


@app.command()
def reindex(
    index_dir: IndexDir = None,
    chroma_host: ChromaHost = None,
    chroma_port: ChromaPort = None,
) -> None:
    """Re-embed every indexed chunk with the configured embedder (after changing NEWSRAG_EMBEDDER)."""
    from rag.index.embedder import build_embedder
    from rag.index.reindex import reindex as run_reindex

    settings = load_settings(index_dir=index_dir, chroma_host=chroma_host, chroma_port=chroma_port)
    written = run_reindex(settings, build_embedder(settings), progress=lambda n: console.print(f"  {n} chunks"))
    console.print(f"re-embedded {written} chunks with {settings.embedder}")


@app.command()
def config(
    markdown: Annotated[bool, typer.Option("--markdown", help="The README's configuration table.")] = False,
) -> None:
    """Show the effective configuration (secrets hidden)."""
    if markdown:
        out.print(settings_markdown(), markup=False, highlight=False, soft_wrap=True)
        return
    for name, value in load_settings().model_dump().items():
        out.print(f"NEWSRAG_{name.upper()}={'' if value is None else value}", markup=False, highlight=False)


def settings_markdown() -> str:
    """A Markdown table of every setting, generated from :class:`Settings` so it cannot drift."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "" if default is None else str(default)
        rows.append(f"| `NEWSRAG_{name.upper()}` | `{shown}` | {field.description or ''} |")
    return "\n".join(rows)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


app.command()(serve)
app.command()(log)
app.add_typer(feeds_app, name="feeds")
app.command()(follow)
app.command()(formats)
app.command()(mcp)
register_plugins(app)


if __name__ == "__main__":  # pragma: no cover - `python -m rag.cli.main`
    main()
