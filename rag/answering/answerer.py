"""From a question to a checked :class:`Answer`: retrieve, gate on relevance, answer, verify citations.

Both engines pass the same relevance gate (the extractive scorer's best sentence score against a
calibrated threshold), so a question the articles don't cover is refused the same way by both. An
LLM failure of any kind falls back to the extractive answer with a notice, never a stack trace.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from typing import Any

from rag.answering.choices import LETTERS, MultipleChoice, closest, named_option, split_options
from rag.answering.citations import is_refusal, verify
from rag.answering.extractive import Extract, ExtractiveEngine, Sentence
from rag.answering.injection import FOLLOWED_FLAG, Planted, drop_planted_instructions, repeated_payload
from rag.answering.llm import LLMEngine, LLMUnavailable
from rag.answering.response import Response
from rag.core.errors import NewsRAGError
from rag.core.options import Engine
from rag.core.settings import Settings
from rag.core.text import content_terms, split_sentences
from rag.core.types import REFUSAL_TEXT, Answer, AnswerCandidate, AnswerEngine, Citation, Passage
from rag.index.filters import Filters
from rag.index.retrieve import Retriever

MAX_QUESTION_CHARS = 2000
# Said with an option the engine only guesses (see choices.closest).
GUESS_REASON = "a guess (no option is clearly supported), from the passage closest to the question with it"
# Earlier turns are context, never a way round the question limit: the last few, each cut to this size.
MAX_HISTORY_TURNS = 20
MAX_TURN_CHARS = 2 * MAX_QUESTION_CHARS
History = list[tuple[str, str]]  # (role, text), role "user" or "assistant"
_DEPENDENT = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|that|this|those|these|there)\b", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls (NUL, bell, escape, ...)
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # unpaired halves (JSON allows "\ud800"), which no encoder takes
_TERMINAL_CODE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # colours and cursor moves pasted from a terminal


class QuestionError(NewsRAGError, ValueError):
    """The question cannot be asked as it is; the message says why."""


def _clean(text: str) -> str:
    text = _TERMINAL_CODE.sub("", _SURROGATE.sub("\ufffd", text or ""))
    return " ".join(_CONTROL.sub(" ", text).split())


def clean_question(question: str) -> str:
    """The question with control characters and extra whitespace gone; QuestionError if nothing is left."""
    text = _clean(question)
    # Invisible characters alone (zero-width spaces, direction marks, a BOM) are no question either.
    if all(unicodedata.category(c) in ("Cf", "Zs") for c in text):
        raise QuestionError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is too long ({len(text)} characters; at most {MAX_QUESTION_CHARS})")
    return text


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def _best_quote(claim: str, passage: Passage) -> str:
    """The sentence of the passage sharing most content words with the claim."""
    claim_terms = set(content_terms(claim))
    sentences = split_sentences(passage.text) or [passage.text]
    return max(sentences, key=lambda s: len(claim_terms & set(content_terms(s))))


@dataclass
class _Turn:
    """One question on its way through the stages: what each stage found, for the next one and the answer."""

    question: str
    engine: AnswerEngine
    query: str = ""  # the question as retrieved (a follow-up condensed or borrowing the previous question)
    context: str = ""  # the earlier question a follow-up leans on, or ""
    passages: list[Passage] = field(default_factory=list)  # what the answer shows and an LLM reads
    pool: list[Passage] = field(default_factory=list)  # everything read: the gate's sentences index these
    notices: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    planted: list[Planted] = field(default_factory=list)  # instructions taken out of the passages, for _verify
    filters: Filters | None = None  # the caller's restriction, for every search the question makes

    def answer(self, **fields: Any) -> Answer:
        """The final answer, with everything the stages learnt about the question."""
        self.timings["total_ms"] = _ms(self.started)
        return Answer(
            question=self.question,
            passages=self.passages,
            standalone_question=self.query,
            notices=self.notices,
            timings=self.timings,
            **fields,
        )


@dataclass
class _Gate:
    """The relevance gate's verdict: the extract that scored the passages, and a clearly supported option."""

    extract: Extract
    choice: MultipleChoice | None
    picked: tuple[int, Sentence] | None
    engine: AnswerEngine = "extractive"
    # No option clearly supported, the stem on topic: the option that reads closest, and the passage it reads to.
    guess: tuple[int, Passage] | None = None

    @property
    def refused(self) -> bool:
        # An option the passages clearly support is grounded even when the stem alone scores under the gate.
        return self.extract.refused and not self.picked and not self.guess


