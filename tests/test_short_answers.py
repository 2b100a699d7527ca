"""Short answers: what a question asks for, the candidates sentences name, and the vote between them.

Question analysis and candidate voting are pure logic and are tested on hand-made sentences; the
engine's short answers (and refusals) are tested on the bundled sample through the Python API.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import NewsRAG
from rag.answering import entities
from rag.answering.candidates import entity_kind, place_fits, vote
from rag.answering.extractive import ExtractiveEngine
from rag.answering.question import AnswerType, analyse
from rag.core.types import Passage

T = AnswerType


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which country was plunged into a nationwide blackout this week?", T.place),
        ("The prime minister of which country has been suspended by the court?", T.place),
        ("Hundreds of officers were ordered to attend a meeting in which state?", T.place),
        ("Where did the crash occur?", T.place),
        ("Who was elected mayor of New York City?", T.person),
        ("Which tennis player won his second US Open title?", T.person),
        ("Which fast-food chain is bringing back Monopoly?", T.organisation),
        ("Which tech giant unveiled smart glasses?", T.organisation),
        ("US figure skater Ilia Malinin is famed for his jumps. What nickname does he go by?", T.name),
        ("What is the name of the storm churning in the Caribbean?", T.name),
        ("Which coin was minted for the last time this week?", T.name),
        ("How many Lego bricks were used to build the resort?", T.number),
        ("How much will the new air traffic control system cost?", T.number),
        ("What is the average price of a new car in the US?", T.number),
        ("When does summer officially end?", T.date),
        ("In what year was the embryo frozen?", T.date),
        ("How long did the shutdown last?", T.duration),
        ("Why did the talks fail?", T.other),
        ("Which of the following did President Trump target with a tariff?", T.other),
    ],
)
def test_answer_type_follows_the_wh_word_and_its_noun(question: str, kind: AnswerType) -> None:
    assert analyse(question).answer_type == kind


def test_a_quiz_question_is_analysed_on_its_asking_sentence() -> None:
    q = analyse("Red Bull fired Christian Horner after 21 years. Who is taking over the job?")
    assert q.asking == "Who is taking over the job?"
    assert q.answer_type == T.person
    assert q.focus == {"job", "take"}
    assert {"horner", "christian", "red", "bull"} <= q.terms  # candidates must bring something new


def test_how_many_knows_what_it_counts_and_how_much_asks_for_money() -> None:
    assert analyse("How many federal workers are furloughed?").counted == {"feder", "worker"}
    assert analyse("How much will each check be worth?").money
    assert not analyse("How much rain fell?").money
    assert not analyse("How much did the cost of flour rise?").money  # a change, often a percentage
    assert analyse("What nickname has the area earned?").nickname


@pytest.mark.parametrize(
    ("question", "now"),
    [
        ("Which country was plunged into a nationwide blackout this week?", True),
        ("Who was recently named the new CEO of Intel?", True),
        ("What is the latest estimate of the flood's cost?", True),
        ("Which team currently leads the league?", True),
        ("In September 2025, which court heard Costco's lawsuit?", False),
        ("Which New York neighborhood had a Legionnaires' cluster?", False),  # "New" names a place, not the present
        ("What are Putin's peace conditions?", False),
        ("Which poll did USA Today publish on the Senate race?", False),  # a newspaper's name
        ("Which country ran the largest current account deficit in 2024?", False),
        ("Who is the current prime minister of Japan?", True),
        ("What did the Kremlin say today?", True),
    ],
)
def test_a_question_about_the_present_is_told_from_one_about_any_time(question: str, now: bool) -> None:
    assert analyse(question).about_now is now


def test_places_people_and_organisations_are_told_apart() -> None:
    assert entity_kind("Japan") == T.place
    assert entity_kind("Los Angeles") == T.place
    assert entity_kind("Fredericksburg", before="was sold in ") == T.place  # too small for the gazetteer
    assert entity_kind("Karen Bass") == T.person
    assert entity_kind("Liberal Democratic Party") == T.organisation
    assert entity_kind("NASA") == T.organisation
    assert entity_kind("Belgian Grand Prix") == T.name  # an event, not a person
    assert entity_kind("Oct 22") == T.name


def test_which_state_wants_a_state_and_which_country_a_country() -> None:
    assert place_fits("Utah", "state") and not place_fits("Orem", "state")
    assert place_fits("Japan", "country") and not place_fits("Tokyo", "country")
    assert place_fits("Fredericksburg", "city")  # unknown to the gazetteer: not ruled out
    assert place_fits("Tokyo", "region")  # no kind asked
    found = _vote("Charlie Kirk was killed at a campus event in which state?", ["He was shot in Orem, Utah."])
    assert [text for text, _ in found] == ["Utah"]


def _vote(question: str, sentences: list[str], weights: list[float] | None = None) -> list[tuple[str, float]]:
    found = vote(analyse(question), sentences, weights or [1.0] * len(sentences))
    return [(c.text, round(c.score, 3)) for c in found if c.fits]


def test_named_entities_come_from_the_installed_spacy_pipeline() -> None:
    assert entities.available()  # a package dependency, pinned by hash: never downloaded
    found = entities.entities("Tesla signed a $16.5 billion deal with Samsung in Seoul, Elon Musk’s company said.")
    assert found is not None
    kinds = {text: kind for text, kind, _start in found}
    assert kinds["Samsung"] == T.organisation and kinds["Seoul"] == T.place
    assert kinds.get("Elon Musk") == T.person  # the possessive is not part of the name
    assert "$16.5 billion" not in kinds  # amounts are the engine's own patterns' to find


def test_an_organisation_in_a_list_is_found_by_its_entity_type() -> None:
    found = _vote(
        "Which tech company cut 9,000 jobs?",
        ["Microsoft said it would cut about 9,000 jobs.", "Big tech peers including Amazon and Microsoft cut jobs."],
    )
    assert found[0][0] == "Microsoft"


def test_a_rare_name_the_entity_model_mistypes_still_answers_who() -> None:
    # spaCy's small model calls this invented name a place; the capitalisation rules call it a person. Were it
    # not a candidate, another article's architect would answer for this one (the load test's stories).
    sentence = "Its architect is Ines Tavabor, who won the design competition in 2019."
    assert [t for t, _ in _vote("Who was the architect of the Begisar Bridge?", [sentence])] == ["Ines Tavabor"]


def test_without_the_pipeline_names_are_found_by_capitalisation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entities, "_pipeline", lambda: None)
    assert entities.entities("Cuba was plunged into darkness.") is None
    found = _vote("Which country was plunged into a blackout?", ["Cuba was plunged into darkness."])
    assert found[0][0] == "Cuba"


def test_the_candidate_named_by_more_relevant_sentences_wins() -> None:
    found = _vote(
        "Which country was plunged into a nationwide blackout?",
        ["Cuba was plunged into darkness.", "The blackout in Cuba lasted a day.", "Officials in Haiti watched."],
    )
    assert found[0][0] == "Cuba" and found[0][1] == 2.0
    assert ("Haiti", 1.0) in found


def test_a_full_name_takes_the_votes_of_its_surname() -> None:
    found = _vote(
        "Who won the election for mayor?",
        ["Zohran Mamdani won the election.", "Mamdani thanked voters.", "Mamdani will take office."],
    )
    assert found[0][0] == "Zohran Mamdani" and found[0][1] > 1.0


def test_what_the_question_names_and_words_that_open_sentences_are_no_answers() -> None:
    found = _vote(
        "Which union represents the Air Canada flight attendants?",
        ["Authorities said the Air Canada strike goes on.", "The authorities and CUPE met.", "Air Canada agreed."],
    )
    texts = [text for text, _ in found]
    assert "Air Canada" not in texts and "Authorities" not in texts
    assert texts[0] == "CUPE"


def _together(question: str, texts: list[str]) -> str | None:
    """The several-answer short answer ``extract`` would give, with the sentences scored best first."""
    from rag.answering.extractive import ExtractiveEngine, Sentence, _together
    from rag.core.text import content_terms

    analysis = analyse(question)
    sentences = [
        Sentence(text=t, passage=0, position=i, score=1.0 - i / 10, terms=frozenset(content_terms(t)))
        for i, t in enumerate(texts)
    ]
    found = ExtractiveEngine(embedder=None).vote(analysis, sentences)  # type: ignore[arg-type]
    together = _together(analysis.several, found, sentences)
    return together.text if together else None


def test_which_two_is_answered_with_the_two_names_listed_together() -> None:
    assert analyse("Which two states sold winning tickets for the Powerball jackpot?").several == 2
    assert analyse("Which state sold the winning ticket?").several == 1
    question = "Which two states sold winning tickets for the Powerball jackpot?"
    texts = [
        "Winning Powerball tickets were sold in Missouri and Texas, the Texas Lottery said.",
        "Texas sold the most Powerball tickets this year.",
    ]
    assert _together(question, texts) == "Missouri and Texas"
    # Two places in one sentence but not named together are not the pair asked for.
    assert _together(question, ["Tickets sold in Missouri won the Powerball jackpot, unlike those in Texas."]) is None


def test_a_span_of_another_kind_cannot_win() -> None:
    found = _vote("Who directs the Louvre?", ["On Oct 22 the museum's director spoke."])
    assert found == []


def test_numbers_fit_when_they_count_what_is_asked() -> None:
    found = _vote(
        "How many vehicles does the recall include?",
        ["The recall covers 687,000 vehicles with a 1.5 liter engine."],
    )
    assert found[0][0] == "687,000 vehicles"
    assert _vote("How much is each check?", ["The $1,776 checks will go to 1.45 million troops."])[0][0] == "$1,776"
    # A comma after digits ends the number: a year followed by a clause is not an amount ("2025, aimed").
    rebate = ["Hawley announced the American Worker Rebate Act of 2025, aimed at sending $600 checks to Americans."]
    assert [text for text, _ in _vote("In which of the following amounts are the checks?", rebate)] == ["$600 checks"]


def test_dates_of_statements_and_relative_times_are_no_answers() -> None:
    assert _vote("When is the summit scheduled?", ["Mr Yermak said on Aug 6 that a summit was required."]) == []
    assert _vote("When is the summit scheduled?", ["Trump on Aug 6 said the summit was near."]) == []
    assert _vote("When is the summit?", ["The summit is set for Aug 15."])[0][0] == "Aug 15"
    assert _vote("How long did they meet?", ["They met two days before the deadline."]) == []
    assert _vote("How long did they meet?", ["They met for three hours."])[0][0] == "three hours"
    assert _vote("When is the new evening crossing?", ["The ferry adds a crossing at 9.30 from March."])[0][0] in (
        "9.30",
        "March",
    )
    # "When will it end?" answered by a time from now.
    assert _vote("When will the repairs end?", ["Repairs will take two more months."])[0][0] == "two more months"


def test_a_nickname_is_quoted_or_introduced() -> None:
    found = _vote(
        "Ilia Malinin is famed for his jumps. What nickname does he go by?",
        ["Malinin, known as the “Quad God,” trains in Virginia with Coach Rafael Arutyunyan."],
    )
    assert [text for text, _ in found] == ["Quad God"]


def test_commonness_divides_the_votes_of_what_every_story_names() -> None:
    sentences = ["The United States and Denmark signed it.", "Denmark led the talks.", "The United States agreed."]
    question = analyse("Which country granted people copyright to their faces?")
    plain = vote(question, sentences, [1.0, 1.0, 1.0])
    assert {c.text: c.score for c in plain}["United States"] == {c.text: c.score for c in plain}["Denmark"]
    weighted = vote(question, sentences, [1.0, 1.0, 1.0], lambda text: 3.0 if text == "United States" else 0.0)
    assert weighted[0].text == "Denmark"


def test_a_number_of_another_sort_is_kept_but_cannot_win() -> None:
    found = vote(analyse("How much will each check be worth?"), ["Each check rose by 14 percent."], [1.0])
    assert [(c.text, c.fits) for c in found] == [("14 percent", False)]


def test_document_frequency_counts_chunks_holding_every_word(sample_newsrag: NewsRAG) -> None:
    held, total = sample_newsrag.lexical.document_frequency("Witkoff")
    assert 0 < held <= total == sample_newsrag.store.count()
    assert sample_newsrag.lexical.document_frequency("Witkoff Zanzibar")[0] == 0


def test_the_engine_leads_with_the_short_answer_and_cites_it(sample_newsrag: NewsRAG) -> None:
    answer = sample_newsrag.ask("How long did Witkoff and Putin meet?")
    assert answer.short_answer == "three hours"
    assert answer.text.startswith("**three hours** — ")
    assert answer.citations and all(c.supported for c in answer.citations), answer.flags
    assert not any(f.startswith("unsupported") for f in answer.flags)


def test_a_question_about_the_articles_without_what_it_asks_for_is_answered_unbolded(sample_newsrag: NewsRAG) -> None:
    # The article is about the summit and has a date near "summit" (the day a statement was made), but not the
    # summit's date: refused on evidence, not on type, so the best sentence answers, with no short answer.
    answer = sample_newsrag.ask("On what date is the leaders' summit scheduled?")
    assert not answer.refused and answer.citations, answer.text
    assert answer.short_answer is None and "**" not in answer.text, answer.text


def test_a_question_no_article_is_about_is_refused(sample_newsrag: NewsRAG) -> None:
    answer = sample_newsrag.ask("On what date will the Zanzibar ferry strike end?")
    assert answer.refused and answer.short_answer is None, answer.text


def test_an_untyped_question_gets_sentences_and_no_short_answer(sample_newsrag: NewsRAG) -> None:
    answer = sample_newsrag.ask("What are Putin's peace conditions?")
    assert not answer.refused and answer.short_answer is None
    assert "**" not in answer.text


def test_short_answers_reach_http_clients_as_a_field(tmp_path: Path, sample_newsrag: NewsRAG) -> None:
    payload = sample_newsrag.ask("How long did Witkoff and Putin meet?").to_dict()
    assert payload["short_answer"] == "three hours"


def test_the_cli_shows_the_short_answer_bold_on_a_terminal_and_markdown_when_piped() -> None:
    from rag.cli.main import styled

    text = "**Missouri and Texas** — Two tickets were sold in Missouri and Texas [1]."
    assert styled(text, terminal=False) == text
    shown = styled(text, terminal=True)
    assert str(shown) == "Missouri and Texas — Two tickets were sold in Missouri and Texas [1]."
    assert [(str(shown)[s.start : s.end], s.style) for s in shown.spans] == [("Missouri and Texas", "bold")]


def test_amounts_are_found_as_news_writes_them() -> None:
    def amounts(question: str, sentence: str) -> list[str]:
        return [c.text for c in vote(analyse(question), [sentence], [1.0]) if c.fits]

    assert amounts("How much will Tidewater ferry fares fall?", "Tidewater would cut adult fares by a fifth.") == [
        "a fifth"
    ]
    assert amounts("By how much did profits grow?", "Profits doubled last year.") == ["doubled"]
    assert amounts("How much did the tax fall?", "The tax was cut by half, officials said.") == ["half"]
    assert amounts("By how much did prices rise?", "Prices rose 20 per cent in May.") == ["20 per cent"]
    assert amounts("How much did the company raise?", "It raised $2.5bn from investors.") == ["$2.5bn"]
    # A capitalised word after a count starts a name: the count is the answer.
    assert amounts("How many agents work at the centre?", "The firm employs 70 Remote Assistance agents.") == ["70"]


def _passage(title: str, text: str, n: int = 0) -> Passage:
    return Passage(chunk_id=f"c{n}", article_id=f"a{n}", title=title, source="Gazette", url="", text=text)


FARES = """Ferry operators told the regulator on Monday how fares will change from March.
Operator | Route | Change in adult fares
Tidewater | Hampton to Norfolk | cut by a fifth
Bayline | Cape Charles to Norfolk | cut by 10%
Harbour Express | Norfolk to Portsmouth | up 5%
The regulator said the changes would be reviewed in a year."""


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much will Tidewater adult fares fall?", "a fifth"),
        ("By how much will Bayline cut fares?", "10%"),
        ("How much will Harbour Express fares change?", "5%"),
    ],
)
def test_a_table_row_answers_for_what_it_names(sample_newsrag: NewsRAG, question: str, expected: str) -> None:
    engine = ExtractiveEngine(sample_newsrag.components.embedder, min_confidence=0.0)
    extract = engine.extract(question, [_passage("Ferry fares to change in March", FARES)])
    assert extract.short is not None and extract.short.text == expected
    # The row is quoted under its header, and no other row is.
    assert [s.answer_text.split(": ", 1)[0] for s in extract.sentences] == ["Operator | Route | Change in adult fares"]


def test_a_how_much_question_is_answered_from_a_fraction_in_words(sample_newsrag: NewsRAG) -> None:
    text = (
        "Tidewater, which runs the Hampton ferry, told riders in its newsletter on Friday that it would cut adult"
        " fares by a fifth from March. The company also plans a new evening crossing."
    )
    engine = ExtractiveEngine(sample_newsrag.components.embedder, min_confidence=0.0)
    extract = engine.extract("How much will Tidewater ferry fares fall?", [_passage("Tidewater newsletter", text)])
    assert not extract.refused and extract.short is not None and extract.short.text == "a fifth"


def test_an_answer_quotes_no_other_story(sample_newsrag: NewsRAG) -> None:
    def story(bridge: str, city: str, day: str, architect: str, n: int) -> Passage:
        return _passage(
            f"{bridge} Bridge opens in {city}",
            f"The {bridge} Bridge in {city} opened to traffic on {day} 2025, after four years of construction.\n"
            f"Its architect is {architect}, who won the design competition in 2019.\n"
            "City officials expect thousands of vehicles a day to cross it.",
            n,
        )

    passages = [story("Doziban", "Tupimar", "26 October", "Tomas Kuritus", 0)] + [
        story(b, c, d, a, n)
        for n, (b, c, d, a) in enumerate(
            [("Mamozir", "Vazevin", "3 July", "Elena Tubikur"), ("Sadutun", "Dutiler", "10 June", "Ravi Zebirus")], 1
        )
    ]
    engine = ExtractiveEngine(sample_newsrag.components.embedder, min_confidence=0.0)
    extract = engine.extract("When did the Doziban Bridge in Tupimar open?", passages)
    assert extract.short is not None and extract.short.text == "26 October 2025"  # not "four years"
    assert {s.passage for s in extract.sentences} == {0}, [s.text for s in extract.sentences]


def test_a_short_answer_under_the_confidence_threshold_is_not_stated(tmp_path: Path, sample_newsrag: NewsRAG) -> None:
    stated = sample_newsrag.ask("How long did Witkoff and Putin meet?")
    assert stated.candidates and stated.candidates[0].text == "three hours" == stated.short_answer
    assert 0.0 <= stated.candidates[0].confidence <= 1.0 and stated.candidates[0].signals
    doubtful = NewsRAG(sample_newsrag.settings.model_copy(update={"short_answer_confidence": 1.0}))
    answer = doubtful.ask("How long did Witkoff and Putin meet?")
    assert answer.short_answer is None and "**" not in answer.text, answer.text
    assert answer.candidates[0].text == "three hours"  # still there for API users, with its confidence
    assert "three hours" in answer.text  # the sentence naming it is still quoted
