"""A read-only index directory and a full disk: clear errors, nothing corrupted, and the app goes on answering.

We run as root, and root ignores file modes, so the faults are real mounts: a read-only bind mount of the
index directory, and a tiny tmpfs that fills up during an ingest. Without the right to mount (not root, no
CAP_SYS_ADMIN) the tests skip and say so; every mount is undone at the end of its test.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.core.disk import LOW_SPACE_BYTES
from rag.index.store import StoreError
from rag.service.history import HistoryLog
from rag.service.newsrag import NewsRAG
from tests.conftest import ROOT, SAMPLE

NEWSRAG = Path(sys.executable).with_name("newsrag")
PUTIN = "What are Putin's peace conditions?"
ARTICLES = 30
# newsrag stops adding articles with less than LOW_SPACE_BYTES free; Chroma's empty database takes ~350 KB,
# so this disk counts as full after a dozen or so of the ARTICLES.
FULL_DISK = f"{LOW_SPACE_BYTES // 1024 + 800}k"


class Mounts:
    """The mounts one test made; :meth:`undo` removes them (lazily when a process still holds a file there)."""

    def __init__(self) -> None:
        self.points: list[Path] = []

    def read_only(self, folder: Path) -> None:
        self._mount(folder, "--bind", str(folder), str(folder))
        _run("mount", "-o", "remount,ro,bind", str(folder))

    def tmpfs(self, folder: Path, size: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._mount(folder, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))

    def resize(self, folder: Path, size: str) -> None:
        _run("mount", "-o", f"remount,size={size}", str(folder))

    def undo(self) -> None:
        while self.points:
            point = self.points.pop()
            if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(point)], capture_output=True)

    def _mount(self, point: Path, *args: str) -> None:
        _run("mount", *args)
        self.points.append(point)


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip()}")


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[Mounts]:
    if os.geteuid() != 0:
        pytest.skip("these tests mount a read-only folder and a tiny tmpfs, which needs root")
    probe = tmp_path / "mount-probe"
    probe.mkdir()
    tried = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True)
    if tried.returncode != 0:
        pytest.skip(f"mounting is not permitted here (needs CAP_SYS_ADMIN): {tried.stderr.decode().strip()}")
    subprocess.run(["umount", str(probe)], check=True)
    made = Mounts()
    try:
        yield made
    finally:
        made.undo()


def run_cli(*args: str, index_dir: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process; its stderr with rich's line wrapping undone."""
    env = os.environ | {"NEWSRAG_INDEX_DIR": str(index_dir)}
    result = subprocess.run([str(NEWSRAG), *args], env=env, capture_output=True, text=True, timeout=300)
    result.stderr = " ".join(result.stderr.split())
    return result


def consistency(index_dir: Path) -> dict[str, Any]:
    """What a fresh instance finds: articles, chunks, incomplete versions, and whether the sides agree."""
    newsrag = NewsRAG(index_dir=index_dir)
    store = newsrag.store  # opening repairs what a writer that failed left behind
    versions: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for _id, _text, meta in store.iter_chunks(include_text=False):
        versions[(meta["article_id"], meta["content_hash"], int(meta["n_chunks"]))].append(int(meta["chunk_index"]))
    newsrag.lexical.ensure_fresh()  # not forced: it must notice by itself what changed
    stored = store.collection.get(include=["embeddings"])
    misses = [
        chunk_id
        for chunk_id, vector in zip(stored["ids"], stored["embeddings"], strict=True)
        if store.collection.query(query_embeddings=[vector], n_results=1)["ids"][0] != [chunk_id]
    ]
    return {
        "articles": len(newsrag.articles()),
        "one_version_each": len({article_id for article_id, _, _ in versions}) == len(versions),
        "chunks": store.count(),
        "incomplete": [a for (a, _, n), got in versions.items() if sorted(got) != list(range(n))],
        "lexical_agrees": set(newsrag.lexical.chunk_ids) == set(stored["ids"]),
        "vector_misses": misses,  # chunks the vector index cannot find by their own embedding
        "dirty": store.state().get("dirty"),
        "repaired": store.repair(),
    }


