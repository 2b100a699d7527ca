"""The chat app in a real browser: Debian's chromium driven by playwright against a real `newsrag serve`.

Screenshots go to tests/artifacts/ (the chat one also to docs/screenshot.png, which the README shows);
measured timings go to tests/artifacts/metrics.json.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS, ROOT
from tests.served.test_http_api import FACTS, PASSWORD, PUTIN, USER, Server
from tests.support.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.server]

SLOW = 90_000  # ms: answers take seconds on a busy 2-core machine
METRICS: dict[str, float] = {}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "metrics.json").write_text(json.dumps(METRICS, indent=2))


class App:
    """One browser tab on the app, with the few gestures the scenarios need."""

    def __init__(self, page: Any, url: str) -> None:
        self.page, self.url = page, url
        self.outside: list[str] = []  # requests to anywhere but the server
        page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else self.outside.append(r.url))

    def open(self) -> float:
        started = time.perf_counter()
        self.page.goto(self.url + "/", wait_until="load")
        self.page.locator("#nr-question textarea").wait_for(timeout=SLOW)
        self.page.get_by_text("chunks").first.wait_for(timeout=SLOW)  # the status line: the index answered
        return time.perf_counter() - started

    def ask(self, question: str) -> tuple[Any, float]:
        """Ask and wait for the finished answer; returns the answer's row and the seconds it took."""
        rows = self.page.locator(".message-row.bot-row")
        before = rows.count()
        box = self.page.locator("#nr-question textarea")
        box.fill(question)
        started = time.perf_counter()
        box.press("Enter")
        # Finished: a new answer row with its Sources/Notes block, or a refusal, or an error.
        self.page.wait_for_function(
            """([before, done]) => {
                const rows = document.querySelectorAll('.message-row.bot-row');
                if (rows.length <= before) return false;
                const last = rows[rows.length - 1];
                const tracker = document.querySelector('#nr-chat [data-testid="status-tracker"]');
                const idle = tracker === null || tracker.classList.contains('hide');
                const block = last.querySelector('.thought-group') !== null;
                return idle && (block || done.some(t => last.innerText.includes(t)));
            }""",
            arg=[before, ["Nothing in the indexed articles"]],
            timeout=SLOW,
        )
        return rows.last, time.perf_counter() - started

    def open_sources(self, bubble: Any) -> Any:
        """Expand the answer's Sources block (again, if a late re-render of the chat folded it)."""
        title = bubble.locator(".thought-group .title", has_text="Sources")
        passage = bubble.locator(".nr-passage").first
        for _ in range(5):
            if not passage.is_visible():
                title.click()
            self.page.wait_for_timeout(1000)
            if passage.is_visible():
                return passage
        raise AssertionError("the Sources block does not open")

    def history(self, waiting_for: str = "") -> str:
        """The History tab's list as text, once ``waiting_for`` is listed (or the wait runs out)."""
        self.page.get_by_role("tab", name="History").click()
        listed = self.page.locator("#nr-past")
        deadline = time.monotonic() + SLOW / 1000
        while True:
            text = listed.inner_text()
            if waiting_for in text or time.monotonic() > deadline:
                return text
            self.page.wait_for_timeout(500)

    def pick_conversation(self, question: str) -> None:
        """Choose a conversation in the History tab: its buttons (open, export, delete) show."""
        self.history(question)
        self.page.locator("#nr-past").get_by_text(question).locator("visible=true").first.click()
        expect(self.page.locator("#nr-history-said")).to_contain_text(question, timeout=SLOW)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def app(browser: Any, server: Server) -> Iterator[App]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    app = App(context.new_page(), server.url)
    METRICS.setdefault("server_start_to_ready_s", round(server.seconds_to_ready, 2))
    METRICS.setdefault("page_ready_s", round(app.open(), 2))
    yield app
    context.close()
    assert app.outside == [], "the page reached beyond the server"


def test_sample_question_shows_the_four_conditions_and_their_source(app: App) -> None:
    example = app.page.get_by_role("button", name=PUTIN)
    example.wait_for(timeout=SLOW)  # offered as an example question
    bubble, seconds = app.ask(PUTIN)
    METRICS["sample_answer_latency_s"] = round(seconds, 2)
    answer = bubble.locator("[data-testid='bot']").first.inner_text()
    for fact in FACTS:
        assert fact in answer
    assert "[1]" in answer
    passage = app.open_sources(bubble)
    assert "[1] Trump says progress made" in bubble.locator(".nr-source-head").first.inner_text()
    assert "conditions for peace" in passage.locator("mark").inner_text()
    assert "Nato" in passage.inner_text()
    shot = app.shot("chat")
    (ROOT / "docs").mkdir(exist_ok=True)
    shutil.copyfile(shot, ROOT / "docs" / "screenshot.png")


