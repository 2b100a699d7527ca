"""A newsrag loader plugin: each row of a .csv file with ``headline`` and ``body`` columns is an article."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

from ingest.filekind import FileKind, Limits
from ingest.records import BadInput, Loaded, finish


def load_csv(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    """One article per row; ``source``, ``date`` and ``url`` columns are read when the file has them."""
    with path.open(encoding="utf-8-sig", newline="") as rows:
        for number, row in enumerate(csv.DictReader(rows), start=1):
            where, body = f"{origin}#row{number}", row.get("body") or ""
            try:
                if len(body.encode()) > limits.max_bytes:
                    raise BadInput("row too large for a news article")
                meta = {k: row.get(k) or "" for k in ("source", "url")}
                yield where, finish(body, title=row.get("headline") or "", date=row.get("date"), origin=origin, **meta)
            except BadInput as exc:  # the reason this row is not an article; the next rows are still read
                yield where, exc


def register(add: Callable[[FileKind], None]) -> None:
    """The ``newsrag.loaders`` entry point: newsrag calls it once, with the function that adds a kind."""
    add(
        FileKind(
            name="csv",
            extensions=(".csv",),
            load=load_csv,  # or "newsrag_csv:load_csv", imported when the first .csv file is read
            media_types=("text/csv",),
            size_factor=200,  # read a row at a time, so a file may be 200 times NEWSRAG_MAX_ARTICLE_MB
            many=True,  # many articles in one file: one row never replaces another
            article="each row",
        )
    )
