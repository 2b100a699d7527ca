"""The lexical (BM25) side of hybrid retrieval, kept beside Chroma and rebuilt from it.

Chroma is the source of truth. This index stores only what BM25 needs (the term matrix, the chunk
ids and the per-chunk filter fields) under ``index_dir/lexical`` together with the Chroma
``generation`` it was built from; when Chroma's generation differs (another ingest, here or in
another app instance) or the files are missing or broken, it is rebuilt. Passages are read back
from Chroma by id, so the two sides can never disagree on a passage's text. The files are only a
cache: when they cannot be written (a read-only folder, a full disk) the index lives in memory.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer
from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from rag.core.disk import disk_problem
from rag.index.filters import Filters
from rag.index.store import ChunkStore

log = logging.getLogger(__name__)
META_FILE = "newsrag-lexical.json"
FIELDS_FILE = "fields.npz"
FORMAT = 1
# How often a reader asks Chroma whether the content changed under it.
STALENESS_CHECK_SECONDS = 2.0
FREQUENCY_CACHE_SIZE = 50_000


@dataclass(frozen=True)
class _Snapshot:
    """Everything a search reads, replaced in one assignment so a search never mixes two builds."""

    bm25: bm25s.BM25 | None = None
    ids: list[str] = field(default_factory=list)
    sources: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    article_ids: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    published_ts: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    # Document frequencies asked for before (short answers ask for the same names again and again).
    frequencies: dict[str, int] = field(default_factory=dict)


class LexicalIndex:
    """BM25 over every chunk in the store, loaded from disk or rebuilt when stale."""

    def __init__(self, store: ChunkStore, path: Path) -> None:
        self.store = store
        self.path = path
        self.stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()
        self._snap = _Snapshot()
        self.generation: str | None = None
        self._checked_at = 0.0

    def __len__(self) -> int:
        return len(self._snap.ids)

    @property
    def chunk_ids(self) -> list[str]:
        """The ids of the chunks this index holds (to check it against Chroma)."""
        return list(self._snap.ids)

    # ----- freshness
    def ensure_fresh(self, force: bool = False) -> None:
        """Load or rebuild so that this index matches what Chroma holds now."""
        now = time.monotonic()
        if not force and self.generation is not None and now - self._checked_at < STALENESS_CHECK_SECONDS:
            return
        if force or self.generation is None:
            with self._lock:
                self._refresh(now, force)
            return
        # A reader that has a snapshot never queues behind a rebuild (about a minute at 100k chunks):
        # it searches the snapshot it has, whose vanished chunks are dropped when read back from Chroma.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._refresh(now, force=False)
        finally:
            self._lock.release()

    def _refresh(self, now: float, force: bool) -> None:
        state = self.store.state()
        current = str(state.get("generation", ""))
        self._checked_at = now
        if not force and self._matches(current, state):
            return
        if not force and self._load(current) and self._matches(current, state):
            return
        self._build(current)

    def _matches(self, generation: str, state: dict[str, Any]) -> bool:
        """Same generation and, unless a writer is at work, as many chunks as Chroma holds.

        (A write that failed on a full disk can still land later, when Chroma replays its log, without
        a new generation: the count tells.)
        """
        if self.generation != generation:
            return False
        return bool(state.get("dirty")) or len(self._snap.ids) == self.store.count()

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        return bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False)  # type: ignore[return-value]

    def _build(self, generation: str) -> None:
        started = time.perf_counter()
        ids, texts, sources, article_ids, stamps = [], [], [], [], []
        for chunk_id, text, meta in self.store.iter_chunks():
            ids.append(chunk_id)
            texts.append(text or "")
            sources.append(meta.get("source", ""))
            article_ids.append(meta.get("article_id", ""))
            stamps.append(int(meta.get("published_ts") or 0))
        bm25 = bm25s.BM25()
        if texts:
            bm25.index(self._tokenize(texts), show_progress=False)
        self._snap = _Snapshot(
            bm25=bm25 if texts else None,
            ids=ids,
            sources=np.array(sources, dtype=object),
            article_ids=np.array(article_ids, dtype=object),
            published_ts=np.array(stamps, dtype=np.int64),
        )
        self.generation = generation
        try:
            self._save(generation)
        except OSError as exc:
            problem = disk_problem(self.path, exc) or "cannot be written"
            log.warning("the lexical index is kept in memory only: %s %s (%s)", self.path, problem, exc)
            shutil.rmtree(self.path.with_name(self.path.name + ".tmp"), ignore_errors=True)
        log.info("rebuilt the lexical index: %d chunks in %.2fs", len(ids), time.perf_counter() - started)

    def _save(self, generation: str) -> None:
        """Write to a fresh folder and swap it in, so a crash never leaves a half-written index."""
        staging = self.path.with_name(self.path.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        snap = self._snap
        if snap.bm25 is not None:
            snap.bm25.save(str(staging), show_progress=False)
        np.savez(
            staging / FIELDS_FILE,
            sources=snap.sources.astype(str),
            article_ids=snap.article_ids.astype(str),
            published_ts=snap.published_ts,
        )
        meta = {"format": FORMAT, "generation": generation, "ids": snap.ids}
        (staging / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        old = self.path.with_name(self.path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            self.path.rename(old)
        staging.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)

    def _load(self, generation: str) -> bool:
        try:
            meta = json.loads((self.path / META_FILE).read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or meta.get("generation") != generation:
                return False
            fields = np.load(self.path / FIELDS_FILE)
            ids = list(meta["ids"])
            bm25 = bm25s.BM25.load(str(self.path)) if ids else None
        except (OSError, ValueError, KeyError) as exc:
            log.warning("lexical index unreadable (%s); rebuilding it", exc)
            return False
        if len(fields["sources"]) != len(ids):
            return False
        self._snap = _Snapshot(
            bm25=bm25,
            ids=ids,
            sources=fields["sources"].astype(object),
            article_ids=fields["article_ids"].astype(object),
            published_ts=fields["published_ts"],
        )
        self.generation = generation
        return True

    # ----- querying
    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best matches with a positive score."""
        self.ensure_fresh()
        snap = self._snap  # one consistent view, whatever a concurrent rebuild swaps in meanwhile
        bm25 = snap.bm25
        if bm25 is None or not snap.ids:
            return []
        tokens = self._tokenize([query])
        known = [[t for t in tokens[0] if t in bm25.vocab_dict]]
        if not known[0]:
            return []
        mask = filters.mask(snap.sources, snap.published_ts, snap.article_ids) if filters else None
        if mask is not None and not mask.any():
            return []
        k = min(top_k, len(snap.ids))
        weight = mask.astype(np.float32) if mask is not None else None
        indexes, scores = bm25.retrieve(known, k=k, show_progress=False, weight_mask=weight, n_threads=1)
        return [(snap.ids[int(i)], float(s)) for i, s in zip(indexes[0], scores[0], strict=True) if s > 0]

    def document_frequency(self, text: str) -> tuple[int, int]:
        """(chunks holding every word of ``text``, all chunks): how common a name or phrase is in the index.

        Read from BM25's posting lists (one per word), so it costs an intersection, not a scan.
        """
        self.ensure_fresh()
        snap = self._snap
        bm25 = snap.bm25
        if bm25 is None or not snap.ids:
            return 0, 0
        if (held := snap.frequencies.get(text)) is not None:
            return held, len(snap.ids)
        tokens = self._tokenize([text])[0]
        indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
        docs: np.ndarray | None = None
        for token in dict.fromkeys(tokens):
            column = bm25.vocab_dict.get(token)
            if column is None:
                docs = np.array([], dtype=indices.dtype)
                break
            column_docs = indices[indptr[column] : indptr[column + 1]]
            docs = column_docs if docs is None else np.intersect1d(docs, column_docs, assume_unique=True)
        if len(snap.frequencies) > FREQUENCY_CACHE_SIZE:
            snap.frequencies.clear()
        snap.frequencies[text] = held = 0 if docs is None else len(docs)
        return held, len(snap.ids)

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
