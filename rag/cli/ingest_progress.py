"""What ``newsrag ingest`` shows while it works: the inputs done, and how far the file being read is.

On a terminal, a live bar of the inputs and, under it, the file being read ("reading manual.pdf: page 40/143", or
"message 340" of a mailbox, whose count is not known before it is read). Elsewhere (a log, a pipe) a plain line
now and then: the first news of a file of more than one page or message, then one every :data:`PLAIN_SECONDS`, so
that a long file is not silent and a folder of short ones adds no noise.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

PLAIN_SECONDS = 5.0  # between two plain lines about the same file


class IngestDisplay:
    """The progress of one ingest of ``total`` inputs on ``console``; ``quiet`` shows nothing (``--json``)."""

    def __init__(self, console: Console, total: int, quiet: bool) -> None:
        self.console, self.total, self.quiet = console, total, quiet
        self.live = not quiet and console.is_terminal
        self.bar = Progress(
            TextColumn("[bold]{task.fields[label]}[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            disable=not self.live,
        )
        self.inputs = self.bar.add_task("", total=total, label="ingest")
        self.file: TaskID | None = None
        self.seen: set[str] = set()
        self.plain: dict[str, float] = {}  # when the last plain line about each file was printed

    def __enter__(self) -> IngestDisplay:
        self.bar.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.bar.__exit__(kind, exc, tb)

    def outcome(self, outcome: Any) -> None:
        """An article written (or not): its input counts as reached."""
        source = outcome.origin.split("#", 1)[0]
        if source not in self.seen:
            self.seen.add(source)
            name = Path(source).name[:40]
            self.bar.update(self.inputs, completed=min(len(self.seen), self.total), description=name)

    def reading(self, reading: Any) -> None:
        """How far the file being read is (an ``ingest.reading.Reading``)."""
        name = Path(reading.origin).name[:40]
        of = f"/{reading.total:,}" if reading.total else ""
        line = f"{name}: {reading.unit} {reading.done:,}{of}"
        if self.live:
            if self.file is None:
                self.file = self.bar.add_task("", total=None, label="reading")
            self.bar.update(self.file, completed=reading.done, total=reading.total, description=line)
        elif not self.quiet:
            self._plain(reading.origin, reading, line)

    def _plain(self, origin: str, reading: Any, line: str) -> None:
        now = time.monotonic()
        last = self.plain.get(origin)
        if last is None and reading.total == 1:
            return  # a one-page file: nothing worth a line
        if last is None or now - last >= PLAIN_SECONDS:
            self.plain[origin] = now
            self.console.print(f"reading {escape(line)}", soft_wrap=True, highlight=False)
