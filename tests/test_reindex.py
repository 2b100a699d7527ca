"""Re-embedding an index built by another embedder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rag import NewsRAG, StoreError
from tests.conftest import SAMPLE


def test_reindex_replaces_vectors_and_keeps_every_chunk(tmp_path: Path) -> None:
    index = tmp_path / "index"
    rag = NewsRAG(index_dir=index)
    rag.ingest(SAMPLE)
    chunks = rag.store.count()
    # Pretend another embedder built this index: the store must refuse it as it is.
    rag.store.collection.modify(metadata=rag.store.state() | {"embedder": "openai:text-embedding-3-small"})
    with pytest.raises(StoreError, match="reindex"):
        _ = NewsRAG(index_dir=index).store
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "reindex", "--index-dir", str(index)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    fresh = NewsRAG(index_dir=index)
    assert fresh.store.count() == chunks
    assert len(fresh.articles()) == 1
    assert "Nato" in fresh.ask("What are Putin's peace conditions?").text
