"""A synthetic news archive: many small, distinct articles for the archive tests and the Articles-tab benchmark.

Each article is a text file with front matter (title, source, date, URL), ingested through the real
pipeline. Titles, sources and dates follow from the article's number, so tests can predict what a
search, a sort or a date range finds: article ``i`` is from ``SOURCES[i % len(SOURCES)]`` and published
``i % DAYS`` days after ``FIRST_DAY``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

SOURCES = ("Harbour Gazette", "Valley Courier", "Northport Times", "Eastport Herald", "Riverside Post")
PLACES = ("Eastport", "Northport", "Riverside", "Westfield", "Lakeside", "Hillcrest", "Brookdale", "Fairhaven")
TOPICS = (
    ("council", "approves", "a new library budget"),
    ("ferry", "resumes", "crossings after the storm"),
    ("school", "opens", "a science wing"),
    ("hospital", "extends", "its emergency ward"),
    ("market", "moves", "to the old station square"),
    ("bridge", "closes", "for two weeks of repairs"),
    ("orchestra", "announces", "a free summer season"),
)
FIRST_DAY = dt.date(2025, 1, 1)
DAYS = 365


def article(i: int) -> tuple[str, str]:
    """The ``i``-th article as (file name, text with front matter)."""
    place, (subject, verb, what) = PLACES[i % len(PLACES)], TOPICS[i % len(TOPICS)]
    source = SOURCES[i % len(SOURCES)]
    day = FIRST_DAY + dt.timedelta(days=i % DAYS)
    title = f"{place} {subject} {verb} {what} (report {i:05d})"
    body = (
        f"The {place} {subject} {verb} {what}, officials said on {day:%A, %d %B %Y}. "
        f"Report number {i} in the archive was filed by the {source} newsroom. "
        f"Residents of {place} were told the change takes effect within {i % 9 + 2} weeks, "
        f"and the cost is put at {(i * 37) % 900 + 100} thousand euros."
    )
    front = (
        f"---\ntitle: {title}\nsource: {source}\npublished: {day.isoformat()}\nurl: https://news.example/{i:05d}\n---\n"
    )
    return f"report-{i:05d}.txt", f"{front}{title}\n{body}\n"


def write_archive(folder: Path, n: int, start: int = 0) -> Path:
    """``n`` articles as files in ``folder`` (created), numbered from ``start``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        name, text = article(i)
        (folder / name).write_text(text, encoding="utf-8")
    return folder
