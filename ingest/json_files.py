"""Reading JSON (.json, parsed whole) and JSON Lines (.jsonl, .ndjson, a line at a time): an article per record.

A record's fields are mapped by the names news datasets commonly use (``ingest/records.py``); a bad record fails
alone, with where it is (``#record3``, ``#line7``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ingest.filekind import Limits
from ingest.records import SNIFF_BYTES, BadInput, Loaded, decode, from_record


def load_json(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """Each record of a JSON file: a list of objects, one object, or a list under a usual key ("articles")."""
    try:
        text = decode(path.read_bytes())
    except BadInput as exc:
        yield origin, exc
        return
    yield from _json(text, origin, limits.max_bytes)


def load_jsonl(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """One record per line, read a line at a time: memory stays within one record however long the file."""
    max_bytes, seen = limits.max_bytes, False
    with path.open("rb") as lines:
        if b"\x00" in lines.read(SNIFF_BYTES):
            yield origin, BadInput("binary file, not text")
            return
        lines.seek(0)
        for number, raw in enumerate(_lines(lines, max_bytes), start=1):
            where = f"{origin}#line{number}"
            if raw is not None and not raw.strip():
                continue
            seen = True
            if raw is None:
                yield where, BadInput("record too large for a news article")
                continue
            try:
                record = _parse(decode(raw))
            except BadInput as exc:
                yield where, exc
                continue
            for _where, loaded in _records([record], origin, max_bytes, "line"):
                yield where, loaded
    if not seen:
        yield origin, BadInput("no records (only blank lines)")


def _records(items: list[object], origin: str, max_bytes: int, label: str) -> Iterator[Loaded]:
    for number, record in enumerate(items, start=1):
        where = f"{origin}#{label}{number}"
        if len(json.dumps(record, default=str)) > max_bytes:
            yield where, BadInput("record too large for a news article")
            continue
        try:
            yield where, from_record(record, origin)
        except BadInput as exc:
            yield where, exc


def _parse(text: str, line_numbers: bool = False) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"invalid JSON: {exc.msg}" + (f" at line {exc.lineno}" if line_numbers else "")) from exc
    except RecursionError as exc:
        raise BadInput("invalid JSON: nested too deeply") from exc


def _json(text: str, origin: str, max_bytes: int) -> Iterator[Loaded]:
    try:
        data = _parse(text, line_numbers=True)
    except BadInput as exc:
        yield origin, exc
        return
    if isinstance(data, dict):
        nested = next(
            (data[k] for k in ("articles", "items", "data", "results") if isinstance(data.get(k), list)), None
        )
        data = nested if nested is not None else [data]
    if not isinstance(data, list):
        yield origin, BadInput(f"JSON holds a {type(data).__name__}, expected an object or a list of them")
        return
    if not data:
        yield origin, BadInput("JSON holds no records")
        return
    yield from _records(data, origin, max_bytes, "record")


def _lines(stream: BinaryIO, max_bytes: int) -> Iterator[bytes | None]:
    """The lines of ``stream`` without their newline; None for a line longer than ``max_bytes`` (skipped unread)."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # the rest of the long line, a block at a time
                line = stream.readline(max_bytes + 1)
            yield None
            continue
        yield line.rstrip(b"\r\n") if line.endswith(b"\n") else line
