"""Eval suites, metrics and reports: measure newsrag's answer accuracy and catch regressions."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evals.runner import EvalResult, run_suite
    from evals.suite import Case, load_suite

# Imported on first use (PEP 562), like `rag`'s names: the runner pulls in LlamaIndex, which every `newsrag`
# command would otherwise pay for at start-up.
_HOMES = {"Case": "evals.suite", "EvalResult": "evals.runner", "load_suite": "evals.suite", "run_suite": "evals.runner"}
__all__ = ["Case", "EvalResult", "load_suite", "run_suite"]  # the names of _HOMES, spelled out for linters


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'evals' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
