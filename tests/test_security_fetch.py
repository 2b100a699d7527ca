"""What the server fetches for a web visitor: public addresses only, a bounded number of feed entries, bytes and
seconds; and no fetch while the index's write lock is held.

Against a real `newsrag serve` driven by its own clients (gradio_client for the Articles tab's /ingest, the openai
client for /v1), and real HTTP servers on 127.0.0.1 and ::1 standing for the internal services a visitor must not
reach. The owner's CLI and Python API may still fetch them.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from evals.app_process import BIN, Server, serving
from ingest.fetch_guard import FetchBudget
from ingest.fetch_policy import FetchPolicy, not_public
from ingest.web import load_url
from rag.service.newsrag import NewsRAG

SECRET = "tangerine-4471"
SECRET_PAGE = f"""<!doctype html><html><head><title>Vault password changed at the city archive</title></head>
<body><article><h1>Vault password changed at the city archive</h1>
<p>The city archive changed the vault password on Monday, the facilities office said in a short statement.</p>
<p>The new vault password of the city archive is {SECRET}, and staff were told to keep it to themselves.</p>
<p>The old password had been in use for three years before the change, according to the office.</p>
</article></body></html>"""
QUESTION = "What is the new vault password of the city archive?"
FEED_ITEMS = 1000
GENEROUS = 40  # seconds: far above the 3 s fetch timeout, far below the 80 s the drip lasts without it


def item_page(number: int) -> str:
    return f"""<!doctype html><html><head><title>Harbour report number {number}</title></head><body><article>
<h1>Harbour report number {number}</h1><p>Ships number {number} and {number + 1} docked at the harbour on Monday
after a long crossing, and their crews unloaded grain, timber and machine parts for the region.</p></article>
</body></html>"""


class Site:
    """A local HTTP server that records every path asked for: the secret page, redirects, a feed, a slow drip."""

    def __init__(self, host: str) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family, "daemon_threads": True})
        self.server = server_class((host, 0), self._handler())
        self.port = self.server.server_address[1]
        self.base = f"http://[{host}]:{self.port}" if family == socket.AF_INET6 else f"http://{host}:{self.port}"
        self.requests: list[str] = []
        self.stop = threading.Event()  # ends the drips
        self.dripping = threading.Event()  # set once a drip has begun
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def asked(self, prefix: str) -> list[str]:
        return [p for p in self.requests if p.startswith(prefix)]

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                site.requests.append(self.path)
                path, query = urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)
                if path == "/go":
                    self.send_response(302)
                    self.send_header("Location", query["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/drip":
                    self._drip(int(query["bytes"][0]), float(query["gap"][0]))
                elif path == "/feed.xml":
                    self._send("application/rss+xml", site.feed())
                elif path.startswith("/item/"):
                    self._send("text/html; charset=utf-8", item_page(int(path.split("/")[2].split(".")[0])))
                elif path.startswith("/secret"):
                    self._send("text/html; charset=utf-8", SECRET_PAGE)
                else:
                    self.send_error(404)

            def _send(self, content_type: str, body: str) -> None:
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _drip(self, size: int, gap: float) -> None:
                """A page sent one byte at a time: each read gets a byte well within any per-read timeout."""
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                site.dripping.set()
                for _ in range(size):
                    if site.stop.wait(gap):
                        return
                    try:
                        self.wfile.write(b"w")
                    except OSError:  # the client gave up: that is what the deadline is for
                        return

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def feed(self) -> str:
        items = "".join(
            f"<item><title>Harbour report number {n}</title><link>{self.base}/item/{n}.html</link></item>"
            for n in range(1, FEED_ITEMS + 1)
        )
        return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Harbour</title>
<link>{self.base}/</link><description>Reports</description>{items}</channel></rss>"""


@pytest.fixture(scope="module")
def v4() -> Iterator[Site]:
    site = Site("127.0.0.1")
    yield site
    site.close()


