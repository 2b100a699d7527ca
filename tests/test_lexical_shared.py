"""Two app instances over one real `chroma run`: each one's lexical index follows the other's writes, article by
article (from the store's journal), without rebuilding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag.index.catalog import Selection
from rag.service.newsrag import NewsRAG
from tests.conftest import SAMPLE
from tests.support.chroma_server import CHROMA, ChromaServer

HARBOUR = (
    "Harbour budget approved\n\nThe city council approved the harbour budget of 40 million on Monday. "
    "The money pays for new cranes, a longer pier and dredging of the eastern basin over three years."
)
HARBOUR_CHANGED = HARBOUR.replace("cranes", "lighthouses").replace("dredging", "seawalls")


def no_rebuild(newsrag: NewsRAG, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any) -> None:
        raise AssertionError("the lexical index was rebuilt instead of updated")

    monkeypatch.setattr(newsrag.lexical, "_rebuild", refuse)


def chroma_ids(newsrag: NewsRAG) -> set[str]:
    return set(newsrag.store.collection.get(include=[])["ids"])


def found(newsrag: NewsRAG, query: str) -> set[str]:
    newsrag.lexical.ensure_fresh(force=True)
    return {chunk_id for chunk_id, _ in newsrag.lexical.search(query, 5)}


@pytest.mark.server
def test_two_instances_see_each_others_writes_incrementally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} is missing")
    chroma = ChromaServer(tmp_path / "chroma")
    try:
        writer, reader = chroma.newsrag(tmp_path / "a"), chroma.newsrag(tmp_path / "b")
        assert writer.ingest(SAMPLE).ok
        assert found(reader, "Witkoff Putin Moscow")  # the reader's first look builds its index once
        no_rebuild(reader, monkeypatch)

        harbour = tmp_path / "harbour.txt"
        harbour.write_text(HARBOUR, encoding="utf-8")
        assert [o.status for o in writer.ingest(harbour).outcomes] == ["added"]
        assert found(reader, "harbour cranes dredging")
        assert set(reader.lexical.chunk_ids) == chroma_ids(reader)

        # A changed article: the reader finds the new words and no longer the old ones.
        harbour.write_text(HARBOUR_CHANGED, encoding="utf-8")
        assert [o.status for o in writer.ingest(harbour).outcomes] == ["updated"]
        assert found(reader, "lighthouses seawalls")
        assert not found(reader, "cranes dredging")
        assert set(reader.lexical.chunk_ids) == chroma_ids(reader)

        # Writes go both ways: the reader forgets an article, the writer's index follows.
        putin = next(a for a in reader.articles() if "Putin" in a.title)
        assert reader.forget(putin.article_id) is not None
        no_rebuild(writer, monkeypatch)
        assert not found(writer, "Witkoff Putin Moscow")
        assert set(writer.lexical.chunk_ids) == chroma_ids(writer)

        # An instance started again over its folder resumes from where it was, with what it missed meanwhile.
        assert writer.ingest(SAMPLE).ok
        again = chroma.newsrag(tmp_path / "b")
        no_rebuild(again, monkeypatch)
        assert found(again, "Witkoff Putin Moscow") and found(again, "lighthouses")
        assert set(again.lexical.chunk_ids) == chroma_ids(again)

        # A bulk delete (the Articles tab's, by text or source) is journalled like any other write.
        gone = again.forget_selected(Selection(text="harbour"))
        assert [r.title for r in gone] == ["Harbour budget approved"]
        assert not found(writer, "lighthouses seawalls")
        assert set(writer.lexical.chunk_ids) == chroma_ids(writer)
    finally:
        chroma.stop()
