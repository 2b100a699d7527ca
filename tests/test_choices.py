"""Multiple-choice questions: option parsing, option support and the extractive engine's pick."""

from __future__ import annotations

import json

import pytest

from rag import NewsRAG
from rag.answering.choices import MultipleChoice, closest, match, named_option, pick, split_options, supports
from rag.answering.extractive import _latest_first
from rag.core.types import Passage


def test_split_options_formats() -> None:
    inline = split_options("Who won? Options: A) William Ruto; B) Raila Odinga; C) Uhuru Kenyatta; D) Kalonzo")
    assert inline is not None
    assert inline.stem == "Who won?"
    assert inline.options == ["William Ruto", "Raila Odinga", "Uhuru Kenyatta", "Kalonzo"]
    lines = split_options("Which city?\nA. Paris\nB. Rome\nC. Berlin")
    assert lines is not None and lines.options == ["Paris", "Rome", "Berlin"]
    parens = split_options("Which pope? (a) Leo (b) Pope Leo XIV")
    assert parens is not None and parens.options == ["Leo", "Pope Leo XIV"]


def test_split_options_ignores_questions_without_a_list() -> None:
    assert split_options("What are Putin's peace conditions?") is None
    assert split_options("What did A) say?") is None  # one marker is not a list
    assert split_options("Is Plan B) better than Plan A) or not") is None  # letters out of order
    assert split_options("A) Paris B) Rome") is None  # no stem


def test_match_verbatim_partial_and_none() -> None:
    assert match("Raila Odinga", "Opposition leader Raila Odinga conceded.") == 1.0
    assert 0 < match("President William Ruto", "Ruto, the president, spoke.") < 1.0
    assert match("Kalonzo Musyoka", "Ruto won the vote.") == 0.0


def test_supports_prefer_the_longer_option_that_contains_a_shorter_one() -> None:
    options = ["Leo", "Pope Leo XIV", "Dalai Lama"]
    sentences = [("Pope Leo XIV met pilgrims in Rome.", 0.8), ("The Dalai Lama turned 90.", 0.3)]
    support = supports(options, sentences)
    assert support[0] == (0.0, None)
    assert support[1] == (0.8, 0)
    assert support[2] == (0.3, 1)
    assert pick(support) == 1


def test_support_adds_up_over_the_sentences_naming_an_option() -> None:
    options = ["Cuba", "Haiti"]
    sentences = [
        ("Haiti was hit by a storm.", 0.6),
        ("Cuba was plunged into a blackout.", 0.5),
        ("Cuba's grid failed.", 0.4),
    ]
    support = supports(options, sentences)
    assert support[0] == (0.9, 1)  # two sentences: 0.5 + 0.4, the best of them quoted
    assert support[1] == (0.6, 0)
    assert pick(support) == 0


def test_pick_needs_a_clear_winner() -> None:
    assert pick([(0.5, 0), (0.48, 1)]) is None  # within the margin
    assert pick([(0.0, None), (0.0, None)]) is None  # nothing supported
    assert pick([(0.2, 0), (0.6, 3)]) == 1


@pytest.mark.parametrize(
    ("question", "letter"),
    [
        ("When are the secondary sanctions expected to be implemented? Options: A) Aug 6; B) Aug 8; C) Aug 12", "B"),
        ("Who met Putin in Moscow? Options: A) Marco Rubio; B) Volodymyr Zelensky; C) Steve Witkoff", "C"),
    ],
)
def test_extractive_engine_names_the_supported_option_and_cites_it(
    sample_newsrag: NewsRAG, question: str, letter: str
) -> None:
    answer = sample_newsrag.ask(question)
    assert answer.text.startswith(f"{letter}) "), answer.text
    assert len(answer.citations) == 1 and answer.citations[0].supported
    choice = split_options(question)
    assert choice is not None
    assert choice.options["ABC".index(letter)].lower() in answer.citations[0].text.lower()


