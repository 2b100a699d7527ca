"""The lexical index's files: a tantivy index under ``index_dir/lexical`` and a note of how far it has caught up.

The note (``newsrag-lexical.json``) records when the index last caught up with the store's journal and which
entries it applied since then. When the folder cannot be written (read-only, full) the index and its note
live in memory. One process at a time holds a folder's writer; the others read its commits.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import tantivy

from rag.core.disk import disk_problem

log = logging.getLogger(__name__)
META_FILE = "newsrag-lexical.json"
# The words' format: an index of another is rebuilt from Chroma's chunks (no embedding). 3: runs of CJK letters as
# bigrams (#34).
FORMAT = 3
WRITER_HEAP = 50_000_000


class LexicalFolder:
    """A tantivy index in a folder (or in memory while the folder cannot be written) and its catch-up note."""

    def __init__(self, path: Path, schema: tantivy.Schema) -> None:
        self.path = path
        self.schema = schema
        self.in_memory = False
        self._index: tantivy.Index | None = None
        self._memory_meta: dict[str, Any] | None = None  # the catch-up note of an in-memory index

    @property
    def opened(self) -> bool:
        return self._index is not None

    def open(self) -> None:
        """Open the folder's index, creating it if need be; one of another format is started again."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self.schema, path=str(self.path))
            # Reloaded by hand only (searcher()): tantivy's default reader reads meta.json twice a second, for ever.
            self._index.config_reader("Manual")
        except (OSError, ValueError) as exc:
            if isinstance(exc, ValueError) and "schema" in str(exc).lower():
                shutil.rmtree(self.path, ignore_errors=True)  # an index of another format: start again
                self.open()
                return
            self.to_memory(exc)

    def to_memory(self, exc: BaseException) -> None:
        """Keep the index in memory from now on (empty: the caller fills it)."""
        problem = disk_problem(self.path, exc)
        problem = problem or "cannot be written"
        log.warning("the lexical index is kept in memory only: %s %s (%s)", self.path, problem, exc)
        self._index, self.in_memory = tantivy.Index(self.schema), True

    def searcher(self) -> Any:
        """A searcher over what is committed now (by this process or another)."""
        assert self._index is not None
        self._index.reload()
        return self._index.searcher()

    def writer(self) -> Any:
        """This folder's writer, or None while another process holds it."""
        assert self._index is not None
        try:
            return self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
        except ValueError as exc:
            if "lock" in str(exc).lower():
                log.debug("the lexical index is being written by another process: %s", exc)
                return None
            raise

    def writer_or_memory(self) -> Any:
        """A writer, if need be of a copy in memory: when another process holds the folder, this instance builds
        its own."""
        writer = self.writer()
        if writer is None:
            self.to_memory(OSError("the folder's index is being written by another process"))
            writer = self.writer()
        return writer

    def read_meta(self) -> dict[str, Any] | None:
        """The catch-up note: ``synced_at`` (writer's clock) and the journal entries ``applied`` since; None when
        missing or of another format."""
        if self.in_memory:
            return self._memory_meta
        try:
            meta = json.loads((self.path / META_FILE).read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT:
                return None
            return {"synced_at": float(meta["synced_at"]), "applied": list(meta["applied"])}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write_meta(self, synced_at: float, applied: list[str]) -> None:
        meta = {"format": FORMAT, "synced_at": synced_at, "applied": applied}
        self._memory_meta = meta
        if self.in_memory:
            return
        staging = self.path / (META_FILE + ".tmp")
        try:
            staging.write_text(json.dumps(meta), encoding="utf-8")
            staging.replace(self.path / META_FILE)
        except OSError as exc:
            problem = disk_problem(self.path, exc) or "cannot be written"
            log.warning("the lexical index is kept in memory only: %s %s (%s)", self.path, problem, exc)