def test_example_question_button_asks_it(app: App) -> None:
    app.page.get_by_role("button", name=PUTIN).click()
    app.page.get_by_label(f"user's message: {PUTIN}").wait_for(timeout=SLOW)
    app.page.locator(".thought-group .title", has_text="Sources").first.wait_for(timeout=SLOW)
    assert "Nato" in app.page.locator("[data-testid='bot']").first.inner_text()


def test_follow_up_question_and_new_conversation(app: App) -> None:
    app.ask(PUTIN)
    bubble, _ = app.ask("And what did Zelensky say about them?")
    assert "Zelensky" in bubble.locator("[data-testid='bot']").first.inner_text()
    assert bubble.locator(".thought-group .title", has_text="Sources").count() == 1
    app.shot("follow-up")
    app.page.get_by_role("button", name="New conversation").click()
    app.page.locator("[data-testid='bot']").first.wait_for(state="detached", timeout=SLOW)


def test_unanswerable_question_is_refused_without_sources(app: App) -> None:
    bubble, _ = app.ask("Who won the football World Cup final?")
    text = bubble.inner_text()
    assert "don't say" in text and "[1]" not in text
    assert bubble.locator(".thought-group .title", has_text="Sources").count() == 0
    app.shot("refusal")


def test_upload_an_article_then_ask_about_it(app: App, tmp_path: Path) -> None:
    article = tmp_path / "harbour ferry (final).txt"
    article.write_text(
        "---\ntitle: Northport council approves ferry terminal\nsource: Northport Gazette\n"
        "published: 2025-09-14\nurl: https://gazette.example/ferry-terminal\n---\n"
        "Northport council approves ferry terminal\n"
        "The Northport city council approved a budget of 48 million euros for a new ferry terminal on Monday.\n"
        "Construction is due to start in March and the terminal should open in 2028, the mayor said.\n"
        "The terminal will serve ferries to the islands of Vell and Ostra.\n",
        encoding="utf-8",
    )
    page = app.page
    page.get_by_role("tab", name="Articles").click()
    page.locator("#nr-files input[type=file]").set_input_files(str(article))
    page.locator("#nr-files").get_by_text(article.name).wait_for(timeout=SLOW)
    page.get_by_role("button", name="Add to the index").click()
    results = page.locator("#nr-results")
    expect(results).to_contain_text("added", timeout=SLOW)
    expect(results).to_contain_text(article.name)  # the user's file name, not the stored one
    listed = page.locator("#nr-articles")
    expect(listed).to_contain_text("Northport council approves ferry terminal", timeout=SLOW)
    expect(listed).to_contain_text("Northport Gazette")
    app.shot("articles")

    page.get_by_role("tab", name="Chat").click()
    example = page.get_by_role("button", name="What does “Northport council approves ferry terminal” report?")
    expect(example).to_be_visible(timeout=SLOW)  # the new article is offered as an example question
    bubble, _ = app.ask("How much did the Northport council approve for the ferry terminal?")
    assert "48 million euros" in bubble.locator("[data-testid='bot']").first.inner_text()
    app.open_sources(bubble)
    head = bubble.locator(".nr-source-head").first.inner_text()
    assert "Northport council approves ferry terminal" in head
    meta = bubble.locator(".nr-source-meta").first
    assert "Northport Gazette" in meta.inner_text() and "2025-09-14" in meta.inner_text()
    assert meta.locator("a").get_attribute("href") == "https://gazette.example/ferry-terminal"
    app.shot("uploaded-article-cited")

    # Delete it again: open its row, delete, and it leaves the list.
    page.get_by_role("tab", name="Articles").click()
    listed.get_by_text("Northport council approves ferry terminal").locator("visible=true").first.click()
    expect(page.locator("#nr-article-head")).to_contain_text("Northport council", timeout=SLOW)
    expect(page.locator("#nr-article-text textarea")).to_have_value(re.compile("48 million euros"))
    page.get_by_role("button", name="Delete this article").click()
    expect(page.get_by_text("Deleted “Northport council approves ferry terminal”")).to_be_visible(timeout=SLOW)
    expect(listed).not_to_contain_text("Northport council approves ferry terminal", timeout=SLOW)


def test_settings_and_status_tell_what_answers(app: App) -> None:
    status = app.page.locator("#nr-status").inner_text()
    assert "article" in status and "chunks" in status and "engine extractive" in status and "minilm" in status
    app.page.get_by_text("Settings", exact=True).click()
    info = app.page.get_by_text("No LLM is configured")
    info.wait_for(timeout=SLOW)
    assert "NEWSRAG_LLM_BASE_URL" in info.inner_text()


