"""PDF text as PDFium reads it (issue #34): words kept apart in LaTeX-built PDFs, ligatures mapped, hyphenated
words joined, dot leaders and chapter running heads gone, a sensible title; noise refused with the OCR reason;
a blank page not called scanned; a text file named .pdf told so.

The real files (tests/data/real/, licences in its README) are pages cut from the Debian Reference (English and
Japanese, dblatex + xdvipdfmx) and from LaTeX News 30 (two columns, pdfTeX).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.article import Article
from ingest.filekind import Limits
from ingest.pdf import load_pdf, strip_furniture
from ingest.pdf_text import page_lines, pick_headline
from ingest.quality import REASON, unreadable
from tests.support.documents import write_garbled_pdf, write_pdf

REAL = Path(__file__).parent / "data" / "real"
LIMITS = Limits(max_bytes=5_000_000, max_items=100)
PROSE = [
    "The council met on Monday to vote on the new school budget for the coming year.",
    "Members agreed to raise spending on teachers and repairs by four per cent.",
    "The mayor said the plan would be paid for by savings elsewhere in the city.",
]


def _load(path: Path) -> list[tuple[str, object]]:
    return list(load_pdf(path, str(path), LIMITS))


def _article(path: Path) -> Article:
    loaded = _load(path)[0][1]
    assert isinstance(loaded, Article), loaded
    return loaded


def test_debian_reference_keeps_its_words_apart() -> None:
    article = _article(REAL / "debian-reference-en.pdf")
    assert article.title == "Debian Reference"
    # pypdf gave "Ithinklearningacomputersystemislikelearninganewforeignlanguage."
    assert "I think learning a computer system is like learning a new foreign language." in article.text
    assert "Upon starting the system, you are presented with the character based login screen" in article.text
    assert ". . . ." not in article.text  # the contents page's dot leaders


def test_japanese_pages_read_and_pass_the_quality_check() -> None:
    article = _article(REAL / "debian-reference-ja.pdf")
    assert "仮想コンソール" in article.text and "root のパスワードを使って" in article.text
    assert unreadable(article.text) is None


def test_two_column_latex_news_joins_hyphenated_words_and_maps_ligatures() -> None:
    article = _article(REAL / "ltnews30.pdf")
    assert article.title == "LaTeX News"
    assert "development branch" in article.text  # PDFium marks "devel-/opment" with U+0002; joined
    assert "\x02" not in article.text and not any("\ufb00" <= c <= "\ufb06" for c in article.text)
    assert "Our hopes 1" not in article.text and "Our hopes\nWe don’t expect" in article.text  # contents line gone


def test_a_column_s_lines_run_on_into_paragraphs_though_a_full_width_line_is_twice_as_long() -> None:
    article = _article(REAL / "ltnews30.pdf")
    # A column line is ~50 characters, the page's footer ~120: measured against the footer, each column line looked
    # like a heading and the sentence stayed cut at every line end.
    assert "should preferably be logged as an issue on GitHub, following the procedure outlined" in article.text
    assert "file XeLaTeX.engine to XeLaTeX-dev.engine and change the call" in article.text


def test_an_answer_over_real_pages_says_each_sentence_once(tmp_path: Path) -> None:
    """A sentence shown as another's context, or held by two overlapping chunks, is not said again."""
    from rag import NewsRAG
    from rag.core.settings import load_settings

    newsrag = NewsRAG(load_settings(index_dir=tmp_path / "index", engine="extractive"))
    newsrag.ingest(REAL / "ltnews30.pdf", REAL / "debian-reference-en.pdf")
    for question in ("What command runs the LaTeX development format on a file?", "What is the root account?"):
        said = [s.strip() for s in re.split(r"\[[\d,–-]+\]", newsrag.ask(question).text) if len(s.strip()) > 30]
        assert len(said) == len(set(said)), said


