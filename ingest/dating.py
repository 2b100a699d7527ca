"""An article's date, settled in one place for every article an ingest reads, whichever loader read it.

Loaders find what date they can and say where they found it (``Article.date_source``): a page's, PDF's or Word
document's metadata or a text's front matter ("page"), a record's field ("record"), the feed entry that linked the
page ("feed"), an e-mail's Date header ("mail"). Then :func:`dated`, called as each article is chunked
(``ingest/reading.py``):

1. takes a date a loader found without saying where (a plugin's Article) as the page's;
2. drops a date later than when the article was seen (fetched or captured: ``seen_at``; for a file, now, as the
   ingest reads it) by more than :data:`ALLOWANCE` (time zones): a page that claims to be from the future is
   wrong, and an as-of view of the archive would show it too early. A note on the article's outcome says so;
3. dates an undated article from its URL's path (``/2024/05/30/``: :func:`rag.core.dates.date_from_url`), unless
   that date is in the future too.

The page, record, feed or header outrank the URL: they name the moment of publishing, while a URL's date is the day
its path was made (usually the same; see ``newsrag bench article-dates`` for how often, on RealTimeQA).
"""

from __future__ import annotations

import time

from ingest.article import FUTURE_DATE, Article
from rag.core.dates import date_from_url, date_to_timestamp

ALLOWANCE = 86_400  # a day: a date written in a time zone ahead of the clock that saw the page is no future date


def dated(article: Article, now: float | None = None) -> tuple[Article, str]:
    """``article`` with its date and ``date_source`` settled, and a note when a date in the future was dropped.

    ``now`` (epoch seconds, the ingest's clock by default) stands in for when an article without ``seen_at`` (a
    file) was seen.
    """
    seen = _timestamp(article.seen_at) if article.seen_at else None
    moment = seen if seen is not None else time.time() if now is None else now
    when = f"{'seen' if seen is not None else 'read'} on {time.strftime('%Y-%m-%d', time.gmtime(moment))}"
    latest = moment + ALLOWANCE
    published, source = article.published_at, article.date_source or "page"
    notes = []
    if published and (_timestamp(published) or 0) > latest:
        notes.append(f"{FUTURE_DATE}: {published[:10]} ({source}) is after the article was {when}")
        published = ""
    if not published and (from_url := date_from_url(article.url)):
        if date_to_timestamp(from_url) > latest:
            notes.append(f"{FUTURE_DATE}: {from_url} (url) is after the article was {when}")
        else:
            published, source = from_url, "url"
    if notes:
        notes.append(f"dated {published} from its url" if published else "left undated")
    update = {"published_at": published, "date_source": source if published else ""}
    changed = any(getattr(article, k) != v for k, v in update.items())
    return (article.model_copy(update=update) if changed else article), "; ".join(notes)


def _timestamp(iso: str) -> int | None:
    """Epoch seconds of an ISO date or date-time, or None for text that is not one (a plugin's own format)."""
    try:
        return date_to_timestamp(iso)
    except ValueError:
        return None
