"""Followed feeds against a real HTTP server on 127.0.0.1: new and changed entries, conditional GETs, a feed that
is down, slow, malformed or huge, and a restart that resumes. 127.0.0.1 is reached through the owner's opt-in
(``fetch_allow``), as the follower fetches like the app does for a visitor."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.service.follower import Follower
from rag.service.newsrag import NewsRAG
from tests.support.feed_server import FeedSite, Resource
from tests.test_web import PARAGRAPHS, TITLES, article_page, rss

HTML = "text/html; charset=utf-8"


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedSite]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    site = FeedSite()
    for slug in PARAGRAPHS:
        site.resources[f"/news/{slug}.html"] = Resource(article_page(slug), HTML)
    yield site
    site.close()


def follower_rag(tmp_path: Path, **settings: object) -> NewsRAG:
    return NewsRAG(index_dir=tmp_path / "index", fetch_allow="127.0.0.1", engine="extractive", **settings)


def titles(newsrag: NewsRAG) -> set[str]:
    return {a.title for a in newsrag.articles()}


def page_hits(site: FeedSite) -> int:
    return sum(n for path, n in site.hits.items() if path.startswith("/news/"))


def test_new_and_changed_entries_and_etag(site: FeedSite, tmp_path: Path) -> None:
    site.resources["/feed.xml"] = Resource(rss(site.base, ["storm", "port"]), etag='"v1"')
    newsrag = follower_rag(tmp_path)
    newsrag.add_feed(site.url("/feed.xml"), interval=60)
    [report] = newsrag.poll_feeds()
    assert report.ingest is not None and [o.status for o in report.ingest.outcomes] == ["added", "added"]
    assert titles(newsrag) == {TITLES["storm"], TITLES["port"]}
    assert newsrag.poll_feeds() == []  # not due again before its interval

    # Unchanged: the server answers 304 to the ETag, and no page is fetched.
    pages = page_hits(site)
    [report] = newsrag.poll_feeds(site.url("/feed.xml"))
    assert report.status == "not modified" and report.ingest is None
    assert site.conditional[-1] == ("/feed.xml", '"v1"', "") and page_hits(site) == pages

    # A new entry and a changed one: only those two pages are fetched, and the changed article is updated.
    site.resources["/news/storm.html"] = Resource(article_page("storm").replace("thousands", "forty thousand"), HTML)
    changed = rss(site.base, ["storm", "port", "rail"]).replace(TITLES["storm"], "Storm cuts power to 40,000")
    site.resources["/feed.xml"] = Resource(changed, etag='"v2"')
    [report] = newsrag.poll_feeds(site.url("/feed.xml"))
    assert report.ingest is not None
    assert sorted(o.status for o in report.ingest.outcomes) == ["added", "updated"]
    assert page_hits(site) == pages + 2
    assert TITLES["rail"] in titles(newsrag) and len(newsrag.articles()) == 3
    [storm] = newsrag.lexical.retrieve("power homes storm", 1)
    assert "forty thousand" in storm.node.get_content() and len(newsrag.lexical) == newsrag.store.count()


def test_a_feed_down_slow_or_malformed_is_retried_with_backoff_and_the_others_go_on(
    site: FeedSite, tmp_path: Path
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/feed.xml"
    site.resources["/down.xml"] = Resource(status=503)
    site.resources["/slow.xml"] = Resource(rss(site.base, ["bridge"]), delay=3)
    site.resources["/broken.xml"] = Resource("{<<< not a feed, not even XML >>>", content_type="application/rss+xml")
    site.resources["/good.xml"] = Resource(rss(site.base, ["budget"]))
    newsrag = follower_rag(tmp_path, fetch_timeout=1.0)
    for path in ("/down.xml", "/slow.xml", "/broken.xml", "/good.xml"):
        newsrag.add_feed(site.url(path), interval=10)
    newsrag.add_feed(closed, interval=10)

    reports = {r.url: r for r in newsrag.poll_feeds()}
    assert reports[site.url("/good.xml")].status == "1 new or changed"
    assert titles(newsrag) == {TITLES["budget"]}
    feeds = {f.url: f for f in newsrag.feeds()}
    for url, reason in (
        (site.url("/down.xml"), "HTTP 503"),
        (site.url("/slow.xml"), "timed out"),
        (site.url("/broken.xml"), "feed"),
        (closed, "unreachable"),
    ):
        feed = feeds[url]
        assert (feed.last_status, feed.failures) == ("failed", 1), (url, feed)
        assert reason in feed.note, (url, feed.note)
        assert feed.next_poll_at == pytest.approx(feed.last_polled_at + 10)

    # Failing again doubles the wait; back up, it is read and the wait is the interval again.
    newsrag.poll_feeds(site.url("/down.xml"))
    down = next(f for f in newsrag.feeds() if f.url == site.url("/down.xml"))
    assert down.failures == 2 and down.next_poll_at == pytest.approx(down.last_polled_at + 20)
    site.resources["/down.xml"] = Resource(rss(site.base, ["rail"]))
    [report] = newsrag.poll_feeds(site.url("/down.xml"))
    down = next(f for f in newsrag.feeds() if f.url == site.url("/down.xml"))
    assert (report.status, down.failures, down.note) == ("1 new or changed", 0, "")
    assert down.next_poll_at == pytest.approx(down.last_polled_at + 10)
    assert TITLES["rail"] in titles(newsrag)


def test_a_huge_feed_is_capped_with_a_reason(site: FeedSite, tmp_path: Path) -> None:
    items = "".join(
        f"<item><title>Item {n}</title><link>{site.base}/news/{slug}.html?n={n}</link></item>"
        for n in range(10_000)
        for slug in ["storm"]
    )
    site.resources["/huge.xml"] = Resource(rss(site.base, [], items))
    for n in range(10_000):
        site.resources[f"/news/storm.html?n={n}"] = site.resources["/news/storm.html"]
    newsrag = follower_rag(tmp_path, max_feed_items=5)
    newsrag.add_feed(site.url("/huge.xml"))
    [report] = newsrag.poll_feeds()
    assert report.ingest is not None and len(report.ingest.outcomes) == 5
    assert page_hits(site) == 5
    assert "the feed has 10000 entries; only the first 5 are read" in report.note
    assert "10000 entries" in newsrag.feeds()[0].note


def test_a_restart_resumes_where_it_was(site: FeedSite, tmp_path: Path) -> None:
    # No validators: the feed is fetched again after the restart, but the entries seen are not.
    site.resources["/feed.xml"] = Resource(rss(site.base, ["storm", "port"]))
    first = follower_rag(tmp_path)
    first.add_feed(site.url("/feed.xml"), interval=60)
    assert len(first.poll_feeds()) == 1 and page_hits(site) == 2
    polled = first.feeds()[0]
    del first

    again = follower_rag(tmp_path)
    assert again.feeds() == [polled]
    assert again.poll_feeds() == []  # still not due: the schedule survived
    site.resources["/feed.xml"] = Resource(rss(site.base, ["storm", "port", "bridge"]))
    [report] = again.poll_feeds(site.url("/feed.xml"))
    assert report.ingest is not None and [o.status for o in report.ingest.outcomes] == ["added"]
    assert page_hits(site) == 3


def test_the_follower_needs_the_owners_opt_in_for_private_addresses(site: FeedSite, tmp_path: Path) -> None:
    site.resources["/feed.xml"] = Resource(rss(site.base, ["storm"]))
    newsrag = NewsRAG(index_dir=tmp_path / "index")
    newsrag.add_feed(site.url("/feed.xml"))
    [report] = newsrag.poll_feeds()
    assert report.status == "failed" and "not a public address" in report.note
    assert site.hits["/feed.xml"] == 0 and newsrag.articles() == []


def test_the_follower_thread_ingests_what_appears(site: FeedSite, tmp_path: Path) -> None:
    site.resources["/feed.xml"] = Resource(rss(site.base, ["storm"]))
    newsrag = follower_rag(tmp_path)
    newsrag.add_feed(site.url("/feed.xml"), interval=0.5)
    follower = Follower(newsrag).start()
    try:
        deadline = time.monotonic() + 60
        while TITLES["storm"] not in titles(newsrag) and time.monotonic() < deadline:
            time.sleep(0.2)
        site.resources["/feed.xml"] = Resource(rss(site.base, ["storm", "bridge"]))
        while TITLES["bridge"] not in titles(newsrag) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        follower.stop()
    assert titles(newsrag) == {TITLES["storm"], TITLES["bridge"]}
    assert "bridge" in newsrag.ask("Why was the old river bridge closed?").text.lower()


def test_feeds_cli(tmp_path: Path) -> None:
    from rag.cli.main import app

    runner = CliRunner()
    index = ["--index-dir", str(tmp_path / "index")]
    added = runner.invoke(app, ["feeds", "add", "https://news.example/rss.xml", "--every", "600", *index])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["feeds", "list", "--json", *index])
    [feed] = json.loads(listed.output)
    assert (feed["url"], feed["interval"], feed["next_poll_at"]) == ("https://news.example/rss.xml", 600, 0)
    assert "1 feeds followed" in runner.invoke(app, ["feeds", "list", *index]).output
    assert runner.invoke(app, ["feeds", "add", "not a url", *index]).exit_code == 1
    assert runner.invoke(app, ["feeds", "remove", "https://news.example/rss.xml", *index]).exit_code == 0
    assert runner.invoke(app, ["feeds", "remove", "https://news.example/rss.xml", *index]).exit_code == 1
    assert NewsRAG(index_dir=tmp_path / "index").feeds() == []


def test_the_app_panel_lists_the_followed_feeds(tmp_path: Path) -> None:
    import gradio as gr

    from rag.service.services import Services
    from rag.ui.feeds_panel import build_feeds_panel, feed_rows

    newsrag = NewsRAG(index_dir=tmp_path / "index")
    newsrag.add_feed("https://news.example/rss.xml", interval=600)
    services = Services(newsrag=newsrag, auth=None)
    with gr.Blocks():
        build_feeds_panel(services)
    assert feed_rows(services) == [["https://news.example/rss.xml", 10.0, "not yet", "", 0, ""]]
