"""Answers are data: the text, which engine wrote it, the passages it rests on, and what was checked."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from rag.core import html as h
from rag.core import render

AnswerEngine = str  # the engine that wrote an answer: "extractive", "llm" or a plugin engine's name
REFUSAL_TEXT = "The indexed articles don't say."

# Article metadata comes from untrusted authors and is copied onto every chunk, every citation and the page, so
# each field has a cap (ingest truncates to it; reading an older index truncates again). Real headlines stay
# under ~150 characters and publisher names under ~60; a byline rarely names more than a handful of people.
MAX_TITLE_CHARS = 300
MAX_SOURCE_CHARS = 200
MAX_AUTHOR_CHARS = 100
MAX_AUTHORS = 10
# The sitemaps protocol's limit, which every browser, proxy and CDN accepts; a longer url is not a link to keep.
MAX_URL_CHARS = 2048
_LINK = re.compile(r"https?://[^\x00-\x1f\x7f]+", re.IGNORECASE)


def capped(text: str, limit: int) -> str:
    """``text`` on one line and at most ``limit`` characters (cut ones end in "…")."""
    # Only the start can be kept, so never split a megabyte title into words (a "billion laughs" one is 68 MB).
    text = " ".join(text.lstrip()[: limit * 4].split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_url(url: str) -> str:
    """``url`` if it is an http(s) link of sane length, else "".

    A citation's url becomes a link in the page, in notebooks and in API clients: ``javascript:``, ``data:`` or
    ``vbscript:`` there runs the article author's code in the reader's browser. Only an allow-list of schemes is
    safe (browsers ignore case, leading spaces and control characters, and tabs or newlines inside the scheme), so
    the whole url must be ``http(s)://`` followed by no control character; a space is encoded, as browsers do.
    """
    url = url.strip()
    return url.replace(" ", "%20") if len(url) <= MAX_URL_CHARS and _LINK.fullmatch(url) else ""


def capped_authors(authors: list[str]) -> list[str]:
    """At most ``MAX_AUTHORS`` names, each capped; empty ones dropped."""
    names = (capped(a, MAX_AUTHOR_CHARS) for a in authors[: MAX_AUTHORS * 2])
    return [n for n in names if n][:MAX_AUTHORS]


# Untrusted article metadata, checked wherever it enters a model: at ingest (Article), and again when read from an
# index built before these checks (Passage, Citation, ArticleRecord) or from the question log (Citation).
Title = Annotated[str, AfterValidator(lambda title: capped(title, MAX_TITLE_CHARS))]
SourceName = Annotated[str, AfterValidator(lambda source: capped(source, MAX_SOURCE_CHARS))]
Authors = Annotated[list[str], AfterValidator(capped_authors)]
Link = Annotated[str, AfterValidator(safe_url)]


class ChunkMetadata(BaseModel):
    """What every chunk of an article carries in the index: ingest writes it, the store and retrieval read it.

    None of it is embedded or shown to an LLM: prefixing metadata to passages made retrieval worse.
    """

    # The article's own fields, copied onto each of its chunks
    article_id: str
    title: str = ""
    source: str = ""
    url: str = ""
    published_at: str = ""  # ISO date or datetime, "" when unknown
    # where published_at came from: "page", "feed", "record", "mail", "url" (its path), "" (undated, or an index
    # written before dates had sources)
    date_source: str = ""
    authors: str = ""  # comma-separated
    origin: str = ""  # the file or URL it was ingested from
    seen_at: str = ""  # when the page was fetched or a web archive captured it (ISO); "" for a file
    page: int = 0  # the page of a paged document (PDF) the chunk starts on; 0: not paged
    last_page: int = 0  # the page it ends on
    # Bookkeeping
    published_ts: int = 0  # published_at in epoch seconds (0: unknown), for date filters
    content_hash: str  # the article version this chunk belongs to
    n_chunks: int
    chunk_index: int
    ingested_at: float


ARTICLE_FIELDS = ("article_id", "title", "source", "url", "published_at", "authors", "origin")
CHUNK_METADATA_KEYS = tuple(ChunkMetadata.model_fields)


class Passage(BaseModel):
    """A retrieved chunk of an article, with the article's metadata."""

    chunk_id: str
    article_id: str
    title: Title
    source: SourceName = ""
    url: Link = ""
    published_at: str = ""
    date_source: str = ""  # where published_at came from (see ChunkMetadata)
    text: str
    score: float = 0.0  # fused retrieval score (higher is better)
    similarity: float | None = None  # cosine similarity to the question, when the dense side saw it
    chunk_index: int = 0
    page: int | None = None  # the page of a paged document (PDF) the passage starts on
    last_page: int | None = None  # and the page it ends on
    seen_at: str = ""  # when the page was fetched or a web archive captured it, for an article read from the web

    @classmethod
    def from_node(cls, node: Any, score: float | None, similarity: float | None = None) -> Passage:
        meta = node.metadata
        return cls(
            chunk_id=node.node_id,
            article_id=str(meta.get("article_id", "")),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            url=str(meta.get("url", "")),
            published_at=str(meta.get("published_at", "")),
            date_source=str(meta.get("date_source", "") or ""),
            text=node.get_content(),
            score=float(score or 0.0),
            similarity=similarity,
            chunk_index=int(meta.get("chunk_index", 0) or 0),
            page=int(meta.get("page", 0) or 0) or None,  # 0, or missing in an older index: not paged
            last_page=int(meta.get("last_page", 0) or 0) or None,
            seen_at=str(meta.get("seen_at", "") or ""),
        )

    def page_label(self) -> str:
        """Where in a paged document the passage is ("p. 3", "pp. 3–4"), or ""."""
        if not self.page:
            return ""
        if self.last_page and self.last_page != self.page:
            return f"pp. {self.page}–{self.last_page}"
        return f"p. {self.page}"

    def when(self) -> str:
        """The date to show: the publication date, else when the page was fetched or a web archive captured it
        ("seen 2024-03-01"); nothing for an undated file."""
        if self.published_at:
            return self.published_at[:10]
        return f"seen {self.seen_at[:10]}" if self.seen_at else ""

    def label(self) -> str:
        """The article in one line: title, source, date and, in a paged document, the page (the front ends draw
        citations with :mod:`rag.core.render`)."""
        parts = [self.title or "(untitled)", self.source, self.when(), self.page_label()]
        return " — ".join(p for p in parts if p)


