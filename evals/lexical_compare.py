"""Candidates for an incremental lexical index, side by side (issue #17): `python -m evals.lexical_compare`.

For each candidate and archive size it measures what adding one article (10 chunks) costs, what a
top-10 query costs, and what a document-frequency look-up costs (the answering code asks for many).
Every candidate indexes the same token streams (bm25s's tokenizer: English stopwords, Snowball
stems), so the figures compare the engines, not their tokenizers. Texts are real RealTimeQA
articles cut into ~120-word chunks, repeated with a distinguishing token to reach the larger sizes.

- ``bm25s-rebuild``: what newsrag did before: the whole index rebuilt after a change.
- ``bm25s-segmented``: a big segment plus a small tail rebuilt on each add (merged in the background);
  its tail's IDF differs from the big segment's, so scores of the two are not strictly comparable.
- ``sqlite-fts5``: Python's sqlite3 with an FTS5 table, ranked by its built-in bm25().
- ``tantivy``: the Rust engine's Python bindings (only when installed: ``pip install tantivy==0.27.0``).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import bm25s
import numpy as np
import Stemmer

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "realtimeqa" / "dev"

ARTICLE_CHUNKS = 10
RUNS = 5
QUERIES = 50
STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", stemmer=STEMMER, return_ids=False, show_progress=False)  # type: ignore[return-value]


def _rows(data_dir: Path, kind: str) -> list[dict[str, Any]]:
    """The raw RealTimeQA rows (read directly, so this runs with bm25s and tantivy alone installed)."""
    return [json.loads(line) for f in sorted(data_dir.glob(f"*_{kind}.jsonl")) for line in f.open() if line.strip()]


def questions(data_dir: Path, n: int) -> list[str]:
    return [row["question_sentence"] for row in _rows(data_dir, "qa")][:n]


def chunk_texts(data_dir: Path, n: int) -> list[str]:
    seen: dict[str, str] = {}
    for row in _rows(data_dir, "gcs"):
        for article in row.get("search_result") or []:
            seen.setdefault(article.get("url", ""), article.get("text") or "")
    words = [text.split() for text in seen.values() if text]
    base = [" ".join(ws[i : i + 120]) for ws in words for i in range(0, len(ws), 120) if ws[i : i + 120]]
    return [f"{base[i % len(base)]} copy{i // len(base)}" for i in range(n)]


class Candidate(Protocol):
    name: str

    def build(self, tokens: list[list[str]]) -> None: ...
    def add(self, tokens: list[list[str]]) -> None: ...
    def query(self, tokens: list[str], k: int) -> list[int]: ...
    def frequency(self, tokens: list[str]) -> int: ...


class Bm25sRebuild:
    name = "bm25s-rebuild"

    def build(self, tokens: list[list[str]]) -> None:
        self.tokens = list(tokens)
        self.bm25 = bm25s.BM25()
        self.bm25.index(self.tokens, show_progress=False)

    def add(self, tokens: list[list[str]]) -> None:
        self.build(self.tokens + tokens)

    def query(self, tokens: list[str], k: int) -> list[int]:
        known = [t for t in tokens if t in self.bm25.vocab_dict]
        if not known:
            return []
        docs, _ = self.bm25.retrieve([known], k=k, show_progress=False, n_threads=1)
        return [int(d) for d in docs[0]]

    def frequency(self, tokens: list[str]) -> int:
        return _bm25s_frequency(self.bm25, tokens)


def _bm25s_frequency(bm25: bm25s.BM25, tokens: list[str]) -> int:
    indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
    docs: np.ndarray | None = None
    for token in dict.fromkeys(tokens):
        column = bm25.vocab_dict.get(token)
        if column is None:
            return 0
        found = indices[indptr[column] : indptr[column + 1]]
        docs = found if docs is None else np.intersect1d(docs, found, assume_unique=True)
    return 0 if docs is None else len(docs)


class Bm25sSegmented(Bm25sRebuild):
    name = "bm25s-segmented"

    def build(self, tokens: list[list[str]]) -> None:
        super().build(tokens)
        self.tail_tokens: list[list[str]] = []
        self.tail: bm25s.BM25 | None = None

    def add(self, tokens: list[list[str]]) -> None:
        # The tail is rebuilt; merging it into the big segment happens later, off the write path.
        self.tail_tokens += tokens
        self.tail = bm25s.BM25()
        self.tail.index(self.tail_tokens, show_progress=False)

    def query(self, tokens: list[str], k: int) -> list[int]:
        hits = super().query(tokens, k)
        if self.tail is not None and (known := [t for t in tokens if t in self.tail.vocab_dict]):
            docs, _ = self.tail.retrieve([known], k=min(k, len(self.tail_tokens)), show_progress=False, n_threads=1)
            hits += [len(self.tokens) + int(d) for d in docs[0]]
        return hits[:k]

    def frequency(self, tokens: list[str]) -> int:
        return super().frequency(tokens) + (_bm25s_frequency(self.tail, tokens) if self.tail else 0)


class Fts5:
    name = "sqlite-fts5"

    def build(self, tokens: list[list[str]]) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.db = sqlite3.connect(Path(self.dir.name) / "fts.sqlite")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE VIRTUAL TABLE chunks USING fts5(body, tokenize='unicode61', detail=column)")
        with self.db:
            self.db.executemany("INSERT INTO chunks(body) VALUES (?)", ((" ".join(t),) for t in tokens))

    def add(self, tokens: list[list[str]]) -> None:
        with self.db:
            self.db.executemany("INSERT INTO chunks(body) VALUES (?)", ((" ".join(t),) for t in tokens))

    def query(self, tokens: list[str], k: int) -> list[int]:
        if not tokens:
            return []
        match = " OR ".join(f'"{t}"' for t in dict.fromkeys(tokens))
        rows = self.db.execute("SELECT rowid FROM chunks WHERE chunks MATCH ? ORDER BY rank LIMIT ?", (match, k))
        return [r[0] for r in rows]

    def frequency(self, tokens: list[str]) -> int:
        match = " AND ".join(f'"{t}"' for t in dict.fromkeys(tokens))
        return self.db.execute("SELECT count(*) FROM chunks WHERE chunks MATCH ?", (match,)).fetchone()[0]


class Tantivy:
    name = "tantivy"

    def build(self, tokens: list[list[str]]) -> None:
        import tantivy

        self.tantivy = tantivy
        self.dir = tempfile.TemporaryDirectory()
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema, path=self.dir.name)
        self.writer = self.index.writer(heap_size=100_000_000, num_threads=1)
        for t in tokens:
            self.writer.add_document(tantivy.Document(body=" ".join(t)))
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.writer = self.index.writer(heap_size=50_000_000, num_threads=1)
        self.index.reload()

    def add(self, tokens: list[list[str]]) -> None:
        for t in tokens:
            self.writer.add_document(self.tantivy.Document(body=" ".join(t)))
        self.writer.commit()
        self.index.reload()

    def _query(self, tokens: list[str], occur: Any) -> Any:
        terms = [(occur, self.tantivy.Query.term_query(self.schema, "body", t)) for t in dict.fromkeys(tokens) if t]
        return self.tantivy.Query.boolean_query(terms)

    def query(self, tokens: list[str], k: int) -> list[int]:
        if not tokens:
            return []
        result = self.index.searcher().search(self._query(tokens, self.tantivy.Occur.Should), k)
        return [address.doc for _, address in result.hits]

    def frequency(self, tokens: list[str]) -> int:
        return self.index.searcher().search(self._query(tokens, self.tantivy.Occur.Must), 1, count=True).count


def _ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def measure(candidate: Candidate, texts: list[str], new_articles: list[list[list[str]]], qs: list[list[str]]) -> dict:
    started = time.perf_counter()
    candidate.build(tokenize(texts))
    build_s = time.perf_counter() - started
    adds = [_ms(lambda a=a: candidate.add(a)) for a in new_articles[:RUNS]]
    queries = [_ms(lambda q=q: candidate.query(q, 10)) for q in qs]
    names = [q[:2] for q in qs if len(q) >= 2]
    freqs = [_ms(lambda q=q: candidate.frequency(q)) for q in names]
    return {
        "build_s": round(build_s, 2),
        "add_article_ms": round(statistics.median(adds), 2),
        "query_p50_ms": round(statistics.median(queries), 2),
        "query_p95_ms": round(p95(queries), 2),
        "frequency_p95_ms": round(p95(freqs), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path("bench"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    texts = chunk_texts(args.data, max(sizes) + RUNS * ARTICLE_CHUNKS)
    extra = texts[max(sizes) :]
    new_articles = [tokenize(extra[i * ARTICLE_CHUNKS : (i + 1) * ARTICLE_CHUNKS]) for i in range(RUNS)]
    qs = tokenize(questions(args.data, QUERIES))
    candidates: list[Candidate] = [Bm25sRebuild(), Bm25sSegmented(), Fts5()]
    try:
        import tantivy  # noqa: F401

        candidates.append(Tantivy())
    except ImportError:
        print("tantivy is not installed: left out")
    results: dict[str, dict[str, Any]] = {}
    for candidate in candidates:
        for size in sizes:
            figures = measure(candidate, texts[:size], new_articles, qs)
            results.setdefault(candidate.name, {})[str(size)] = figures
            print(candidate.name, size, figures, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results-lexical-candidates.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results-lexical-candidates.md").write_text(markdown(results, sizes))


def markdown(results: dict[str, dict[str, Any]], sizes: list[str] | list[int]) -> str:
    lines = [
        "# Lexical index candidates (issue #17)",
        "",
        "`python -m evals.lexical_compare`: one article = 10 chunks; median of 5 adds; 50 RealTimeQA questions, "
        "top 10; document frequency of two-word phrases. Same tokens for every engine.",
        "",
        "| candidate | chunks | build s | add one article ms | query p50 ms | query p95 ms | doc freq p95 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, by_size in results.items():
        for size in sizes:
            f = by_size[str(size)]
            lines.append(
                f"| {name} | {int(size):,} | {f['build_s']} | {f['add_article_ms']} | {f['query_p50_ms']} | "
                f"{f['query_p95_ms']} | {f['frequency_p95_ms']} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
