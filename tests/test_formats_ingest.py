"""The new kinds of file through the whole ingest (real MiniLM, embedded Chroma), the CLI and citations.

A batch of hostile files fails one file at a time with its reason while the rest is indexed; a mixed folder of
every kind ingests in one `newsrag ingest` and again as all "unchanged"; a folder walk reports what it left
unread; a PDF citation names its page and a web-archive citation its capture date.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.service.newsrag import NewsRAG
from tests.support.documents import (
    NOW,
    news_page,
    newsletter,
    write_docx,
    write_mbox,
    write_pdf,
    write_warc,
    write_zip_bomb_docx,
)
from tests.test_formats import NEWSLETTER_HTML, PAGES, REPORT, brief

NEWSRAG = Path(sys.executable).with_name("newsrag")
STORY = (
    "Ferry service resumes\n\nThe island ferry resumed its daily crossings on Thursday after a storm damaged the pier"
    " last month. Repairs cost the county two million dollars, the harbour master said.\n"
)


def by_name(report: object) -> dict[str, tuple[str, str]]:
    return {Path(o.origin).name: (o.status, o.reason) for o in report.outcomes}  # type: ignore[attr-defined]


def test_hostile_files_fail_one_at_a_time(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    write_pdf(folder / "locked.pdf", REPORT, password="secret")
    write_zip_bomb_docx(folder / "bomb.docx", unpacked_mb=120)
    write_mbox(folder / "archive.mbox", [brief(n) for n in range(1, 10_001)])
    whole = write_warc(tmp_path / "whole.warc.gz", PAGES).read_bytes()
    (folder / "cut.warc.gz").write_bytes(whole[:-300])
    (folder / "ferry.txt").write_text(STORY, encoding="utf-8")
    write_docx(folder / "release.docx", title="Bridge reopens early")

    newsrag = NewsRAG(index_dir=tmp_path / "index", max_archive_items=5)
    report = newsrag.ingest(folder)
    outcomes = by_name(report)
    assert outcomes["locked.pdf"] == ("failed", "encrypted: it needs a password to open; index an unprotected copy")
    assert outcomes["bomb.docx"][0] == "failed" and "zip bomb" in outcomes["bomb.docx"][1]
    assert outcomes["cut.warc.gz"][0] == "failed" and "cut short" in outcomes["cut.warc.gz"][1]
    assert outcomes["archive.mbox#messages6-10000"] == (
        "skipped",
        "skipped: the mailbox holds 10,000 messages, and only the first 5 are read (NEWSRAG_MAX_ARCHIVE_ITEMS)",
    )
    # Everything else is indexed: the good files, the mailbox's first messages, the archive's page before the cut.
    assert outcomes["ferry.txt"][0] == outcomes["release.docx"][0] == "added"
    assert [outcomes[f"archive.mbox#message{n}"][0] for n in range(1, 6)] == ["added"] * 5
    titles = {a.title for a in newsrag.articles()}
    assert {"Ferry service resumes", "Bridge reopens early", "Brief 1", "Brief 5"} <= titles
    assert len(report.failed) == 3 and not report.ok


def mixed_folder(folder: Path) -> Path:
    """One article in each kind newsrag reads, a file it does not read, and a hidden file."""
    folder.mkdir()
    (folder / "ferry.txt").write_text(STORY, encoding="utf-8")
    (folder / "rail.md").write_text(
        "---\ntitle: Rail line opens\nsource: Rail Gazette\ndate: 2025-08-04\n---\nA new high-speed rail line opened"
        " on Monday, cutting the journey between the two largest cities to an hour.\n",
        encoding="utf-8",
    )
    (folder / "page.html").write_text(
        news_page("Library extends hours", ["The city library will stay open until ten every weekday from May."]),
        encoding="utf-8",
    )
    record = {
        "title": "Zoo welcomes panda",
        "text": "The zoo welcomed a giant panda on loan for ten years from abroad.",
    }
    (folder / "one.json").write_text(json.dumps(record), encoding="utf-8")
    line = {"title": "Airport adds routes", "text": "The airport will add six routes to southern Europe in the summer."}
    (folder / "lines.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    write_pdf(folder / "report.pdf", REPORT, {"/Title": "Council passes school budget"})
    write_docx(folder / "release.docx", title="Bridge reopens early")
    mail = newsletter("Rates on hold", "The Morning Brief <brief@news.example.com>", NOW, NEWSLETTER_HTML)
    (folder / "brief.eml").write_bytes(mail.as_bytes())
    write_warc(folder / "crawl.warc", PAGES)
    (folder / "budget.xlsx").write_bytes(b"PK\x03\x04")
    (folder / ".DS_Store").write_bytes(b"\0")
    return folder


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NEWSRAG), *args], capture_output=True, text=True, timeout=300, env=os.environ.copy())


@pytest.mark.slow
def test_mixed_folder_in_one_ingest_then_unchanged(tmp_path: Path) -> None:
    folder = mixed_folder(tmp_path / "mixed")
    index = str(tmp_path / "cli-index")
    first = run_cli("ingest", str(folder), "--index-dir", index, "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    statuses = sorted(Path(o["origin"].split("#")[0]).name for o in report["outcomes"] if o["status"] == "added")
    kinds = ["brief.eml", "crawl.warc", "crawl.warc", "ferry.txt", "lines.jsonl", "one.json", "page.html"]
    assert statuses == sorted([*kinds, "rail.md", "release.docx", "report.pdf"])
    assert all(o["status"] == "added" for o in report["outcomes"]), report["outcomes"]
    assert {(Path(u["path"]).name, u["kind"]) for u in report["unread"]} == {
        ("budget.xlsx", ".xlsx"),
        (".DS_Store", "hidden"),
    }

    again = run_cli("ingest", str(folder), "--index-dir", index)
    assert again.returncode == 0, again.stderr
    assert "0 added, 0 updated, 10 unchanged, 0 duplicate, 0 removed, 0 failed" in again.stderr
    assert "2 not read in the folders (1 .xlsx, 1 hidden)" in again.stderr
    assert "not read 1 .xlsx file(s): not a kind newsrag reads (.xlsx)" in again.stderr
    assert "budget.xlsx" not in again.stderr

    verbose = run_cli("ingest", str(folder), "--index-dir", index, "--verbose")
    assert f"not read {folder / 'budget.xlsx'}: not a kind newsrag reads" in verbose.stderr
    assert f"not read {folder / '.DS_Store'}: hidden" in verbose.stderr


def test_folder_of_unread_files_is_not_silent(tmp_path: Path, newsrag: NewsRAG) -> None:
    folder = tmp_path / "office"
    folder.mkdir()
    for name in ("a.xlsx", "b.xlsx", "slides.pptx"):
        (folder / name).write_bytes(b"PK")
    report = newsrag.ingest(folder)
    assert report.ok and not report.outcomes
    assert report.unread_by_kind() == {".xlsx": 2, ".pptx": 1}
    assert report.summary().endswith("; 3 not read in the folders (2 .xlsx, 1 .pptx)")


def test_pdf_citation_names_its_page(tmp_path: Path) -> None:
    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive", chunk_size=48, chunk_overlap=0)
    assert newsrag.ingest(write_pdf(tmp_path / "report.pdf", REPORT, {"/Title": "Council report"})).ok
    answer = newsrag.ask("Which grant will the harbour authority receive to dredge the shipping lane?")
    assert not answer.refused, answer
    cited = next(c for c in answer.citations if "dredge" in c.text)
    # The passage starts on page 3, where the sentence is, and runs on into page 4.
    assert (cited.page, cited.last_page) == (3, 4)
    assert cited.label() == "Council report — pp. 3–4"
    assert "pp. 3–4" in answer.sources_markdown()
    from rag.ui.messages import render_answer

    assert "pp. 3–4" in "".join(str(m.content) for m in render_answer(answer))  # the app's Sources block


def test_warc_citation_says_when_the_page_was_seen(tmp_path: Path) -> None:
    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive")
    assert newsrag.ingest(write_warc(tmp_path / "crawl.warc.gz", PAGES)).ok
    answer = newsrag.ask("When did the dock workers end their strike?")
    cited = next(c for c in answer.citations if "Dock workers" in c.text)
    assert cited.seen_at.startswith("2024-03-05") and cited.published_at == ""
    assert cited.label() == "Port strike ends — news.example.com — seen 2024-03-05"


def test_app_uploads_of_the_new_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.service.services import Services
    from rag.ui.articles_tab import add_handler

    upload_folder = tmp_path / "gradio" / "abc"
    upload_folder.mkdir(parents=True)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    files = [
        write_pdf(upload_folder / "Council Report.pdf", REPORT, {"/Title": "Council report"}),
        write_mbox(upload_folder / "briefs.mbox", [brief(1), brief(2)]),
        write_warc(upload_folder / "crawl.warc.gz", PAGES),
        upload_folder / "sheet.xlsx",
    ]
    files[-1].write_bytes(b"PK")
    add = add_handler(Services(newsrag=NewsRAG(index_dir=tmp_path / "index"), auth=None), {str(f) for f in files})
    rows = add([str(f) for f in files], "")
    shown = [(name, status, title) for name, status, title, *_ in rows]
    assert shown[0] == ("sheet.xlsx", "failed", "")  # refused before anything is read
    assert "unsupported file type .xlsx" in rows[0][-1]
    assert shown[1:] == [
        ("Council Report.pdf", "added", "Council report"),
        ("briefs.mbox", "added", "Brief 1"),
        ("briefs.mbox", "added", "Brief 2"),
        ("crawl.warc.gz", "added", "Bridge reopens after repairs"),
        ("crawl.warc.gz", "added", "Port strike ends"),
    ]
