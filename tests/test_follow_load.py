"""Load while the follower ingests (issue #17): 20 clients on a real `newsrag serve` whose background follower
ingests a local feed that grows during the load. Only correctness is asserted (no failed request, no mix-up,
the feed's articles answerable afterwards); the figures go to tests/artifacts/load-follow.json."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from evals.app_process import start_server
from evals.load import markdown, run
from ingest.feed_list import FeedList
from tests.conftest import ARTIFACTS
from tests.support.feed_server import FeedSite, Resource
from tests.test_web import PARAGRAPHS, TITLES, article_page, rss

CLIENTS, SECONDS, MAX_REQUESTS = 20, 10.0, 400
QUESTIONS = {
    "storm": "What did emergency crews clear after the storm on the eastern coast?",
    "port": "Why did containers pile up at the harbour?",
    "budget": "How many votes approved the new budget for public schools?",
    "rail": "How long is the journey on the new high-speed rail line?",
    "bridge": "Why did engineers close the old river bridge?",
}


@pytest.mark.slow
def test_twenty_clients_while_the_follower_ingests(tmp_path: Path) -> None:
    site = FeedSite()
    for slug in PARAGRAPHS:
        site.resources[f"/news/{slug}.html"] = Resource(article_page(slug), "text/html; charset=utf-8")
    slugs = list(PARAGRAPHS)
    site.resources["/feed.xml"] = Resource(rss(site.base, slugs[:1]))
    root = tmp_path / "app"
    FeedList(root / "index" / "feeds.sqlite").add(site.url("/feed.xml"), 1.0)
    server = start_server("follow-load", root, ingest=False, NEWSRAG_FETCH_ALLOW="127.0.0.1")
    stop = threading.Event()

    def publish() -> None:  # one more entry every two seconds, while the clients ask
        for n in range(2, len(slugs) + 1):
            if stop.wait(2.0):
                return
            site.resources["/feed.xml"] = Resource(rss(site.base, slugs[:n]))

    publisher = threading.Thread(target=publish, daemon=True)
    try:
        publisher.start()
        report = run(server.url, CLIENTS, SECONDS, MAX_REQUESTS, ingest_stories=0, index_dir=server.index_dir)
        fetched_during_load = sum(n for path, n in site.hits.items() if path.startswith("/news/"))
        stop.set()
        publisher.join()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "load-follow.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        print("\n".join(markdown(report)))
        assert report["failures"] == 0, report["failure_reasons"]
        assert report["answers"]["mixed"] == 0 and report["answers"]["wrong"] == 0, report["bad_answers"]
        assert report["clients_answered"] == CLIENTS
        assert fetched_during_load >= 2, "the follower fetched no new entry while the clients asked"

        # Every entry published, also during the load, is ingested and answered from.
        deadline = time.monotonic() + 120
        cited: dict[str, bool] = {}
        with httpx.Client(base_url=server.url, timeout=60) as http:
            while time.monotonic() < deadline:
                for slug in slugs:
                    if not cited.get(slug):
                        body = {"messages": [{"role": "user", "content": QUESTIONS[slug]}]}
                        reply = http.post("/v1/chat/completions", json=body).json()
                        titles = [c["title"] for c in reply.get("citations", [])]
                        cited[slug] = TITLES[slug] in titles or TITLES[slug] in json.dumps(reply)
                if all(cited.values()):
                    break
                time.sleep(1)
        assert all(cited.values()), cited
        assert site.hits["/feed.xml"] >= len(slugs)  # polled throughout
    finally:
        stop.set()
        server.stop()
        site.close()
