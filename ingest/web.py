"""Reading articles from the web: article pages (trafilatura) and RSS/Atom feeds (feedparser)."""

from __future__ import annotations

import urllib.request
import zlib
from collections.abc import Iterator
from typing import Any

import httpx

from ingest.clean import normalise_date
from ingest.fetch_guard import FetchBudget, GuardedTransport
from ingest.fetch_policy import TRUSTED, URL_INGEST_OFF, FetchPolicy
from ingest.files import Loaded
from ingest.records import BadInput, Skipped, decode, finish, from_html
from rag.core.dates import iso_now

try:
    import brotli
except ImportError:  # pragma: no cover - brotli comes with our dependencies; without it, br is not asked for
    brotli = None

USER_AGENT = "newsrag/0.1 (+https://github.com/newsrag/newsrag)"
ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"
UNPACK_ERRORS = (zlib.error, brotli.error) if brotli is not None else (zlib.error,)
FEED_TYPES = ("application/rss", "application/atom", "application/feed", "/xml", "+xml")
FEED_FACTOR = 20  # a feed may be larger than one article
MAX_FEED_ITEMS = 50  # the settings' default; callers pass settings.max_feed_items
MAX_REDIRECTS = 10


def is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


class Unpacker:
    """Undoes a response's Content-Encoding block by block, never producing more than ``max_bytes``.

    httpx would unpack each received block whole: a few kilobytes of brotli can unpack to gigabytes.
    """

    def __init__(self, encoding: str, max_bytes: int) -> None:
        self.max_bytes, self.size = max_bytes, 0
        codings = [c.strip() for c in encoding.lower().split(",") if c.strip() not in ("", "identity")]
        self.kind = codings[0] if len(codings) == 1 else encoding if codings else ""
        if self.kind not in ("", "gzip", "x-gzip", "deflate") and not (self.kind == "br" and brotli is not None):
            raise BadInput(f"unsupported content encoding {encoding!r}")
        self.decoder: Any = brotli.Decompressor() if self.kind == "br" else None

    def __call__(self, block: bytes) -> bytes:
        room = self.max_bytes - self.size + 1  # one byte more than allowed tells "too large"
        try:
            if not self.kind:
                out = block
            elif self.kind == "br":
                out = self.decoder.process(block, output_buffer_limit=room)
            else:
                if self.decoder is None:
                    self.decoder = zlib.decompressobj(_window_bits(self.kind, block))
                out = self.decoder.decompress(block, room)
                # gzip may hold several members back to back: each one's end starts the next.
                while self.kind != "deflate" and self.decoder.eof and self.decoder.unused_data and len(out) < room:
                    rest, self.decoder = self.decoder.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS)
                    out += self.decoder.decompress(rest, room - len(out))  # never 0, which would mean no limit
        except UNPACK_ERRORS as exc:
            raise BadInput(f"response is not valid {self.kind} data") from exc
        self.size += len(out)
        if self.size > self.max_bytes:
            raise BadInput(f"response larger than {self.max_bytes / 1e6:.1f} MB")
        return out


def _window_bits(kind: str, first: bytes) -> int:
    """zlib's mode for gzip, or for deflate with or without its zlib header (servers send both)."""
    if kind != "deflate":
        return 16 + zlib.MAX_WBITS
    zlib_header = len(first) > 1 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
    return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS


