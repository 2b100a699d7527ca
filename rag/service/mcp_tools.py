"""What newsrag's MCP tools do, over one :class:`NewsRAG`, as JSON-ready dicts (``rag/server/mcp.py`` serves them).

Articles are data. Every text that goes out (passages, an article's text, titles and sources) has its sentences
addressed to an AI taken out first, as the answer engines' passages have: an assistant calling these tools reads
the news, never an article's planted orders. Who may add articles is the caller's to decide (``for_visitor``).
"""

from __future__ import annotations

from typing import Any

from ingest.article import IngestReport
from rag.answering.injection import LEFT_OUT, guarded, without_instructions
from rag.core.types import Answer, Citation, Passage
from rag.index.catalog import ArticleView, Selection, SortKey
from rag.index.store import ArticleRecord
from rag.service.newsrag import NewsRAG
from rag.service.retrieval import guarded_passages

PAGE_SIZE = 20  # articles per page of list_articles
MAX_URL_CHARS = 2048


class ToolInputError(ValueError):
    """A tool's argument is wrong (an unknown article, a URL that is not http(s)); the message says which."""


def _clean(value: str, field: str) -> tuple[str, int]:
    """``value`` without its sentences addressed to an AI, and how many were taken out."""
    if not guarded():
        return value, 0
    kept, removed = without_instructions(value)
    if removed and field != "text" and not kept.strip():
        kept = LEFT_OUT
    return kept, len(removed)


def _article_fields(record: ArticleRecord) -> dict[str, Any]:
    return {
        "id": record.article_id,
        "title": _clean(record.title, "title")[0],
        "source": _clean(record.source, "source")[0],
        "date": record.published_at,
        "url": record.url,
    }


def _passage(passage: Passage) -> dict[str, Any]:
    return {
        "article_id": passage.article_id,
        "title": passage.title,
        "source": passage.source,
        "date": passage.published_at,
        "url": passage.url,
        "text": passage.text,
        "score": round(passage.score, 6),
    }


def _citation(citation: Citation) -> dict[str, Any]:
    fields = _passage(citation) | {"number": citation.number, "quote": citation.quote, "supported": citation.supported}
    del fields["score"]
    return fields


class NewsTools:
    """The tools' work: search, ask, list, read and add articles; each returns a dict ready for JSON."""

    def __init__(self, newsrag: NewsRAG) -> None:
        self.newsrag = newsrag

    def search(
        self,
        query: str,
        since: str = "",
        until: str = "",
        sources: list[str] | None = None,
        limit: int | None = None,
        as_of: str = "",
    ) -> dict[str, Any]:
        """The passages hybrid retrieval finds, best first, each with its article's title, source, date and url."""
        filters = {"sources": sources, "since": since, "until": until, "as_of": as_of}
        passages = guarded_passages(self.newsrag, query, limit, **filters)
        return {"query": query, "passages": [_passage(p) for p in passages]}

    def ask(
        self, question: str, engine: str | None = None, since: str = "", until: str = "", as_of: str = ""
    ) -> dict[str, Any]:
        """The checked answer: its text with [n] markers, the short answer, and the numbered citations."""
        given = {"since": since, "until": until, "as_of": as_of}
        filters = {name: value for name, value in given.items() if value}
        answer: Answer = self.newsrag.ask(question, engine=engine or None, **filters)
        return {
            "answer": answer.text,
            "short_answer": answer.short_answer,
            "refused": answer.refused,
            "read_as": answer.read_as,
            "engine": answer.engine,
            "citations": [_citation(c) for c in answer.citations],
            "notices": answer.notices,
            "flags": answer.flags,
        }

    def articles(self, query: str = "", sort: str = "date", page: int = 1) -> dict[str, Any]:
        """One page of the archive (newest first by default), and how many articles match in all."""
        try:
            key = SortKey(sort.strip().lower() or "date")
        except ValueError:
            raise ToolInputError(f"unknown sort {sort[:40]!r}: choose one of {', '.join(SortKey)}") from None
        page = max(1, page)
        descending = key in (SortKey.date, SortKey.added, SortKey.chunks)  # newest and longest first; names A-Z
        listing = self.newsrag.articles_page(
            Selection(text=query), sort=key, descending=descending, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        return {
            "total": listing.total,
            "page": page,
            "pages": max(1, -(-listing.total // PAGE_SIZE)),
            "articles": [_article_fields(r) | {"chunks": r.n_chunks} for r in listing.records],
        }

    def article(self, article_id: str) -> dict[str, Any]:
        """One article's metadata and cleaned text; ToolInputError when no article has that id."""
        view: ArticleView | None = self.newsrag.article(article_id.strip())
        if view is None:
            raise ToolInputError(f"no article with id {article_id[:80]!r}: list_articles and search_news give ids")
        text, removed = _clean(view.text, "text")
        return _article_fields(view.record) | {"text": text, "sentences_left_out": removed}

    def ingest(self, url: str, for_visitor: bool) -> dict[str, Any]:
        """Fetch and index one article or feed URL; ``for_visitor``: under the visitor fetch policy."""
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")) or len(url) > MAX_URL_CHARS:
            raise ToolInputError(f"not an http(s) URL of at most {MAX_URL_CHARS} characters")
        report: IngestReport = self.newsrag.ingest(url, for_visitor=for_visitor)
        return {
            "summary": report.summary(),
            "ok": report.ok,
            "articles": [
                {"id": o.article_id, "title": _clean(o.title, "title")[0], "status": o.status, "reason": o.reason}
                for o in report.outcomes
            ],
        }
