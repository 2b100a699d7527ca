"""The lexical (BM25) side of hybrid retrieval: a tantivy index kept beside Chroma, updated one article at a time.

Chroma is the source of truth. This index holds only what BM25 and the filters need (the stemmed words,
the chunk id, source, article id and date) under ``index_dir/lexical``. It catches up from the store's
journal (see ``rag/index/store_journal.py``): every finished write names the articles it touched, and the index
re-reads just those articles' chunks from Chroma, so a change costs work proportional to the article, in
this app instance and in any other over the same Chroma server. It is rebuilt from Chroma only when it is
missing or unreadable, when it fell further behind than the journal reaches, or when its chunk count
disagrees with Chroma's. Passages are read back from Chroma by id, so the two sides never disagree on a
passage's text. tantivy was chosen over SQLite FTS5 and segmented bm25s by ``evals/lexical_compare.py``
(figures in ``bench/results-lexical-candidates.md``). When the folder cannot be written (read-only, full)
the index lives in memory.

Words are tokenized by bm25s (English stopwords, Snowball stems) and handed to tantivy split on spaces,
so what counts as a word is what it was before the switch.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bm25s
import Stemmer
import tantivy
from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from rag.core.disk import disk_problem
from rag.index.filters import Filters
from rag.index.store import ChunkStore
from rag.index.store_journal import JOURNAL_KEEP_SECONDS

log = logging.getLogger(__name__)
META_FILE = "newsrag-lexical.json"
FORMAT = 2
# How often a reader asks Chroma whether the content changed under it.
STALENESS_CHECK_SECONDS = 2.0
FREQUENCY_CACHE_SIZE = 50_000
# Writers' clocks may differ this much: journal entries are re-read this far back (applying one twice is harmless).
CLOCK_SKEW_SECONDS = 120.0
WRITER_HEAP = 50_000_000
BUILD_BATCH = 2000


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("article_id", stored=False, tokenizer_name="raw")
    builder.add_text_field("source", stored=False, tokenizer_name="raw")
    builder.add_integer_field("published_ts", indexed=True, fast=True)
    return builder.build()


class LexicalIndex:
    """BM25 over every chunk in the store, brought up to date article by article."""

    def __init__(self, store: ChunkStore, path: Path) -> None:
        self.store = store
        self.path = path
        self.stemmer = Stemmer.Stemmer("english")
        self.schema = _schema()
        self._lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._in_memory = False
        self._searcher: Any = None
        self._frequencies: dict[str, int] = {}
        self._memory_meta: dict[str, Any] | None = None  # the catch-up state of an in-memory index
        self.generation: str | None = None
        self._checked_at = 0.0

    def __len__(self) -> int:
        searcher = self._searcher
        return 0 if searcher is None else int(searcher.num_docs)

    @property
    def chunk_ids(self) -> list[str]:
        """The ids of the chunks this index holds (to check it against Chroma; reads every stored id)."""
        searcher = self._searcher
        if searcher is None or not searcher.num_docs:
            return []
        hits = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs, count=False).hits
        return [searcher.doc(address)["chunk_id"][0] for _, address in hits]

    # ----- freshness
    def ensure_fresh(self, force: bool = False) -> None:
        """Catch up with what Chroma holds now (``force``: check now, not after the usual interval)."""
        now = time.monotonic()
        if not force and self.generation is not None and now - self._checked_at < STALENESS_CHECK_SECONDS:
            return
        if force or self.generation is None:
            with self._lock:
                self._refresh(now)
            return
        # A reader that has a searcher never queues behind an update: it searches what it has, whose vanished
        # chunks are dropped when read back from Chroma.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._refresh(now)
        finally:
            self._lock.release()

    def _refresh(self, now: float) -> None:
        try:
            self._refresh_on_disk(now)
        except (OSError, ValueError) as exc:  # tantivy reports a read-only or full folder as a ValueError
            if self._in_memory or not disk_problem(self.path, exc):
                raise
            self._to_memory(exc)
            self._rebuild(str(self.store.state().get("generation", "")))

    def _refresh_on_disk(self, now: float) -> None:
        state = self.store.state()
        current = str(state.get("generation", ""))
        self._checked_at = now
        if self._index is None:
            self._open()
        if current == self.generation and self._count_agrees(state):
            return
        meta = self._read_meta()
        if meta is None or time.time() - meta["synced_at"] > JOURNAL_KEEP_SECONDS - CLOCK_SKEW_SECONDS:
            self._rebuild(current)
            return
        if not self._catch_up(meta):
            return  # another process holds this folder's writer: it keeps the index current; read its commits
        self.generation = current
        if not self._count_agrees(self.store.state()):
            log.warning("the lexical index disagrees with Chroma on the chunk count; rebuilding it")
            self._rebuild(current)

    def _count_agrees(self, state: dict[str, Any]) -> bool:
        """As many chunks as Chroma holds, unless a writer is at work (then the next journal entry tells)."""
        self._reload()
        return bool(state.get("dirty")) or len(self) == self.store.count()

    def _open(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self.schema, path=str(self.path))
            # Reloaded by hand only (_reload): tantivy's default reader reads meta.json twice a second, for ever.
            self._index.config_reader("Manual")
        except (OSError, ValueError) as exc:
            if isinstance(exc, ValueError) and "schema" in str(exc).lower():
                shutil.rmtree(self.path, ignore_errors=True)  # an index of another format: start again
                self._open()
                return
            self._to_memory(exc)
        self._reload()

    def _to_memory(self, exc: BaseException) -> None:
        problem = disk_problem(self.path, exc)
        problem = problem or "cannot be written"
        log.warning("the lexical index is kept in memory only: %s %s (%s)", self.path, problem, exc)
        self._index, self._in_memory = tantivy.Index(self.schema), True

    def _reload(self) -> None:
        assert self._index is not None
        self._index.reload()
        searcher = self._index.searcher()
        old = self._searcher
        if old is None or (searcher.num_docs, searcher.num_segments) != (old.num_docs, old.num_segments):
            self._frequencies = {}  # (this index's own updates clear it too, in _changed)
        self._searcher = searcher

    def _changed(self) -> None:
        self._frequencies = {}
        self._reload()

    def _writer(self) -> Any:
        """This folder's writer, or None while another process holds it."""
        assert self._index is not None
        try:
            return self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
        except ValueError as exc:
            if "lock" in str(exc).lower():
                log.debug("the lexical index is being written by another process: %s", exc)
                return None
            raise

    def _tokens(self, texts: list[str]) -> list[str]:
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False)
        return [" ".join(t) for t in tokens]  # type: ignore[union-attr]

    def _add(self, writer: Any, chunks: list[tuple[str, str | None, dict[str, Any]]]) -> None:
        bodies = self._tokens([text or "" for _, text, _ in chunks])
        for (chunk_id, _text, meta), body in zip(chunks, bodies, strict=True):
            writer.add_document(
                tantivy.Document(
                    body=body,
                    chunk_id=chunk_id,
                    article_id=str(meta.get("article_id", "")),
                    source=str(meta.get("source", "")),
                    published_ts=int(meta.get("published_ts") or 0),
                )
            )

    def _catch_up(self, meta: dict[str, Any]) -> bool:
        """Re-read the articles named by journal entries not applied yet; False when the folder is busy."""
        entries = self.store.journal_since(meta["synced_at"] - CLOCK_SKEW_SECONDS)
        applied = set(meta["applied"])
        todo = sorted({a for gid, _at, articles in entries if gid not in applied for a in articles})
        if todo:
            started = time.perf_counter()
            writer = self._writer()
            if writer is None:
                self._reload()
                return False
            with _committed(writer):
                for article_id in todo:
                    writer.delete_documents_by_term("article_id", article_id)
                self._add(writer, list(self.store.chunks_of(todo)))
            self._changed()
            log.info("lexical index: %d articles updated in %.3fs", len(todo), time.perf_counter() - started)
        synced = max((at for _gid, at, _a in entries), default=meta["synced_at"])
        self._write_meta(synced, [gid for gid, _at, _a in entries])
        return True

    def _rebuild(self, generation: str) -> None:
        started = time.perf_counter()
        # Entries from now on are applied after the build (again, if the build already saw them: harmless).
        since = time.time()
        entries = self.store.journal_since(since - CLOCK_SKEW_SECONDS)
        try:
            self._build_into(self._writer_or_memory())
        except (OSError, ValueError) as exc:
            if self._in_memory:
                raise
            self._to_memory(exc)
            self._build_into(self._writer_or_memory())
        self._changed()
        self._write_meta(since, [gid for gid, _at, _a in entries])
        self.generation = generation
        log.info("rebuilt the lexical index: %d chunks in %.2fs", len(self), time.perf_counter() - started)

    def _writer_or_memory(self) -> Any:
        writer = self._writer()
        if writer is None:  # another process holds the folder: this instance builds its own copy in memory
            self._to_memory(OSError("the folder's index is being written by another process"))
            writer = self._writer()
        return writer

    def _build_into(self, writer: Any) -> None:
        with _committed(writer):
            writer.delete_all_documents()
            batch: list[tuple[str, str | None, dict[str, Any]]] = []
            for chunk in self.store.iter_chunks():
                batch.append(chunk)
                if len(batch) >= BUILD_BATCH:
                    self._add(writer, batch)
                    batch = []
            self._add(writer, batch)

    def _read_meta(self) -> dict[str, Any] | None:
        if self._in_memory:
            return self._memory_meta
        try:
            meta = json.loads((self.path / META_FILE).read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT:
                return None
            return {"synced_at": float(meta["synced_at"]), "applied": list(meta["applied"])}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_meta(self, synced_at: float, applied: list[str]) -> None:
        meta = {"format": FORMAT, "synced_at": synced_at, "applied": applied}
        self._memory_meta = meta
        if self._in_memory:
            return
        staging = self.path / (META_FILE + ".tmp")
        try:
            staging.write_text(json.dumps(meta), encoding="utf-8")
            staging.replace(self.path / META_FILE)
        except OSError as exc:
            problem = disk_problem(self.path, exc) or "cannot be written"
            log.warning("the lexical index is kept in memory only: %s %s (%s)", self.path, problem, exc)

    # ----- querying
    def _filter_queries(self, filters: Filters | None) -> list[Any]:
        if filters is None or filters.empty:
            return []
        parts = []
        if filters.sources:
            parts.append(tantivy.Query.term_set_query(self.schema, "source", list(filters.sources)))
        if filters.article_ids:
            parts.append(tantivy.Query.term_set_query(self.schema, "article_id", list(filters.article_ids)))
        since, until = filters._range()
        if since is not None or until is not None:
            low = max(since or 1, 1)  # undated articles (0) are left out of a date range
            parts.append(tantivy.Query.range_query(self.schema, "published_ts", tantivy.FieldType.Integer, low, until))
        # Filters restrict; they must not add to the BM25 score.
        return [tantivy.Query.const_score_query(p, 0.0) for p in parts]

    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best matches with a positive score."""
        self.ensure_fresh()
        searcher = self._searcher  # one consistent view, whatever a concurrent update swaps in meanwhile
        if searcher is None or not searcher.num_docs:
            return []
        words = dict.fromkeys(self._tokens([query])[0].split())
        if not words or top_k <= 0:
            return []
        should = [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "body", w)) for w in words]
        text = tantivy.Query.boolean_query(should)
        musts = self._filter_queries(filters)
        if musts:
            text = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in [text, *musts]])
        hits = searcher.search(text, limit=top_k, count=False).hits
        return [(searcher.doc(address)["chunk_id"][0], float(score)) for score, address in hits if score > 0]

    def document_frequency(self, text: str) -> tuple[int, int]:
        """(chunks holding every word of ``text``, all chunks): how common a name or phrase is in the index.

        Read from tantivy's posting lists (an intersection, not a scan), and remembered until the index changes.
        """
        self.ensure_fresh()
        searcher = self._searcher
        if searcher is None or not searcher.num_docs:
            return 0, 0
        total = int(searcher.num_docs)
        frequencies = self._frequencies
        if (held := frequencies.get(text)) is not None:
            return held, total
        words = list(dict.fromkeys(self._tokens([text])[0].split()))
        if not words:
            held = 0
        else:
            musts = [(tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "body", w)) for w in words]
            held = int(searcher.search(tantivy.Query.boolean_query(musts), limit=1, count=True).count)
        if len(frequencies) > FREQUENCY_CACHE_SIZE:
            frequencies.clear()
        frequencies[text] = held
        return held, total

    def retrieve(self, query: str, top_k: int, filters: Filters | None = None) -> list[NodeWithScore]:
        """The best matches as LlamaIndex nodes, their text read from Chroma."""
        hits = self.search(query, top_k, filters)
        if not hits:
            return []
        got = self.store.collection.get(ids=[h[0] for h in hits], include=["documents", "metadatas"])
        by_id = {
            chunk_id: metadata_dict_to_node(meta, text=text)
            for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [
            NodeWithScore(node=by_id[chunk_id], score=score)
            for chunk_id, score in hits
            if isinstance(by_id.get(chunk_id), TextNode)
        ]


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
