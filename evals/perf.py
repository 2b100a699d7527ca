"""Performance benchmarks (`make bench`): ingest throughput, re-ingest, query latency at scale, memory.

Every figure is a median with min/max over repeated runs; ratios are measured side by side in one
run, since absolute times on shared machines drift. Results go to bench/results.json and .md.
Heavy parts run in subprocesses so that each one's peak memory is its own.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evals.load import bench_part as part_load
from evals.load import markdown as load_markdown
from evals.perf_articles import markdown as articles_markdown
from evals.realtimeqa import week_articles, week_cases
from evals.realtimeqa import weeks as list_weeks

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "realtimeqa" / "dev"
# The largest index built is kept here (not in git): `make bench-follow` and `make bench-scale` start from it.
KEPT = ROOT / "bench" / "work"
TARGETS = {
    "ingest_vs_raw_embedder": ">= 0.8",
    "ingest_vs_plain_llamaindex": ">= 1.0",
    "reingest_speedup": ">= 20",
    "retrieval_p95_ms_100k": "<= 100",
    "extractive_p95_ms_100k": "<= 300",
    "extractive_as_of_p95_ms_100k": "<= 300",
    "serve_peak_rss_mb_100k": "<= 1536",
    "articles_page_load_s_100k": "< 3",
}


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def peak_rss_mb() -> float:
    """This process's own peak memory: VmHWM starts again at exec, where ru_maxrss keeps the peak of the process
    that forked it (a bench part run from a process that had loaded the models would report theirs)."""
    return _peak_rss_of(os.getpid())


def corpus(data_dir: Path, n_articles: int) -> list[dict[str, Any]]:
    """Real articles from consecutive RealTimeQA weeks, de-duplicated by URL."""
    out: dict[str, dict[str, Any]] = {}
    for week in list_weeks(data_dir):
        for article in week_articles(data_dir, week):
            out.setdefault(article["url"], article)
            if len(out) >= n_articles:
                return list(out.values())
    return list(out.values())


def questions(data_dir: Path, n: int) -> list[str]:
    qs = [c.question for week in list_weeks(data_dir) for c in week_cases(data_dir, week)]
    return qs[:n]


# ----- the parts, each run in its own process ------------------------------------------------------------------
def part_ingest(corpus_file: Path, work: Path) -> dict[str, Any]:
    """newsrag ingest, then the same ingest again (unchanged: no embedding work)."""
    from rag.service.newsrag import NewsRAG

    newsrag = NewsRAG(index_dir=work / "index")
    first = newsrag.ingest(corpus_file)
    tokens = sum(len(t) for t in _chunk_token_counts(newsrag))
    second = newsrag.ingest(corpus_file)
    return {
        "articles": first.count("added"),
        "chunks": first.chunks_written,
        "tokens": tokens,
        "seconds": first.seconds,
        "reingest_seconds": second.seconds,
        "reingest_chunks_written": second.chunks_written,
        "peak_rss_mb": peak_rss_mb(),
    }


def _chunk_token_counts(newsrag: Any) -> list[list[int]]:
    from rag.index.embedder import count_tokens

    return [count_tokens(text or "") for _id, text, _meta in newsrag.store.iter_chunks()]


def part_raw_embedder(corpus_file: Path, work: Path) -> dict[str, Any]:
    """The embedder alone on the same chunks: the practical limit of ingest."""
    from ingest.chunk import chunk_article
    from ingest.files import load_file
    from rag.core.settings import load_settings
    from rag.index.embedder import build_embedder

    settings = load_settings(index_dir=work / "unused")
    texts = []
    for _where, article in load_file(corpus_file, 10**9):
        if not isinstance(article, Exception):
            texts += [n.get_content() for n in chunk_article(article, settings.chunk_size, settings.chunk_overlap)]
    embedder = build_embedder(settings)
    started = time.perf_counter()
    embedder.get_text_embedding_batch(texts)
    seconds = time.perf_counter() - started
    return {"chunks": len(texts), "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def part_plain_llamaindex(corpus_file: Path, work: Path) -> dict[str, Any]:
    """The peer: VectorStoreIndex.from_documents into Chroma with the same embedder and splitter."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from ingest.chunk import splitter
    from ingest.files import load_file
    from rag.core.settings import load_settings
    from rag.index.embedder import build_embedder

    settings = load_settings(index_dir=work / "unused")
    docs = [
        Document(text=a.text, metadata={"title": a.title, "url": a.url})
        for _w, a in load_file(corpus_file, 10**9)
        if not isinstance(a, Exception)
    ]
    client = chromadb.PersistentClient(path=str(work / "plain"))
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("plain"))
    started = time.perf_counter()
    VectorStoreIndex.from_documents(
        docs,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=build_embedder(settings),
        transformations=[splitter(settings.chunk_size, settings.chunk_overlap)],
    )
    return {"seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb()}


def part_build(source_index: Path, target: Path, size: int) -> dict[str, Any]:
    """An index of ``size`` chunks: the source's real chunks repeated, each copy's vectors slightly varied."""
    import numpy as np

    from rag.index.store import ChunkStore
    from rag.index.store_reads import read_pages
    from rag.service.newsrag import NewsRAG

    started = time.perf_counter()
    newsrag = NewsRAG(index_dir=target)
    source = ChunkStore(newsrag.settings.model_copy(update={"index_dir": source_index}), newsrag.store.embedder_id)
    got: dict[str, list[Any]] = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
    for page in read_pages(source.collection, ["embeddings", "documents", "metadatas"]):
        for key, values in got.items():
            values.extend(page[key])
    base = len(got["ids"])
    rng = np.random.default_rng(0)
    written = 0
    copy = 0
    newsrag.store.begin_write()
    while written < size:
        n = min(base, size - written)
        vectors = np.asarray(got["embeddings"][:n], dtype=np.float32)
        if copy:  # vary each copy so that the vector index is not full of exact duplicates
            vectors = vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        metas = []
        for meta in got["metadatas"][:n]:
            meta = dict(meta)
            meta["article_id"] = f"{meta['article_id']}-{copy}"
            meta["document_id"] = meta["doc_id"] = meta["ref_doc_id"] = meta["article_id"]
            metas.append(meta)
        ids = [f"{i}-{copy}" for i in got["ids"][:n]]
        documents = got["documents"][:n]
        for start in range(0, n, 5000):
            newsrag.store.collection.add(
                ids=ids[start : start + 5000],
                embeddings=vectors[start : start + 5000],
                documents=documents[start : start + 5000],
                metadatas=metas[start : start + 5000],
            )
        written += n
        copy += 1
    newsrag.store.end_write()
    vectors_written = time.perf_counter() - started
    started = time.perf_counter()
    newsrag.lexical.ensure_fresh(force=True)
    return {
        "chunks": newsrag.store.count(),
        "copies": copy,
        "vector_write_seconds": vectors_written,
        "lexical_build_seconds": time.perf_counter() - started,
    }


def part_query(index: Path, qs: list[str]) -> dict[str, Any]:
    """Query latency on a built index: Chroma's bare vector query, our retrieval, and extractive answers."""
    import numpy as np

    from rag.service.newsrag import NewsRAG

    newsrag = NewsRAG(index_dir=index)
    answerer = newsrag.components.answerer
    retrieval, end_to_end, bare, as_of = [], [], [], []
    answerer.extractive.warm()  # as a served process does at start: the entity recogniser loads once, untimed
    for q in qs[:3]:  # warm caches and lazy loads
        newsrag.ask(q)
    q_vectors = [newsrag.components.embedder.get_query_embedding(q) for q in qs]
    for q, vec in zip(qs, q_vectors, strict=True):
        t = time.perf_counter()
        newsrag.store.collection.query(query_embeddings=[vec], n_results=newsrag.settings.top_k)
        bare.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        answerer.retriever.retrieve(q, newsrag.settings.top_k)
        retrieval.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        newsrag.ask(q)
        end_to_end.append((time.perf_counter() - t) * 1000)

    # Asked as of a day (a date filter on every search), by a second service of its own: its sentence cache starts
    # as cold as the first one's did, so neither pass reads the other's.
    dated = NewsRAG(index_dir=index)
    for q in qs[:3]:
        dated.ask(q, as_of=AS_OF)
    for q in qs:
        t = time.perf_counter()
        dated.ask(q, as_of=AS_OF)
        as_of.append((time.perf_counter() - t) * 1000)

    def pct(values: list[float], q: int) -> float:
        return float(np.percentile(values, q))

    return {
        "chunks": newsrag.store.count(),
        "chroma_query_p50_ms": pct(bare, 50),
        "chroma_query_p95_ms": pct(bare, 95),
        "retrieval_p50_ms": pct(retrieval, 50),
        "retrieval_p95_ms": pct(retrieval, 95),
        "extractive_p50_ms": pct(end_to_end, 50),
        "extractive_p95_ms": pct(end_to_end, 95),
        "extractive_as_of_p50_ms": pct(as_of, 50),
        "extractive_as_of_p95_ms": pct(as_of, 95),
        "questions": len(qs),
        "peak_rss_mb": peak_rss_mb(),
    }


SERVE_QUESTIONS = 20
AS_OF = "2025-10-01"  # inside the dev weeks' dates, so the as-of filter leaves some articles out


def part_serve(index_dir: Path, work: Path, qs: list[str]) -> dict[str, Any]:
    """`newsrag serve` on an index: time to the page and to the first answer, then its peak RSS over questions."""
    import httpx

    from evals.app_process import BIN, environment, free_port, stop_process

    port = free_port()
    env = environment(work, NEWSRAG_INDEX_DIR=str(index_dir), NEWSRAG_LOG="off")
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    log = (work / "serve.log").open("wb")
    proc = subprocess.Popen(
        [BIN / "newsrag", "serve", "--port", str(port)], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    page = answer = None
    latencies = []
    try:
        with httpx.Client(timeout=60) as client:
            while time.perf_counter() - started < 300 and proc.poll() is None:
                try:
                    if page is None and client.get(f"{base}/").status_code == 200:
                        page = time.perf_counter() - started
                    if page is not None:
                        body = {"model": "newsrag", "messages": [{"role": "user", "content": qs[0]}]}
                        client.post(f"{base}/v1/chat/completions", json=body).raise_for_status()
                        answer = time.perf_counter() - started
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            if answer is None:
                raise RuntimeError(f"newsrag serve gave no answer: {(work / 'serve.log').read_text()[-2000:]}")
            for q in qs[1:SERVE_QUESTIONS]:
                t = time.perf_counter()
                body = {"model": "newsrag", "messages": [{"role": "user", "content": q}]}
                client.post(f"{base}/v1/chat/completions", json=body).raise_for_status()
                latencies.append((time.perf_counter() - t) * 1000)
        rss = _peak_rss_of(proc.pid)
    finally:
        stop_process(proc)
        log.close()
    return {
        "startup_page_s": page,
        "startup_first_answer_s": answer,
        "http_answer_p50_ms": statistics.median(latencies) if latencies else None,
        "peak_rss_mb": rss,
    }


def _peak_rss_of(pid: int) -> float:
    """VmHWM, the peak resident set of a running process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


PARTS = {"ingest": part_ingest, "raw": part_raw_embedder, "plain": part_plain_llamaindex, "load": part_load}


def run_part_process(name: str, *args: str) -> dict[str, Any]:
    """Run one part in a fresh Python process and return what it printed as JSON."""
    return run_json_process(name, "evals.perf", "--part", name, *args)


def run_json_process(name: str, module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process; return the JSON its last line printed."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench part {name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main_part(argv: list[str]) -> None:
    name, args = argv[0], argv[1:]
    if name == "build":
        out = part_build(Path(args[0]), Path(args[1]), int(args[2]))
    elif name in ("query", "serve"):
        qs = json.loads(Path(args[-1]).read_text())
        out = part_query(Path(args[0]), qs) if name == "query" else part_serve(Path(args[0]), Path(args[1]), qs)
    else:
        out = PARTS[name](Path(args[0]), Path(args[1]))
    print(json.dumps(out))


def benchmark(data_dir: Path, out_dir: Path, n_articles: int, repeats: int, sizes: list[int], n_questions: int) -> dict:
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": _machine(), "config": {}, "figures": {}, "targets": TARGETS}
    spent: dict[str, float] = {}  # wall seconds by part: where the bench's own time goes

    def run_part(name: str, *args: str) -> dict[str, Any]:
        t = time.perf_counter()
        out = run_part_process(name, *args)
        spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
        return out

    with tempfile.TemporaryDirectory(prefix="newsrag-bench-") as tmp:
        work = Path(tmp)
        articles = corpus(data_dir, n_articles)
        # Each repeat ingests its own slice of the articles with all three pipelines, one after the other:
        # the ratios compare the same chunks side by side, and together the repeats cover every article.
        slices = []
        for r in range(repeats):
            path = work / f"slice-{r}.jsonl"
            path.write_text("\n".join(json.dumps(a) for a in articles[r::repeats]), encoding="utf-8")
            slices.append(path)
        qfile = work / "questions.json"
        qfile.write_text(json.dumps(questions(data_dir, n_questions)))
        runs: dict[str, list[dict[str, Any]]] = {"ingest": [], "raw": [], "plain": []}
        for r, path in enumerate(slices):
            for name in runs:
                runs[name].append(run_part(name, str(path), str(work / f"{name}-{r}")))
        ingest, raw, plain = runs["ingest"], runs["raw"], runs["plain"]
        f = results["figures"]
        f["corpus"] = {
            "articles": sum(x["articles"] for x in ingest),
            "chunks": sum(x["chunks"] for x in ingest),
            "tokens": sum(x["tokens"] for x in ingest),
            "slices": repeats,
        }
        f["ingest_articles_per_s"] = stats([x["articles"] / x["seconds"] for x in ingest])
        f["ingest_chunks_per_s"] = stats([x["chunks"] / x["seconds"] for x in ingest])
        f["ingest_tokens_per_s"] = stats([x["tokens"] / x["seconds"] for x in ingest])
        f["raw_embedder_chunks_per_s"] = stats([x["chunks"] / x["seconds"] for x in raw])
        f["plain_llamaindex_chunks_per_s"] = stats(
            [i["chunks"] / x["seconds"] for i, x in zip(ingest, plain, strict=True)]
        )
        f["ingest_vs_raw_embedder"] = stats([r["seconds"] / i["seconds"] for i, r in zip(ingest, raw, strict=True)])
        f["ingest_vs_plain_llamaindex"] = stats(
            [p["seconds"] / i["seconds"] for i, p in zip(ingest, plain, strict=True)]
        )
        f["reingest_speedup"] = stats([i["seconds"] / max(i["reingest_seconds"], 1e-6) for i in ingest])
        f["ingest_peak_rss_mb"] = stats([x["peak_rss_mb"] for x in ingest])
        source_index = work / "ingest-0" / "index"
        for size in sizes:
            target = work / f"scale-{size}"
            scale = run_part("build", str(source_index), str(target), str(size))
            scale |= run_part("query", str(target), str(qfile))
            served = run_part("serve", str(target), str(work / f"serve-{size}"), str(qfile))
            scale |= {f"serve_{k}": v for k, v in served.items()}
            f[f"scale_{size}"] = scale
            if size == max(sizes):
                kept = KEPT / f"scale-{size}"
                shutil.rmtree(kept, ignore_errors=True)
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(target, kept)
            shutil.rmtree(target, ignore_errors=True)
        if 100_000 in sizes:
            big = f["scale_100000"]
            f["retrieval_p95_ms_100k"] = big["retrieval_p95_ms"]
            f["extractive_p95_ms_100k"] = big["extractive_p95_ms"]
            f["extractive_as_of_p95_ms_100k"] = big["extractive_as_of_p95_ms"]
            f["serve_peak_rss_mb_100k"] = big["serve_peak_rss_mb"]
            f["startup_to_first_answer_s_100k"] = big["serve_startup_first_answer_s"]
        f["load"] = run_part("load", str(slices[0]), str(work / "load"))  # 20 clients for 60 s, see evals/load.py
        # The Articles tab over an archive of the largest size, as articles (one chunk each): evals/perf_articles.py
        t = time.perf_counter()
        f["articles_tab"] = _articles_part(max(sizes))
        spent["articles_tab"] = time.perf_counter() - t
        if max(sizes) == 100_000 and "page_load_s_median" in f["articles_tab"]:
            f["articles_page_load_s_100k"] = f["articles_tab"]["page_load_s_median"]
    results["seconds"] = time.perf_counter() - started
    results["part_seconds"] = {k: round(v, 1) for k, v in spent.items()}
    results["config"] = {"articles": n_articles, "repeats": repeats, "sizes": sizes, "questions": n_questions}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out_dir / "results.md").write_text(markdown(results), encoding="utf-8")
    return results


def _articles_part(size: int) -> dict[str, Any]:
    return run_json_process("articles_tab", "evals.perf_articles", "--part", "--size", str(size))


def _machine() -> dict[str, Any]:
    import chromadb
    import llama_index.core
    import onnxruntime

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "chromadb": chromadb.__version__,
        "llama_index_core": llama_index.core.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def markdown(results: dict[str, Any]) -> str:
    f = results["figures"]
    lines = ["# newsrag benchmarks", "", f"Machine: {results['machine']}", ""]
    lines += ["| figure | median | min | max | target |", "| --- | --- | --- | --- | --- |"]
    for key, value in f.items():
        if isinstance(value, dict) and "median" in value:
            lines.append(
                f"| {key} | {value['median']:.2f} | {value['min']:.2f} | {value['max']:.2f} | {TARGETS.get(key, '')} |"
            )
        elif isinstance(value, float):  # one figure from the largest index, over many questions
            lines.append(f"| {key} | {value:.2f} | | | {TARGETS.get(key, '')} |")
    for key, value in f.items():
        if key.startswith("scale_"):
            size = key.removeprefix("scale_")
            lines += ["", f"## {value['chunks']} chunks (from {size} requested)", ""]
            lines += [f"- {k}: {v:.1f}" if isinstance(v, float) else f"- {k}: {v}" for k, v in value.items()]
    lines += load_markdown(f["load"]) if "load" in f else []
    lines += articles_markdown(f["articles_tab"]) if "articles_tab" in f else []
    lines += ["", f"Corpus: {f.get('corpus')}", f"Total bench time: {results['seconds']:.0f} s"]
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in results.get("part_seconds", {}).items())
    lines += [f"Time by part: {parts}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--part"]:
        main_part(sys.argv[2:])
    else:
        import argparse

        parser = argparse.ArgumentParser(description=__doc__)
        parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
        parser.add_argument("--out", type=Path, default=ROOT / "bench")
        # 300 articles (about 3,100 chunks) through three pipelines keeps `make bench` under 30 minutes on
        # 2 cores, where the embedder alone does about 11 chunks/s; --articles 500 is the larger run.
        parser.add_argument("--articles", type=int, default=300)
        parser.add_argument("--repeats", type=int, default=3)
        parser.add_argument("--sizes", default="1000,10000,100000")
        parser.add_argument("--questions", type=int, default=60)
        a = parser.parse_args()
        sizes = [int(s) for s in a.sizes.split(",")]
        print(markdown(benchmark(a.data, a.out, a.articles, a.repeats, sizes, a.questions)))
