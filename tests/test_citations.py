"""Unit tests for rag.citations: marker normalisation, sentence splitting, support scoring and verification."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answering.citations import (
    CitedSentence,
    VerifiedAnswer,
    normalise_markers,
    split_sentences,
    support_score,
    verify,
)

ARTICLE = Path(__file__).resolve().parents[1] / "data" / "articles" / "witkoff-putin-meeting.txt"


def _line(start: str) -> str:
    """The article's line that starts with ``start`` (curly apostrophes as in the file)."""
    lines = [line for line in ARTICLE.read_text(encoding="utf-8").splitlines() if line.startswith(start)]
    assert len(lines) == 1, start
    return lines[0]


CONDITIONS = _line("Mr Putin’s conditions for peace")
AIR_ATTACKS = _line("Since the two sides resumed direct peace talks")
TARIFF = _line("Mr Trump took a key step toward punitive measures")
INDIA = _line("The new measure raises tariffs on some Indian goods")
PASSAGES = [AIR_ATTACKS, TARIFF, CONDITIONS]


# --- normalise_markers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Talks ended [1].", "Talks ended [1]."),
        ("Talks ended [1,2].", "Talks ended [1][2]."),
        ("Talks ended [1, 2].", "Talks ended [1][2]."),
        ("Talks ended [1][3].", "Talks ended [1][3]."),
        ("Talks ended [1] [3].", "Talks ended [1][3]."),
        ("Talks ended [1-3].", "Talks ended [1][2][3]."),
        ("Talks ended [1–3].", "Talks ended [1][2][3]."),
        ("Talks ended [3-1].", "Talks ended [1][2][3]."),
        ("Talks ended (1).", "Talks ended [1]."),
        ("Talks ended (1, 2).", "Talks ended [1][2]."),
        ("Talks ended (1), he said.", "Talks ended [1], he said."),
        ("Talks ended (2)", "Talks ended [2]"),
        ("Talks ended [Source 2].", "Talks ended [2]."),
        ("Talks ended [source: 2].", "Talks ended [2]."),
        ("Talks ended [Sources 1, 3].", "Talks ended [1][3]."),
        ("Talks ended [Passage 3].", "Talks ended [3]."),
        ("Talks ended [doc 1].", "Talks ended [1]."),
        ("Talks ended 【1】.", "Talks ended [1]."),
        ("Talks ended 【2†source】.", "Talks ended [2]."),
        ("Talks ended [^1].", "Talks ended [1]."),
        ("Talks ended (Source 2) in Moscow.", "Talks ended [2] in Moscow."),
        ("Talks ended[1].", "Talks ended [1]."),
        ("Talks ended [1] .", "Talks ended [1]."),
    ],
)
def test_normalise_marker_forms(raw: str, expected: str) -> None:
    assert normalise_markers(raw, 3) == expected


@pytest.mark.parametrize(
    "prose",
    [
        "The deadline was set in (2025).",
        "It was the first meeting (1 of 3) this summer.",
        "He won (2) titles in May.",
        "The match ended (2-1).",
        "(1) Russia attacked Kyiv.",
        "It cost $1.5 billion (about 3 per cent).",
    ],
)
def test_normalise_leaves_prose_parentheses_alone(prose: str) -> None:
    assert normalise_markers(prose, 3) == prose


def test_normalise_drops_out_of_range_numbers_and_tidies_whitespace() -> None:
    assert normalise_markers("Talks ended [0]. Kyiv was hit [9] , badly [1, 9].", 3) == (
        "Talks ended. Kyiv was hit, badly [1]."
    )
    assert normalise_markers("[9] Talks  ended [4-7] today [2-5].", 3) == "Talks ended today [2][3]."


def test_normalise_bare_parenthesis_out_of_range_stays_prose() -> None:
    assert normalise_markers("Russia fired drones (12).", 3) == "Russia fired drones (12)."
    assert normalise_markers("Russia fired drones [12].", 3) == "Russia fired drones."


def test_normalise_collapses_duplicates_and_keeps_newlines() -> None:
    assert normalise_markers("A [1][1][2][1].\n\nB [doc 2] [2].", 3) == "A [1][2].\n\nB [2]."
    assert normalise_markers("- A [1].\n  - B [9] [2].\n  [9] C.", 3) == "- A [1].\n  - B [2].\n  C."


