"""Running one piece of reading work in a short-lived worker process, within a budget of CPU time and memory.

A crafted file can make a parser work for an hour (a PDF whose pages all replay one large content stream) or
take gigabytes: such a file must fail alone, with a plain reason, and hold nothing up. So each file is read in a
process of its own, limited by the kernel (``RLIMIT_CPU``, ``RLIMIT_AS``) and watched by the parent, which kills
it when it keeps the parent waiting too long (a reader blocked, not working, uses no CPU time).

The worker is forked from a ``forkserver``, not from the caller: the caller may run threads (uvicorn's, the
embedder's), and forking a process with threads can copy a lock held by one of them. The fork server is started
once, with the loaders imported (:data:`PRELOAD`), so a worker starts in a few milliseconds. One worker per
file, never reused: ``RLIMIT_CPU`` counts a process's whole life, so a reused worker would pay for earlier files.

The worker sends what it makes item by item (``emit``), and the caller gets each as it comes: a file of many
articles streams, and the pipe's small buffer holds the worker back while the caller is busy, so memory stays
within what the caller holds. When the worker fails, the caller has had the items sent before, then OverBudget with
the reason. A loader may say how far it is (:func:`report_progress`: "page 40 of 143"); the worker passes that on
at most every :data:`PROGRESS_SECONDS`, so a loop over pages costs no message per page.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import resource
import signal
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import forkserver, popen_forkserver, spawn
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerProcess
from typing import Any

log = logging.getLogger(__name__)

# Imported once by the fork server, so that no worker imports them again: the reading code, and the parsers the
# loaders import when they first read a file.
PRELOAD = ["ingest.reading", "ingest.warmup", "pypdf", "pypdfium2", "docx", "trafilatura", "warcio"]
WALL_FACTOR = 4  # wall-clock seconds a worker may keep the caller waiting, per CPU second of its budget...
WALL_SLACK = 10.0  # ...plus this: on a busy machine a worker gets a share of a core, not a whole one
PROGRESS_SECONDS = 0.25  # the least time between two progress messages from a worker
_launch_lock = threading.Lock()
_preloaded = False
# In a worker, where report_progress sends to; None elsewhere (a loader called directly reports to no one).
_progress_sink: Callable[[int, int | None, str], None] | None = None


@dataclass(frozen=True)
class Budget:
    """What reading one file may take: CPU seconds, and megabytes of memory beyond what the worker starts with."""

    cpu_seconds: float
    memory_mb: int

    @property
    def wall_seconds(self) -> float:
        return self.cpu_seconds * WALL_FACTOR + WALL_SLACK

    def scaled(self, factor: float) -> Budget:
        """The budget of ``factor`` files' worth of work (a mailbox is many articles)."""
        return Budget(self.cpu_seconds * max(1.0, factor), self.memory_mb)


class OverBudget(Exception):
    """The work did not finish within its budget (or its worker died); the message is the plain reason."""


@dataclass(frozen=True)
class Progress:
    """How far the worker's loader is through its file: ``done`` of ``total`` (None: not known) ``unit``s."""

    done: int
    total: int | None
    unit: str


def report_progress(done: int, total: int | None, unit: str) -> None:
    """Say how far reading the current file is ("page", 40, 143); free outside a worker, and cheap in one."""
    if _progress_sink is not None:
        _progress_sink(done, total, unit)


def run(
    budget: Budget, work: Callable[..., None], *args: Any, progress: Callable[[Progress], None] | None = None
) -> Iterator[Any]:
    """What ``work(emit, *args)`` emits, run in a worker within ``budget``; OverBudget when it does not finish.

    ``work`` and its arguments are pickled to the worker (``work`` must be a module-level function); each emitted
    item is pickled back. The items come as the worker makes them, so the caller holds them, not the pipe; the
    items sent before a failure have come already when OverBudget is raised. ``progress`` hears what the work
    reports (:func:`report_progress`), a few times a second at most.
    """
    receiving, sending = multiprocessing.Pipe(duplex=False)
    try:
        worker = _Worker(target=_worker, args=(sending, budget, work, args), daemon=True)
        worker.start()
    except Exception as exc:  # no fork server (a sandbox), or work that cannot be pickled (a plugin's lambda)
        receiving.close()
        sending.close()
        raise OverBudget(f"no reader process could be started ({type(exc).__name__}: {exc})") from exc
    sending.close()  # the worker holds its own copy: its end closes when it dies, and recv() sees EOF
    try:
        yield from _receive(receiving, worker, budget, progress)
    finally:
        receiving.close()
        if worker.is_alive():
            worker.kill()
        worker.join()