def test_options_no_passage_supports_get_only_a_guess_whose_quote_shows_what_happened(
    sample_newsrag: NewsRAG,
) -> None:
    answer = sample_newsrag.ask(
        "Who met Putin in Moscow? Options: A) Angela Merkel; B) Emmanuel Macron; C) Olaf Scholz"
    )
    assert answer.text.split(", ")[0] in ("A) Angela Merkel", "B) Emmanuel Macron", "C) Olaf Scholz"), answer.text
    assert ", a guess (no option is clearly supported)" in answer.text and answer.short_answer is None
    assert "Witkoff" in answer.citations[0].quote and answer.flags == []


def test_closest_option_is_the_best_fit_but_never_one_the_stem_names() -> None:
    choice = MultipleChoice(stem="Who did the Dalai Lama meet?", options=["Dalai Lama", "Aga Khan", "Pope Leo XIV"])
    assert closest(choice, [0.9, 0.4, 0.6]) == 2
    assert closest(choice, [0.9, None, None]) is None
    assert closest(choice, [None, None, None]) is None


SUCCESSION = """Tibetan spiritual leader sets out how his successor will be found

Tibet's exiled spiritual leader said on Wednesday that the centuries-old institution would continue after his death, \
and that only his own office in Dharamsala would have the authority to recognise his successor. The leader, who turns \
90 this week, said the search for his successor would follow past tradition, and that no government would have a role.
"""
STRIKE = """Harbour strike ends after nine days

Dock workers in the port city ended a nine-day strike on Friday after a pay deal was agreed with the operators.
"""
LEADERS = ["Pope Leo XIV", "Archbishop of Canterbury", "Dalai Lama", "Aga Khan"]


@pytest.fixture(scope="module")
def succession(tmp_path_factory: pytest.TempPathFactory) -> NewsRAG:
    folder = tmp_path_factory.mktemp("succession")
    newsrag = NewsRAG(index_dir=folder / "index", engine="extractive")
    for name, text in (("succession.txt", SUCCESSION), ("strike.txt", STRIKE)):
        (folder / name).write_text(text)
        assert newsrag.ingest(folder / name).ok
    return newsrag


@pytest.mark.parametrize("order", [LEADERS, LEADERS[::-1]])
def test_an_on_topic_question_no_option_settles_gets_a_guess_that_says_so(
    succession: NewsRAG, order: list[str]
) -> None:
    """No sentence names an option, but the passages are about the question: the option that reads closest
    ("Dalai Lama" beside an exiled Tibetan leader) is named, as a guess, quoting the closest passage."""
    options = "; ".join(f"{letter}) {option}" for letter, option in zip("ABCD", order, strict=True))
    answer = succession.ask(f"Which exiled spiritual leader said his office would recognise his successor? {options}")
    letter = "ABCD"[order.index("Dalai Lama")]
    assert answer.text.startswith(f"{letter}) Dalai Lama, a guess"), answer.text
    assert not answer.refused and answer.flags == [] and answer.short_answer is None  # a guess is not stated
    assert [c.title for c in answer.citations] == ["Tibetan spiritual leader sets out how his successor will be found"]
    assert answer.citations[0].supported and "Dharamsala" in answer.citations[0].quote


def test_an_off_topic_question_with_options_is_still_refused(succession: NewsRAG) -> None:
    answer = succession.ask(
        "Who won the Tour de France? Options: A) Tadej Pogacar; B) Jonas Vingegaard; C) Remco Evenepoel"
    )
    assert answer.refused and answer.citations == []


def test_a_short_answer_names_the_one_option_it_matches() -> None:
    awards = MultipleChoice(stem="Which awards?", options=["Oscars", "Emmys", "Golden Globes", "Grammys"])
    assert named_option(awards, "Golden Globe Awards") == 2
    presidents = MultipleChoice(stem="Who?", options=["Abraham Lincoln", "George Washington", "Teddy Roosevelt"])
    assert named_option(presidents, "Washington") == 1
    trumps = MultipleChoice(stem="Who?", options=["Melania Trump", "Ivanka Trump", "Ann Coulter"])
    assert named_option(trumps, "Trump") is None  # names two
    assert named_option(trumps, "Harper Lee") is None


