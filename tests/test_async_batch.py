"""Asking from async code (``aask``, ``astream``) and in batches (``ask_many``): the same answers as ``ask``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from rag import Answer, AsyncResponse, NewsRAG, QuestionError
from tests.conftest import SAMPLE

QUESTIONS = [
    "What are Putin's peace conditions?",
    "How long did Witkoff and Putin meet?",
    "What additional tariff did Trump impose on India on Aug 6?",
    "How high can US tariffs on some Indian goods now go?",
    "When will secondary sanctions be implemented?",
    "How did Zelensky describe Russia's attitude to a ceasefire?",
    "Who is Steve Witkoff?",
    "What did Trump say about the meeting?",
    "Who won the football World Cup final?",
    "What is the capital of Australia?",
]


def _same(answer: Answer) -> tuple[Any, ...]:
    """What must not depend on how the question was asked (timings do)."""
    cited = [(c.number, c.chunk_id, c.quote, c.supported) for c in answer.citations]
    return answer.text, answer.refused, answer.engine, answer.short_answer, cited, answer.flags, answer.notices


def test_ten_questions_at_once_get_the_synchronous_answers(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    assert NewsRAG(index_dir=index_dir, engine="extractive").ingest(SAMPLE).ok
    # A fresh service, so the ten concurrent first questions also race to build the embedder, store and index.
    newsrag = NewsRAG(index_dir=index_dir, engine="extractive")

    async def all_at_once() -> list[Answer]:
        return await asyncio.gather(*(newsrag.aask(q) for q in QUESTIONS))

    concurrent = asyncio.run(all_at_once())
    expected = [newsrag.ask(q) for q in QUESTIONS]
    assert [_same(a) for a in concurrent] == [_same(a) for a in expected]
    assert sum(a.refused for a in concurrent) >= 2 and sum(not a.refused for a in concurrent) >= 6


def test_aask_keeps_the_event_loop_free(sample_newsrag: NewsRAG) -> None:
    async def ask_while_ticking() -> tuple[Answer, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.001)
                ticks += 1

        ticker = asyncio.create_task(tick())
        answer = await sample_newsrag.aask("What are Putin's peace conditions?", top_k=3)
        ticker.cancel()
        return answer, ticks

    answer, ticks = asyncio.run(ask_while_ticking())
    assert "Nato" in answer.text and ticks > 0


def test_astream_yields_the_deltas_then_the_answer(sample_newsrag: NewsRAG) -> None:
    question = "How long did Witkoff and Putin meet?"

    async def stream() -> tuple[list[str], AsyncResponse]:
        response = sample_newsrag.astream(question)
        with pytest.raises(RuntimeError, match="not ready"):
            response.answer  # noqa: B018 - before the stream ends there is no answer to read
        return [delta async for delta in response], response

    deltas, response = asyncio.run(stream())
    expected = sample_newsrag.stream(question)
    assert deltas == list(expected) and "".join(deltas) == response.streamed
    assert _same(response.answer) == _same(expected.answer) and "three hours" in response.answer.text
    assert asyncio.run(response.final()) is response.answer  # already ended: the same answer, nothing re-asked
    assert "done" in repr(response)


def test_astream_and_aask_raise_what_ask_raises(sample_newsrag: NewsRAG) -> None:
    async def empty_stream() -> None:
        async for _ in sample_newsrag.astream("   "):
            pass

    with pytest.raises(QuestionError):
        asyncio.run(empty_stream())
    with pytest.raises(QuestionError):
        asyncio.run(sample_newsrag.aask(""))
    with pytest.raises(ValueError, match="engine"):
        asyncio.run(sample_newsrag.aask("What are Putin's peace conditions?", engine="bogus"))


def test_ask_many_is_a_dataframe_of_the_answers(sample_newsrag: NewsRAG) -> None:
    questions = QUESTIONS[:2] + QUESTIONS[-2:]
    frame = sample_newsrag.ask_many(questions, top_k=3)
    assert list(frame.columns) == ["question", "answer", "refused", "citations", "latency_ms"]
    assert frame["question"].tolist() == questions
    assert frame["refused"].tolist() == [False, False, True, True]
    assert frame["citations"].tolist()[2:] == [0, 0] and min(frame["citations"][:2]) >= 1
    assert frame["answer"][0] == sample_newsrag.ask(questions[0], top_k=3).text
    assert (frame["latency_ms"] > 0).all()
