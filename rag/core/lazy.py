"""A package's public names, imported on first use (PEP 562).

`rag.service.newsrag` and `evals.runner` pull in LlamaIndex and chromadb; importing them eagerly from the packages'
``__init__`` would cost every `newsrag` command, even ``--help``, seconds before it could print a line.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each name from its home module when first asked for."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)  # later lookups no longer come here
        return value

    return __getattr__
