"""Answers and conversations as Markdown with numbered sources, and rated answers as eval-suite cases.

The suite format is the one ``evals/suite.py`` reads (see ``shared/README.md``): the service layer writes
it as plain JSON lines, as the CLI cannot import the evals (they sit above it).
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from rag.core import render
from rag.core.text import split_sentences
from rag.core.types import Answer
from rag.service.history import Rating, Turn

MARKER = re.compile(r"\s*\[\d+\]")
MAX_KEY_FACTS = 3


def answer_markdown(answer: Answer) -> str:
    """The answer with its ``[n]`` markers and a numbered Sources list (title, source, date, link, quote)."""
    parts = [answer.text.strip()]
    if answer.citations:
        parts.append("Sources:\n" + render.sources_markdown(answer.citations))
    return "\n\n".join(parts)


def conversation_markdown(turns: list[Turn]) -> str:
    """A conversation as Markdown: each question as a heading, its answer and its sources."""
    if not turns:
        return ""
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(turns[0].created_at))
    lines = [f"# {turns[0].question.strip()}", "", f"newsrag conversation, started {started}", ""]
    for turn in turns:
        lines += [f"## {turn.question.strip()}", "", answer_markdown(turn.to_answer()), ""]
    return "\n".join(lines)


def key_sentences(answer: Answer) -> list[str]:
    """The answer's cited sentences without their markers: what a right answer to the question says."""
    sentences = [s for s in split_sentences(answer.text) if MARKER.search(s)] or split_sentences(answer.text)
    cleaned = [MARKER.sub("", s).strip() for s in sentences]
    return [s for s in cleaned if s][:MAX_KEY_FACTS]


def suite_case(turn: Turn) -> dict[str, Any]:
    """One rated answer as an eval case: 👍 keeps the answer's key sentences as key facts, 👎 the note as the
    expected answer, marked ``review`` (someone must turn it into key facts); both keep the cited quotes as evidence.
    """
    answer = turn.to_answer()
    digest = hashlib.sha256(f"{turn.conversation_id}|{turn.id}".encode()).hexdigest()[:10]
    evidence = list(dict.fromkeys(c.quote for c in answer.citations if c.quote))
    case: dict[str, Any] = {"id": f"feedback-{digest}", "question": turn.question, "evidence": evidence}
    if turn.rating == Rating.up:
        case |= {"answer": MARKER.sub("", answer.text).strip(), "key_facts": [[s] for s in key_sentences(answer)]}
    else:
        case |= {"answer": turn.note, "key_facts": [], "review": True, "rejected_answer": answer.text}
    return case
