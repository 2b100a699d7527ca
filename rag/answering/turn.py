"""One question on its way to an answer: the asking (:class:`Turn`) and what the stages found (:class:`Gate`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rag.answering.choices import MultipleChoice
from rag.answering.extractive import Extract, Sentence
from rag.answering.injection import Planted
from rag.answering.when import When
from rag.core.types import Answer, AnswerEngine, Passage
from rag.index.filters import Filters


def ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


@dataclass
class Turn:
    """The question as asked and as retrieved, the engine answering it, and what the answer will report."""

    question: str
    engine: AnswerEngine
    query: str = ""  # the question as retrieved (a follow-up condensed or borrowing the previous question)
    context: str = ""  # the earlier question a follow-up leans on, or ""
    filters: Filters | None = None  # the caller's restriction, for every search the question makes
    passages: list[Passage] = field(default_factory=list)  # what the answer shows and an LLM reads
    moment: When | None = None  # the day asked as of and how the question's time words were read
    notices: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def answer(self, **fields: Any) -> Answer:
        """The final answer, with everything the stages learnt about the question."""
        self.timings["total_ms"] = ms_since(self.started)
        return Answer(
            question=self.question,
            passages=self.passages,
            standalone_question=self.query,
            as_of=self.moment.as_of.isoformat() if self.moment else "",
            read_as=self.moment.read_as if self.moment else "",
            notices=self.notices,
            timings=self.timings,
            **fields,
        )


@dataclass
class Gate:
    """What the stages found in the retrieved passages, in their order (see :mod:`rag.answering.stages`)."""

    pool: list[Passage]  # everything read, instructions taken out: the extract's sentences index these
    planted: list[Planted] = field(default_factory=list)  # instructions taken out of the passages
    extract: Extract = field(default_factory=lambda: Extract([], 0.0, True))  # the scored sentences, or a refusal
    choice: MultipleChoice | None = None  # the options of a multiple-choice question
    picked: tuple[int, Sentence] | None = None  # the option its sentences clearly support, and the sentence
    # No option clearly supported, the stem on topic: the option that reads closest, and the passage it reads to.
    guess: tuple[int, Passage] | None = None

    @property
    def refused(self) -> bool:
        # An option the passages clearly support is grounded even when the stem alone scores under the gate.
        return self.extract.refused and not self.picked and not self.guess

    @property
    def relevance(self) -> float:
        return round(self.extract.best_score, 4)

    def supporting_first(self, k: int) -> list[Passage]:
        """The ``k`` passages to show: those the answer quotes first, then the rest in retrieval order."""
        quoted = [s.passage for s in self.extract.sentences]
        if self.picked:
            quoted.insert(0, self.picked[1].passage)
        order = list(dict.fromkeys(quoted + list(range(len(self.pool)))))
        shown = [self.pool[i] for i in order]
        if self.guess:  # the passage a guess quotes may come from outside the pool
            shown = [self.guess[1], *(p for p in shown if p.chunk_id != self.guess[1].chunk_id)]
        return shown[:k]
