"""A streamed answer for ``async for``: the engines are synchronous, so each step runs in a worker thread.

The event loop stays free while a passage is embedded, retrieved or an LLM writes, so a notebook or an async web
app can ``asyncio.gather`` several questions without managing threads itself::

    response = newsrag.astream("What are Putin's peace conditions?")
    async for delta in response:
        print(delta, end="")
    response.answer.citations   # once the stream has ended (or: answer = await response.final())
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from rag.answering.response import Response
from rag.core.types import Answer

_END = object()


class AsyncResponse:
    """Text deltas as the engine writes them, then :attr:`answer`; like :class:`Response`, for ``async for``.

    The question and options are checked when the stream starts, so their errors come before any text.
    """

    def __init__(self, start: Callable[[], Response]) -> None:
        self._start = start
        self._response: Response | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._deltas()

    async def _deltas(self) -> AsyncIterator[str]:
        if self._response is None:
            self._response = await asyncio.to_thread(self._start)
        # One iterator over the sync Response, advanced a step at a time in a worker thread (never two at once).
        deltas = iter(self._response)
        while (delta := await asyncio.to_thread(next, deltas, _END)) is not _END:
            yield delta  # type: ignore[misc]  # _END is the only non-str

    async def final(self) -> Answer:
        """The checked answer, consuming whatever has not been streamed yet."""
        async for _ in self:
            pass
        return self.answer

    @property
    def answer(self) -> Answer:
        """The final, checked answer; only once the stream has ended (``await final()`` waits for it)."""
        if self._response is None or not self._response.done:
            raise RuntimeError("the answer is not ready: iterate the stream to its end, or await response.final()")
        return self._response.answer

    @property
    def streamed(self) -> str:
        """The text streamed so far."""
        return self._response.streamed if self._response else ""

    def changed(self) -> bool:
        """True when checking the citations changed the text after it was streamed (show the checked one)."""
        return self.answer.text.strip() != self.streamed.strip()

    def __repr__(self) -> str:
        state = "done" if self._response is not None and self._response.done else "streaming"
        return f"<AsyncResponse {state}: {self.streamed[:60]!r}>"
