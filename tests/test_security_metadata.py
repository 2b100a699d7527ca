"""Article metadata is untrusted: no title, source, byline or url an author writes can make newsrag slow or unsafe.

- YAML front matter is parsed without aliases: a "billion laughs" of under 400 bytes is refused at once instead of
  becoming a title of a hundred megabytes (25 s and 1.6 GB to ingest, a minute per page load to serve).
- Title, source, authors and url are capped wherever an Article is made (JSON, JSON Lines, Markdown front matter,
  HTML), so a 1 MB title is not copied onto every chunk of the index.
- Only http(s) urls are kept: a ``javascript:`` url must never come back as a citation link, through the Gradio
  API or /v1, whether ingested now or read from an index built before this check.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from llama_index.core.schema import TextNode

from evals.app_process import Server, environment, serving
from ingest.article import Article
from ingest.files import load_file
from ingest.records import BadInput, from_html, from_record
from ingest.text import MAX_FRONT_MATTER_BYTES
from rag.core.types import (
    MAX_AUTHOR_CHARS,
    MAX_AUTHORS,
    MAX_SOURCE_CHARS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    Citation,
    Passage,
)
from rag.index.store import ArticleRecord
from rag.service.newsrag import NewsRAG

MAX_BYTES = 5_000_000
BAKERS = "Bakers in Westvale raised bread prices after flour cost rose by 14 percent in March, the guild said."
UNSAFE_URLS = [
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "  JaVaScRiPt:alert(document.cookie)",
    "java\tscript:alert(1)",  # browsers drop tabs and newlines inside a url, scheme included
    "\x01javascript:alert(1)",  # ... and leading control characters
    "https://news.example.com/\njavascript:alert(1)",
    "//evil.example.com/x",  # scheme-relative: not a url of the article's own
    "https://news.example.com/" + "a" * MAX_URL_CHARS,  # too long to be a real link
]


def alias_bomb() -> str:
    """Markdown whose front matter is 8 levels of 8 aliases: 8**8 "lol"s, over 100 MB once turned into text."""
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol]"]
    for name, below in zip("bcdefgh", "abcdefg", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{below}"] * 8) + "]")
    return "---\n" + "\n".join(levels) + "\ntitle: *h\n---\n" + BAKERS + "\n"


def only(loaded: list[tuple[str, Article | BadInput]]) -> Article | BadInput:
    ((_, result),) = loaded
    return result


def assert_capped(article: Article | BadInput) -> None:
    assert isinstance(article, Article), article
    assert 0 < len(article.title) <= MAX_TITLE_CHARS and article.title.endswith("…")
    assert 0 < len(article.source) <= MAX_SOURCE_CHARS
    assert 0 < len(article.authors) <= MAX_AUTHORS and all(0 < len(a) <= MAX_AUTHOR_CHARS for a in article.authors)
    assert article.url == ""  # too long to be kept as a link


# ----- front matter
def test_alias_bomb_front_matter_is_refused_at_once_in_little_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.md"
    bomb.write_text(alias_bomb())
    assert bomb.stat().st_size <= 500 and 8**8 * len("'lol', ") > 100_000_000
    tracemalloc.start()
    try:
        result = only(list(load_file(bomb, MAX_BYTES)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, BadInput) and "alias" in str(result), result
    assert peak < 2_000_000, f"parsing a {bomb.stat().st_size}-byte file took {peak / 1e6:.0f} MB"


@pytest.mark.parametrize(
    ("front_matter", "reason"),
    [
        ("title: x\nsummary: " + "word " * (MAX_FRONT_MATTER_BYTES // 5), "front matter too large"),
        ("title: " + "[" * 5000, "nested more than"),
        ("base: &base {source: Gazette}\n<<: *base\ntitle: Merged", "alias"),
    ],
    ids=["oversized", "deep", "merge-key"],
)
def test_hostile_front_matter_is_refused_with_its_reason(tmp_path: Path, front_matter: str, reason: str) -> None:
    path = tmp_path / "hostile.md"
    path.write_text(f"---\n{front_matter}\n---\n{BAKERS}\n")
    tracemalloc.start()
    try:
        result = only(list(load_file(path, MAX_BYTES)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, BadInput) and reason in str(result), result
    assert peak < 20_000_000


# ----- caps, wherever an Article is made
LONG = {
    "title": "Headline words " * 70_000,  # about 1 MB
    "source": "Gazette " * 5_000,
    "authors": ["Jane Q Reporter " * 50] * 1_000,
    "url": "https://news.example.com/" + "a" * 5_000,
}


def test_json_and_jsonl_metadata_is_capped(tmp_path: Path) -> None:
    record = {**LONG, "text": BAKERS}
    assert_capped(from_record(record, "x"))
    (tmp_path / "one.json").write_text(json.dumps(record))
    (tmp_path / "lines.jsonl").write_text(json.dumps(record) + "\n")
    assert_capped(only(list(load_file(tmp_path / "one.json", MAX_BYTES))))
    assert_capped(only(list(load_file(tmp_path / "lines.jsonl", MAX_BYTES))))


def test_front_matter_metadata_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "long.md"
    authors = "\n".join(f"  - {'Jane Q Reporter ' * 20}{n}" for n in range(30))
    path.write_text(
        f"---\ntitle: {'Headline words ' * 600}\nsource: {'Gazette ' * 400}\nauthors:\n{authors}\n"
        f"url: https://news.example.com/{'a' * 5_000}\n---\n{BAKERS}\n"
    )
    assert_capped(only(list(load_file(path, MAX_BYTES))))


def test_html_metadata_is_capped() -> None:
    html = f"""<html><head><title>{LONG["title"][:200_000]}</title>
    <meta name="author" content="{"Jane Q Reporter " * 500}">
    <meta property="og:site_name" content="{LONG["source"]}">
    <link rel="canonical" href="{LONG["url"]}">
    </head><body><article><p>{BAKERS * 5}</p></article></body></html>"""
    assert_capped(from_html(html.encode(), "page.html"))


@pytest.mark.slow  # loads the embedder and embeds 20 chunks
def test_one_megabyte_json_title_keeps_the_index_small(tmp_path: Path) -> None:
    """The title is copied onto every chunk: uncapped, 1 MB of it over 20 chunks made a 20+ MB index."""
    text = " ".join(f"On day {n} the council of Northam met to discuss the budget for the year." for n in range(300))
    path = tmp_path / "big-title.json"
    path.write_text(json.dumps({"title": LONG["title"], "text": text, "url": "https://news.example.com/budget"}))
    newsrag = NewsRAG(index_dir=tmp_path / "index")
    report = newsrag.ingest(path)
    assert report.ok and report.chunks_written >= 20, report.outcomes
    index_bytes = sum(p.stat().st_size for p in (tmp_path / "index").rglob("*") if p.is_file())
    assert index_bytes < 5_000_000, f"the index is {index_bytes / 1e6:.0f} MB"
    (record,) = newsrag.articles()
    assert len(record.title) <= MAX_TITLE_CHARS and record.url == "https://news.example.com/budget"


# ----- urls
@pytest.mark.parametrize("url", UNSAFE_URLS, ids=range(len(UNSAFE_URLS)))
def test_only_http_urls_are_kept_at_ingest(url: str) -> None:
    article = from_record({"title": "Bread", "text": BAKERS, "url": url}, "x")
    assert article.url == "" and article.source == ""  # nor is a site name read from such a url
    assert Article(title="Bread", text=BAKERS, url=url).url == ""


def test_http_urls_are_kept() -> None:
    kept = from_record({"title": "Bread", "text": BAKERS, "url": " HTTPS://News.Example.com/bread?id=1 "}, "x")
    assert (kept.url, kept.source) == ("HTTPS://News.Example.com/bread?id=1", "news.example.com")
    assert Article(title="Bread", text=BAKERS, url="http://news.example.com/a b").url == "http://news.example.com/a%20b"


@pytest.mark.parametrize("url", UNSAFE_URLS, ids=range(len(UNSAFE_URLS)))
def test_passages_from_an_older_index_are_sanitised(url: str) -> None:
    """An index built before ingest checked urls and lengths still holds them: retrieval cleans what it reads."""
    meta = {"article_id": "a1", "title": "Bread " * 100_000, "source": "Gazette " * 1_000, "url": url}
    passage = Passage.from_node(TextNode(id_="a1-x-00000", text=BAKERS, metadata=meta), 1.0)
    assert passage.url == "" and len(passage.title) <= MAX_TITLE_CHARS and len(passage.source) <= MAX_SOURCE_CHARS
    # An answer logged before the fix, reopened from the history
    logged = {**passage.model_dump(), "url": url, "title": meta["title"], "number": 1}
    assert Citation.model_validate(logged).url == ""
    safe = {**meta, "url": "https://news.example.com/bread"}
    assert Passage.from_node(TextNode(id_="a1-x-00000", text=BAKERS, metadata=safe), 1.0).url == safe["url"]
    # The article list (the Articles tab, `newsrag articles`) reads the same metadata
    record = ArticleRecord(**meta, content_hash="h", n_chunks=1, ingested_at=0.0)
    assert record.url == "" and len(record.title) <= MAX_TITLE_CHARS and len(record.source) <= MAX_SOURCE_CHARS


# ----- through a real server: the Gradio API and /v1
STORIES = [  # (url as the author wrote it, question, fact the answer quotes)
    (
        "javascript:alert(document.cookie)",
        "What will the furnace in Marrow Bay make?",
        "The glassblowers' guild said the Marrow Bay furnace will make green bottles for the cider makers.",
    ),
    (
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "How many hives did the beekeepers of Oldtown count?",
        "The beekeepers of Oldtown counted twelve thousand hives this spring, the most in a decade.",
    ),
    (
        "vbscript:msgbox(1)",
        "Who repainted the Greyhaven lighthouse?",
        "Volunteers from the sailing club repainted the Greyhaven lighthouse in red and white stripes.",
    ),
    (
        "  JaVaScRiPt:alert(1)",
        "Who won the Southby chess tournament?",
        "A fourteen-year-old schoolgirl won the Southby chess tournament after beating three grandmasters.",
    ),
    (
        "https://news.example.com/ferry-cancelled",
        "Why was the ferry to Marrow Bay cancelled?",
        "The island ferry to Marrow Bay was cancelled for three days because of gales, the harbour master said.",
    ),
]
BIG_TITLE = (
    "How much rain fell in Eastport on Sunday?",
    "A record 140 millimetres of rain fell in Eastport on Sunday, flooding the market square.",
)
LEGACY = (  # ingested before the fix: its url and long title are in the index as written
    "javascript:alert('legacy')",
    "When did frost hit the orchards of Appleford?",
    "Frost hit the orchards of Appleford in the last week of April and ruined half the apple blossom.",
)
# What an index built before this fix held: the article is ingested with a placeholder url and title, then its
# chunks' metadata (the fields and LlamaIndex's node copy of them) is rewritten to the url and title as written.
LEGACY_INGEST = textwrap.dedent(
    """
    import json, sys
    from rag.service.newsrag import NewsRAG
    legacy = json.loads(open(sys.argv[1]).read())
    placeholder = sys.argv[1] + ".placeholder.json"
    open(placeholder, "w").write(json.dumps(legacy | {"url": "https://legacy.example/", "title": "placeholder"}))
    newsrag = NewsRAG()
    report = newsrag.ingest(placeholder)
    assert report.ok, report.outcomes
    old = {"url": legacy["url"], "title": legacy["title"]}
    got = newsrag.store.collection.get(include=["metadatas"])
    metadatas = []
    for meta in got["metadatas"]:
        node = json.loads(meta["_node_content"])
        node["metadata"].update(old)
        metadatas.append(meta | old | {"_node_content": json.dumps(node)})
    newsrag.store.collection.update(ids=got["ids"], metadatas=metadatas)
    stored = newsrag.store.collection.get(include=["metadatas"])["metadatas"]
    assert {m["url"] for m in stored} == {legacy["url"]} and {len(m["title"]) for m in stored} == {len(old["title"])}
    """
)


def _story(url: str, fact: str, title: str) -> dict[str, str]:
    return {"title": title, "url": url, "text": f"{fact} It was the talk of the county for weeks afterwards."}


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("hostile-metadata")
    legacy = root / "legacy.json"
    legacy.write_text(json.dumps(_story(LEGACY[0], LEGACY[2], "Orchard frost " * 20_000)))
    env = environment(root)
    subprocess.run([sys.executable, "-c", LEGACY_INGEST, str(legacy)], env=env, cwd=root, check=True)
    with serving("hostile-metadata", root, ingest=False) as started:
        yield started


# Requests get a generous time limit, so that the code before this fix fails here rather than hanging for minutes.
WAIT = 120


def _upload(server: Server, path: Path) -> list[list[Any]]:
    """The result rows of uploading ``path`` through the app's /ingest API, as a web visitor can."""
    from gradio_client import Client, handle_file

    job = Client(server.url, verbose=False).submit([handle_file(str(path))], "", api_name="/ingest")
    return job.result(timeout=WAIT)["data"]


