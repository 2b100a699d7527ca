"""Big files (#34 item 7): a mailbox streams into the index in rounds, a PDF says which page it is on, a reader
killed part way keeps the whole articles it read and says where it stopped.

Real mailboxes and PDFs built here (tests/support/documents.py), read in real workers, written by a real NewsRAG
over an embedded Chroma with real MiniLM. The rounds are made small (their sizes are module settings) so that a few
hundred short messages make several; nothing here asserts a time.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import ingest.pipeline
import ingest.reading
from ingest.budget import run
from ingest.files import check_file
from ingest.reading import Read, Reading, ReadOptions, Stream, stopped, stream_file
from rag.core.settings import Settings
from rag.service.newsrag import NewsRAG
from tests.support.documents import newsletter, write_mbox, write_pdf

NEWSRAG = Path(sys.executable).with_name("newsrag")
VERBS = ["debated", "approved", "questioned", "amended"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday"]
TOWNS = ["Arden", "Bexley", "Carrow", "Dunmore", "Elston", "Fenwick", "Garland", "Hollis", "Ivybridge", "Jarrow"]


def _mailbox(path: Path, count: int, words: int = 40) -> Path:
    """``count`` newsletters, each a short story of its own (distinct text, so distinct articles)."""
    start = datetime(2025, 3, 1, 7, tzinfo=UTC)
    messages = []
    for n in range(count):
        town = TOWNS[n % len(TOWNS)]
        story = f"The {town} council met for session {n} and voted on the harbour budget, item {n * 7 + 3}. " * max(
            1, words // 18
        )
        messages.append(
            newsletter(f"{town} council, session {n}", "desk@news.example.com", start + timedelta(n), None, story)
        )
    return write_mbox(path, messages)


class CountingLock:
    """The write lock, counting how often it is taken: one round each."""

    def __init__(self) -> None:
        self.lock, self.taken = threading.Lock(), 0

    def __enter__(self) -> None:
        self.lock.acquire()
        self.taken += 1

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_a_mailbox_is_written_in_rounds_while_it_is_still_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest.pipeline, "EMBED_GROUP", 16)
    monkeypatch.setattr(ingest.pipeline, "ROUND_CHUNKS", 32)
    monkeypatch.setattr(ingest.reading, "QUEUE_READS", 4)
    box = _mailbox(tmp_path / "council.mbox", 160)
    newsrag = NewsRAG(index_dir=tmp_path / "index")
    lock = CountingLock()
    newsrag.components.write_lock = lock  # type: ignore[assignment]
    events: list[tuple[str, Any]] = []
    report = newsrag.ingest(
        box, progress=lambda o: events.append(("written", o)), reading=lambda r: events.append(("read", r))
    )
    assert report.ok and report.count("added") == 160
    written = [o for kind, o in events if kind == "written"]
    assert len(written) == 160 and all(o.status == "added" for o in written)  # one outcome per message
    read = [r for kind, r in events if kind == "read"]
    assert read and all(r.unit == "message" and r.total is None for r in read)
    assert [r.done for r in read] == sorted({r.done for r in read}) and read[-1].done == 160
    assert lock.taken > 3  # rounds of 16, then 32 chunks: the mailbox was written a round at a time
    first_written = next(i for i, (kind, _) in enumerate(events) if kind == "written")
    read_by_then = max((r.done for kind, r in events[:first_written] if kind == "read"), default=0)
    assert read_by_then < 160  # the first messages were written while the rest was still being read


def _peak_after(emit: Callable[[Any], None], path: Path, options: ReadOptions) -> None:
    """Read ``path`` as an ingest's worker does, then send this worker's peak RSS (KB) as the last item."""
    checked = check_file(path, options.max_bytes)
    ingest.reading._read_in_worker(lambda read: None, checked, path, str(path), options)  # type: ignore[arg-type]
    emit(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def test_reading_a_mailbox_holds_a_few_messages_not_the_mailbox(tmp_path: Path) -> None:
    options = ReadOptions.from_settings(Settings(max_archive_items=5000))
    # The worker: its peak RSS reading 1,000 messages is that of reading 100 (it sends each and keeps none).
    small, large = (_mailbox(tmp_path / f"box{n}.mbox", n, words=120) for n in (100, 1000))
    peaks = {box.name: list(run(options.budget.scaled(4), _peak_after, box, options))[-1] for box in (small, large)}
    assert peaks["box1000.mbox"] - peaks["box100.mbox"] < 20 * 1024, peaks  # KB: under 20 MB more for 10x
    # The caller: while the writer is busy, the reader holds its queue (and the pipe's few) ahead of it, no more.
    received: list[int] = []

    def make(tell: Callable[[Reading], None]) -> Iterator[Read]:
        return stream_file(large, options, lambda r: (received.append(r.done), tell(r)))

    with ThreadPoolExecutor(max_workers=1) as pool:
        stream = Stream(pool, make)
        reads = stream.reads()
        first = next(reads)
        time.sleep(3.0)  # the writer busy embedding: the worker reads on until the queue and the pipe are full
        assert first.loaded.title == "Arden council, session 0"  # type: ignore[union-attr]
        assert 0 < received[-1] < 200, received[-1]  # of 1,000
        stream.close()  # the writer gives up: the reading thread ends and its worker is killed
        reads.close()


def _template(n: int) -> str:
    """A newsletter of heavy markup and one short story (as mail programs' templates are): slow to read, quick to
    embed."""
    cells = "".join(f'<tr><td class="c{i}" style="padding:0"><span>&nbsp;</span></td></tr>' for i in range(300))
    story = f"The {TOWNS[n % 10]} council met for session {n} and voted on the harbour budget, item {n * 7 + 3}."
    return f"<html><body><table>{cells}</table><p>{story}</p></body></html>"


def test_a_mailbox_over_its_cpu_budget_keeps_the_whole_messages_read_and_says_where_it_stopped(
    tmp_path: Path,
) -> None:
    start = datetime(2025, 3, 1, 7, tzinfo=UTC)
    messages = [
        newsletter(f"{TOWNS[n % 10]} council, session {n}", "desk@news.example.com", start + timedelta(n), _template(n))
        for n in range(120)
    ]
    box = write_mbox(tmp_path / "long.mbox", messages)  # 3 MB: the budget once, 1 s of CPU: ~0.1 s a message
    newsrag = NewsRAG(index_dir=tmp_path / "index", parse_cpu_seconds=1)
    report = newsrag.ingest(box)
    [failure] = report.failed
    assert failure.origin == str(box.resolve())
    found = re.fullmatch(
        r"took more than 1 s of CPU to read; stopped after message (\d+): the (\d+) message\(s\) read before are"
        r" kept, the rest was not read",
        failure.reason,
    )
    assert found, failure.reason
    kept = int(found[1])
    assert int(found[2]) == kept and 0 < kept < 120
    assert report.count("added") == kept
    records = newsrag.articles()
    assert len(records) == kept
    assert {r.title for r in records} == {f"{TOWNS[n % len(TOWNS)]} council, session {n}" for n in range(kept)}
    for record in records:  # each article whole: every chunk it was written with is in the index
        assert len(newsrag.store.article_chunks(record.article_id)) == record.n_chunks


def test_where_a_reader_stopped_is_said_plainly() -> None:
    assert stopped("took too long", [], "message") == "took too long"
    kept = ["/m.mbox#message1", "/m.mbox#message2"]
    assert stopped("took too long", kept, "message") == (
        "took too long; stopped after message 2: the 2 message(s) read before are kept, the rest was not read"
    )
    assert stopped("x", ["/a.jsonl"], "record").startswith("x; stopped after record 1: the 1 record(s)")


def _pages(count: int) -> list[list[str] | None]:
    """Pages of a report, each of its own lines (a line on many pages would be dropped as a running head)."""
    return [
        [f"{TOWNS[n % 10]} {word} the harbour budget on {day}." for word, day in zip(VERBS, DAYS, strict=True)]
        for n in range(count)
    ]


def test_a_pdf_says_which_page_it_is_on(tmp_path: Path) -> None:
    report = write_pdf(tmp_path / "report.pdf", _pages(12), {"/Title": "Harbour report"})
    heard: list[Reading] = []
    reads: list[Read] = list(stream_file(report, ReadOptions.from_settings(Settings()), heard.append))
    assert reads[0].loaded.title == "Harbour report"  # type: ignore[union-attr]
    assert heard and all(r.unit == "page" and r.total == 12 and r.origin == str(report.resolve()) for r in heard)
    assert heard[-1].done == 12 and [r.done for r in heard] == sorted(r.done for r in heard)
    assert len(heard) <= 3  # a few times a second at most: not one message per page
    told: list[Reading] = []
    assert NewsRAG(index_dir=tmp_path / "index").ingest(report, reading=told.append).count("added") == 1
    assert told and told[-1] == Reading(str(report.resolve()), 12, 12, "page")


def test_the_cli_says_which_page_of_a_pdf_it_is_reading(tmp_path: Path) -> None:
    report = write_pdf(tmp_path / "annual.pdf", _pages(8), {"/Title": "Annual report"})
    result = subprocess.run(
        [str(NEWSRAG), "ingest", str(report), "--index-dir", str(tmp_path / "index")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^reading annual\.pdf: page \d/8$", result.stderr, re.MULTILINE), result.stderr
    assert "added Annual report" in result.stderr
