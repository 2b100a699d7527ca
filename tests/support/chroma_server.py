"""A real Chroma server (`chroma run`) on a free loopback port, for the server-mode tests."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from evals.app_process import free_port, stop_process
from rag.service.newsrag import NewsRAG

CHROMA = Path(sys.executable).with_name("chroma")
STARTUP_SECONDS = 60


class ChromaServer:
    """One `chroma run` process with its data under ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.log = path.with_suffix(".log")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"chroma run exited with {self.process.returncode}:\n{self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"chroma run not ready after {STARTUP_SECONDS}s:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        stop_process(self.process)

    def newsrag(self, index_dir: Path) -> NewsRAG:
        return NewsRAG(index_dir=index_dir, chroma_host="127.0.0.1", chroma_port=self.port)
