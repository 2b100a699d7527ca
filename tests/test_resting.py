"""The web server rests while idle (issue #30): Gradio's queue polls at its own pace only while there is work.

The idle cost itself is measured by `make bench` (bench/results-idle.md), not asserted here.
"""

from __future__ import annotations

import gradio as gr
import pytest

from rag.ui import resting
from rag.ui.resting import RestingQueue, rest_when_idle


@pytest.fixture
def queue() -> RestingQueue:
    with gr.Blocks() as blocks:
        gr.Button().click(lambda: None)
    blocks.queue(default_concurrency_limit=4)
    rest_when_idle(blocks._queue)
    assert isinstance(blocks._queue, RestingQueue)
    return blocks._queue


def test_an_idle_queue_rests_and_a_busy_one_keeps_gradios_pace(
    queue: RestingQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_000.0]
    monkeypatch.setattr(resting.time, "monotonic", lambda: now[0])
    assert queue.sleep_when_free == resting.RESTING_DISPATCH
    assert queue.progress_update_sleep_when_free == resting.RESTING_PROGRESS

    queue.active_jobs = [[object()], None]  # an event is running
    assert (queue.sleep_when_free, queue.progress_update_sleep_when_free) == (0.001, 0.01)  # Gradio's own values

    queue.active_jobs = [None, None]  # it ended: Gradio's pace a while longer, for the next question
    now[0] += resting.BUSY_FOR - 1
    assert queue.sleep_when_free == 0.001
    now[0] += 2
    assert queue.sleep_when_free == resting.RESTING_DISPATCH


def test_gradio_setting_its_pace_changes_the_busy_pace_only(queue: RestingQueue) -> None:
    queue.sleep_when_free = 0.05  # what Queue.__init__ does on Windows
    queue.active_jobs = [[object()]]
    assert queue.sleep_when_free == 0.05
