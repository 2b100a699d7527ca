"""Text in other scripts than Latin (#34): Japanese words found inside runs written without spaces, Russian words
kept whole, and the relevance gate reading such a question by its words (the embedder is English)."""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import pytest
import Stemmer

from rag import NewsRAG
from rag.core.text import bigrams, content_terms, mostly_non_latin, split_sentences, word_count
from rag.index import lexical_writes
from rag.index.lexical_folder import META_FILE
from rag.index.lexical_schema import Words
from tests.conftest import ROOT

JAPANESE = """ひかりエディタ、新しいスポンサーを発表
オープンソースのテキストエディタ「ひかりエディタ」の開発チームは、今年の活動を支える新しいスポンサーを発表した。
このプロジェクトのスポンサーは、東京のソフトウェア会社「青空システムズ」と京都の大学である。
青空システムズは、二人の開発者の給料を一年間支払う。
大学は、テストに使うサーバーを無償で提供する。
開発チームによると、次の版は秋に公開される予定だ。
"""
RUSSIAN = """Фестиваль «Белые ночи» нашёл нового спонсора
Организаторы музыкального фестиваля «Белые ночи» в Санкт-Петербурге объявили о новом партнёре.
Главным спонсором фестиваля стала компания «Северный ветер», которая производит велосипеды.
Компания оплатит аренду сцены и билеты для студентов.
Фестиваль пройдёт в июле на Дворцовой площади.
"""
ENGLISH = """Riverside library extends opening hours
The Riverside public library will open until 10pm on weekdays from next month, the city council said on Tuesday.
The change follows a petition signed by more than 4,000 students who wanted a quiet place to study in the evening.
The council will pay for two extra librarians from its culture budget, a spokeswoman said.
"""
JAPANESE_TITLE, RUSSIAN_TITLE, ENGLISH_TITLE = (text.splitlines()[0] for text in (JAPANESE, RUSSIAN, ENGLISH))
SENTENCES = [
    "The runners were running faster than ever, weren't they?",
    "Putin's envoy met Trump's team on Aug. 14 — 25% of the 1,000 delegates agreed.",
    "Café owners in Zürich and São Paulo said the naïve plan costs €3.5m.",
    "Спонсорами проекта являются компании «Яндекс» и «Сбер».",
    "Ελληνικά κείμενα · مرحبا بالعالم · שלום עולם",
    "",
]


def _bm25s(texts: list[str]) -> list[str]:
    """What the lexical index held before #34: bm25s's words, English stopwords and stems."""
    tokens = bm25s.tokenize(
        texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False, show_progress=False
    )
    return [" ".join(t) for t in tokens]  # type: ignore[union-attr]


# ----- the words -----------------------------------------------------------------------------------------------------
def test_text_without_cjk_letters_is_tokenized_exactly_as_before() -> None:
    articles = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "data" / "articles").glob("*.txt"))]
    assert articles
    texts = articles + SENTENCES + [ENGLISH, RUSSIAN]
    assert Words().joined(texts) == _bm25s(texts)
    assert [Words().joined([t])[0] for t in texts] == _bm25s(texts)


def test_runs_of_cjk_letters_become_bigrams_in_place() -> None:
    words = Words()
    assert words.distinct("スポンサー") == ["スポ", "ポン", "ンサ", "サー"]
    assert words.joined(["The Python製のツール runs", "誰", "東京 と 大阪"]) == [
        "python 製の のツ ツー ール run",
        "誰",
        "東京 と 大阪",
    ]
    assert bigrams("한국어") == ["한국", "국어"]
    assert words.distinct("中国的赞助商") == ["中国", "国的", "的赞", "赞助", "助商"]
    # The middle dot and full-width punctuation end a run.
    assert words.distinct("ソフト・ウェア。") == ["ソフ", "フト", "ウェ", "ェア"]


def test_russian_words_are_kept_whole() -> None:
    # Snowball's English stemmer leaves Cyrillic alone: nothing is cut or dropped.
    assert Words().distinct("Спонсорами проекта являются компании") == [
        "спонсорами",
        "проекта",
        "являются",
        "компании",
    ]
    # The engine's terms: whole words as written, without Russian's stop words ("кто").
    assert content_terms("Кто стал главным спонсором фестиваля?") == ["главным", "спонсором", "стал", "фестиваля"]


def test_the_engine_reads_japanese_words_between_its_particles() -> None:
    # Hiragana (は, ですか) separate the words as spaces do; the words are read as bigrams, as the index does.
    assert content_terms("スポンサーは誰ですか？") == ["サー", "スポ", "ポン", "ンサ", "誰"]
    assert content_terms("Who are the sponsors?") == ["sponsor"]
    assert split_sentences("スポンサーは誰ですか？青空システムズだ。「行く。」と言った。") == [
        "スポンサーは誰ですか？",
        "青空システムズだ。",
        "「行く。」と言った。",
    ]
    assert word_count("このプロジェクトのスポンサーは") == 7
    assert word_count("The council will pay, a spokeswoman said.") == 7


def test_a_question_mostly_in_another_script_is_told_apart() -> None:
    assert mostly_non_latin("スポンサーは誰ですか？")
    assert mostly_non_latin("GitHubのスポンサーは誰ですか？")
    assert mostly_non_latin("Кто стал главным спонсором?")
    assert not mostly_non_latin("What does スポンサー mean?")
    assert not mostly_non_latin("Who runs the Café Müller in Zürich?")


