"""Dates in answers (#35): every rendered citation shows its article's date; among sentences on a par the newest
report leads; when dated reports of one story disagree, the newer leads and the older is marked as earlier reporting.

The real extractive engine reads real passages: through the Python API over a small dated index, and directly over
hand-made passages where a test swaps dates between two articles to show that the date, not the wording, decides.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rag import Answer, NewsRAG
from rag.answering.engines import extractive_draft
from rag.answering.extractive import NEAR_EQUAL, STORY_DAYS, Extract, ExtractiveEngine, day_label
from rag.core import render
from rag.core.dates import date_to_timestamp
from rag.core.types import Passage

TOLL = "How many people died in the Vale floods?"
FIRST = "Ten people died in the Vale floods, the mayor said on Monday."
AGAIN = "Ten people died in the Vale floods, according to the regional government."
LATER = "At least 25 people died in the Vale floods, officials said on Wednesday."
INJURED = "Some 40 people were injured in the Vale floods and taken to hospital."
BRIDGE = "When did the Harbour Bridge in Oldport reopen?"
BY_COUNCIL = "The Harbour Bridge in Oldport reopened to traffic on 14 May after two years of repairs, the council said."
BY_MAYOR = "The Harbour Bridge in Oldport reopened to traffic on 14 May after two years of repairs, the mayor said."


@pytest.fixture(scope="module")
def engine(sample_newsrag: NewsRAG) -> ExtractiveEngine:
    """The engine as answers use it, stating every short answer (the confidence model is tested elsewhere)."""
    return ExtractiveEngine(sample_newsrag.components.embedder, min_confidence=0.0)


@pytest.fixture(scope="module")
def floods(tmp_path_factory: pytest.TempPathFactory) -> NewsRAG:
    """Two reports of a death toll on 3 March, a higher one on 5 March, and an undated article on another story."""
    folder = tmp_path_factory.mktemp("floods")
    records = [
        _record(
            "Floods hit Vale", f"Heavy rain flooded the town of Vale. {FIRST}", "2025-03-03", "https://v.example/1"
        ),
        _record("Vale counts the cost", f"{AGAIN} Rescue teams searched the river banks.", "2025-03-03T18:00:00"),
        _record("Vale flood toll rises", f"{LATER} Hundreds of homes remain under water.", "2025-03-05"),
        _record("Oldport bridge reopens", BY_COUNCIL, ""),
    ]
    (folder / "floods.json").write_text(json.dumps(records))
    newsrag = NewsRAG(index_dir=folder / "index", engine="extractive")
    assert newsrag.ingest(folder / "floods.json").ok
    return newsrag


def _record(title: str, text: str, published_at: str, url: str = "") -> dict[str, str]:
    return {"title": title, "text": text, "published_at": published_at, "source": "Vale Courier", "url": url}


@pytest.fixture(scope="module")
def toll(floods: NewsRAG) -> Answer:
    return floods.ask(TOLL)


def _passage(n: int, text: str, published_at: str = "") -> Passage:
    return Passage(chunk_id=f"c{n}", article_id=f"a{n}", title=f"Report {n}", text=text, published_at=published_at)


def _lead(extract: Extract, passages: list[Passage]) -> str:
    """The date of the article whose sentence leads the answer."""
    return passages[extract.sentences[0].passage].published_at


# ----- newest first among sentences on a par
@pytest.mark.parametrize("question", [BRIDGE, "What happened to the Harbour Bridge in Oldport?"], ids=["short", "none"])
def test_among_sentences_on_a_par_the_newest_report_leads(engine: ExtractiveEngine, question: str) -> None:
    """Whichever of two near-equal sentences scores higher, the one from the newer article leads: with a short
    answer (both name "14 May") and without one (an untyped question)."""
    for older, newer in (("2025-05-14", "2025-05-15"), ("2025-05-15", "2025-05-14")):
        passages = [_passage(0, BY_COUNCIL, older), _passage(1, BY_MAYOR, newer)]
        extract = engine.extract(question, passages)
        assert _lead(extract, passages) == "2025-05-15", extractive_draft(extract, passages).text
        assert not any(s.earlier for s in extract.sentences)  # agreeing reports: nothing is earlier reporting
    sentences = engine.candidates(passages)
    engine.score(question, sentences)
    assert abs(sentences[0].score - sentences[1].score) < NEAR_EQUAL  # a par the date decides


def test_an_older_sentence_much_more_relevant_keeps_the_lead(engine: ExtractiveEngine) -> None:
    weak = "Cafes near the water were busy on 14 May, when the Oldport bridge reopened."
    passages = [_passage(0, BY_COUNCIL, "2025-05-14"), _passage(1, weak, "2025-05-20")]
    extract = engine.extract(BRIDGE, passages)
    assert extract.short is not None and extract.short.text == "14 May"
    assert [s.passage for s in extract.sentences] == [0, 1]  # the newer, weaker sentence follows
    assert extract.sentences[0].score - extract.sentences[1].score > NEAR_EQUAL


def test_undated_articles_answer_and_follow_the_dated_at_equal_standing(engine: ExtractiveEngine) -> None:
    undated_texts = (BY_COUNCIL, BY_MAYOR)
    extract = engine.extract(BRIDGE, [_passage(i, text) for i, text in enumerate(undated_texts)])
    assert extract.short is not None and extract.short.text == "14 May" and not extract.refused
    for dated in (0, 1):
        passages = [_passage(i, text, "2025-05-15" if i == dated else "") for i, text in enumerate(undated_texts)]
        assert engine.extract(BRIDGE, passages).sentences[0].passage == dated


# ----- disagreeing reports
def test_the_newer_of_disagreeing_reports_leads_and_the_older_is_earlier_reporting(toll: Answer) -> None:
    """Two articles of 3 March say ten died, one of 5 March says 25: the newer leads although the older figure is
    named more often, and the older is introduced as earlier reporting, its citation checked like any other."""
    assert toll.text.startswith("**25 people** — At least 25 people died"), toll.text
    assert toll.short_answer == "25 people"
    assert toll.citations[0].published_at == "2025-03-05"
    assert "\nTen people died in the Vale floods" in toll.text
    earlier = toll.text.split(" Earlier, on 3 March:\n", 1)
    assert len(earlier) == 2 and "25" not in earlier[1], toll.text
    assert not [f for f in toll.flags if f.startswith("unsupported")], toll.flags  # "3" is no unsupported figure


def test_the_earlier_report_of_another_year_is_dated_with_its_year(engine: ExtractiveEngine) -> None:
    passages = [_passage(0, FIRST, "2024-12-30"), _passage(1, LATER, "2025-01-02")]
    extract = engine.extract(TOLL, passages)
    text = extractive_draft(extract, passages).text
    assert text.startswith("**25 people** — At least 25") and "Earlier, on 30 December 2024:\nTen people" in text


def test_a_newer_report_naming_someone_else_leads_too(engine: ExtractiveEngine) -> None:
    older = "Anna Berg will lead the rescue effort in Vale, the mayor said on Monday."
    passages = [
        _passage(0, older, "2025-03-03"),
        _passage(1, "Tom Reyes will lead the rescue effort in Vale.", "2025-03-05"),
    ]
    text = extractive_draft(engine.extract("Who will lead the rescue effort in Vale?", passages), passages).text
    assert text.startswith("**Tom Reyes** — Tom Reyes will lead") and f"Earlier, on 3 March:\n{older}" in text


def test_day_labels() -> None:
    def day(iso: str) -> int:
        return date_to_timestamp(iso) // 86_400

    assert day_label(day("2025-03-03"), day("2025-03-05")) == "3 March"
    assert day_label(day("2024-12-30"), day("2025-01-02")) == "30 December 2024"


@pytest.mark.parametrize(
    ("older", "newer", "why"),
    [
        ("", "2025-03-05", "one undated"),
        ("2025-03-05T08:00:00", "2025-03-05T20:00:00", "the same day"),
        ("2025-01-10", "2025-03-05", f"more than {STORY_DAYS} days apart: another event, perhaps"),
    ],
)
def test_reports_are_only_set_against_each_other_when_both_are_dated_days_apart_within_a_story(
    engine: ExtractiveEngine, older: str, newer: str, why: str
) -> None:
    passages = [_passage(0, f"{FIRST} {AGAIN}", older), _passage(1, LATER, newer)]
    extract = engine.extract(TOLL, passages)
    assert not any(s.earlier for s in extract.sentences), why
    assert extract.short is not None and extract.short.text == "Ten people", why  # the vote decides, as before


QUAKE = "What magnitude was the recent earthquake that occurred off Russia's far-eastern Kamchatka Peninsula?"
QUAKE_AMONG_THE_LARGEST = (
    "The magnitude 8.8 earthquake that struck off Russia's Kamchatka Peninsula is now among the ten largest ever"
    " recorded on the planet."
)
QUAKE_STRUCK = (
    "On Tuesday, July 29, 2025, a magnitude 8.8 earthquake struck off Russia's Kamchatka Peninsula about 78 miles"
    " east-southeast of Petropavlovsk-Kamchatsky."
)


@pytest.mark.parametrize(
    ("question", "older", "newer"),
    [
        # Injured, not dead: the newer sentence lacks a word of the question's focus that the older holds.
        (TOLL, FIRST, INJURED),
        # The same figure, in words and in digits ("ten", "10").
        (
            TOLL,
            "Ten people died in the Vale floods on Monday, and rescue teams searched the river banks for the missing.",
            "10 people died in the Vale floods, officials confirmed on Wednesday.",
        ),
        # The older sentence names the newer's figure too, beside a figure of another sort ("ten largest").
        (QUAKE, QUAKE_AMONG_THE_LARGEST, QUAKE_STRUCK),
    ],
    ids=["other focus", "same figure", "one figure and another"],
)
def test_what_is_no_disagreement(engine: ExtractiveEngine, question: str, older: str, newer: str) -> None:
    passages = [_passage(0, older, "2025-03-03"), _passage(1, newer, "2025-03-05")]
    extract = engine.extract(question, passages)
    text = extractive_draft(extract, passages).text
    assert extract.short is not None and len(extract.sentences) >= 1 + (question == QUAKE), text
    assert "Earlier" not in text and not any(s.earlier for s in extract.sentences), text


# ----- the date in every rendered citation
def _drawn_by_the_app(answer: Answer) -> str:
    from rag.ui.messages import render_answer

    return html.unescape("".join(str(m.content) for m in render_answer(answer)))


def _exported(answer: Answer) -> str:
    from rag.service.exports import answer_markdown

    return answer_markdown(answer)


def _history_export(answer: Answer, tmp_path: Path) -> str:
    from rag.service.exports import conversation_markdown
    from rag.service.history import HistoryLog

    log = HistoryLog(tmp_path / "history.sqlite")
    log.record(answer, conversation_id="c", channel="ui", scope="user:a")
    return conversation_markdown(log.turns("c", scope="user:a"))


def _terminal(answer: Answer, capsys: pytest.CaptureFixture[str]) -> str:
    from rag.cli.main import _print_answer

    _print_answer(answer)
    return capsys.readouterr().out


FORMATS: dict[str, Callable[..., str]] = {
    "markdown": lambda a, **_: render.sources_markdown(a.citations),
    "notebook-markdown": lambda a, **_: a._repr_markdown_(),
    "notebook-html": lambda a, **_: html.unescape(a._repr_html_()),
    "terminal": lambda a, capsys, **_: _terminal(a, capsys),
    "app": lambda a, **_: _drawn_by_the_app(a),
    "export": lambda a, **_: _exported(a),
    "history-export": lambda a, tmp_path, **_: _history_export(a, tmp_path),
    "json": lambda a, **_: json.dumps(a.to_dict()),
}


@pytest.mark.parametrize("draw", FORMATS.values(), ids=FORMATS.keys())
def test_every_rendered_citation_shows_its_articles_date(
    toll: Answer, draw: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = draw(toll, tmp_path=tmp_path, capsys=capsys)
    assert len(toll.citations) >= 2
    for citation in toll.citations:
        assert citation.title in shown, shown
        assert citation.published_at[:10] in shown, (citation.title, shown)


def test_an_undated_article_is_cited_without_a_date(floods: NewsRAG) -> None:
    answer = floods.ask(BRIDGE)
    assert answer.short_answer == "14 May" and answer.citations[0].published_at == ""
    assert render.citation_text(answer.citations[0]).startswith("[1] Oldport bridge reopens — Vale Courier\n")


def test_an_assistant_asking_over_mcp_gets_each_citations_date(floods: NewsRAG) -> None:
    from rag.service.mcp_tools import NewsTools

    cited = NewsTools(floods).ask(TOLL)["citations"]
    assert [c["date"][:10] for c in cited] == ["2025-03-05", "2025-03-03"]
