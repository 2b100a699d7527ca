"""A front-end's question as a logged turn: asked, timed from the request, and written to the question log.

The chat tab, the Gradio ``/ask`` API and ``/v1/chat/completions`` all ask through :class:`Turns`, so each turn
is logged the same way: the answer with its citations, ``served_ms`` beside the answer's own timings, and who
asked, in which conversation. The turn id that comes back is what a 👍/👎 rating names.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Unpack

from rag.answering.response import Response
from rag.core.types import Answer
from rag.service.asking import AskOptions
from rag.service.history import HistoryLog, new_conversation_id
from rag.service.newsrag import NewsRAG


@dataclass(frozen=True)
class Asker:
    """Who asks, through which front-end, in which conversation: what the log keeps beside the answer."""

    channel: str  # "ui" (the chat tab), "api" (the Gradio API), "openai" (/v1)
    scope: str | None  # whose history the turn joins: see rag.service.history.scope_for
    user: str | None = None  # the login, if any
    conversation_id: str = field(default_factory=new_conversation_id)


@dataclass(frozen=True)
class LoggedAnswer:
    answer: Answer
    turn_id: int | None  # the log's id for the turn; None when the log is off


class LoggedStream:
    """A streamed answer whose turn is logged as it ends: iterate it for text deltas, then :meth:`finish`."""

    def __init__(self, response: Response, record: Callable[[Answer], int | None]) -> None:
        self.response = response  # its ``streamed`` text and ``changed()``, for the front-end
        self._record = record
        self._logged: LoggedAnswer | None = None

    def __iter__(self) -> Iterator[str]:
        return iter(self.response)

    def finish(self) -> LoggedAnswer:
        """The checked answer and its turn id; reads what is left of the stream, and logs the turn once."""
        if self._logged is None:
            answer = self.response.answer
            self._logged = LoggedAnswer(answer, self._record(answer))
        return self._logged


class Turns:
    """Asks ``newsrag`` for a front-end and logs each answer in ``log`` as a turn of the asker's conversation."""

    def __init__(self, newsrag: NewsRAG, log: HistoryLog) -> None:
        self.newsrag, self.log = newsrag, log

    def stream(self, question: str, asker: Asker, **options: Unpack[AskOptions]) -> LoggedStream:
        """The question and options are checked before this returns (as :meth:`NewsRAG.stream` does)."""
        started = time.perf_counter()
        response = self.newsrag.stream(question, **options)
        return LoggedStream(response, lambda answer: self._record(answer, asker, started))

    def ask(self, question: str, asker: Asker, **options: Unpack[AskOptions]) -> LoggedAnswer:
        return self.stream(question, asker, **options).finish()

    def _record(self, answer: Answer, asker: Asker, started: float) -> int | None:
        served = {"served_ms": round((time.perf_counter() - started) * 1000, 1)}
        return self.log.record(
            answer,
            conversation_id=asker.conversation_id,
            channel=asker.channel,
            scope=asker.scope,
            user=asker.user,
            extra_timings=served,
        )
