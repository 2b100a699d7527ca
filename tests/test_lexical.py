"""The BM25 side: a search that overlaps an update reads one consistent view, and does not wait for it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from rag import NewsRAG
from tests.conftest import SAMPLE


def test_a_search_overlapping_an_update_reads_one_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.txt"
    other.write_text(
        "Harbour budget approved\n\nThe city council approved the harbour budget of 40 million on Monday. "
        "The money pays for new cranes, a longer pier and dredging of the eastern basin over three years.",
        encoding="utf-8",
    )
    newsrag = NewsRAG(index_dir=tmp_path / "index")
    assert newsrag.ingest(SAMPLE, other).ok
    lexical = newsrag.lexical
    lexical.ensure_fresh(force=True)
    before = set(lexical.chunk_ids)
    searcher = lexical._searcher
    assert searcher is not None
    original = searcher.search

    def search_during_an_update(*args: Any, **kwargs: Any) -> Any:
        # Another request forgets the sample and the index is updated, shorter, mid-search.
        newsrag.forget(next(a for a in newsrag.articles() if "Putin" in a.title).article_id)
        return original(*args, **kwargs)

    monkeypatch.setattr(lexical, "_searcher", _Spy(searcher, search_during_an_update))
    hits = lexical.search("Putin Witkoff meeting Moscow", top_k=5)
    assert hits and all(chunk_id in before for chunk_id, _ in hits)
    assert len(lexical.chunk_ids) < len(before)


class _Spy:
    """A searcher whose search() is replaced; everything else is the real one's."""

    def __init__(self, real: Any, search: Any) -> None:
        self._real, self.search = real, search

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_a_reader_does_not_wait_for_another_threads_rebuild(tmp_path: Path) -> None:
    newsrag = NewsRAG(index_dir=tmp_path / "index")
    assert newsrag.ingest(SAMPLE).ok
    lexical = newsrag.lexical
    lexical.ensure_fresh(force=True)
    hits: list[list[tuple[str, float]]] = []
    # Another thread is rebuilding (it holds the lock) and this reader's staleness check is due.
    with lexical._lock:
        lexical._checked_at = 0.0
        reader = threading.Thread(target=lambda: hits.append(lexical.search("Putin Witkoff meeting Moscow", 5)))
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "the search waited for the rebuild"
    assert hits and hits[0]
