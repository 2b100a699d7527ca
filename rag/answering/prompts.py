"""Prompt templates, loaded by name from the ``prompts`` package; placeholders checked at load."""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

from rag.core.errors import NewsRAGError

# The placeholders each template must have: a template missing one would silently drop context.
REQUIRED = {
    "system": set(),
    "answer": {"passages", "question"},
    "passage": {"number", "title", "source", "date", "text", "key"},
    "condense": {"history", "question"},
}


class PromptError(NewsRAGError, ValueError):
    """A prompt file is missing or its placeholders are wrong."""


@cache
def load_prompt(name: str) -> str:
    """The template ``prompts/<name>.md``, after checking it has exactly the expected placeholders."""
    try:
        text = resources.files("prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"no prompt named {name!r} in prompts/") from exc
    found = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    expected = REQUIRED.get(name, found)
    if found != expected:
        raise PromptError(f"prompts/{name}.md has placeholders {sorted(found)}, expected {sorted(expected)}")
    return text.strip()
