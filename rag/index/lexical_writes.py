"""Writing the lexical index: every chunk at once, or some articles again; each write one tantivy commit.

A write that fails is rolled back whole, so readers (in this process or another) see the index before it or
after it, never half of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rag.index.lexical_schema import Words, document
from rag.index.store_reads import Chunk

BUILD_BATCH = 2000


def build(writer: Any, words: Words, chunks: Iterable[Chunk]) -> None:
    """Replace everything the index holds with ``chunks``, tokenized a batch at a time."""
    with _committed(writer):
        writer.delete_all_documents()
        batch: list[Chunk] = []
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) >= BUILD_BATCH:
                _add(writer, words, batch)
                batch = []
        _add(writer, words, batch)


def replace_articles(writer: Any, words: Words, article_ids: list[str], chunks: Iterable[Chunk]) -> None:
    """Drop the chunks of ``article_ids``, then add ``chunks`` (their chunks now; read after the drop)."""
    with _committed(writer):
        for article_id in article_ids:
            writer.delete_documents_by_term("article_id", article_id)
        _add(writer, words, list(chunks))


def _add(writer: Any, words: Words, chunks: list[Chunk]) -> None:
    bodies = words.joined([text or "" for _, text, _ in chunks])
    for (chunk_id, _text, meta), body in zip(chunks, bodies, strict=True):
        writer.add_document(document(chunk_id, body, meta))


@contextmanager
def _committed(writer: Any) -> Iterator[Any]:
    """A tantivy write: committed when the block ends, rolled back if it raises; merges finished either way."""
    try:
        yield writer
        writer.commit()
    except BaseException:
        writer.rollback()
        raise
    finally:
        writer.wait_merging_threads()