REGATTA_THEN = (
    "Maria Lopez won the Harbour Cup regatta in Oldport on Saturday, skippering Team Aurora. Lopez crossed the Harbour "
    "Cup finish line first, ahead of eleven crews. Maria Lopez lifted the Harbour Cup trophy after the regatta."
)
REGATTA_NOW = "British sailor Sofia Marsh won the Harbour Cup regatta in Oldport on Sunday, in a race shortened by fog."


@pytest.fixture(scope="module")
def regatta(tmp_path_factory: pytest.TempPathFactory) -> NewsRAG:
    """Last year's report of a race, three sentences naming its winner, and this year's, one sentence."""
    folder = tmp_path_factory.mktemp("regatta")
    records = [
        {"title": "Lopez takes the Harbour Cup", "text": REGATTA_THEN, "published_at": "2024-07-13"},
        {"title": "Marsh wins a foggy Harbour Cup", "text": REGATTA_NOW, "published_at": "2025-07-20"},
        {"title": "Harbour strike ends after nine days", "text": STRIKE.split("\n\n")[1], "published_at": "2025-07-18"},
    ]
    (folder / "regatta.json").write_text(json.dumps(records))
    newsrag = NewsRAG(index_dir=folder / "index", engine="extractive")
    assert newsrag.ingest(folder / "regatta.json").ok
    return newsrag


@pytest.mark.parametrize(
    ("multiple_choice", "picked", "open_question", "short", "title"),
    [
        # Older pages name last year's winner three times, this year's report names the new one once: asked about
        # the present, the new one is the answer, with the options and without.
        (
            "Who won the Harbour Cup regatta this week? Options: A) Maria Lopez; B) Sofia Marsh; C) Li Wei",
            "B) Sofia Marsh",
            "Who recently won the Harbour Cup regatta?",
            "Sofia Marsh",
            "Marsh wins a foggy Harbour Cup",
        ),
        # What the latest reporting does not say, older pages still answer.
        (
            "Which crew is Maria Lopez skippering this year? Options: A) Team Borealis; B) Team Cygnus; C) Team Aurora",
            "C) Team Aurora",
            "Who is skippering Team Aurora now?",
            "Maria Lopez",
            "Lopez takes the Harbour Cup",
        ),
    ],
)
def test_asked_about_the_present_the_latest_reporting_is_read_first(
    regatta: NewsRAG, multiple_choice: str, picked: str, open_question: str, short: str, title: str
) -> None:
    chosen = regatta.ask(multiple_choice)
    assert chosen.text.startswith(picked), chosen.text
    assert [c.title for c in chosen.citations] == [title]
    answered = regatta.ask(open_question)
    assert answered.short_answer == short, answered.text
    assert answered.citations[0].title == title


def test_a_question_not_about_the_present_reads_every_article_alike(regatta: NewsRAG) -> None:
    """An archive's question may be about any time: without "this week", "recently" or the like, the reporting
    that names a winner most is the answer, however old."""
    chosen = regatta.ask("Who won the Harbour Cup regatta? Options: A) Maria Lopez; B) Sofia Marsh; C) Li Wei")
    assert chosen.text.startswith("A) Maria Lopez"), chosen.text
    assert regatta.ask("Who won the Harbour Cup regatta?").short_answer == "Maria Lopez"


def test_the_latest_reporting_is_read_first_only_where_some_passages_are_older() -> None:
    def published(*dates: str) -> list[Passage]:
        return [
            Passage(chunk_id=f"c{i}", article_id=f"a{i}", title="t", text="x", published_at=d)
            for i, d in enumerate(dates)
        ]

    assert _latest_first(published("2025-07-20", "2024-07-13", "", "2025-07-10T08:00:00")) == [{0, 3}, None]
    assert _latest_first(published("2025-07-20", "2025-07-15")) == [None]  # all recent: one reading
    assert _latest_first(published("", "")) == [None]  # no dates: one reading
    assert _latest_first(published("2025-07-20", "not a date")) == [{0}, None]  # an unreadable date is not recent
