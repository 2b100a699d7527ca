"""Article pages and RSS/Atom feeds from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.service.newsrag import NewsRAG

PARAGRAPHS = {
    "storm": [
        "A powerful storm struck the eastern coast on Wednesday, cutting power to thousands of homes.",
        "Emergency crews worked through the night to clear fallen trees and restore electricity, officials said.",
        "The weather service warned that more heavy rain was expected over the weekend in low-lying areas.",
    ],
    "port": [
        "Dock workers ended a two-week strike on Friday after the union accepted a new pay offer from operators.",
        "Hundreds of containers piled up at the harbour, delaying deliveries of food and car parts in the region.",
        "Shipping companies said it would take at least ten days to clear the backlog of vessels waiting offshore.",
    ],
    "budget": [
        "The city council approved a new budget for public schools on Tuesday by seven votes to two.",
        "The plan adds funding for teachers, repairs old buildings and extends bus routes to the suburbs.",
        "Opponents said the spending was too high and promised to campaign against it at the next election.",
    ],
    "rail": [
        "A new high-speed rail line opened on Monday, cutting the journey between the two largest cities to an hour.",
        "Passengers crowded the platforms for the first departures, and tickets for the opening week sold out.",
        "The operator said trains would run every fifteen minutes at peak times once the timetable settles in.",
    ],
    "bridge": [
        "Engineers closed the old river bridge on Sunday after inspectors found deep cracks in two of its piers.",
        "Drivers face detours of up to forty minutes while the city decides whether to repair or replace it.",
        "The mayor said a temporary crossing for pedestrians and cyclists would be built within a month.",
    ],
}
TITLES = {
    "storm": "Storm cuts power to thousands on the coast",
    "port": "Port strike ends after two weeks",
    "budget": "Council approves school budget",
    "rail": "High-speed rail line opens",
    "bridge": "Cracked river bridge closed to traffic",
}


def article_page(slug: str, dated: bool = True) -> str:
    date = '<meta property="article:published_time" content="2025-08-06T09:00:00Z">' if dated else ""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[slug])
    return f"""<!doctype html><html><head><title>{TITLES[slug]} | Daily Planet</title>
<meta property="og:title" content="{TITLES[slug]}"><meta property="og:site_name" content="Daily Planet">{date}
</head><body><nav><a href="/">Home</a> <a href="/world">World news section</a></nav>
<article><h1>{TITLES[slug]}</h1>{body}</article>
<footer>Copyright 2025 Daily Planet. All rights reserved.</footer></body></html>"""


def rss(base: str, slugs: list[str], extra: str = "") -> str:
    items = "".join(
        f"<item><title>{TITLES[s]}</title><link>{base}/news/{s}.html</link>"
        f"<pubDate>Thu, 07 Aug 2025 10:00:00 GMT</pubDate></item>"
        for s in slugs
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Daily Planet</title><link>{base}/</link><description>News</description>
{items}{extra}</channel></rss>"""