class Citation(Passage):
    """A passage the answer cites as [number], and the sentence of it that supports the claim."""

    number: int
    quote: str = ""  # the sentence of the passage that best supports the citing sentence
    supported: bool = True

    def html_item(self, anchor: str) -> str:
        """This source as an HTML list item with the id ``{anchor}-{number}``, which the answer's [n] link to."""
        return render.citation_html(self, anchor)


class AnswerCandidate(BaseModel):
    """A short answer the extractive engine considered, with how likely it is right (as fitted on dev news).

    The first is the vote's winner; it is the answer's ``short_answer`` when its confidence clears the threshold.
    """

    text: str
    kind: str  # person, place, organisation, name, number, date or duration
    confidence: float
    signals: dict[str, float] = Field(default_factory=dict)  # what the confidence was computed from


class Answer(BaseModel):
    """What :meth:`NewsRAG.ask` returns."""

    question: str
    text: str
    engine: AnswerEngine
    short_answer: str | None = (
        None  # the name, place, number or date asked for, when the extractive engine is confident
    )
    candidates: list[AnswerCandidate] = Field(default_factory=list)  # the short answers it weighed, stated or not
    citations: list[Citation] = Field(default_factory=list)
    refused: bool = False
    flags: list[str] = Field(default_factory=list)  # e.g. "unsupported: <sentence>"
    notices: list[str] = Field(default_factory=list)  # e.g. "LLM unavailable, extractive answer"
    timings: dict[str, float] = Field(default_factory=dict)  # milliseconds
    passages: list[Passage] = Field(default_factory=list)  # everything retrieved, cited or not
    standalone_question: str = ""  # the question as retrieved, after condensing a follow-up
    relevance: float = 0.0  # best sentence score of the relevance gate; under NEWSRAG_MIN_RELEVANCE: refused
    as_of: str = ""  # the day the question was asked as of (ISO): no article published later was used
    # How the question's time words were read, e.g. "articles from 2026-03-01 to 2026-03-31"; "" when it has none.
    read_as: str = ""

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def __repr__(self) -> str:
        head = f"Answer(engine={self.engine!r}, refused={self.refused}, citations={len(self.citations)})"
        return f"{head}\n{self.text}"

    __str__ = __repr__

    def sources_markdown(self) -> str:
        return render.sources_markdown(self.citations)

    def _repr_markdown_(self) -> str:
        parts = [self.text]
        if self.notices:
            parts.append("\n".join(f"*{n}*" for n in self.notices))
        if self.citations:
            parts.append("**Sources**\n\n" + self.sources_markdown())
        parts.append(f"<sub>engine: {self.engine}</sub>")
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        """Jupyter's rich display: [n] linked to the numbered sources (title, source, date, url, quote marked),
        notices and flags shown. Every piece of text is escaped: articles and questions are untrusted."""
        anchor = f"newsrag-{uuid.uuid4().hex[:8]}"  # several answers on one page must not share ids
        parts = ['<div class="newsrag-answer">']
        if self.refused:
            parts.append("<p><b>Refused:</b> nothing in the indexed articles is close enough to this question.</p>")
        # A short answer needs no line of its own: the text leads with it, in bold.
        text = h.link_markers(self.text, {c.number for c in self.citations}, anchor)
        parts.append(f'<p style="white-space:pre-wrap">{text}</p>')
        notes = [("Notice", n) for n in self.notices] + [("Flag", f) for f in self.flags]
        if notes:
            items = "".join(f"<li><b>{kind}:</b> {h.escape(note)}</li>" for kind, note in notes)
            parts.append(f'<ul class="newsrag-notes" style="{h.NOTE_STYLE}">{items}</ul>')
        if self.citations:
            parts.append(f"<p><b>Sources</b></p>{render.sources_html(self.citations, anchor)}")
        total = self.timings.get("total_ms")
        timing = f" · {total:.0f} ms" if total is not None else ""
        parts.append(f"<small>engine: {h.escape(self.engine)}{timing}</small></div>")
        return "".join(parts)
