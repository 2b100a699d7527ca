"""Reading under a budget, outside the write lock (#33 item 3): crafted files fail alone, with a plain reason.

Real files built here (tests/support/documents.py): a PDF whose pages replay one packed content stream, a .docx of
empty paragraphs, a JSON file that takes gigabytes to parse, a text of single letters; each read in its worker
process by a real NewsRAG over an embedded Chroma, with real MiniLM.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ingest.budget import Budget, OverBudget, run
from ingest.files import load_file
from ingest.reading import ReadOptions, read_file
from ingest.records import Skipped
from rag.core.settings import Settings
from rag.service.newsrag import NewsRAG
from tests.support.documents import write_empty_paragraphs_docx, write_pdf, write_shared_stream_pdf

STORY = (
    "Harbour strike ends\nDock workers ended a nine-day strike on Friday after the union accepted a new pay offer"
    " from the port operators, and the first ships were unloaded within hours.\n"
)
REPORT = [["Council report", "The council approved the harbour budget on Monday after a long debate."]]


def _good(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "strike.txt"
    text.write_text(STORY, encoding="utf-8")
    return [text, write_pdf(folder / "report.pdf", REPORT, {"/Title": "Council report"})]


def _titles(newsrag: NewsRAG) -> set[str]:
    return {r.title for r in newsrag.articles()}


def test_the_crafted_pdf_and_docx_fail_fast_in_their_parsers(tmp_path: Path) -> None:
    shared = write_shared_stream_pdf(tmp_path / "shared.pdf")  # 40 pages, one 560 KB stream: 95 s before
    assert shared.stat().st_size < 10_000
    [(_, refused)] = list(load_file(shared, 5_000_000))
    assert str(refused) == "40 pages replay one content stream (more than 8): made to be slow"
    empty = write_empty_paragraphs_docx(tmp_path / "empty.docx", 150_000)
    [(_, refused)] = list(load_file(empty, 5_000_000))
    assert str(refused) == "too many paragraphs for a news document (150,000 > 100,000)"
    # Under the caps, both still read as before.
    [(_, few_paragraphs)] = list(load_file(write_empty_paragraphs_docx(tmp_path / "few.docx", 50), 5_000_000))
    assert str(few_paragraphs) == "no article text (empty after cleaning)"  # parsed: its paragraphs are empty
    few = write_shared_stream_pdf(tmp_path / "few.pdf", pages=2, stream_kb=4)
    assert "council met again" in list(load_file(few, 5_000_000))[0][1].text  # type: ignore[union-attr]


def test_a_file_over_the_cpu_budget_fails_alone_and_nothing_of_it_is_indexed(tmp_path: Path) -> None:
    good = _good(tmp_path / "in")
    slow = write_shared_stream_pdf(tmp_path / "in" / "slow.pdf", pages=8, stream_kb=560)  # ~5 s of CPU, under caps
    newsrag = NewsRAG(index_dir=tmp_path / "index", parse_cpu_seconds=1)
    report = newsrag.ingest(*good, slow)
    by_file = {Path(o.origin).name: o for o in report.outcomes}
    assert by_file["slow.pdf"].status == "failed"
    assert by_file["slow.pdf"].reason == "took more than 1 s of CPU to read"
    assert by_file["strike.txt"].status == by_file["report.pdf"].status == "added"
    assert _titles(newsrag) == {"Harbour strike ends", "Council report"}


def test_a_file_over_the_memory_budget_fails_alone(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good = _good(folder)
    hungry = folder / "lists.json"
    hungry.write_bytes(b"[" + b"[]," * 12_000_000 + b"[]]")  # 36 MB: 12 million lists, about 700 MB parsed
    newsrag = NewsRAG(index_dir=tmp_path / "index", parse_memory_mb=256)
    report = newsrag.ingest(*good, hungry)
    by_file = {Path(o.origin).name: o for o in report.outcomes}
    assert (by_file["lists.json"].status, by_file["lists.json"].reason) == (
        "failed",
        "needed more than 256 MB of memory to read",
    )
    assert report.count("added") == 2 and _titles(newsrag) == {"Harbour strike ends", "Council report"}


def test_an_article_of_too_many_chunks_is_refused_before_it_is_embedded(tmp_path: Path) -> None:
    # Words of two letters: many tokens for few bytes (single letters would be refused as unreadable text).
    letters = tmp_path / "letters.txt"
    letters.write_text("Spaced letters\n" + " ".join(["ab", "cd", "ef", "gh", "ij"] * 4_000) + "\n", encoding="utf-8")
    options = ReadOptions.from_settings(Settings(max_article_chunks=20))
    [read] = read_file(letters, options)
    assert str(read.loaded).startswith("too long for one article: ") and "more than 20 " in str(read.loaded)
    assert read.nodes == []
    [fine] = read_file(letters, ReadOptions.from_settings(Settings()))
    assert fine.loaded.title == "Spaced letters" and len(fine.nodes) > 20  # type: ignore[union-attr]


def test_records_come_back_from_the_worker_intact(tmp_path: Path) -> None:
    report = write_pdf(tmp_path / "report.pdf", [*REPORT, []], {"/Title": "Council report", "/Author": "Ann Lee"})
    options = ReadOptions.from_settings(Settings())
    worked = read_file(report, options)
    here = list(load_file(report, options.max_bytes))
    assert [(r.where, r.loaded) for r in worked][0] == here[0]  # the Article, field for field (pages too)
    assert isinstance(worked[1].loaded, Skipped) and str(worked[1].loaded) == str(here[1][1])
    assert [n.id_ for n in worked[0].nodes] and worked[0].nodes[0].metadata["authors"] == "Ann Lee"


def _sleeps(emit: object) -> None:
    time.sleep(60)


def test_a_worker_that_waits_is_killed_by_the_wall_clock() -> None:
    started = time.monotonic()
    with pytest.raises(OverBudget, match=r"took more than 10\.4 s to read \(killed\)"):
        list(run(Budget(cpu_seconds=0.1, memory_mb=512), _sleeps))
    assert time.monotonic() - started < 40


def test_the_write_lock_is_not_held_while_a_slow_file_is_read(tmp_path: Path) -> None:
    """A visitor's small upload is indexed while another visitor's slow file is still being read."""
    # ~7 s of CPU for PDFium to read, within the budget and the parser's caps: it is read to the end and added.
    slow = write_shared_stream_pdf(tmp_path / "slow.pdf", pages=8, stream_kb=2000, text=True)
    newsrag = NewsRAG(index_dir=tmp_path / "index")
    newsrag.ingest(*_good(tmp_path / "warm"))  # the store and the embedder built, the fork server started
    slow_done = threading.Event()

    slow_reports = []

    def read_slowly() -> None:
        slow_reports.append(newsrag.ingest(slow))
        slow_done.set()

    reader = threading.Thread(target=read_slowly)
    reader.start()
    time.sleep(0.5)  # the slow file's worker is reading (the lock would be taken by now if reading held it)
    quick = tmp_path / "quick.txt"
    quick.write_text(STORY.replace("nine-day", "ten-day").replace("Harbour", "Port"), encoding="utf-8")
    report = newsrag.ingest(quick)
    finished_while_reading = not slow_done.is_set()
    reader.join()
    assert report.count("added") == 1
    assert finished_while_reading, "the quick ingest waited for the slow file to be read"
    assert "Port strike ends" in _titles(newsrag) and len(_titles(newsrag)) == 4
    [slow_outcome] = slow_reports[0].outcomes
    assert slow_outcome.status == "added", slow_outcome  # read to the end, not cut short by a budget