@pytest.fixture(scope="module")
def uploaded(hostile_server: Server, tmp_path_factory: pytest.TempPathFactory) -> list[list[Any]]:
    """The hostile stories (and one with a 1 MB title), uploaded as JSON Lines by a web visitor."""
    stories = [_story(url, fact, f"Story {n}") for n, (url, _, fact) in enumerate(STORIES)]
    stories.append(_story("https://news.example.com/rain", BIG_TITLE[1], "Rain record " * 90_000))
    path = tmp_path_factory.mktemp("uploads") / "stories.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in stories))
    rows = _upload(hostile_server, path)
    assert [row[1] for row in rows] == ["added"] * len(stories), [row[:2] + row[3:] for row in rows]
    return rows


def _citations(server: Server, question: str) -> list[list[dict[str, Any]]]:
    """The citations of ``question`` as the Gradio API and /v1 return them."""
    from gradio_client import Client

    answer = Client(server.url, verbose=False).submit(question, api_name="/ask").result(timeout=WAIT)
    body = {"model": "newsrag", "messages": [{"role": "user", "content": question}]}
    response = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=WAIT)
    assert response.status_code == 200, response.text[:1000]
    assert len(response.content) < 100_000, f"an answer of {len(response.content):,} bytes"
    return [answer["citations"], response.json()["choices"][0]["citations"]]


