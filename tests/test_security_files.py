"""Reading the server's own files through the app: a FileData naming a path that no visitor uploaded.

The Gradio API of the "Add to the index" button takes files as FileData (``{"path": ..., "meta": ...}``). A
visitor may name any path there; only files Gradio received as uploads (under its upload folder,
GRADIO_TEMP_DIR) may be accepted. Here a visitor names the project's README and mode-600 secrets written
beside the server, through the raw HTTP API and through gradio_client, with and without NEWSRAG_AUTH, and the
server must refuse them without reading, indexing, caching or serving a byte of them.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from evals.app_process import BIN, Server, environment, serving
from tests.conftest import ROOT

USER, PASSWORD = "owner", "files-pass"
SECRET_WORDS = ("marmalade-gryphon-47", "quixotic-walrus")
SECRET_TEXT = (
    "Vault codes\nThe owner's vault passphrase is marmalade-gryphon-47 and the spare word is quixotic-walrus.\n"
)
REFUSED = "not uploaded by a user"  # Gradio's own check, now in force on the mounted app
HARBOUR = "Harbour strike ends\nDock workers in Eastport ended a nine-day strike on Friday after a pay deal.\n"


@pytest.fixture(scope="module", params=["open", "login"])
def files_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server without a login and one behind NEWSRAG_AUTH, each with secrets of the owner beside it."""
    login = {"NEWSRAG_AUTH": f"{USER}:{PASSWORD}"} if request.param == "login" else {}
    with serving(f"files-{request.param}", tmp_path_factory.mktemp(f"files-{request.param}"), **login) as server:
        if login:
            LOGINS[server.url] = (USER, PASSWORD)
        for name in ("owner-notes.txt", "newsrag.key"):
            secret = server.root / name
            secret.write_text(SECRET_TEXT)
            secret.chmod(0o600)
        yield server


LOGINS: dict[str, tuple[str, str]] = {}  # server url -> the login it asks for


def _login(server: Server) -> tuple[str, str] | None:
    return LOGINS.get(server.url)


