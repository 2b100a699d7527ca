"""Kinds of file from other packages join through an entry point, as simonw/llm's plugins add models.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."newsrag.loaders"]
    csv = "newsrag_csv:register"

and ``register(add)`` calls ``add(FileKind(...))`` for each kind it reads (docs/plugins.md; a whole one in
``examples/newsrag-csv``). The plugins are loaded once, when the table of kinds is first used, after the kinds
built in. A plugin that fails to import, fails in ``register``, or claims an extension or a name another kind has
is left out whole, with a warning naming it: the kinds built in and the other plugins' still read.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from importlib.metadata import entry_points

from ingest.filekind import FileKind, Kinds

GROUP = "newsrag.loaders"
log = logging.getLogger(__name__)


def register_plugins(kinds: Kinds) -> list[str]:
    """Let every installed ``newsrag.loaders`` entry point add its kinds to ``kinds``; returns their names."""
    loaded = []
    for entry in entry_points(group=GROUP):
        offered: list[FileKind] = []
        try:
            entry.load()(offered.append)
            strays = [k for k in offered if not isinstance(k, FileKind)]
            if strays:
                raise TypeError(f"it added {strays[0]!r}, not a FileKind")
            kinds.add(*(replace(kind, plugin=entry.name) for kind in offered))  # all of them, or none
        except Exception as exc:  # a broken plugin must not take the other kinds down with it
            reason = f"{type(exc).__name__}: {exc}"
            log.warning("newsrag: left out the %r loader plugin (%s), %s", entry.name, entry.value, reason)
            continue
        loaded.append(entry.name)
    return loaded
