"""RealTimeQA over one archive: every week's articles in one index, each question asked as of its own date.

A followed feed builds an archive, and its questions are asked at a point in time. This puts the articles of all
the given weeks in one index and asks each question with ``as_of`` = its ``question_date``, in several
configurations over the same index, in the same run:

- ``archive``: as of the question's date, with time words read and the recency prior (what a user gets);
- ``archive_as_of_only``: as of the question's date, time words and prior off (what the date cap alone buys);
- ``archive_no_as_of``: no date at all (time-awareness off: the baseline of issue #35);
- ``per_week``: as ``archive``, but only the question's own week's articles (the per-week benchmark's corpus;
  the same index restricted by article id, so dense scores are the per-week index's and BM25 statistics are
  the archive's).

Besides the usual figures, each configuration reports the share of answers citing an article dated after the
question (must be 0 with ``as_of``) and the share of cited articles from the 14 days before it, for questions
about the present (whose words ask for the newest) and for the rest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import evals.metrics as m
from evals.realtimeqa import MAX_ANSWER_WORDS, _jsonl, week_articles
from evals.runner import score_case
from evals.suite import Case

if TYPE_CHECKING:
    from rag.core.types import Answer
    from rag.service.newsrag import NewsRAG

RECENT_DAYS = 14
CONFIGURATIONS = ("archive", "archive_as_of_only", "archive_no_as_of", "per_week")


@dataclass(frozen=True)
class DatedCase:
    """A RealTimeQA question with the day it was asked and the ids of its week's articles."""

    case: Case
    week: str
    as_of: date
    week_article_ids: tuple[str, ...]


def archive_articles(data_dir: Path, weeks: list[str]) -> list[dict[str, Any]]:
    """The union of the weeks' search results, one record per URL (the first week's copy)."""
    seen: dict[str, dict[str, Any]] = {}
    for week in weeks:
        for article in week_articles(data_dir, week):
            seen.setdefault(article["url"], article)
    return list(seen.values())


def dated_cases(data_dir: Path, weeks: list[str]) -> list[DatedCase]:
    from ingest.article import Article

    found = []
    for week in weeks:
        ids = tuple(
            sorted(
                {
                    Article(title=a["title"], text=a["text"], url=a["url"]).article_id
                    for a in week_articles(data_dir, week)
                }
            )
        )
        for q in _jsonl(data_dir / f"{week}_qa.jsonl"):
            choices = [str(c) for c in q["choices"]]
            case = Case(
                id=q["question_id"],
                question=q["question_sentence"],
                choices=choices,
                gold=choices[int(q["answer"][0])],
            )
            asked = date.fromisoformat(str(q["question_date"]).replace("/", "-")[:10])
            found.append(DatedCase(case, week, asked, ids))
    return found


def build_archive(data_dir: Path, weeks: list[str], index_dir: Path, **overrides: Any) -> NewsRAG:
    """A NewsRAG over the weeks' articles in ``index_dir``; an index already there is brought up to date (ingest is
    idempotent, so a second run embeds nothing)."""
    from evals.realtimeqa import index_articles
    from rag.core.settings import load_settings

    settings = load_settings(**overrides)
    index_dir.mkdir(parents=True, exist_ok=True)
    newsrag, report = index_articles(archive_articles(data_dir, weeks), settings, index_dir.parent, index_dir)
    if report.count("failed"):
        raise RuntimeError(f"{report.count('failed')} archive articles failed to ingest")
    return newsrag


def _published(passage_date: str) -> date | None:
    try:
        return date.fromisoformat(passage_date[:10]) if passage_date else None
    except ValueError:
        return None


def time_metrics(question: str, answer: Answer | None, as_of: date) -> dict[str, Any]:
    """Cited articles against the question's date: any dated after it, and the share from the 14 days before;
    whether the question is about the present (its words ask for the newest: "this week", "the latest")."""
    from rag.answering.time_words import read_time

    cited = [_published(c.published_at) for c in answer.citations] if answer and not answer.refused else []
    dated = [d for d in cited if d is not None]
    recent = [d for d in dated if as_of - timedelta(days=RECENT_DAYS) <= d <= as_of]
    return {
        "cites_after_as_of": any(d > as_of for d in dated) if dated else (False if answer else None),
        "cited_recent_share": len(recent) / len(dated) if dated else None,
        "about_present": bool((reading := read_time(question, as_of)) and reading.recent),
    }


