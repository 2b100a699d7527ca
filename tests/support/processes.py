"""What the test suite keeps alive: `newsrag serve` processes and memory, watched while it runs.

A thread samples this pytest process and its descendants every ``EVERY`` seconds (and once after every test):
how many `newsrag serve` processes are alive, and their RSS together with pytest's. The session's teardown fails
when more than ``MAX_SERVERS`` servers were alive at once (a fixture that forgot to stop its server, or a session
scope that should be a module's); the terminal summary prints the peaks and tests/artifacts/suite-processes.json
keeps them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

MAX_SERVERS = 3
EVERY = 0.5  # seconds between two samples
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "suite-processes.json"
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Peaks:
    servers: int = 0
    servers_during: str = ""  # the test running when the most servers were alive
    rss_bytes: int = 0
    rss_during: str = ""
    samples: int = 0
    running: str = field(default="(collection)", repr=False)


PEAKS = Peaks()


def _processes() -> dict[int, tuple[int, list[str], int]]:
    """pid -> (parent pid, command line, RSS in bytes) of every process this user can read."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            pages = int(Path(entry.path, "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended while being read
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the name in brackets may hold spaces
        found[int(entry.name)] = (parent, [a.decode(errors="replace") for a in cmdline if a], pages * PAGE)
    return found


def _is_server(cmdline: list[str]) -> bool:
    return any(Path(arg).name == "newsrag" for arg in cmdline[:2]) and "serve" in cmdline[1:3]


def sample() -> None:
    """Count this process's descendants once and raise the peaks."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _cmd, _rss) in table.items():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    servers = sum(1 for pid in tree if pid in table and _is_server(table[pid][1]))
    rss = sum(table[pid][2] for pid in tree if pid in table)
    PEAKS.samples += 1
    if servers > PEAKS.servers:
        PEAKS.servers, PEAKS.servers_during = servers, PEAKS.running
    if rss > PEAKS.rss_bytes:
        PEAKS.rss_bytes, PEAKS.rss_during = rss, PEAKS.running


def _watch(stop: threading.Event) -> None:
    while not stop.wait(EVERY):
        sample()


@pytest.fixture(scope="session", autouse=True)
def _servers_alive_at_once() -> Iterator[None]:
    """Fails the session's teardown when more than MAX_SERVERS `newsrag serve` processes were alive at once."""
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(stop,), name="suite-processes", daemon=True)
    watcher.start()
    yield
    stop.set()
    watcher.join()
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(asdict(PEAKS), indent=2))
    assert PEAKS.servers <= MAX_SERVERS, (
        f"{PEAKS.servers} `newsrag serve` processes were alive at once (during {PEAKS.servers_during}); "
        f"at most {MAX_SERVERS}: stop a module's servers when it ends (evals.app_process.serving)"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    PEAKS.running = item.nodeid
    try:
        return (yield)
    finally:
        sample()  # the test's module-scoped servers are all alive now


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if PEAKS.samples:
        terminalreporter.write_line(
            f"suite processes: at most {PEAKS.servers} `newsrag serve` alive at once (limit {MAX_SERVERS}), "
            f"peak RSS {PEAKS.rss_bytes / 2**30:.2f} GiB (pytest and its children, during {PEAKS.rss_during})"
        )
