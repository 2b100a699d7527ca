"""Eval suites, metrics and reports: measure newsrag's answer accuracy and catch regressions."""

from evals.runner import EvalResult, run_suite
from evals.suite import Case, load_suite

__all__ = ["Case", "EvalResult", "load_suite", "run_suite"]
