"""The app as a daily archive (issue #20), in headless Chromium against a real `newsrag serve` over 300 articles.

The articles are synthesised (``evals/archive.py``) and ingested once for the module through the real
pipeline (`newsrag ingest`). The tests run in file order: the read-only ones first, then those that delete.
A 390 px screenshot of the page goes to docs/screenshot-390.png, which the README shows.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from evals.app_process import BIN, Server, environment, serving
from evals.archive import DAYS, FIRST_DAY, SOURCES, article, write_archive
from evals.suite import load_suite
from rag.service.history import HistoryLog, Rating
from tests.conftest import ROOT, SAMPLE
from tests.served.test_app_browser import SLOW, App
from tests.support.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.server]

N = 300  # twelve pages of 25; the Articles tab at 100,000 articles is measured by `make bench`
TOTAL = N + 1  # and the bundled sample
PUTIN = "What are Putin's peace conditions?"


@pytest.fixture(scope="module")
def archive_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("archive-server")
    folder = write_archive(root / "articles", N)
    shutil.copy(SAMPLE, folder / SAMPLE.name)
    env = environment(root)
    subprocess.run([BIN / "newsrag", "ingest", str(folder)], env=env, cwd=root, check=True, capture_output=True)
    with serving("archive", root, ingest=False, NEWSRAG_ADMINS="*") as started:  # every visitor manages: it deletes
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def app(browser: Any, archive_server: Server) -> Iterator[App]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    app = App(context.new_page(), archive_server.url)
    app.open()
    yield app
    context.close()
    assert app.outside == [], "the page reached beyond the server"


def _articles(app: App) -> Any:
    app.page.get_by_role("tab", name="Articles").click()
    expect(app.page.locator("#nr-article-count")).to_contain_text("of", timeout=SLOW)
    return app.page.locator("#nr-articles")


def _rows(app: App) -> list[str]:
    """The shown rows of the article list, one text each (the header row left out)."""
    rows = app.page.locator("#nr-articles [role=row]")
    return [rows.nth(i).inner_text() for i in range(1, rows.count())]


def _search(app: App, text: str, expect_count: str) -> None:
    box = app.page.locator("#nr-article-search textarea")
    box.fill(text)
    box.press("Enter")
    expect(app.page.locator("#nr-article-count")).to_contain_text(expect_count, timeout=SLOW)


def _total(app: App) -> int:
    """How many articles the list's count line says the index holds."""
    text = app.page.locator("#nr-article-count").inner_text()
    return int(re.search(r"of ([\d,]+) article", text).group(1).replace(",", ""))  # type: ignore[union-attr]


def _choose(app: App, elem_id: str, option: str) -> None:
    app.page.locator(f"#{elem_id} input").click()
    app.page.get_by_role("option", name=option, exact=True).click()


# ----- Articles: read-only first
def test_the_list_shows_one_page_of_the_archive_and_pages_on(app: App) -> None:
    _articles(app)
    count = app.page.locator("#nr-article-count")
    expect(count).to_contain_text(f"1–25 of {TOTAL:,} articles indexed")
    assert len(_rows(app)) == 25  # one page sent, never the whole list
    first_page = _rows(app)
    app.page.get_by_role("button", name="Next →").click()
    expect(count).to_contain_text(f"26–50 of {TOTAL:,}", timeout=SLOW)
    second_page = _rows(app)
    assert len(second_page) == 25 and not set(first_page) & set(second_page)
    dates = [row.split("\n")[2] for row in first_page + second_page]
    assert dates == sorted(dates, reverse=True)  # newest first
    app.page.get_by_role("button", name="← Previous").click()
    expect(count).to_contain_text(f"1–25 of {TOTAL:,}", timeout=SLOW)
    assert _rows(app) == first_page


def test_search_finds_by_title_and_source(app: App) -> None:
    _articles(app)
    _search(app, f"report {(N - 10) // 10:04d}", "1–10 of 10 articles matching")  # the last ten reports
    assert sorted(row.split("\n")[0][-13:-1] for row in _rows(app)) == [f"report {i:05d}" for i in range(N - 10, N)]
    _search(app, SOURCES[2], f"of {N // len(SOURCES)} articles matching")
    assert all(SOURCES[2] in row for row in _rows(app))
    _search(app, "no such headline", "No article matches.")
    assert _rows(app) == [] or _rows(app) == [""]


def test_sort_by_title_both_ways_and_by_chunks(app: App) -> None:
    _articles(app)
    titles = sorted([article(i)[1].split("title: ")[1].split("\n")[0] for i in range(N)] + [
        "Trump says progress made in US envoy Witkoff’s meeting with Russia’s Putin"], key=str.lower)  # fmt: skip
    _choose(app, "nr-sort", "title")
    _choose(app, "nr-order", "ascending (oldest, A–Z, fewest)")
    expect(app.page.locator("#nr-articles [role=row]").nth(1)).to_contain_text(titles[0], timeout=SLOW)
    assert [row.split("\n")[0] for row in _rows(app)] == titles[:25]
    _choose(app, "nr-order", "descending (newest, Z–A, most)")
    expect(app.page.locator("#nr-articles [role=row]").nth(1)).to_contain_text(titles[-1], timeout=SLOW)
    _choose(app, "nr-sort", "chunks")
    expect(app.page.locator("#nr-articles [role=row]").nth(1)).to_contain_text("Witkoff", timeout=SLOW)  # 5 chunks


