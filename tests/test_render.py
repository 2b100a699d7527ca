"""One citation renderer: Markdown, terminal text and the two HTML layouts show the same sources, safely."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest

from rag.core import render
from rag.core.html import marked
from rag.core.types import Citation

URL = "https://gazette.example/ferry-terminal"


def _citation(**fields: object) -> Citation:
    base: dict[str, object] = {
        "chunk_id": "c1",
        "article_id": "a1",
        "title": "Ferry terminal approved",
        "source": "Northport Gazette",
        "url": URL,
        "published_at": "2025-09-14T08:00:00+00:00",
        "text": "Before. The council approved 48 million euros. After.",
        "quote": "The council approved 48 million euros.",
        "number": 2,
        "page": 3,
        "last_page": 4,
    }
    return Citation(**(base | fields))  # type: ignore[arg-type]


def test_markdown_names_number_title_link_details_and_quote() -> None:
    assert render.citation_markdown(_citation()) == (
        f"[2] [Ferry terminal approved]({URL}) — Northport Gazette · 2025-09-14 · pp. 3–4\n"
        "    > The council approved 48 million euros."
    )
    bare = _citation(title="", source="", url="", published_at="", page=None, last_page=None, quote="")
    assert render.citation_markdown(bare) == "[2] (untitled)"
    two = render.sources_markdown([_citation(number=1, quote=""), _citation()])
    assert two.startswith(f"[1] [Ferry terminal approved]({URL}) — ") and "\n[2] [Ferry" in two


def test_terminal_text_shows_the_link_after_the_details() -> None:
    archived = _citation(url="", published_at="", seen_at="2024-03-05T10:00:00", page=None, last_page=None)
    assert render.sources_text([_citation(), archived]) == (
        f"[2] Ferry terminal approved — Northport Gazette · 2025-09-14 · pp. 3–4 <{URL}>\n"
        "    “The council approved 48 million euros.”\n"
        "[2] Ferry terminal approved — Northport Gazette · seen 2024-03-05\n"
        "    “The council approved 48 million euros.”"
    )


@pytest.mark.parametrize(
    "draw",
    [
        render.citation_markdown,
        render.citation_text,
        lambda c: html.unescape(render.citation_html(c, "a")),
        lambda c: html.unescape(render.citation_block(c)),
    ],
    ids=["markdown", "text", "notebook", "app"],
)
def test_every_front_end_shows_the_same_source(draw: Callable[[Citation], str]) -> None:
    shown = draw(_citation())
    for part in ("Ferry terminal approved", "Northport Gazette · 2025-09-14 · pp. 3–4", URL, "48 million euros"):
        assert part in shown, shown
    assert "[2]" in shown or 'value="2"' in shown
    crafted = Citation.model_construct(**(_citation().model_dump() | {"url": "javascript:alert(1)"}))
    assert "javascript:" not in draw(crafted)  # made without the model's check: the renderer checks again


def test_html_escapes_article_text_and_links_only_the_web() -> None:
    planted = _citation(title="<script>x</script>", source='"><img src=x>', url="", quote="", supported=False)
    for shown in (render.citation_html(planted, "a"), render.citation_block(planted)):
        assert "<script" not in shown and "<img" not in shown and "<a " not in shown
        assert "&lt;script&gt;x&lt;/script&gt;" in shown and render.UNSUPPORTED in shown
    block = render.citation_block(_citation())
    assert f'<a href="{URL}" target="_blank" rel="noopener noreferrer">link</a>' in block
    unknown = _citation(source="", published_at="", page=None, last_page=None, url="")
    assert "no source or date known" in render.citation_block(unknown)


def test_the_app_shows_the_whole_passage_and_the_notebook_the_quote_in_context() -> None:
    long = _citation(text="x " * 300 + "The council approved 48 million euros." + " y" * 300)
    assert "x " * 300 in render.citation_block(long)
    assert "…" in render.citation_html(long, "a") and "x " * 300 not in render.citation_html(long, "a")
    assert marked("One. Two  words. Three.", "Two words.") == "One. <mark>Two  words.</mark> Three."
    assert marked("a <b>", "elsewhere") == "a &lt;b&gt;"  # a quote not found: the passage, unmarked
    assert render.sources_html([_citation()], "n").startswith('<ol><li id="n-2" value="2">')
