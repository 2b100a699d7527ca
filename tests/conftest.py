"""Shared fixtures: every test's state lives under its own tmp_path, and nothing reaches the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import NewsRAG

# Real OpenAI-compatible servers (llama.cpp and a scripted one), registered once for the session; and a watch on
# how many `newsrag serve` processes the suite keeps alive at once.
pytest_plugins = ["tests.support.llm_servers", "tests.support.processes"]

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = ROOT / "data" / "articles" / "witkoff-putin-meeting.txt"
ARTIFACTS = ROOT / "tests" / "artifacts"


# A test that uses one of these fixtures gets the marker, so that `-m "not server"` can't miss one: any fixture
# named `server` or `*_server` starts a real server (`newsrag serve`, `chroma run`), the LLM ones talk to a model.
FIXTURE_MARKERS = {"llama_server": "llm", "fake_openai": "llm"}


def fixture_marker(fixture: str) -> str | None:
    if fixture in FIXTURE_MARKERS:
        return FIXTURE_MARKERS[fixture]
    return "server" if fixture == "server" or fixture.endswith("_server") else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if marker := fixture_marker(fixture):
                item.add_marker(marker)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every state path to tmp_path and forget any LLM the developer configured."""
    monkeypatch.setenv("NEWSRAG_INDEX_DIR", str(tmp_path / "index"))
    for name in ("OPENAI_API_KEY", "NEWSRAG_LLM_BASE_URL", "NEWSRAG_LLM_API_KEY", "NEWSRAG_CHROMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    # A developer's .env must not leak into tests.
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_newsrag(tmp_path_factory: pytest.TempPathFactory) -> NewsRAG:
    """One extractive NewsRAG over the bundled sample, shared by the tests that only ask (never write to it)."""
    newsrag = NewsRAG(index_dir=tmp_path_factory.mktemp("sample") / "index", engine="extractive")
    assert newsrag.ingest(SAMPLE).ok
    return newsrag


@pytest.fixture
def newsrag(tmp_path: Path) -> NewsRAG:
    """A NewsRAG over a fresh, empty index of this test's own."""
    return NewsRAG(index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared is not beside the project")
    return SHARED
