"""The stages between retrieval and an engine, in order, as LlamaIndex's node postprocessors are.

Each stage reads the :class:`~rag.answering.turn.Gate` the stages before it filled and adds its own finding:
the instruction guard takes orders planted in articles out of the passages, the relevance gate scores their
sentences (and may refuse), and the option picker names the option a multiple-choice question's passages
support. Each is a small callable, testable alone; :data:`Answerer.stages <rag.answering.answerer.Answerer>`
is the list.
"""

from __future__ import annotations

from typing import Protocol

from rag.answering.choices import pick_option, split_options
from rag.answering.extractive import ExtractiveEngine
from rag.answering.injection import drop_planted_instructions
from rag.answering.turn import Gate, Turn
from rag.core.types import Passage
from rag.index.retrieve import Retriever


class Stage(Protocol):
    """One step over the retrieved passages: reads and fills ``gate``; may add notices to ``turn``."""

    def __call__(self, turn: Turn, gate: Gate) -> None: ...


class GuardInstructions:
    """An article's orders to an AI, in its text, title or source, are neither shown to an engine nor evidence."""

    def __call__(self, turn: Turn, gate: Gate) -> None:
        guarded = drop_planted_instructions(gate.pool)
        gate.pool, gate.planted = guarded.passages, guarded.planted
        if guarded.notice:
            turn.notices.append(guarded.notice)


class RelevanceGate:
    """Scores the passages' sentences against the question; under the threshold, the question is refused."""

    def __init__(self, extractive: ExtractiveEngine) -> None:
        self.extractive = extractive

    def __call__(self, turn: Turn, gate: Gate) -> None:
        # A multiple-choice question is retrieved with its options but gated and scored on its stem:
        # the options name things the articles need not mention.
        gate.choice = split_options(turn.question)
        # A follow-up is scored on its own words (the context is weighed separately), anything else on the query.
        scored = gate.choice.stem if gate.choice else (turn.question if turn.context else turn.query)
        scored = turn.moment.query(scored) if turn.moment else scored
        gate.extract = self.extractive.extract(scored, gate.pool, turn.context)


class PickOption:
    """For a multiple-choice question: the option its sentences clearly support, else a guess (see
    :func:`~rag.answering.choices.pick_option`)."""

    def __init__(self, extractive: ExtractiveEngine, retriever: Retriever) -> None:
        self.extractive, self.retriever = extractive, retriever

    def __call__(self, turn: Turn, gate: Gate) -> None:
        if gate.choice is None:
            return

        def best_passage(query: str) -> Passage | None:
            found = self.retriever.retrieve(query, 1, turn.filters, "dense")
            # A passage carrying an instruction is no evidence (as in GuardInstructions), and not quoted either.
            kept = drop_planted_instructions(found).passages
            return kept[0] if kept else None

        gate.picked, gate.guess = pick_option(
            gate.choice,
            gate.pool,
            self.extractive.choose,
            gate.extract,
            guess=turn.engine == "extractive",
            best_passage=best_passage,
        )
