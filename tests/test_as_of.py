"""Asking as of a day (issue #35): nothing published later is used, on every entry point; undated articles stay.

One small real index of dated and undated reports of the same story (the harbour bridge closing, then reopening),
so that the day a question is asked as of decides which report answers it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import date
from pathlib import Path

import pytest

from evals.app_process import BIN
from rag import NewsRAG
from rag.core.settings import load_settings
from rag.index.filters import FilterError, Filters
from rag.service.mcp_tools import NewsTools

ARTICLES = [
    {
        "url": "https://news.example/2026/03/02/bridge-closes",
        "title": "Harbour bridge closes for repairs",
        "text": "The Eastport harbour bridge closed on Monday for repairs to its cables, the city council said. "
        "Engineers expect the works to take six weeks.",
        "publish_date": "2026-03-02",
    },
    {
        "url": "https://news.example/2026/04/20/bridge-reopens",
        "title": "Harbour bridge reopens early",
        "text": "The Eastport harbour bridge reopened on Monday after cable repairs finished two weeks early, the "
        "city council said.",
        "publish_date": "2026-04-20",
    },
    {
        "url": "https://news.example/notes/bridge-history",
        "title": "A short history of the harbour bridge",
        "text": "The Eastport harbour bridge was opened in 1932 and carries the coastal road across the harbour.",
    },
]
QUESTION = "What happened to the Eastport harbour bridge?"


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> NewsRAG:
    folder = tmp_path_factory.mktemp("as-of")
    corpus = folder / "bridge.jsonl"
    corpus.write_text("\n".join(json.dumps(a) for a in ARTICLES), encoding="utf-8")
    newsrag = NewsRAG(load_settings(index_dir=folder / "index"))
    assert newsrag.ingest(corpus).count("added") == 3
    return newsrag


def _titles(answer: object) -> set[str]:
    return {p.title for p in answer.passages}  # type: ignore[attr-defined]


CLOSES, REOPENS, HISTORY = (a["title"] for a in ARTICLES)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_as_of_leaves_out_later_articles_and_keeps_undated_ones_in_every_retrieval_mode(
    bridge: NewsRAG, mode: str
) -> None:
    retriever = bridge.components.ready().retriever
    found = {p.title for p in retriever.retrieve(QUESTION, 10, Filters(as_of="2026-03-10"), mode)}  # type: ignore[arg-type]
    assert found == {CLOSES, HISTORY}
    # The words' window keeps undated articles; a range the caller gives leaves them out.
    words = {p.title for p in retriever.retrieve(QUESTION, 10, Filters(read_since="2026-04-01"), mode)}  # type: ignore[arg-type]
    assert words == {REOPENS, HISTORY}
    given = {p.title for p in retriever.retrieve(QUESTION, 10, Filters(since="2026-04-01"), mode)}  # type: ignore[arg-type]
    assert given == {REOPENS}
    capped = {p.title for p in retriever.retrieve(QUESTION, 10, Filters(since="2026-03-01", as_of="2026-03-31"), mode)}  # type: ignore[arg-type]
    assert capped == {CLOSES}


def test_every_python_entry_point_takes_as_of(bridge: NewsRAG) -> None:
    as_of = "2026-03-10"
    answers = [bridge.ask(QUESTION, as_of=as_of), bridge.stream(QUESTION, as_of=date(2026, 3, 10)).answer]
    chat = bridge.chat(as_of=as_of)
    answers.append(chat.ask(QUESTION))
    answers.append(asyncio.run(bridge.aask(QUESTION, as_of=as_of)))

    async def streamed() -> object:
        response = bridge.astream(QUESTION, as_of=as_of)
        async for _ in response:
            pass
        return response.answer

    answers.append(asyncio.run(streamed()))  # type: ignore[arg-type]
    for answer in answers:
        assert REOPENS not in _titles(answer) and CLOSES in _titles(answer)
        assert answer.as_of == as_of and not answer.refused  # type: ignore[attr-defined]
    table = bridge.ask_many([QUESTION], as_of="2026-02-01")
    assert table["citations"].tolist() == [1]  # only the undated history is older than the closure


def test_without_as_of_the_newest_report_is_read_and_today_is_the_day(bridge: NewsRAG) -> None:
    answer = bridge.ask(QUESTION)
    assert REOPENS in _titles(answer) and answer.as_of == date.today().isoformat()


def test_a_bad_as_of_is_a_clear_error(bridge: NewsRAG) -> None:
    with pytest.raises(FilterError, match="as_of: not a date"):
        bridge.ask(QUESTION, as_of="the day after tomorrow-ish")


def test_the_question_s_words_read_against_as_of_and_the_reading_is_shown(bridge: NewsRAG) -> None:
    answer = bridge.ask("What happened to the Eastport harbour bridge last week?", as_of="2026-04-22")
    assert answer.read_as and "2026-04" in answer.read_as
    assert any("last week" in n and answer.read_as in n for n in answer.notices)
    assert CLOSES not in _titles(answer) and REOPENS in _titles(answer)


def test_explicit_dates_win_over_the_question_s_words(bridge: NewsRAG) -> None:
    answer = bridge.ask("What happened to the Eastport harbour bridge last week?", since="2026-03-01",
                        until="2026-03-05", as_of="2026-04-22")  # fmt: skip
    assert _titles(answer) == {CLOSES}
    assert answer.read_as == "" and any("were used instead" in n for n in answer.notices)


def test_time_aware_off_reads_no_words(tmp_path: Path, bridge: NewsRAG) -> None:
    blind = NewsRAG(bridge.settings.model_copy(update={"time_aware": False}))
    answer = blind.ask("What happened to the Eastport harbour bridge last week?", as_of="2026-04-22")
    assert answer.read_as == "" and CLOSES in _titles(answer)  # no window: the older report is still read


def test_mcp_ask_news_takes_as_of(bridge: NewsRAG) -> None:
    result = NewsTools(bridge).ask(QUESTION, as_of="2026-03-10")
    assert {c["title"] for c in result["citations"]} <= {CLOSES, HISTORY} and not result["refused"]


def test_cli_ask_as_of(bridge: NewsRAG, tmp_path: Path) -> None:
    index = str(bridge.settings.index_dir)
    result = subprocess.run(
        [BIN / "newsrag", "ask", QUESTION, "--as-of", "2026-03-10", "--json", "--index-dir", index],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["as_of"] == "2026-03-10" and REOPENS not in {c["title"] for c in answer["citations"]}
    bad = subprocess.run(
        [BIN / "newsrag", "ask", QUESTION, "--as-of", "someday", "--index-dir", index],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and "as_of: not a date" in bad.stderr and "Traceback" not in bad.stderr


def test_a_filter_that_keeps_most_of_the_index_is_applied_after_the_search_and_falls_back_when_short(
    bridge: NewsRAG,
) -> None:
    """Chroma's filtered search lists every matching id first: a filter keeping most chunks filters a larger search's
    results instead. When those hold too few, the filtered search runs after all."""
    from rag.index.retrieve import DenseRetriever

    retriever = bridge.components.ready().retriever
    history = next(a.article_id for a in bridge.articles() if a.title == HISTORY)
    # Told the filter keeps 90%: two results are fetched unfiltered (the two bridge reports), none passes.
    dense = DenseRetriever(retriever.index, 1, Filters(article_ids=[history]), share=0.9)
    assert [h.node.metadata["title"] for h in dense.retrieve("Eastport bridge repairs reopened")] == [HISTORY]
    assert retriever.lexical.selection(Filters(as_of="2026-03-10"), 10, 0.05) == (pytest.approx(2 / 3), None)
    assert retriever.lexical.selection(None, 10, 0.05).share == 1.0


def test_mcp_search_news_takes_as_of(bridge: NewsRAG) -> None:
    found = NewsTools(bridge).search(QUESTION, as_of="2026-03-10", limit=10)
    assert {p["title"] for p in found["passages"]} == {CLOSES, HISTORY}


def test_a_narrow_filter_names_its_chunks_and_a_stale_name_falls_back_to_chroma_s_filter(bridge: NewsRAG) -> None:
    from rag.index.retrieve import DenseRetriever

    retriever = bridge.components.ready().retriever
    history = next(a.article_id for a in bridge.articles() if a.title == HISTORY)
    only = Filters(article_ids=[history])
    named = retriever.lexical.selection(only, 10, 1.0).ids
    assert named is not None and len(named) == 1
    assert retriever.lexical.selection(Filters(as_of="2026-12-01"), 1, 1.0).ids is None  # more than the limit
    for ids in (named, ["no-such-chunk"]):  # a chunk the lexical index names but Chroma no longer holds
        dense = DenseRetriever(retriever.index, 3, only, share=0.01, ids=ids)
        assert [h.node.metadata["title"] for h in dense.retrieve("Eastport bridge")] == [HISTORY]
    assert DenseRetriever(retriever.index, 3, only, share=0.0, ids=[]).retrieve("Eastport bridge") == []