# --- split_sentences ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr Putin met Dr. Smith. He left.", ["Mr Putin met Dr. Smith.", "He left."]),
        ("Mrs. May visited St. Paul. She left.", ["Mrs. May visited St. Paul.", "She left."]),
        ("The U.S. imposed tariffs. Russia objected.", ["The U.S. imposed tariffs.", "Russia objected."]),
        ("They met on Aug. 6 in Moscow. Jan. 5 was set.", ["They met on Aug. 6 in Moscow.", "Jan. 5 was set."]),
        ("No. 10 said so. It was 3.5 per cent.", ["No. 10 said so.", "It was 3.5 per cent."]),
        ("Author J. K. Rowling wrote it. Then she left.", ["Author J. K. Rowling wrote it.", "Then she left."]),
        ("He said: “Great progress was made.” Then he left.", ["He said: “Great progress was made.”", "Then he left."]),
        ("Is it over? Yes! Done.", ["Is it over?", "Yes!", "Done."]),
        ("- First point [1].\n2. Second point.", ["First point [1].", "Second point."]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_attaches_markers_after_the_period_to_the_preceding_sentence() -> None:
    assert split_sentences("Talks ended. [1] Kyiv was hit. [2][3]") == ["Talks ended. [1]", "Kyiv was hit. [2][3]"]
    assert split_sentences("He said “It works.” [2] Then he left.") == ["He said “It works.” [2]", "Then he left."]


def test_split_keeps_leading_marker_on_first_sentence() -> None:
    assert split_sentences("[1] Talks ended. Kyiv was hit.") == ["[1] Talks ended.", "Kyiv was hit."]


def test_split_empty() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n ") == []


# --- support_score -----------------------------------------------------------------------------------------------


def test_support_score_paraphrase_supported_and_invention_not() -> None:
    passage = (
        "Mr Putin's conditions for peace include a legally binding pledge that Nato will not expand eastwards, "
        "Ukrainian neutrality, protection for Russian speakers, and acceptance of Russia's territorial gains in "
        "the war, Russian sources have said."
    )
    assert support_score("Putin wants a pledge that Nato will not expand eastwards.", passage) >= 0.8
    assert support_score("Putin demanded a $5 billion payment.", passage) < 0.35


def test_support_score_numbers_must_match_exactly() -> None:
    assert support_score("Russian attacks killed at least 72 people in Kyiv.", AIR_ATTACKS) == 1.0
    assert support_score("Russian attacks killed at least 73 people in Kyiv.", AIR_ATTACKS) == 0.0
    assert support_score("Russian attacks killed at least 7 people in Kyiv.", AIR_ATTACKS) == 0.0
    assert support_score("Trump imposed an additional 25% tariff.", TARIFF) == 1.0
    assert support_score("Trump imposed an additional 26% tariff.", TARIFF) == 0.0


def test_support_score_percent_spellings_are_one_number() -> None:
    assert support_score("Tariffs on Indian goods were raised to 50%.", INDIA) == 1.0
    assert support_score("Tariffs on Indian goods were raised to 50 percent.", INDIA) == 1.0
    # a bare 50 is a different figure from 50 per cent
    assert support_score("Tariffs on Indian goods were raised to 50.", INDIA) == 0.0


def test_support_score_sentence_without_content_words() -> None:
    assert support_score("Yes.", CONDITIONS) == 1.0
    assert support_score("It is.", CONDITIONS) == 1.0


def test_support_score_similarity_combines_by_max_but_numbers_still_gate() -> None:
    sentence = "Moscow sets terms for ending the fighting."
    lexical = support_score(sentence, CONDITIONS)
    assert lexical < 0.35
    assert support_score(sentence, CONDITIONS, similarity=lambda a, b: 0.9) == pytest.approx(0.9)
    assert support_score(sentence, CONDITIONS, similarity=lambda a, b: -0.5) == lexical
    wrong_number = "Putin wants a pledge that Nato will not expand eastwards by 2030."
    assert support_score(wrong_number, CONDITIONS, similarity=lambda a, b: 0.99) == 0.0


# --- verify ------------------------------------------------------------------------------------------------------


def test_verify_supported_and_unsupported_sentences() -> None:
    answer = "Putin wants a pledge that Nato will not expand eastwards [3]. Putin demanded a $5 billion payment [3]."
    result = verify(answer, PASSAGES)
    assert isinstance(result, VerifiedAnswer)
    assert result.text == (
        "Putin wants a pledge that Nato will not expand eastwards [1]. Putin demanded a $5 billion payment [1]."
    )
    assert result.cited == [3]
    first, second = result.sentences
    assert first.text == "Putin wants a pledge that Nato will not expand eastwards."
    assert first.passages == [1] and first.supported
    assert first.support >= 0.8
    assert second.passages == [1] and second.support < 0.35 and not second.supported
    assert result.unsupported == ["Putin demanded a $5 billion payment."]


def test_verify_renumbers_by_first_appearance() -> None:
    answer = (
        "Putin set conditions for peace [3]. Russia killed 72 people in Kyiv [1][3]. Trump imposed a 25% tariff [2]."
    )
    result = verify(answer, PASSAGES)
    assert result.cited == [3, 1, 2]
    assert result.text == (
        "Putin set conditions for peace [1]. Russia killed 72 people in Kyiv [2][1]. Trump imposed a 25% tariff [3]."
    )
    assert [s.passages for s in result.sentences] == [[1], [2, 1], [3]]
    assert result.unsupported == []


def test_verify_best_support_among_cited_passages() -> None:
    result = verify("Russia killed 72 people in Kyiv [2][1].", PASSAGES)
    (sentence,) = result.sentences
    assert sentence.support == support_score("Russia killed 72 people in Kyiv.", AIR_ATTACKS) == 1.0
    assert sentence.passages == [1, 2] and result.cited == [2, 1]


def test_verify_marker_after_period_and_at_start() -> None:
    result = verify("[3] Putin wants a Nato pledge. Russia killed 72 people in Kyiv. [1]", PASSAGES)
    assert result.cited == [3, 1]
    assert [s.passages for s in result.sentences] == [[1], [2]]
    assert result.text == "[1] Putin wants a Nato pledge. Russia killed 72 people in Kyiv. [2]"
    assert all(s.supported for s in result.sentences)


def test_verify_flags_sentence_without_markers_but_keeps_it() -> None:
    answer = "Russia killed 72 people in Kyiv (1). Mr Trump called the attacks disgusting."
    result = verify(answer, PASSAGES)
    assert result.text == "Russia killed 72 people in Kyiv [1]. Mr Trump called the attacks disgusting."
    missing = result.sentences[1]
    assert missing == CitedSentence(
        text="Mr Trump called the attacks disgusting.", passages=[], support=0.0, supported=False
    )
    assert result.unsupported == ["Mr Trump called the attacks disgusting."]


def test_verify_removes_out_of_range_markers() -> None:
    result = verify("Russia killed 72 people in Kyiv [0][9]. Putin wants a Nato pledge [Source 3, Source 7].", PASSAGES)
    assert result.text == "Russia killed 72 people in Kyiv. Putin wants a Nato pledge [1]."
    assert result.cited == [3]
    assert result.sentences[0].passages == [] and not result.sentences[0].supported


@pytest.mark.parametrize(
    "refusal",
    [
        "The articles don't say how long the meeting lasted.",
        "The articles don’t say how long the meeting lasted.",
        "I don't know.",
        "The provided passages do not mention the price of oil.",
        "There is no information about Chinese tariffs.",
        "The sources do not specify the date of the summit.",
    ],
)
def test_verify_refusals_citing_nothing_are_not_flagged(refusal: str) -> None:
    result = verify(refusal, PASSAGES)
    assert result.unsupported == []
    assert result.sentences[0].supported and result.sentences[0].passages == []


def test_verify_content_free_sentence() -> None:
    cited = verify("Yes [2].", PASSAGES)
    assert cited.sentences[0].support == 1.0 and cited.sentences[0].supported
    assert cited.cited == [2] and cited.text == "Yes [1]."
    assert verify("Yes.", PASSAGES).unsupported == []


def test_verify_threshold_is_respected() -> None:
    answer = "Putin wants Ukrainian neutrality and billions in reparations [3]."
    score = support_score("Putin wants Ukrainian neutrality and billions in reparations.", CONDITIONS)
    assert 0 < score < 1
    assert verify(answer, PASSAGES, threshold=score).unsupported == []
    assert verify(answer, PASSAGES, threshold=score + 0.01).unsupported == [
        "Putin wants Ukrainian neutrality and billions in reparations."
    ]


def test_verify_similarity_can_rescue_a_paraphrase() -> None:
    answer = "Moscow sets terms for ending the fighting [3]."
    assert verify(answer, PASSAGES).unsupported == [answer.replace(" [3]", "")]
    assert verify(answer, PASSAGES, similarity=lambda a, b: 0.8).unsupported == []


def test_verify_empty_text() -> None:
    assert verify("", PASSAGES) == VerifiedAnswer(text="", cited=[], sentences=[], unsupported=[])
    assert verify("   ", []) == VerifiedAnswer(text="", cited=[], sentences=[], unsupported=[])


def test_verify_text_that_is_only_markers() -> None:
    assert verify("[1][2]", PASSAGES) == VerifiedAnswer(text="", cited=[], sentences=[], unsupported=[])
    assert verify(" [9] ", PASSAGES) == VerifiedAnswer(text="", cited=[], sentences=[], unsupported=[])


def test_verify_with_no_passages_drops_every_marker() -> None:
    result = verify("Russia killed 72 people in Kyiv [1].", [])
    assert result.text == "Russia killed 72 people in Kyiv."
    assert result.cited == [] and result.unsupported == ["Russia killed 72 people in Kyiv."]


def test_verify_lead_in_ending_with_colon_is_not_a_claim() -> None:
    result = verify("Here is a summary of the talks:\n- Russia killed 72 people in Kyiv [1].", PASSAGES)
    assert [s.text for s in result.sentences] == ["Here is a summary of the talks:", "Russia killed 72 people in Kyiv."]
    assert result.unsupported == []
    assert result.text == "Here is a summary of the talks:\n- Russia killed 72 people in Kyiv [1]."


def test_support_score_possessives_and_curly_apostrophes_match_plain_names() -> None:
    passage = "The meeting between Mr Witkoff and Putin made progress."
    assert support_score("Witkoff’s meeting with Putin made progress.", passage) == 1.0
    assert support_score("Witkoff's meeting with Putin made progress.", passage) == 1.0
