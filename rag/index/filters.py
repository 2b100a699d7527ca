"""Metadata filters shared by every interface: source, date range, as-of date, article id.

Two kinds of date range: one the caller gives (``since``/``until``), which leaves undated articles out, and one read
from the question's words (``read_since``/``read_until``, set by the answerer), which keeps them: "last week" is a
reading that may be wrong, and an undated article may well be from last week. ``as_of`` caps either: an article
published after it is never used, an undated one is.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters
from pydantic import BaseModel, ValidationError, field_validator

from rag.core.dates import date_to_timestamp, normalise_date
from rag.core.errors import NewsRAGError

MAX_FILTER_VALUES = 200  # sources or article ids per filter (a week of a busy archive); more is a query of its own
MAX_FILTER_CHARS = 200  # a source name or article id; longer ones cannot be real


class FilterError(NewsRAGError, ValueError):
    """A filter value newsrag cannot use (not a date, too many or too long values); the message names the field."""


def _shown(value: object) -> str:
    """The value for an error message, cut short: errors explain, they do not echo megabytes back."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Filters(BaseModel):
    """Restrict retrieval to some sources, a publication date range, an as-of date, or some articles.

    Articles without a known date are left out when ``since`` or ``until`` is set, kept with ``as_of`` alone.
    """

    sources: list[str] | None = None
    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, inclusive (the whole day)
    as_of: str | None = None  # ISO date: ask as on that day; nothing published later is used
    article_ids: list[str] | None = None
    # The window the question's words name ("last week"), resolved against as_of by the answerer: undated kept.
    read_since: str | None = None
    read_until: str | None = None

    @classmethod
    def parse(cls, **given: Any) -> Filters:
        """The filters a caller gave; :class:`FilterError` (one clause for every front-end) for a bad value.

        Constructing :class:`Filters` directly raises pydantic's ``ValidationError`` instead, also a ValueError.
        """
        try:
            return cls(**given)
        except ValidationError as exc:
            reasons = [
                f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()[:5]
            ]
            raise FilterError("; ".join(reasons)) from exc

    @field_validator("since", "until", "as_of", "read_since", "read_until", mode="before")
    @classmethod
    def _iso(cls, value: object) -> str | None:
        if value in (None, ""):
            return None
        if isinstance(value, datetime | date):
            return value.isoformat()[:10]
        iso = normalise_date(value) if len(str(value)) <= MAX_FILTER_CHARS else None
        if not iso:
            raise ValueError(f"not a date: {_shown(value)} (use YYYY-MM-DD)")
        return iso[:10]

    @field_validator("sources", "article_ids", mode="before")
    @classmethod
    def _list(cls, value: object) -> list[str] | None:
        if value in (None, "", []):
            return None
        parts = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        values = [v.strip() for v in parts if v.strip()] if isinstance(value, str) else parts
        # Bounded, so that no caller can turn a filter into a huge query (the store has a cap on its variables).
        if len(values) > MAX_FILTER_VALUES:
            raise ValueError(f"at most {MAX_FILTER_VALUES} values per filter, not {len(values)}")
        if long := next((v for v in values if isinstance(v, str) and len(v) > MAX_FILTER_CHARS), None):
            raise ValueError(f"a filter value is longer than {MAX_FILTER_CHARS} characters: {_shown(long)}")
        return values

    @property
    def empty(self) -> bool:
        return not (self.sources or self.article_ids or self.dated)

    @property
    def dated(self) -> bool:
        """Whether any date bound applies."""
        return bool(self.since or self.until or self.as_of or self.read_since or self.read_until)

    @property
    def explicit_dates(self) -> bool:
        """The caller gave ``since`` or ``until``: they win over what the question's words say."""
        return bool(self.since or self.until)

    def _range(self) -> tuple[int | None, int | None, bool]:
        """(from, to) in epoch seconds, either open, and whether undated articles (``published_ts`` 0) pass."""
        explicit = self.explicit_dates
        low, high = (self.since, self.until) if explicit else (self.read_since, self.read_until)
        since = date_to_timestamp(low) if low else None
        until = date_to_timestamp(high) + 86_399 if high else None
        if self.as_of:
            cap = date_to_timestamp(self.as_of) + 86_399
            until = cap if until is None else min(until, cap)
        return since, until, not explicit

    def to_metadata_filters(self) -> MetadataFilters | None:
        """The same restriction for LlamaIndex vector store retrievers."""
        if self.empty:
            return None
        parts: list[MetadataFilter] = []
        if self.sources:
            parts.append(MetadataFilter(key="source", value=self.sources, operator=FilterOperator.IN))
        if self.article_ids:
            parts.append(MetadataFilter(key="article_id", value=self.article_ids, operator=FilterOperator.IN))
        since, until, undated = self._range()
        dated: list[MetadataFilter] = []
        if since is not None:
            dated.append(MetadataFilter(key="published_ts", value=since, operator=FilterOperator.GTE))
        if until is not None:
            # An undated article (0) is under any bound: it passes "until" alone unless left out below.
            dated.append(MetadataFilter(key="published_ts", value=until, operator=FilterOperator.LTE))
        if dated and not undated:
            dated.append(MetadataFilter(key="published_ts", value=0, operator=FilterOperator.GT))
        if dated and undated and since is not None:
            either = MetadataFilter(key="published_ts", value=0, operator=FilterOperator.EQ)
            parts.append(MetadataFilters(filters=[MetadataFilters(filters=dated), either], condition="or"))  # type: ignore[list-item]
        else:
            parts += dated
        return MetadataFilters(filters=parts)  # type: ignore[arg-type]

    def admits(self, metadata: dict[str, Any]) -> bool:
        """Whether a chunk with this metadata passes (the same test as :meth:`mask`, for one chunk)."""
        if self.empty:
            return True
        if self.sources and str(metadata.get("source", "")) not in self.sources:
            return False
        if self.article_ids and str(metadata.get("article_id", "")) not in self.article_ids:
            return False
        since, until, undated = self._range()
        if since is None and until is None:
            return True
        published = int(metadata.get("published_ts") or 0)
        if published == 0:
            return undated
        return (since is None or published >= since) and (until is None or published <= until)

    def mask(self, sources: np.ndarray, published_ts: np.ndarray, article_ids: np.ndarray) -> np.ndarray | None:
        """A boolean mask over aligned per-chunk arrays (for the lexical index); None = everything."""
        if self.empty:
            return None
        keep = np.ones(len(sources), dtype=bool)
        if self.sources:
            keep &= np.isin(sources, self.sources)
        if self.article_ids:
            keep &= np.isin(article_ids, self.article_ids)
        since, until, undated = self._range()
        dated = np.ones(len(sources), dtype=bool)
        if since is not None:
            dated &= published_ts >= since
        if until is not None:
            dated &= published_ts <= until
        if since is None and until is None:
            return keep
        return keep & ((dated & (published_ts > 0)) | ((published_ts == 0) if undated else False))
