"""The Articles tab at archive scale (issue #20): page load and list operations with 100k articles indexed.

How the index is filled, cheaply but honestly: ``SEED`` synthetic one-chunk articles (``evals/archive.py``)
go through the real ingest pipeline and embedder; their chunks are then written again, each copy a new
article (own id, title, source, date, slightly varied vector), straight into the store until it holds
``size`` articles. The store, the catalog, the lexical index and `newsrag serve` then run as in use.

Measured in headless Chromium (Debian's, as in the browser tests), each time in a fresh browser context:
from navigation to the Articles tab showing its first page with the right count (``page_load_s``), and
the server-side list operations as a user sees them (next page, a search, a sort). Also the catalog's
one-off rebuild for a new index generation, in-process. Run alone: ``python -m evals.perf_articles``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from evals.archive import SOURCES, write_archive

SEED = 200
BATCH = 5000
LOADS = 5  # page loads, each in a fresh browser context
TARGET_S = 3.0
CHROMIUM = Path("/usr/bin/chromium")


def build(target: Path, size: int, work: Path) -> dict[str, Any]:
    """An index of ``size`` one-chunk articles: SEED ingested for real, then copied as new articles."""
    import numpy as np

    from rag.service.newsrag import NewsRAG

    started = time.perf_counter()
    seed = NewsRAG(index_dir=work / "seed-index")
    assert seed.ingest(write_archive(work / "seed-articles", SEED)).ok
    got = seed.store.collection.get(include=["embeddings", "documents", "metadatas"])
    newsrag = NewsRAG(index_dir=target)
    rng = np.random.default_rng(0)
    base, written, now = len(got["ids"]), 0, time.time()
    newsrag.store.begin_write()
    while written < size:
        n = min(BATCH, size - written)
        picks = [(written + k) % base for k in range(n)]
        vectors = np.asarray([got["embeddings"][p] for p in picks], dtype=np.float32)
        vectors += rng.normal(0, 0.02, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        metas, ids = [], []
        for k, p in enumerate(picks):
            number = written + k
            meta = dict(got["metadatas"][p])
            meta["article_id"] = meta["document_id"] = meta["doc_id"] = meta["ref_doc_id"] = f"a{number:07d}"
            meta["title"] = f"{meta['title'].rsplit(' (report', 1)[0]} (no. {number})"
            meta["source"] = SOURCES[number % len(SOURCES)] if number % 50 else f"Source {number % 997}"
            meta["published_at"] = f"{2015 + number % 11}-{number % 12 + 1:02d}-{number % 28 + 1:02d}"
            meta["ingested_at"] = now - number
            metas.append(meta)
            ids.append(f"a{number:07d}-{meta['content_hash']}-00000")
        newsrag.store.collection.add(
            ids=ids, embeddings=vectors, documents=[got["documents"][p] for p in picks], metadatas=metas
        )
        written += n
    newsrag.store.end_write()
    return {"articles": size, "chunks": newsrag.store.count(), "build_seconds": time.perf_counter() - started}


def catalog_figures(index: Path) -> dict[str, Any]:
    """The catalog's rebuild for a new generation, and single list queries, timed in-process."""
    from rag.index.catalog import Selection
    from rag.service.newsrag import NewsRAG

    newsrag = NewsRAG(index_dir=index)
    started = time.perf_counter()
    newsrag.catalog.count()  # a large archive's first table is built in the background: wait for it
    newsrag.catalog.wait()
    total = newsrag.catalog.count()
    rebuild = time.perf_counter() - started
    timings: dict[str, list[float]] = {"first_page": [], "deep_page": [], "search": [], "sort_title": []}
    for _ in range(5):
        for name, call in (
            ("first_page", lambda: newsrag.articles_page()),
            ("deep_page", lambda: newsrag.articles_page(offset=total - 25)),
            ("search", lambda: newsrag.articles_page(Selection(text=f"(no. {total // 2})"))),
            ("sort_title", lambda: newsrag.articles_page(sort="title", descending=False)),
        ):
            t = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - t) * 1000)
    return {"catalog_articles": total, "catalog_rebuild_s": rebuild} | {
        f"catalog_{name}_ms": statistics.median(values) for name, values in timings.items()
    }