def test_an_article_opens_with_its_cleaned_text_and_chunks(app: App) -> None:
    _articles(app)
    _search(app, "report 00042", "1–1 of 1 article matching")
    app.page.locator("#nr-articles").get_by_text("report 00042").locator("visible=true").first.click()
    head = app.page.locator("#nr-article-head")
    expect(head).to_contain_text("(report 00042)", timeout=SLOW)
    expect(head).to_contain_text(SOURCES[42 % len(SOURCES)])
    body = article(42)[1].splitlines()[-1]
    expect(app.page.locator("#nr-article-text textarea")).to_have_value(body)
    app.page.locator("#nr-article-chunks").get_by_text("Chunks").click()
    expect(app.page.locator(".nr-chunk")).to_contain_text("chunk 1 of 1", timeout=SLOW)


# ----- Chat: keyboard, feedback, Markdown
def test_enter_asks_and_shift_enter_adds_a_line(app: App) -> None:
    box = app.page.locator("#nr-question textarea")
    box.click()
    box.type("How long did Witkoff")
    box.press("Shift+Enter")
    box.type("and Putin meet?")
    assert box.input_value() == "How long did Witkoff\nand Putin meet?"
    assert app.page.locator(".message-row.user-row").count() == 0  # nothing asked yet
    box.press("Enter")
    expect(app.page.locator(".message-row.user-row")).to_have_count(1, timeout=SLOW)
    expect(app.page.locator(".thought-group .title", has_text="Sources").first).to_be_visible(timeout=SLOW)
    assert "three hours" in app.page.locator("[data-testid='bot']").first.inner_text()


def test_feedback_is_logged_and_exported_as_a_suite(app: App, archive_server: Server, tmp_path: Path) -> None:
    marker = uuid.uuid4().hex[:6]
    good = f"How long did Witkoff and Putin meet? ({marker})"
    bad = f"What are Putin's peace conditions? ({marker})"
    app.ask(good)
    app.page.locator("#nr-chat").get_by_role("button", name="Like", exact=True).last.click()
    expect(app.page.locator("#nr-feedback-said")).to_contain_text("rated 👍", timeout=SLOW)
    app.ask(bad)
    app.page.locator("#nr-chat").get_by_role("button", name="Dislike", exact=True).last.click()
    expect(app.page.locator("#nr-feedback-said")).to_contain_text("rated 👎", timeout=SLOW)
    app.page.locator("#nr-note textarea").fill("should have said Cuba")
    app.page.get_by_role("button", name="Save note").click()
    expect(app.page.locator("#nr-feedback-said")).to_contain_text("Note saved", timeout=SLOW)

    app.page.get_by_role("button", name="Copy the answer as Markdown").click()
    copied = app.page.locator("#nr-answer-md")
    expect(copied).to_contain_text(bad, timeout=SLOW)
    expect(copied).to_contain_text("Sources:")
    expect(copied).to_contain_text("[1] Trump says progress made")

    rated = {t.question: t for t in HistoryLog(archive_server.index_dir / "history.sqlite").rated()}
    assert rated[good].rating == Rating.up and rated[bad].rating == Rating.down
    assert rated[bad].note == "should have said Cuba"
    suite = tmp_path / "from-feedback.jsonl"
    subprocess.run([BIN / "newsrag", "log", "--as-suite", str(suite), "--index-dir", str(archive_server.index_dir)],
                   check=True, capture_output=True)  # fmt: skip
    cases = {c.question: c for c in load_suite(suite)}
    assert any("three hours" in phrasing for group in cases[good].key_facts for phrasing in group)
    assert cases[good].evidence and not cases[good].review
    assert cases[bad].answer == "should have said Cuba" and cases[bad].review
    assert any("conditions for peace" in e for e in cases[bad].evidence)