def test_settings_ask_as_of_a_day_and_the_reading_of_time_words_is_shown(app: App) -> None:
    app.page.get_by_text("Settings", exact=True).click()
    app.page.locator("#nr-as-of input, #nr-as-of textarea").first.fill("2025-08-08")
    bubble, _ = app.ask("What were Putin's peace conditions last week?")
    notes = bubble.locator(".thought-group", has_text="Notes").first
    notes.locator(".title").click()
    expect(notes).to_contain_text("Read “last week” as articles from 2025-07-28 to 2025-08-08", timeout=SLOW)
    assert "Nato" in bubble.locator("[data-testid='bot']").first.inner_text()  # the undated sample still answers


def test_history_reopens_a_past_conversation(app: App) -> None:
    app.ask("How long did Witkoff and Putin meet?")
    app.page.get_by_role("button", name="New conversation").click()
    app.pick_conversation("How long did Witkoff and Putin meet?")
    app.page.get_by_role("button", name="Open in chat").click()
    app.page.get_by_label("user's message: How long did Witkoff and Putin meet?").wait_for(timeout=SLOW)
    assert "three hours" in app.page.locator("[data-testid='bot']").first.inner_text()


def test_login_is_required_when_auth_is_set(browser: Any, auth_server: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(auth_server.url + "/", wait_until="load")
    page.get_by_role("button", name="Login").wait_for(timeout=SLOW)
    assert page.locator("#nr-question").count() == 0
    page.get_by_label("username").fill(USER)
    page.get_by_label("password").fill("wrong")
    page.get_by_role("button", name="Login").click()
    page.get_by_text("Incorrect Credentials").wait_for(timeout=SLOW)
    page.get_by_label("username").fill(USER)  # the form starts over after a failed login
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    page.locator("#nr-question textarea").wait_for(timeout=SLOW)
    # This server's LLM endpoint is down: the answer falls back to extractive and says so.
    app = App(page, auth_server.url)
    bubble, _ = app.ask(PUTIN)
    notes = bubble.locator(".thought-group", has_text="Notes")
    expect(notes).to_contain_text("showing the extractive answer")
    assert "Nato" in bubble.inner_text()
    app.page.get_by_text("Settings", exact=True).click()
    expect(app.page.get_by_text("An LLM is configured")).to_be_visible(timeout=SLOW)
    app.shot("logged-in-llm-down")
    context.close()


# ----- how answers are drawn (no browser needed)
def _answer(**fields: Any) -> Any:
    from rag.core.types import Answer, Citation

    # model_construct skips the models' own url check, so that the page's check is the one tested here.
    citation = Citation.model_construct(chunk_id="c", article_id="a", title="T <b>", source="", published_at="",
                                        text="One. Two  words here. Three.", quote="Two words here.", number=1,
                                        supported=True, url="javascript:alert(1)")  # fmt: skip
    base = {"refused": False, "flags": [], "notices": [], "timings": {}, "passages": []}
    return Answer.model_construct(question="q", text="Two words here. [1]", engine="llm", citations=[citation],
                                  **(base | fields))  # fmt: skip


def test_render_shows_notices_flags_and_marks_the_quote() -> None:
    from rag.ui.messages import render_answer

    answer, notes, sources = render_answer(_answer(notices=["the LLM failed"], flags=["unsupported: x"]))
    assert notes.metadata["title"] == "⚠️ Notes" and "the LLM failed" in notes.content and "unsupported" in notes.content
    assert sources.metadata["title"] == "Sources"
    assert "<mark>Two  words here.</mark>" in sources.content
    assert "T &lt;b&gt;" in sources.content and "javascript:" not in sources.content


def test_render_a_refusal_without_sources() -> None:
    from rag.ui.messages import render_answer

    (only,) = render_answer(_answer().model_copy(update={"text": "The indexed articles don't say.", "refused": True,
                                                        "citations": []}))  # fmt: skip
    assert "don't say" in only.content and "Nothing in the indexed articles" in only.content


def test_turns_leave_out_sources_notes_and_errors() -> None:
    from rag.ui.messages import turns_of

    messages = [
        {"role": "user", "content": [{"type": "text", "text": "AT&amp;T?"}]},
        {"role": "assistant", "content": "An answer. [1]"},
        {"role": "assistant", "content": "<div>passage</div>", "metadata": {"title": "Sources"}},
        {"role": "assistant", "content": "- note", "metadata": {"title": "⚠️ Notes"}},
    ]
    assert turns_of(messages) == [("user", "AT&T?"), ("assistant", "An answer. [1]")]


def test_example_questions_are_known_good_for_the_sample_then_one_per_article() -> None:
    from rag.ui.chat_tab import SAMPLE_QUESTIONS, example_questions

    titles = ["Harbour strike ends", "Trump says progress made in US envoy Witkoff’s meeting with Russia’s Putin"]
    assert example_questions(titles) == [*SAMPLE_QUESTIONS, "What does “Harbour strike ends” report?"]
    assert example_questions(["Harbour strike ends"]) == ["What does “Harbour strike ends” report?"]