def _receive(
    receiving: Connection, worker: Any, budget: Budget, progress: Callable[[Progress], None] | None
) -> Iterator[Any]:
    # Only the time spent waiting for the worker counts: the caller may take its time with what it was given.
    waited = 0.0
    while True:
        started = time.monotonic()
        ready = receiving.poll(max(0.0, budget.wall_seconds - waited))
        waited += time.monotonic() - started
        if not ready:
            worker.kill()
            raise OverBudget(f"took more than {budget.wall_seconds:g} s to read (killed)")
        try:
            kind, value = receiving.recv()
        except (EOFError, OSError):
            worker.join()
            raise OverBudget(_death(worker.exitcode, budget)) from None
        if kind == "item":
            yield value
        elif kind == "progress":
            if progress is not None:
                progress(value)
        elif kind == "done":
            return
        elif kind == "memory":
            raise OverBudget(_memory(budget))
        else:
            raise OverBudget(str(value))


def _death(code: int | None, budget: Budget) -> str:
    """Why a worker that sent no answer died, from its exit code."""
    if code in (-signal.SIGXCPU, -signal.SIGKILL):  # the soft CPU limit's signal, then the hard limit's
        return f"took more than {budget.cpu_seconds:g} s of CPU to read"
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return f"the reader process died ({name}); it may have needed more than {budget.memory_mb} MB of memory"
    return f"the reader process ended without an answer (exit code {code})"


def _memory(budget: Budget) -> str:
    return f"needed more than {budget.memory_mb} MB of memory to read"


def _without_main(name: str) -> dict[str, Any]:
    data = spawn.get_preparation_data(name)
    data.pop("init_main_from_path", None)
    data.pop("init_main_from_name", None)
    return data


# The spawn module as the launcher sees it while it starts a worker: the same, but for what a worker prepares.
_SPAWN_WITHOUT_MAIN = types.ModuleType("spawn_without_main")
_SPAWN_WITHOUT_MAIN.__dict__.update(vars(spawn))
_SPAWN_WITHOUT_MAIN.get_preparation_data = _without_main  # type: ignore[attr-defined]


class _Popen(popen_forkserver.Popen):  # type: ignore[misc]
    """multiprocessing's fork-server launcher, except that the worker does not run the caller's main module again.

    multiprocessing makes every worker import ``__main__`` (a script is run again as ``__mp_main__``): the
    ``newsrag`` command would import the whole CLI per file, a script without an ``if __name__ == "__main__"``
    guard would ingest again from inside each worker, and a main read from stdin cannot be found at all. The work
    is a function of this package, so the worker needs none of it.
    """

    def _launch(self, process_obj: Any) -> None:
        global _preloaded
        with _launch_lock:  # the launcher's module is swapped for the length of one launch
            if not _preloaded:
                forkserver.set_forkserver_preload(PRELOAD)  # before the fork server first starts
                _preloaded = True
            popen_forkserver.spawn = _SPAWN_WITHOUT_MAIN  # type: ignore[attr-defined]
            try:
                super()._launch(process_obj)
            finally:
                popen_forkserver.spawn = spawn  # type: ignore[attr-defined]


class _Worker(ForkServerProcess):
    """A process started by the fork server, through :class:`_Popen`."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:  # noqa: N802 - multiprocessing's name
        return _Popen(process_obj)


def _worker(sending: Connection, budget: Budget, work: Callable[..., None], args: tuple[Any, ...]) -> None:
    """The worker's whole life: limits first, then the work, each item sent as it comes, then "done"."""
    global _progress_sink
    _limit(budget)
    last = 0.0

    def emit(item: Any) -> None:
        sending.send(("item", item))

    def tell(done: int, total: int | None, unit: str) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_SECONDS or done == total:
            last = now
            sending.send(("progress", Progress(done, total, unit)))

    _progress_sink = tell

    try:
        work(emit, *args)
        sending.send(("done", None))
    except MemoryError:
        _send_last(sending, ("memory", None))
    except Exception as exc:  # the work's own bug: the file fails with its name, the worker ends cleanly
        detail = next(iter(str(exc).splitlines()), "")[:200]
        _send_last(sending, ("error", f"could not be read: {type(exc).__name__}: {detail}".rstrip(": ")))


def _send_last(sending: Connection, message: tuple[str, Any]) -> None:
    try:
        sending.send(message)
    except (MemoryError, OSError):
        os._exit(3)  # nothing more can be said; the parent reports the exit


def _limit(budget: Budget) -> None:
    """The kernel's limits on this process: CPU seconds (SIGXCPU, then SIGKILL a second later) and address space.

    A hard limit already set lower (``ulimit``) stays: a process may lower its limits, never raise them.
    """
    cpu = max(1, math.ceil(budget.cpu_seconds))
    _set(resource.RLIMIT_CPU, cpu, cpu + 1)
    held = _address_space()
    if held is not None:
        extra = budget.memory_mb * 1024 * 1024
        _set(resource.RLIMIT_AS, held + extra, resource.RLIM_INFINITY)
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)


def _set(which: int, soft: int, hard: int) -> None:
    _, ceiling = resource.getrlimit(which)
    if ceiling != resource.RLIM_INFINITY:
        soft, hard = min(soft, ceiling), min(hard, ceiling) if hard != resource.RLIM_INFINITY else ceiling
    resource.setrlimit(which, (soft, hard))


def _address_space() -> int | None:
    """The bytes of address space this process holds already (the interpreter and the libraries preloaded);
    None where the system does not say (then memory is not limited)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return None
