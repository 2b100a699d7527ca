"""A citation and an answer's sources as Markdown, HTML and terminal text: the one place each front end draws them.

The app's Sources block, Jupyter's rich display, Copy as Markdown, the History export and the CLI all show the
same things the same way: ``[n]`` (the number the answer's markers point to), the title ("(untitled)" without
one), then the source, the date (published, or when a web archive saw the page) and the page of a paged document
joined by " · ", the link, and the supporting quote. A link is shown only when it is plain http(s)
(:func:`rag.core.html.is_web_link`), and HTML escapes every piece of text: titles, sources, urls and passages
come from untrusted article authors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from rag.core import html as h

UNSUPPORTED = "⚠ this passage may not support the sentence citing it"


class Cited(Protocol):
    """What rendering reads of a :class:`rag.core.types.Citation` (a protocol, as types.py imports this module)."""

    number: int
    title: str
    source: str
    url: str
    text: str  # the passage
    quote: str  # its sentence that supports the citing one, "" when none was picked
    supported: bool

    def when(self) -> str: ...

    def page_label(self) -> str: ...


def title(c: Cited) -> str:
    return c.title or "(untitled)"


def details(c: Cited) -> list[str]:
    """The source, the date and the page, those known."""
    return [x for x in (c.source, c.when(), c.page_label()) if x]


def link(c: Cited) -> str:
    """The citation's url when a page may link to it, else ""."""
    return c.url.strip() if h.is_web_link(c.url) else ""


def _headline(c: Cited, named: str) -> str:
    meta = " · ".join(details(c))
    return f"[{c.number}] {named}" + (f" — {meta}" if meta else "")


# ----- Markdown: Copy as Markdown, the History export, _repr_markdown_
def citation_markdown(c: Cited) -> str:
    """``[n] [title](link) — source · date · page``, and the quote, if any, as an indented block quote."""
    named = f"[{title(c)}]({link(c)})" if link(c) else title(c)
    return _headline(c, named) + (f"\n    > {c.quote}" if c.quote else "")


def sources_markdown(citations: Iterable[Cited]) -> str:
    return "\n".join(citation_markdown(c) for c in citations)


# ----- terminal text: the CLI
def citation_text(c: Cited) -> str:
    """``[n] title — source · date · page <link>``, and the quote, if any, in quotation marks."""
    line = _headline(c, title(c)) + (f" <{link(c)}>" if link(c) else "")
    return line + (f"\n    “{c.quote}”" if c.quote else "")


def sources_text(citations: Iterable[Cited]) -> str:
    return "\n".join(citation_text(c) for c in citations)


# ----- HTML for Jupyter: a numbered list styled inline (a notebook has no stylesheet of ours)
def citation_html(c: Cited, anchor: str) -> str:
    """A list item with the id ``{anchor}-{number}``, which the answer's [n] link to: the title linked, its details,
    the url, and the quote marked in the passage around it."""
    meta = " · ".join(h.escape(x) for x in details(c))
    warning = "" if c.supported else f" <b>{UNSUPPORTED}</b>"
    url = f"<br><small>{h.safe_link(link(c), link(c))}</small>" if link(c) else ""
    return (
        f'<li id="{anchor}-{c.number}" value="{c.number}">'
        f"<b>{h.safe_link(link(c), title(c))}</b>{' — ' + meta if meta else ''}{warning}{url}"
        f'<blockquote style="{h.QUOTE_STYLE}">{h.highlight(c.text, c.quote)}</blockquote></li>'
    )


def sources_html(citations: Iterable[Cited], anchor: str) -> str:
    return f"<ol>{''.join(citation_html(c, anchor) for c in citations)}</ol>"


# ----- HTML for the app's Sources block: classes its stylesheet styles (rag/ui/theme.py), the whole passage
def citation_block(c: Cited) -> str:
    """``[n] title``, its details and link, and the whole passage with the quote marked."""
    # Inert, not just escaped: the block is a chat message, which Gradio reads as Markdown around the HTML.
    meta = [h.inert(x) for x in details(c)] + ([h.safe_link(link(c), "link")] if link(c) else [])
    warning = "" if c.supported else f'<div class="nr-warning">{UNSUPPORTED}</div>'
    return (
        f'<div class="nr-source"><div class="nr-source-head">[{c.number}] {h.inert(title(c))}</div>'
        f'<div class="nr-source-meta">{" · ".join(meta) or "no source or date known"}</div>{warning}'
        f'<div class="nr-passage">{h.marked(c.text, c.quote)}</div></div>'
    )


def sources_blocks(citations: Iterable[Cited]) -> str:
    return "".join(citation_block(c) for c in citations)
