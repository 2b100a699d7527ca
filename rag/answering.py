"""From a question to a checked :class:`Answer`: retrieve, gate on relevance, answer, verify citations.

Both engines pass the same relevance gate (the extractive scorer's best sentence score against a
calibrated threshold), so a question the articles don't cover is refused the same way by both. An
LLM failure of any kind falls back to the extractive answer with a notice, never a stack trace.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from typing import Literal

from rag.answer import REFUSAL_TEXT, Answer, Citation, Passage
from rag.choices import LETTERS, split_options
from rag.citations import is_refusal, verify
from rag.config import Settings
from rag.extractive import Extract, ExtractiveEngine
from rag.filters import Filters
from rag.injection import guard
from rag.llm import LLMEngine, LLMUnavailable
from rag.retrieve import Retriever
from rag.text import content_terms, split_sentences

MAX_QUESTION_CHARS = 2000
# Earlier turns are context, never a way round the question limit: the last few, each cut to this size.
MAX_HISTORY_TURNS = 20
MAX_TURN_CHARS = 2 * MAX_QUESTION_CHARS
History = list[tuple[str, str]]  # (role, text), role "user" or "assistant"
_DEPENDENT = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|that|this|those|these|there)\b", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls (NUL, bell, escape, ...)
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # unpaired halves (JSON allows "\ud800"), which no encoder takes
_TERMINAL_CODE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # colours and cursor moves pasted from a terminal


class QuestionError(ValueError):
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


class Answerer:
    """Answers questions with the configured engines; safe to share between threads."""

    def __init__(
        self, settings: Settings, retriever: Retriever, extractive: ExtractiveEngine, llm: LLMEngine | None
    ) -> None:
        self.settings, self.retriever, self.extractive, self.llm = settings, retriever, extractive, llm

    def resolve_engine(self, requested: str | None) -> Literal["llm", "extractive"]:
        choice = requested or self.settings.engine
        if choice == "llm" and self.llm is None:
            raise QuestionError("no LLM is configured: set NEWSRAG_LLM_BASE_URL or OPENAI_API_KEY")
        if choice == "auto":
            return "llm" if self.llm is not None else "extractive"
        return choice  # type: ignore[return-value]

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

    def ask(self, question: str, **kwargs: object) -> Answer:
        answer = None
        for item in self.stream(question, **kwargs):  # type: ignore[arg-type]
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        top_k: int | None = None,
        filters: Filters | None = None,
        engine: str | None = None,
        history: History | None = None,
    ) -> Iterator[str | Answer]:
        """Text deltas as they come, then the final :class:`Answer` (whose text may differ: checked)."""
        started = time.perf_counter()
        question = clean_question(question)
        chosen = self.resolve_engine(engine)
        notices: list[str] = []
        timings: dict[str, float] = {}
        turns = [(role, _clean(text)[:MAX_TURN_CHARS]) for role, text in (history or [])[-MAX_HISTORY_TURNS:]]
        query, context = self.standalone(question, turns, chosen, notices)
        timings["condense_ms"] = _ms(started)
        t = time.perf_counter()
        passages = self.retriever.retrieve(query, top_k or self.settings.top_k, filters, self.settings.retrieval)
        passages, planted = guard(passages)  # an article's orders to an AI are neither shown nor evidence
        if planted:
            notices.append(planted)
        timings["retrieval_ms"] = _ms(t)
        t = time.perf_counter()
        # A multiple-choice question is retrieved with its options but gated and scored on its stem:
        # the options name things the articles need not mention.
        choice = split_options(question)
        # A follow-up is scored on its own words (the context is weighed separately), anything else on the query.
        scored = choice.stem if choice else (question if context else query)
        extract = self.extractive.extract(scored, passages, context)
        base = {
            "question": question,
            "passages": passages,
            "standalone_question": query,
            "notices": notices,
            "relevance": round(extract.best_score, 4),
        }
        # An option the passages clearly support is grounded even when the stem alone scores under the gate.
        picked = self.extractive.choose(choice, passages) if choice else None
        if extract.refused and not picked:
            timings["answer_ms"] = _ms(t)
            timings["total_ms"] = _ms(started)
            yield REFUSAL_TEXT
            yield Answer(text=REFUSAL_TEXT, engine=chosen, refused=True, timings=timings, **base)
            return
        if chosen == "llm":
            assert self.llm is not None
            raw = ""
            try:
                for delta in self.llm.stream(query, passages):
                    raw += delta
                    yield delta
                if not raw.strip():
                    raise LLMUnavailable("the LLM returned an empty answer")
            except LLMUnavailable as exc:
                notices.append(f"{exc} — showing the extractive answer instead.")
                chosen, raw = "extractive", ""
        cite_from = passages
        if chosen == "extractive":
            if choice and picked:
                option, sentence = picked
                raw = f"{LETTERS[option]}) {choice.options[option]}: {sentence.answer_text} [1]"
                cite_from = [passages[sentence.passage]]
            else:
                raw, cite_from = self._extractive_text(extract, passages)
            yield raw
        answer = self._finish(raw, chosen, cite_from, base)
        timings["answer_ms"] = _ms(t)
        timings["total_ms"] = _ms(started)
        answer.timings = timings
        yield answer

    @staticmethod
    def _extractive_text(extract: Extract, passages: list[Passage]) -> tuple[str, list[Passage]]:
        """The chosen sentences with markers numbered by first appearance, and passages in that order."""
        order: list[int] = []
        for s in extract.sentences:
            if s.passage not in order:
                order.append(s.passage)
        text = " ".join(f"{s.answer_text} [{order.index(s.passage) + 1}]" for s in extract.sentences)
        return text, [passages[i] for i in order]

    def _finish(self, raw: str, engine: Literal["llm", "extractive"], passages: list[Passage], base: dict) -> Answer:
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
        if not refused and not citations:
            flags.append("no citations: the answer cites no passage")
        text = REFUSAL_TEXT if refused else checked.text
        return Answer(text=text, engine=engine, citations=citations, refused=refused, flags=flags, **base)
