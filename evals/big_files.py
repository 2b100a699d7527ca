"""Benchmark: one big file at a time (issue #34, item 7): a long real PDF and a mailbox of 1,000 messages.

The PDF is the Debian Reference manual in English (package ``debian-reference-en``, GPL-2+, 261 pages), fetched
once with ``apt-get download`` into the cache (``bench/work/big-files/``); without apt, put the file there by hand
(any machine: ``apt-get download debian-reference-en && dpkg-deb -x debian-reference-en_*.deb x``, then copy
``x/usr/share/debian-reference/debian-reference.en.pdf``). The mailbox is built from the RealTimeQA articles in
``../shared/data/realtimeqa/dev``: each article a message with From, Subject and Date, its text cut to
:data:`BODY_CHARS` characters (a newsletter's length; whole articles would make this a benchmark of the embedder).

Each file is ingested by a real NewsRAG into a fresh index, in a process of its own (so that its peak RSS is the
ingest's), with MiniLM. Reported: seconds, pages/s or messages/s, chunks/s, the time until the first article was
written to the index (searchable from then on), how many progress updates the ingest gave while reading the file,
and the peak RSS of the ingesting process and of its reading worker (the highest ``VmHWM`` of its child processes,
sampled every :data:`SAMPLE_SECONDS`). ``python -m evals.big_files --out bench`` (or ``newsrag bench big-files``)
writes bench/results-big-files.json and .md, this run under ``--label`` (default "latest") beside the runs kept
there ("before": the code as issue #34 item 7 found it, commit 31bde32; "after": with streaming and progress).
"""

from __future__ import annotations

import argparse
import email.utils
import json
import mailbox
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from evals.perf import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "work" / "big-files"
REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa" / "dev"
PDF_NAME = "debian-reference.en.pdf"
PDF_IN_PACKAGE = "usr/share/debian-reference/debian-reference.en.pdf"
MESSAGES = 1000
BODY_CHARS = 2000
SAMPLE_SECONDS = 0.05


class MissingInput(Exception):
    """A benchmark input that cannot be made here; the message says how to provide it."""


def debian_reference(cache: Path = CACHE) -> Path:
    """The Debian Reference PDF in ``cache``, fetched with ``apt-get download`` when absent."""
    target = cache / PDF_NAME
    if target.exists():
        return target
    how = (
        f"put {PDF_NAME} in {cache}: on a Debian or Ubuntu machine, `apt-get download debian-reference-en &&"
        f" dpkg-deb -x debian-reference-en_*.deb x`, then copy x/{PDF_IN_PACKAGE}"
    )
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise MissingInput(f"apt-get is not available to fetch the PDF; {how}")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="newsrag-debref-") as tmp:
        got = subprocess.run(["apt-get", "download", "debian-reference-en"], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob("debian-reference-en_*.deb"))
        if got.returncode != 0 or not debs:
            raise MissingInput(f"apt-get download debian-reference-en failed ({got.stderr.strip()[:200]}); {how}")
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(Path(tmp) / "x")], check=True)
        shutil.copyfile(Path(tmp) / "x" / PDF_IN_PACKAGE, target)
    return target


def realtimeqa_mailbox(cache: Path = CACHE, data: Path = REALTIMEQA, count: int = MESSAGES) -> Path:
    """A mailbox of ``count`` RealTimeQA articles (distinct URLs, in week order), built once into ``cache``."""
    target = cache / f"realtimeqa-{count}-{BODY_CHARS}.mbox"
    if target.exists():
        return target
    if not data.is_dir():
        raise MissingInput(f"no RealTimeQA data at {data} (../shared/data/realtimeqa/dev beside the project)")
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.unlink(missing_ok=True)
    box = mailbox.mbox(partial)
    seen: set[str] = set()
    for article in _articles(data):
        if article["url"] in seen or not (article.get("text") or "").strip():
            continue
        seen.add(article["url"])
        box.add(_message(article))
        if len(seen) == count:
            break
    box.close()
    if len(seen) < count:
        raise MissingInput(f"only {len(seen)} distinct articles in {data}, fewer than {count}")
    partial.rename(target)
    return target


