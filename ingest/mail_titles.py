"""Titles for the messages of one mailbox or digest, told apart where their subjects repeat.

A thread's messages share a subject ("Re: [list] topic" five times), so the report's lines and the citations
would read alike. Where a subject (without "Re:" and the list's tag) is shared, each message's title is its
subject and its date in UTC (as the article's date is kept), "Re: topic (3 Mar 2020)", with the time too if two
fall on one day (and the seconds if on one minute); an undated one gets its sender's name. A lone subject stays
as it is.

The list's tag ("[Fedora-packaging]") is taken out of the titles: it stands on every message of the list (the
list is the file the messages come from), and in a report line or a citation it takes the room of the words that
tell messages apart. A tag is the list's when the message's List-Id names it, or when it starts at least half of
the subjects (two or more) of the mailbox or digest; "[PATCH]" on one message of a list stays.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

_TAG = re.compile(r"^\[([^\[\]\s]{1,60})\]\s*")
_REPLY = re.compile(r"^(?:(?:re|fwd?|aw|sv|vs|antw|réf|tr)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Heading:
    """What a message's title is made from: its Subject, its date, its sender's name and its list's id."""

    subject: str
    date: datetime | None = None
    sender: str = ""
    list_id: str = ""


def titles(headings: list[Heading]) -> list[str]:
    """Each message's title: its subject without the list's tag, and where subjects repeat, its date."""
    list_tags = _list_tags(headings)
    subjects = [_without_tag(h, list_tags) for h in headings]
    topics = Counter(_topic(s) for s in subjects)
    when = [_utc(h.date) for h in headings]
    days = Counter((_topic(s), _day(d)) for s, d in zip(subjects, when, strict=True))
    minutes = Counter((_topic(s), _minute(d)) for s, d in zip(subjects, when, strict=True))
    named: list[str] = []
    for subject, heading, date in zip(subjects, headings, when, strict=True):
        topic = _topic(subject)
        if not subject or topics[topic] < 2:  # an empty subject: the title is found in the text
            named.append(subject)
        elif date is None:
            named.append(f"{subject} ({heading.sender})" if heading.sender else subject)
        elif minutes[(topic, _minute(date))] > 1:
            named.append(f"{subject} ({_minute(date)}:{date:%S})")
        elif days[(topic, _day(date))] > 1:
            named.append(f"{subject} ({_minute(date)})")
        else:
            named.append(f"{subject} ({_day(date)})")
    return named


def _list_tags(headings: list[Heading]) -> set[str]:
    """The tags that are a list's: named by a List-Id, or starting half the subjects (two or more)."""
    leading = Counter(tag.lower() for h in headings if (tag := _leading_tag(h.subject)))
    common = {tag for tag, n in leading.items() if n >= 2 and n * 2 >= len(headings)}
    named = {tag for h in headings if (tag := _leading_tag(h.subject)) and _names_list(tag, h.list_id)}
    return common | {tag.lower() for tag in named}


def _names_list(tag: str, list_id: str) -> bool:
    """Whether List-Id ("Fedora packaging <packaging.lists.fedoraproject.org>") names the list ``tag`` tags."""
    words = re.findall(r"[\w-]+", list_id.lower())
    tag = tag.lower()
    return tag in words or any(w.startswith(tag) or tag.endswith(w) for w in words if len(w) > 2)


def _leading_tag(subject: str) -> str:
    match = _TAG.match(_REPLY.sub("", subject.strip()))
    return match.group(1) if match else ""


def _without_tag(heading: Heading, list_tags: set[str]) -> str:
    subject = " ".join(heading.subject.split())
    reply = _REPLY.match(subject)
    prefix, rest = (reply.group(0), subject[reply.end() :]) if reply else ("", subject)
    tag = _TAG.match(rest)
    if tag and tag.group(1).lower() in list_tags and rest[tag.end() :].strip():
        rest = rest[tag.end() :]
        inner = _REPLY.match(rest)
        if inner:  # "[list] Re: topic"
            prefix, rest = prefix or inner.group(0), rest[inner.end() :]
    return (prefix + rest).strip()


def _topic(subject: str) -> str:
    """What a thread's subjects share: the subject without "Re:", in lower case."""
    return " ".join(_REPLY.sub("", subject).lower().split())


def _utc(date: datetime | None) -> datetime | None:
    """The date in UTC, as the article's date is kept (a message's Date is in its sender's time zone)."""
    return date.astimezone(UTC) if date is not None and date.tzinfo is not None else date


def _day(date: datetime | None) -> str:
    return f"{date.day} {date:%b %Y}" if date is not None else ""


def _minute(date: datetime | None) -> str:
    return f"{_day(date)} {date:%H:%M}" if date is not None else ""
