"""`newsrag serve` as a subprocess on a free loopback port: for the load test, the benchmarks and the tests."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "articles" / "witkoff-putin-meeting.txt"
BIN = Path(sys.executable).parent
READY_TIMEOUT = 240


@dataclass
class Server:
    url: str
    root: Path  # index_dir, gradio's upload folder and the log live below it
    process: subprocess.Popen
    seconds_to_ready: float

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    def log(self) -> str:
        return (self.root / "server.log").read_text(errors="replace")

    def stop(self) -> None:
        """Stop the process and forget it, so that the next ``start_server`` of its name starts a new one."""
        stop_process(self.process)
        _servers.pop(next((k for k, v in _servers.items() if v is self), ""), None)


_servers: dict[str, Server] = {}
_sample_index: Path | None = None  # the bundled sample indexed once, copied into each server's folder
# Settings that change what an index holds: a server given one of them indexes the sample itself.
INDEX_SETTINGS = ("NEWSRAG_CHROMA_", "NEWSRAG_COLLECTION", "NEWSRAG_EMBED", "NEWSRAG_CHUNK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate, then kill if it does not stop within 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def environment(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSRAG_", "GRADIO_", "HF_HUB_"))}
    for name in ("OPENAI_API_KEY", "ANONYMIZED_TELEMETRY"):
        env.pop(name, None)
    # The server must turn analytics and hub calls off by itself: none of those variables are set here.
    env |= {"NEWSRAG_INDEX_DIR": str(root / "index"), "GRADIO_TEMP_DIR": str(root / "gradio"), **extra}
    return env


@contextmanager
def serving(name: str, root: Path, ingest: bool = True, **extra_env: str) -> Iterator[Server]:
    """``start_server`` for the length of a ``with`` block (a test module's fixture): stopped when it ends."""
    server = start_server(name, root, ingest, **extra_env)
    try:
        yield server
    finally:
        server.stop()


def ingest_sample(root: Path, env: dict[str, str]) -> None:
    """The bundled sample, indexed in ``root/index`` by `newsrag ingest`: once per process, copied after that.

    Every server of a test run starts over the same sample; indexing it costs a process that loads the embedder,
    copying the folder it wrote costs nothing. Settings that change what is indexed bypass the copy.
    """
    global _sample_index
    target = root / "index"
    shareable = not any(k.startswith(INDEX_SETTINGS) for k in env)
    if shareable and _sample_index is not None and not target.exists():
        shutil.copytree(_sample_index, target)
        return
    subprocess.run([BIN / "newsrag", "ingest", str(SAMPLE)], env=env, cwd=root, check=True, capture_output=True)
    if shareable and _sample_index is None:
        kept = Path(tempfile.mkdtemp(prefix="newsrag-sample-index-"))
        atexit.register(shutil.rmtree, kept, ignore_errors=True)
        shutil.copytree(target, kept / "index")
        _sample_index = kept / "index"


def start_server(name: str, root: Path, ingest: bool = True, **extra_env: str) -> Server:
    """A `newsrag serve` subprocess on a free port (shared per process by name until stopped), waited for until it
    serves. Stop it with ``Server.stop`` (or start it with ``serving``); at the latest it stops when Python exits."""
    if name in _servers:
        return _servers[name]
    root.mkdir(parents=True, exist_ok=True)
    env = environment(root, **extra_env)
    if ingest:
        ingest_sample(root, env)
    port = free_port()
    started = time.perf_counter()
    with open(root / "server.log", "wb") as out:
        process = subprocess.Popen(
            [BIN / "newsrag", "serve", "--port", str(port)], env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT
        )
    atexit.register(stop_process, process)
    url = f"http://127.0.0.1:{port}"
    server = Server(url=url, root=root, process=process, seconds_to_ready=0.0)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"newsrag serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    else:
        stop_process(process)
        raise RuntimeError(f"newsrag serve did not answer within {READY_TIMEOUT} s:\n{server.log()}")
    server.seconds_to_ready = time.perf_counter() - started
    _servers[name] = server
    return server