def atom(base: str, slugs: list[str]) -> str:
    entries = "".join(
        f'<entry><title>{TITLES[s]}</title><link href="{base}/news/{s}.html"/><id>urn:{s}</id>'
        f"<updated>2025-08-05T08:00:00Z</updated></entry>"
        for s in slugs
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Daily Planet</title><id>urn:planet</id>
<updated>2025-08-05T08:00:00Z</updated>{entries}</feed>"""


class Site:
    """A tiny news site: path -> (content type, body); tests may change it between requests."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, str]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                page = site.pages.get(self.path)
                if page is None:
                    self.send_error(404, "Not Found")
                    return
                content_type, body = page
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    site = Site()
    site.thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture(autouse=True)
def _pages(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    site.pages = {f"/news/{s}.html": ("text/html; charset=utf-8", article_page(s)) for s in PARAGRAPHS}
    site.pages["/news/undated.html"] = ("text/html; charset=utf-8", article_page("bridge", dated=False))
    no_link = "<item><title>Entry without a link</title><description>Nothing to read</description></item>"
    missing = f"<item><title>Deleted story</title><link>{site.base}/news/deleted.html</link></item>"
    site.pages["/rss.xml"] = ("application/rss+xml", rss(site.base, ["storm", "port"], missing + no_link))
    site.pages["/atom.xml"] = ("application/atom+xml", atom(site.base, ["budget", "rail"]))


def by_url(newsrag: NewsRAG) -> dict[str, object]:
    return {a.url: a for a in newsrag.articles()}


def test_article_page(site: Site, newsrag: NewsRAG) -> None:
    url = site.url("/news/storm.html")
    report = newsrag.ingest(url)
    assert report.ok, report.outcomes
    [outcome] = report.outcomes
    assert (outcome.origin, outcome.status, outcome.title) == (url, "added", TITLES["storm"])
    [article] = newsrag.articles()
    assert (article.url, article.source, article.title) == (url, "Daily Planet", TITLES["storm"])
    assert article.published_at == "2025-08-06"
    assert article.n_chunks == outcome.chunks >= 1
    hits = newsrag.lexical.retrieve("fallen trees electricity", 3)
    assert hits and hits[0].node.metadata["url"] == url
    assert "World news section" not in hits[0].node.get_content()

    again = newsrag.ingest(url)
    assert [o.status for o in again.outcomes] == ["unchanged"] and again.chunks_written == 0


def test_rss_feed_with_broken_entries(site: Site, newsrag: NewsRAG) -> None:
    feed = site.url("/rss.xml")
    report = newsrag.ingest(feed)
    assert not report.ok
    statuses = {o.origin: o for o in report.outcomes}
    assert len(report.outcomes) == 4, report.outcomes
    for n, slug in ((1, "storm"), (2, "port")):
        outcome = statuses[f"{feed}#entry{n} ({site.url(f'/news/{slug}.html')})"]
        assert (outcome.status, outcome.title) == ("added", TITLES[slug])
    deleted = statuses[f"{feed}#entry3 ({site.url('/news/deleted.html')})"]
    assert (deleted.status, deleted.reason) == ("failed", f"HTTP 404 from {site.url('/news/deleted.html')}")
    no_link = statuses[f"{feed}#entry4"]
    assert (no_link.status, no_link.reason) == ("failed", "feed entry has no article link")

    articles = by_url(newsrag)
    assert set(articles) == {site.url("/news/storm.html"), site.url("/news/port.html")}
    for slug in ("storm", "port"):
        article = articles[site.url(f"/news/{slug}.html")]
        assert (article.title, article.source) == (TITLES[slug], "Daily Planet")  # type: ignore[attr-defined]


def test_atom_feed(site: Site, newsrag: NewsRAG) -> None:
    report = newsrag.ingest(site.url("/atom.xml"))
    assert report.ok, report.outcomes
    assert [o.status for o in report.outcomes] == ["added", "added"]
    articles = by_url(newsrag)
    assert set(articles) == {site.url("/news/budget.html"), site.url("/news/rail.html")}
    assert articles[site.url("/news/rail.html")].title == TITLES["rail"]  # type: ignore[attr-defined]


def test_feed_date_fills_in_for_an_undated_page(site: Site, newsrag: NewsRAG) -> None:
    link = site.url("/news/undated.html")
    item = f"<item><title>x</title><link>{link}</link><pubDate>Thu, 07 Aug 2025 10:00:00 GMT</pubDate></item>"
    site.pages["/undated.xml"] = ("application/rss+xml", rss(site.base, [], item))
    assert newsrag.ingest(site.url("/undated.xml")).ok
    [article] = newsrag.articles()
    assert (article.url, article.published_at) == (link, "2025-08-07T10:00:00+00:00")


def test_rolling_feed_keeps_older_entries(site: Site, newsrag: NewsRAG) -> None:
    """A feed shows only its latest entries: one that scrolled off is still a valid indexed article."""
    site.pages["/rolling.xml"] = ("application/rss+xml", rss(site.base, ["storm", "port"]))
    assert [o.status for o in newsrag.ingest(site.url("/rolling.xml")).outcomes] == ["added", "added"]

    site.pages["/rolling.xml"] = ("application/rss+xml", rss(site.base, ["bridge", "storm"]))
    report = newsrag.ingest(site.url("/rolling.xml"))
    statuses = {o.title: o.status for o in report.outcomes}
    assert statuses == {TITLES["bridge"]: "added", TITLES["storm"]: "unchanged"}, report.outcomes
    assert report.chunks_written == sum(o.chunks for o in report.outcomes if o.status == "added")
    assert set(by_url(newsrag)) == {site.url(f"/news/{s}.html") for s in ("storm", "port", "bridge")}


def test_unreachable_url(newsrag: NewsRAG) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/news/story.html"
    report = newsrag.ingest(url)
    assert not report.ok
    [outcome] = report.outcomes
    assert outcome.status == "failed" and outcome.origin == url
    assert outcome.reason.startswith("unreachable: ConnectError")
    assert newsrag.articles() == []


def test_missing_page_and_good_page_in_one_batch(site: Site, newsrag: NewsRAG) -> None:
    report = newsrag.ingest(site.url("/news/nothing-here.html"), site.url("/news/port.html"))
    assert not report.ok
    assert [(o.status, o.reason) for o in report.outcomes] == [
        ("failed", f"HTTP 404 from {site.url('/news/nothing-here.html')}"),
        ("added", ""),
    ]
    assert set(by_url(newsrag)) == {site.url("/news/port.html")}
