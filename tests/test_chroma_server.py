"""newsrag against a real Chroma server (`chroma run`) on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.index.lexical import STALENESS_CHECK_SECONDS
from rag.index.store import StoreError
from tests.support.chroma_server import CHROMA, ChromaServer

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} is missing")
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data")
    yield server
    server.stop()


def test_two_instances_share_one_server(server: ChromaServer, tmp_path: Path, sample_path: Path) -> None:
    first = server.newsrag(tmp_path / "first")
    report = first.ingest(sample_path)
    assert report.ok and report.count("added") == 1
    assert not (tmp_path / "first" / "chroma").exists()  # the chunks live on the server, not under index_dir
    [article] = first.articles()
    assert article.title.startswith("Trump says progress made")
    assert first.status()["chunks"] == article.n_chunks == report.chunks_written

    hits = first.lexical.search("Putin conditions", 3)
    assert hits and all(chunk_id.startswith(article.article_id) for chunk_id, _ in hits)
    [best] = first.lexical.retrieve("Putin conditions", 1)
    assert "Putin" in best.node.get_content() and best.node.metadata["title"] == article.title

    # Another app instance, with its own index_dir: same articles, lexical index rebuilt from Chroma.
    second = server.newsrag(tmp_path / "second")
    assert second.articles() == first.articles()
    assert not (tmp_path / "second" / "lexical").exists()
    assert second.lexical.search("Putin conditions", 3) == hits
    assert (tmp_path / "second" / "lexical").is_dir()
    assert second.lexical.generation == first.lexical.generation == first.store.generation
    assert set(second.lexical.chunk_ids) == {i for i, _, _ in first.store.iter_chunks(include_text=False)}

    # Re-ingest from the second instance: unchanged, nothing written.
    again = second.ingest(sample_path)
    assert [o.status for o in again.outcomes] == ["unchanged"] and again.chunks_written == 0

    # Forget on the first; the second notices the new generation by itself.
    assert first.forget(article.article_id) == article
    assert first.articles() == [] and first.lexical.search("Putin conditions", 3) == []
    assert second.articles() == []
    time.sleep(STALENESS_CHECK_SECONDS + 0.2)
    assert second.lexical.search("Putin conditions", 3) == []
    assert len(second.lexical) == 0


def test_stopped_server_is_a_clear_error(tmp_path: Path, sample_path: Path) -> None:
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} is missing")
    server = ChromaServer(tmp_path / "data")
    try:
        newsrag = server.newsrag(tmp_path / "index")
        assert newsrag.ingest(sample_path).ok
    finally:
        server.stop()

    started = time.monotonic()
    with pytest.raises(StoreError, match=rf"cannot reach the Chroma server at 127\.0\.0\.1:{server.port}"):
        server.newsrag(tmp_path / "other").articles()
    # An instance that was already connected fails fast too (with the transport's error), and never hangs.
    with pytest.raises((StoreError, httpx.TransportError)):
        newsrag.ingest(sample_path)
    with pytest.raises((StoreError, httpx.TransportError)):
        newsrag.articles()
    assert time.monotonic() - started < 15
