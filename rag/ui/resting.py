"""The web server, made to rest while nobody is asking: Gradio's queue and uvicorn's loop poll less when idle.

py-spy and strace on an idle ``newsrag serve`` found three pollers on the event loop, about 4% of a core together:

- Gradio's queue: its dispatch loop sleeps 1 ms and its progress loop 10 ms between looks at an empty queue
  (``gradio.queueing.Queue.start_processing`` / ``start_progress_updates``), 1,100 wake-ups a second.
  :class:`RestingQueue` keeps Gradio's pace while events are queued or running and for ``BUSY_FOR`` seconds after,
  and looks less often once idle. The price: the first event after a quiet spell starts up to ``RESTING_DISPATCH``
  seconds later (0.1 s left idle at 0.30% of a core, 0.25 s at 0.18%: each look costs ~0.25 ms of Python). An
  event-driven queue (woken by ``push``) would cost neither, but means copying Gradio's dispatch loop.
- uvicorn's main loop wakes 10 times a second to see whether it should stop and once a second refreshes the Date
  header. :class:`RestingServer` wakes once a second, and at once on a stop signal.
- tantivy's index reader re-reads meta.json twice a second (turned off in ``rag.index.lexical``, which reloads by
  hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from types import FrameType

import uvicorn
from gradio.queueing import Queue

BUSY_FOR = 5.0  # seconds of Gradio's own pace after the last queued or running event
RESTING_DISPATCH = 0.25  # seconds between two looks at an empty queue, once idle
RESTING_PROGRESS = 1.0  # seconds between two looks for progress to send, once idle
TICK = 1.0  # seconds between two of uvicorn's housekeeping ticks (it refreshes the Date header every 10 counts)


class RestingQueue(Queue):
    """A ``gradio.queueing.Queue`` whose polling slows down while idle (see the module's doc)."""

    _busy_dispatch = 0.001
    _busy_progress = 0.01
    _busy_at = 0.0

    def _idle(self) -> bool:
        if len(self) or any(job is not None for job in self.active_jobs):
            self._busy_at = time.monotonic()
            return False
        return time.monotonic() - self._busy_at > BUSY_FOR

    # Gradio reads these two attributes before every sleep of its loops (and sets them in Queue.__init__).
    @property
    def sleep_when_free(self) -> float:
        return RESTING_DISPATCH if self._idle() else self._busy_dispatch

    @sleep_when_free.setter
    def sleep_when_free(self, seconds: float) -> None:
        self._busy_dispatch = seconds

    @property
    def progress_update_sleep_when_free(self) -> float:
        return RESTING_PROGRESS if self._idle() else self._busy_progress

    @progress_update_sleep_when_free.setter
    def progress_update_sleep_when_free(self, seconds: float) -> None:
        self._busy_progress = seconds


def rest_when_idle(queue: Queue) -> None:
    """Make Gradio's queue of a Blocks (``blocks._queue``, made by ``Blocks.queue()``) a resting one, in place."""
    queue.__class__ = RestingQueue


class RestingServer(uvicorn.Server):
    """uvicorn's server with a housekeeping tick of ``TICK`` seconds instead of 0.1, woken at once to stop.

    ``on_stop`` runs on the event loop when a stop signal arrives (to end the streams that would hold it up).
    """

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], object] | None = None) -> None:
        super().__init__(config)
        self.on_stop = on_stop

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864_000  # a multiple of 10: every tick refreshes the Date header
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)
            if self.on_stop is not None:
                self._loop.call_soon_threadsafe(self.on_stop)
