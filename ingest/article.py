"""What ingest produces and reports: articles, per-input outcomes, and the batch report."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, Field

from rag.core.html import table_html
from rag.core.types import Authors, Link, SourceName, Title

DateSource = Literal["page", "feed", "record", "url", "mail", ""]
# How an outcome's note starts when the article's date was later than when it was seen, and dropped (ingest/dating.py)
FUTURE_DATE = "date in the future dropped"


class Article(BaseModel):
    """One news article, cleaned and ready to chunk.

    Every loader (records, HTML pages, Markdown front matter, web pages and feeds, PDF, Word, e-mail and web
    archives) makes one of these, so the checks on untrusted metadata live here: each field is capped (it is
    copied onto every chunk, citation and page), and a url that is not http(s) is dropped (it would become a
    ``javascript:`` link in the reader's page).
    """

    title: Title
    text: str
    url: Link = ""
    source: SourceName = ""
    published_at: str = ""  # ISO 8601, or "" when unknown
    # Where published_at came from: "page" (a page's, PDF's or Word document's metadata, a text's front matter),
    # "feed" (the feed entry that linked the page), "record" (a JSON record's field), "mail" (the Date
    # header), "url" (a date in the URL's path: ingest/dating.py), or "" for an undated article.
    date_source: DateSource = ""
    authors: Authors = Field(default_factory=list)
    origin: str = ""  # the file path or URL it was read from
    # ISO 8601: when the page was fetched from the web (a page or a feed's entry) or captured by a web archive, not
    # when it was published; "" for a file read from disk (its ingest time is every chunk's ``ingested_at``).
    seen_at: str = ""
    # Where each page of a paged document (a PDF) begins in ``text``: (character offset, page number), in order.
    pages: list[tuple[int, int]] = Field(default_factory=list)

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
    reason: str = ""  # why it failed or was skipped; for an article written or unchanged, a note (a date dropped)


class Unread(BaseModel):
    """A file a folder walk passed over (an unsupported kind, a hidden file): not an article, not a failure."""

    path: str
    kind: str  # its extension (".xlsx", "(none)"), or "hidden"
    reason: str


class IngestReport(BaseModel):
    """The result of one ingest call: counts, per-article outcomes, unread files, and time taken."""

    outcomes: list[Outcome] = Field(default_factory=list)
    unread: list[Unread] = Field(default_factory=list)
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

    def unread_by_kind(self) -> dict[str, int]:
        """How many files of each kind the folder walk left unread, most first."""
        counts: dict[str, int] = {}
        for u in self.unread:
            counts[u.kind] = counts.get(u.kind, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def summary(self) -> str:
        statuses = ["added", "updated", "unchanged", "duplicate", "removed"]
        # Only notes skip (entries or messages past a cap, attachments, scanned pages): not printed for everyone.
        if self.count("skipped"):
            statuses.append("skipped")
        parts = [f"{self.count(s)} {s}" for s in statuses]
        parts.append(f"{len(self.failed)} failed")
        line = f"{', '.join(parts)}; {self.chunks_written} chunks written in {self.seconds:.1f}s"
        future = sum(1 for o in self.outcomes if o.reason.startswith(FUTURE_DATE))
        if future:
            line += f"; {future} {'date' if future == 1 else 'dates'} in the future dropped (see the notes)"
        if self.unread:
            kinds = ", ".join(f"{n} {kind}" for kind, n in self.unread_by_kind().items())
            line += f"; {len(self.unread)} not read in the folders ({kinds})"
        return line

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the summary, then one row per input (titles and reasons escaped)."""
        rows = [(o.status, o.title, o.chunks, o.reason, o.origin) for o in self.outcomes]
        return table_html(("status", "title", "chunks", "reason", "origin"), rows, caption=self.summary())
