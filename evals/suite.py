"""Eval suites: one case a line in JSONL (or a YAML list), in the format of ``shared/README.md``."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from rag.core.errors import NewsRAGError


class Case(BaseModel):
    """One question with what a right answer must contain."""

    id: str
    question: str
    answer: str = ""  # reference answer, for people and LLM judges
    key_facts: list[list[str]] = Field(default_factory=list)  # groups of acceptable phrasings
    evidence: list[str] = Field(default_factory=list)  # text a supporting passage contains
    answerable: bool = True
    choices: list[str] | None = None
    gold: str = ""  # the right choice's text (RealTimeQA): scored by containment and token F1
    history: list[str] = Field(default_factory=list)  # earlier questions of the same conversation
    forbidden: list[str] = Field(default_factory=list)  # must never appear (e.g. injected instructions)
    answer_type: str | None = None  # what a typed question asks for (person, place, number...): for reports
    source_url: str | None = None  # the article a case was written from
    as_of: str | None = None  # the day the question is asked as of (YYYY-MM-DD; RealTimeQA: its question_date)
    review: bool = False  # written from a 👎 (`newsrag log --as-suite`): a person must check it before it counts


class SuiteError(NewsRAGError, ValueError):
    """A suite file that cannot be read; the message names the file and line."""


def load_suite(path: str | Path) -> list[Case]:
    """Cases from a ``.jsonl`` file (one object a line) or a ``.yaml``/``.yml`` list."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"cannot read suite {path}: {exc.strerror or exc}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        items = [(i, item) for i, item in enumerate(yaml.safe_load(text) or [], start=1)]
    else:
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    items.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise SuiteError(f"{path}:{number}: invalid JSON: {exc.msg}") from exc
    cases = []
    for number, item in items:
        try:
            cases.append(Case.model_validate(item))
        except ValidationError as exc:
            raise SuiteError(f"{path}:{number}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise SuiteError(f"{path}: duplicate case ids")
    return cases
