"""The time a news question refers to, read against the date the archive is asked "as of".

"Which storm hit Florida last week?" asked on 2026-03-06 asks about articles of the days before; "What is the
latest on the rail strike?" asks for the newest ones. `read_time` finds such words with a table of
(pattern, resolver) rules and resolves them against ``as_of``; it returns None when the question says nothing
about time. English only: month and weekday names, numbers in words and phrases such as "so far" are English,
and a question in another language gets no reading rather than a wrong one.

The choices, each tested in tests/test_time_words.py and the suite evals/suites/time.jsonl:

- Nothing ends after ``as_of``: windows are clipped to it, and a time wholly after it ("next month", "in 2029",
  "later this year", a month named in a sentence about the future) is no reading, as the archive has no news then.
- "this week" and "the past week" are the 7 days ending ``as_of``. "last week" runs from the Monday of the previous
  calendar week to ``as_of``: asked on a Monday it means the week before, but a quiz written on a Friday says
  "last week" of the last 7 days as often, and a window too wide costs less than one that misses the article.
- A month or day without a year is the most recent one not after ``as_of``; "early/mid/late March" is all of
  March. "N days ago" is that day; "N weeks ago" the 7 days around that day (people round); "N months ago" and
  "N years ago" the calendar month and year; "a few" or "several" are 2 to 7. "on Tuesday" and "Sunday night" are
  the most recent such day (as_of itself included), "last Tuesday" the one before as_of.
- "since X" (and "from X") runs from the start of X to ``as_of``, "before X" ends the day before X, "until X" with the
  end of X; "from X to Y" and "between X and Y" are ranges. "over the weekend" is the last Saturday and Sunday,
  but "this weekend" asked on a weekday is the coming one: no reading.
- ``recent`` is set when the question asks for the newest ("the latest", "recently", "so far", "now", "still") and
  for periods of a week or less that end at ``as_of`` ("today", "this week", "the past 24 hours").
- Not time: quoted words and titles ("The Day After Tomorrow", "March Madness", "Mail on Sunday"); a year naming an
  edition ("the 2026 World Cup", "in 2022 World Cup matches") or a count ("in 2000 steps"); "since" after a
  superlative ("its lowest level since 2021" compares with then, it does not ask about then); "may" in lower case
  and a bare "May" (Theresa May); years before 1900 (history, not the news archive's).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

FIRST_YEAR = 1900  # earlier years are history: no news archive window starts there


@dataclass(frozen=True)
class TimeReading:
    """How a question's time words were read: a window of days (either end may be open), newest first or not."""

    since: date | None  # inclusive
    until: date | None  # inclusive (the whole day)
    recent: bool  # the question asks for the newest
    words: str  # the words of the question that were read, as written ("last week")

    def describe(self) -> str:
        """How the question was read, for the answer: "articles from 2026-03-01 to 2026-03-31"."""
        if self.since and self.until:
            text = f"articles of {self.since}" if self.since == self.until else f"articles from {self.since}"
            text += "" if self.since == self.until else f" to {self.until}"
        elif self.until:
            text = f"articles up to {self.until}"
        else:
            text = f"articles from {self.since} on" if self.since else "articles of any date"
        return f"{text}, newest first" if self.recent else text


@dataclass(frozen=True)
class _Span:
    """What one phrase says: its window and whether it asks for the newest."""

    since: date | None
    until: date | None
    recent: bool = False


# A resolver turns one match into a span, or None when the words are recognised but say no time ("next year").
Resolver = Callable[[re.Match[str], date], _Span | None]