class Answerer:
    """Answers questions with the configured engines; safe to share between threads.

    A question goes through four stages: retrieve, gate (on relevance), generate, verify (the citations).
    """

    def __init__(
        self, settings: Settings, retriever: Retriever, extractive: ExtractiveEngine, llm: LLMEngine | None
    ) -> None:
        self.settings, self.retriever, self.extractive, self.llm = settings, retriever, extractive, llm

    def resolve_engine(self, requested: Engine | str | None) -> AnswerEngine:
        """The engine that will answer: ``auto`` resolved; an unknown or unconfigured one is a clear error."""
        choice = Engine.parse(requested, "engine") or self.settings.engine
        if choice == Engine.llm and self.llm is None:
            raise QuestionError("no LLM is configured: set NEWSRAG_LLM_BASE_URL or OPENAI_API_KEY")
        if choice == Engine.auto:
            return "llm" if self.llm is not None else "extractive"
        return "llm" if choice == Engine.llm else "extractive"

    def standalone(self, question: str, history: History, engine: str, notices: list[str]) -> tuple[str, str]:
        """(the question to retrieve with, the earlier question it leans on or "").

        With an LLM, a follow-up is condensed into a standalone question. Without one (documented
        simpler way): a short or pronoun-led follow-up borrows the previous question's words for
        retrieval, and they count a little when sentences are scored.
        """
        previous = [text for role, text in history if role == "user"]
        if not previous:
            return question, ""
        if engine == "llm" and self.llm is not None:
            try:
                return self.llm.condense(history, question), ""
            except LLMUnavailable as exc:
                notices.append(f"Could not condense the follow-up with the LLM ({exc}); used the previous question.")
        if len(question.split()) <= 8 or _DEPENDENT.search(question):
            return f"{question} {previous[-1]}", previous[-1]
        return question, ""

    def stream(
        self,
        question: str,
        top_k: int | None = None,
        filters: Filters | None = None,
        engine: Engine | str | None = None,
        history: History | None = None,
    ) -> Response:
        """A :class:`Response`: text deltas as they come, then the checked answer (whose text may differ).

        The question and the engine are checked now, so their errors reach the caller before any text.
        """
        turn = _Turn(question=clean_question(question), engine=self.resolve_engine(engine))
        return Response(self._stages(turn, top_k, filters, history))

    def _stages(
        self, turn: _Turn, top_k: int | None, filters: Filters | None, history: History | None
    ) -> Generator[str, None, Answer]:
        turns = [(role, _clean(text)[:MAX_TURN_CHARS]) for role, text in (history or [])[-MAX_HISTORY_TURNS:]]
        turn.query, turn.context = self.standalone(turn.question, turns, turn.engine, turn.notices)
        turn.filters = filters
        turn.timings["condense_ms"] = _ms(turn.started)
        shown = top_k or self.settings.top_k
        self._retrieve(turn, max(shown, self.settings.read_k))
        t = time.perf_counter()
        gate = self._gate(turn)
        turn.passages = _supporting_first(turn.pool, gate, shown)
        if gate.refused:
            turn.timings["answer_ms"] = _ms(t)
            yield REFUSAL_TEXT
            return turn.answer(text=REFUSAL_TEXT, engine=turn.engine, refused=True, relevance=_relevance(gate))
        # An article tried to instruct the engine: show nothing before the answer is checked, since an answer that
        # repeats what the instruction asked for is withheld, and streamed text cannot be taken back.
        hold = bool(turn.planted)
        raw, cite_from = yield from self._generate(turn, gate, hold)
        answer = self._verify(raw, turn, cite_from, gate)
        if hold:
            yield answer.text
        turn.timings["answer_ms"] = _ms(t)
        answer.timings = turn.timings | {"total_ms": _ms(turn.started)}
        return answer

    def _retrieve(self, turn: _Turn, top_k: int) -> None:
        t = time.perf_counter()
        passages = self.retriever.retrieve(turn.query, top_k, turn.filters, self.settings.retrieval)
        # An article's orders to an AI, in its text, title or source, are neither shown to an engine nor evidence.
        guarded = drop_planted_instructions(passages)
        turn.pool, turn.planted = guarded.passages, guarded.planted
        if guarded.notice:
            turn.notices.append(guarded.notice)
        turn.timings["retrieval_ms"] = _ms(t)

    def _gate(self, turn: _Turn) -> _Gate:
        """Score the passages' sentences against the question; under the threshold, the question is refused."""
        # A multiple-choice question is retrieved with its options but gated and scored on its stem:
        # the options name things the articles need not mention.
        choice = split_options(turn.question)
        # A follow-up is scored on its own words (the context is weighed separately), anything else on the query.
        scored = choice.stem if choice else (turn.question if turn.context else turn.query)
        extract = self.extractive.extract(scored, turn.pool, turn.context)
        picked, guess = self._option(choice, extract, turn) if choice else (None, None)
        return _Gate(extract=extract, choice=choice, picked=picked, engine=turn.engine, guess=guess)

    def _option(
        self, choice: MultipleChoice, extract: Extract, turn: _Turn
    ) -> tuple[tuple[int, Sentence] | None, tuple[int, Passage] | None]:
        """(picked, guess): the option the sentences clearly support, else the one the extractive engine's own
        short answer names (with the sentence naming it, which leads); failing both, for an on-topic stem, a guess.
        """
        picked = self.extractive.choose(choice, turn.pool)
        if picked or turn.engine != "extractive":
            return picked, None
        if extract.short and extract.sentences and (own := named_option(choice, extract.short.text)) is not None:
            return (own, extract.sentences[0]), None
        # Also where the short answer is none of the options: on RealTimeQA those are mostly wrong, and the guess
        # is right more often. The quote shows what the passage says.
        return None, None if extract.refused else self._closest_option(choice, turn.filters)

    def _closest_option(self, choice: MultipleChoice, filters: Filters | None) -> tuple[int, Passage] | None:
        """The option whose completed question reads closest to a passage (dense similarity), and that passage."""
        best: list[Passage | None] = []
        for option in choice.options:
            found = self.retriever.retrieve(f"{choice.stem} {option}", 1, filters, "dense")
            # A passage carrying an instruction is no evidence (as in _retrieve), and not quoted either.
            kept = drop_planted_instructions(found).passages
            best.append(kept[0] if kept else None)
        option = closest(choice, [p.similarity if p else None for p in best])
        if option is None or (passage := best[option]) is None:
            return None
        return option, passage

    def _generate(self, turn: _Turn, gate: _Gate, hold: bool) -> Generator[str, None, tuple[str, list[Passage]]]:
        """Stream the engine's text; returns (the raw text with [n] markers, the passages the markers count)."""
        passages = turn.passages
        if turn.engine == "llm":
            assert self.llm is not None
            raw = ""
            try:
                for delta in self.llm.stream(turn.query, passages):
                    raw += delta
                    if not hold:
                        yield delta
                if not raw.strip():
                    raise LLMUnavailable("the LLM returned an empty answer")
                return raw, passages
            except LLMUnavailable as exc:
                turn.notices.append(f"{exc} — showing the extractive answer instead.")
                turn.engine = "extractive"
        if gate.choice and gate.picked:
            option, sentence = gate.picked
            raw = f"{LETTERS[option]}) {gate.choice.options[option]}: {_cited(sentence.answer_text, 1)}"
            cite_from = [turn.pool[sentence.passage]]
        elif gate.choice and gate.guess:
            option, passage = gate.guess
            named = gate.choice.options[option]
            quote = _best_quote(f"{gate.choice.stem} {named}", passage)
            raw = f"{LETTERS[option]}) {named}, {GUESS_REASON}: {_cited(quote, 1)}"  # one sentence: cited
            cite_from = [passage]
        else:
            raw, cite_from = self._extractive_text(gate.extract, turn.pool)
        if not hold:
            yield raw
        return raw, cite_from

    @staticmethod
    def _extractive_text(extract: Extract, passages: list[Passage]) -> tuple[str, list[Passage]]:
        """The short answer, if any, then the chosen sentences with markers numbered by first appearance; and the
        passages in that order."""
        if not extract.sentences:
            return REFUSAL_TEXT, []  # an LLM that failed on a question the extractive engine has nothing to quote for
        order: list[int] = []
        for s in extract.sentences:
            if s.passage not in order:
                order.append(s.passage)
        text = " ".join(_cited(s.answer_text, order.index(s.passage) + 1) for s in extract.sentences)
        if extract.short is not None and extract.sentences:
            text = f"**{extract.short.text}** — {text}"
        return text, [passages[i] for i in order]

    def _verify(self, raw: str, turn: _Turn, passages: list[Passage], gate: _Gate) -> Answer:
        """Check every cited sentence against its passage; keep only citations that exist, flag the rest.

        An answer repeating what an instruction planted in an article asked for (its "PWNED", its link) followed
        that instruction, though the instruction was taken out of the passages (a part of it slipped through):
        it is flagged and withheld (see :meth:`_withhold`).
        """
        repeated, followed_by = repeated_payload(raw, turn.planted, turn.passages, turn.question), turn.engine
        if repeated:
            raw, passages = self._withhold(repeated, turn, gate)
        checked = verify(raw, [p.text for p in passages])
        refused = not checked.cited and is_refusal(checked.text)
        citations = []
        for number, original in enumerate(checked.cited, start=1):
            passage = passages[original - 1]
            claims = [s for s in checked.sentences if number in s.passages]
            claim = " ".join(s.text for s in claims)
            citations.append(
                Citation(
                    **passage.model_dump(),
                    number=number,
                    quote=_best_quote(claim, passage),
                    supported=all(s.supported for s in claims),
                )
            )
        flags = [f"unsupported: {s}" for s in checked.unsupported]
        if repeated:
            flags.insert(0, f"{FOLLOWED_FLAG}: the {followed_by} answer repeated “{repeated}”")
        if not refused and not citations:
            flags.append("no citations: the answer cites no passage")
        text = REFUSAL_TEXT if refused else checked.text
        return turn.answer(
            text=text,
            engine=turn.engine,
            short_answer=None if refused or repeated else _short_answer(turn.engine, gate),
            candidates=[] if refused or repeated or turn.engine != "extractive" else _candidates(gate),
            citations=citations,
            refused=refused,
            flags=flags,
            relevance=_relevance(gate),
        )

    def _withhold(self, repeated: str, turn: _Turn, gate: _Gate) -> tuple[str, list[Passage]]:
        """The extractive answer, without sentences repeating ``repeated``, for an answer that followed a planted order.

        Withheld, not just flagged: the instruction may have steered more than the word the answer repeated, a
        flag is easy to miss (an API client may read only the text), and the guarded passages, which hold no
        instruction, still give an honest answer. Nothing left to say is a refusal.
        """
        if turn.engine == "llm":
            turn.notices.append(
                f"The LLM's answer repeated “{repeated}”, which an instruction planted in an article asked for, so it"
                " is not shown: this is the extractive answer from the same passages."
            )
        else:
            turn.notices.append(
                f"A sentence repeating “{repeated}”, which an instruction planted in an article asked for, was left"
                " out of the answer."
            )
        turn.engine = "extractive"
        kept = [
            s
            for s in gate.extract.sentences
            if not repeated_payload(s.answer_text, turn.planted, turn.passages, turn.question)
        ]
        if not kept:
            return REFUSAL_TEXT, []
        return self._extractive_text(replace(gate.extract, sentences=kept), turn.pool)


