"""Re-embedding an index built by another embedder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rag import NewsRAG, StoreError
from tests.conftest import SAMPLE


@pytest.mark.slow
def test_reindex_replaces_vectors_and_keeps_every_chunk(tmp_path: Path) -> None:
    index = tmp_path / "index"
    newsrag = NewsRAG(index_dir=index)
    newsrag.ingest(SAMPLE)
    chunks = newsrag.store.count()
    # Pretend another embedder built this index: the store must refuse it as it is.
    newsrag.store.collection.modify(metadata=newsrag.store.state() | {"embedder": "openai:text-embedding-3-small"})
    with pytest.raises(StoreError, match="reindex"):
        _ = NewsRAG(index_dir=index).store
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli.main", "reindex", "--index-dir", str(index)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    fresh = NewsRAG(index_dir=index)
    assert fresh.store.count() == chunks
    assert len(fresh.articles()) == 1
    assert "Nato" in fresh.ask("What are Putin's peace conditions?").text
