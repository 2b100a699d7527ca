"""A newsrag answer engine: the lead sentence of each article the question found, cited (docs/plugins.md)."""

from collections.abc import Callable, Generator

from rag.answering.engines import Draft, Engine
from rag.answering.turn import Gate, Turn
from rag.core.text import split_sentences


class Leads:
    name = "leads"

    def draft(self, turn: Turn, gate: Gate) -> Generator[str, None, Draft]:
        """Yields the text as it comes (here all at once), then returns it with the passages its [n] count."""
        shown = turn.passages[:3]
        text = " ".join(f"{(split_sentences(p.text) or [p.text])[0]} [{n}]" for n, p in enumerate(shown, start=1))
        yield text
        return Draft(text, shown)


def register(add: Callable[[Engine], None]) -> None:
    """The ``newsrag.engines`` entry point: newsrag calls it once, with the function that adds an engine."""
    add(Leads())
