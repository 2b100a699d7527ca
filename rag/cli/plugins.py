"""Commands from higher layers join ``newsrag`` through an entry point, as simonw/llm's plugins do.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."newsrag.commands"]
    evals = "evals.cli:register"

and ``register(app)`` adds its commands to the typer app. The CLI never imports them itself, so a
lower layer never reaches up to a higher one; a plugin that fails to load is reported, not fatal.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import typer

GROUP = "newsrag.commands"


def register_plugins(app: typer.Typer) -> list[str]:
    """Let every installed ``newsrag.commands`` entry point add its commands; returns their names."""
    loaded = []
    for entry in entry_points(group=GROUP):
        try:
            entry.load()(app)
        except Exception as exc:  # a broken plugin must not take the other commands down with it
            print(f"newsrag: could not load the {entry.name!r} commands ({exc})", file=sys.stderr)
            continue
        loaded.append(entry.name)
    return loaded
