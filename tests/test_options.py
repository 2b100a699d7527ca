"""Values that choose behaviour (engine, retrieval mode) are enums, checked where they enter with a clear error.

The HTTP and Gradio entries are tested against a real server in tests/served/test_http_api.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from evals.app_process import BIN
from rag import Engine, NewsRAG, NewsRAGError, OptionError, RetrievalMode, load_settings
from rag.core.options import Engine as EngineHome

PUTIN = "What are Putin's peace conditions?"


def test_parse_accepts_members_and_names_in_any_case() -> None:
    assert Engine.parse("LLM", "engine") is Engine.llm
    assert Engine.parse(" extractive ", "engine") is Engine.extractive
    assert Engine.parse(Engine.auto, "engine") is Engine.auto
    assert Engine.parse(None, "engine") is None
    assert Engine is EngineHome


def test_an_unknown_value_names_the_choices() -> None:
    with pytest.raises(OptionError, match=r"unknown engine 'fancy': choose one of auto, llm, extractive"):
        Engine.parse("fancy", "engine")
    with pytest.raises(OptionError, match="hybrid, dense, lexical"):
        RetrievalMode.parse("semantic", "retrieval mode")
    assert issubclass(OptionError, NewsRAGError) and issubclass(OptionError, ValueError)


def test_unknown_engine_from_python_is_a_clear_error_before_any_work(tmp_path: Path) -> None:
    newsrag = NewsRAG(index_dir=tmp_path / "index")
    for call in (newsrag.ask, newsrag.stream):
        with pytest.raises(OptionError, match="unknown engine 'fancy'"):
            call(PUTIN, engine="fancy")
    assert "store" not in vars(newsrag), "the engine is checked before the index is opened"


def test_unknown_engine_in_settings_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSRAG_ENGINE", "fancy")
    with pytest.raises(ValueError, match="auto.*llm.*extractive"):
        load_settings()


@pytest.mark.parametrize("command", [["ask", PUTIN], ["chat"], ["serve"], ["eval", "x.jsonl", "--out", "o"]])
def test_unknown_engine_from_the_cli_exits_2_with_the_choices(command: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [BIN / "newsrag", *command, "--engine", "fancy"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert "Invalid value for '--engine'" in result.stderr and "'fancy' is not one of" in result.stderr
    assert "Traceback" not in result.stderr
