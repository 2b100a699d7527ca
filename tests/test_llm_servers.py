"""The test LLM servers behave: llama.cpp really generates, and the fake fails exactly as each mode promises."""

from __future__ import annotations

import json
import socket
import time

import httpx
import openai
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai_like import OpenAILike

from evals.app_process import free_port
from tests.support.llm_servers import FakeOpenAI, LlamaServer

pytestmark = pytest.mark.llm

MESSAGES = [{"role": "user", "content": "Name one colour."}]


def client(base_url: str, **kw) -> openai.OpenAI:
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 5.0)
    return openai.OpenAI(base_url=base_url, api_key="test-key", **kw)


def openai_like(base_url: str, model: str, **kw) -> OpenAILike:
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 60.0)
    return OpenAILike(model=model, api_base=base_url, api_key="test-key", is_chat_model=True, **kw)


# ---------------------------------------------------------------------------------------------------------------------
# llama.cpp server (real model, short answers)
# ---------------------------------------------------------------------------------------------------------------------


def test_llama_server_lists_its_model(llama_server: LlamaServer) -> None:
    models = client(llama_server.base_url).models.list()
    assert [m.id for m in models.data] == [llama_server.model]


def test_llama_server_chat_completion(llama_server: LlamaServer) -> None:
    c = client(llama_server.base_url, timeout=60.0)
    resp = c.chat.completions.create(model=llama_server.model, messages=MESSAGES, max_tokens=16, temperature=0)
    assert resp.object == "chat.completion"
    choice = resp.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    assert resp.usage is not None and 0 < resp.usage.completion_tokens <= 16


def test_llama_server_streams_chunks(llama_server: LlamaServer) -> None:
    c = client(llama_server.base_url, timeout=60.0)
    stream = c.chat.completions.create(
        model=llama_server.model, messages=MESSAGES, max_tokens=16, temperature=0, stream=True
    )
    chunks = list(stream)  # the iterator only ends cleanly on data: [DONE]
    assert all(ch.object == "chat.completion.chunk" for ch in chunks)
    pieces = [ch.choices[0].delta.content for ch in chunks if ch.choices and ch.choices[0].delta.content]
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


def test_llama_server_with_llama_index_openai_like(llama_server: LlamaServer) -> None:
    llm = openai_like(llama_server.base_url, llama_server.model, max_tokens=16, temperature=0.0)
    messages = [ChatMessage(role="user", content="Name one colour.")]
    answer = llm.chat(messages)
    assert answer.message.content and answer.message.content.strip()
    deltas = [r.delta for r in llm.stream_chat(messages)]
    assert len(deltas) > 1 and "".join(d or "" for d in deltas).strip()


# ---------------------------------------------------------------------------------------------------------------------
# Fake server: ok
# ---------------------------------------------------------------------------------------------------------------------


def test_fake_ok_returns_a_chat_completion_and_records_the_request(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = "Paris is the capital [1]."
    resp = client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES, temperature=0)
    assert resp.choices[0].message.content == "Paris is the capital [1]."
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None and resp.usage.completion_tokens == 5
    assert len(fake_openai.chat_requests) == 1
    assert fake_openai.last_json["messages"] == MESSAGES
    assert fake_openai.last_json["model"] == "m"
    assert fake_openai.requests[-1].headers["Authorization"] == "Bearer test-key"


