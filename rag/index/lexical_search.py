"""Querying the lexical index: BM25 matches under filters, and how common a phrase is.

Queries read the tantivy searcher in use, which an update swaps whole: a query that started on the old one
reads it to the end (its vanished chunks are dropped when read back from Chroma). Phrase counts are
remembered until the index changes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import tantivy

from rag.index.filters import Filters
from rag.index.lexical_schema import Words

FREQUENCY_CACHE_SIZE = 50_000


class Selection(NamedTuple):
    """How selective a filter is (the share of chunks it lets through) and, for a narrow one, its chunks' ids."""

    share: float
    ids: list[str] | None


class LexicalSearch:
    """BM25 over one searcher at a time (:meth:`use` swaps it)."""

    def __init__(self, schema: tantivy.Schema, words: Words) -> None:
        self.schema = schema
        self.searcher: Any = None
        self._words = words
        self._frequencies: dict[str, int] = {}

    def use(self, searcher: Any) -> None:
        """Query ``searcher`` from now on; the phrase counts are forgotten when it holds other chunks."""
        old = self.searcher
        if old is None or (searcher.num_docs, searcher.num_segments) != (old.num_docs, old.num_segments):
            self.forget()
        self.searcher = searcher

    def forget(self) -> None:
        """Forget the phrase counts (a new dict: a count under way on the old searcher lands in the old one)."""
        self._frequencies = {}

    def __len__(self) -> int:
        searcher = self.searcher
        return 0 if searcher is None else int(searcher.num_docs)

    def chunk_ids(self) -> list[str]:
        """The ids of every chunk held."""
        searcher = self.searcher
        if searcher is None or not searcher.num_docs:
            return []
        hits = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs, count=False).hits
        return [searcher.doc(address)["chunk_id"][0] for _, address in hits]

    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best matches with a positive score."""
        searcher = self.searcher  # one consistent view, whatever a concurrent update swaps in meanwhile
        if searcher is None or not searcher.num_docs:
            return []
        words = self._words.distinct(query)
        if not words or top_k <= 0:
            return []
        should = [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "body", w)) for w in words]
        text = tantivy.Query.boolean_query(should)
        musts = _filter_queries(self.schema, filters)
        if musts:
            text = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in [text, *musts]])
        hits = searcher.search(text, limit=top_k, count=False).hits
        return [(searcher.doc(address)["chunk_id"][0], float(score)) for score, address in hits if score > 0]

    def selection(self, filters: Filters | None, limit: int, name_below: float) -> Selection:
        """The share of chunks ``filters`` let through (1.0 for none), counted from tantivy's fast fields, and, when
        that share is under ``name_below`` and they are at most ``limit``, their ids: one query for both."""
        searcher = self.searcher
        musts = _filter_queries(self.schema, filters)
        if searcher is None or not searcher.num_docs or not musts:
            return Selection(1.0, None)
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in musts])
        found = searcher.search(query, limit=limit + 1, count=True)
        share = int(found.count) / int(searcher.num_docs)
        if share >= name_below or len(found.hits) > limit:
            return Selection(share, None)
        return Selection(share, [searcher.doc(address)["chunk_id"][0] for _, address in found.hits])

    def document_frequency(self, text: str) -> tuple[int, int]:
        """(chunks holding every word of ``text``, all chunks), read from tantivy's posting lists (an
        intersection, not a scan)."""
        searcher = self.searcher
        if searcher is None or not searcher.num_docs:
            return 0, 0
        total = int(searcher.num_docs)
        frequencies = self._frequencies
        if (held := frequencies.get(text)) is not None:
            return held, total
        words = self._words.distinct(text)
        if not words:
            held = 0
        else:
            musts = [(tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "body", w)) for w in words]
            held = int(searcher.search(tantivy.Query.boolean_query(musts), limit=1, count=True).count)
        if len(frequencies) > FREQUENCY_CACHE_SIZE:
            frequencies.clear()
        frequencies[text] = held
        return held, total


def _filter_queries(schema: tantivy.Schema, filters: Filters | None) -> list[Any]:
    if filters is None or filters.empty:
        return []
    parts = []
    if filters.sources:
        parts.append(tantivy.Query.term_set_query(schema, "source", list(filters.sources)))
    if filters.article_ids:
        parts.append(tantivy.Query.term_set_query(schema, "article_id", list(filters.article_ids)))
    since, until, undated = filters._range()
    if since is not None or until is not None:
        # Undated articles (0) are left out of a range the caller gave, and kept under one read from the question.
        low = max(since or 0, 0 if undated else 1)
        dated = tantivy.Query.range_query(schema, "published_ts", tantivy.FieldType.Integer, low, until)
        if undated and low > 0:
            none = tantivy.Query.range_query(schema, "published_ts", tantivy.FieldType.Integer, 0, 0)
            dated = tantivy.Query.boolean_query([(tantivy.Occur.Should, dated), (tantivy.Occur.Should, none)])
        parts.append(dated)
    # Filters restrict; they must not add to the BM25 score.
    return [tantivy.Query.const_score_query(p, 0.0) for p in parts]
