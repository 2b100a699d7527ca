"""Issue #36: newsrag's retrieval in a LlamaIndex query engine, as docs/mcp.md shows it, with a real HTTP LLM.

The LLM is the scripted OpenAI-compatible server on 127.0.0.1 (tests/support/llm_servers.py), reached through
LlamaIndex's own OpenAILike class: the test sees what the synthesizer sent it.
"""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import QueryBundle

from rag import NewsRAG, NewsRAGRetriever
from rag.index.filters import FilterError
from tests.conftest import ROOT
from tests.support.llm_servers import FakeOpenAI

DOCS = ROOT / "docs" / "mcp.md"
SAMPLE_TITLE = "Trump says progress made in US envoy Witkoff’s meeting with Russia’s Putin"


def docs_example() -> str:
    """The Python block of docs/mcp.md."""
    return re.search(r"^```python\n(.*?)^```", DOCS.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE)[1]


def test_the_docs_example_runs_against_a_real_llm_server(sample_newsrag: NewsRAG, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = "Nato must not expand, Russian sources said."
    code = docs_example()
    # The example's index and LLM server, swapped for this test's; nothing else in the code is changed.
    code = code.replace('index_dir=".newsrag"', f"index_dir={str(sample_newsrag.settings.index_dir)!r}")
    code = code.replace(', since="2025-08-01"', "")  # the sample article has no date: a date range leaves it out
    code = code.replace("http://127.0.0.1:8080/v1", fake_openai.base_url)
    assert code.count(str(sample_newsrag.settings.index_dir)) == 1 and fake_openai.base_url in code
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(DOCS), "exec"), {})  # noqa: S102 - the documented example, run as written
    lines = printed.getvalue().splitlines()
    assert lines[0] == "Nato must not expand, Russian sources said."
    assert lines[1].startswith(SAMPLE_TITLE)
    sent = str(fake_openai.last_json)
    assert "Nato" in sent and "What are Putin's peace conditions?" in sent  # the passages reached the LLM


def test_the_nodes_carry_newsrags_metadata(sample_newsrag: NewsRAG) -> None:
    nodes = NewsRAGRetriever(sample_newsrag, top_k=3).retrieve(QueryBundle("What are Putin's peace conditions?"))
    assert 1 <= len(nodes) <= 3
    for found in nodes:
        assert set(found.node.metadata) >= {"title", "source", "date", "url", "article_id"}
        assert found.node.metadata["title"] == SAMPLE_TITLE and found.score is not None
    assert any("Nato" in found.node.get_content() for found in nodes)
    assert "article_id" not in nodes[0].node.get_content(metadata_mode="llm")  # ids are for citing, not reading
    assert isinstance(NewsRAGRetriever(sample_newsrag).as_query_engine(llm=mock_llm()), RetrieverQueryEngine)
    engine = sample_newsrag.as_query_engine(llm=mock_llm(), top_k=2, since="2025-01-01")  # the same, from NewsRAG
    assert isinstance(engine, RetrieverQueryEngine) and engine.retriever.top_k == 2
    assert engine.retriever.filters == {"since": "2025-01-01"}


def test_filters_are_checked_when_the_retriever_is_made(sample_newsrag: NewsRAG) -> None:
    with pytest.raises(FilterError, match="not a date"):
        NewsRAGRetriever(sample_newsrag, since="last Tuesday")
    future = NewsRAGRetriever(sample_newsrag, since="2100-01-01")
    assert future.retrieve("What are Putin's peace conditions?") == []  # the sample is undated: outside any range


def mock_llm() -> object:
    """A LlamaIndex MockLLM: building an engine needs an LLM, never a call to one."""
    from llama_index.core.llms import MockLLM

    return MockLLM()