CONSISTENCY = (
    "import json, sys; from tests.test_disk_faults import consistency; print(json.dumps(consistency(sys.argv[1])))"
)


def consistency_elsewhere(index_dir: Path) -> dict[str, Any]:
    """:func:`consistency` in its own process, so that this one never holds files on a mount it must undo."""
    result = subprocess.run(
        [sys.executable, "-c", CONSISTENCY, str(index_dir)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def write_corpus(path: Path, count: int) -> None:
    """``count`` distinct made-up articles as one .jsonl; every fifth is long enough for several chunks."""
    words = ["harbour", "council", "strike", "budget", "river", "station", "energy", "school", "bridge", "weather"]
    rng = random.Random(6)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            sentences = 40 if i % 5 == 0 else 6
            text = " ".join(
                f"In {rng.choice(words)} news number {i}.{s}, officials said {rng.randint(2, 9999)} "
                f"{rng.choice(words)} {rng.choice(words)} items changed."
                for s in range(sentences)
            )
            record = {
                "title": f"Local report {i}",
                "url": f"https://news.example/{i}",
                "source": "Example",
                "text": text,
            }
            out.write(json.dumps(record) + "\n")


# ----- a read-only index directory
@pytest.mark.slow
def test_read_only_index_is_a_clear_error_and_stays_intact(
    mounts: Mounts, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "index"
    newsrag = NewsRAG(index_dir=index)
    assert newsrag.ingest(SAMPLE).ok
    [article] = newsrag.articles()
    chunks = newsrag.status()["chunks"]
    assert "Nato" in newsrag.ask(PUTIN).text  # everything it reads is open before the folder turns read-only

    more = tmp_path / "more.txt"
    more.write_text("Harbour strike ends\nDock workers ended a nine-day strike on Friday after a pay deal.\n")

    mounts.read_only(index)
    # An instance that was open goes on answering; what it cannot save (the lexical files) it keeps in memory.
    with caplog.at_level(logging.WARNING, logger="rag.index.lexical"):
        newsrag.lexical.ensure_fresh(force=True)
    assert "kept in memory only" in caplog.text and "is read-only" in caplog.text
    assert "Nato" in newsrag.ask(PUTIN).text
    with pytest.raises(StoreError, match=rf"the index directory {index / 'chroma'} is read-only"):
        newsrag.ingest(more)
    with pytest.raises(StoreError, match="is read-only"):
        newsrag.forget(article.article_id)
    # Chroma's connections opened now stay read-only after the folder is writable again: open several.
    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(lambda _: newsrag.store.collection.get(limit=1)["ids"], range(64)))

    # A new process cannot open it at all (Chroma writes even to open): one clear line, no traceback.
    for command in (["ask", PUTIN], ["ingest", str(more)]):
        result = run_cli(*command, index_dir=index)
        assert result.returncode == 2, result.stderr[-2000:]
        assert f"error: cannot open the index in {index / 'chroma'}: the folder is read-only" in result.stderr
        assert "make it writable" in result.stderr and "Traceback" not in result.stderr

    mounts.undo()
    assert newsrag.articles() == [article] and newsrag.status()["chunks"] == chunks
    assert "Nato" in newsrag.ask(PUTIN).text
    assert newsrag.store.repair() == 0 and newsrag.store.state()["dirty"] is False
    added = newsrag.ingest(more)
    assert [o.status for o in added.outcomes] == ["added"], added.outcomes


# ----- a full disk
@pytest.mark.slow
def test_full_disk_during_ingest_leaves_a_consistent_index(mounts: Mounts, tmp_path: Path) -> None:
    corpus = tmp_path / "news.jsonl"
    write_corpus(corpus, ARTICLES)
    index = tmp_path / "index"
    mounts.tmpfs(index, FULL_DISK)

    full = run_cli("ingest", str(corpus), index_dir=index)
    assert full.returncode == 1, full.stderr[-3000:]  # some articles failed
    assert "Traceback" not in full.stderr
    assert "is on a full disk" in full.stderr and "free some space" in full.stderr
    added, failed = map(int, re.search(r"(\d+) added, .* (\d+) failed;", full.stderr).groups())  # type: ignore[union-attr]
    assert added > 0 and failed > 0 and added + failed == ARTICLES, full.stderr[-3000:]

    # Room again: a fresh instance finds every article whole, and its two sides agreeing.
    mounts.resize(index, "64m")
    found = consistency_elsewhere(index)
    assert found["articles"] == added, found  # what the report said was added, and nothing it said failed
    assert found["incomplete"] == [] and found["one_version_each"] and found["lexical_agrees"], found
    assert found["vector_misses"] == [] and found["repaired"] == 0 and found["dirty"] is False, found

    rerun = run_cli("ingest", str(corpus), "--json", index_dir=index)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    report = json.loads(rerun.stdout)
    statuses = [o["status"] for o in report["outcomes"]]
    assert statuses.count("added") + statuses.count("unchanged") == ARTICLES, statuses
    assert report["repaired_chunks"] == 0  # the first instance after the failure had repaired everything


# ----- the question log and the upload folder
def test_history_and_uploads_survive_read_only_and_full_disks(
    mounts: Mounts, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ingest.uploads import save_upload
    from tests.test_history import _answer

    upload = tmp_path / "story.txt"
    upload.write_text("Harbour strike ends\n" + "Dock workers ended a nine-day strike on Friday. " * 400)
    read_only, full = tmp_path / "read-only", tmp_path / "full"
    read_only.mkdir()
    mounts.read_only(read_only)
    mounts.tmpfs(full, "64k")
    (full / "filler").write_bytes(b"x" * 60_000)

    for folder, problem in ((read_only, "is read-only"), (full, "is on a full disk")):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rag.service.history"):
            log = HistoryLog(folder / "history.sqlite")
            assert log.record(_answer("q"), conversation_id="c", channel="ui") is None
            assert log.conversations() == [] and log.recent() == []
        assert "question log could not be" in caplog.text and problem in caplog.text, caplog.text
        saved, reason = save_upload(upload, folder / "uploads", 10_000_000)
        assert saved is None and reason.startswith("could not save the upload") and problem in reason, reason
    assert not (full / "uploads").exists() or not list((full / "uploads").iterdir())


@pytest.mark.server
def test_the_app_answers_when_its_folder_is_read_only(mounts: Mounts, tmp_path: Path) -> None:
    """Its question log, lexical files and uploads cannot be written: it warns, and answers all the same."""
    from gradio_client import Client, handle_file

    from evals.app_process import start_server
    from tests.served.test_http_api import FACTS
    from tests.support.chroma_server import CHROMA, ChromaServer

    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} is missing")
    chroma = ChromaServer(tmp_path / "chroma")  # the chunks live on the server; index_dir holds the rest
    app = None
    try:
        assert chroma.newsrag(tmp_path / "ingest").ingest(SAMPLE).ok
        root = tmp_path / "app"
        (root / "index").mkdir(parents=True)
        mounts.read_only(root / "index")
        app = start_server(
            f"read-only-{uuid.uuid4().hex}",
            root,
            ingest=False,
            NEWSRAG_CHROMA_HOST="127.0.0.1",
            NEWSRAG_CHROMA_PORT=str(chroma.port),
        )
        client = Client(app.url, verbose=False)
        assert all(fact in client.predict(PUTIN, api_name="/ask")["text"] for fact in FACTS)
        reply = httpx.post(
            app.url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": PUTIN}]}, timeout=120
        )
        assert reply.status_code == 200 and "Nato" in reply.json()["choices"][0]["message"]["content"]
        extra = tmp_path / "extra.txt"
        extra.write_text("Harbour strike ends\nDock workers ended a nine-day strike on Friday after a pay deal.\n")
        [(_name, status, _title, _chunks, reason)] = client.predict([handle_file(str(extra))], "", api_name="/ingest")[
            "data"
        ]
        assert status == "failed" and "could not save the upload" in reason and "is read-only" in reason
        assert app.process.poll() is None
        log = app.log()
        assert "question log could not be" in log and "kept in memory only" in log, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
    finally:
        if app is not None:
            app.stop()
        chroma.stop()