def _file_data(path: Path) -> dict[str, Any]:
    """What a visitor can send in place of an upload: any path, marked as a file."""
    return {"path": str(path), "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


@contextmanager
def _http(server: Server) -> Iterator[httpx.Client]:
    """An HTTP client of the page, logged in (Gradio's login cookie) when the server asks for one."""
    with httpx.Client(base_url=server.url, timeout=120) as http:
        if login := _login(server):
            response = http.post("/login", data={"username": login[0], "password": login[1]})
            assert response.status_code == 200, response.text
        yield http


def _attack_raw(server: Server, path: Path) -> str:
    """The Gradio HTTP API by hand: call /ingest, read its event stream; returns the error shown, or fails."""
    with _http(server) as http:
        started = http.post("/gradio_api/call/ingest", json={"data": [[_file_data(path)], ""]})
        assert started.status_code == 200, started.text
        stream = http.get(f"/gradio_api/call/ingest/{started.json()['event_id']}").text
    events = [line.removeprefix("event: ") for line in stream.splitlines() if line.startswith("event: ")]
    data = [line.removeprefix("data: ") for line in stream.splitlines() if line.startswith("data: ")]
    assert events[-1] == "error", f"{path.name} was accepted: {stream[:500]}"
    return str(json.loads(data[-1]))


def _attack_client(server: Server, path: Path) -> str:
    """gradio_client sending the path as given, as a client on another machine (where it does not exist) would."""
    from gradio_client import Client
    from gradio_client.client import Endpoint

    client = Client(server.url, auth=_login(server), verbose=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Endpoint, "_upload_file", lambda self, f, data_index: f)  # no upload: the server's path
        try:
            rows = client.predict([_file_data(path)], "", api_name="/ingest")
        except Exception as exc:  # the AppError carrying the server's message
            return str(exc)
    pytest.fail(f"{path.name} was accepted: {rows}")


def _articles(server: Server) -> list[dict[str, Any]]:
    """The indexed articles, as the owner's CLI lists them."""
    done = subprocess.run(
        [BIN / "newsrag", "articles", "--json"],
        env=environment(server.root),
        cwd=server.root,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return json.loads(done.stdout)


def _cached_files(server: Server) -> Iterator[Path]:
    return (p for p in (server.root / "gradio").rglob("*") if p.is_file())


def _ask(server: Server, question: str) -> str:
    """The /v1 answer with every citation's passage, i.e. all the text the server returned."""
    import openai

    key = PASSWORD if _login(server) else "unused"
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=120)
    reply = client.chat.completions.create(model="newsrag", messages=[{"role": "user", "content": question}])
    return reply.model_dump_json()


ATTACKS: dict[str, Callable[[Server, Path], str]] = {"raw-http": _attack_raw, "gradio-client": _attack_client}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_path_nobody_uploaded_is_refused_and_nothing_is_read(files_server: Server, attack: str) -> None:
    before = _articles(files_server)
    paths = [ROOT / "README.md", files_server.root / "owner-notes.txt", files_server.root / "newsrag.key"]
    for path in paths:
        message = ATTACKS[attack](files_server, path)
        assert REFUSED in message, (path.name, message)
    assert _articles(files_server) == before
    answer = _ask(files_server, "What is the owner's vault passphrase and the spare word?")
    assert not any(word in answer for word in SECRET_WORDS), answer
    for cached in _cached_files(files_server):
        assert cached.name not in {p.name for p in paths}, cached
        assert SECRET_WORDS[0] not in cached.read_text(errors="replace"), cached
    with _http(files_server) as http:
        for path in paths:
            response = http.get(f"/gradio_api/file={path}")
            assert response.status_code in (403, 404) and SECRET_WORDS[0] not in response.text, (path, response)
    assert files_server.process.poll() is None


def test_a_real_upload_is_still_indexed(files_server: Server, tmp_path: Path) -> None:
    # The refusal must not cost real uploads: gradio_client uploads the file, then names Gradio's copy.
    from gradio_client import Client, handle_file

    article = tmp_path / "harbour.txt"
    article.write_text(HARBOUR)
    client = Client(files_server.url, auth=_login(files_server), verbose=False)
    ((shown, status, title, *_),) = client.predict([handle_file(str(article))], "", api_name="/ingest")["data"]
    assert (shown, status, title) in {("harbour.txt", s, "Harbour strike ends") for s in ("added", "unchanged")}


def test_the_handler_reads_only_what_the_upload_route_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Defence in depth: even if Gradio's check let a path through, the handler reads only Gradio's uploads.
    from rag import NewsRAG
    from rag.service.services import Services
    from rag.ui.articles_tab import add_handler

    upload_folder = tmp_path / "gradio"
    (upload_folder / "abc").mkdir(parents=True)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(upload_folder))
    secret = tmp_path / "owner-notes.txt"
    secret.write_text(SECRET_TEXT)
    secret.chmod(0o600)
    link = upload_folder / "abc" / "link.txt"
    os.symlink(secret, link)  # a link inside the folder still names a file outside it
    copy = upload_folder / "def" / "copy.txt"  # what Gradio's cache makes of a named file when its check is off
    copy.parent.mkdir()
    copy.write_text(SECRET_TEXT)
    climbing = upload_folder / ".." / "owner-notes.txt"
    uploaded = {str(link), str(climbing)}  # even listed as uploads, they resolve outside the folder
    add = add_handler(Services(newsrag=NewsRAG(index_dir=tmp_path / "index"), auth=None), uploaded)
    rows = add([str(ROOT / "README.md"), str(secret), str(link), str(copy), str(climbing)], "")
    names = ["README.md", secret.name, link.name, copy.name, secret.name]
    assert [row[:2] for row in rows] == [[name, "failed"] for name in names]
    assert all("not an upload of this session" in row[-1] for row in rows), rows
    assert not (tmp_path / "index" / "uploads").exists()
