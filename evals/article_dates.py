"""Where RealTimeQA's articles get their dates, and how far a date in a URL can be trusted: ``newsrag bench
article-dates``.

Each week's articles (the union of its search results, as the benchmark indexes them) are written to a JSON Lines
file and read back by the loader an ingest uses for one (``ingest.files.load_file``), then dated as an ingest dates
them (``ingest.dating.dated``); nothing is chunked or embedded. The records carry a ``publish_date``, so every
article readable should be dated from its record; the figure that matters is the second one: of the URLs with a date
in their path, how many agree with the record's date within :data:`AGREE_DAYS` days.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from evals.realtimeqa import week_articles
from ingest.article import FUTURE_DATE, Article
from ingest.dating import dated
from ingest.files import load_file
from rag.core.dates import date_from_url, date_to_timestamp

AGREE_DAYS = 2
EXAMPLES = 10  # disagreements listed, largest first


def article_dates(data_dir: Path, weeks: list[str], max_bytes: int = 10_000_000) -> dict[str, Any]:
    """Counts of RealTimeQA's articles by where their date comes from, and of URL dates that agree with records'."""
    search_results = 0
    articles: list[Article] = []
    unread: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="newsrag-article-dates-") as tmp:
        for week in weeks:
            path = data_dir / f"{week}_gcs.jsonl"
            search_results += sum(len(json.loads(line).get("search_result") or []) for line in _lines(path))
            corpus = Path(tmp) / f"{week}.jsonl"
            corpus.write_text("\n".join(json.dumps(a) for a in week_articles(data_dir, week)), encoding="utf-8")
            for _where, loaded in load_file(corpus, max_bytes):
                if isinstance(loaded, Article):
                    articles.append(loaded)
                else:
                    unread[str(loaded).split(" (", 1)[0]] += 1
    sources: Counter[str] = Counter()
    future = 0
    for article in articles:
        settled, note = dated(article)
        sources[settled.date_source or "undated"] += 1
        future += note.startswith(FUTURE_DATE)
    read = len(articles)
    return {
        "weeks": len(weeks),
        "search_results": search_results,
        "articles": read + sum(unread.values()),
        "read": read,
        "not_read": dict(unread.most_common()),
        "dated": read - sources["undated"],
        "date_source": dict(sources.most_common()),
        "future_dates_dropped": future,
        "url_dates": url_agreement(articles),
    }


def url_agreement(articles: list[Article]) -> dict[str, Any]:
    """How many articles have a date in their URL, and how many of those agree with the loader's date."""
    in_url = both = agree = 0
    differences: list[tuple[int, str, str, str]] = []
    for article in articles:
        from_url = date_from_url(article.url)
        if not from_url:
            continue
        in_url += 1
        if not article.published_at:
            continue
        both += 1
        days = abs(date_to_timestamp(from_url) - date_to_timestamp(article.published_at[:10])) // 86_400
        if days <= AGREE_DAYS:
            agree += 1
        else:
            differences.append((days, article.url, article.published_at[:10], from_url))
    differences.sort(reverse=True)
    return {
        "with_url_date": in_url,
        "share_with_url_date": round(in_url / len(articles), 3) if articles else 0.0,
        "compared_with_record": both,
        f"agree_within_{AGREE_DAYS}_days": agree,
        "disagree": both - agree,
        "agreement": round(agree / both, 3) if both else 0.0,
        "largest_disagreements": [
            {"days": days, "url": url, "record": record, "url_date": url_date}
            for days, url, record, url_date in differences[:EXAMPLES]
        ],
    }


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