def _cited(quote: str, number: int) -> str:
    """A quote from passage ``number`` with the marker after each of its sentences.

    A quote may be two sentences (one that leans on the sentence before it is quoted with it); with one marker at
    the end, the citation check would see the first sentence cite nothing and flag the engine's own quote.
    """
    return " ".join(f"{sentence} [{number}]" for sentence in split_sentences(quote) or [quote])


def _short_answer(engine: AnswerEngine, gate: _Gate) -> str | None:
    """The option or short answer the extractive engine led with, if it did."""
    if engine != "extractive":
        return None
    if gate.choice and gate.picked:
        return gate.choice.options[gate.picked[0]]
    if gate.guess:  # a guess is no short answer: that is what the engine states
        return None
    return gate.extract.short.text if gate.extract.short else None


def _candidates(gate: _Gate) -> list[AnswerCandidate]:
    """The short answers the extractive engine weighed for an open question, with their confidence."""
    if gate.choice:
        return []
    return [
        AnswerCandidate(text=c.text, kind=c.kind.value, confidence=round(p, 4), signals=signals)
        for c, p, signals in gate.extract.candidates
    ]


def _supporting_first(pool: list[Passage], gate: _Gate, k: int) -> list[Passage]:
    """The ``k`` passages to show: those the answer quotes first, then the rest in retrieval order."""
    quoted = [s.passage for s in gate.extract.sentences]
    if gate.picked:
        quoted.insert(0, gate.picked[1].passage)
    order = list(dict.fromkeys(quoted + list(range(len(pool)))))
    shown = [pool[i] for i in order]
    if gate.guess:  # the passage a guess quotes may come from outside the pool
        shown = [gate.guess[1], *(p for p in shown if p.chunk_id != gate.guess[1].chunk_id)]
    return shown[:k]


def _relevance(gate: _Gate) -> float:
    return round(gate.extract.best_score, 4)
