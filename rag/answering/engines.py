"""Answer engines: what writes an answer's text from the passages the stages kept.

An engine takes the :class:`~rag.answering.turn.Turn` (the question as asked and as retrieved, the passages to
show) and the :class:`~rag.answering.turn.Gate` (the scored sentences, the option picked); it yields text as it
comes and returns a :class:`Draft`: the whole text with ``[n]`` markers and the passages the markers count.
The answerer checks every draft's citations the same way, whichever engine wrote it. A new engine is one class
with a ``name`` and a ``draft`` method (see docs/plugins.md).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Protocol

from rag.answering.active_content import StreamVetter, vet
from rag.answering.choices import LETTERS
from rag.answering.extractive import Extract
from rag.answering.llm import LLMEngine, LLMUnavailable
from rag.answering.turn import Gate, Turn
from rag.core.text import content_terms, split_sentences
from rag.core.types import REFUSAL_TEXT, Passage

# Said with an option the engine only guesses (see choices.closest).
GUESS_REASON = "a guess (no option is clearly supported), from the passage closest to the question with it"


@dataclass(frozen=True)
class Draft:
    """An engine's answer before its citations are checked: text with [n] markers, and the passages they count."""

    text: str
    cited: list[Passage]
    removed: tuple[str, ...] = ()  # active content taken out of the text (rag/answering/active_content.py)


class Engine(Protocol):
    """Writes an answer: yields text as it comes, returns the :class:`Draft`."""

    name: str

    def draft(self, turn: Turn, gate: Gate) -> Generator[str, None, Draft]: ...


class ExtractiveWriter:
    """No model: the option the sentences support, or the short answer and the best sentences, each cited."""

    name = "extractive"

    def draft(self, turn: Turn, gate: Gate) -> Generator[str, None, Draft]:
        if gate.choice and gate.picked:
            option, sentence = gate.picked
            text = f"{LETTERS[option]}) {gate.choice.options[option]}: {cited(sentence.answer_text, 1)}"
            found = Draft(text, [gate.pool[sentence.passage]])
        elif gate.choice and gate.guess:
            option, passage = gate.guess
            named = gate.choice.options[option]
            quote = best_quote(f"{gate.choice.stem} {named}", passage)
            found = Draft(f"{LETTERS[option]}) {named}, {GUESS_REASON}: {cited(quote, 1)}", [passage])
        else:
            found = extractive_draft(gate.extract, gate.pool)
        yield found.text
        return found


class LLMWriter:
    """The configured LLM reads the shown passages and writes, citing them; an empty answer is a failure.

    What it writes may carry an article's orders: the answerer runs it :class:`Vetted`.
    """

    name = "llm"

    def __init__(self, llm: LLMEngine) -> None:
        self.llm = llm

    def draft(self, turn: Turn, gate: Gate) -> Generator[str, None, Draft]:
        text = ""
        for delta in self.llm.stream(turn.query, turn.passages):
            text += delta
            yield delta
        if not text.strip():
            raise LLMUnavailable("the LLM returned an empty answer")
        return Draft(text, turn.passages)


class Vetted:
    """An engine whose text is vetted before anyone sees it: the LLM's, and every plugin's.

    Text an engine writes from what articles say may carry an article's orders, so images, HTML and links the
    passages do not name are taken out (rag/answering/active_content.py), from the streamed text as from the final
    one. Only the extractive engine, which quotes passages and is rendered inert, runs without it.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine, self.name = engine, engine.name

    def draft(self, turn: Turn, gate: Gate) -> Generator[str, None, Draft]:
        vetter, drafting = StreamVetter(turn.passages), self.engine.draft(turn, gate)
        while True:
            try:
                delta = next(drafting)
            except StopIteration as done:
                found: Draft = done.value
                break
            if shown := vetter.feed(delta):
                yield shown
        if rest := vetter.flush():
            yield rest
        vetted = vet(found.text, turn.passages)
        return replace(found, text=vetted.text, removed=found.removed + vetted.removed)


def extractive_draft(extract: Extract, passages: list[Passage]) -> Draft:
    """The short answer, if stated, then the chosen sentences with markers numbered by first appearance; those from
    earlier reporting than the lead's come last, introduced as such ("Earlier, on 3 March:")."""
    if not extract.sentences:
        return Draft(REFUSAL_TEXT, [])  # an LLM that failed on a question the extractive engine has nothing for
    sentences = sorted(extract.sentences, key=lambda s: bool(s.earlier))
    order = list(dict.fromkeys(s.passage for s in sentences))
    text = " ".join(earlier(s.earlier) + cited(s.answer_text, order.index(s.passage) + 1) for s in sentences)
    if extract.short is not None:
        text = f"**{extract.short.text}** — {text}"
    return Draft(text, [passages[i] for i in order])


def earlier(day: str) -> str:
    """What introduces a sentence from earlier reporting, on its own line: the check of citations reads a line ending
    in ":" as an introduction, whereas on the quote's line the day's number, which the passage does not hold, would
    count as an unsupported figure."""
    return f"Earlier, on {day}:\n" if day else ""


def cited(quote: str, number: int) -> str:
    """A quote from passage ``number`` with the marker after each of its sentences.

    A quote may be two sentences (one that leans on the sentence before it is quoted with it); with one marker at
    the end, the citation check would see the first sentence cite nothing and flag the engine's own quote.
    """
    return " ".join(f"{sentence} [{number}]" for sentence in split_sentences(quote) or [quote])


def best_quote(claim: str, passage: Passage) -> str:
    """The sentence of the passage sharing most content words with the claim."""
    claim_terms = set(content_terms(claim))
    sentences = split_sentences(passage.text) or [passage.text]
    return max(sentences, key=lambda s: len(claim_terms & set(content_terms(s))))
