"""Asking: a question to a checked answer, whole, streamed, awaited or in a batch, over one answerer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import date
from typing import Any, TypedDict, Unpack

from rag.answering.answerer import History
from rag.answering.response import Response
from rag.core.options import Engine
from rag.core.types import Answer
from rag.index.filters import Filters
from rag.service.aio import AsyncResponse
from rag.service.components import Components

BATCH_COLUMNS = ["question", "answer", "refused", "citations", "latency_ms"]


class AskOptions(TypedDict, total=False):
    """The options every way of asking takes: the engine, how many passages, earlier turns, and the filters."""

    engine: Engine | str | None  # auto, llm or extractive; None: the settings'
    top_k: int | None
    history: History | None  # (role, text) turns before this question
    sources: list[str] | str | None  # the filters of rag.index.filters.Filters
    since: str | date | None
    until: str | date | None
    as_of: str | date | None  # ask as on that day: later articles are never used, "last week" is before it
    article_ids: list[str] | str | None


class Asking:
    """The asking part of the service: every way to ask goes through :meth:`stream`."""

    def __init__(self, components: Components) -> None:
        self.components = components

    def stream(self, question: str, **options: Unpack[AskOptions]) -> Response:
        """The engine and filters are checked here, the question by the answerer: all before any text."""
        engine = options.pop("engine", None)  # a built-in engine or a plugin's, checked by the answerer
        top_k, history = options.pop("top_k", None), options.pop("history", None)
        return self.components.answerer.stream(
            question, engine=engine, top_k=top_k, filters=Filters.parse(**options), history=history
        )

    def ask(self, question: str, **options: Unpack[AskOptions]) -> Answer:
        return self.stream(question, **options).answer

    async def aask(self, question: str, **options: Unpack[AskOptions]) -> Answer:
        """In a worker thread, so the event loop stays free; the first questions build the components once."""
        return await asyncio.to_thread(self._ask_when_ready, question, options)

    def astream(self, question: str, **options: Unpack[AskOptions]) -> AsyncResponse:
        return AsyncResponse(lambda: self._ready().stream(question, **options))

    def ask_many(self, questions: Iterable[str], **options: Unpack[AskOptions]) -> Any:
        """A pandas DataFrame with one row per question (:data:`BATCH_COLUMNS`)."""
        import pandas as pd  # only notebooks need it, and it is slow to import

        rows = []
        for question in questions:
            answer = self.ask(question, **options)
            rows.append(
                {
                    "question": question,
                    "answer": answer.text,
                    "refused": answer.refused,
                    "citations": len(answer.citations),
                    "latency_ms": answer.timings.get("total_ms"),
                }
            )
        return pd.DataFrame(rows, columns=BATCH_COLUMNS)

    def _ready(self) -> Asking:
        self.components.ready()
        return self

    def _ask_when_ready(self, question: str, options: AskOptions) -> Answer:
        return self._ready().ask(question, **options)