# ----- an index holding the three articles --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> NewsRAG:
    folder = tmp_path_factory.mktemp("non-latin")
    files = []
    for name, text in (("hikari.txt", JAPANESE), ("festival.txt", RUSSIAN), ("library.txt", ENGLISH)):
        (folder / name).write_text(text, encoding="utf-8")
        files.append(folder / name)
    newsrag = NewsRAG(index_dir=folder / "index", engine="extractive")
    assert newsrag.ingest(*files).ok
    return newsrag


@pytest.mark.parametrize(
    ("question", "title", "fact"),
    [
        ("スポンサーは誰ですか？", JAPANESE_TITLE, "青空システムズ"),
        ("スポンサー", JAPANESE_TITLE, "スポンサー"),
        ("青空システムズは何を支払いますか？", JAPANESE_TITLE, "給料"),
        ("Кто стал главным спонсором фестиваля?", RUSSIAN_TITLE, "Северный ветер"),
        ("Где пройдёт фестиваль?", RUSSIAN_TITLE, "Дворцовой площади"),
    ],
    ids=["ja-who", "ja-word", "ja-what", "ru-who", "ru-where"],
)
def test_a_question_in_the_articles_script_is_answered(three: NewsRAG, question: str, title: str, fact: str) -> None:
    answer = three.ask(question)
    assert not answer.refused, answer.relevance
    assert fact in answer.text
    assert "[1]" in answer.text
    assert answer.citations and all(c.title == title for c in answer.citations)
    assert fact in answer.citations[0].text
    assert answer.citations[0].quote in answer.text


def test_an_english_question_is_answered_as_before(three: NewsRAG) -> None:
    answer = three.ask("How late will the Riverside library open on weekdays?")
    assert answer.text == (
        "The Riverside public library will open until 10pm on weekdays from next month, the city council said on"
        " Tuesday. [1]"
    )
    assert [c.title for c in answer.citations] == [ENGLISH_TITLE]


@pytest.mark.parametrize(
    "question",
    [
        "サッカーの試合はいつですか？",
        "天気予報によると明日は雨が降りますか？",
        "Кто выиграл чемпионат мира по футболу?",
    ],
    ids=["ja-football", "ja-weather", "ru-football"],
)
def test_a_question_about_something_absent_is_still_refused(three: NewsRAG, question: str) -> None:
    answer = three.ask(question)
    assert answer.refused and not answer.citations
    assert answer.relevance < 0.1


def test_the_lexical_index_finds_a_word_inside_a_japanese_run(three: NewsRAG) -> None:
    found = three.lexical.retrieve("スポンサー", top_k=3)
    assert [hit.node.metadata["title"] for hit in found] == [JAPANESE_TITLE]
    found = three.lexical.retrieve("главным спонсором", top_k=3)
    assert [hit.node.metadata["title"] for hit in found] == [RUSSIAN_TITLE]


# ----- an index written before ---------------------------------------------------------------------------------------
class _OldWords(Words):
    def joined(self, texts: list[str]) -> list[str]:
        return _bm25s(texts)


def test_an_index_of_the_format_before_is_tokenized_again(tmp_path: Path) -> None:
    article = tmp_path / "hikari.txt"
    article.write_text(JAPANESE, encoding="utf-8")
    index = tmp_path / "index"
    newsrag = NewsRAG(index_dir=index)
    assert newsrag.ingest(article).ok
    lexical = newsrag.lexical
    lexical.ensure_fresh(force=True)
    # What an index written before #34 holds: the Japanese runs as single words, under a note of format 2.
    writer = lexical._folder.writer()
    lexical_writes.build(writer, _OldWords(), lexical.store.iter_chunks())
    del writer
    note = index / "lexical" / META_FILE
    note.write_text(json.dumps(json.loads(note.read_text(encoding="utf-8")) | {"format": 2}), encoding="utf-8")
    lexical._reload()
    assert lexical._search.search("スポンサー", 3) == []

    # Opened again, it is rebuilt from Chroma's chunks (no embedding) with the words of now.
    reopened = NewsRAG(index_dir=index)
    assert [hit.node.metadata["title"] for hit in reopened.lexical.retrieve("スポンサー", top_k=3)] == [JAPANESE_TITLE]


def test_a_japanese_article_in_one_paragraph_is_long_enough_to_index(tmp_path: Path) -> None:
    """Its words are not separated by spaces: counted as one "word", it was refused as too short."""
    text = "港の新しい橋は三月に開通した。市の発表によると、工事には二年かかり、費用は四十億円だった。"
    (tmp_path / "bridge.txt").write_text(f"港の橋が開通\n{text}\n", encoding="utf-8")
    report = NewsRAG(index_dir=tmp_path / "index").ingest(tmp_path / "bridge.txt")
    assert report.count("added") == 1, report.summary()


def test_the_english_embedder_says_so_and_an_article_in_another_script_is_added_with_a_note(tmp_path: Path) -> None:
    from rag import NewsRAG

    newsrag = NewsRAG(index_dir=tmp_path / "index", engine="extractive")
    assert newsrag.status()["embedder_languages"] == "English"
    page = tmp_path / "ja.txt"
    page.write_text(
        "デビアンの手引き\n" + "このプロジェクトのスポンサーは多くの企業と個人です。" * 20, encoding="utf-8"
    )
    english = tmp_path / "en.txt"
    english.write_text("Council budget\n" + "The council met on Monday to vote on the new school budget. " * 5)
    report = newsrag.ingest(page, english)
    notes = {Path(o.origin).name: o.reason for o in report.outcomes if o.status == "added"}
    assert "the bundled embedder serves English" in notes["ja.txt"] and "embedder" not in notes["en.txt"]
