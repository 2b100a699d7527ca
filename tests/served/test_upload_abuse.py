"""Abuse of the running server: hostile upload names, reading files through Gradio, oversized bodies, no login.

Fills the gaps left by tests/served/test_http_api.py (which covers an upload over the limit, "../" names, and a login on
/v1/models, the Gradio info page and the upload route), against the same `newsrag serve` processes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.server.body_limit import MAX_APP_BODY, MAX_V1_BODY
from tests.served.test_http_api import PASSWORD, PUTIN, USER, Server

pytestmark = pytest.mark.server

BOUNDARY = "newsrag-test-boundary"


def _upload(to: Server, filename: bytes, data: bytes = b"hello", **kwargs: object) -> httpx.Response:
    """A multipart upload written by hand, so that the file name reaches the server exactly as given."""
    body = (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="files"; filename="'
        + filename
        + b'"\r\nContent-Type: text/plain\r\n\r\n'
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    return httpx.post(to.url + "/gradio_api/upload", content=body, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("/etc/passwd", id="absolute"),
        pytest.param("..\\..\\..\\..\\{target}", id="windows-dotdot"),
        pytest.param("C:\\Windows\\{target}", id="windows-drive"),
        pytest.param("....//....//....//tmp/{target}", id="doubled-dots"),
        pytest.param("%2e%2e%2f%2e%2e%2ftmp%2f{target}", id="percent-encoded"),
        pytest.param("a\x00/../../tmp/{target}", id="nul-byte"),
        pytest.param("\u202etxt.{target}", id="right-to-left-override"),
        pytest.param("n" * 300 + "{target}", id="longer-than-the-os-allows"),
    ],
)
def test_upload_names_never_leave_the_upload_folder(server: Server, name: str) -> None:
    target = f"evil-{uuid.uuid4().hex}.txt"
    before = Path("/etc/passwd").read_bytes()
    response = _upload(server, name.format(target=target).encode("utf-8"), b"planted")
    assert response.status_code in (200, 400), response.text  # stored under a safe name, or refused
    if response.status_code == 200:
        (stored,) = response.json()
        assert Path(stored).resolve().is_relative_to((server.root / "gradio").resolve()), stored
        assert Path(stored).read_bytes() == b"planted"
    assert Path("/etc/passwd").read_bytes() == before
    assert not list(Path("/tmp").glob(f"*{target}")) and not list(server.root.glob(f"*{target}"))
    assert server.process.poll() is None


def test_gradio_serves_no_file_but_its_own_uploads(server: Server) -> None:
    # An upload Gradio itself stored may be read back; nothing else the server can reach may be.
    (stored,) = _upload(server, b"mine.txt", b"mine").json()
    assert httpx.get(f"{server.url}/gradio_api/file={stored}").content == b"mine"
    index = server.index_dir
    assert (index / "history.sqlite").exists()
    for path in (
        "/etc/passwd",
        str(index / "history.sqlite"),
        "index/history.sqlite",  # relative to the server's working folder
        str(server.root / "server.log"),
        f"{server.root / 'gradio'}/../index/history.sqlite",
        "../../../../../../etc/passwd",
        str(next((index / "chroma").glob("*.sqlite3"))),
    ):
        response = httpx.get(f"{server.url}/gradio_api/file={path}")
        assert response.status_code in (403, 404), (path, response.status_code)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/gradio_api/call/ask"),
        ("POST", "/gradio_api/queue/join"),
        ("POST", "/gradio_api/run/predict"),
        ("GET", "/gradio_api/queue/data?session_hash=abc"),
        ("GET", "/config"),
        ("GET", "/gradio_api/file=/etc/passwd"),
        ("POST", "/v1/chat/completions"),
    ],
)
def test_every_api_route_needs_the_login(auth_server: Server, method: str, path: str) -> None:
    body = {"data": [PUTIN], "fn_index": 0, "messages": [{"role": "user", "content": PUTIN}]}
    for auth in (None, (USER, "wrong"), ("mallory", PASSWORD)):
        response = httpx.request(method, auth_server.url + path, json=body, auth=auth, timeout=60)
        assert response.status_code == 401, (path, auth, response.status_code, response.text[:200])
    wrong_bearer = {"authorization": "Bearer wrong"}
    response = httpx.request(method, auth_server.url + path, json=body, headers=wrong_bearer, timeout=60)
    assert response.status_code == 401, (path, response.status_code)


def test_upload_without_login_stores_nothing(auth_server: Server) -> None:
    uploads = auth_server.root / "gradio"
    before = sorted(uploads.rglob("*")) if uploads.exists() else []
    assert _upload(auth_server, b"sneaky.txt", b"sneaky").status_code == 401
    assert _upload(auth_server, b"sneaky.txt", b"sneaky", auth=(USER, "wrong")).status_code == 401
    after = sorted(uploads.rglob("*")) if uploads.exists() else []
    assert after == before


def _chunks(total: int, size: int = 65536) -> Iterator[bytes]:
    """A JSON body of ``total`` bytes, streamed without a Content-Length (chunked)."""
    yield b'{"messages": [{"role": "user", "content": "'
    sent = 45
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}]}'


def test_v1_body_over_the_limit_is_refused(server: Server) -> None:
    big = {"model": "newsrag", "messages": [{"role": "user", "content": "x" * (MAX_V1_BODY + 1000)}]}
    declared = httpx.post(server.url + "/v1/chat/completions", json=big, timeout=60)
    chunked = httpx.post(server.url + "/v1/chat/completions", content=_chunks(MAX_V1_BODY * 3), timeout=60)
    for response in (declared, chunked):
        assert response.status_code == 413, response.text[:300]
        assert response.json() == {
            "error": {
                "message": f"request body too large (at most {MAX_V1_BODY:,} bytes)",
                "type": "invalid_request_error",
                "param": None,
                "code": "body_too_large",
            }
        }
    assert server.process.poll() is None


def test_gradio_api_body_over_the_limit_is_refused(server: Server) -> None:
    body = {"data": ["x" * (MAX_APP_BODY + 1000)]}
    response = httpx.post(server.url + "/gradio_api/call/ask", json=body, timeout=60)
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body too large (at most {MAX_APP_BODY:,} bytes)"}
    # Under the cap, the call goes through (and the question's own limit answers it).
    assert httpx.post(server.url + "/gradio_api/call/ask", json={"data": [PUTIN]}, timeout=60).status_code == 200