def _articles(data: Path) -> Any:
    for path in sorted(data.glob("*_gcs.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            yield from json.loads(line).get("search_result") or []


def _message(article: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    site = urlparse(article["url"]).hostname or "news.example"
    authors = article.get("authors") or []
    message["From"] = email.utils.formataddr((authors[0] if authors else site, f"news@{site}"))
    message["Subject"] = " ".join((article.get("title") or "(no title)").split())
    published = article.get("publish_date")
    try:
        when = datetime.fromisoformat(published) if published else datetime(2025, 7, 1, tzinfo=UTC)
    except ValueError:
        when = datetime(2025, 7, 1, tzinfo=UTC)
    message["Date"] = email.utils.format_datetime(when if when.tzinfo else when.replace(tzinfo=UTC))
    message["Message-ID"] = email.utils.make_msgid(domain=site)
    text = article["text"]
    cut = text[:BODY_CHARS].rsplit("\n", 1)[0] if len(text) > BODY_CHARS else text
    message.set_content(cut + f"\n\nRead more: {article['url']}\n")
    return message


class _PeakSampler(threading.Thread):
    """The highest VmHWM (peak RSS) of this process's descendants (the fork server and its reading workers)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            for pid in _descendants(os.getpid()):
                self.peak_kb = max(self.peak_kb, _hwm_kb(pid))


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        found.extend(int(c) for c in children)
        todo.extend(int(c) for c in children)
    return found


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(path: Path, index: Path) -> dict[str, Any]:
    """Ingest ``path`` into a fresh index at ``index``, in this process; the figures of that one ingest."""
    from rag.service.newsrag import NewsRAG

    newsrag = NewsRAG(index_dir=index, engine="extractive")
    newsrag.store  # noqa: B018 - the index opened and the embedder built before the clock starts
    newsrag.components.embedder.get_text_embedding("warm up")
    sampler = _PeakSampler()
    sampler.start()
    first: list[float] = []
    updates: list[Any] = []
    started = time.perf_counter()

    def progress(outcome: Any) -> None:
        if not first and outcome.status in ("added", "updated"):
            first.append(time.perf_counter() - started)

    def reading(update: Any) -> None:
        updates.append(update)

    options: dict[str, Any] = {"progress": progress}
    if "reading" in NewsRAG.ingest.__code__.co_varnames:  # the code before #34 item 7 had no reading progress
        options["reading"] = reading
    report = newsrag.ingest(path, **options)
    seconds = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    written = [o for o in report.outcomes if o.status in ("added", "updated")]
    return {
        "seconds": round(seconds, 2),
        "articles": len(written),
        "failed": [f"{o.origin}: {o.reason}" for o in report.failed][:5],
        "chunks": report.chunks_written,
        "first_written_s": round(first[0], 2) if first else None,
        "reading_updates": len(updates),
        "parent_peak_rss_mb": round(peak_rss_mb()),
        "worker_peak_rss_mb": round(sampler.peak_kb / 1024),
    }


def _measure_apart(path: Path) -> dict[str, Any]:
    """:func:`measure` in a process of its own, with the project that ``sys.path`` names (this checkout)."""
    with tempfile.TemporaryDirectory(prefix="newsrag-bigfiles-") as tmp:
        command = [sys.executable, "-m", "evals.big_files", "--measure", str(path), "--index", f"{tmp}/index"]
        env = os.environ | {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
        done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"measuring {path.name} failed: {done.stderr.strip()[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def run(cache: Path = CACHE) -> dict[str, Any]:
    """Both files measured: the PDF's figures per page, the mailbox's per message."""
    import pypdfium2 as pdfium

    pdf = debian_reference(cache)
    pages = len(pdfium.PdfDocument(pdf))
    mbox = realtimeqa_mailbox(cache)
    result: dict[str, Any] = {}
    for name, path, units, unit in (("pdf", pdf, pages, "pages"), ("mailbox", mbox, MESSAGES, "messages")):
        figures = _measure_apart(path)
        figures |= {
            "file": path.name,
            "megabytes": round(path.stat().st_size / 1e6, 2),
            unit: units,
            f"{unit}_per_s": round(units / figures["seconds"], 2),
            "chunks_per_s": round(figures["chunks"] / figures["seconds"], 2),
        }
        result[name] = figures
    result["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["commit"] = _commit()
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    return result


def _commit() -> str:
    got = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return got.stdout.strip() or "unknown"


ROWS = [
    ("seconds", "seconds"),
    ("pages_per_s", "pages/s"),
    ("messages_per_s", "messages/s"),
    ("chunks", "chunks written"),
    ("chunks_per_s", "chunks/s"),
    ("first_written_s", "first article written (searchable), s"),
    ("reading_updates", "progress updates while reading"),
    ("parent_peak_rss_mb", "peak RSS, ingesting process, MB"),
    ("worker_peak_rss_mb", "peak RSS, reading worker, MB"),
]


def markdown(runs: dict[str, dict[str, Any]]) -> str:
    """The figures of each run (``before``, ``after``, ...) side by side, per file."""
    labels = [label for label, r in runs.items() if isinstance(r, dict) and "pdf" in r]
    lines = ["# Big files: one long PDF, one mailbox of 1,000 messages (issue #34, item 7)", ""]
    lines += [
        f"- {label}: commit {runs[label]['commit']}, {runs[label]['when']}, {runs[label]['machine']}"
        for label in labels
    ]
    lines += ["", "Reproduce: `python -m evals.big_files --out bench` (see the module's docstring).", ""]
    for name in ("pdf", "mailbox"):
        first = runs[labels[-1]][name]
        size = f"{first.get('pages') or first.get('messages')} {'pages' if 'pages' in first else 'messages'}"
        lines += [f"## {name}: {first['file']} ({first['megabytes']} MB, {size})", ""]
        lines += ["| figure | " + " | ".join(labels) + " |", "| --- |" + " --- |" * len(labels)]
        for key, title in ROWS:
            if key in first:
                lines.append(
                    f"| {title} | " + " | ".join(str(runs[label][name].get(key, "")) for label in labels) + " |"
                )
        lines.append("")
    notes = runs.get("notes", [])  # what a person added about the runs (a comparison at the same load)
    return "\n".join(lines + (["## Notes", "", *(f"- {note}" for note in notes), ""] if notes else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for results-big-files.json and .md")
    parser.add_argument("--label", default="latest", help="name of this run in the results (default: latest)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.index)))
        return
    try:
        result = run(args.cache)
    except MissingInput as exc:
        sys.exit(f"error: {exc}")
    write(result, args.out or ROOT / "bench", args.label)


def write(result: dict[str, Any], out: Path, label: str) -> None:
    """Add this run to ``out``/results-big-files.json under ``label`` (other labels kept), and rewrite the .md."""
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "results-big-files.json"
    runs = json.loads(saved.read_text()) if saved.exists() else {}
    runs[label] = result
    saved.write_text(json.dumps(runs, indent=2) + "\n", encoding="utf-8")
    (out / "results-big-files.md").write_text(markdown(runs), encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
