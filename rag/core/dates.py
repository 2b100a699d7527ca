"""Dates as news needs them: ISO 8601 text for people, epoch seconds for range filters, and the date a news
site writes in an article's URL."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from dateutil import parser as dateparser

MAX_DATE_CHARS = 100
EARLIEST_URL_YEAR = 1990  # news sites' URLs start in the 1990s: an older "date" in a path is an id or a number
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
            ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
            ("nov", "november"), ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
# Where news sites write a date in a path. Each is found only between separators, so that the digits of a longer
# number (an article id) never make one. A year and month alone (/2024/05/slug, WordPress's default) is no date:
# published_at is a day, and the 1st of the month would be a guess.
_URL_DATES = (
    # /2024/05/30/ (USA Today, CNN, NPR), /2024/5/30/ (Al Jazeera), /2025/jul/04/ (the Guardian)
    re.compile(r"(?<![^/])(\d{4})/(\d{1,2}|[a-z]{3,9})/(\d{1,2})(?![^/._-])", re.IGNORECASE),
    # /2026-03-05/, and a slug ending in its date: /world/europe/talks-resume-2025-07-03/ (Reuters)
    re.compile(r"(?<![^/._-])(\d{4})-(\d{2})-(\d{2})(?![^/._-])"),
    # /20260305/, /20260305-slug, /story-20260305.html
    re.compile(r"(?<![^/._-])(\d{4})(\d{2})(\d{2})(?![^/._-])"),
)


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


def date_from_url(url: str) -> str:
    """The day a news URL's path says its article is from (ISO, "2024-05-30"), or "" when it says none.

    Only the path is read: a date in the host or in the query (a search, a cache-buster) is no article's. Of the
    dates in a path, the first wins (the one a site's URL scheme puts there, not one in a slug after it). An
    impossible day (2024/02/30), a year before 1990 or after next year, or a year and a month without a day
    (/2024/05/) give "".
    """
    try:
        path = urlsplit(url.strip()).path
    except ValueError:  # an invalid IPv6 host, say
        return ""
    found = sorted((m.start(), m.groups()) for pattern in _URL_DATES for m in pattern.finditer(path))
    for _, (year, month, day) in found:
        if iso := day_of(year, month, day):
            return iso
    return ""


def day_of(year: str, month: str, day: str) -> str:
    """The ISO date of a year, a month (a number or an English name) and a day as a URL writes them, or "" if there
    is no such day in the years news URLs carry."""
    number = int(month) if month.isdigit() else MONTHS.get(month.lower(), 0)
    if not EARLIEST_URL_YEAR <= int(year) <= datetime.now(UTC).year + 1:
        return ""
    try:
        return date(int(year), number, int(day)).isoformat()
    except ValueError:  # month 0 or 13, the 31st of June
        return ""


def iso_now() -> str:
    """The current time in UTC, to the second, as ISO 8601 ("2026-03-05T14:02:11+00:00")."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
