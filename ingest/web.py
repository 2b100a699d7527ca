"""Reading articles from the web: article pages (trafilatura) and RSS/Atom feeds (feedparser)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from ingest.clean import normalise_date
from ingest.files import Loaded, decode
from ingest.records import BadInput, finish, from_html

USER_AGENT = "newsrag/0.1 (+https://github.com/newsrag/newsrag)"
FEED_TYPES = ("application/rss", "application/atom", "application/feed", "/xml", "+xml")
FEED_FACTOR = 20  # a feed may be larger than one article


def is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def fetch(client: httpx.Client, url: str, max_bytes: int) -> tuple[bytes, str]:
    """The body and content type of ``url``, read up to ``max_bytes``; BadInput on any failure."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise BadInput(f"HTTP {response.status_code} from {url}")
            body = bytearray()
            for block in response.iter_bytes():
                body.extend(block)
                if len(body) > max_bytes:
                    raise BadInput(f"response larger than {max_bytes / 1e6:.1f} MB")
            return bytes(body), response.headers.get("content-type", "").lower()
    except httpx.TimeoutException as exc:
        raise BadInput(f"timed out fetching {url}") from exc
    except httpx.HTTPError as exc:
        raise BadInput(f"unreachable: {type(exc).__name__}: {exc}") from exc


def _looks_like_feed(body: bytes, content_type: str) -> bool:
    if "html" in content_type:
        return False
    head = body[:1024].lstrip().lower()
    return any(t in content_type for t in FEED_TYPES) or b"<rss" in head or b"<feed" in head


def load_url(url: str, max_bytes: int, timeout: float) -> Iterator[Loaded]:
    """The article at ``url``, or every entry's article when ``url`` is a feed."""
    headers = {"User-Agent": USER_AGENT}
    with httpx.Client(timeout=timeout, follow_redirects=True, headers=headers) as client:
        try:
            body, content_type = fetch(client, url, max_bytes * FEED_FACTOR)
            if not body.strip():
                raise BadInput("empty response")
            if _looks_like_feed(body, content_type):
                yield from _feed(client, url, body, max_bytes)
                return
            if len(body) > max_bytes:
                raise BadInput(f"too large for a news article ({len(body) / 1e6:.1f} MB)")
            if "html" not in content_type and "text/plain" in content_type:
                yield url, finish(decode(body), url=url, origin=url)
            else:
                yield url, from_html(body, origin=url, url=url)
        except BadInput as exc:
            yield url, exc


def _feed(client: httpx.Client, feed_url: str, body: bytes, max_bytes: int) -> Iterator[Loaded]:
    import feedparser

    parsed = feedparser.parse(body)
    if not parsed.entries:
        reason = f"not a readable feed ({parsed.bozo_exception})" if parsed.bozo else "feed has no entries"
        yield feed_url, BadInput(reason)
        return
    for number, entry in enumerate(parsed.entries, start=1):
        link = entry.get("link", "")
        where = f"{feed_url}#entry{number}" + (f" ({link})" if link else "")
        try:
            if not link or not is_url(link):
                raise BadInput("feed entry has no article link")
            page, _ = fetch(client, link, max_bytes)
            # The page, not the feed, is where the article was read from: a feed is not one article's
            # source, so its other (or scrolled-off) entries must not look replaced by this one.
            article = from_html(page, origin=link, url=link)
            updates: dict[str, str] = {}
            if not article.published_at and entry.get("published_parsed"):
                updates["published_at"] = normalise_date(entry.published_parsed)
            if entry.get("title") and not article.title:
                updates["title"] = entry.title
            yield where, article.model_copy(update=updates)
        except BadInput as exc:
            yield where, exc
