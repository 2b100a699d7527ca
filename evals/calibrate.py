"""Calibrating the refusal threshold on eval data instead of tuning it per question.

Answerable questions: RealTimeQA questions asked of their own week's articles, kept when the right
choice's text is somewhere in those articles. Unanswerable ones: the same questions asked of the
week ``offset`` weeks away (at least three months), dropped when the right choice's text appears
there too. Every answer's relevance score is recorded with refusals turned off; the curve gives,
for each threshold, the share of answerable questions answered and of unanswerable ones refused.

The threshold is chosen on half the weeks and checked on the other half (and the reverse), so
the published figures include ones measured on weeks the threshold never saw. It never goes below
what refuses every unanswerable question of the seed suite (over its own corpus): refusing those is
a release requirement, not a rate to trade.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import evals.metrics as m
from evals.realtimeqa import week_articles, week_cases, week_index

# At least three months apart: a week's news is then another world's.
MIN_OFFSET = 13
# Refusing what the articles cannot answer matters more than answering a few more: the chosen
# threshold is the lowest that refuses at least this share of unanswerable questions.
TARGET_REFUSED = 0.9


@dataclass(frozen=True)
class Scored:
    week: str
    relevance: float
    answerable: bool


def _corpus_text(data_dir: Path, week: str) -> str:
    return " " + " ".join(m.normalise(a["text"]) for a in week_articles(data_dir, week)) + " "


def _scores(data_dir: Path, corpus_week: str, question_week: str, index_cache: Path | None) -> list[Scored]:
    """Relevance of question_week's questions on corpus_week's articles, for the cases that qualify."""
    from rag.core.settings import load_settings

    own = corpus_week == question_week
    corpus_text = _corpus_text(data_dir, corpus_week)
    settings = load_settings(engine="extractive", min_relevance=0.0)
    with tempfile.TemporaryDirectory(prefix="newsrag-calibrate-") as tmp:
        newsrag, _ = week_index(data_dir, corpus_week, settings, Path(tmp), index_cache)
        out = []
        for case in week_cases(data_dir, question_week):
            in_corpus = f" {m.normalise(case.gold)} " in corpus_text
            if in_corpus != own:  # answerable: the answer is there; unanswerable: it is not
                continue
            out.append(Scored(question_week, newsrag.ask(case.question).relevance, own))
        return out


def curve(scored: list[Scored]) -> list[dict[str, float]]:
    """For each threshold (every 0.01): the share of answerable questions answered and unanswerable refused."""
    yes = [s.relevance for s in scored if s.answerable]
    no = [s.relevance for s in scored if not s.answerable]
    rows = []
    for step in range(0, 121):
        t = step / 100
        rows.append(
            {
                "threshold": t,
                "answered": sum(r >= t for r in yes) / len(yes) if yes else 0.0,
                "refused_unanswerable": sum(r < t for r in no) / len(no) if no else 0.0,
            }
        )
    return rows


def choose(scored: list[Scored]) -> float:
    """The lowest threshold refusing at least TARGET_REFUSED of the unanswerable questions."""
    for row in curve(scored):
        if row["refused_unanswerable"] >= TARGET_REFUSED:
            return row["threshold"]
    return 1.2


def at(scored: list[Scored], threshold: float) -> dict[str, float]:
    row = next(r for r in curve(scored) if abs(r["threshold"] - threshold) < 1e-9)
    return {"answered": row["answered"], "refused_unanswerable": row["refused_unanswerable"]}


def seed_floor() -> float:
    """The lowest threshold (in steps of 0.01) that refuses every unanswerable question of the seed suite."""
    from evals.suite import load_suite
    from rag.core.settings import load_settings
    from rag.service.newsrag import NewsRAG

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="newsrag-calibrate-seed-") as tmp:
        newsrag = NewsRAG(load_settings(engine="extractive", min_relevance=0.0, index_dir=Path(tmp) / "index"))
        newsrag.ingest([root / "data" / "articles", root / "evals" / "suites" / "corpus"])
        scores = [newsrag.ask(c.question).relevance for c in load_suite(root / "evals/suites/seed.jsonl")
                  if not c.answerable]  # fmt: skip
    return math.floor(max(scores, default=0.0) * 100 + 1) / 100


def calibrate(
    data_dir: Path, weeks: list[str], offset: int = MIN_OFFSET, index_cache: Path | None = None
) -> dict[str, Any]:
    """Score the answerable and unanswerable sets, choose a threshold, and check it on held-out weeks."""
    if offset < MIN_OFFSET:
        raise ValueError(f"the unanswerable questions must come from at least {MIN_OFFSET} weeks away")
    all_weeks = sorted(p.name[:8] for p in data_dir.glob("*_qa.jsonl"))
    scored: list[Scored] = []
    for week in weeks:
        far = all_weeks[(all_weeks.index(week) + offset) % len(all_weeks)]
        scored += _scores(data_dir, week, week, index_cache) + _scores(data_dir, far, week, index_cache)
    floor = seed_floor()
    half = len(weeks) // 2
    first, second = set(weeks[:half]), set(weeks[half:])
    held_out = {}
    for name, tune, test in (("tuned_first_half", first, second), ("tuned_second_half", second, first)):
        threshold = max(choose([s for s in scored if s.week in tune]), floor)
        held_out[name] = {"threshold": threshold} | at([s for s in scored if s.week in test], threshold)
    threshold = max(choose(scored), floor)
    return {
        "threshold": threshold,
        "threshold_for_90_percent": choose(scored),
        "seed_floor": floor,
        "all_weeks": at(scored, threshold),
        "leave_weeks_out": held_out,
        "answerable": sum(s.answerable for s in scored),
        "unanswerable": sum(not s.answerable for s in scored),
        "weeks": weeks,
        "curve": curve(scored),
    }


def curve_markdown(result: dict[str, Any]) -> str:
    """The calibration as a page: the chosen threshold, its held-out check, and the curve every 0.05."""
    lines = [
        "# Refusal threshold calibration",
        "",
        f"{result['answerable']} answerable and {result['unanswerable']} unanswerable questions, "
        f"{len(result['weeks'])} weeks. The lowest threshold refusing {TARGET_REFUSED:.0%} of the unanswerable ones is "
        f"{result['threshold_for_90_percent']:.2f}; refusing every unanswerable seed-suite question needs at least "
        f"{result['seed_floor']:.2f}. Chosen threshold: **{result['threshold']:.2f}** "
        f"(answers {result['all_weeks']['answered']:.3f} of answerable, "
        f"refuses {result['all_weeks']['refused_unanswerable']:.3f} of unanswerable).",
        "",
        "| tuned on | threshold | answered (held-out weeks) | refused unanswerable (held-out weeks) |",
        "| --- | --- | --- | --- |",
    ]
    for name, row in result["leave_weeks_out"].items():
        lines.append(
            f"| {name.replace('tuned_', '').replace('_', ' ')} | {row['threshold']:.2f} | {row['answered']:.3f} | "
            f"{row['refused_unanswerable']:.3f} |"
        )
    lines += ["", "| threshold | answered | refused unanswerable |", "| --- | --- | --- |"]
    for row in result["curve"]:
        if round(row["threshold"] * 100) % 5 == 0:
            lines.append(f"| {row['threshold']:.2f} | {row['answered']:.3f} | {row['refused_unanswerable']:.3f} |")
    return "\n".join(lines) + "\n"
