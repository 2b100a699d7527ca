"""Eval suites, metrics and reports: measure newsrag's answer accuracy and catch regressions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.core.lazy import lazy_names

if TYPE_CHECKING:
    from evals.runner import EvalResult, run_suite
    from evals.suite import Case, load_suite

# Imported on first use (rag.lazy), so that the CLI starts without LlamaIndex and chromadb.
_HOMES = {"Case": "evals.suite", "EvalResult": "evals.runner", "load_suite": "evals.suite", "run_suite": "evals.runner"}
__all__ = ["Case", "EvalResult", "load_suite", "run_suite"]  # the names of _HOMES, spelled out for linters


__getattr__ = lazy_names("evals", _HOMES)
