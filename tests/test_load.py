"""Load (issue #6): 20 concurrent clients on the OpenAI-compatible API and the Gradio API while an ingest runs.

A short run of ``evals/load.py`` (``make bench`` runs it for 60 s) against a real ``newsrag serve`` on
127.0.0.1. Only correctness is asserted: no failed request, every answer from its own client's story,
no logged conversation holding two clients' turns, the ingest done and searchable. Latencies and
throughput are printed and written to tests/artifacts/load.json, never asserted: the machine is shared.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.app_process import Server, serving
from evals.load import markdown, run
from evals.load_stories import FOLLOW_UP, Story, check_log, judge, stories
from tests.conftest import ARTIFACTS

CLIENTS, SECONDS, MAX_REQUESTS = 20, 10.0, 400


@pytest.fixture(scope="module")
def load_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Its own server: the load's stories must not reach the index the other API tests check."""
    with serving("load", tmp_path_factory.mktemp("load-server"), ingest=False) as started:
        yield started


def test_stories_are_distinct_and_stable() -> None:
    many = stories(60)
    assert stories(20) == many[:20]  # a rerun with more clients keeps the first clients' stories
    names = [name for s in many for name in s.names]
    assert len(set(names)) == len(names) and len({s.opened for s in many}) == len(many)


def test_the_checks_catch_a_mix_up(tmp_path: Path) -> None:
    from rag.core.types import Answer, Citation
    from rag.service.history import HistoryLog

    a, b = stories(2)
    assert judge(a, 0, f"It opened on {a.opened} 2025. [1]", [a.title, b.title], [a, b]) == "ok"
    assert judge(a, 1, f"Its architect is {b.architect}. [1]", [b.title], [a, b]) == "mixed"
    assert judge(a, 0, "The articles don't say.", [], [a, b]) == "wrong"

    def answer(question: str, story: Story) -> Answer:
        cited = Citation(chunk_id="c", article_id="x", title=story.title, text="...", number=1)
        return Answer(question=question, text="...", engine="extractive", citations=[cited])

    log = HistoryLog(tmp_path / "index" / "history.sqlite")
    log.record(answer(a.question(0), a), conversation_id="one", channel="openai")
    log.record(answer(FOLLOW_UP, a), conversation_id="one", channel="openai")
    log.record(answer(b.question(0), b), conversation_id="two", channel="openai")
    log.record(answer(FOLLOW_UP, a), conversation_id="two", channel="openai")  # b's conversation, a's answer
    assert check_log(tmp_path / "index", [a, b], since=0)["mixed_ids"] == ["two"]


@pytest.mark.slow
def test_twenty_clients_while_ingesting(load_server: Server) -> None:
    report = run(
        load_server.url, CLIENTS, SECONDS, MAX_REQUESTS, ingest_stories=12, batch=3, index_dir=load_server.index_dir
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print("\n".join(markdown(report)))  # the numbers, for the log (pytest -s)

    assert report["failures"] == 0, report["failure_reasons"]
    assert report["requests"] <= MAX_REQUESTS
    assert all(report["apis"][api]["requests"] > 0 for api in ("openai", "openai-stream", "gradio"))
    assert report["clients_answered"] == CLIENTS and report["follow_ups"] > 0
    answers = report["answers"]
    assert answers["mixed"] == 0 and answers["wrong"] == 0, report["bad_answers"]
    log = report["log"]
    assert log["mixed"] == 0 and log["turns"] >= report["requests"], log

    ingest = report["ingest"]
    assert ingest["failures"] == [] and ingest["batches"], ingest
    assert ingest["batches"][0][0] < SECONDS  # it ran during the load
    assert set(ingest["statuses"]) == {"added"}
    done, asked = ingest["answerable_after"].split("/")
    assert done == asked != "0"  # what was ingested under load is answerable


def test_command_line_writes_the_report(load_server: Server, tmp_path: Path) -> None:
    from evals.load import main

    out = tmp_path / "load.json"
    report = main(
        ["--url", load_server.url, "--clients", "2", "--seconds", "1", "--ingest-stories", "0", "--out", str(out)]
    )
    assert json.loads(out.read_text()) == report
    assert report["failures"] == 0 and report["answers"]["mixed"] == 0 and report["clients"] == 2


# ----- the extractive engine's sentence-embedding cache, shared by every request's thread
class _Embedder:
    def get_text_embedding_batch(self, texts: list[str]) -> list[list[float]]:
        return [[float(len(t)), 1.0, 0.0] for t in texts]


def test_a_full_sentence_cache_keeps_its_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the cache is full, inserting a question's new sentences evicts the oldest: maybe one it just hit."""
    from rag.answering import extractive

    monkeypatch.setattr(extractive, "CACHE_SIZE", 3)
    engine = extractive.ExtractiveEngine(_Embedder())  # type: ignore[arg-type]
    engine._embed(["a", "bb", "ccc"])
    vectors = engine._embed(["a", "dddd", "a"])  # "a" is the oldest entry: evicted by "dddd"
    assert vectors[:, 0].tolist() == [1.0, 4.0, 1.0] and len(engine._cache) == 3


def test_the_sentence_cache_is_safe_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.answering import extractive

    monkeypatch.setattr(extractive, "CACHE_SIZE", 8)
    engine = extractive.ExtractiveEngine(_Embedder())  # type: ignore[arg-type]
    errors: list[BaseException] = []

    def ask(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(300):
                texts = ["x" * rng.randint(1, 30) for _ in range(5)]
                assert engine._embed(texts)[:, 0].tolist() == [float(len(t)) for t in texts]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
