"""When a question is asked and what time it names: the as-of day, the window its words read as, and the prior.

Runs before retrieval, as it changes what is searched: the question's time words ("last week", "in March") are
read against ``as_of`` (default: today) into a date window that keeps undated articles; the caller's own ``since`` or
``until`` win over them (and a notice says so). The answer reports how the words were read, so a wrong reading is
visible. Unless the question names a fixed past period, retrieval then prefers recent passages by the measured
:mod:`recency prior <rag.answering.recency>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from rag.answering.recency import reranker
from rag.answering.time_words import TimeReading, read_time
from rag.core.types import Passage
from rag.index.filters import Filters


@dataclass(frozen=True)
class When:
    """The question's time: the filters to search with, the day asked as of, the reading, and the re-ranker."""

    filters: Filters | None
    as_of: date
    reading: TimeReading | None
    rerank: Callable[[list[Passage]], list[Passage]] | None
    notice: str = ""

    @property
    def read_as(self) -> str:
        return self.reading.describe() if self.reading and not self.notice else ""

    @property
    def window_words(self) -> str:
        """The words read as a window ("last week", "in 2025"): a filter now, not words a sentence must share.
        Words asking for the newest ("this week", "recently") are not: the extractive engine reads them as a
        question about the present."""
        return self.reading.words if self.reading and not self.reading.recent else ""

    def query(self, text: str) -> str:
        """``text`` as searched: without its window words."""
        return without_time_words(text, self.window_words)


def without_time_words(text: str, words: str) -> str:
    """``text`` without the time words read from it: "last week" is a filter, not words a passage must share."""
    if not words:
        return text
    at = text.lower().find(words.lower())
    return text if at < 0 else " ".join(f"{text[:at]} {text[at + len(words) :]}".split())


def today() -> date:
    return datetime.now(UTC).date()


def when(question: str, filters: Filters | None, time_aware: bool = True) -> When:
    """The time of ``question`` asked under ``filters``; with ``time_aware`` off only the caller's dates count."""
    as_of = date.fromisoformat(filters.as_of) if filters and filters.as_of else today()
    if not time_aware:
        return When(filters, as_of, None, None)
    reading = read_time(question, as_of)
    if reading is None:
        return When(filters, as_of, None, reranker(as_of))
    if filters is not None and filters.explicit_dates:
        given = " to ".join(d for d in (filters.since or "…", filters.until or "…"))
        notice = f"The question says “{reading.words}”; the dates given ({given}) were used instead."
        return When(filters, as_of, reading, reranker(as_of) if reading.recent else None, notice)
    window = {
        "read_since": reading.since.isoformat() if reading.since else None,
        "read_until": reading.until.isoformat() if reading.until else None,
    }
    narrowed = (filters or Filters()).model_copy(update=window)
    # A fixed past period ("in March 2025") asks for that period, not for the newest of it.
    fixed_past = reading.until is not None and reading.until < as_of and not reading.recent
    return When(narrowed, as_of, reading, None if fixed_past else reranker(as_of))