def test_page_lines_clean_the_text_layer() -> None:
    lines = page_lines("The ﬁrst ﬂoor\r\nIntroduction . . . . . . . . 3\r\nDetails please . . . .\r\n2.5.8\r\nxiv\r\n")
    assert lines == ["The first floor", "Details please"]
    assert page_lines("a devel\x02opment branch") == ["a development branch"]


def test_the_headline_is_the_largest_font_never_a_number() -> None:
    lines = [(9.0, "12"), (20.0, "3.1"), (18.0, "Council passes"), (18.0, "school budget"), (10.0, "The council")]
    assert pick_headline(lines, 10.0) == "Council passes school budget"
    assert pick_headline([(10.0, "Body text"), (10.0, "more")], 10.0) == ""


def test_chapter_running_heads_go_but_a_line_seen_now_and_then_stays() -> None:
    pages = [[f"Chapter {1 + i // 6}. Part {i // 6}", f"Body line {i} of the report text."] for i in range(18)]
    pages[2].insert(0, "Note")
    pages[16].insert(0, "Note")
    pages[9].insert(0, "Note")
    stripped = strip_furniture(pages)
    assert all(not line.startswith("Chapter") for lines in stripped for line in lines)
    assert sum(line == "Note" for lines in stripped for line in lines) == 3


@pytest.mark.parametrize("first", [0xE000, 0x9000], ids=["private-use", "rare-han"])
def test_a_broken_font_map_fails_with_the_ocr_reason(tmp_path: Path, first: int) -> None:
    garbled = write_garbled_pdf(tmp_path / "gazette.pdf", PROSE * 3, first=first)
    [(_, refused)] = _load(garbled)
    assert str(refused) == REASON
    fine = write_pdf(tmp_path / "fine.pdf", [PROSE * 3])
    assert isinstance(_load(fine)[0][1], Article)  # the same words through a sound font


def test_a_blank_page_is_not_called_scanned(tmp_path: Path) -> None:
    loaded = _load(write_pdf(tmp_path / "report.pdf", [PROSE, None, PROSE]))
    assert len(loaded) == 1 and isinstance(loaded[0][1], Article)
    scanned = _load(write_pdf(tmp_path / "scan.pdf", [PROSE, []]))
    assert "scanned?" in str(scanned[1][1])
    [(_, blank)] = _load(write_pdf(tmp_path / "blank.pdf", [None, None]))
    assert str(blank) == "no text: its pages are blank"


def test_a_text_file_named_pdf_gets_a_plain_reason(tmp_path: Path) -> None:
    fake = tmp_path / "notes.pdf"
    fake.write_text("Council notes\n" + " ".join(PROSE), encoding="utf-8")
    [(_, refused)] = _load(fake)
    assert str(refused) == "not a PDF: the file starts with text; rename it .txt"


SENTENCES = {
    "en": "The harbour bridge reopened to traffic on Monday after eight months of repairs to its steel deck.",
    "ru": "Городской совет в понедельник утвердил бюджет школ на следующий год и увеличил расходы на ремонт.",
    "ja": "東京都は月曜日、新しい地下鉄路線の建設を年内に完了すると発表した。知事は交通渋滞の緩和に重要だと述べた。",
    "zh": "北京市政府周一宣布，将在今年年底前完成地铁新线的建设工作。市长表示，这项工程对缓解城市交通压力很重要。",
    "ar": "أعلنت الحكومة يوم الاثنين عن خطة جديدة لتحسين شبكة النقل العام في العاصمة، وقال الوزير إنه سيكتمل.",
}


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_real_text_passes_the_quality_check(language: str) -> None:
    assert unreadable(SENTENCES[language]) is None
    assert unreadable(SENTENCES[language] * 40) is None


def test_noise_fails_the_quality_check() -> None:
    assert unreadable("".join(chr(0x0400 + (i * 37) % 700) + chr(0x2200 + i % 200) for i in range(300)))
    assert unreadable(" ".join("Thecouncilmetonmonday" * 10))
    assert unreadable("Ұ ҩ Ӂ") is None  # too short to judge
