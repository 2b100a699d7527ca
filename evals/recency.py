"""Fit the recency prior on the RealTimeQA archive, and check it on weeks it was not fitted on.

Each question is asked as of its date over the archive index (evals/realtimeqa_archive.py); retrieval's candidates
(before the cut to ``read_k``) are recorded with their rank and their article's age, and labelled by whether they
hold the right choice's text. A logistic model over (log rank, age bucket, undated) is fitted on the first half of
the weeks and checked on the second, then the reverse: the figure is how often a passage holding the answer is
among the first ``top_k`` and the first ``read_k`` passages, with and without re-ranking. The model fitted on all
weeks is what ships (``rag/assets/recency-prior.json``), with these figures beside it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import evals.metrics as m
from evals.realtimeqa_archive import DatedCase
from rag.answering.recency import AGE_EDGES, PRIOR_PATH, RecencyPrior, features

if TYPE_CHECKING:
    from rag.core.types import Passage
    from rag.service.newsrag import NewsRAG

L2 = 1.0  # ridge strength: the model has 8 weights and thousands of candidates, so this only steadies it


def candidates(newsrag: NewsRAG, dated: DatedCase) -> list[tuple[Passage, bool]]:
    """Retrieval's candidates for the question as asked on its date (the query and filters the answerer would use),
    in retrieval order, each with whether it holds the right choice."""
    from rag.answering.when import when
    from rag.index.filters import Filters

    moment = when(dated.case.question, Filters(as_of=dated.as_of.isoformat()))
    query = moment.query(dated.case.question)
    pool: list[Passage] = []

    def keep(found: list[Passage]) -> list[Passage]:
        pool.extend(found)
        return found

    settings = newsrag.settings
    newsrag.components.ready().retriever.retrieve(query, settings.read_k, moment.filters, settings.retrieval, keep)
    return [(p, m.contains_gold(p.text, dated.case.gold)) for p in pool]


def fit(rows: list[tuple[list[float], bool]], steps: int = 3000, rate: float = 0.5) -> RecencyPrior:
    """Logistic regression by gradient descent (numpy; the features are few and small)."""
    x = np.array([f for f, _ in rows], dtype=float)
    y = np.array([1.0 if label else 0.0 for _, label in rows])
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        w -= rate * (x.T @ (p - y) / len(y) + L2 * w / len(y))
        b -= rate * float(np.mean(p - y))
    return RecencyPrior(tuple(round(float(v), 5) for v in w), round(b, 5))


def _rows(pools: list[tuple[DatedCase, list[tuple[Passage, bool]]]]) -> list[tuple[list[float], bool]]:
    return [
        (features(rank, p.published_at, dated.as_of), gold)
        for dated, pool in pools
        for rank, (p, gold) in enumerate(pool)
    ]


def gold_at(pools: list[tuple[DatedCase, list[tuple[Passage, bool]]]], k: int, prior: RecencyPrior | None) -> float:
    """Share of questions with a passage holding the right choice among the first ``k`` (re-ranked by ``prior``)."""
    hits = []
    for dated, pool in pools:
        order = list(range(len(pool)))
        if prior is not None:
            chance = [prior.probability(r, pool[r][0].published_at, dated.as_of) for r in order]
            order.sort(key=lambda r: chance[r], reverse=True)
        hits.append(any(pool[r][1] for r in order[:k]))
    return round(sum(hits) / len(hits), 4) if hits else 0.0


def age_table(pools: list[tuple[DatedCase, list[tuple[Passage, bool]]]]) -> list[dict[str, Any]]:
    """Candidates and the share holding the answer, by age bucket: what the model reads, shown plainly."""
    from rag.answering.recency import age_bucket

    labels = [f"<= {e} days" for e in AGE_EDGES] + [f"> {AGE_EDGES[-1]} days", "undated"]
    counts = {label: [0, 0] for label in labels}
    for dated, pool in pools:
        for p, gold in pool:
            bucket = age_bucket(p.published_at, dated.as_of)
            label = labels[-1] if bucket is None else labels[bucket]
            counts[label][0] += 1
            counts[label][1] += gold
    return [
        {"age": k, "candidates": n, "holding_answer": round(g / n, 4) if n else None} for k, (n, g) in counts.items()
    ]


def run_recency(newsrag: NewsRAG, cases: list[DatedCase], top_k: int, write: bool = False) -> dict[str, Any]:
    """Fit on each half of the weeks, check on the other, fit on all; optionally write the shipped prior."""
    pools = [(dated, candidates(newsrag, dated)) for dated in cases]
    weeks = sorted({d.week for d in cases})
    first, last = set(weeks[: len(weeks) // 2]), set(weeks[len(weeks) // 2 :])
    halves = {"first": [p for p in pools if p[0].week in first], "last": [p for p in pools if p[0].week in last]}
    read_k = newsrag.settings.read_k
    report: dict[str, Any] = {"questions": len(pools), "weeks": len(weeks), "top_k": top_k, "read_k": read_k}
    for fitted_on, checked_on in (("first", "last"), ("last", "first")):
        prior = fit(_rows(halves[fitted_on]))
        report[f"fit_{fitted_on}_check_{checked_on}"] = {
            f"gold_at_{k}": {
                "retrieval": gold_at(halves[checked_on], k, None),
                "prior": gold_at(halves[checked_on], k, prior),
            }
            for k in (top_k, read_k)
        }
    prior = fit(_rows(pools))
    report["all_weeks"] = {
        f"gold_at_{k}": {"retrieval": gold_at(pools, k, None), "prior": gold_at(pools, k, prior)}
        for k in (top_k, read_k)
    }
    report["by_age"] = age_table(pools)
    report["model"] = prior.to_json()
    report["fitted"] = date.today().isoformat()
    if write:
        PRIOR_PATH.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def write_report(report: dict[str, Any], path: Path) -> None:
    """The figures as Markdown, for bench/."""
    lines = [
        "# Recency prior (issue #35)",
        "",
        f"{report['questions']} RealTimeQA dev questions over {report['weeks']} weeks, one archive index, each asked"
        ' as of its date. A passage "holds the answer" when it contains the right choice\'s text.',
        "",
        "| fitted on | checked on | k | retrieval order | with the prior |",
        "| --- | --- | --- | --- | --- |",
    ]
    checks = {
        "fit_first_check_last": ("first half", "last half"),
        "fit_last_check_first": ("last half", "first half"),
        "all_weeks": ("all", "all"),
    }
    for key, label in checks.items():
        for k_name, figures in report[key].items():
            lines.append(f"| {label[0]} | {label[1]} | {k_name.removeprefix('gold_at_')} | {figures['retrieval']} |"
                         f" {figures['prior']} |")  # fmt: skip
    lines += ["", "| article age at as_of | candidates | share holding the answer |", "| --- | --- | --- |"]
    lines += [f"| {row['age']} | {row['candidates']} | {row['holding_answer']} |" for row in report["by_age"]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
