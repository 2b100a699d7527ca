"""``newsrag serve`` (the chat app and its APIs) and ``newsrag log`` (the question log); see ``rag/cli/main.py``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rag.cli.engine import EngineOption
from rag.core.disk import use_private_umask
from rag.core.settings import load_settings

console = Console(stderr=True)
out = Console()


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Address to bind (NEWSRAG_HOST: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (NEWSRAG_PORT; default 7860).")] = None,
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help="Index folder (NEWSRAG_INDEX_DIR).")] = None,
    chroma_host: Annotated[str | None, typer.Option("--chroma-host", help="Chroma server host.")] = None,
    chroma_port: Annotated[int | None, typer.Option("--chroma-port", help="Chroma server port.")] = None,
    engine: EngineOption = None,
) -> None:
    """Start the chat app: the web page at /, its Gradio API, and an OpenAI-compatible API at /v1."""
    from pydantic import ValidationError

    from rag.index.embedder import EmbedderError
    from rag.index.store import StoreError
    from rag.ui.web import run

    use_private_umask()  # `python app.py` comes here without the CLI's callback
    try:
        settings = load_settings(
            host=host, port=port, index_dir=index_dir, chroma_host=chroma_host, chroma_port=chroma_port, engine=engine
        )
        run(settings)
    except (StoreError, EmbedderError, ValidationError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def log(
    json_out: Annotated[bool, typer.Option("--json", help="Print every field as JSON (an export).")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many questions, newest first.")] = 20,
    conversation: Annotated[str | None, typer.Option("--conversation", help="Only this conversation id.")] = None,
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help="Index folder (NEWSRAG_INDEX_DIR).")] = None,
    as_suite: Annotated[
        Path | None,
        typer.Option(
            "--as-suite",
            help="Write the rated answers (👍/👎) to this file as eval-suite cases (JSONL), to review before adding"
            " it to evals/suites/.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """List the logged questions and answers (index_dir/history.sqlite), newest first: every visitor's and user's."""
    from rag.service.history import EVERYONE, HistoryLog

    settings = load_settings(index_dir=index_dir)
    path = settings.history_path
    if as_suite is not None:
        _write_suite(HistoryLog(path) if path.exists() else None, as_suite)
        return
    if not path.exists():
        if json_out:
            out.print("[]")
        else:
            console.print(f"no questions logged yet ({path} does not exist)")
        return
    history = HistoryLog(path)
    # The owner's view: across all scopes, where the app shows each visitor only their own.
    if conversation:
        turns = history.turns(conversation, scope=EVERYONE)[-limit:][::-1]
    else:
        turns = history.recent(limit, scope=EVERYONE)
    if json_out:
        out.print_json(json.dumps([t.model_dump() for t in turns]))
        return
    table = Table()
    for column in ("time", "conversation", "who", "engine", "question", "answer"):
        table.add_column(column, no_wrap=True, overflow="ellipsis")
    for t in turns:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t.created_at))
        answer = ("(refused) " if t.refused else "") + t.answer
        question, answer = escape(_short(t.question, 40)), escape(_short(answer, 60))  # user text: never markup
        who = t.user or (t.scope or "")[:16]  # a user, or "visitor:<hash prefix>", or an API channel
        table.add_row(when, t.conversation_id, escape(who), t.engine, question, answer)
    out.print(table)
    console.print(f"{len(turns)} questions" + ("" if settings.log else " (logging is off: NEWSRAG_LOG=off)"))


def _write_suite(history: Any, target: Path) -> None:
    """The rated answers as eval cases in ``target``: 👍 with key facts, 👎 with the note, marked for review."""
    from rag.service.exports import suite_case

    cases = [suite_case(t) for t in history.rated()] if history is not None else []
    try:
        target.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot write {escape(str(target))}: {escape(exc.strerror or str(exc))}")
        raise typer.Exit(1) from exc
    review = sum(1 for c in cases if c.get("review"))
    console.print(
        f"wrote {len(cases)} rated answers to {escape(str(target))} ({len(cases) - review} 👍 with key facts,"
        f" {review} 👎 marked for review); check them, then add the file to evals/suites/ if they hold"
    )


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
