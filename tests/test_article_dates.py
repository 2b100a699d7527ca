"""Article dates at ingest (#35): the page's, feed's, record's or e-mail's date, else the URL's; where each came from
(``date_source``); when the article was seen (``seen_at``); and no date later than that."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.article import FUTURE_DATE, Article
from ingest.chunk import content_hash, content_hashes
from ingest.dating import dated
from ingest.files import load_file
from rag.core.dates import date_from_url
from rag.service.newsrag import NewsRAG
from tests.support.documents import news_page, newsletter, write_warc
from tests.support.feed_server import FeedSite, Resource

STORY = [
    "The harbour bridge reopened to traffic on Monday after eight months of repairs to its steel deck.",
    "The city engineer said the work finished two weeks ahead of schedule and well under its budget.",
]
STRIKE = [
    "Dock workers ended a two-week strike on Friday after the union accepted a new pay offer from operators.",
    "Hundreds of containers had piled up at the harbour, delaying deliveries of food across the region.",
]


@pytest.mark.parametrize(
    ("url", "day"),
    [
        ("https://www.usatoday.com/story/news/politics/2024/05/30/trump-trial-verdict/73905164007/", "2024-05-30"),
        ("https://www.cnn.com/2024/05/30/politics/trump-verdict/index.html", "2024-05-30"),
        ("https://www.theguardian.com/world/2025/jul/04/heatwave-europe-wildfires", "2025-07-04"),
        ("https://www.theguardian.com/uk-news/2024/September/12/rail-strike-called-off", "2024-09-12"),
        ("https://www.aljazeera.com/news/2024/5/3/protests-spread-across-campuses", "2024-05-03"),
        ("https://www.reuters.com/world/europe/ukraine-russia-talks-resume-istanbul-2025-07-03/", "2025-07-03"),
        ("https://example.com/news/2026-03-05/council-vote", "2026-03-05"),
        ("https://example.com/archive/20260305/council-vote.html", "2026-03-05"),
        ("https://example.com/story-20260305.html", "2026-03-05"),
        # The first date in the path is the site's; a date later in a slug is the story's subject.
        ("https://www.cnn.com/2024/05/30/us/remembering-1999-12-31-y2k/index.html", "2024-05-30"),
        # No date, or none to trust
        ("https://www.bbc.com/news/articles/c4ng8ne8r2no", ""),
        ("https://www.bbc.co.uk/news/world-europe-68912345", ""),  # an id, not 6891-23-45
        ("https://apnews.com/article/election-results-20240530a1b2c3d4e5f6", ""),  # part of a hash
        ("https://example.com/2024/05/council-vote/", ""),  # a month is not a day
        ("https://example.com/2026/03/", ""),
        ("https://example.com/2024/02/30/leap-day-that-is-not", ""),
        ("https://example.com/2024/13/01/x", ""),
        ("https://example.com/1985/06/01/archive-scan", ""),  # before news sites had URLs
        ("https://example.com/2999/01/01/x", ""),
        ("https://example.com/story?date=2024-05-30&id=20240530", ""),  # the query is not the path
        ("https://2024-05-30.example.com/story", ""),  # nor the host
        ("not a url", ""),
        ("", ""),
    ],
)
def test_date_from_url(url: str, day: str) -> None:
    assert date_from_url(url) == day


def test_each_loader_names_where_its_date_came_from(tmp_path: Path) -> None:
    record = {"title": "Bridge reopens", "text": " ".join(STORY), "date": "2024-03-03"}
    (tmp_path / "records.jsonl").write_text(json.dumps(record), encoding="utf-8")
    (tmp_path / "front.md").write_text("---\ndate: 2024-03-03\n---\n# Bridge reopens\n\n" + STORY[0], encoding="utf-8")
    (tmp_path / "plain.txt").write_text("Bridge reopens\n\n" + STORY[0], encoding="utf-8")
    message = newsletter("Morning brief", "Brief <b@example.com>", datetime(2024, 3, 4, 7, tzinfo=UTC), None, STORY[0])
    (tmp_path / "brief.eml").write_bytes(message.as_bytes())
    found = {}
    for name in ("records.jsonl", "front.md", "plain.txt", "brief.eml"):
        [(_, article)] = list(load_file(tmp_path / name, 1_000_000))
        assert isinstance(article, Article), article
        found[name] = (article.published_at[:10], article.date_source)
    assert found == {
        "records.jsonl": ("2024-03-03", "record"),
        "front.md": ("2024-03-03", "page"),
        "plain.txt": ("", ""),
        "brief.eml": ("2024-03-04", "mail"),
    }


def test_dated_fills_in_from_the_url_and_drops_the_future() -> None:
    now = datetime(2025, 7, 10, 12, tzinfo=UTC).timestamp()
    url = "https://www.reuters.com/world/europe/talks-resume-2025-07-03/"
    page = Article(title="t", text="x", url=url, published_at="2025-07-02", date_source="page")
    assert dated(page, now) == (page, "")  # the page's date outranks the URL's
    plugin = Article(title="t", text="x", published_at="2025-07-02")
    assert dated(plugin, now)[0].date_source == "page"  # a date a loader found without saying where
    undated = Article(title="t", text="x", url=url)
    assert dated(undated, now)[0].model_dump(include={"published_at", "date_source"}) == {
        "published_at": "2025-07-03",
        "date_source": "url",
    }
    # A day ahead is a time zone, not the future: a page from Auckland read in London that morning.
    ahead = page.model_copy(update={"published_at": "2025-07-11T08:00:00+00:00"})
    assert dated(ahead, now) == (ahead, "")
    future = page.model_copy(update={"published_at": "2031-01-01"})
    kept, note = dated(future, now)
    assert (kept.published_at, kept.date_source) == ("2025-07-03", "url")
    assert note == (
        f"{FUTURE_DATE}: 2031-01-01 (page) is after the article was read on 2025-07-10; dated 2025-07-03 from its url"
    )
    # Captured by an archive before the date the page claims, and a URL as far ahead: undated, seen then.
    captured = Article(
        title="t",
        text="x",
        url="https://example.com/2025/07/20/x",
        published_at="2025-07-20",
        seen_at="2025-07-05T10:00:00+00:00",
    )
    kept, note = dated(captured, now)
    assert (kept.published_at, kept.date_source, kept.seen_at) == ("", "", "2025-07-05T10:00:00+00:00")
    assert note.startswith(f"{FUTURE_DATE}: 2025-07-20 (page) is after the article was seen on 2025-07-05")
    assert note.endswith("2025-07-20 (url) is after the article was seen on 2025-07-05; left undated")


def _jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    return path


def test_ingest_dates_records_from_their_urls_and_reports_future_dates(tmp_path: Path) -> None:
    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive")
    base = "https://www.usatoday.com/story/news/local"
    corpus = _jsonl(
        tmp_path / "articles.jsonl",
        [
            {"title": "Bridge reopens", "text": " ".join(STORY), "url": f"{base}/2024/03/04/bridge-reopens/1/"},
            {
                "title": "Port strike ends",
                "text": " ".join(STRIKE),
                "url": f"{base}/2024/03/08/port-strike-ends/2/",
                "published_at": "2099-03-08",
            },
        ],
    )
    report = newsrag.ingest(corpus)
    assert [o.status for o in report.outcomes] == ["added", "added"]
    bridge, strike = report.outcomes
    assert bridge.reason == ""
    assert strike.reason.startswith(f"{FUTURE_DATE}: 2099-03-08 (record) is after the article was read on ")
    assert strike.reason.endswith("; dated 2024-03-08 from its url")
    assert report.summary().endswith("; 1 date in the future dropped (see the notes)")
    dates = {r.title: r.published_at for r in newsrag.articles()}
    assert dates == {"Bridge reopens": "2024-03-04", "Port strike ends": "2024-03-08"}

    answer = newsrag.ask("When did the dock workers end their strike?")
    cited = next(c for c in answer.citations if "Dock workers" in c.text)
    assert (cited.published_at, cited.date_source, cited.seen_at) == ("2024-03-08", "url", "")
    assert cited.label() == "Port strike ends — usatoday.com — 2024-03-08"
    assert answer.to_dict()["citations"][0]["date_source"] == "url"

    again = newsrag.ingest(corpus)  # the URL's date is no change: nothing embedded again
    assert [o.status for o in again.outcomes] == ["unchanged", "unchanged"] and again.chunks_written == 0


def test_undated_file_shows_no_date(tmp_path: Path) -> None:
    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive")
    (tmp_path / "notes.txt").write_text("Port strike ends\n\n" + "\n\n".join(STRIKE), encoding="utf-8")
    assert newsrag.ingest(tmp_path / "notes.txt").ok
    cited = next(c for c in newsrag.ask("When did the dock workers end their strike?").citations)
    assert (cited.published_at, cited.date_source, cited.seen_at) == ("", "", "")
    assert cited.label() == "Port strike ends"  # a file's read time is no date of the article: not shown


def test_archive_capture_before_the_page_date_is_seen_not_dated(tmp_path: Path) -> None:
    pages = [
        ("https://news.example.com/port/strike-ends", "2024-03-05T11:00:00Z", news_page("Port strike ends", STRIKE)),
        (
            "https://news.example.com/city/bridge",
            "2024-03-04T10:00:00Z",
            news_page("Bridge reopens", STORY, date="2024-06-01"),  # three months after it was captured
        ),
    ]
    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive")
    report = newsrag.ingest(write_warc(tmp_path / "crawl.warc.gz", pages))
    assert report.ok
    strike, bridge = report.outcomes
    assert strike.reason == ""
    dropped = f"{FUTURE_DATE}: 2024-06-01 (page) is after the article was seen on 2024-03-04; left undated"
    assert bridge.reason == dropped
    labels = {}
    for question in ("When did the dock workers end their strike?", "When did the harbour bridge reopen?"):
        for c in newsrag.ask(question).citations:
            labels[c.title] = (c.date_source, c.label())
    assert labels == {
        "Port strike ends": ("", "Port strike ends — news.example.com — seen 2024-03-05"),
        "Bridge reopens": ("", "Bridge reopens — news.example.com — seen 2024-03-04"),
    }


def test_an_archive_page_indexed_before_seen_at_left_the_version_is_not_embedded_again() -> None:
    page = Article(title="t", text="x", url="https://e.com/a", published_at="2024-03-03", seen_at="2024-03-04")

    def before(article: Article) -> str:  # content_hash as it was: the capture time counted
        basis = article.model_dump_json(exclude={"origin", "date_source", "pages"}) + "|256|32"
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]

    assert content_hashes(page, 256, 32) == (content_hash(page, 256, 32), before(page))
    refetched = page.model_copy(update={"seen_at": "2025-01-01T00:00:00+00:00", "date_source": "url"})
    assert content_hash(refetched, 256, 32) == content_hash(page, 256, 32)


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedSite]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    site = FeedSite()
    yield site
    site.close()


def _page(headline: str, paragraphs: list[str], date: str = "", canonical: str = "") -> Resource:
    html = news_page(headline, paragraphs, date)
    if canonical:
        html = html.replace("</head>", f'<link rel="canonical" href="{canonical}"></head>')
    return Resource(body=html, content_type="text/html; charset=utf-8")


def test_fetched_pages_page_date_over_url_date_and_seen_kept_on_refetch(
    site: FeedSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.resources["/2024/05/30/bridge.html"] = _page("Bridge reopens", STORY, date="2024-05-29T22:00:00Z")
    site.resources["/2024/05/30/strike.html"] = _page("Port strike ends", STRIKE)
    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive")
    urls = [site.url("/2024/05/30/bridge.html"), site.url("/2024/05/30/strike.html")]
    monkeypatch.setattr("ingest.web.iso_now", lambda: "2024-06-01T09:00:00+00:00")
    assert newsrag.ingest(*urls).ok
    monkeypatch.setattr("ingest.web.iso_now", lambda: "2024-07-01T09:00:00+00:00")
    again = newsrag.ingest(*urls)  # fetched again a month later, the same pages
    assert [o.status for o in again.outcomes] == ["unchanged", "unchanged"] and again.chunks_written == 0

    meta = {}
    for record in newsrag.articles():
        [(_, first), *_] = newsrag.store.article_chunks(record.article_id)
        meta[record.title] = (first["published_at"], first["date_source"], first["seen_at"])
    assert meta == {
        # htmldate would take the URL's day first; the page's own date outranks it
        "Bridge reopens": ("2024-05-29", "page", "2024-06-01T09:00:00+00:00"),
        "Port strike ends": ("2024-05-30", "url", "2024-06-01T09:00:00+00:00"),  # first seen, kept
    }


def test_feed_date_and_fetch_time(site: FeedSite, tmp_path: Path) -> None:
    site.resources["/news/strike.html"] = _page("Port strike ends", STRIKE)
    item = (
        f"<item><title>Port strike ends</title><link>{site.url('/news/strike.html')}</link>"
        "<pubDate>Fri, 08 Mar 2024 10:00:00 GMT</pubDate></item>"
    )
    site.resources["/rss.xml"] = Resource(body=f'<rss version="2.0"><channel><title>N</title>{item}</channel></rss>')
    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive")
    before = time.time()
    assert newsrag.ingest(site.url("/rss.xml")).ok
    [record] = newsrag.articles()
    [(_, meta), *_] = newsrag.store.article_chunks(record.article_id)
    assert (meta["published_at"], meta["date_source"]) == ("2024-03-08T10:00:00+00:00", "feed")
    seen = datetime.fromisoformat(meta["seen_at"]).timestamp()
    assert before - 1 <= seen <= time.time()
