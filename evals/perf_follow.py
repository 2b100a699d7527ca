"""Benchmarks of a growing archive (issue #17): incremental cost and freshness, on real indexes.

- **Incremental cost**: the wall time of ``NewsRAG.ingest`` of one new article (a RealTimeQA article, about
  ten chunks, embedded with the real MiniLM) into an index of 1k chunks and into one of 100k, side by side,
  with the lexical catch-up timed on its own. Target: the 100k time ≤ 2× the 1k time.
- **Freshness**: an article appears in a feed served on 127.0.0.1; from that moment, the seconds until a
  question about it is answered from it (it is cited): one poll (started at once: the poll interval is not
  counted), the fetch of the entry's page, embedding, the write, the lexical catch-up and the question.
  Target: ≤ 10 s with 100k chunks indexed.

The 100k index is a copy of a built one (``--big``; ``evals/perf.py``'s scale part builds one); the 1k index
is its first 1,000 chunks, vectors included. ``python -m evals.perf_follow --big /path/to/index --out bench``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from evals.load_stories import Story, stories
from evals.perf import DEFAULT_DATA, corpus

TARGETS = {"incremental_ratio_100k_vs_1k": "<= 2", "freshness_s_100k": "<= 10"}
RUNS = 3


def _small_copy(big: Path, target: Path, size: int) -> None:
    """An index of the first ``size`` chunks of ``big`` (whole articles are not needed: each chunk is one)."""
    from rag.index.store import ChunkStore
    from rag.service.newsrag import NewsRAG

    newsrag = NewsRAG(index_dir=target)
    source = ChunkStore(newsrag.settings.model_copy(update={"index_dir": big}), newsrag.store.embedder_id)
    got = source.collection.get(include=["embeddings", "documents", "metadatas"], limit=size)
    newsrag.store.begin_write()
    newsrag.store.collection.add(
        ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"], metadatas=got["metadatas"]
    )
    newsrag.store.end_write()


def _article_file(folder: Path, article: dict[str, Any], n: int) -> Path:
    path = folder / f"new-{n}.txt"
    path.write_text(f"{article['title']}\n\n{article['text']}", encoding="utf-8")
    return path


def incremental(index: Path, articles: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    """Add ``articles`` one at a time; the wall time of each ingest and of its lexical catch-up."""
    from rag.service.newsrag import NewsRAG

    newsrag = NewsRAG(index_dir=index)
    started = time.perf_counter()
    newsrag.lexical.ensure_fresh(force=True)  # a copied index: built here once, not counted
    opened = time.perf_counter() - started
    lexical_s: list[float] = []
    original = newsrag.lexical._catch_up

    def timed(meta: dict[str, Any]) -> bool:
        t = time.perf_counter()
        try:
            return original(meta)
        finally:
            lexical_s.append(time.perf_counter() - t)

    newsrag.lexical._catch_up = timed  # type: ignore[method-assign]
    ingest_s, chunks = [], []
    for n, article in enumerate(articles):
        path = _article_file(work, article, n)
        t = time.perf_counter()
        report = newsrag.ingest(path)
        ingest_s.append(time.perf_counter() - t)
        chunks.append(report.chunks_written)
    return {
        "chunks_before": newsrag.store.count() - sum(chunks),
        "first_open_s": round(opened, 2),
        "ingest_s": ingest_s,
        "lexical_catch_up_s": lexical_s,
        "chunks_added": chunks,
    }


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _Site:
    """A folder served on 127.0.0.1 (the feed and its article pages)."""

    def __init__(self, folder: Path) -> None:
        handler = partial(_Quiet, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _page(story: Story) -> str:
    """An invented story (names found nowhere else in the index) as a news page."""
    body = story.markdown().split("---\n")[-1]
    paragraphs = "".join(f"<p>{p}</p>" for p in body.splitlines() if p.strip())
    return (
        f"<!doctype html><html><head><title>{story.title}</title></head>"
        f"<body><article><h1>{story.title}</h1>{paragraphs}</article></body></html>"
    )


def _rss(base: str, slugs: list[tuple[str, str]]) -> str:
    items = "".join(f"<item><title>{t}</title><link>{base}/{s}.html</link></item>" for s, t in slugs)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>{items}</channel></rss>'


def freshness(index: Path, news: list[Story], work: Path) -> dict[str, Any]:
    """Seconds from an article appearing in a followed feed to a question answered from it (cited, right)."""
    from rag.service.newsrag import NewsRAG

    site_dir = work / "site"
    site_dir.mkdir(parents=True, exist_ok=True)
    site = _Site(site_dir)
    newsrag = NewsRAG(index_dir=index, fetch_allow="127.0.0.1", engine="extractive")
    newsrag.lexical.ensure_fresh(force=True)
    feed = f"{site.base}/feed.xml"
    (site_dir / "feed.xml").write_text(_rss(site.base, []), encoding="utf-8")
    newsrag.add_feed(feed, interval=3600)
    newsrag.poll_feeds(feed)
    newsrag.ask("warm up")
    published: list[tuple[str, str]] = []
    seconds, cited, right, polls = [], [], [], []
    for n, story in enumerate(news):
        slug = f"fresh-{n}"
        (site_dir / f"{slug}.html").write_text(_page(story), encoding="utf-8")
        published.append((slug, story.title))
        t0 = time.perf_counter()
        (site_dir / "feed.xml").write_text(_rss(site.base, published), encoding="utf-8")
        [report] = newsrag.poll_feeds(feed)  # the poll that would come at the end of the interval, started now
        polls.append(time.perf_counter() - t0)
        answer = newsrag.ask(story.question(0))
        seconds.append(time.perf_counter() - t0)
        cited.append(any(c.url == f"{site.base}/{slug}.html" for c in answer.citations))
        right.append(story.expected(0) in answer.text)
        if report.ingest is None or not report.ingest.ok:
            print("freshness: the poll did not ingest the story:", report, flush=True)
    site.server.shutdown()
    return {
        "chunks": newsrag.store.count(),
        "freshness_s": seconds,
        "poll_and_ingest_s": polls,
        "cited_new_article": cited,
        "answer_states_the_fact": right,
    }


def run(big: Path, out: Path, data: Path) -> dict[str, Any]:
    started = time.perf_counter()
    pool = [a for a in corpus(data, 400)[-(4 * RUNS) :] if len(a["text"]) > 2000]  # not among the big index's
    with tempfile.TemporaryDirectory(prefix="newsrag-follow-bench-") as tmp:
        work = Path(tmp)
        large = work / "large"
        shutil.copytree(big, large)
        small = work / "small"
        _small_copy(large, small, 1000)
        results: dict[str, Any] = {}
        results["incremental_1k"] = incremental(small, pool[:RUNS], work)
        results["incremental_100k"] = incremental(large, pool[RUNS : 2 * RUNS], work)
        results["freshness_100k"] = freshness(large, stories(RUNS, seed=17), work)
    small_s = statistics.median(results["incremental_1k"]["ingest_s"])
    large_s = statistics.median(results["incremental_100k"]["ingest_s"])
    results["figures"] = {
        "incremental_ingest_s_1k": small_s,
        "incremental_ingest_s_100k": large_s,
        "incremental_ratio_100k_vs_1k": large_s / small_s,
        "lexical_catch_up_s_1k": statistics.median(results["incremental_1k"]["lexical_catch_up_s"]),
        "lexical_catch_up_s_100k": statistics.median(results["incremental_100k"]["lexical_catch_up_s"]),
        "freshness_s_100k": statistics.median(results["freshness_100k"]["freshness_s"]),
        "freshness_s_100k_max": max(results["freshness_100k"]["freshness_s"]),
    }
    results["targets"] = TARGETS
    results["seconds"] = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    (out / "results-follow.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out / "results-follow.md").write_text(markdown(results), encoding="utf-8")
    return results


def markdown(results: dict[str, Any]) -> str:
    f = results["figures"]
    lines = [
        "# A growing archive: incremental cost and freshness (issue #17)",
        "",
        "`python -m evals.perf_follow --big INDEX`: medians of "
        f"{RUNS} runs; real MiniLM embeddings; the 100k index is a copy of a built one.",
        "",
        "| figure | value | target |",
        "| --- | ---: | --- |",
    ]
    lines += [f"| {k} | {v:.2f} | {TARGETS.get(k, '')} |" for k, v in f.items()]
    fresh = results["freshness_100k"]
    cited, right = fresh["cited_new_article"], fresh["answer_states_the_fact"]
    lines += ["", f"Freshness answers citing the new article: {sum(cited)} of {len(cited)}; stating its fact: "]
    lines[-1] += (
        f"{sum(right)} of {len(right)}. Poll + ingest alone: {statistics.median(fresh['poll_and_ingest_s']):.2f} s."
    )
    small, large = results["incremental_1k"]["chunks_before"], results["incremental_100k"]["chunks_before"]
    lines += [f"Chunks before: {small} and {large}."]
    lines += [f"Total bench time: {results['seconds']:.0f} s", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big", type=Path, required=True, help="A built index folder of about 100k chunks.")
    parser.add_argument("--out", type=Path, default=Path("bench"))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    a = parser.parse_args()
    print(markdown(run(a.big, a.out, a.data)))