_MONTHS = tuple(calendar.month_name)[1:]
_WEEKDAYS = tuple(calendar.day_name)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "a couple of": 2, "couple of": 2, "two": 2, "three": 3, "four": 4}
_NUMBERS |= {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_VAGUE = ("a few", "few", "several")  # read as 2 to 7 units

# The pieces the rules are written with. Month and weekday names count only capitalised ("may be" is a verb).
MONTH = r"(?P<month>(?-i:" + "|".join(_MONTHS) + "))"
WEEKDAY = r"(?P<weekday>(?-i:" + "|".join(_WEEKDAYS) + "))"
PART_OF_DAY = r"(?-i:night|morning|afternoon|evening)"  # lower case: "Sunday Night Football" is a show
DAY = r"(?P<day>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?!\d)"
_COUNTED = "people|cases|steps|homes|houses|jobs|votes|points|runs|miles|km|metres|meters|feet|yards|words|times|"
_COUNTED += "units|students|workers|troops|deaths|copies|pounds|dollars|euros|tons|tonnes|calories|views|fans|acres"
# A year, unless it counts something ("in 2000 steps") or names an edition ("in 2022 World Cup matches").
YEAR = rf"(?P<year>\d{{4}})(?![\d%]|[.,]\d|\s+(?:{_COUNTED})\b|\s+(?-i:[A-Z]))"
COUNT = r"(?P<count>\d{1,3}|" + "|".join(sorted([*_NUMBERS, *_VAGUE], key=len, reverse=True)) + ")"
UNIT = r"(?P<unit>hour|day|week|month|year)"
# "since X", "before X", "until X", and ranges "from X to Y", "between X and Y"; "since the election in November"
# reaches over a few words to an "in" (only "since": "escaped from a jail in May" is not a range).
_BOUND = r"(?P<prefix>(?P<bound>since|from|between|before|prior\s+to|until|till|through|up\s+to|to|and)\s+"
_BOUND += r"(?:(?<=since\s)(?:[\w'’-]+\s+){1,4}?(?=in\s))?)"  # only "since" reaches: "from a jail in May"
BOUND = f"(?:{_BOUND})?"
_FUTURE = re.compile(
    r"\b(?:will|won't|shall|going to|set to|scheduled|expected to|due to be|upcoming|could be|would be)\b", re.I
)
_RANGE_START = re.compile(r"\b(?:from|between)\b", re.I)
_TIME_END = re.compile(r"(?:\d|\b(?-i:" + "|".join(_MONTHS) + r"))\s*$")  # what "to"/"and" close a range after
_SUPERLATIVE = re.compile(
    r"\b(?:first|record|oldest|youngest|highest|lowest|biggest|largest|smallest|best|worst|longest|shortest|"
    r"strongest|weakest|deadliest|hottest|coldest|warmest|wettest|driest|fastest|slowest|busiest|greatest)\b",
    re.I,
)


def _month(year: int, month: int) -> _Span:
    return _Span(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def _year(year: int) -> _Span:
    return _Span(date(year, 1, 1), date(year, 12, 31))


def _months_back(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _sentence(m: re.Match[str]) -> tuple[str, str]:
    """The match's sentence, before and after it: "since" and "will" only count in the same sentence."""
    before = re.split(r"[.?!;]\s", m.string[: m.start()])[-1]
    return before, re.split(r"[.?!;](?:\s|$)", m.string[m.end() :])[0]


def _future(m: re.Match[str]) -> bool:
    """A sentence about the future: a month or day named without a year there is the next one, after as_of."""
    return any(_FUTURE.search(part) for part in _sentence(m))


def _count(word: str) -> tuple[int, int]:
    """The fewest and most a count word means: "three" is (3, 3), "a few" (2, 7)."""
    word = " ".join(word.lower().split())
    if word in _VAGUE:
        return 2, 7
    n = int(word) if word.isdigit() else _NUMBERS[word]
    return n, n


def _recent(m: re.Match[str], as_of: date) -> _Span:
    return _Span(None, as_of, recent=True)


def _today(m: re.Match[str], as_of: date) -> _Span:
    return _Span(as_of, as_of, recent=True)


def _yesterday(m: re.Match[str], as_of: date) -> _Span:
    day = as_of - timedelta(2 if m["before"] else 1)
    return _Span(day, as_of if m["night"] else day)  # last night's news is reported today


def _units_back(unit: str, n: int, as_of: date) -> _Span:
    if unit == "hour":
        return _Span(as_of - timedelta(max(1, math.ceil(n / 24))), as_of)
    if unit == "day":
        return _Span(as_of - timedelta(n), as_of - timedelta(n))
    if unit == "week":
        return _Span(as_of - timedelta(7 * n + 3), as_of - timedelta(7 * n - 3))
    if unit == "month":
        back = _months_back(as_of, n)
        return _month(back.year, back.month)
    return _year(as_of.year - n)


def _ago(m: re.Match[str], as_of: date) -> _Span:
    low, high = _count(m["count"])
    unit = m["unit"].lower()
    return _Span(_units_back(unit, high, as_of).since, _units_back(unit, low, as_of).until)


def _rolling(m: re.Match[str], as_of: date) -> _Span | None:
    """The span ending as_of: "the past week", "the last 3 days", "the past 24 hours"."""
    if m["count"] is None and m["plural"]:
        return None  # "in past years" gives no length
    n, unit = (_count(m["count"])[1] if m["count"] else 1), m["unit"].lower()
    if unit in ("hour", "day", "week"):
        days = max(1, math.ceil(n / 24)) if unit == "hour" else n * (7 if unit == "week" else 1) - 1
        start = as_of - timedelta(days)
    else:
        start = _months_back(as_of, n * (12 if unit == "year" else 1)) + timedelta(1)
    return _Span(start, as_of, recent=(as_of - start).days < 7)


def _calendar(m: re.Match[str], as_of: date) -> _Span | None:
    """Calendar periods: "this week", "last month", "earlier this year"; "next ..." and "later this ..." are None."""
    unit, which, rel = m["unit"].lower(), m["which"].lower(), (m["rel"] or "").lower()
    if which == "next" or rel == "later":
        return None
    if which == "this":
        start = {"week": as_of - timedelta(6), "month": as_of.replace(day=1), "year": date(as_of.year, 1, 1)}[unit]
        return _Span(start, as_of, recent=unit == "week" and not rel)
    if unit == "week":
        return _Span(as_of - timedelta(as_of.weekday() + 7), as_of)  # see the module's docstring
    if unit == "month":
        back = _months_back(as_of, 1)
        return _month(back.year, back.month)
    return _year(as_of.year - 1)


def _weekend(m: re.Match[str], as_of: date) -> _Span | None:
    if m["which"].lower() == "this" and as_of.weekday() < 5:
        return None  # asked on a weekday, "this weekend" is the coming one
    saturday = as_of - timedelta((as_of.weekday() - 5) % 7)
    if m["which"].lower() == "last" and as_of.weekday() >= 5:
        saturday -= timedelta(7)  # asked during a weekend, "last weekend" is the one before
    return _Span(saturday, saturday + timedelta(1))


def _weekday(m: re.Match[str], as_of: date) -> _Span | None:
    if not (m["on"] or m["last"] or m["part"]) or _future(m):
        return None  # a bare weekday names a paper or a holiday ("Sunday Times", "Super Tuesday") as often
    back = (as_of.weekday() - _WEEKDAYS.index(m["weekday"])) % 7 or (7 if m["last"] else 0)
    return _Span(as_of - timedelta(back), as_of - timedelta(back))


def _day(m: re.Match[str], as_of: date) -> _Span | None:
    month, day = _MONTHS.index(m["month"]) + 1, int(m["day"])
    if m["year"]:
        year = int(m["year"])
    elif _future(m):
        return None
    else:
        year = as_of.year if (month, day) <= (as_of.month, as_of.day) else as_of.year - 1
    try:
        return _Span(date(year, month, day), date(year, month, day)) if year >= FIRST_YEAR else None
    except ValueError:  # 30 February
        return None


def _iso_day(m: re.Match[str], as_of: date) -> _Span | None:
    try:
        day = date.fromisoformat(m["iso"])
    except ValueError:
        return None
    return _Span(day, day) if day.year >= FIRST_YEAR else None


def _month_named(m: re.Match[str], as_of: date) -> _Span | None:
    month = _MONTHS.index(m["month"]) + 1
    if not (m["lead"] or m["part"] or m["bound"] or m["year"] or m["rel"] or m["mine"]) or (m["mine"] and month == 5):
        return None  # a bare month name: "May" is as often Theresa May, "March" a verb
    rel = (m["rel"] or "").lower()
    if m["year"]:
        year = int(m["year"])
    elif rel == "next" or (not rel and _future(m)):
        return None
    elif rel:
        year = as_of.year - (rel == "last")
    else:
        year = as_of.year if month <= as_of.month else as_of.year - 1
    return _month(year, month) if year >= FIRST_YEAR else None


def _year_named(m: re.Match[str], as_of: date) -> _Span | None:
    year = int(m["year"])
    return _year(year) if FIRST_YEAR <= year <= as_of.year else None


# Phrases that look like time and are not, blanked before reading. Quoted words are someone else's (a title,
# "Four score and seven years ago"), not the question's own time.
_NOT_TIME = re.compile(
    r"“[^”]*”|\"[^\"]*\"|‘[^’]*’|\b(?:the day after tomorrow|march madness|(?:mail|independent|scotland|wales) on "
    r"sunday|sunday times|sunday night football|24 hours of le mans|usa today|today (?:show|programme|program)|"
    r"apocalypse now|at the latest|still life|(?:in )?so far (?:as|from|away)|this week with)\b",
    re.I,
)

_RULES: tuple[tuple[str, Resolver], ...] = (
    (r"(?:the\s+)?(?:latest|newest|most\s+recent)|recent(?:ly)?|lately|so\s+far|currently|still", _recent),
    (r"(?:the|its|their|his|her)\s+current(?=\s+[a-z])|(?:until|up\s+to|by|right|as\s+of)\s+now|now", _recent),
    (r"today|tonight|this\s+(?:morning|afternoon|evening)", _today),
    (r"(?P<before>the\s+day\s+before\s+)?yesterday|(?P<night>last\s+night)", _yesterday),
    (rf"{COUNT}\s+{UNIT}s?\s+ago", _ago),
    (rf"(?:the\s+(?:past|last)|this\s+past|past)\s+(?:{COUNT}\s+)?{UNIT}(?P<plural>s)?(?!\s+of\b)", _rolling),
    (rf"{BOUND}(?:(?P<rel>earlier|later)\s+)?(?<!the\s)(?P<which>this|last|next)\s+{UNIT}(?!\s+of\b)", _calendar),
    (r"(?:(?:over|at|during)\s+)?(?P<which>the|this|last)\s+weekend", _weekend),
    (rf"(?:(?P<last>last)\s+|(?P<on>on)\s+)?{WEEKDAY}(?P<part>\s+{PART_OF_DAY}|['’]s)?", _weekday),
    (rf"{BOUND}(?:(?:on|in)\s+)?{MONTH}\s+{DAY}(?:,?\s+{YEAR})?", _day),
    (rf"{BOUND}(?:on\s+)?(?:the\s+)?{DAY}\s+(?:of\s+)?{MONTH}(?:,?\s+{YEAR})?", _day),
    (rf"{BOUND}(?:on\s+)?(?P<iso>\d{{4}}-\d\d-\d\d)", _iso_day),
    (
        rf"{BOUND}(?P<lead>(?:in|during|throughout)\s+)?(?P<part>(?:early|mid|late)[\s-]+)?{MONTH}"
        rf"(?:,?\s+{YEAR}|\s+(?P<rel>this|last|next)\s+year|(?P<mine>['’]s))?",
        _month_named,
    ),
    (rf"(?:{_BOUND}(?:in\s+)?|(?:in|during|throughout)\s+){YEAR}", _year_named),
)
_COMPILED = tuple((re.compile(rf"(?<![\w-])(?:{p})(?![\w-])", re.I), resolve) for p, resolve in _RULES)


def _bounded(span: _Span, bound: str, m: re.Match[str], as_of: date) -> _Span | None:
    """``span`` after the word bounding it: "since March" starts in March and runs to as_of."""
    if bound in ("to", "and"):
        if bound == "and" and not _RANGE_START.search(_sentence(m)[0]):
            return span  # a list: "in 2024 and 2025"
        return _Span(None, span.until)
    if bound in ("since", "from", "between"):
        superlative = bound == "since" and _SUPERLATIVE.search(_sentence(m)[0])
        return None if superlative else _Span(span.since, as_of)
    if bound in ("before", "prior to"):
        return _Span(None, span.since - timedelta(1)) if span.since else None
    return _Span(None, span.until)


def _read_one(
    m: re.Match[str], rule: re.Pattern[str], resolve: Resolver, as_of: date
) -> tuple[re.Match[str], _Span] | None:
    """The words read and their span, with "since"/"before"/"until" applied and clipped to as_of."""
    bound = " ".join((m.groupdict().get("bound") or "").lower().split())
    if bound in ("to", "and") and not _TIME_END.search(m.string[: m.start()]):
        # Not the end of a range ("spoke to May", "travelled to in 2025"): read the words after it alone.
        alone = rule.fullmatch(m.string, m.end("prefix"), m.end())
        return _read_one(alone, rule, resolve, as_of) if alone else None
    span = resolve(m, as_of)
    if span and bound and m.string[m.end() : m.end() + 2] not in ("'s", "’s"):  # "before last week's vote": no bound
        span = _bounded(span, bound, m, as_of)
    if span is None or (span.since and span.since > as_of):
        return None
    return m, _Span(span.since, min(span.until, as_of) if span.until else None, span.recent)


def _matches(text: str) -> list[tuple[re.Match[str], re.Pattern[str], Resolver]]:
    """Every rule's matches, leftmost first and the longest of those starting together, none overlapping."""
    found = [(m.start(), m.start() - m.end(), i, m) for i, (p, _) in enumerate(_COMPILED) for m in p.finditer(text)]
    chosen, end = [], 0
    for start, _, i, m in sorted(found, key=lambda f: f[:3]):
        if start >= end:
            chosen.append((m, *_COMPILED[i]))
            end = m.end()
    return chosen


def _words(question: str, spans: list[tuple[int, int]]) -> str:
    """The words read, as written; phrases with only spaces between them are one ("so far this year")."""
    groups: list[list[int]] = []
    for start, end in spans:
        if groups and not question[groups[-1][1] : start].strip():
            groups[-1][1] = end
        else:
            groups.append([start, end])
    return ", ".join(question[start:end] for start, end in groups)


def read_time(question: str, as_of: date) -> TimeReading | None:
    """The time ``question`` refers to, resolved against ``as_of``; None when it says nothing about time.

    Several phrases narrow each other ("recently ... last month" is last month, newest first); when their windows
    do not meet ("in March ... in May") the reading spans both.
    """
    text = _NOT_TIME.sub(lambda m: " " * len(m[0]), question)
    read = [one for m, rule, resolve in _matches(text) if (one := _read_one(m, rule, resolve, as_of))]
    if not read:
        return None
    spans = [span for _, span in read]
    sinces = [s.since for s in spans if s.since]
    untils = [s.until for s in spans if s.until]
    since, until = max(sinces, default=None), min(untils, default=None)
    if since and until and since > until:
        since, until = min(sinces), max(untils)
    words = _words(question, [m.span() for m, _ in read])
    return TimeReading(since, until, any(s.recent for s in spans), words)