def _ask(newsrag: NewsRAG, dated: DatedCase, configuration: str, engine: str | None) -> tuple[Answer | None, str]:
    options: dict[str, Any] = {"engine": engine}
    if configuration != "archive_no_as_of":
        options["as_of"] = dated.as_of
    if configuration == "per_week":
        options["article_ids"] = list(dated.week_article_ids)
    try:
        return newsrag.ask(dated.case.question, **options), ""
    except (ValueError, RuntimeError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def summarise_configuration(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(key: str, where: Callable[[dict[str, Any]], bool] = lambda r: True) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None and where(r)]
        return round(m.mean(values), 4) if values else None

    present = [r for r in rows if r["about_present"]]
    summary = {
        "n": len(rows),
        "answer_contains_gold": mean("contains_gold"),
        "short_answer_contains_gold": mean("short_contains_gold"),
        "short_answer_rate": mean("short_answered"),
        "retrieval_gold_at_k": mean("retrieval_gold"),
        "refused": mean("refused"),
        "cites_after_as_of": mean("cites_after_as_of"),
        "cited_recent_share": mean("cited_recent_share"),
        "cited_recent_share_present": mean("cited_recent_share", lambda r: r["about_present"]),
        "cited_recent_share_rest": mean("cited_recent_share", lambda r: not r["about_present"]),
        "n_present": len(present),
        "latency_p50_ms": m.percentile([r["ms"] for r in rows], 50),
        "latency_p95_ms": m.percentile([r["ms"] for r in rows], 95),
    }
    return summary


def run_archive(
    data_dir: Path,
    weeks: list[str],
    index_dir: Path,
    *,
    engine: str | None = None,
    configurations: tuple[str, ...] = CONFIGURATIONS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build (or reuse) the archive index and ask every question in each configuration; the summary and rows."""
    started = time.perf_counter()
    aware = build_archive(data_dir, weeks, index_dir)
    ingest_seconds = round(time.perf_counter() - started, 1)
    blind = build_archive(data_dir, weeks, index_dir, time_aware=False)
    cases = dated_cases(data_dir, weeks)
    out: dict[str, Any] = {
        "weeks": len(weeks),
        "articles": len(archive_articles(data_dir, weeks)),
        "chunks": aware.store.count(),
        "questions": len(cases),
        "ingest_seconds": ingest_seconds,
        "configurations": {},
    }
    rows_by: dict[str, list[dict[str, Any]]] = {}
    for configuration in configurations:
        newsrag = blind if configuration in ("archive_as_of_only", "archive_no_as_of") else aware
        rows = []
        for dated in cases:
            t = time.perf_counter()
            answer, error = _ask(newsrag, dated, configuration, engine)
            metrics = score_case(dated.case, answer, error, MAX_ANSWER_WORDS)
            rows.append(
                {
                    "id": dated.case.id,
                    "week": dated.week,
                    "as_of": dated.as_of.isoformat(),
                    "question": dated.case.question,
                    "gold": dated.case.gold,
                    "answer": answer.text if answer else "",
                    "read_as": answer.read_as if answer else "",
                    "error": error,
                    "refused": bool(answer is None or answer.refused),
                    "ms": round((time.perf_counter() - t) * 1000, 1),
                    "cited_dates": [c.published_at[:10] for c in answer.citations] if answer else [],
                    **{k: metrics.get(k) for k in ("contains_gold", "short_contains_gold", "short_answered")},
                    "retrieval_gold": metrics.get("retrieval_gold"),
                    **time_metrics(dated.case.question, answer, dated.as_of),
                }
            )
        rows_by[configuration] = rows
        out["configurations"][configuration] = summarise_configuration(rows)
        if progress:
            progress(f"{configuration}: {json.dumps(out['configurations'][configuration])}")
    out["rows"] = rows_by
    return out


def write_report(result: dict[str, Any], path: Path) -> None:
    """The configurations side by side, as Markdown."""
    shown = (
        "answer_contains_gold", "short_answer_contains_gold", "retrieval_gold_at_k", "refused", "cites_after_as_of",
        "cited_recent_share", "cited_recent_share_present", "cited_recent_share_rest", "latency_p50_ms",
        "latency_p95_ms",
    )  # fmt: skip
    configurations = result["configurations"]
    lines = [
        f"# RealTimeQA as one archive ({result['weeks']} weeks, {result['articles']} articles, {result['chunks']}"
        f" chunks, {result['questions']} questions)",
        "",
        "Each question asked as of its date (`as_of` = `question_date`) unless said otherwise; open questions, the"
        " extractive engine; answers cut to 80 words before matching.",
        "",
        "| metric | " + " | ".join(configurations) + " |",
        "| --- |" + " --- |" * len(configurations),
    ]
    for key in shown:
        lines.append(f"| {key} | " + " | ".join(str(c.get(key)) for c in configurations.values()) + " |")
    n_present = next(iter(configurations.values()), {}).get("n_present")
    lines += ["", f"Questions about the present (their words ask for the newest): {n_present}."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