# ----- History
def test_history_lists_searches_exports_reopens_and_deletes(app: App, browser: Any, archive_server: Server) -> None:
    marker = uuid.uuid4().hex[:6]
    first, second = f"How long did Witkoff and Putin meet? [{marker}]", f"What are Putin's peace conditions? [{marker}]"
    app.ask(first)
    app.page.get_by_role("button", name="New conversation").click()
    app.page.locator("[data-testid='bot']").first.wait_for(state="detached", timeout=SLOW)
    app.ask(second)
    listed = app.history(second)
    assert listed.index(second) < listed.index(first)  # newest first
    assert dt.date.today().isoformat() in listed

    search = app.page.locator("#nr-history-search textarea")
    search.fill("peace conditions")
    search.press("Enter")
    expect(app.page.locator("#nr-past")).not_to_contain_text(first, timeout=SLOW)
    expect(app.page.locator("#nr-past")).to_contain_text(second)
    search.fill("")
    search.press("Enter")

    app.pick_conversation(first)
    app.page.get_by_role("button", name="Export as Markdown").click()
    exported = app.page.locator("#nr-exported")
    expect(exported).to_contain_text(f"# {first}", timeout=SLOW)
    expect(exported).to_contain_text("Sources:")
    expect(exported).to_contain_text("[1] Trump says progress made")

    app.page.get_by_role("button", name="Open in chat").click()
    app.page.get_by_label(f"user's message: {first}").wait_for(timeout=SLOW)
    follow_up = app.ask("And what did they agree?")[0].inner_text()
    assert follow_up
    app.history(first)
    row = app.page.locator("#nr-past [role=row]", has_text=first)
    expect(row).to_contain_text("2", timeout=SLOW)
    assert row.inner_text().split("\n")[-1].strip() == "2"  # the reopened conversation goes on: two questions now

    # Another visitor sees none of it, not even by searching for its text.
    other = App(browser.new_context(viewport={"width": 1280, "height": 900}).new_page(), archive_server.url)
    try:
        other.open()
        other.page.get_by_role("tab", name="History").click()
        box = other.page.locator("#nr-history-search textarea")
        box.fill(marker)
        box.press("Enter")
        other.page.wait_for_timeout(1500)
        assert marker not in other.page.locator("#nr-past").inner_text()
    finally:
        other.page.context.close()

    app.pick_conversation(second)
    app.page.locator("#nr-history-delete").click()
    expect(app.page.locator("#nr-history-said")).to_contain_text("Deleted the conversation", timeout=SLOW)
    expect(app.page.locator("#nr-past")).not_to_contain_text(second, timeout=SLOW)
    expect(app.page.locator("#nr-past")).to_contain_text(first)


# ----- a phone
def test_the_page_fits_a_390_px_screen(browser: Any, archive_server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    app = App(context.new_page(), archive_server.url)
    try:
        app.open()
        app.ask(PUTIN)
        wide = "document.documentElement.scrollWidth"
        assert app.page.evaluate(wide) <= 390  # nothing pushes the page sideways
        shot = app.shot("phone-chat")
        (ROOT / "docs").mkdir(exist_ok=True)
        app.page.screenshot(path=str(ROOT / "docs" / "screenshot-390.png"))  # the first screen, as a phone shows it
        assert shot.exists()
        _articles(app)
        assert app.page.evaluate(wide) <= 390
        app.shot("phone-articles")
    finally:
        context.close()


# ----- Articles: deleting, last
def test_delete_an_article_from_its_row(app: App) -> None:
    _articles(app)
    _search(app, "report 00150", "1–1 of 1 article matching")
    app.page.locator("#nr-articles").get_by_text("report 00150").locator("visible=true").first.click()
    expect(app.page.locator("#nr-article-head")).to_contain_text("(report 00150)", timeout=SLOW)
    app.page.get_by_role("button", name="Delete this article").click()
    expect(app.page.locator("#nr-deleted")).to_contain_text("Deleted “", timeout=SLOW)
    expect(app.page.locator("#nr-article-count")).to_contain_text("No article matches.", timeout=SLOW)
    expect(app.page.locator("#nr-status")).to_contain_text(f"{TOTAL - 1:,} articles", timeout=SLOW)


def test_bulk_delete_by_source_and_date_range_after_a_confirmation(app: App) -> None:
    source = SOURCES[4]
    march = [i for i in range(N) if i % len(SOURCES) == 4 and 59 <= i % DAYS <= 89]  # 2025-03-01 to 03-31
    assert all((FIRST_DAY + dt.timedelta(days=i % DAYS)).month == 3 for i in march)
    _articles(app)
    before = _total(app)
    app.page.locator("#nr-bulk").get_by_text("Delete in bulk").click()
    _choose(app, "nr-bulk-source", source)
    app.page.locator("#nr-bulk-since textarea").fill("2025-03-01")
    app.page.locator("#nr-bulk-until textarea").fill("2025-03-31")
    app.page.get_by_role("button", name="Count the articles to delete").click()
    confirm = app.page.locator("#nr-bulk-confirm-text")
    expect(confirm).to_contain_text(f"{len(march)} articles will be deleted", timeout=SLOW)
    assert _total(app) == before  # nothing gone yet
    app.page.get_by_role("button", name=f"Delete {len(march)} articles").click()
    expect(confirm).to_contain_text(f"Deleted {len(march)} articles.", timeout=SLOW)
    expect(app.page.locator("#nr-article-count")).to_contain_text(f"of {before - len(march):,}", timeout=SLOW)
    _search(app, source, f"of {N // len(SOURCES) - len(march)} articles matching")
