"""A streamed answer as one object: iterate it for text deltas, then read the checked :class:`Answer`.

Modelled on simonw/llm's ``Response``::

    response = newsrag.stream("What are Putin's peace conditions?")
    for delta in response:
        print(delta, end="")
    response.answer.citations   # checked after the stream ends; its text may differ from the deltas
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

from rag.core.types import Answer


class Response:
    """Text deltas as the engine writes them, then :attr:`answer`. Iterating twice yields the deltas once."""

    def __init__(self, deltas: Generator[str, None, Answer]) -> None:
        self._deltas = deltas
        self._answer: Answer | None = None
        self._streamed: list[str] = []

    def __iter__(self) -> Iterator[str]:
        if self._answer is not None:
            return
        while True:
            try:
                delta = next(self._deltas)
            except StopIteration as done:
                self._answer = done.value
                return
            self._streamed.append(delta)
            yield delta

    @property
    def answer(self) -> Answer:
        """The final, checked answer; reading it first consumes whatever has not been streamed yet."""
        if self._answer is None:
            for _ in self:
                pass
        assert self._answer is not None, "the answer stream ended without an answer"
        return self._answer

    @property
    def done(self) -> bool:
        """True once the stream has ended and :attr:`answer` is ready without waiting."""
        return self._answer is not None

    @property
    def streamed(self) -> str:
        """The text streamed so far."""
        return "".join(self._streamed)

    def changed(self) -> bool:
        """True when checking the citations changed the text after it was streamed (show the checked one)."""
        return self.answer.text.strip() != self.streamed.strip()

    def __repr__(self) -> str:
        state = "done" if self._answer is not None else "streaming"
        return f"<Response {state}: {self.streamed[:60]!r}>"
