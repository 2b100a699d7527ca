"""The values that choose behaviour, as enums: checked where they enter (Python API, CLI, HTTP, the app)."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from rag.core.errors import OptionError


class _Choice(StrEnum):
    @classmethod
    def parse(cls, value: str | Self | None, what: str) -> Self | None:
        """``value`` as a member (None stays None); an unknown value raises :class:`OptionError` naming the choices."""
        if value is None or isinstance(value, cls):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise OptionError(f"unknown {what} {str(value)[:40]!r}: choose one of {choices}") from None


# The entry point group through which other packages add answer engines (``rag/answering/engine_plugins.py``).
ENGINE_PLUGINS = "newsrag.engines"


class Engine(_Choice):
    """Which engine writes the answer."""

    auto = "auto"  # llm when an LLM endpoint is configured, else extractive
    llm = "llm"
    extractive = "extractive"


class RetrievalMode(_Choice):
    """How passages are found."""

    hybrid = "hybrid"  # dense and BM25, fused
    dense = "dense"
    lexical = "lexical"
