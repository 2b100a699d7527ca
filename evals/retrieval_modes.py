"""Dense vs BM25 vs fused retrieval, side by side on the same indexes (RealTimeQA weeks, the seed suite)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import evals.metrics as m
from evals.realtimeqa import week_articles, week_cases
from evals.suite import Case

MODES = ("dense", "lexical", "hybrid")


def _score(newsrag: Any, cases: list[Case], top_k: int) -> dict[str, dict[str, float]]:
    """Per mode: share of cases with a hit in the top k, MRR, and median retrieval time."""
    out = {}
    retriever = newsrag.components.answerer.retriever
    for mode in MODES:
        ranks, times = [], []
        for case in cases:
            started = time.perf_counter()
            passages = [p.text for p in retriever.retrieve(case.question, top_k, None, mode)]
            times.append((time.perf_counter() - started) * 1000)
            if case.gold:
                rank = next((i for i, p in enumerate(passages, 1) if m.contains_gold(p, case.gold)), None)
            else:
                rank = m.first_hit_rank(passages, case.evidence)
            ranks.append(rank)
        out[mode] = {
            "hit_at_k": sum(r is not None for r in ranks) / len(ranks),
            "mrr_at_k": sum(1 / r for r in ranks if r) / len(ranks),
            "p50_ms": m.percentile(times, 50) or 0.0,
        }
    return out


def compare_on_realtimeqa(data_dir: Path, weeks: list[str], top_k: int = 5) -> dict[str, Any]:
    from rag.service.newsrag import NewsRAG

    totals: dict[str, dict[str, float]] = {mode: {"hit_at_k": 0.0, "mrr_at_k": 0.0} for mode in MODES}
    n = 0
    for week in weeks:
        cases = week_cases(data_dir, week)
        with tempfile.TemporaryDirectory(prefix="newsrag-modes-") as tmp:
            corpus = Path(tmp) / "corpus.jsonl"
            corpus.write_text("\n".join(json.dumps(a) for a in week_articles(data_dir, week)), encoding="utf-8")
            newsrag = NewsRAG(index_dir=Path(tmp) / "index", engine="extractive")
            newsrag.ingest(corpus)
            scores = _score(newsrag, cases, top_k)
        for mode in MODES:
            for key in ("hit_at_k", "mrr_at_k"):
                totals[mode][key] += scores[mode][key] * len(cases)
        n += len(cases)
    return {mode: {k: v / n for k, v in vals.items()} for mode, vals in totals.items()} | {"questions": n}


def compare_on_suite(suite: Path, corpus: list[Path], top_k: int = 5) -> dict[str, Any]:
    from evals.suite import load_suite
    from rag.service.newsrag import NewsRAG

    cases = [c for c in load_suite(suite) if c.evidence and not c.history]
    with tempfile.TemporaryDirectory(prefix="newsrag-modes-") as tmp:
        newsrag = NewsRAG(index_dir=Path(tmp) / "index", engine="extractive")
        newsrag.ingest(*corpus)
        return _score(newsrag, cases, top_k) | {"questions": len(cases)}
