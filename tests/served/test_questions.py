"""Odd and hostile questions: a clear answer or a clear error, from the Python API, the CLI and both HTTP APIs.

Questions that are empty once invisible characters are gone, or longer than the limit, are errors (QuestionError,
exit 2, HTTP 400); questions in other languages, with emoji, control characters, NUL bytes or broken Unicode are
answered (the bundled sample is English, so most are refused as not covered: an answer, not an error).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from rag import Answer, NewsRAG, QuestionError
from rag.answering.answerer import MAX_QUESTION_CHARS, MAX_TURN_CHARS
from tests.served.test_http_api import PUTIN, Server, _openai

NEWSRAG = Path(sys.executable).with_name("newsrag")
EMPTY = {
    "zero-width": "\u200b\u200b",
    "direction-marks-and-bom": "\u200e\u200f\ufeff",
    "unicode-spaces": "\u3000\u00a0\u2003\t\n",
    "c1-controls": "\x85\x9f\x80",
    "nul": "\x00",
}
ANSWERED = {
    "german": "Was sind Putins Bedingungen für einen Frieden?",
    "chinese": "普京的和平条件是什么？",
    "arabic": "ما هي شروط بوتين للسلام؟",
    "russian": "Каковы условия Путина для мира?",
    "emoji": "🕊️❓🤔",
    "control-characters": "What are Putin's\x00 peace\x07 conditions?\x1b",
    "lone-surrogate": "\ud800What are Putin's peace conditions?",
    "combining-marks": "What are Putin's peace conditions" + "\u0301" * 500,
}
# What the cleaned question must read for the questions the sample does cover.
COVERED = {
    "control-characters": "What are Putin's peace conditions?",
    "lone-surrogate": "\ufffdWhat are Putin's peace conditions?",
}


# ----- the Python API
@pytest.mark.parametrize("question", list(EMPTY.values()), ids=list(EMPTY))
def test_invisible_only_question_is_empty(sample_newsrag: NewsRAG, question: str) -> None:
    with pytest.raises(QuestionError, match="^the question is empty$"):
        sample_newsrag.ask(question)


def test_question_length_limit(sample_newsrag: NewsRAG) -> None:
    with pytest.raises(QuestionError, match=r"^the question is too long \(100000 characters; at most 2000\)$"):
        sample_newsrag.ask("x" * 100_000)
    longest = (PUTIN + " ") * (MAX_QUESTION_CHARS // (len(PUTIN) + 1))
    assert not sample_newsrag.ask(longest).refused  # up to the limit, a long question is answered


@pytest.mark.parametrize("question", list(ANSWERED.values()), ids=list(ANSWERED))
def test_question_in_any_language_or_with_odd_characters_gets_an_answer(sample_newsrag: NewsRAG, question: str) -> None:
    answer = sample_newsrag.ask(question)
    assert isinstance(answer, Answer) and answer.text
    assert answer.refused or answer.citations  # a refusal, or an answer that cites its sources
    assert not any(c in answer.question for c in "\x00\x07\x1b")
    name = next(k for k, v in ANSWERED.items() if v == question)
    if name in COVERED:
        assert answer.question == COVERED[name]
        assert not answer.refused and "Nato" in answer.text


def test_earlier_turns_cannot_smuggle_in_an_enormous_question(sample_newsrag: NewsRAG) -> None:
    huge = "Putin peace conditions Nato neutrality " * 25_000  # 1 MB
    answer = sample_newsrag.ask("And what did Zelensky say about them?", history=[("user", huge), ("assistant", huge)])
    assert isinstance(answer, Answer)
    assert len(answer.standalone_question) <= MAX_QUESTION_CHARS + MAX_TURN_CHARS + 1


# ----- the CLI
def _ask(sample_newsrag: NewsRAG, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(NEWSRAG), "ask", *args, "--index-dir", str(sample_newsrag.settings.index_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=os.environ.copy())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "error"),
    [
        pytest.param("\u200b", "error: the question is empty", id="invisible"),
        pytest.param("x" * 100_000, "error: the question is too long (100000 characters; at most 2000)", id="long"),
    ],
)
def test_cli_bad_question_is_a_one_line_error(sample_newsrag: NewsRAG, question: str, error: str) -> None:
    result = _ask(sample_newsrag, question)
    assert result.returncode == 2
    assert result.stderr.strip() == error and result.stdout == ""


@pytest.mark.slow
def test_cli_answers_other_languages_and_odd_characters(sample_newsrag: NewsRAG) -> None:
    chinese = _ask(sample_newsrag, ANSWERED["chinese"], "--json")
    assert chinese.returncode == 0, chinese.stderr
    answer = json.loads(chinese.stdout)
    assert answer["question"] == ANSWERED["chinese"] and answer["refused"] is True
    odd = _ask(sample_newsrag, "🕊️ What are Putin's \x1b[31mpeace\x07 conditions?")
    assert odd.returncode == 0, odd.stderr
    assert "Nato" in odd.stdout and "\x1b[31m" not in odd.stdout and "Traceback" not in odd.stderr


# ----- the HTTP APIs (the running `newsrag serve` of tests/served/test_http_api.py)
@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize(
    ("question", "message"),
    [
        pytest.param("", "the question is empty", id="empty"),
        pytest.param("\u0000", "the question is empty", id="nul"),
        pytest.param("\u200b \u200b", "the question is empty", id="invisible"),
        pytest.param("x" * 100_000, "the question is too long (100000 characters; at most 2000)", id="long"),
    ],
)
def test_v1_bad_question_is_a_400_in_openai_shape(server: Server, question: str, message: str, stream: bool) -> None:
    body = {"model": "newsrag", "stream": stream, "messages": [{"role": "user", "content": question}]}
    response = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=120)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_question"}
    }


@pytest.mark.parametrize("question", list(ANSWERED.values()), ids=list(ANSWERED))
def test_v1_answers_any_language_and_odd_characters(server: Server, question: str) -> None:
    # Raw JSON, so that a lone surrogate reaches the server as "\ud800" (clients would refuse to encode it).
    body = json.dumps({"model": "newsrag", "messages": [{"role": "user", "content": question}]}).encode()
    response = httpx.post(
        server.url + "/v1/chat/completions", content=body, headers={"content-type": "application/json"}, timeout=120
    )
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    assert choice["message"]["content"]
    assert choice["refused"] or choice["citations"]


def test_v1_long_conversation_is_answered(server: Server) -> None:
    earlier = "Putin peace conditions " * 20_000  # 460 KB of earlier turns: under the body limit, over any question's
    messages = [{"role": "user", "content": earlier}, {"role": "assistant", "content": earlier}]
    messages.append({"role": "user", "content": PUTIN})
    reply = _openai(server).chat.completions.create(model="newsrag", messages=messages)
    assert "Nato" in reply.choices[0].message.content


@pytest.mark.parametrize(
    ("question", "error"),
    [
        pytest.param("\x00\u200b", "the question is empty", id="empty"),
        pytest.param("x" * 100_000, "the question is too long", id="long"),
    ],
)
def test_gradio_ask_bad_question_is_a_clear_error(server: Server, question: str, error: str) -> None:
    from gradio_client import Client

    with pytest.raises(Exception, match=error):
        Client(server.url, verbose=False).predict(question, api_name="/ask")


def test_gradio_ask_answers_other_languages(server: Server) -> None:
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    for question in (ANSWERED["arabic"], ANSWERED["emoji"], ANSWERED["control-characters"]):
        result = client.predict(question, api_name="/ask")
        assert result["text"] and (result["refused"] or result["citations"]), question
