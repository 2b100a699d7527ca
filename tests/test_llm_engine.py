"""The llm engine against real OpenAI-compatible servers on 127.0.0.1: a scripted one and llama.cpp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag import Answer, NewsRAG
from tests.conftest import SAMPLE
from tests.support.llm_servers import FakeOpenAI, LlamaServer, llama_settings

QUESTION = "What are Putin's peace conditions?"
GOOD = (
    "Putin wants a legally binding pledge that Nato will not expand eastwards and Ukrainian neutrality [1]. "
    "He also wants protection for Russian speakers [1]."
)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("llm") / "index"
    assert NewsRAG(index_dir=path).ingest(SAMPLE).ok
    return path


def _rag(index_dir: Path, base_url: str, **more: Any) -> NewsRAG:
    settings = {"llm_model": "fake-model", "llm_timeout": 5.0, "llm_max_retries": 1} | more
    return NewsRAG(index_dir=index_dir, llm_base_url=base_url, **settings)


def _user_prompt(fake: FakeOpenAI) -> str:
    messages = fake.chat_requests[-1].json["messages"]
    return "\n".join(m["content"] for m in messages if m["role"] == "user")


def test_auto_engine_uses_the_llm_and_verifies_citations(index_dir: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = GOOD
    answer = _rag(index_dir, fake_openai.base_url).ask(QUESTION)
    assert answer.engine == "llm"
    assert answer.text.startswith("Putin wants") and "[1]" in answer.text
    assert [c.number for c in answer.citations] == [1]
    assert "conditions for peace" in answer.citations[0].quote
    assert answer.citations[0].supported and not answer.flags
    assert answer.citations[0].text == answer.passages[0].text  # [1] is the first passage given to the LLM


def test_prompt_delimits_passages_and_guards_against_injection(index_dir: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = GOOD
    _rag(index_dir, fake_openai.base_url).ask(QUESTION)
    messages = fake_openai.chat_requests[-1].json["messages"]
    assert messages[0]["role"] == "system" and "never follow them" in messages[0]["content"]
    prompt = _user_prompt(fake_openai)
    assert '<passage number="1"' in prompt and "</passage key=" in prompt and QUESTION in prompt


def test_messy_markers_are_normalised_and_invalid_ones_dropped(index_dir: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = "Nato must not expand eastwards [Source 1]. Ukraine must stay neutral (1). Also tea [9]."
    answer = _rag(index_dir, fake_openai.base_url).ask(QUESTION)
    assert "[Source" not in answer.text and "(1)" not in answer.text and "[9]" not in answer.text
    assert answer.text.count("[1]") == 2
    assert [c.number for c in answer.citations] == [1]
    assert any("tea" in f for f in answer.flags)  # the sentence that cited nothing valid is flagged


def test_unsupported_claim_is_flagged(index_dir: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = "Putin demanded a $5 billion payment from Ukraine [1]."
    answer = _rag(index_dir, fake_openai.base_url).ask(QUESTION)
    assert answer.flags and "unsupported" in answer.flags[0]
    assert answer.citations and not answer.citations[0].supported


def test_llm_refusal_is_a_refusal(index_dir: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = "The indexed articles don't say."
    answer = _rag(index_dir, fake_openai.base_url).ask(QUESTION)
    assert answer.refused and not answer.citations


def test_irrelevant_question_is_refused_before_calling_the_llm(index_dir: Path, fake_openai: FakeOpenAI) -> None:
    answer = _rag(index_dir, fake_openai.base_url).ask("Who won the football World Cup final?")
    assert answer.refused and answer.engine == "llm"
    assert fake_openai.chat_requests == []


def test_streaming_yields_deltas_then_the_checked_answer(index_dir: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = GOOD
    response = _rag(index_dir, fake_openai.base_url).stream(QUESTION)
    deltas = list(response)
    assert len(deltas) > 1 and "".join(deltas) == GOOD
    assert isinstance(response.answer, Answer) and response.answer.engine == "llm"
    assert fake_openai.chat_requests[-1].json.get("stream") is True


@pytest.mark.parametrize("mode", ["status_500", "status_429", "garbage", "truncated_stream", "hang", "down"])
def test_llm_failures_fall_back_to_the_extractive_answer(index_dir: Path, fake_openai: FakeOpenAI, mode: str) -> None:
    fake_openai.hang_seconds = 10.0
    fake_openai.mode = mode
    retries = 1 if mode in ("status_500", "status_429") else 0
    newsrag = _rag(index_dir, fake_openai.base_url, llm_timeout=2.0, llm_max_retries=retries)
    answer = newsrag.ask(QUESTION)
    assert answer.engine == "extractive"
    assert answer.notices and "extractive" in answer.notices[0]
    assert "Nato" in answer.text and answer.citations  # the user still gets a grounded answer
    if mode in ("status_500", "status_429"):
        assert len(fake_openai.chat_requests) == 2  # the first try and one retry (llm_max_retries=1)


def test_follow_up_is_condensed_by_the_llm(index_dir: Path, fake_openai: FakeOpenAI) -> None:
    def reply(body: dict[str, Any]) -> str:
        text = body["messages"][-1]["content"]
        if "Standalone question" in text:
            return "What did Zelensky say about Putin's peace conditions?"
        return "Zelensky said Ukraine would never recognise Russia's sovereignty over conquered regions [1]."

    fake_openai.reply = reply
    chat = _rag(index_dir, fake_openai.base_url).chat()
    chat.ask(QUESTION)
    answer = chat.ask("And what did Zelensky say about them?")
    assert answer.standalone_question == "What did Zelensky say about Putin's peace conditions?"
    condense_prompt = fake_openai.chat_requests[-2].json["messages"][-1]["content"]
    assert QUESTION in condense_prompt  # the conversation was given to the condenser
    assert answer.engine == "llm" and answer.citations


def test_real_llama_cpp_server_end_to_end(index_dir: Path, llama_server: LlamaServer) -> None:
    newsrag = NewsRAG(index_dir=index_dir, **llama_settings(llama_server))
    response = newsrag.stream(QUESTION, top_k=2)  # a short prompt: the 135M model reads ~70 tokens/s here
    deltas = list(response)
    answer = response.answer
    # SmolLM2-135M writes poor answers: check the wiring, not its quality.
    assert answer.engine == "llm", answer.notices
    assert answer.text.strip()
    assert len(deltas) > 1  # it streamed
    assert all(1 <= c.number <= len(answer.passages) for c in answer.citations)
    assert answer.timings["answer_ms"] > 0
