"""Hostile inputs to ingest: every bad file costs only itself, with a one-line reason; nothing else is lost.

One folder holds a corpus of bad files (empty, binary, not UTF-8, 50 MB, nested 100,000 deep, compressed to
unpack to a gigabyte, JSON of the wrong shape) beside good articles and their duplicates, and is ingested once.
Then: 10,000 tiny files in one go, and web responses that would unpack to gigabytes.
"""

from __future__ import annotations

import gzip
import json
import os
import pathlib
import subprocess
import sys
import textwrap
import zlib
from collections import Counter
from pathlib import Path

import brotli
import pytest

from ingest.records import BadInput
from ingest.web import Unpacker
from rag.service.newsrag import NewsRAG
from tests.test_crash import assert_index_consistent

NEWSRAG = Path(sys.executable).with_name("newsrag")
GIGABYTE = 1 << 30

HARBOUR = """Dock strike ends in Eastport
Dock workers in Eastport ended a nine-day strike on Friday after the union accepted a pay rise of six percent.
Hundreds of containers had piled up at the quays, and shipping lines said the backlog would take a week to clear.
"""
RAIL = """---
title: Northam to Southby rail line opens
url: https://rail.example.com/news/line-opens
source: Rail Gazette
date: 2025-08-04
---
The new high-speed line between Northam and Southby opened on Monday, cutting the journey to 48 minutes.
Tickets for the first week sold out, and the operator added four extra trains on each day of the weekend.
"""
FLOUR = "Bakers in Westvale raised bread prices after flour cost rose by 14 percent in March, the guild said."
FERRY = "The island ferry to Marrow Bay was cancelled for three days because of gales, the harbour master said."
LIBRARY = "The Oldtown library reopened after a two-year renovation that added a rooftop reading room for children."


def _gzip_bomb() -> bytes:
    """About 1 MB of gzip that unpacks to 1 GB: one 10 MB member repeated (a valid multi-member gzip file)."""
    member = gzip.compress(b"<html><body><p>" + b"A" * 10_000_000, 9)
    return member * 100


def _brotli_bomb() -> bytes:
    """About 700 KB of brotli that unpacks to 1 GB (brotli has no magic number: it looks like any binary)."""
    packer = brotli.Compressor(quality=0)
    block = b"A" * (1 << 24)
    return b"".join([packer.process(b"<html><body><p>"), *(packer.process(block) for _ in range(64)), packer.finish()])


