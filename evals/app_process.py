"""`newsrag serve` as a subprocess on a free loopback port: for the load test, the benchmarks and the tests."""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
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


_servers: dict[str, Server] = {}


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


def start_server(name: str, root: Path, ingest: bool = True, **extra_env: str) -> Server:
    """A `newsrag serve` subprocess on a free port (shared per process by name), waited for until it serves."""
    if name in _servers:
        return _servers[name]
    root.mkdir(parents=True, exist_ok=True)
    env = environment(root, **extra_env)
    if ingest:
        subprocess.run([BIN / "newsrag", "ingest", str(SAMPLE)], env=env, cwd=root, check=True, capture_output=True)
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
