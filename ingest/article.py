"""What ingest produces and reports: articles, per-input outcomes, and the batch report."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, Field

from rag.core.html import table_html
from rag.core.types import Authors, Link, SourceName, Title


class Article(BaseModel):
    """One news article, cleaned and ready to chunk.

    Every loader (records, HTML pages, Markdown front matter, web pages and feeds) makes one of these, so the
    checks on untrusted metadata live here: each field is capped (it is copied onto every chunk, citation and
    page), and a url that is not http(s) is dropped (it would become a ``javascript:`` link in the reader's page).
    """

    title: Title
    text: str
    url: Link = ""
    source: SourceName = ""
    published_at: str = ""  # ISO 8601, or "" when unknown
    authors: Authors = Field(default_factory=list)
    origin: str = ""  # the file path or URL it was read from

    @property
    def article_id(self) -> str:
        """Stable id: from the URL when there is one, else from the normalised text."""
        basis = normalise_url(self.url) if self.url else " ".join(self.text.lower().split())
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def normalise_url(url: str) -> str:
    """The same article behind http/https, a trailing slash, a fragment or tracking parameters."""
    url = url.strip()
    url = re.sub(r"^https?://(www\.)?", "", url, flags=re.IGNORECASE)
    url = url.split("#", 1)[0]
    if "?" in url:
        path, query = url.split("?", 1)
        kept = [p for p in query.split("&") if p and not re.match(r"(utm_|fbclid|gclid|ref=)", p)]
        url = path + ("?" + "&".join(sorted(kept)) if kept else "")
    return url.rstrip("/").lower()


Status = Literal["added", "updated", "unchanged", "duplicate", "skipped", "failed", "removed"]


class Outcome(BaseModel):
    """What happened to one article (or one input that yielded none)."""

    origin: str
    status: Status
    article_id: str = ""
    title: str = ""
    chunks: int = 0
    reason: str = ""


class IngestReport(BaseModel):
    """The result of one ingest call: counts, per-article outcomes, and time taken."""

    outcomes: list[Outcome] = Field(default_factory=list)
    chunks_written: int = 0
    seconds: float = 0.0
    repaired_chunks: int = 0

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        statuses = ["added", "updated", "unchanged", "duplicate", "removed"]
        if self.count("skipped"):  # only feeds past NEWSRAG_MAX_FEED_ITEMS skip: don't print it for everyone
            statuses.append("skipped")
        parts = [f"{self.count(s)} {s}" for s in statuses]
        parts.append(f"{len(self.failed)} failed")
        return f"{', '.join(parts)}; {self.chunks_written} chunks written in {self.seconds:.1f}s"

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the summary, then one row per input (titles and reasons escaped)."""
        rows = [(o.status, o.title, o.chunks, o.reason, o.origin) for o in self.outcomes]
        return table_html(("status", "title", "chunks", "reason", "origin"), rows, caption=self.summary())
