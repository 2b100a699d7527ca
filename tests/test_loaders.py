"""Every input type through the real loaders: what comes out, and a one-line reason for what cannot."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from ingest.article import Article
from ingest.files import load_file
from ingest.records import BadInput, from_record
from rag.core.settings import Settings

MAX_BYTES = int(Settings.model_fields["max_article_mb"].default * 1_000_000)
BODY = (
    "The city council voted on Tuesday to approve a new budget for public schools. "
    "The plan adds funding for teachers, repairs old buildings and extends bus routes to the suburbs.\n"
    "Opponents said the spending was too high, but the measure passed by seven votes to two."
)


def load(path: Path) -> list[tuple[str, Article | BadInput]]:
    return list(load_file(path, MAX_BYTES))


def one_article(path: Path) -> Article:
    loaded = load(path)
    assert len(loaded) == 1, loaded
    where, article = loaded[0]
    assert where == str(path.resolve())
    assert isinstance(article, Article), article
    return article


def one_reason(path: Path) -> str:
    loaded = load(path)
    assert len(loaded) == 1, loaded
    _, bad = loaded[0]
    assert isinstance(bad, BadInput), bad
    reason = str(bad)
    assert reason and "\n" not in reason
    return reason


# ----- plain text and Markdown
def test_txt_title_from_first_line(tmp_path: Path) -> None:
    path = tmp_path / "budget.txt"
    path.write_text("Council approves school budget\n\n" + BODY, encoding="utf-8")
    article = one_article(path)
    assert article.title == "Council approves school budget"
    assert article.text.startswith("The city council voted on Tuesday")
    assert "Council approves school budget" not in article.text
    assert "seven votes to two" in article.text
    assert article.origin == str(path.resolve())
    assert (article.url, article.source, article.published_at) == ("", "", "")


def test_txt_sample_drops_page_boilerplate(sample_path: Path) -> None:
    article = one_article(sample_path)
    assert article.title == "Trump says progress made in US envoy Witkoff’s meeting with Russia’s Putin"
    for furniture in ("Sign up now", "PHOTO: REUTERS", "Follow topic:", "shaking hands with Russian President"):
        assert furniture not in article.text
    assert "great progress" in article.text


def test_markdown_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "budget.md"
    path.write_text(
        "---\n"
        "title: Council approves school budget\n"
        "url: https://news.example.com/local/budget\n"
        "source: Example Gazette\n"
        "date: 2025-08-06T14:30:00+02:00\n"
        "authors: [Ann Lee, Bob Ray]\n"
        "---\n"
        "## What was decided\n\n" + BODY + "\n\n![a photo](photo.jpg)\n",
        encoding="utf-8",
    )
    article = one_article(path)
    assert article.title == "Council approves school budget"
    assert article.url == "https://news.example.com/local/budget"
    assert article.source == "Example Gazette"
    assert article.published_at == "2025-08-06T12:30:00+00:00"
    assert article.authors == ["Ann Lee", "Bob Ray"]
    assert "---" not in article.text and "title:" not in article.text
    assert article.text.startswith("What was decided\n")  # the heading marks are gone, its words stay
    assert "photo.jpg" not in article.text
    # The id follows the URL, so the same story read from elsewhere is recognised.
    assert (
        article.article_id
        == Article(title="x", text="other words", url="http://news.example.com/local/budget/").article_id
    )


def test_markdown_without_front_matter_takes_heading_as_title(tmp_path: Path) -> None:
    path = tmp_path / "budget.md"
    path.write_text("# Council approves school budget\n\n" + BODY, encoding="utf-8")
    article = one_article(path)
    assert article.title == "Council approves school budget"
    assert article.text.startswith("The city council")


# ----- HTML
NEWS_PAGE = """<!doctype html>
<html><head>
<title>Storm cuts power to thousands on the coast | Daily Planet</title>
<meta property="og:title" content="Storm cuts power to thousands on the coast">
<meta property="og:site_name" content="Daily Planet">
<meta property="article:published_time" content="2025-08-06T09:00:00Z">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World and politics section</a></li>
<li><a href="/sport">Sport results and fixtures</a></li></ul></nav>
<article>
<h1>Storm cuts power to thousands on the coast</h1>
<p>A powerful storm struck the eastern coast on Wednesday, cutting power to thousands of homes and forcing
evacuations in several towns.</p>
<p>Emergency crews worked through the night to clear fallen trees and restore electricity, officials said in a
statement on Thursday morning.</p>
<p>The national weather service warned that more heavy rain was expected over the weekend, with flooding possible in
low-lying areas.</p>
</article>
<footer><p>Copyright 2025 Daily Planet. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>
"""


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "storm.html"
    path.write_text(NEWS_PAGE, encoding="utf-8")
    article = one_article(path)
    assert article.title == "Storm cuts power to thousands on the coast"
    assert article.source == "Daily Planet"
    assert article.published_at == "2025-08-06"
    assert "cutting power to thousands of homes" in article.text
    assert "flooding possible in low-lying areas" in article.text
    for boilerplate in ("World and politics section", "Sport results", "Privacy policy", "All rights reserved"):
        assert boilerplate not in article.text


# ----- JSON and JSON Lines
def record(n: int, **more: object) -> dict[str, object]:
    return {"title": f"Story number {n}", "text": f"Story {n}: {BODY}", **more}


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(record(1), id="object"),
        pytest.param([record(1), record(2)], id="list"),
        pytest.param({"articles": [record(1), record(2)], "total": 2}, id="articles-key"),
    ],
)
def test_json_shapes(tmp_path: Path, payload: object) -> None:
    path = tmp_path / "stories.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    loaded = load(path)
    expected = 1 if isinstance(payload, dict) and "articles" not in payload else 2
    assert [where for where, _ in loaded] == [f"{path.resolve()}#record{n}" for n in range(1, expected + 1)]
    assert all(isinstance(a, Article) for _, a in loaded), loaded
    assert [a.title for _, a in loaded] == [f"Story number {n}" for n in range(1, expected + 1)]  # type: ignore[union-attr]
    assert all(a.origin == str(path.resolve()) for _, a in loaded)  # type: ignore[union-attr]


def test_jsonl_maps_field_names_and_fails_per_line(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    lines = [
        json.dumps(
            {
                "headline": "Port strike ends after two weeks",
                "body": BODY,
                "link": "https://www.ports.example.org/news/strike-ends?utm_source=rss",
                "publish_date": "2025-07-31T18:45:00Z",
                "authors": ["Carla Diaz", "Dev Patel"],
            }
        ),
        '{"title": "broken", "text": "this line is cut off',
        json.dumps({"title": "A number, not text", "text": 42}),
        "",
        json.dumps(record(4, source="Wire Service", published_at=1754000000000)),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = dict(load(path))
    origin = str(path.resolve())
    assert list(loaded) == [f"{origin}#line{n}" for n in (1, 2, 3, 5)]

    first = loaded[f"{origin}#line1"]
    assert isinstance(first, Article)
    assert first.title == "Port strike ends after two weeks"
    assert first.text.startswith("The city council voted")
    assert first.url == "https://www.ports.example.org/news/strike-ends?utm_source=rss"
    assert first.source == "ports.example.org"  # from the URL when the record names none
    assert first.published_at == "2025-07-31T18:45:00+00:00"
    datetime.fromisoformat(first.published_at)
    assert first.authors == ["Carla Diaz", "Dev Patel"]

    broken = loaded[f"{origin}#line2"]
    assert isinstance(broken, BadInput) and str(broken).startswith("invalid JSON")

    number = loaded[f"{origin}#line3"]
    assert isinstance(number, BadInput)
    assert str(number) == "field 'text' is int, expected text"

    last = loaded[f"{origin}#line5"]
    assert isinstance(last, Article)
    assert (last.source, last.published_at) == ("Wire Service", "2025-07-31T22:13:20+00:00")  # epoch milliseconds


def test_realtimeqa_record_loads(shared_dir: Path) -> None:
    """A record as the RealTimeQA corpus has it (url, title, text, authors, publish_date)."""
    path = sorted((shared_dir / "data" / "realtimeqa" / "dev").glob("*_gcs.jsonl"))[0]
    raw = next(r for line in path.open() for r in json.loads(line)["search_result"] if r.get("publish_date"))
    article = from_record(raw, str(path))
    assert article.url == raw["url"]
    assert article.title == " ".join(raw["title"].split())
    assert article.source and article.source in raw["url"]
    datetime.fromisoformat(article.published_at)
    assert len(article.text.split()) > 20


# ----- inputs that hold no article: one clear, one-line reason each
BAD_INPUTS = [
    pytest.param("empty.txt", b"", "empty file", id="empty"),
    pytest.param("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file", id="binary"),
    pytest.param("latin1.txt", "Café society\n\nA story in Latin-1 é".encode("latin-1"), "not valid UTF-8", id="utf8"),
    pytest.param(
        "broken.html",
        b"<html><head><title></title></head><body><div><script>var x = 1;</script></span><p></div></ta",
        "no article text found in the HTML",
        id="malformed-html",
    ),
    pytest.param("no-text.json", json.dumps({"title": "Only a headline"}).encode(), "record has no text", id="no-text"),
    pytest.param("truncated.json", b'[{"title": "x", "text": "y"', "invalid JSON", id="invalid-json"),
    pytest.param("empty-list.json", b"[]", "JSON holds no records", id="empty-json"),
    pytest.param("blank.jsonl", b"\n\n  \n", "no records", id="blank-jsonl"),
    pytest.param("slides.pptx", b"PK\x03\x04 something", "unsupported file type .pptx", id="unsupported"),
    pytest.param("broken.pdf", b"%PDF-1.7 something", "not a readable PDF", id="broken-pdf"),
    pytest.param("broken.docx", b"PK\x03\x04 something", "not a .docx (not a readable zip archive", id="broken-docx"),
    pytest.param("old.docx", b"\xd0\xcf\x11\xe0" + bytes(60), "password-protected Word file or an old .doc", id="ole"),
    pytest.param("note.eml", b"Subject: hi\n\n", "no article text", id="empty-eml"),
    pytest.param("box.mbox", b"Subject: hi\n\nno From line", "not an mbox mailbox", id="not-mbox"),
    pytest.param("crawl.warc", b"this is not a web archive at all", "not a web archive", id="not-warc"),
    pytest.param("headline-only.txt", b"Just a headline\n", "too short", id="too-short"),
    pytest.param(
        "furniture.txt",
        b"Sign up now: Get our newsletters delivered to your inbox\nPHOTO: AFP\n",
        "empty",
        id="only-ui",
    ),
]


@pytest.mark.parametrize(("name", "data", "expected"), BAD_INPUTS)
def test_bad_input_has_one_line_reason(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert expected in one_reason(path)


def test_too_large_text_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    line = "A long sentence about the economy, repeated until the file is far larger than any article. "
    path.write_text("Huge file\n" + line * (6_000_000 // len(line) + 1), encoding="utf-8")
    assert path.stat().st_size > 6_000_000
    reason = one_reason(path)
    assert reason.startswith("too large for a news article")
    assert "5.0 MB" in reason


def test_missing_file_is_a_reason_not_an_exception(tmp_path: Path) -> None:
    assert one_reason(tmp_path / "gone.txt") == "cannot read: No such file or directory"
