"""The ``--engine`` option of every command that answers: a built-in engine, or one an installed plugin adds."""

from __future__ import annotations

from typing import Annotated

import typer

from rag.core.options import Engine


def engine_name(value: str | None) -> str | None:
    """The engine asked for, lower-cased; an unknown one is typer's usage error (exit 2) naming the choices."""
    if value is None:
        return None
    name = value.strip().lower()
    built_in = [choice.value for choice in Engine]
    if name in built_in:
        return name
    from rag.answering.engine_plugins import plugin_engines  # here: the CLI starts without LlamaIndex (test_packages)

    known = built_in + sorted(plugin_engines())  # plugins are loaded only for a name that is not built in
    if name not in known:
        raise typer.BadParameter(f"{value[:40]!r} is not one of {', '.join(map(repr, known))}.")
    return name


EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine", callback=engine_name, help="auto, llm, extractive, or a plugin's engine (NEWSRAG_ENGINE)."
    ),
]
