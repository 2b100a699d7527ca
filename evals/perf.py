"""Performance benchmarks (`make bench`): ingest throughput, re-ingest, query latency at scale, memory.

Every figure is a median with min/max over repeated runs; ratios are measured side by side in one
run, since absolute times on shared machines drift. Results go to bench/results.json and .md.
Heavy parts run in subprocesses so that each one's peak memory is its own.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evals.load import bench_part as part_load
from evals.load import markdown as load_markdown
from evals.realtimeqa import week_articles, week_cases
from evals.realtimeqa import weeks as list_weeks

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "realtimeqa" / "dev"
TARGETS = {
    "ingest_vs_raw_embedder": ">= 0.8",
    "ingest_vs_plain_llamaindex": ">= 1.0",
    "reingest_speedup": ">= 20",
    "retrieval_p95_ms_100k": "<= 100",
    "extractive_p95_ms_100k": "<= 300",
    "serve_peak_rss_mb_100k": "<= 1536",
}


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    from rag.api import NewsRAG

    rag = NewsRAG(index_dir=work / "index")
    first = rag.ingest(corpus_file)
    tokens = sum(len(t) for t in _chunk_token_counts(rag))
    second = rag.ingest(corpus_file)
    return {
        "articles": first.count("added"),
        "chunks": first.chunks_written,
        "tokens": tokens,
        "seconds": first.seconds,
        "reingest_seconds": second.seconds,
        "reingest_chunks_written": second.chunks_written,
        "peak_rss_mb": peak_rss_mb(),
    }


def _chunk_token_counts(rag: Any) -> list[list[int]]:
    from rag.embedder import count_tokens

    return [count_tokens(text or "") for _id, text, _meta in rag.store.iter_chunks()]


def part_raw_embedder(corpus_file: Path, work: Path) -> dict[str, Any]:
    """The embedder alone on the same chunks: the practical limit of ingest."""
    from ingest.chunk import chunk_article
    from ingest.files import load_file
    from rag.config import load_settings
    from rag.embedder import build_embedder

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
    from rag.config import load_settings
    from rag.embedder import build_embedder

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


def part_scale(source_index: Path, work: Path, size: int, qs: list[str]) -> dict[str, Any]:
    """Query latency with ``size`` chunks: real chunks repeated with slightly varied vectors."""
    import numpy as np

    from rag.api import NewsRAG
    from rag.store import ChunkStore

    rag = NewsRAG(index_dir=work / f"scale-{size}")
    source = ChunkStore(rag.settings.model_copy(update={"index_dir": source_index}), rag.store.embedder_id)
    got = source.collection.get(include=["embeddings", "documents", "metadatas"])
    base = len(got["ids"])
    rng = np.random.default_rng(0)
    written = 0
    copy = 0
    rag.store.begin_write()
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
            rag.store.collection.add(
                ids=ids[start : start + 5000],
                embeddings=vectors[start : start + 5000],
                documents=documents[start : start + 5000],
                metadatas=metas[start : start + 5000],
            )
        written += n
        copy += 1
    rag.store.end_write()
    started = time.perf_counter()
    rag.lexical.ensure_fresh(force=True)
    lexical_build = time.perf_counter() - started
    answerer = rag.answerer
    retrieval, end_to_end, bare = [], [], []
    for q in qs[:3]:  # warm caches and lazy loads
        rag.ask(q)
    q_vectors = [rag.embedder.get_query_embedding(q) for q in qs]
    for q, vec in zip(qs, q_vectors, strict=True):
        t = time.perf_counter()
        rag.store.collection.query(query_embeddings=[vec], n_results=rag.settings.top_k)
        bare.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        answerer.retriever.retrieve(q, rag.settings.top_k)
        retrieval.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        rag.ask(q)
        end_to_end.append((time.perf_counter() - t) * 1000)

    def pct(values: list[float], q: int) -> float:
        return float(np.percentile(values, q))

    return {
        "chunks": rag.store.count(),
        "lexical_build_seconds": lexical_build,
        "chroma_query_p50_ms": pct(bare, 50),
        "chroma_query_p95_ms": pct(bare, 95),
        "retrieval_p50_ms": pct(retrieval, 50),
        "retrieval_p95_ms": pct(retrieval, 95),
        "extractive_p50_ms": pct(end_to_end, 50),
        "extractive_p95_ms": pct(end_to_end, 95),
        "questions": len(qs),
        "peak_rss_mb": peak_rss_mb(),
    }


PARTS = {"ingest": part_ingest, "raw": part_raw_embedder, "plain": part_plain_llamaindex, "load": part_load}


def run_part(name: str, *args: str) -> dict[str, Any]:
    """Run one part in a fresh Python process and return what it printed as JSON."""
    result = subprocess.run(
        [sys.executable, "-m", "evals.perf", "--part", name, *args],
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
    if name == "scale":
        out = part_scale(Path(args[0]), Path(args[1]), int(args[2]), json.loads(Path(args[3]).read_text()))
    else:
        out = PARTS[name](Path(args[0]), Path(args[1]))
    print(json.dumps(out))


def benchmark(data_dir: Path, out_dir: Path, n_articles: int, repeats: int, sizes: list[int], n_questions: int) -> dict:
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": _machine(), "config": {}, "figures": {}, "targets": TARGETS}
    with tempfile.TemporaryDirectory(prefix="newsrag-bench-") as tmp:
        work = Path(tmp)
        corpus_file = work / "corpus.jsonl"
        articles = corpus(data_dir, n_articles)
        corpus_file.write_text("\n".join(json.dumps(a) for a in articles), encoding="utf-8")
        qfile = work / "questions.json"
        qfile.write_text(json.dumps(questions(data_dir, n_questions)))
        runs: dict[str, list[dict[str, Any]]] = {"ingest": [], "raw": [], "plain": []}
        for r in range(repeats):  # interleaved, so drift hits all three alike
            for name in runs:
                runs[name].append(run_part(name, str(corpus_file), str(work / f"{name}-{r}")))
        ingest, raw, plain = runs["ingest"], runs["raw"], runs["plain"]
        chunks = ingest[0]["chunks"]
        f = results["figures"]
        f["corpus"] = {"articles": len(articles), "chunks": chunks, "tokens": ingest[0]["tokens"]}
        f["ingest_articles_per_s"] = stats([x["articles"] / x["seconds"] for x in ingest])
        f["ingest_chunks_per_s"] = stats([x["chunks"] / x["seconds"] for x in ingest])
        f["ingest_tokens_per_s"] = stats([x["tokens"] / x["seconds"] for x in ingest])
        f["raw_embedder_chunks_per_s"] = stats([x["chunks"] / x["seconds"] for x in raw])
        f["plain_llamaindex_chunks_per_s"] = stats([chunks / x["seconds"] for x in plain])
        f["ingest_vs_raw_embedder"] = stats([r["seconds"] / i["seconds"] for i, r in zip(ingest, raw, strict=True)])
        f["ingest_vs_plain_llamaindex"] = stats(
            [p["seconds"] / i["seconds"] for i, p in zip(ingest, plain, strict=True)]
        )
        f["reingest_speedup"] = stats([i["seconds"] / max(i["reingest_seconds"], 1e-6) for i in ingest])
        f["ingest_peak_rss_mb"] = stats([x["peak_rss_mb"] for x in ingest])
        source_index = work / "ingest-0" / "index"
        for size in sizes:
            scale = run_part("scale", str(source_index), str(work), str(size), str(qfile))
            f[f"scale_{size}"] = scale
        f["load"] = run_part("load", str(corpus_file), str(work / "load"))  # 20 clients for 60 s, see evals/load.py
    results["seconds"] = time.perf_counter() - started
    results["config"] = {"articles": n_articles, "repeats": repeats, "sizes": sizes, "questions": n_questions}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out_dir / "results.md").write_text(markdown(results), encoding="utf-8")
    return results


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
    for key, value in f.items():
        if key.startswith("scale_"):
            size = key.removeprefix("scale_")
            lines += ["", f"## {value['chunks']} chunks (from {size} requested)", ""]
            lines += [f"- {k}: {v:.1f}" if isinstance(v, float) else f"- {k}: {v}" for k, v in value.items()]
    lines += load_markdown(f["load"]) if "load" in f else []
    lines += ["", f"Corpus: {f.get('corpus')}", f"Total bench time: {results['seconds']:.0f} s", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--part"]:
        main_part(sys.argv[2:])
    else:
        import argparse

        parser = argparse.ArgumentParser(description=__doc__)
        parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
        parser.add_argument("--out", type=Path, default=ROOT / "bench")
        parser.add_argument("--articles", type=int, default=500)
        parser.add_argument("--repeats", type=int, default=3)
        parser.add_argument("--sizes", default="1000,10000,100000")
        parser.add_argument("--questions", type=int, default=60)
        a = parser.parse_args()
        sizes = [int(s) for s in a.sizes.split(",")]
        print(markdown(benchmark(a.data, a.out, a.articles, a.repeats, sizes, a.questions)))
