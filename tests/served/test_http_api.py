"""The running server's APIs, driven by their real clients: gradio_client, the official openai client, raw HTTP.

The servers are real `newsrag serve` processes on 127.0.0.1 (tests/served/conftest.py: started once for the
modules of tests/served/, which use them all): one open, over an index holding the bundled sample; one behind
NEWSRAG_AUTH whose LLM endpoint is down.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from evals.app_process import BIN, Server
from ingest.uploads import save_upload
from tests.conftest import ROOT

pytestmark = pytest.mark.server

USER, PASSWORD = "alice", "s3cret-pass"
UPLOAD_LIMIT_MB = 1
PUTIN = "What are Putin's peace conditions?"
FACTS = ("Nato", "neutrality", "Russian speakers", "territorial gains")


# ----- the Gradio API (gradio_client)
def test_gradio_client_ask_returns_the_answer_as_data(server: Server) -> None:
    from gradio_client import Client

    result = Client(server.url, verbose=False).predict(PUTIN, api_name="/ask")
    assert isinstance(result, dict)
    for fact in FACTS:
        assert fact in result["text"]
    assert "[1]" in result["text"] and result["engine"] == "extractive" and not result["refused"]
    citation = result["citations"][0]
    assert citation["number"] == 1 and citation["title"].startswith("Trump says progress made")
    assert "conditions for peace" in citation["quote"]


def test_gradio_client_empty_question_is_a_clear_error(server: Server) -> None:
    from gradio_client import Client

    with pytest.raises(Exception, match="empty"):
        Client(server.url, verbose=False).predict("   ", api_name="/ask")


def test_gradio_client_ingest_keeps_the_name_but_never_uses_it_as_a_path(server: Server, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    odd = tmp_path / "<b>x<b> $(touch pwned) ..;.TXT"
    odd.write_text(
        "Harbour strike ends\nDock workers in Eastport ended a nine-day strike on Friday after a pay deal.\n"
    )
    rows = Client(server.url, verbose=False).predict([handle_file(str(odd))], "", api_name="/ingest")["data"]
    ((shown, status, title, *_),) = rows
    assert (status, title) == ("added", "Harbour strike ends")
    assert shown.endswith("(touch pwned) ..;.TXT")  # the user's name, as Gradio received it (markup stripped)
    saved = sorted((server.index_dir / "uploads").iterdir())
    assert saved and all(p.stem.isalnum() and p.suffix in (".txt", ".md") for p in saved)
    assert not (server.root / "pwned").exists() and not Path("pwned").exists()


def test_upload_over_the_limit_is_refused(server: Server) -> None:
    big = b"x" * (UPLOAD_LIMIT_MB * 1_000_000 + 1000)
    response = httpx.post(server.url + "/gradio_api/upload", files={"files": ("big.txt", big, "text/plain")})
    assert response.status_code == 413, response.text


def test_upload_names_cannot_climb_out_of_the_upload_folder(server: Server) -> None:
    target = f"evil-{uuid.uuid4().hex}.txt"
    name = "../" * 12 + "tmp/" + target
    response = httpx.post(server.url + "/gradio_api/upload", files={"files": (name, b"text", "text/plain")})
    assert response.status_code == 200, response.text
    (stored,) = response.json()
    assert Path(stored).resolve().is_relative_to((server.root / "gradio").resolve())
    assert not Path("/tmp", target).exists()


def test_save_upload_uses_a_generated_name_and_checks_type_and_size(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    for name in ("../../etc/passwd.txt", "a b;c.MD", "..txt"):
        src = tmp_path / "in" / Path(name).name
        src.parent.mkdir(exist_ok=True)
        src.write_text(f"Title\nBody of {name}.\n")
        saved, problem = save_upload(src, uploads, 1000)
        assert problem == "" and saved is not None and saved.parent == uploads
        assert saved.stem.isalnum() and saved.suffix == src.suffix.lower()
    script = tmp_path / "run.sh"
    script.write_text("echo hi")
    saved, problem = save_upload(script, uploads, 1000)
    assert saved is None and "unsupported file type .sh" in problem
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2000)
    saved, problem = save_upload(big, uploads, 1000)
    assert saved is None and "too large" in problem
    assert sorted(p.suffix for p in uploads.iterdir()) == [".md", ".txt", ".txt"]


# ----- the OpenAI-compatible API (the official openai client)
def _openai(server: Server, key: str = "unused") -> Any:
    import openai

    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=120)


def test_openai_models(server: Server) -> None:
    assert [m.id for m in _openai(server).models.list()] == ["newsrag"]


def test_openai_chat_completion(server: Server) -> None:
    reply = _openai(server).chat.completions.create(model="newsrag", messages=[{"role": "user", "content": PUTIN}])
    choice = reply.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    for fact in FACTS:
        assert fact in choice.message.content
    assert "[1]" in choice.message.content
    citations = choice.model_extra["citations"]
    assert citations[0]["number"] == 1 and "conditions for peace" in citations[0]["quote"]


def test_openai_chat_completion_streams(server: Server) -> None:
    stream = _openai(server).chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": PUTIN}], stream=True
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Nato" in text and "[1]" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].choices[0].model_extra["citations"][0]["number"] == 1


def test_stream_ends_with_done(server: Server) -> None:
    body = {"model": "newsrag", "stream": True, "messages": [{"role": "user", "content": PUTIN}]}
    with httpx.stream("POST", server.url + "/v1/chat/completions", json=body, timeout=120) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert events[-1] == "data: [DONE]" and all(e.startswith("data: ") for e in events)


def test_openai_follow_up_uses_the_earlier_turns(server: Server) -> None:
    client = _openai(server)
    first = client.chat.completions.create(model="newsrag", messages=[{"role": "user", "content": PUTIN}])
    messages = [
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": PUTIN},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "And what did Zelensky say about them?"},
    ]
    follow = client.chat.completions.create(model="newsrag", messages=messages)
    assert "Zelensky" in follow.choices[0].message.content
    assert follow.choices[0].model_extra["citations"]
    logged = subprocess.run(
        [BIN / "newsrag", "log", "--json", "--limit", "2", "--index-dir", str(server.index_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    latest, before = json.loads(logged.stdout)
    assert latest["question"] == "And what did Zelensky say about them?" and latest["channel"] == "openai"
    assert latest["conversation_id"] == before["conversation_id"]  # the follow-up continued the conversation


def test_openai_unanswerable_is_refused(server: Server) -> None:
    reply = _openai(server).chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": "Who won the football World Cup final?"}]
    )
    choice = reply.choices[0]
    assert choice.model_extra["refused"] is True and choice.model_extra["citations"] == []
    assert "don't say" in choice.message.content


def test_openai_errors_have_openai_shape(server: Server) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as caught:
        _openai(server).chat.completions.create(model="newsrag", messages=[{"role": "user", "content": "  "}])
    assert caught.value.status_code == 400
    assert "empty" in caught.value.body["message"] and caught.value.body["type"] == "invalid_request_error"
    response = httpx.post(server.url + "/v1/chat/completions", json={"messages": "nope"})
    assert response.status_code == 400 and "error" in response.json()
    response = httpx.post(
        server.url + "/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "x"}]}
    )
    assert response.status_code == 400 and "user message" in response.json()["error"]["message"]


def test_unknown_engine_is_a_clear_error_at_v1_and_the_gradio_api(server: Server) -> None:
    from gradio_client import Client

    body = {"messages": [{"role": "user", "content": PUTIN}], "engine": "fancy"}
    response = httpx.post(server.url + "/v1/chat/completions", json=body)
    error = response.json()["error"]
    assert response.status_code == 400 and error["type"] == "invalid_request_error"
    assert "engine" in error["message"] and "extractive" in error["message"], error
    with pytest.raises(Exception, match="unknown engine 'fancy': choose one of auto, llm, extractive"):
        Client(server.url, verbose=False).predict(PUTIN, "fancy", 0, api_name="/ask")
    assert "Nato" in Client(server.url, verbose=False).predict(PUTIN, "EXTRACTIVE", 0, api_name="/ask")["text"]


def test_as_of_at_v1_and_the_gradio_api(server: Server) -> None:
    """The bundled sample is undated, so it answers as of any day; the day and the reading of "last week" come back,
    and a day that is no date is a 400 naming the field."""
    from gradio_client import Client

    question = "What were Putin's peace conditions last week?"
    body = {"messages": [{"role": "user", "content": question}], "as_of": "2025-08-08"}
    choice = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=120).json()["choices"][0]
    assert choice["as_of"] == "2025-08-08" and "2025-08-0" in choice["read_as"] and not choice["refused"]
    response = httpx.post(server.url + "/v1/chat/completions", json=body | {"as_of": "soon"}, timeout=120)
    assert response.status_code == 400 and "as_of: not a date" in response.json()["error"]["message"]
    result = Client(server.url, verbose=False).predict(PUTIN, "extractive", 0, "2025-08-08", api_name="/ask")
    assert result["as_of"] == "2025-08-08" and "Nato" in result["text"]


# ----- one login for the page, the Gradio API and /v1
def test_v1_requires_the_password_when_auth_is_set(auth_server: Server) -> None:
    import openai

    with pytest.raises(openai.AuthenticationError) as caught:
        _openai(auth_server, key="wrong").models.list()
    assert caught.value.status_code == 401 and caught.value.body["code"] == "invalid_api_key"
    assert httpx.get(auth_server.url + "/v1/models").status_code == 401
    assert [m.id for m in _openai(auth_server, key=PASSWORD).models.list()] == ["newsrag"]
    basic = httpx.get(auth_server.url + "/v1/models", auth=(USER, PASSWORD))
    assert basic.status_code == 200
    assert httpx.get(auth_server.url + "/v1/models", auth=(USER, "wrong")).status_code == 401
    reply = _openai(auth_server, key=PASSWORD).chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": PUTIN}]
    )
    assert "Nato" in reply.choices[0].message.content  # the extractive answer, since the LLM is down
    assert "showing the extractive answer" in reply.choices[0].model_extra["notices"][0]


def test_gradio_api_requires_login_when_auth_is_set(auth_server: Server) -> None:
    from gradio_client import Client

    assert httpx.get(auth_server.url + "/gradio_api/info").status_code == 401
    assert httpx.post(auth_server.url + "/gradio_api/upload", files={"files": ("a.txt", b"x")}).status_code == 401
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises different errors across versions
        Client(auth_server.url, verbose=False).predict(PUTIN, api_name="/ask")
    result = Client(auth_server.url, auth=(USER, PASSWORD), verbose=False).predict(PUTIN, api_name="/ask")
    assert "Nato" in result["text"]
    logged = subprocess.run(
        [BIN / "newsrag", "log", "--json", "--limit", "1", "--index-dir", str(auth_server.index_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"user": "alice"' in logged.stdout


# ----- feedback on answers (👍/👎 and a note), through /v1 and the Gradio API, kept in the question log
def _rated(server: Server) -> dict[int, Any]:
    from rag.service.history import HistoryLog

    return {t.id: t for t in HistoryLog(server.index_dir / "history.sqlite").rated()}


def test_v1_feedback_rates_an_answer_of_the_caller(server: Server) -> None:
    reply = _openai(server).chat.completions.create(model="newsrag", messages=[{"role": "user", "content": PUTIN}])
    turn_id, token = reply.choices[0].model_extra["turn_id"], reply.choices[0].model_extra["feedback_token"]
    assert isinstance(turn_id, int) and isinstance(token, str)
    mine = {"turn_id": turn_id, "feedback_token": token}
    rated = httpx.post(server.url + "/v1/feedback", json=mine | {"rating": "up"}, timeout=30)
    assert rated.status_code == 200 and rated.json() == {"object": "feedback", "turn_id": turn_id, "rating": "up"}
    assert _rated(server)[turn_id].rating == "up"
    again = mine | {"rating": "👎", "note": "should have said Cuba"}
    assert httpx.post(server.url + "/v1/feedback", json=again, timeout=30).status_code == 200
    assert (_rated(server)[turn_id].rating, _rated(server)[turn_id].note) == ("down", "should have said Cuba")

    bad = httpx.post(server.url + "/v1/feedback", json=mine | {"rating": "meh"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_rating"
    unknown = httpx.post(server.url + "/v1/feedback", json={"turn_id": 10**9, "rating": "up"}, timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_turn"
    assert httpx.post(server.url + "/v1/feedback", json={"rating": "up"}, timeout=30).status_code == 400


def test_v1_streamed_answers_carry_their_turn_id(server: Server) -> None:
    stream = _openai(server).chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": PUTIN}], stream=True
    )
    extra = list(stream)[-1].choices[0].model_extra
    turn_id, token = extra["turn_id"], extra["feedback_token"]
    body = {"turn_id": turn_id, "feedback_token": token, "rating": "down"}
    rated = httpx.post(server.url + "/v1/feedback", json=body, timeout=30)
    assert rated.status_code == 200 and _rated(server)[turn_id].rating == "down"


def test_gradio_api_feedback_and_scopes_between_channels(server: Server) -> None:
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    answer = client.predict(PUTIN, api_name="/ask")
    token = answer["feedback_token"]
    assert client.predict(answer["turn_id"], "down", "should have said Cuba", token, api_name="/feedback") == {
        "turn_id": answer["turn_id"],
        "rating": "down",
    }
    assert _rated(server)[answer["turn_id"]].note == "should have said Cuba"
    # An answer given through /v1 is not the Gradio API caller's to rate, nor the other way round.
    v1_extra = (
        _openai(server)
        .chat.completions.create(model="newsrag", messages=[{"role": "user", "content": PUTIN}])
        .choices[0]
        .model_extra
    )
    with pytest.raises(Exception, match="no answer with that turn_id"):
        client.predict(v1_extra["turn_id"], "up", "", v1_extra["feedback_token"], api_name="/feedback")
    across = {"turn_id": answer["turn_id"], "feedback_token": token, "rating": "up"}
    across = httpx.post(server.url + "/v1/feedback", json=across, timeout=30)
    assert across.status_code == 404 and _rated(server)[answer["turn_id"]].rating == "down"


def test_v1_feedback_needs_the_login_and_rates_only_that_users_answers(auth_server: Server) -> None:
    reply = _openai(auth_server, key=PASSWORD).chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": PUTIN}]
    )
    turn_id = reply.choices[0].model_extra["turn_id"]
    body = {"turn_id": turn_id, "rating": "up"}
    assert httpx.post(auth_server.url + "/v1/feedback", json=body, timeout=30).status_code == 401
    wrong = httpx.post(auth_server.url + "/v1/feedback", json=body, headers={"Authorization": "Bearer x"}, timeout=30)
    assert wrong.status_code == 401
    ok = httpx.post(auth_server.url + "/v1/feedback", json=body, auth=(USER, PASSWORD), timeout=30)
    assert ok.status_code == 200 and _rated(auth_server)[turn_id].user == USER


# ----- the README's examples for the app, run as written against the running server
def _readme_app_snippets() -> list[Any]:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)
    found = [b for b in blocks if "http://127.0.0.1:7860" in b]
    return found or [pytest.param("", marks=pytest.mark.skip(reason="the README shows no app snippet yet"))]


@pytest.mark.parametrize("snippet", _readme_app_snippets())
def test_readme_app_snippets_run_as_written(server: Server, snippet: str) -> None:
    code = snippet.replace("http://127.0.0.1:7860", server.url)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Nato" in result.stdout


# ----- the process itself
def test_server_binds_loopback_only(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) == 0
    try:
        outside = socket.gethostbyname(socket.gethostname())
    except OSError:
        pytest.skip("this machine has no address but loopback")
    if outside.startswith("127."):
        pytest.skip("this machine has no address but loopback")
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex((outside, port)) != 0


def test_python_app_py_is_the_same_command() -> None:
    result = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "--host" in result.stdout and "--port" in result.stdout
