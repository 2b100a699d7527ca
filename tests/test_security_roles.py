"""Issue #33: roles, feeds, feedback scopes, forwarded addresses, file modes, plain errors and origins.

Against one real `newsrag serve` behind two logins, ``owner`` (in NEWSRAG_ADMINS) and ``guest``, with no
trusted proxy and a cap of two feeds per login; the page in headless Chromium, the Gradio events called raw
(as any script can, whatever the page shows), and ``/v1`` over HTTP. The tests run in file order: the
article is deleted last.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from evals.app_process import BIN, Server, environment, serving
from ingest.feed_list import MAX_FEED_URL, FeedList
from rag.core.disk import make_private
from rag.server.origin_check import own_origin
from rag.service.history import HistoryLog
from rag.service.roles import DELETE_REFUSED, FEEDS_REFUSED
from rag.ui.web import proxy_options
from tests.support.browser import chromium

pytestmark = [pytest.mark.server]

OWNER, GUEST = ("owner", "owner-pass-1"), ("guest", "guest-pass-2")
PUTIN = "What are Putin's peace conditions?"
SLOW = 90_000
EVERYTHING = {"since": "1900-01-01", "until": "2100-12-31"}  # a date range every article is in


@pytest.fixture(scope="module")
def roles_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    logins = ",".join(f"{user}:{password}" for user, password in (OWNER, GUEST))
    with serving(
        "roles",
        tmp_path_factory.mktemp("roles"),
        NEWSRAG_AUTH=logins,
        NEWSRAG_ADMINS=OWNER[0],
        NEWSRAG_MAX_FEEDS_PER_USER="2",
    ) as started:
        yield started


def logged_in(server: Server, login: tuple[str, str]) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=60)
    assert client.post("/login", data={"username": login[0], "password": login[1]}).status_code == 200
    return client


def call_event(client: httpx.Client, elem_id: str, data: list[Any]) -> list[Any]:
    """Run the click event of the button ``elem_id`` through Gradio's queue, as a script could; its outputs."""
    config = client.get("/config").json()
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    event = next(d for d in config["dependencies"] if any(ids.get(t[0]) == elem_id for t in d["targets"]))
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": event["id"], "session_hash": session, "event_data": None,
            "trigger_id": event["targets"][0][0]}  # fmt: skip
    assert client.post("/gradio_api/queue/join", json=body).status_code == 200
    with client.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                assert message.get("success"), message
                return message["output"]["data"]
    raise AssertionError("the event never completed")


# ----- (11) roles: the handlers refuse visitors, whatever calls them
def test_a_visitor_cannot_bulk_delete_or_follow_feeds_through_the_gradio_api(roles_server: Server) -> None:
    guest, owner = logged_in(roles_server, GUEST), logged_in(roles_server, OWNER)
    said = call_event(guest, "nr-bulk-count", ["", EVERYTHING["since"], EVERYTHING["until"]])
    assert said[0] == DELETE_REFUSED
    # The owner gets past the role check to the count (the undated sample is in no date range).
    assert call_event(owner, "nr-bulk-count", ["", *EVERYTHING.values()])[0] == "No indexed article matches."
    feed = "https://news.example/rss.xml"
    assert call_event(guest, "nr-feed-follow", [feed, 15])[1] == FEEDS_REFUSED
    assert call_event(owner, "nr-feed-follow", [feed, 15])[1].startswith("Following")
    assert call_event(guest, "nr-feed-unfollow", [feed])[1] == FEEDS_REFUSED
    assert call_event(owner, "nr-feed-unfollow", [feed])[1].startswith("No longer following")


# ----- (4) feeds: long URLs and more than max_feeds_per_user per login are refused, in the app too
def test_feed_urls_and_feeds_per_login_are_capped_in_the_app(roles_server: Server) -> None:
    owner = logged_in(roles_server, OWNER)
    long = "https://news.example/" + "a" * MAX_FEED_URL
    assert "at most 2,048 characters" in call_event(owner, "nr-feed-follow", [long, 15])[1]
    for n in (1, 2):
        assert call_event(owner, "nr-feed-follow", [f"https://news.example/{n}.xml", 15])[1].startswith("Following")
    third = call_event(owner, "nr-feed-follow", ["https://news.example/3.xml", 15])[1]
    assert "at most 2 feeds per login" in third
    assert [f.url for f in FeedList(roles_server.index_dir / "feeds.sqlite").all()] == [
        "https://news.example/1.xml",
        "https://news.example/2.xml",
    ]


def test_the_feed_cap_counts_each_login_and_older_lists_are_the_owners(tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite"
    with sqlite3.connect(path) as db:  # a list written before "added by" was recorded
        db.execute("CREATE TABLE feeds (url TEXT PRIMARY KEY, interval REAL NOT NULL, added_at REAL NOT NULL)")
        db.execute("INSERT INTO feeds VALUES ('https://old.example/rss', 60, 1)")
    feeds = FeedList(path)
    assert not feeds.unavailable and feeds.get("https://old.example/rss").added_by == ""  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="at most 1 feeds per login"):
        feeds.add("https://new.example/rss", 60, added_by="", limit=1)
    feeds.add("https://new.example/rss", 60, added_by="user:alice", limit=1)
    feeds.add("https://old.example/rss", 120, added_by="", limit=1)  # one already followed: only its interval
    with pytest.raises(ValueError, match="2,048"):
        feeds.add("https://x.example/" + "a" * MAX_FEED_URL, 60)
    assert {f.url: (f.added_by, f.interval) for f in feeds.all()} == {
        "https://old.example/rss": ("", 120),
        "https://new.example/rss": ("user:alice", 60),
    }


