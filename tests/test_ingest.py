"""The ingest path through the Python API and the CLI, on real files, real MiniLM and an embedded Chroma."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.embedding import EmbeddingEndEvent
from llama_index.core.schema import MetadataMode

from ingest.chunk import chunk_article
from ingest.records import BadInput, from_record
from rag.index.embedder import MAX_TOKENS, QUERY_CACHE_SIZE, wordpiece_tokenizer
from rag.index.store import StoreError
from rag.service.newsrag import NewsRAG

NEWSRAG = Path(sys.executable).with_name("newsrag")
SECOND = """Port strike ends after two weeks
Dock workers ended a two-week strike on Friday after the union accepted a new pay offer from the port operators.
Hundreds of containers had piled up at the harbour, delaying deliveries of food and car parts across the region.
Shipping companies said it would take at least ten days to clear the backlog of vessels waiting offshore.
"""
FRONT_MATTER = """---
title: Rail line opens to crowds
url: https://www.rail.example.com/news/line-opens?utm_source=feed
source: Rail Gazette
date: 2025-08-04T07:15:00-04:00
authors: Mia Chen and Sam Okafor
---
A new high-speed rail line opened on Monday, cutting the journey between the two largest cities to an hour.
Passengers crowded the platforms for the first departures, and tickets for the opening week sold out.
"""


class EmbeddedTexts(BaseEventHandler):
    """Every text LlamaIndex hands to an embedder, seen through its instrumentation events."""

    texts: list[str] = []

    @classmethod
    def class_name(cls) -> str:
        return "EmbeddedTexts"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, EmbeddingEndEvent):
            self.texts.extend(event.chunks)


@pytest.fixture
def embedded() -> Iterator[list[str]]:
    handler = EmbeddedTexts(texts=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    yield handler.texts
    dispatcher.event_handlers.remove(handler)


@pytest.fixture
def articles_dir(tmp_path: Path, sample_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(sample_path, folder / sample_path.name)
    (folder / "port.txt").write_text(SECOND, encoding="utf-8")
    return folder


def statuses(report: Any) -> dict[str, str]:
    return {Path(o.origin).name: o.status for o in report.outcomes}


def chroma_ids(newsrag: NewsRAG) -> set[str]:
    return {chunk_id for chunk_id, _, _ in newsrag.store.iter_chunks(include_text=False)}


def test_ingest_reingest_edit_duplicate_prune(newsrag: NewsRAG, articles_dir: Path, embedded: list[str]) -> None:
    sample = next(articles_dir.glob("witkoff*"))
    first = newsrag.ingest(articles_dir)
    assert first.ok and statuses(first) == {sample.name: "added", "port.txt": "added"}
    assert first.chunks_written == newsrag.store.count() == len(embedded) > 2
    ids_before = chroma_ids(newsrag)

    # Unchanged: nothing embedded, nothing written.
    embedded.clear()
    again = newsrag.ingest(articles_dir)
    assert statuses(again) == {sample.name: "unchanged", "port.txt": "unchanged"}
    assert again.chunks_written == 0 and embedded == []
    assert chroma_ids(newsrag) == ids_before

    # Edited: a new version replaces the old one; still one article for the file.
    port = articles_dir / "port.txt"
    [old_port] = [a for a in newsrag.articles() if a.origin == str(port.resolve())]
    port.write_text(SECOND.replace("ten days", "three weeks"), encoding="utf-8")
    embedded.clear()
    edited = newsrag.ingest(port)
    assert statuses(edited) == {"port.txt": "updated"}
    assert 0 < edited.chunks_written == len(embedded)
    [new_port] = [a for a in newsrag.articles() if a.origin == str(port.resolve())]
    assert new_port.article_id != old_port.article_id and len(newsrag.articles()) == 2
    chunks = {i: t for i, t, m in newsrag.store.iter_chunks() if m["origin"] == str(port.resolve())}
    assert len(chunks) == new_port.n_chunks
    assert all(i.startswith(new_port.article_id) for i in chunks)
    assert any("three weeks" in t for t in chunks.values()) and not any("ten days" in t for t in chunks.values())
    assert set(newsrag.lexical.chunk_ids) == chroma_ids(newsrag)
    assert not any(i.startswith(old_port.article_id) for i in newsrag.lexical.chunk_ids)

    # The same text under another name is a duplicate, not a second article.
    copy = articles_dir / "copy-of-sample.txt"
    shutil.copy(sample, copy)
    embedded.clear()
    dup = newsrag.ingest(copy)
    [outcome] = dup.outcomes
    assert outcome.status == "duplicate" and str(sample.resolve()) in outcome.reason
    assert dup.chunks_written == 0 and embedded == [] and len(newsrag.articles()) == 2

    # --prune forgets articles whose file is gone.
    port.unlink()
    pruned = newsrag.ingest(articles_dir, prune=True)
    assert pruned.count("removed") == 1
    removed = next(o for o in pruned.outcomes if o.status == "removed")
    assert removed.origin == str(port.resolve()) and removed.reason == "source file is gone"
    assert [a.origin for a in newsrag.articles()] == [str(sample.resolve())]
    assert all(m["origin"] == str(sample.resolve()) for _, _, m in newsrag.store.iter_chunks(include_text=False))
    assert set(newsrag.lexical.chunk_ids) == chroma_ids(newsrag)
    assert all(
        i.startswith(newsrag.articles()[0].article_id) for i, _ in newsrag.lexical.search("dock workers harbour", 5)
    )


def test_same_text_twice_in_one_batch(newsrag: NewsRAG, articles_dir: Path) -> None:
    sample = next(articles_dir.glob("witkoff*"))
    shutil.copy(sample, articles_dir / "zz-copy.txt")
    report = newsrag.ingest(articles_dir)
    assert statuses(report)["zz-copy.txt"] == "duplicate"
    assert len(newsrag.articles()) == 2


def test_articles_fields_and_chunk_metadata(newsrag: NewsRAG, tmp_path: Path, embedded: list[str]) -> None:
    path = tmp_path / "rail.md"
    path.write_text(FRONT_MATTER, encoding="utf-8")
    assert newsrag.ingest(path).ok
    [record] = newsrag.articles()
    assert record.title == "Rail line opens to crowds"
    assert record.source == "Rail Gazette"
    assert record.url == "https://www.rail.example.com/news/line-opens?utm_source=feed"
    assert record.published_at == "2025-08-04T11:15:00+00:00"
    assert datetime.fromisoformat(record.published_at).utcoffset() is not None
    assert record.authors == "Mia Chen, Sam Okafor"
    assert record.origin == str(path.resolve())

    nodes = list(newsrag.store.nodes())
    assert len(nodes) == record.n_chunks >= 1
    for position, node in enumerate(sorted(nodes, key=lambda n: n.metadata["chunk_index"])):
        meta = node.metadata
        assert meta["article_id"] == record.article_id
        assert (meta["title"], meta["source"], meta["url"]) == (record.title, record.source, record.url)
        assert meta["published_at"] == record.published_at
        assert meta["published_ts"] == int(datetime.fromisoformat(record.published_at).timestamp())
        assert (meta["chunk_index"], meta["n_chunks"]) == (position, record.n_chunks)
        # Only the passage is embedded or shown to an LLM, never the metadata.
        assert node.get_content(metadata_mode=MetadataMode.EMBED) == node.text
        assert node.get_content(metadata_mode=MetadataMode.LLM) == node.text
    assert sorted(embedded) == sorted(n.text for n in nodes)
    assert not any("Rail Gazette" in t or "rail.example.com" in t for t in embedded)


def test_forget_by_id_and_by_url(newsrag: NewsRAG, articles_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "rail.md").write_text(FRONT_MATTER, encoding="utf-8")
    newsrag.ingest(articles_dir, tmp_path / "rail.md")
    by_title = {a.title: a for a in newsrag.articles()}
    assert len(by_title) == 3

    port = by_title["Port strike ends after two weeks"]
    assert newsrag.forget(port.article_id) == port
    # Another spelling of the same URL finds the article.
    rail = by_title["Rail line opens to crowds"]
    assert newsrag.forget("http://rail.example.com/news/line-opens/") == rail
    assert newsrag.forget("https://nowhere.example.com/x") is None

    left = newsrag.articles()
    assert [a.title for a in left] == ["Trump says progress made in US envoy Witkoff’s meeting with Russia’s Putin"]
    assert {m["article_id"] for _, _, m in newsrag.store.iter_chunks(include_text=False)} == {left[0].article_id}
    assert set(newsrag.lexical.chunk_ids) == chroma_ids(newsrag)
    for query in ("dock workers harbour containers", "passengers platforms timetable rail"):
        assert all(i.startswith(left[0].article_id) for i, _ in newsrag.lexical.search(query, 5))


def test_chunks_fit_the_embedder(newsrag: NewsRAG, sample_path: Path) -> None:
    newsrag.ingest(sample_path)
    tokenizer = wordpiece_tokenizer()
    texts = [text or "" for _, text, _ in newsrag.store.iter_chunks()]
    assert len(texts) > 1
    # With [CLS] and [SEP] counted, as the embedder counts them: nothing is truncated away.
    assert max(len(tokenizer.encode(t).ids) for t in texts) <= MAX_TOKENS


def test_question_vectors_are_reused_and_bounded(newsrag: NewsRAG, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = newsrag.components.embedder
    calls: list[str] = []
    real = type(embedder)._get_text_embedding
    monkeypatch.setattr(type(embedder), "_get_text_embedding", lambda self, t: calls.append(t) or real(self, t))
    first = embedder.get_query_embedding("What are Putin's peace conditions?")
    again = embedder.get_query_embedding("What are Putin's peace conditions?")
    assert again == first and len(calls) == 1
    # The same vector a document of that text gets: retrieval and answering agree on it.
    assert np.allclose(first, embedder.get_text_embedding("What are Putin's peace conditions?"), atol=1e-6)
    for i in range(QUERY_CACHE_SIZE + 5):
        embedder.get_query_embedding(f"question {i}")
    assert len(embedder._queries) == QUERY_CACHE_SIZE
    assert "What are Putin's peace conditions?" not in embedder._queries


@pytest.mark.slow
def test_real_articles_chunks_fit_the_embedder(shared_dir: Path) -> None:
    tokenizer = wordpiece_tokenizer()
    path = shared_dir / "data" / "realtimeqa" / "dev" / "20250704_gcs.jsonl"
    sizes = []
    for line in path.read_text(encoding="utf-8").splitlines()[:20]:
        for raw in json.loads(line)["search_result"]:
            try:
                article = from_record(raw, str(path))
            except BadInput:
                continue
            nodes = chunk_article(article, 256, 32)
            sizes.extend(len(tokenizer.encode(n.text).ids) for n in nodes)
            # Chunks cover the article in order (overlap allowed): its last words are in its last chunk.
            assert article.text.split()[-1] in nodes[-1].text
    assert len(sizes) > 500
    assert max(sizes) <= MAX_TOKENS
    assert sorted(sizes)[len(sizes) // 2] > MAX_TOKENS // 2  # chunks are filled, not tiny


def test_switching_embedder_is_refused(tmp_path: Path, sample_path: Path) -> None:
    NewsRAG(index_dir=tmp_path / "index").ingest(sample_path)
    other = NewsRAG(index_dir=tmp_path / "index", embedder="openai")
    with pytest.raises(StoreError, match="reindex") as info:
        other.ingest(sample_path)
    assert "minilm" in str(info.value) and "openai:" in str(info.value)
    # The index is untouched and still opens with the embedder that built it.
    assert len(NewsRAG(index_dir=tmp_path / "index").articles()) == 1


def test_broken_file_does_not_stop_the_batch(newsrag: NewsRAG, articles_dir: Path) -> None:
    (articles_dir / "broken.json").write_text('{"title": "cut off", "text": ', encoding="utf-8")
    (articles_dir / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (articles_dir / "lines.jsonl").write_text(
        json.dumps({"title": "Bridge closed", "text": SECOND.replace("strike", "closure")}) + "\n{oops\n",
        encoding="utf-8",
    )
    report = newsrag.ingest(articles_dir)
    assert not report.ok
    failed = {Path(o.origin).name: o.reason for o in report.failed}
    assert failed == {
        "broken.json": "invalid JSON: Expecting value at line 1",
        "binary.txt": "binary file, not text",
        "lines.jsonl#line2": "invalid JSON: Expecting property name enclosed in double quotes",
    }
    assert report.count("added") == 3
    assert len(newsrag.articles()) == 3
    assert "3 added" in report.summary() and "3 failed" in report.summary()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NEWSRAG), *args], capture_output=True, text=True, timeout=120, env=os.environ.copy())


@pytest.mark.slow
def test_cli_exit_codes_and_json(tmp_path: Path, articles_dir: Path) -> None:
    index = str(tmp_path / "cli-index")
    good = run_cli("ingest", str(articles_dir), "--index-dir", index)
    assert good.returncode == 0, good.stderr
    assert "2 added" in good.stderr and "0 failed" in good.stderr

    (articles_dir / "empty.md").write_text("", encoding="utf-8")
    missing = tmp_path / "no-such-file.txt"
    bad = run_cli("ingest", str(articles_dir), str(missing), "--index-dir", index, "--json")
    assert bad.returncode == 1, bad.stderr
    assert "Traceback" not in bad.stderr
    report = json.loads(bad.stdout)
    by_name = {Path(o["origin"]).name: o for o in report["outcomes"]}
    assert by_name.pop("empty.md") | {"origin": ""} == {
        "origin": "",
        "status": "failed",
        "article_id": "",
        "title": "",
        "chunks": 0,
        "reason": "empty file",
    }
    assert by_name.pop(missing.name)["reason"] == "cannot read: No such file or directory"
    assert sorted(o["status"] for o in by_name.values()) == ["unchanged", "unchanged"]
    assert report["chunks_written"] == 0


def _read_only(index: Path) -> list[str]:
    """A command prefix that runs with ``index`` truly read-only, or skip when this host cannot."""
    if os.geteuid() != 0:
        for path in [index, *index.rglob("*")]:
            path.chmod(path.stat().st_mode & 0o555)
        return []
    # chmod does not stop root: use a read-only bind mount in a private mount namespace instead.
    if shutil.which("unshare") is None:
        pytest.skip("running as root and `unshare` is missing: cannot make a folder read-only for root")
    prefix = [
        "unshare",
        "-m",
        "sh",
        "-c",
        'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"',
        str(index),
    ]
    probe = subprocess.run([*prefix, "touch", str(index / "probe")], capture_output=True, text=True)
    if probe.returncode == 0 or "Read-only file system" not in probe.stderr:
        pytest.skip(f"running as root and no read-only bind mount here: {probe.stderr.strip()[:200]}")
    return prefix


@pytest.mark.slow
def test_read_only_index_is_a_clear_error(tmp_path: Path, articles_dir: Path, sample_path: Path) -> None:
    index = tmp_path / "ro-index"
    newsrag = NewsRAG(index_dir=index)
    newsrag.ingest(sample_path)
    before = ({a.article_id: a.content_hash for a in newsrag.articles()}, chroma_ids(newsrag))
    del newsrag

    prefix = _read_only(index)
    try:
        result = subprocess.run(
            [*prefix, str(NEWSRAG), "ingest", str(articles_dir / "port.txt"), "--index-dir", str(index)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        for path in [index, *index.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "─" not in result.stderr, result.stderr  # no (rich) traceback
    # Run alone, the index was written under umask 022: warnings that it cannot be made private come first.
    message = re.sub(
        r"warning: \S+ is readable by others and cannot be made private ", "", " ".join(result.stderr.split())
    )
    assert message.startswith(f"error: cannot open the index in {index / 'chroma'}"), message

    after = NewsRAG(index_dir=index)
    assert ({a.article_id: a.content_hash for a in after.articles()}, chroma_ids(after)) == before
    assert after.store.repair() == 0
    assert after.lexical.search("Witkoff Putin", 3)
