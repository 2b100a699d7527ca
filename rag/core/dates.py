"""Dates as news needs them: ISO 8601 text for people, epoch seconds for range filters."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from dateutil import parser as dateparser

MAX_DATE_CHARS = 100


def normalise_date(value: Any) -> str:
    """An ISO 8601 date (or date-time, in UTC) from the forms feeds and records use; "" if unknown."""
    if value in (None, "") or isinstance(value, bool):
        return ""
    try:
        if isinstance(value, time.struct_time):
            parsed: datetime | date = datetime(*value[:6], tzinfo=UTC)
        elif isinstance(value, int | float):
            seconds = value / 1000 if value > 1e11 else value  # milliseconds are common in JSON
            parsed = datetime.fromtimestamp(seconds, tz=UTC)
        elif isinstance(value, datetime | date):
            parsed = value
        else:
            text = str(value).strip()
            if len(text) > MAX_DATE_CHARS:  # not a date, and slow to find that out
                return ""
            parsed = dateparser.parse(text)
        if isinstance(parsed, datetime) and parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC)  # overflows for year 1 or 9999 with an offset
    # OSError: a timestamp beyond what the platform's time functions take (1e20 in a JSON record).
    except (ValueError, OverflowError, TypeError, OSError):
        return ""
    if isinstance(parsed, datetime):
        if (parsed.hour, parsed.minute, parsed.second) == (0, 0, 0):
            return parsed.date().isoformat()
        return parsed.replace(microsecond=0).isoformat()
    return parsed.isoformat()


def date_to_timestamp(iso: str) -> int:
    """Seconds since the epoch for an ISO date from :func:`normalise_date` (0 when unknown)."""
    if not iso:
        return 0
    parsed = datetime.fromisoformat(iso)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())
