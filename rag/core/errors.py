"""One base for every error newsrag raises on purpose, so a caller can catch them all with one clause.

Each layer defines its own errors beside the code that raises them (``StoreError`` in the index,
``QuestionError`` in answering, ...); they all subclass :class:`NewsRAGError`. Most also keep the
built-in base they always had (``ValueError``, ``RuntimeError``), so existing ``except`` clauses hold.
"""

from __future__ import annotations


class NewsRAGError(Exception):
    """Something newsrag cannot do as asked; the message says why and, where it can, what to do."""


class OptionError(NewsRAGError, ValueError):
    """A value that chooses behaviour (an engine, a retrieval mode) is not one newsrag knows."""