def _brief(citations: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(c["title"][:60], c["url"], c["text"][:60]) for c in citations]


def fact_in_answer(server: Server, question: str, fact: str) -> bool:
    return any(fact in c["text"] for citations in _citations(server, question) for c in citations)


@pytest.mark.server
@pytest.mark.parametrize(
    ("url", "question", "fact"), [*STORIES, LEGACY], ids=["javascript", "data", "vbscript", "case", "https", "legacy"]
)
def test_citation_urls_are_http_or_empty(
    hostile_server: Server, uploaded: list[list[Any]], url: str, question: str, fact: str
) -> None:
    expected = url if url.startswith("https://") else ""
    for citations in _citations(hostile_server, question):
        cited = [c for c in citations if fact in c["text"]]
        assert cited, _brief(citations)
        assert all(c["url"] == expected for c in cited), _brief(cited)
        assert all(c["url"] == "" or c["url"].startswith("https://") for c in citations), _brief(citations)
        assert all(len(c["title"]) <= MAX_TITLE_CHARS for c in citations), _brief(citations)


@pytest.mark.server
def test_a_megabyte_title_makes_no_megabyte_answer(hostile_server: Server, uploaded: list[list[Any]]) -> None:
    assert all(len(row[2]) <= MAX_TITLE_CHARS for row in uploaded)  # as the upload's result table shows it
    question, fact = BIG_TITLE
    for citations in _citations(hostile_server, question):
        cited = [c for c in citations if fact in c["text"]]
        assert cited and all(c["title"].startswith("Rain record") for c in cited), _brief(citations)
        assert all(len(c["title"]) <= MAX_TITLE_CHARS for c in cited), _brief(cited)


@pytest.mark.server
def test_alias_bomb_upload_fails_with_its_reason(
    hostile_server: Server, uploaded: list[list[Any]], tmp_path: Path
) -> None:
    """Last in this file: before the fix, this upload took minutes and left a title of 100+ MB in the index."""
    bomb = tmp_path / "bomb.md"
    bomb.write_text(alias_bomb())
    ((name, status, _, _, reason),) = _upload(hostile_server, bomb)
    assert (name, status) == ("bomb.md", "failed") and "alias" in reason, reason
    assert fact_in_answer(hostile_server, *BIG_TITLE)  # the app still answers