def open_client(policy: FetchPolicy, budget: FetchBudget) -> httpx.Client:
    """A client whose every connection, redirects included, is checked by ``policy`` and timed by ``budget``."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
    if policy.trusted and urllib.request.getproxies():
        # The owner's proxy (HTTP_PROXY, ...) stays in use; a body is still cut off at the deadline (see read_body).
        return httpx.Client(timeout=budget.fetch_timeout, headers=headers)
    # A proxy would connect where no check can see: a visitor's fetch always goes direct.
    transport = GuardedTransport(policy, budget)
    return httpx.Client(transport=transport, timeout=budget.fetch_timeout, headers=headers, trust_env=False)


def send(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """The streamed response at the end of ``url``'s redirects, which are followed here, one checked hop at a time.

    httpx would read each redirect's whole body into memory; here it is closed unread. ``headers`` go with the
    first request (a followed feed's conditional GET).
    """
    request = client.build_request("GET", url, headers=headers)
    for _ in range(MAX_REDIRECTS + 1):
        response = client.send(request, stream=True)
        if response.next_request is None:
            return response
        request = response.next_request
        response.close()
    raise BadInput(f"more than {MAX_REDIRECTS} redirects from {url}")


def fetch(client: httpx.Client, url: str, max_bytes: int, budget: FetchBudget) -> tuple[bytes, str]:
    """The body and content type of ``url``, read and unpacked up to ``max_bytes``; BadInput on any failure."""
    budget.start_fetch()
    try:
        response = send(client, url)
        try:
            return read_body(response, url, max_bytes, budget), response.headers.get("content-type", "").lower()
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        raise BadInput(budget.timed_out(url)) from exc
    except httpx.HTTPError as exc:
        raise BadInput(f"unreachable: {type(exc).__name__}: {exc}") from exc


def read_body(response: httpx.Response, url: str, max_bytes: int, budget: FetchBudget) -> bytes:
    """The response's body, unpacked up to ``max_bytes``, its downloaded bytes counted against ``budget``."""
    if response.status_code >= 400:
        raise BadInput(f"HTTP {response.status_code} from {url}")
    unpack = Unpacker(response.headers.get("content-encoding", ""), max_bytes)
    body = bytearray()
    for block in response.iter_raw():
        budget.spend(len(block))
        if budget.remaining() <= 0:  # the guarded streams stop there too; this also bounds a fetch through a proxy
            raise BadInput(budget.timed_out(url))
        body += unpack(block)
    return bytes(body)


def _looks_like_feed(body: bytes, content_type: str) -> bool:
    if "html" in content_type:
        return False
    head = body[:1024].lstrip().lower()
    return any(t in content_type for t in FEED_TYPES) or b"<rss" in head or b"<feed" in head


def load_url(
    url: str,
    max_bytes: int,
    timeout: float,
    *,
    policy: FetchPolicy = TRUSTED,
    budget: FetchBudget | None = None,
    max_items: int = MAX_FEED_ITEMS,
) -> Iterator[Loaded]:
    """The article at ``url``, or the articles of a feed's first ``max_items`` entries.

    ``policy`` says where connections may go (each redirect hop included); ``budget`` is what the ingest
    request may still spend on fetching (by default: ``timeout`` seconds per fetch, nothing more).
    """
    if not policy.enabled:
        yield url, BadInput(URL_INGEST_OFF)
        return
    budget = budget or FetchBudget(timeout)
    with open_client(policy, budget) as client:
        try:
            body, content_type = fetch(client, url, max_bytes * FEED_FACTOR, budget)
            seen = iso_now()
            if not body.strip():
                raise BadInput("empty response")
            if _looks_like_feed(body, content_type):
                yield from _feed(client, url, body, max_bytes, budget, max_items)
                return
            if len(body) > max_bytes:
                raise BadInput(f"too large for a news article ({len(body) / 1e6:.1f} MB)")
            if "html" not in content_type and "text/plain" in content_type:
                article = finish(decode(body), url=url, origin=url)
            else:
                article = from_html(body, origin=url, url=url, max_bytes=max_bytes)
            yield url, article.model_copy(update={"seen_at": seen})
        except BadInput as exc:
            yield url, exc


def _feed(
    client: httpx.Client, feed_url: str, body: bytes, max_bytes: int, budget: FetchBudget, max_items: int
) -> Iterator[Loaded]:
    import feedparser

    parsed = feedparser.parse(body)
    entries = parsed.entries
    if not entries:
        reason = f"not a readable feed ({parsed.bozo_exception})" if parsed.bozo else "feed has no entries"
        yield feed_url, BadInput(reason)
        return
    for number, entry in enumerate(entries[:max_items], start=1):
        if stop := budget.exhausted():  # one line for the rest, not one per entry
            yield _skipped(feed_url, number, len(entries), stop)
            return
        yield entry_article(client, feed_url, number, entry, max_bytes, budget)
    if len(entries) > max_items:
        reason = f"skipped: the feed has {len(entries)} entries, and only the first {max_items} are read"
        yield _skipped(feed_url, max_items + 1, len(entries), reason + " (NEWSRAG_MAX_FEED_ITEMS)", on_purpose=True)


def _skipped(feed_url: str, first: int, last: int, reason: str, on_purpose: bool = False) -> Loaded:
    """One row for feed entries not read: ``on_purpose`` (the feed cap) is no failure; a spent budget is."""
    where = f"{feed_url}#entry{first}" if first == last else f"{feed_url}#entries{first}-{last}"
    return where, (Skipped if on_purpose else BadInput)(reason)


def entry_article(
    client: httpx.Client, feed_url: str, number: int, entry: Any, max_bytes: int, budget: FetchBudget
) -> Loaded:
    """The article one feed entry links to, with the feed's date and title where the page has none; seen when
    its page was fetched."""
    link = entry.get("link", "")
    where = f"{feed_url}#entry{number}" + (f" ({link})" if link else "")
    try:
        if not link or not is_url(link):
            raise BadInput("feed entry has no article link")
        page, _ = fetch(client, link, max_bytes, budget)
        updates = {"seen_at": iso_now()}
        # The page, not the feed, is where the article was read from: a feed is not one article's
        # source, so its other (or scrolled-off) entries must not look replaced by this one.
        article = from_html(page, origin=link, url=link, max_bytes=max_bytes)
        if not article.published_at and entry.get("published_parsed"):
            updates |= {"published_at": normalise_date(entry.published_parsed), "date_source": "feed"}
        if entry.get("title") and not article.title:
            updates["title"] = entry.title
        return where, article.model_copy(update=updates)
    except BadInput as exc:
        return where, exc