def test_fake_ok_streams_openai_chunks_ending_with_done(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = "Berlin is big [2]."
    stream = client(fake_openai.base_url).chat.completions.create(
        model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == "Berlin is big [2]."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_fake_ok_raw_sse_wire_format(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = "a b"
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    with httpx.stream("POST", f"{fake_openai.base_url}/chat/completions", json=body) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = resp.read().decode()
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["object"] == "chat.completion.chunk"


def test_fake_reply_can_depend_on_the_request(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = lambda body: body["messages"][-1]["content"].upper()
    resp = client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES)
    assert resp.choices[0].message.content == "NAME ONE COLOUR."


def test_fake_serves_models(fake_openai: FakeOpenAI) -> None:
    assert [m.id for m in client(fake_openai.base_url).models.list().data] == ["fake-model"]


def test_fake_works_with_llama_index_openai_like(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = "Fine [1]."
    llm = openai_like(fake_openai.base_url, "m")
    messages = [ChatMessage(role="user", content="hi")]
    assert llm.chat(messages).message.content == "Fine [1]."
    assert "".join(r.delta or "" for r in llm.stream_chat(messages)) == "Fine [1]."


# ---------------------------------------------------------------------------------------------------------------------
# Fake server: failure modes and the exception each one produces
# ---------------------------------------------------------------------------------------------------------------------


def test_status_500_raises_internal_server_error_after_retries(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "status_500"
    with pytest.raises(openai.InternalServerError) as exc:
        client(fake_openai.base_url, max_retries=1).chat.completions.create(model="m", messages=MESSAGES)
    assert exc.value.status_code == 500
    assert len(fake_openai.chat_requests) == 2  # the openai client retried once


def test_status_429_raises_rate_limit_error_with_retry_after(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "status_429"
    with pytest.raises(openai.RateLimitError) as exc:
        client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES)
    assert exc.value.response.headers["retry-after"] == "0"
    assert len(fake_openai.chat_requests) == 1


def test_scripted_modes_let_a_retry_succeed(fake_openai: FakeOpenAI) -> None:
    fake_openai.retry_after = "0.01"  # Retry-After 0 makes openai fall back to its own 0.5 s+ backoff
    fake_openai.script("status_429", "status_500", "ok")
    c = client(fake_openai.base_url, max_retries=2)
    resp = c.chat.completions.create(model="m", messages=MESSAGES)
    assert resp.choices[0].message.content == fake_openai.reply
    assert len(fake_openai.chat_requests) == 3


def test_openai_like_retries_multiply(fake_openai: FakeOpenAI) -> None:
    """llama-index hands max_retries to the openai client *and* wraps calls in tenacity with the same count."""
    fake_openai.mode = "status_429"
    fake_openai.retry_after = "0.01"
    llm = openai_like(fake_openai.base_url, "m", max_retries=2, timeout=5.0)
    with pytest.raises(openai.RateLimitError):
        llm.chat([ChatMessage(role="user", content="hi")])
    assert len(fake_openai.chat_requests) == 6  # 2 tenacity attempts x 3 openai attempts


def test_hang_raises_api_timeout_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "hang"
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client(fake_openai.base_url, timeout=0.5).chat.completions.create(model="m", messages=MESSAGES)
    assert time.monotonic() - start < fake_openai.hang_seconds / 2
    assert len(fake_openai.chat_requests) == 1


def test_garbage_json_raises_json_decode_error_not_an_openai_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "garbage"
    with pytest.raises(json.JSONDecodeError):
        client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES)
    # and a garbage *stream* is silently empty
    stream = client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert list(stream) == []


def test_garbage_html_is_returned_as_a_string(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "garbage_html"
    resp = client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES)
    assert isinstance(resp, str) and resp.startswith("<html>")
    with pytest.raises(AttributeError):  # what llama-index (and any caller) then trips over
        openai_like(fake_openai.base_url, "m").chat([ChatMessage(role="user", content="hi")])


def test_truncated_stream_raises_httpx_remote_protocol_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "truncated_stream"
    fake_openai.reply = "one two three four five six"
    stream = client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    seen: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        for ch in stream:
            seen.append(ch.choices[0].delta.content or "")
    assert "".join(seen) == "one two three"


def test_incomplete_stream_ends_without_error_or_finish_reason(fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "incomplete_stream"
    fake_openai.reply = "one two three four"
    chunks = list(client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks) == "one two"
    assert all(ch.choices[0].finish_reason is None for ch in chunks)


def test_down_refuses_connections_and_can_come_back(fake_openai: FakeOpenAI) -> None:
    port = fake_openai.port
    fake_openai.mode = "down"
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    with pytest.raises(openai.APIConnectionError) as exc:
        client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES)
    assert not isinstance(exc.value, openai.APITimeoutError)
    assert fake_openai.chat_requests == []
    fake_openai.mode = "ok"
    assert fake_openai.port == port
    resp = client(fake_openai.base_url).chat.completions.create(model="m", messages=MESSAGES)
    assert resp.choices[0].message.content == fake_openai.reply


def test_unknown_mode_is_rejected(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(ValueError):
        fake_openai.mode = "sometimes"


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
