"""Answers are data: the text, which engine wrote it, the passages it rests on, and what was checked."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

AnswerEngine = Literal["llm", "extractive"]  # the engine that wrote an answer ("auto" resolves to one of them)
REFUSAL_TEXT = "The indexed articles don't say."


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
    authors: str = ""  # comma-separated
    origin: str = ""  # the file or URL it was ingested from
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
    title: str
    source: str = ""
    url: str = ""
    published_at: str = ""
    text: str
    score: float = 0.0  # fused retrieval score (higher is better)
    similarity: float | None = None  # cosine similarity to the question, when the dense side saw it
    chunk_index: int = 0

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
            text=node.get_content(),
            score=float(score or 0.0),
            similarity=similarity,
            chunk_index=int(meta.get("chunk_index", 0) or 0),
        )

    def label(self) -> str:
        """How a citation names its article: title, source and date."""
        parts = [self.title or "(untitled)"]
        if self.source:
            parts.append(self.source)
        if self.published_at:
            parts.append(self.published_at[:10])
        return " — ".join(parts)


class Citation(Passage):
    """A passage the answer cites as [number], and the sentence of it that supports the claim."""

    number: int
    quote: str = ""  # the sentence of the passage that best supports the citing sentence
    supported: bool = True


class Answer(BaseModel):
    """What :meth:`NewsRAG.ask` returns."""

    question: str
    text: str
    engine: AnswerEngine
    citations: list[Citation] = Field(default_factory=list)
    refused: bool = False
    flags: list[str] = Field(default_factory=list)  # e.g. "unsupported: <sentence>"
    notices: list[str] = Field(default_factory=list)  # e.g. "LLM unavailable, extractive answer"
    timings: dict[str, float] = Field(default_factory=dict)  # milliseconds
    passages: list[Passage] = Field(default_factory=list)  # everything retrieved, cited or not
    standalone_question: str = ""  # the question as retrieved, after condensing a follow-up
    relevance: float = 0.0  # best sentence score of the relevance gate; under NEWSRAG_MIN_RELEVANCE: refused

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def __repr__(self) -> str:
        head = f"Answer(engine={self.engine!r}, refused={self.refused}, citations={len(self.citations)})"
        return f"{head}\n{self.text}"

    __str__ = __repr__

    def sources_markdown(self) -> str:
        lines = []
        for c in self.citations:
            title = f"[{c.title}]({c.url})" if c.url else c.title
            meta = " · ".join(x for x in (c.source, c.published_at[:10]) if x)
            lines.append(f"{c.number}. **{title}**" + (f" — {meta}" if meta else ""))
            lines.append(f"   > {c.quote or c.text}")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        parts = [self.text]
        if self.notices:
            parts.append("\n".join(f"*{n}*" for n in self.notices))
        if self.citations:
            parts.append("**Sources**\n\n" + self.sources_markdown())
        parts.append(f"<sub>engine: {self.engine}</sub>")
        return "\n\n".join(parts)