def browser_figures(url: str, total: int) -> dict[str, Any]:
    """Page loads to a filled Articles tab, then next page, search and sort, as a user's browser sees them."""
    from playwright.sync_api import expect, sync_playwright

    shown = f"1–25 of {total:,} articles indexed"
    wanted = f"(no. {total // 2})"  # one article's title
    loads, steps = [], {"next_page_s": [], "search_s": [], "sort_s": []}
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        for _ in range(LOADS):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            started = time.perf_counter()
            page.goto(url + "/", wait_until="load")
            page.get_by_role("tab", name="Articles").click()
            count = page.locator("#nr-article-count")
            expect(count).to_contain_text(shown, timeout=60_000)
            page.locator("#nr-articles [role=row]").nth(25).wait_for(timeout=60_000)
            loads.append(time.perf_counter() - started)

            t = time.perf_counter()
            page.get_by_role("button", name="Next →").click()
            expect(count).to_contain_text(f"26–50 of {total:,}", timeout=60_000)
            steps["next_page_s"].append(time.perf_counter() - t)
            box = page.locator("#nr-article-search textarea")
            t = time.perf_counter()
            box.fill(wanted)
            box.press("Enter")
            expect(count).to_contain_text("matching", timeout=60_000)
            steps["search_s"].append(time.perf_counter() - t)
            t = time.perf_counter()
            page.locator("#nr-sort input").click()
            page.get_by_role("option", name="title", exact=True).click()
            expect(page.locator("#nr-articles [role=row]").nth(1)).to_contain_text(wanted, timeout=60_000)
            steps["sort_s"].append(time.perf_counter() - t)
            context.close()
        browser.close()
    return {
        "load_average_during_loads": os.getloadavg()[0],  # the machine is shared: how busy it was
        "page_load_s_median": statistics.median(loads),
        "page_load_s_max": max(loads),
        "page_loads": len(loads),
    } | {f"{name}_median": statistics.median(values) for name, values in steps.items()}


def part(work: Path, size: int) -> dict[str, Any]:
    """Build, time the catalog, then serve and time the page in a browser."""
    from evals.app_process import start_server, stop_process

    work.mkdir(parents=True, exist_ok=True)
    root = work / "serve"
    figures = build(root / "index", size, work)
    figures |= catalog_figures(root / "index")
    started = time.perf_counter()
    server = start_server("articles-bench", root, ingest=False, NEWSRAG_LOG="off")
    figures["serve_ready_s"] = time.perf_counter() - started
    try:
        if CHROMIUM.exists():
            figures |= browser_figures(server.url, size)
        else:
            figures["browser"] = "not measured: /usr/bin/chromium is missing"
    finally:
        stop_process(server.process)
    figures["target_page_load_s"] = TARGET_S
    return figures


def markdown(f: dict[str, Any]) -> list[str]:
    lines = ["", f"## Articles tab with {f['articles']:,} articles indexed (issue #20)", ""]
    lines += [
        f"Page load to the Articles tab's first page (fresh browser context, median of {f.get('page_loads', 0)}):"
        f" **{f.get('page_load_s_median', float('nan')):.2f} s** (max {f.get('page_load_s_max', float('nan')):.2f} s;"
        f" target < {TARGET_S:g} s).",
        "",
    ]
    lines += [f"- {k}: {v:.3f}" if isinstance(v, float) else f"- {k}: {v}" for k, v in f.items()]
    return lines


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "bench")
    parser.add_argument("--part", action="store_true", help="print the figures as JSON (run by evals.perf)")
    a = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsrag-articles-bench-") as tmp:
        out = part(Path(tmp), a.size)
    if a.part:
        print(json.dumps(out))
        sys.exit(0)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "results-articles.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    text = "\n".join(["# newsrag benchmarks: the Articles tab", *markdown(out), ""])
    (a.out / "results-articles.md").write_text(text, encoding="utf-8")
    print(text)
