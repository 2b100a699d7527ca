"""From a question to a checked :class:`Answer`: retrieve, gate on relevance, answer, verify citations.

Both engines pass the same relevance gate (the extractive scorer's best sentence score against a
calibrated threshold), so a question the articles don't cover is refused the same way by both. An
LLM failure of any kind falls back to the extractive answer with a notice, never a stack trace.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Generator
from dataclasses import replace

from rag.answering.choices import split_options
from rag.answering.citations import is_refusal, verify
from rag.answering.disguise import normalise
from rag.answering.engine_plugins import BUILT_IN, plugin_engines
from rag.answering.engines import Draft, Engine, ExtractiveWriter, LLMWriter, Vetted, best_quote, extractive_draft
from rag.answering.extractive import ExtractiveEngine
from rag.answering.injection import FOLLOWED_FLAG, repeated_payload
from rag.answering.llm import LLMEngine, LLMUnavailable
from rag.answering.obedience import Dropped, any_directive, drop_obeyed
from rag.answering.response import Response
from rag.answering.stages import GuardInstructions, PickOption, RelevanceGate, Stage
from rag.answering.turn import Gate, Turn, ms_since
from rag.answering.when import When, when
from rag.core.errors import NewsRAGError, OptionError
from rag.core.options import Engine as EngineChoice
from rag.core.settings import Settings
from rag.core.types import REFUSAL_TEXT, Answer, AnswerCandidate, AnswerEngine, Citation, Passage
from rag.index.filters import Filters
from rag.index.retrieve import Retriever

MAX_QUESTION_CHARS = 2000
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


class Answerer:
    """Answers questions with the configured engines; safe to share between threads.

    A question goes through retrieval, the :mod:`stages <rag.answering.stages>` (guard, relevance gate, option),
    an :mod:`engine <rag.answering.engines>` that drafts the text, and the check of its citations.
    """

    def __init__(
        self, settings: Settings, retriever: Retriever, extractive: ExtractiveEngine, llm: LLMEngine | None
    ) -> None:
        self.settings, self.retriever, self.extractive, self.llm = settings, retriever, extractive, llm
        self.stages: list[Stage] = [GuardInstructions(), RelevanceGate(extractive), PickOption(extractive, retriever)]
        self.engines: dict[str, Engine] = {"extractive": ExtractiveWriter()}
        if llm is not None:
            self.engines["llm"] = Vetted(LLMWriter(llm))
        self.engines |= {name: Vetted(engine) for name, engine in plugin_engines().items()}

    def resolve_engine(self, requested: EngineChoice | str | None) -> AnswerEngine:
        """The engine that will answer: ``auto`` resolved, a plugin's by its name; an unknown or unconfigured one is a
        clear error."""
        name = str(requested if requested is not None else self.settings.engine).strip().lower()
        if name in self.engines.keys() - BUILT_IN:
            return name
        if name not in BUILT_IN:
            raise OptionError(f"unknown engine {name[:40]!r}: choose one of {', '.join(self.engine_names())}")
        if name == EngineChoice.llm and self.llm is None:
            raise QuestionError("no LLM is configured: set NEWSRAG_LLM_BASE_URL or OPENAI_API_KEY")
        if name == EngineChoice.auto:
            return "llm" if self.llm is not None else "extractive"
        return name

    def engine_names(self) -> list[str]:
        """What ``engine=`` takes: the built-in choices, then the installed plugins' engines."""
        return [choice.value for choice in EngineChoice] + sorted(self.engines.keys() - BUILT_IN)

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
        engine: EngineChoice | str | None = None,
        history: History | None = None,
    ) -> Response:
        """A :class:`Response`: text deltas as they come, then the checked answer (whose text may differ).

        The question and the engine are checked now, so their errors reach the caller before any text.
        """
        turn = Turn(question=clean_question(question), engine=self.resolve_engine(engine), filters=filters)
        return Response(self._answer(turn, top_k, history))

    def _answer(self, turn: Turn, top_k: int | None, history: History | None) -> Generator[str, None, Answer]:
        turns = [(role, _clean(text)[:MAX_TURN_CHARS]) for role, text in (history or [])[-MAX_HISTORY_TURNS:]]
        turn.query, turn.context = self.standalone(turn.question, turns, turn.engine, turn.notices)
        turn.timings["condense_ms"] = ms_since(turn.started)
        shown = top_k or self.settings.top_k
        moment = self._when(turn)
        gate = self._gate(turn, max(shown, self.settings.read_k), moment.rerank)
        if gate.refused and turn.filters and (turn.filters.read_since or turn.filters.read_until):
            # Nothing from the period the words name answers: the words may date an older event ("the breach in
            # 2024" reported in 2025), or the archive may not reach that far. Say so, and read every date to as_of.
            turn.filters = turn.filters.model_copy(update={"read_since": None, "read_until": None})
            gate = self._gate(turn, max(shown, self.settings.read_k), moment.rerank)
            if not gate.refused:
                turn.notices.append(f"No article in the period read ({moment.read_as}) answers this: the answer is"
                                    f" from articles of other dates, up to {moment.as_of}.")  # fmt: skip
        t = time.perf_counter()
        turn.passages = gate.supporting_first(shown)
        if gate.refused:
            turn.timings["answer_ms"] = ms_since(t)
            yield REFUSAL_TEXT
            return turn.answer(text=REFUSAL_TEXT, engine=turn.engine, refused=True, relevance=gate.relevance)
        # An article tried to instruct the engine: show nothing before the answer is checked, since an answer that
        # repeats what the instruction asked for is withheld, and streamed text cannot be taken back.
        hold = bool(gate.planted) or (turn.engine == "llm" and any_directive(turn.passages))
        draft = yield from self._draft(turn, gate, hold)
        answer = self._check(draft, turn, gate)
        if hold:
            yield answer.text
        turn.timings["answer_ms"] = ms_since(t)
        answer.timings = turn.timings | {"total_ms": ms_since(turn.started)}
        return answer

    def _when(self, turn: Turn) -> When:
        """Read the question's time (rag/answering/when.py): the filters to search with, and the notice that says
        how its words were read."""
        choice = split_options(turn.question)  # the options' years and months are not the question's time
        moment = when(choice.stem if choice else turn.question, turn.filters, self.settings.time_aware)
        turn.moment, turn.filters, turn.query = moment, moment.filters, moment.query(turn.query)
        if moment.notice:
            turn.notices.append(moment.notice)
        elif moment.reading:
            turn.notices.append(f"Read “{moment.reading.words}” as {moment.read_as}.")
        return moment

    def _gate(self, turn: Turn, read: int, rerank: Callable[[list[Passage]], list[Passage]] | None) -> Gate:
        """Retrieve ``read`` passages under the turn's filters and run the stages over them (each timed, added up
        over a retry: ``retrieval_ms``, ``stages_ms``)."""
        t = time.perf_counter()
        gate = Gate(pool=self.retriever.retrieve(turn.query, read, turn.filters, self.settings.retrieval, rerank))
        turn.timings["retrieval_ms"] = turn.timings.get("retrieval_ms", 0.0) + ms_since(t)
        t = time.perf_counter()
        for stage in self.stages:
            stage(turn, gate)
        turn.timings["stages_ms"] = turn.timings.get("stages_ms", 0.0) + ms_since(t)
        return gate

    def _draft(self, turn: Turn, gate: Gate, hold: bool) -> Generator[str, None, Draft]:
        """The chosen engine's draft, its text passed on as it comes unless held; an LLM that fails hands over to
        the extractive engine with a notice."""
        try:
            return (yield from _relay(self.engines[turn.engine].draft(turn, gate), hold))
        except LLMUnavailable as exc:
            turn.notices.append(f"{exc} — showing the extractive answer instead.")
            turn.engine = "extractive"
            return (yield from _relay(self.engines["extractive"].draft(turn, gate), hold))

    def _check(self, draft: Draft, turn: Turn, gate: Gate) -> Answer:
        """Check every cited sentence against its passage; keep only citations that exist, flag the rest.

        An answer repeating what an instruction planted in an article asked for (its "PWNED", its link) followed
        that instruction, though the instruction was taken out of the passages (a part of it slipped through):
        it is flagged and withheld (see :meth:`_withhold`).
        """
        repeated, followed_by = repeated_payload(draft.text, gate.planted, turn.passages, turn.question), turn.engine
        dropped: list[Dropped] = []
        if not repeated and turn.engine == "llm":  # what the detector missed: sentences repeating directive text
            kept, dropped = drop_obeyed(draft.text, turn.passages, turn.question)
            draft = replace(draft, text=kept)
            repeated = dropped[0].mark if dropped and not kept.strip() else ""
        if repeated:
            draft = self._withhold(repeated, turn, gate)
        checked = verify(draft.text, [p.text for p in draft.cited])
        refused = not checked.cited and is_refusal(checked.text)
        citations = []
        for number, original in enumerate(checked.cited, start=1):
            passage = draft.cited[original - 1]
            claims = [s for s in checked.sentences if number in s.passages]
            claim = " ".join(s.text for s in claims)
            citations.append(
                Citation(
                    **passage.model_dump(),
                    number=number,
                    quote=best_quote(claim, passage),
                    supported=all(s.supported for s in claims),
                )
            )
        flags = [f"removed from the answer: {r}" for r in draft.removed]  # rag/answering/active_content.py
        flags += [d.flag for d in dropped] + [f"unsupported: {s}" for s in checked.unsupported]
        if repeated:
            flags.insert(0, f"{FOLLOWED_FLAG}: the {followed_by} answer repeated “{repeated}”")
        if not refused and not citations:
            flags.append("no citations: the answer cites no passage")
        stated = not (refused or repeated) and turn.engine == "extractive"
        return turn.answer(
            text=REFUSAL_TEXT if refused else checked.text,
            engine=turn.engine,
            short_answer=_short_answer(gate) if stated else None,
            candidates=_candidates(gate) if stated else [],
            citations=citations,
            refused=refused,
            flags=flags,
            relevance=gate.relevance,
        )

    def _withhold(self, repeated: str, turn: Turn, gate: Gate) -> Draft:
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
            if not repeated_payload(s.answer_text, gate.planted, turn.passages, turn.question)
            and repeated not in normalise(s.answer_text)
        ]
        if not kept:
            return Draft(REFUSAL_TEXT, [])
        return extractive_draft(replace(gate.extract, sentences=kept), gate.pool)


def _relay(deltas: Generator[str, None, Draft], hold: bool) -> Generator[str, None, Draft]:
    """Pass an engine's text on as it comes, or hold it back; the engine's draft either way."""
    while True:
        try:
            delta = next(deltas)
        except StopIteration as done:
            return done.value
        if not hold:
            yield delta


def _short_answer(gate: Gate) -> str | None:
    """The option or short answer the extractive engine led with, if it did."""
    if gate.choice and gate.picked:
        return gate.choice.options[gate.picked[0]]
    if gate.guess:  # a guess is no short answer: that is what the engine states
        return None
    return gate.extract.short.text if gate.extract.short else None


def _candidates(gate: Gate) -> list[AnswerCandidate]:
    """The short answers the extractive engine weighed for an open question, with their confidence."""
    if gate.choice:
        return []
    return [
        AnswerCandidate(text=c.text, kind=c.kind.value, confidence=round(p, 4), signals=signals)
        for c, p, signals in gate.extract.candidates
    ]
