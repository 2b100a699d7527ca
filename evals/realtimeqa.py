"""The RealTimeQA benchmark: real weekly news quizzes answered from that week's retrieved articles.

For each week: index the union of the week's search results in a fresh index, ask every question
(open, or with its four options), and score against the text of the right choice. A week is a suite
plus a corpus, so this reuses the suite runner.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import evals.metrics as m
from evals.runner import EvalResult, run_suite, summarise
from evals.suite import Case

if TYPE_CHECKING:
    from ingest.article import IngestReport
    from rag.core.settings import Settings
    from rag.service.newsrag import NewsRAG

# Answers are cut to this many words before matching, so long answers cannot game containment.
MAX_ANSWER_WORDS = 80
WEEK_METRICS = (
    "answer_contains_gold", "short_answer_contains_gold", "token_f1", "retrieval_gold_at_k", "mc_accuracy",
    "false_refusal_rate", "false_refusal_gold_retrieved", "short_answer_rate", "short_answer_precision",
    "latency_p50_ms",
)  # fmt: skip


def weeks(data_dir: Path) -> list[str]:
    """The weeks (YYYYMMDD) that have both a questions file and a search-results file."""
    return sorted(p.name[:8] for p in data_dir.glob("*_qa.jsonl") if (data_dir / f"{p.name[:8]}_gcs.jsonl").exists())


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def week_cases(data_dir: Path, week: str) -> list[Case]:
    cases = []
    for q in _jsonl(data_dir / f"{week}_qa.jsonl"):
        choices = [str(c) for c in q["choices"]]
        gold = choices[int(q["answer"][0])]
        asked = str(q.get("question_date") or "").replace("/", "-")[:10] or None
        cases.append(
            Case(id=q["question_id"], question=q["question_sentence"], choices=choices, gold=gold, as_of=asked)
        )
    return cases


def week_articles(data_dir: Path, week: str) -> list[dict[str, Any]]:
    """The union of the week's search results, one record per URL."""
    seen: dict[str, dict[str, Any]] = {}
    for row in _jsonl(data_dir / f"{week}_gcs.jsonl"):
        for hit in row.get("search_result") or []:
            if hit.get("url") and hit.get("text") and hit["url"] not in seen:
                seen[hit["url"]] = {
                    "url": hit["url"],
                    "title": hit.get("title") or "",
                    "text": hit["text"],
                    "authors": hit.get("authors") or [],
                    "publish_date": hit.get("publish_date"),
                }
    return list(seen.values())


def listed_articles(data_dir: Path, listing: Path) -> list[dict[str, Any]]:
    """The articles a ``YYYYMMDD<TAB>url`` listing names, read from those weeks' search results.

    A suite written from the RealTimeQA articles carries only this listing: the data stays in its folder.
    """
    wanted: dict[str, set[str]] = {}
    for line in listing.read_text(encoding="utf-8").splitlines():
        if line.strip():
            week, url = line.split("\t", 1)
            wanted.setdefault(week.strip(), set()).add(url.strip())
    found = []
    for week, urls in sorted(wanted.items()):
        found += [a for a in week_articles(data_dir, week) if a["url"] in urls]
    missing = sum(len(urls) for urls in wanted.values()) - len(found)
    if missing:
        raise FileNotFoundError(f"{missing} articles listed in {listing} are not in {data_dir}")
    return found


def ceiling(cases: list[Case], articles: list[dict[str, Any]]) -> float:
    """Share of questions whose right choice occurs anywhere in the week's articles."""
    corpus = " " + " ".join(m.normalise(a["text"]) for a in articles) + " "
    return sum(f" {m.normalise(c.gold)} " in corpus for c in cases) / len(cases) if cases else 0.0


def index_articles(
    articles: list[dict[str, Any]], settings: Settings, tmp: Path, index_dir: Path | None = None
) -> tuple[NewsRAG, IngestReport]:
    """A NewsRAG over ``articles`` (records as the search results hold them), ingested into ``index_dir``
    (default: ``tmp/index``) through a JSONL file in ``tmp``."""
    from rag.service.newsrag import NewsRAG

    corpus = tmp / "articles.jsonl"
    corpus.write_text("\n".join(json.dumps(a) for a in articles), encoding="utf-8")
    newsrag = NewsRAG(settings.model_copy(update={"index_dir": index_dir or tmp / "index"}))
    return newsrag, newsrag.ingest(corpus)


def week_index(
    data_dir: Path, week: str, settings: Settings, tmp: Path, index_cache: Path | None
) -> tuple[NewsRAG, IngestReport]:
    """A NewsRAG over one week's articles, ingested into ``tmp`` or, with ``index_cache``, a kept index there."""
    index_dir = None
    if index_cache is not None:
        # Chunking settings are part of the name: a cached index never answers for other chunks.
        index_dir = index_cache / f"{week}-{settings.embedder}-{settings.chunk_size}-{settings.chunk_overlap}"
    return index_articles(week_articles(data_dir, week), settings, tmp, index_dir)


def run_week(
    data_dir: Path,
    week: str,
    *,
    engine: str | None,
    with_choices: bool,
    top_k: int | None = None,
    settings_overrides: dict[str, Any] | None = None,
    index_cache: Path | None = None,
) -> tuple[EvalResult, dict[str, Any]]:
    """Index one week in a fresh index and run its questions.

    With ``index_cache`` the week's index is kept there and reused by the next run: ingest is
    idempotent, so an unchanged week costs no embedding and a changed one is brought up to date.
    """
    from rag.core.settings import load_settings

    cases = week_cases(data_dir, week)
    articles = week_articles(data_dir, week)
    with tempfile.TemporaryDirectory(prefix=f"newsrag-rtqa-{week}-") as tmp:
        settings = load_settings(**(settings_overrides or {}))
        newsrag, report = week_index(data_dir, week, settings, Path(tmp), index_cache)
        chunks = newsrag.store.count()
        result = run_suite(
            newsrag, cases, engine=engine, top_k=top_k, with_choices=with_choices, max_answer_words=MAX_ANSWER_WORDS
        )
    for row in result.rows:
        row["week"] = week
    info = {
        "week": week,
        "questions": len(cases),
        "articles": len(articles),
        "articles_indexed": report.count("added") + report.count("unchanged"),
        "chunks": chunks,
        "chunks_embedded": report.chunks_written,
        "ingest_seconds": round(report.seconds, 1),
        "ceiling": ceiling(cases, articles),
    }
    return result, info


def run_realtimeqa(
    data_dir: Path,
    selected: list[str],
    *,
    engine: str | None = None,
    with_choices: bool = False,
    top_k: int | None = None,
    settings_overrides: dict[str, Any] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    index_cache: Path | None = None,
) -> EvalResult:
    rows: list[dict[str, Any]] = []
    per_week = []
    config: dict[str, Any] = {}
    for week in selected:
        result, info = run_week(
            data_dir,
            week,
            engine=engine,
            with_choices=with_choices,
            top_k=top_k,
            settings_overrides=settings_overrides,
            index_cache=index_cache,
        )
        rows += result.rows
        config = result.config
        info |= {k: result.summary.get(k) for k in WEEK_METRICS}
        per_week.append(info)
        if progress:
            progress(info)
    summary = summarise(rows, config)
    total = sum(w["questions"] for w in per_week) or 1
    summary["ceiling"] = sum(w["ceiling"] * w["questions"] for w in per_week) / total
    summary["weeks"] = len(per_week)
    summary["per_week"] = per_week
    return EvalResult(rows=rows, summary=summary, config=config)
