"""Answer engines from other packages join through an entry point, as the file kinds do (ingest/loader_plugins.py).

A package declares, in its ``pyproject.toml``::

    [project.entry-points."newsrag.engines"]
    leads = "newsrag_leads:register"

and ``register(add)`` calls ``add(engine)`` with each engine it offers: an object with a ``name`` and a
``draft(turn, gate)`` method (:class:`~rag.answering.engines.Engine`; a whole one in ``examples/newsrag-leads``).
A question asks for it by name (``ask(question, engine="leads")``); its draft's citations are checked as the
built-in engines' are. A plugin that fails to load, offers something that is no engine, or takes a name already
taken is left out whole, with a warning naming it.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from rag.answering.engines import Engine
from rag.core.options import ENGINE_PLUGINS

GROUP = ENGINE_PLUGINS
BUILT_IN = ("auto", "extractive", "llm")
log = logging.getLogger(__name__)


def plugin_engines() -> dict[str, Engine]:
    """Every installed ``newsrag.engines`` entry point's engines, by name."""
    found: dict[str, Engine] = {}
    for entry in entry_points(group=GROUP):
        offered: list[Engine] = []
        try:
            entry.load()(offered.append)
            for engine in offered:
                name = getattr(engine, "name", None)
                if not isinstance(name, str) or not callable(getattr(engine, "draft", None)):
                    raise TypeError(f"it added {engine!r}, which has no name and draft(turn, gate)")
                if name.lower() in BUILT_IN or name.lower() in found:
                    raise ValueError(f"the engine name {name!r} is taken")
        except Exception as exc:  # a broken plugin must not take the other engines down with it
            log.warning("newsrag: left out the %r engine plugin (%s), %s: %s", entry.name, entry.value,
                        type(exc).__name__, exc)  # fmt: skip
            continue
        found |= {engine.name.lower(): engine for engine in offered}
    return found