def write_hostile_corpus(folder: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(bad input -> part of its reason, good input -> a question it answers, duplicate -> the input it repeats)."""
    folder.mkdir()
    bad: dict[str, str] = {}

    def put(name: str, data: bytes | str, reason: str, record: bool = False) -> None:
        (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        bad[name + ("#record1" if record else "")] = reason

    put("empty.txt", b"", "empty file")
    put("binary.txt", bytes(range(256)) * 16, "binary file, not text")
    put("photo.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary file, not HTML")
    put("latin1.txt", "Café crème\n\nUne histoire écrite en Latin-1.".encode("latin-1"), "not valid UTF-8")
    put("note.txt", "Three word note\n", "article text too short")
    put("bomb.html", _gzip_bomb(), "gzip-compressed data that cannot be unpacked")
    put("bomb-br.html", _brotli_bomb(), "binary file, not HTML")
    put("deep.html", "<html><body>" + "<div>" * 100_000 + "<p>Deep.</p>" + "</div>" * 100_000, "no article text found")
    # Compressed files are not read: a folder's files of other types are skipped, one named alone is refused.
    (folder / "page.html.gz").write_bytes(gzip.compress(b"<html><body><p>Hello</p></body></html>"))
    put("deep.json", "[" * 100_000 + "]" * 100_000, "invalid JSON: nested too deeply")
    put("top-string.json", json.dumps("just a string"), "JSON holds a str, expected an object")
    put("text-number.json", json.dumps({"title": "A number", "text": 42}), "field 'text' is int, expected text", True)
    put("text-list.json", json.dumps({"text": ["a", "b"]}), "field 'text' is list, expected text", True)
    put("text-null.json", json.dumps({"title": "Nothing", "text": None}), "record has no text", True)
    put("title-object.json", json.dumps({"title": {"a": 1}, "text": FLOUR}), "field 'title' is an object", True)
    # 50 MB without writing 50 MB: a sparse file. It must be refused by its size, unread.
    with open(folder / "huge.txt", "wb") as huge:
        huge.truncate(50_000_000)
    bad["huge.txt"] = "too large for a news article (50.0 MB > 5.0 MB)"

    # One JSON Lines file: a 50 MB record (refused, the file still read a line at a time), then a good one.
    with open(folder / "records.jsonl", "w", encoding="utf-8") as lines:
        lines.write(json.dumps({"title": "Too big", "text": "word " * 10_000_000}) + "\n")
        lines.write(json.dumps({"title": "Bread prices rise in Westvale", "text": FLOUR}) + "\n")
        lines.write(json.dumps([1, 2]) + "\n")
    bad["records.jsonl#line1"] = "record too large for a news article"
    bad["records.jsonl#line3"] = "record is list, expected an object"

    good = {
        "a-harbour.txt": "How long was the dock strike in Eastport?",
        "b-rail.md": "How long does the journey between Northam and Southby take on the new line?",
        "records.jsonl#line2": "How much did the cost of flour rise in Westvale?",
        # Garbage dates are not errors: the article is kept, undated. (A date of 1e20 used to end the whole batch.)
        "date-garbage.json#record1": "Why was the ferry to Marrow Bay cancelled?",
        "date-overflow.json#record1": "What did the renovation of the Oldtown library add?",
    }
    (folder / "a-harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "b-rail.md").write_text(RAIL, encoding="utf-8")
    (folder / "date-garbage.json").write_text(
        json.dumps({"title": "Gales stop the Marrow Bay ferry", "text": FERRY, "date": "the 45th of Smarch"})
    )
    (folder / "date-overflow.json").write_text(
        json.dumps({"title": "Oldtown library reopens", "text": LIBRARY, "published_at": 1e20})
    )

    # The same articles again under other names: the same text, and the same URL (tracking parameters aside).
    duplicates = {"z-harbour-copy.txt": "a-harbour.txt", "y-rail-again.json#record1": "b-rail.md"}
    (folder / "z-harbour-copy.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "y-rail-again.json").write_text(
        json.dumps(
            {
                "title": "Rail line opens",
                "url": "https://rail.example.com/news/line-opens/?utm_source=feed",
                "text": "The line between Northam and Southby opened on Monday with crowds on every platform.",
            }
        )
    )
    return bad, good, duplicates


def _name(origin: str, folder: Path) -> str:
    return origin.removeprefix(str(folder.resolve()) + os.sep)


def test_hostile_corpus_costs_only_the_bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "corpus"
    bad, good, duplicates = write_hostile_corpus(folder)
    opened: list[str] = []
    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive")
    with monkeypatch.context() as patch:
        for method in ("read_bytes", "open"):
            original = getattr(pathlib.Path, method)

            def spy(
                self: Path, *args: object, _original: object = original, _method: str = method, **kwargs: object
            ) -> object:
                opened.append(f"{_method}:{self.name}")
                return _original(self, *args, **kwargs)  # type: ignore[operator]

            patch.setattr(pathlib.Path, method, spy)
        report = newsrag.ingest(folder)

    outcomes = {_name(o.origin, folder): o for o in report.outcomes}
    assert len(outcomes) == len(report.outcomes), "one outcome per input"
    assert set(outcomes) == set(bad) | set(good) | set(duplicates)

    # Every bad input: failed, with a one-line reason that says what is wrong (no traceback, no exception dump).
    for name, reason in bad.items():
        outcome = outcomes[name]
        assert outcome.status == "failed", (name, outcome)
        assert reason in outcome.reason, (name, outcome.reason)
        assert "\n" not in outcome.reason and "Traceback" not in outcome.reason and len(outcome.reason) < 200
    # Refused by its size alone: never read, only opened for its first 4 KB (is this .txt a mailbox?) by the folder's
    # survey and by its reader.
    assert opened.count("open:huge.txt") <= 2 and "read_bytes:huge.txt" not in opened

    # Duplicates are reported as duplicates of the input they repeat.
    for name, original in duplicates.items():
        assert outcomes[name].status == "duplicate", outcomes[name]
        assert outcomes[name].reason == f"same article as {folder.resolve() / original}"

    # Nothing else is lost: every good article is indexed, once, and answers its question from itself.
    assert {name: outcomes[name].status for name in good} == dict.fromkeys(good, "added")
    assert report.count("added") == len(good) and len(report.failed) == len(bad)
    indexed = {r.article_id: r for r in newsrag.articles()}
    assert set(indexed) == {outcomes[name].article_id for name in good}
    assert indexed[outcomes["date-garbage.json#record1"].article_id].published_at == ""
    assert indexed[outcomes["date-overflow.json#record1"].article_id].published_at == ""
    for name, question in good.items():
        answer = newsrag.ask(question)
        assert not answer.refused, (name, answer.text)
        assert answer.citations[0].article_id == outcomes[name].article_id, (name, answer.text)

    # The index is consistent: nothing for repair to drop, one complete version per article, BM25 in step.
    assert newsrag.store.repair() == 0
    assert_index_consistent(newsrag.settings, set(indexed))

    (named,) = newsrag.ingest(folder / "page.html.gz").outcomes
    assert (named.status, named.reason.split(";")[0]) == ("failed", "unsupported file type .gz")


@pytest.mark.slow
def test_cli_names_each_bad_file_and_its_reason(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "good.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "empty.md").write_bytes(b"")
    (folder / "bomb.html").write_bytes(_gzip_bomb())
    (folder / "wrong.jsonl").write_text(json.dumps({"text": 42}) + "\n" + json.dumps({"text": FERRY}) + "\n")
    result = subprocess.run(
        [str(NEWSRAG), "ingest", str(folder), "--index-dir", str(tmp_path / "index")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("failed ")]
    assert sorted(lines) == [
        f"failed {folder.resolve() / 'bomb.html'}: gzip-compressed data that cannot be unpacked (corrupt or unpacks "
        "to more than 5.0 MB)",
        f"failed {folder.resolve() / 'empty.md'}: empty file",
        f"failed {folder.resolve() / 'wrong.jsonl'}#line1: field 'text' is int, expected text",
    ]
    assert "2 added" in result.stderr and "3 failed" in result.stderr


# ----- 10,000 tiny files
TINY_FILES = 10_000
# Embedding is the slow part: most files are too short to be an article or are duplicates, and only one in
# fifty is a (short) article of its own, so the run stays well under two minutes on a loaded machine.
ARTICLE_EVERY = 50
DUPLICATE_EVERY = 10
WORDS = ["harbour", "council", "budget", "strike", "port", "river", "bridge", "school", "rail", "market"]

# A process's own peak memory: VmHWM starts again at exec, where getrusage's ru_maxrss keeps the peak of the
# process that forked it (pytest, over 1.5 GB late in the suite), so the subprocesses below report VmHWM.
PEAK_RSS_MB = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024"

INGEST_AND_MEASURE = """
import json, sys
from rag.service.newsrag import NewsRAG

report = NewsRAG(index_dir=sys.argv[2]).ingest(sys.argv[1])
print(json.dumps({
    "outcomes": [[o.origin, o.status, o.reason] for o in report.outcomes],
    "seconds": report.seconds,
    "peak_rss_mb": PEAK_RSS_MB,
}))
""".replace("PEAK_RSS_MB", PEAK_RSS_MB)


def write_tiny_files(folder: Path) -> Counter[str]:
    """10,000 files of a few words in 10 folders; returns the expected count of each status."""
    expected: Counter[str] = Counter()
    for i in range(TINY_FILES):
        word = WORDS[i % len(WORDS)]
        if i % ARTICLE_EVERY == 0:
            text = f"Report {i} on the {word}\nThe {word} report number {i} says the town council met on day {i}.\n"
            expected["added"] += 1
        elif i % DUPLICATE_EVERY == 0:  # the same two short articles over and over, under 800 names
            text = f"Notice {i % 4}\nThe same short notice about the {WORDS[i % 4]} appears under many names.\n"
            expected["duplicate"] += 1
        else:  # a few words: too short to be an article
            text = f"{word} note {i % 7}\n"
            expected["failed"] += 1
        sub = folder / f"part{i // 1000}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"file{i:05d}.txt").write_text(text, encoding="utf-8")
    # The first of each repeated notice is an article; the rest are its duplicates.
    expected["duplicate"] -= 2
    expected["added"] += 2
    return expected


@pytest.mark.slow
def test_ten_thousand_tiny_files(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    expected = write_tiny_files(folder)
    # In a process of its own, so that its peak memory is its own.
    result = subprocess.run(
        [sys.executable, "-c", INGEST_AND_MEASURE, str(folder), str(tmp_path / "index")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = json.loads(result.stdout)
    outcomes = run["outcomes"]
    print(
        f"\n{TINY_FILES} tiny files: ingested in {run['seconds']:.1f}s, peak RSS {run['peak_rss_mb']:.0f} MB"
        f" ({dict(Counter(status for _, status, _ in outcomes))})"
    )
    assert len(outcomes) == TINY_FILES and len({origin for origin, _, _ in outcomes}) == TINY_FILES
    assert Counter(status for _, status, _ in outcomes) == expected
    reasons = Counter(reason.split(" (")[0] for _, status, reason in outcomes if status == "failed")
    assert reasons == {"article text too short": expected["failed"]}
    assert run["peak_rss_mb"] < 4096  # a sanity bound only: ~390 MB measured, most of it the embedder and Chroma
    newsrag = NewsRAG(index_dir=tmp_path / "index")
    assert len(newsrag.articles()) == expected["added"]


# ----- the web: compressed responses are unpacked within the limit
def test_unpacker_stops_at_the_limit() -> None:
    limit = 5_000_000
    for encoding, data in (("br", _brotli_bomb()), ("gzip", _gzip_bomb())):
        unpack, produced = Unpacker(encoding, limit), 0
        with pytest.raises(BadInput, match="response larger than 5.0 MB"):
            for start in range(0, len(data), 65536):
                produced += len(unpack(data[start : start + 65536]))
        assert produced <= limit
    page = b"<html><body><p>" + b"Words of an article. " * 1000 + b"</p></body></html>"
    for encoding, packed in (
        ("gzip", gzip.compress(page)),
        ("gzip", gzip.compress(page[:5000]) + gzip.compress(page[5000:])),  # two members
        ("deflate", zlib.compress(page)),  # with its zlib header
        ("deflate", zlib.compress(page)[2:-4]),  # raw, as some servers send it
        ("br", brotli.compress(page)),
        ("identity", page),
    ):
        unpack = Unpacker(encoding, limit)
        assert b"".join(unpack(packed[i : i + 100]) for i in range(0, len(packed), 100)) == page, encoding
    with pytest.raises(BadInput, match="unsupported content encoding 'zstd'"):
        Unpacker("zstd", limit)
    with pytest.raises(BadInput, match="not valid gzip data"):
        Unpacker("gzip", limit)(b"this is not gzip at all")


SERVE_BOMBS = """
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ingest.web import load_url

bodies = {"/br": ("br", open(sys.argv[1], "rb").read()), "/gzip": ("gzip", open(sys.argv[2], "rb").read()),
          "/page.gz": ("", open(sys.argv[2], "rb").read())}

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        encoding, body = bodies[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_port}"
reasons = {path: [str(r) for _, r in load_url(base + path, 5_000_000, 30)] for path in bodies}
print(json.dumps({"reasons": reasons, "peak_rss_mb": PEAK_RSS_MB}))
""".replace("PEAK_RSS_MB", PEAK_RSS_MB)


def test_web_responses_that_unpack_to_a_gigabyte(tmp_path: Path) -> None:
    (tmp_path / "bomb.br").write_bytes(_brotli_bomb())
    (tmp_path / "bomb.gz").write_bytes(_gzip_bomb())
    # In a process of its own: before the fix, the brotli response alone took over 2 GB of memory at once.
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SERVE_BOMBS), str(tmp_path / "bomb.br"), str(tmp_path / "bomb.gz")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = json.loads(result.stdout)
    print(f"\nweb responses unpacking to 1 GB: peak RSS {run['peak_rss_mb']:.0f} MB")
    # A page is first read up to a feed's allowance (20 x max_article_mb), then refused as no article.
    assert run["reasons"]["/br"] == ["response larger than 100.0 MB"]
    assert run["reasons"]["/gzip"] == ["response larger than 100.0 MB"]
    # Served as is (no Content-Encoding), the gzip bytes are the page itself: unpacked up to the article limit.
    assert run["reasons"]["/page.gz"] == [
        "gzip-compressed data that cannot be unpacked (corrupt or unpacks to more than 5.0 MB)"
    ]
    assert run["peak_rss_mb"] < 1536  # a sanity bound only: 330-520 MB measured; unpacked whole, over 2 GB
