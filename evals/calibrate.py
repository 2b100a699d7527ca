"""Calibrating the refusal threshold on eval data instead of tuning it per question.

Answerable questions: RealTimeQA questions asked of their own week's articles, kept when the right
choice's text is in a retrieved passage. Unanswerable ones: the same questions asked of a week
months away, whose news is different. Every answer's relevance score is recorded with refusals
turned off; the threshold is the one with the best balanced accuracy.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from evals import metrics as m
from evals.realtimeqa import week_articles, week_cases


def _scores(data_dir: Path, corpus_week: str, question_week: str) -> list[tuple[float, bool]]:
    """(relevance, gold in retrieved passages) for question_week's questions on corpus_week's articles."""
    from rag.service.newsrag import NewsRAG

    with tempfile.TemporaryDirectory(prefix="newsrag-calibrate-") as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        corpus.write_text("\n".join(json.dumps(a) for a in week_articles(data_dir, corpus_week)), encoding="utf-8")
        newsrag = NewsRAG(index_dir=Path(tmp) / "index", engine="extractive", min_relevance=0.0)
        newsrag.ingest(corpus)
        out = []
        for case in week_cases(data_dir, question_week):
            answer = newsrag.ask(case.question)
            found = any(m.contains_gold(p.text, case.gold) for p in answer.passages)
            out.append((answer.relevance, found))
        return out


def best_threshold(answerable: list[float], unanswerable: list[float]) -> tuple[float, float]:
    """The threshold with the best balanced accuracy, and that accuracy."""
    candidates = sorted(set(answerable + unanswerable))
    best = (0.0, 0.0)
    for t in candidates:
        tpr = sum(s >= t for s in answerable) / len(answerable)
        tnr = sum(s < t for s in unanswerable) / len(unanswerable)
        if (tpr + tnr) / 2 > best[1]:
            best = (t, (tpr + tnr) / 2)
    return best


def calibrate(data_dir: Path, weeks: list[str], offset: int = 13) -> dict[str, Any]:
    all_weeks = sorted(p.name[:8] for p in data_dir.glob("*_qa.jsonl"))
    answerable: list[float] = []
    unanswerable: list[float] = []
    for week in weeks:
        far = all_weeks[(all_weeks.index(week) + offset) % len(all_weeks)]
        answerable += [score for score, found in _scores(data_dir, week, week) if found]
        unanswerable += [score for score, _ in _scores(data_dir, week, far)]
    print(json.dumps({"answerable_scores": answerable, "unanswerable_scores": unanswerable}))
    threshold, accuracy = best_threshold(answerable, unanswerable)
    return {
        "threshold": threshold,
        "balanced_accuracy": accuracy,
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answerable_median": m.percentile(answerable, 50),
        "unanswerable_median": m.percentile(unanswerable, 50),
        "weeks": weeks,
    }
