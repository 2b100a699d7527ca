"""The Chroma server dies or hangs while newsrag runs: clear errors, the app stays up, and it answers again when the
server is back.

Real processes only: `chroma run` on 127.0.0.1 (killed with SIGKILL, then started again on the same port and
data folder) and, for the app, a `newsrag serve` subprocess pointed at it.
"""

from __future__ import annotations

import os
import re
import signal
import uuid
from pathlib import Path

import httpx
import pytest

from evals.app_process import start_server
from rag.index.store import StoreError
from rag.service.newsrag import NewsRAG
from tests.conftest import SAMPLE
from tests.served.test_http_api import FACTS, PUTIN
from tests.support import chroma_server
from tests.support.chroma_server import CHROMA, ChromaServer

pytestmark = [
    pytest.mark.server,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMA.exists(), reason=f"{CHROMA} is missing"),
]


def kill(server: ChromaServer) -> None:
    server.process.kill()
    server.process.wait(timeout=30)


def restart(server: ChromaServer, monkeypatch: pytest.MonkeyPatch) -> ChromaServer:
    """`chroma run` again, on the same port and data folder as ``server`` (which must be stopped)."""
    monkeypatch.setattr(chroma_server, "free_port", lambda: server.port)
    return ChromaServer(server.path)


def unreachable(server: ChromaServer) -> str:
    return rf"cannot reach the Chroma server at 127\.0\.0\.1:{server.port}"


def test_an_open_instance_fails_clearly_and_recovers(
    tmp_path: Path, sample_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ChromaServer(tmp_path / "data")
    try:
        newsrag = server.newsrag(tmp_path / "index")
        assert newsrag.ingest(sample_path).ok
        articles, status = newsrag.articles(), newsrag.status()
        hits = newsrag.lexical.search("Putin conditions", 3)
        assert hits and "Nato" in newsrag.ask(PUTIN).text

        kill(server)
        calls = {
            "ask": lambda: newsrag.ask(PUTIN),
            "stream": lambda: next(iter(newsrag.stream(PUTIN))),
            "lexical": lambda: newsrag.lexical.retrieve("Putin conditions", 3),
            "articles": newsrag.articles,
            "status": newsrag.status,
            "ingest": lambda: newsrag.ingest(sample_path),
            "forget": lambda: newsrag.forget(articles[0].article_id),
        }
        for name, call in calls.items():
            with pytest.raises(StoreError, match=unreachable(server)):
                call()
                pytest.fail(f"{name} worked without the Chroma server")

        server = restart(server, monkeypatch)
        assert newsrag.articles() == articles and newsrag.status() == status
        answer = newsrag.ask(PUTIN)
        assert all(fact in answer.text for fact in FACTS) and answer.citations
        newsrag.lexical.ensure_fresh(force=True)
        assert newsrag.lexical.search("Putin conditions", 3) == hits
        assert set(newsrag.lexical.chunk_ids) == {i for i, _, _ in newsrag.store.iter_chunks(include_text=False)}
        again = newsrag.ingest(sample_path)
        assert [o.status for o in again.outcomes] == ["unchanged"]
    finally:
        server.stop()


def test_the_app_stays_up_says_why_and_answers_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openai
    from gradio_client import Client

    chroma = ChromaServer(tmp_path / "chroma")
    app = None
    try:
        assert chroma.newsrag(tmp_path / "ingest").ingest(SAMPLE).ok  # in-process: quicker than `newsrag ingest`
        app = start_server(
            f"chroma-down-{uuid.uuid4().hex}",
            tmp_path / "app",
            ingest=False,
            NEWSRAG_CHROMA_HOST="127.0.0.1",
            NEWSRAG_CHROMA_PORT=str(chroma.port),
        )
        client = openai.OpenAI(base_url=app.url + "/v1", api_key="unused", max_retries=0, timeout=120)
        gradio = Client(app.url, verbose=False)

        def ask_both() -> None:
            reply = client.chat.completions.create(model="newsrag", messages=[{"role": "user", "content": PUTIN}])
            assert all(fact in reply.choices[0].message.content for fact in FACTS)
            assert all(fact in gradio.predict(PUTIN, api_name="/ask")["text"] for fact in FACTS)

        ask_both()
        kill(chroma)

        for stream in (False, True):
            with pytest.raises(openai.InternalServerError) as caught:
                client.chat.completions.create(
                    model="newsrag", messages=[{"role": "user", "content": PUTIN}], stream=stream
                )
            assert caught.value.status_code == 503
            error = caught.value.body
            assert error["type"] == "server_error" and error["code"] == "index_unavailable"
            # A web visitor is told the index is unavailable; where it lives is for the owner, in the server's log.
            assert error["message"] == "the index is unavailable"
        with pytest.raises(Exception, match="The index is unavailable right now") as caught:  # noqa: B017 - AppError
            gradio.predict(PUTIN, api_name="/ask")
        assert "127.0.0.1" not in str(caught.value)
        assert re.search(unreachable(chroma), app.log()), app.log()[-2000:]
        assert app.process.poll() is None
        assert httpx.get(app.url + "/", timeout=30).status_code == 200

        chroma = restart(chroma, monkeypatch)
        ask_both()
        assert "Traceback" not in app.log()
    finally:
        if app is not None:
            app.stop()
        chroma.stop()


def _hung(signum: int, frame: object) -> None:
    raise AssertionError("a call to the paused Chroma server hung past its timeout")


def test_a_paused_server_fails_within_the_timeout_and_recovers(tmp_path: Path, sample_path: Path) -> None:
    """SIGSTOP keeps the port open but answers nothing: without a timeout every call would hang for ever."""
    server = ChromaServer(tmp_path / "data")
    try:

        def newsrag(name: str) -> NewsRAG:
            return NewsRAG(
                index_dir=tmp_path / name, chroma_host="127.0.0.1", chroma_port=server.port, chroma_timeout=2
            )

        first = newsrag("first")
        assert first.ingest(sample_path).ok
        paused = rf"the Chroma server at 127\.0\.0\.1:{server.port} did not answer within 2 s"
        os.kill(server.process.pid, signal.SIGSTOP)
        # Without the timeout these calls would hang: an alarm turns that into a failure instead of a stuck run.
        previous = signal.signal(signal.SIGALRM, _hung)
        signal.alarm(60)
        try:
            with pytest.raises(StoreError, match=paused):
                first.ask(PUTIN)
            with pytest.raises(StoreError, match=paused):
                first.articles()
            with pytest.raises(StoreError, match=paused):
                newsrag("second").articles()  # a fresh client's first requests wait no longer than asking
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
            os.kill(server.process.pid, signal.SIGCONT)
        assert all(fact in first.ask(PUTIN).text for fact in FACTS)
        assert [a.title for a in newsrag("second").articles()] == [a.title for a in first.articles()]
    finally:
        server.stop()