# ----- (6) feedback without a login needs the answer's token
def test_v1_feedback_needs_the_token_of_the_answer_or_the_users_login(roles_server: Server) -> None:
    asked = httpx.post(
        roles_server.url + "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": PUTIN}]},
        auth=OWNER,
        timeout=120,
    ).json()["choices"][0]
    turn_id, token = asked["turn_id"], asked["feedback_token"]
    feedback = roles_server.url + "/v1/feedback"
    guest = httpx.post(feedback, json={"turn_id": turn_id, "rating": "down", "note": "x"}, auth=GUEST, timeout=30)
    assert guest.status_code == 404  # another login's answer, token or not
    mine = httpx.post(feedback, json={"turn_id": turn_id, "rating": "up"}, auth=OWNER, timeout=30)
    assert mine.status_code == 200
    rated = {t.id: t.rating for t in HistoryLog(roles_server.index_dir / "history.sqlite").rated()}
    assert rated[turn_id] == "up" and isinstance(token, str) and len(token) == 32


# ----- (7) X-Forwarded-For is believed from trusted proxies only
def test_rotating_x_forwarded_for_does_not_escape_the_login_throttle(roles_server: Server) -> None:
    statuses = []
    for n in range(25):
        headers = {"Authorization": "Bearer wrong", "X-Forwarded-For": f"203.0.113.{n + 1}"}
        statuses.append(httpx.get(roles_server.url + "/v1/models", headers=headers, timeout=30).status_code)
    assert 429 in statuses, statuses
    assert proxy_options("") == {"proxy_headers": False, "forwarded_allow_ips": []}
    assert proxy_options(" 10.0.0.1, 10.0.0.2 ")["forwarded_allow_ips"] == ["10.0.0.1", "10.0.0.2"]


# ----- (8) the index is its user's alone
def test_everything_under_the_index_is_owner_only(roles_server: Server) -> None:
    index = roles_server.index_dir
    assert (index / "history.sqlite").exists() and (index / "feeds.sqlite").exists()
    loose = [
        (str(path.relative_to(index)), oct(stat.S_IMODE(path.stat().st_mode)))
        for path in [index, *index.rglob("*")]
        if not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) & 0o077
    ]
    assert loose == []


def test_the_cli_tightens_an_index_left_readable(tmp_path: Path) -> None:
    index = tmp_path / "index"
    (index / "uploads").mkdir(parents=True)
    (index / "uploads" / "a.txt").write_text("an upload")
    (index / "uploads").chmod(0o755)
    (index / "uploads" / "a.txt").chmod(0o644)
    env = environment(tmp_path)
    subprocess.run([BIN / "newsrag", "articles"], env=env, cwd=tmp_path, check=True, capture_output=True)
    assert stat.S_IMODE((index / "uploads").stat().st_mode) == 0o700
    assert stat.S_IMODE((index / "uploads" / "a.txt").stat().st_mode) == 0o600
    assert make_private(tmp_path / "missing") == []


# ----- (9) no schema without the login; (10) other origins are refused
def test_schema_routes_need_the_login(roles_server: Server) -> None:
    for path in ("/openapi.json", "/gradio_api/openapi.json", "/config", "/gradio_api/info", "/docs"):
        response = httpx.get(roles_server.url + path, timeout=30)
        assert response.status_code in (401, 403, 404), (path, response.status_code)
    assert logged_in(roles_server, GUEST).get("/config").status_code == 200  # the same route, logged in


def test_a_cross_origin_upload_is_refused(roles_server: Server) -> None:
    guest = logged_in(roles_server, GUEST)
    files = {"files": ("a.txt", b"an article", "text/plain")}
    evil = guest.post("/gradio_api/upload", files=files, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    preflight = guest.options(
        "/gradio_api/upload",
        headers={"Origin": "http://localhost:1", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    own = guest.post("/gradio_api/upload", files=files, headers={"Origin": roles_server.url})
    assert own.status_code == 200, own.text
    assert own_origin("https://news.example", "news.example") and own_origin("http://a:80", "a")
    assert not own_origin("null", "a") and not own_origin("http://a.evil", "a")


# ----- (11) the page: a visitor sees the owner's controls disabled, the owner deletes
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _articles_page(browser: Any, server: Server, login: tuple[str, str]) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(server.url + "/", wait_until="load")
    page.get_by_label("username").fill(login[0])
    page.get_by_label("password").fill(login[1])
    page.get_by_role("button", name="Login").click()
    page.locator("#nr-question textarea").wait_for(timeout=SLOW)
    page.get_by_role("tab", name="Articles").click()
    expect(page.locator("#nr-article-count")).to_contain_text("of 1 article", timeout=SLOW)
    page.locator("#nr-articles [role=row]").nth(1).click()
    expect(page.locator("#nr-article-head")).to_be_visible(timeout=SLOW)
    return page


@pytest.mark.browser
def test_a_visitor_sees_delete_disabled_and_why(browser: Any, roles_server: Server) -> None:
    page = _articles_page(browser, roles_server, GUEST)
    expect(page.locator("#nr-role-note")).to_contain_text("for the archive's owner", timeout=SLOW)
    expect(page.locator("#nr-delete")).to_be_disabled()
    expect(page.locator("#nr-feed-url")).to_be_hidden()
    page.context.close()


@pytest.mark.browser
def test_the_owner_deletes_an_article(browser: Any, roles_server: Server) -> None:
    page = _articles_page(browser, roles_server, OWNER)
    expect(page.locator("#nr-feed-url")).to_be_visible()
    expect(page.locator("#nr-role-note")).to_be_hidden()
    page.locator("#nr-delete").click()
    expect(page.locator("#nr-deleted")).to_contain_text("Deleted “", timeout=SLOW)
    expect(page.locator("#nr-article-count")).to_contain_text("No articles indexed yet.", timeout=SLOW)
    page.context.close()
