"""The follower: a loop that polls the followed feeds when they are due (``newsrag follow``, or a thread of
``newsrag serve``).

It re-reads the feed list on every turn, so feeds added or removed by another process (``newsrag feeds add``)
are picked up within ``CHECK_SECONDS``. A failure of one turn (the index unavailable, a bug) is logged, and the
loop goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ingest.follow import FeedReport
from rag.service.newsrag import NewsRAG

log = logging.getLogger(__name__)
# The longest sleep between two looks at the feed list.
CHECK_SECONDS = 5.0


class Follower:
    """Polls ``newsrag``'s followed feeds until stopped."""

    def __init__(self, newsrag: NewsRAG, on_report: Callable[[FeedReport], None] | None = None) -> None:
        self.newsrag = newsrag
        self.on_report = on_report or log_report
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Poll until :meth:`stop` (in this thread)."""
        while not self._stop.is_set():
            try:
                for report in self.newsrag.poll_feeds():
                    self.on_report(report)
            except Exception:
                log.exception("following feeds failed; trying again in %gs", CHECK_SECONDS)
            self._stop.wait(self._sleep())

    def _sleep(self) -> float:
        try:
            upcoming = min((f.next_poll_at for f in self.newsrag.feeds()), default=time.time() + CHECK_SECONDS)
        except Exception:
            return CHECK_SECONDS
        return min(max(upcoming - time.time(), 0.05), CHECK_SECONDS)

    def start(self) -> Follower:
        """Run in a daemon thread (the app's)."""
        self._thread = threading.Thread(target=self.run, name="newsrag-follower", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def log_report(report: FeedReport) -> None:
    """One log line for a feed's poll: its status, what was written, and its note."""
    written = ""
    if report.ingest is not None:
        counts: dict[str, int] = {}
        for outcome in report.ingest.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        written = " " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    log.info("feed %s: %s%s%s", report.url, report.status, written, f" ({report.note})" if report.note else "")