@pytest.fixture(scope="module")
def v6() -> Iterator[Site]:
    try:
        site = Site("::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    yield site
    site.close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app as shipped: a visitor's URL must lead to a public address."""
    with serving("fetch-default", tmp_path_factory.mktemp("fetch-default"), ingest=False) as started:
        yield started


@pytest.fixture(scope="module")
def allowing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with 127.0.0.1 allowed (but not ::1), a short fetch timeout and a small feed allowance."""
    with serving(
        "fetch-allow",
        tmp_path_factory.mktemp("fetch-allow"),
        ingest=False,
        NEWSRAG_FETCH_ALLOW="127.0.0.1",
        NEWSRAG_FETCH_TIMEOUT="3",
        NEWSRAG_MAX_FEED_ITEMS="10",
    ) as started:
        yield started


@pytest.fixture(scope="module")
def no_url_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("fetch-off")
    with serving("fetch-off", root, ingest=False, NEWSRAG_APP_URL_INGEST="false") as started:
        yield started


def ingest_url(server: Server, url: str) -> list[list[Any]]:
    """The Articles tab's result rows (file, status, title, chunks, reason) for one URL, through the app's API."""
    from gradio_client import Client

    return Client(server.url, verbose=False).predict([], url, api_name="/ingest")["data"]


def ask(server: Server) -> str:
    """The answer to QUESTION through /v1, with the quotes of its citations."""
    import openai

    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)
    reply = client.chat.completions.create(model="newsrag", messages=[{"role": "user", "content": QUESTION}])
    choice = reply.choices[0]
    quotes = [c["quote"] for c in (choice.model_extra or {}).get("citations", [])]
    return " ".join([choice.message.content or "", *quotes])


# ----- the app, as shipped: loopback in every spelling, directly or by a redirect
SPELLINGS = {
    "ipv4": "http://127.0.0.1:{p4}/secret-ipv4.html",
    "localhost": "http://localhost:{p4}/secret-localhost.html",
    "ipv6": "http://[::1]:{p6}/secret-ipv6.html",
    "integer": "http://2130706433:{p4}/secret-integer.html",
    "hex": "http://0x7f000001:{p4}/secret-hex.html",
    "short": "http://127.1:{p4}/secret-short.html",
    "ipv4-mapped": "http://[::ffff:127.0.0.1]:{p4}/secret-mapped.html",
    "unspecified": "http://0.0.0.0:{p4}/secret-unspecified.html",
    "redirect": "http://127.0.0.1:{p4}/go?to=http://localhost:{p4}/secret-redirect.html",
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_a_visitor_cannot_make_the_app_fetch_loopback(
    default_server: Server, v4: Site, v6: Site, spelling: str
) -> None:
    url = SPELLINGS[spelling].format(p4=v4.port, p6=v6.port)
    rows = ingest_url(default_server, url)
    assert [(r[1], "refused to fetch" in r[4], "not a public address" in r[4]) for r in rows] == [
        ("failed", True, True)
    ], rows
    assert "NEWSRAG_FETCH_ALLOW" in rows[0][4]
    page = "/" + url.rsplit("/", 1)[1]
    assert v4.asked(page) == [] and v6.asked(page) == []  # no request reached the local servers
    assert SECRET not in ask(default_server)


def test_a_redirect_is_checked_at_every_hop(allowing_server: Server, v4: Site, v6: Site) -> None:
    """127.0.0.1 is allowed on this server, ::1 and 0.0.0.0 are not: the first hop is fetched, the second refused."""
    for target in (f"http://[::1]:{v6.port}/secret-hop.html", f"http://0.0.0.0:{v4.port}/secret-hop.html"):
        before = len(v4.asked("/go"))
        rows = ingest_url(allowing_server, v4.url(f"/go?to={target}"))
        assert len(v4.asked("/go")) == before + 1  # the allowed first hop was asked
        assert [r[1] for r in rows] == ["failed"] and "not a public address" in rows[0][4], rows
    assert v4.asked("/secret-hop") == [] and v6.asked("/secret-hop") == []  # the second hop never reached them


def test_the_allow_list_opens_an_address(allowing_server: Server, v4: Site) -> None:
    """The positive control: with 127.0.0.1 allowed, the page is fetched, and asking does return what it says."""
    rows = ingest_url(allowing_server, v4.url("/secret-allowed.html"))
    assert [r[1] for r in rows] == ["added"], rows
    assert v4.asked("/secret-allowed") == ["/secret-allowed.html"]
    assert SECRET in ask(allowing_server)


def test_url_ingest_can_be_turned_off(no_url_server: Server, v4: Site) -> None:
    rows = ingest_url(no_url_server, v4.url("/secret-off.html"))
    assert rows == [
        [
            v4.url("/secret-off.html"),
            "failed",
            "",
            0,
            "adding articles by URL or feed is turned off on this server (NEWSRAG_APP_URL_INGEST=false)",
        ]
    ]
    assert v4.asked("/secret-off") == []


# ----- bounded work per request
def test_a_huge_feed_is_read_only_up_to_max_feed_items(allowing_server: Server, v4: Site) -> None:
    rows = ingest_url(allowing_server, v4.url("/feed.xml"))
    assert 0 < len(v4.asked("/item/")) <= 10, len(v4.asked("/item/"))
    assert sum(r[1] == "added" for r in rows) == len(v4.asked("/item/"))
    skipped = [r for r in rows if "skipped" in r[4]]
    assert len(skipped) == 1 and f"{FEED_ITEMS} entries" in skipped[0][4] and "first 10" in skipped[0][4], rows
    assert skipped[0][1] == "skipped" and "failed" not in [r[1] for r in rows], rows  # a cap, not a failure


def test_a_drip_feeding_page_times_out_in_total(allowing_server: Server, v4: Site) -> None:
    """One byte every 2 s never trips a 3 s timeout per read; the 3 s are for the whole fetch."""
    started = time.monotonic()
    rows = ingest_url(allowing_server, v4.url("/drip?bytes=40&gap=2"))
    took = time.monotonic() - started
    assert [r[1] for r in rows] == ["failed"] and "timed out" in rows[0][4], rows
    assert "3 s" in rows[0][4]
    assert took < GENEROUS, took


def test_the_download_allowance_is_per_request(v4: Site) -> None:
    """Each feed page is small, but together they pass the request's allowance: the rest are not fetched."""
    budget = FetchBudget(fetch_timeout=10, max_bytes=len(v4.feed().encode()) + 2_000)  # the feed and a few pages
    before = len(v4.asked("/item/"))
    loaded = list(load_url(v4.url("/feed.xml"), 5_000_000, 10, budget=budget, max_items=50))
    fetched = len(v4.asked("/item/")) - before
    assert 0 < fetched < 50
    reasons = [str(r) for _, r in loaded if isinstance(r, Exception)]
    assert any("MB of downloads are used up (NEWSRAG_MAX_FETCH_MB)" in r for r in reasons), reasons

    # One response larger than what is left is cut off as it arrives.
    [(_, stopped)] = load_url(v4.url("/feed.xml"), 5_000_000, 10, budget=FetchBudget(fetch_timeout=10, max_bytes=5_000))
    assert str(stopped) == "stopped: this request's 0.005 MB of downloads are used up (NEWSRAG_MAX_FETCH_MB)"


def test_the_request_deadline_covers_all_its_fetches(v4: Site) -> None:
    budget = FetchBudget(fetch_timeout=30, request_seconds=1.5)
    started = time.monotonic()
    [(_, first)] = load_url(v4.url("/drip?bytes=40&gap=0.5&n=1"), 5_000_000, 30, budget=budget)
    [(_, second)] = load_url(v4.url("/drip?bytes=40&gap=0.5&n=2"), 5_000_000, 30, budget=budget)
    assert "timed out" in str(first) and "1.5 s for fetching ran out" in str(first)
    assert str(second).startswith("not fetched: this request's 1.5 s")
    assert time.monotonic() - started < GENEROUS


# ----- no fetch under the write lock
def test_a_slow_fetch_does_not_hold_up_another_ingest(v4: Site, tmp_path: Path, sample_path: Path) -> None:
    newsrag = NewsRAG(index_dir=tmp_path / "index", fetch_timeout=120, fetch_deadline=120)
    (tmp_path / "warm.txt").write_text("Warm up\n\n" + "The embedder loads once for this test process. " * 3)
    assert newsrag.ingest(tmp_path / "warm.txt").ok  # the embedder and the store are ready before timing anything
    v4.dripping.clear()
    slow = threading.Thread(target=newsrag.ingest, args=(v4.url("/drip?bytes=600&gap=0.1&slow"),), daemon=True)
    slow.start()
    try:
        assert v4.dripping.wait(GENEROUS)
        report = newsrag.ingest(sample_path)  # before the fix: waits for the lock until the drip ends (60 s)
        assert slow.is_alive(), "the second ingest only finished after the slow fetch"
        assert [o.status for o in report.outcomes] == ["added"]
    finally:
        v4.stop.set()
        slow.join(GENEROUS)
        v4.stop.clear()


# ----- the owner may fetch anything
@pytest.mark.slow
def test_the_cli_still_fetches_loopback(v4: Site, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_") and "proxy" not in k.lower()}
    env["NEWSRAG_INDEX_DIR"] = str(tmp_path / "cli-index")
    result = subprocess.run(
        [BIN / "newsrag", "ingest", "--json", v4.url("/secret-cli.html")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert [o["status"] for o in json.loads(result.stdout)["outcomes"]] == ["added"]
    assert v4.asked("/secret-cli") == ["/secret-cli.html"]


# ----- the address classifier and the allow-list
@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.1", "private"),
        ("fd00::1", "unique-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("fec0::1", "site-local"),
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_address_classifier(address: str, reason: str | None) -> None:
    found = not_public(ipaddress.ip_address(address))
    assert (found is None) if reason is None else (found is not None and reason in found), found


def test_allow_list_by_host_address_and_network() -> None:
    policy = FetchPolicy.for_visitors(" news.intranet. , 10.1.0.0/16, ::1 ,")
    ip = ipaddress.ip_address
    assert policy.refusal("News.Intranet", ip("192.168.1.5")) is None
    assert policy.refusal("x.example", ip("10.1.200.3")) is None
    assert policy.refusal("x.example", ip("::ffff:10.1.200.3")) is None
    assert policy.refusal("localhost", ip("::1")) is None
    assert policy.refusal("x.example", ip("93.184.216.34")) is None
    refused = policy.refusal("x.example", ip("10.2.0.1")) or ""
    assert "x.example: not a public address" in refused and "10.2.0.1" not in refused  # the address stays private
    assert "localhost: not a public address" in (policy.refusal("localhost", ip("127.0.0.1")) or "")
    assert FetchPolicy().refusal("localhost", ip("127.0.0.1")) is None  # the owner's


def test_a_host_is_resolved_once_and_its_checked_address_connected(v4: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: a name that answers an allowed address to the check, then another, is never asked twice."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, *args, **kwargs)
        asked.append(host)
        return real("127.0.0.1" if len(asked) == 1 else "::1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    policy = FetchPolicy.for_visitors("127.0.0.1")
    loaded = list(load_url(f"http://rebind.test:{v4.port}/secret-rebind.html", 5_000_000, 10, policy=policy))
    assert [type(r).__name__ for _, r in loaded] == ["Article"], loaded
    assert asked == ["rebind.test"]

    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *a, **k: real("::1" if host == "rebind.test" else host, *a, **k)
    )
    [(_, refused)] = load_url(f"http://rebind.test:{v4.port}/secret-rebind.html", 5_000_000, 10, policy=policy)
    # Refused, without saying what the name resolved to: visitors read this, and could map internal DNS with it.
    assert "refused to fetch from rebind.test: not a public address" in str(refused)
    assert "::1" not in str(refused) and "loopback" not in str(refused)
