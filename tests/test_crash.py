"""Crash safety: `newsrag ingest` SIGKILLed mid-run, then run again, leaves a consistent index."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from ingest.article import Article
from ingest.files import load_file
from rag.core.settings import Settings
from rag.index.lexical import LexicalIndex

NEWSRAG = Path(sys.executable).with_name("newsrag")
ARTICLES = 150
# Real articles cut short (every tenth to a few chunks), so that the whole test stays well under two minutes.
MAX_CHARS = 600
LONG_CHARS = 3000
KILL_AFTER_CHUNKS = 20


def write_corpus(shared_dir: Path, path: Path) -> None:
    """~150 distinct RealTimeQA articles as one .jsonl (the corpus stays in ../shared, this is a temp file)."""
    records, urls = [], set()
    for week in sorted((shared_dir / "data" / "realtimeqa" / "dev").glob("*_gcs.jsonl")):
        for line in week.read_text(encoding="utf-8").splitlines():
            for raw in json.loads(line)["search_result"]:
                if raw["url"] in urls or len(records) >= ARTICLES:
                    continue
                urls.add(raw["url"])
                limit = LONG_CHARS if len(records) % 10 == 0 else MAX_CHARS
                text = raw["text"] if len(raw["text"]) <= limit else raw["text"][:limit].rsplit(" ", 1)[0]
                records.append(raw | {"text": text})
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def chunks_written(chroma_dir: Path) -> int:
    """Rows in Chroma's own SQLite file, read-only: watching the writer without opening a second client."""
    try:
        with sqlite3.connect(f"file:{chroma_dir / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM embeddings").fetchone()[0])
    except sqlite3.Error:
        return 0


pytestmark = pytest.mark.slow

# Run in its own process, so that this test never holds a Chroma client while `newsrag` writes.
TEAR_ONE_ARTICLE = """
import json, sys
import chromadb
import pytest
from chromadb.config import Settings

client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
collection = client.get_collection(sys.argv[2])
got = collection.get(where={"n_chunks": {"$gt": 1}}, include=["metadatas"])
chunks = {}
for chunk_id, meta in zip(got["ids"], got["metadatas"]):
    chunks.setdefault((meta["article_id"], meta["n_chunks"]), []).append((meta["chunk_index"], chunk_id))
torn = next(((a, sorted(c)) for (a, n), c in chunks.items() if len(c) == n), None)
if torn is not None:
    collection.delete(ids=[torn[1][-1][1]])
print(json.dumps({"dirty": collection.metadata.get("dirty"), "torn": torn and torn[0]}))
"""


def test_sigkill_then_rerun_leaves_a_consistent_index(shared_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "news.jsonl"
    write_corpus(shared_dir, corpus)
    index = tmp_path / "index"
    settings = Settings(index_dir=index)
    env = os.environ | {"NEWSRAG_INDEX_DIR": str(index)}
    command = [str(NEWSRAG), "ingest", str(corpus), "--json"]
    loaded = [a for _, a in load_file(corpus, int(settings.max_article_mb * 1_000_000)) if isinstance(a, Article)]
    expected_ids = {a.article_id for a in loaded}
    assert len(expected_ids) > 100

    # 1. Start an ingest and SIGKILL it once a few chunks are in Chroma, at a random moment after that.
    started = time.monotonic()
    victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while chunks_written(settings.chroma_path) < KILL_AFTER_CHUNKS:
            assert victim.poll() is None, f"the ingest ended before it could be killed: {victim.stderr.read()!r}"  # type: ignore[union-attr]
            assert time.monotonic() - started < 300, "no chunks reached Chroma within 300s"
            time.sleep(0.05)
        time.sleep(random.uniform(0, 1.5))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL, "the first ingest finished before the kill: nothing was tested"
    # (The killed writer may leave a hot SQLite journal behind: the next writer rolls it back.)

    # A kill inside one article's write leaves part of it: make sure of one such torn article.
    tear = subprocess.run(
        [sys.executable, "-c", TEAR_ONE_ARTICLE, str(settings.chroma_path), settings.collection],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tear.returncode == 0, tear.stderr[-3000:]
    state = json.loads(tear.stdout)
    assert state["dirty"] is True  # the killed run was inside its write session
    torn = state["torn"]
    assert torn, "no multi-chunk article was complete at the kill"

    # 2. Run the same ingest to completion.
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    report = json.loads(rerun.stdout)
    by_status: dict[str, int] = defaultdict(int)
    for outcome in report["outcomes"]:
        by_status[outcome["status"]] += 1
    assert by_status["failed"] == 0
    # Articles written before the kill are kept; the rest are added now.
    assert by_status["unchanged"] >= 1 and by_status["added"] >= 1, dict(by_status)
    assert by_status["unchanged"] + by_status["added"] == len(expected_ids)
    # The torn article was dropped by the repair and written again, not taken as unchanged.
    assert [o["status"] for o in report["outcomes"] if o["article_id"] == torn] == ["added"]

    # 3. The index holds every article exactly once, each version complete, and the lexical side agrees.
    assert_index_consistent(settings, expected_ids)


def assert_index_consistent(settings: Settings, expected_ids: set[str]) -> None:
    """Every expected article exactly once with one complete version, the collection clean, the lexical index in step.

    Reads Chroma through its own client: call it with no ingest running.
    """
    client = chromadb.PersistentClient(
        path=str(settings.chroma_path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_collection(settings.collection)
    got = collection.get(include=["metadatas"])
    ids, metadatas = got["ids"], got["metadatas"]
    assert len(ids) == len(set(ids)) == collection.count()
    versions: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    n_chunks: dict[tuple[str, str], int] = {}
    for meta in metadatas:
        versions[meta["article_id"]][meta["content_hash"]].append(int(meta["chunk_index"]))
        n_chunks[(meta["article_id"], meta["content_hash"])] = int(meta["n_chunks"])
    assert set(versions) == expected_ids
    for article_id, by_hash in versions.items():
        assert len(by_hash) == 1, f"{article_id} has {len(by_hash)} versions"
        [(version, positions)] = by_hash.items()
        assert sorted(positions) == list(range(n_chunks[(article_id, version)])), f"{article_id} is incomplete"
    assert (collection.metadata or {}).get("dirty") is False

    # The lexical index on disk is the one for this content: the same chunk ids, read as they are (not caught up).
    lexical = LexicalIndex(None, settings.lexical_path)  # type: ignore[arg-type]
    lexical._open()
    assert sorted(lexical.chunk_ids) == sorted(ids)
