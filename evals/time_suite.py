"""The time suite: does `read_time` read the window a question refers to? (``newsrag bench time``).

Each case of evals/suites/time.jsonl is ``{"id", "question", "as_of", "since", "until", "recent"}``, dates as
YYYY-MM-DD; since and until null with recent false means the question says nothing about time. A case counts as
read right only when all three match: a window one day off is a miss, as it may leave out the article asked about.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from rag.answering.time_words import read_time

SUITE = Path(__file__).parent / "suites" / "time.jsonl"


def _read(question: str, as_of: date) -> dict[str, Any]:
    reading = read_time(question, as_of)
    if reading is None:
        return {"since": None, "until": None, "recent": False, "words": ""}
    since, until = (d.isoformat() if d else None for d in (reading.since, reading.until))
    return {"since": since, "until": until, "recent": reading.recent, "words": reading.words}


def run_time_suite(path: str | Path = SUITE) -> dict[str, Any]:
    """``window_accuracy`` (the share of cases whose since, until and recent all match), ``cases`` and ``misses``."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    misses = []
    for case in cases:
        got = _read(case["question"], date.fromisoformat(case["as_of"]))
        expected = {key: case[key] for key in ("since", "until", "recent")}
        if any(got[key] != value for key, value in expected.items()):
            asked = {key: case[key] for key in ("id", "question", "as_of")}
            misses.append(asked | {"expected": expected, "got": got})
    accuracy = 1 - len(misses) / len(cases) if cases else 0.0
    return {"window_accuracy": round(accuracy, 4), "cases": len(cases), "misses": misses}
