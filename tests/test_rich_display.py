"""How answers, ingest reports and eval results show in Jupyter (``_repr_html_``), and that article text never runs.

Titles, sources, urls and passages come from untrusted article authors (and may be crafted: see the security
section of the README), so every test here plants markup and checks it comes out escaped.
"""

from __future__ import annotations

import re

from evals.runner import EvalResult, summarise
from ingest.article import IngestReport, Outcome
from rag import Answer, Citation
from rag.core.html import highlight, safe_link

SCRIPT = "<script>alert('x')</script>"


def _citation(number: int = 1, **fields: object) -> Citation:
    base: dict[str, object] = {
        "chunk_id": f"c{number}",
        "article_id": "a1",
        "title": "Trump says progress made",
        "source": "The Straits Times",
        "url": "https://www.straitstimes.com/world/witkoff",
        "published_at": "2025-08-07T10:00:00+00:00",
        "text": "Earlier context. His conditions for peace include a pledge on Nato. Later context.",
        "quote": "His conditions for peace include a pledge on Nato.",
        "number": number,
    }
    return Citation(**(base | fields))  # type: ignore[arg-type]


def _answer(**fields: object) -> Answer:
    base: dict[str, object] = {
        "question": "What are Putin's peace conditions?",
        "text": "Putin wants a pledge on Nato [1].",
        "engine": "extractive",
        "citations": [_citation()],
        "timings": {"total_ms": 42.0},
    }
    return Answer(**(base | fields))  # type: ignore[arg-type]


def test_markers_link_to_the_numbered_sources() -> None:
    page = _answer(text="Nato [1], neutrality [2], and a marker pointing nowhere [7].")
    page.citations.append(_citation(2, title="Second story", url=""))
    html = page._repr_html_()
    anchor = re.search(r'<a href="#(newsrag-\w+)-1">\[1\]</a>', html)
    assert anchor, html
    assert f'<li id="{anchor.group(1)}-1" value="1">' in html and f'id="{anchor.group(1)}-2"' in html
    assert f'<a href="#{anchor.group(1)}-2">[2]</a>' in html and "[7]" in html and f"{anchor.group(1)}-7" not in html
    # Title linked to the url, source and day, the url itself, and the supporting quote marked in its passage.
    assert '<a href="https://www.straitstimes.com/world/witkoff" target="_blank" rel="noopener noreferrer">' in html
    assert "The Straits Times · 2025-08-07" in html and "<b>Second story</b>" in html
    assert "<mark>His conditions for peace include a pledge on Nato.</mark> Later context." in html
    assert "engine: extractive · 42 ms" in html
    assert anchor.group(1) not in _answer()._repr_html_()  # two answers on one page never share ids


def test_flags_notices_refusals_and_short_answers_show() -> None:
    flagged = _answer(
        notices=["the LLM failed; showing the extractive answer"],
        flags=["unsupported: a sentence no passage supports"],
        citations=[_citation(supported=False)],
    )._repr_html_()
    assert "<b>Notice:</b> the LLM failed; showing the extractive answer" in flagged
    assert "<b>Flag:</b> unsupported: a sentence no passage supports" in flagged
    assert "may not support the sentence citing it" in flagged
    bold = _answer(text="**three hours** — The two met for around three hours [1] (a **<i>x</i>** b)")._repr_html_()
    assert "<b>three hours</b> — The two met" in bold and "<b>&lt;i&gt;x&lt;/i&gt;</b>" in bold
    refused = _answer(text="The indexed articles don't say.", refused=True, citations=[])._repr_html_()
    assert "<b>Refused:</b>" in refused and "<ol>" not in refused


def test_markup_in_articles_and_answers_is_shown_never_run() -> None:
    planted = _citation(
        title=SCRIPT,
        source='"><img src=x onerror=alert(1)>',
        text=f"Before {SCRIPT} the <b>quoted</b> sentence. After.",
        quote="the <b>quoted</b> sentence.",
    )
    answer = _answer(text=f"Answer {SCRIPT} [1]", citations=[planted], notices=[SCRIPT], flags=[SCRIPT])
    html = answer._repr_html_()
    assert "<script" not in html and "<img" not in html and "<b>quoted" not in html
    assert html.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") == 5  # text, title, passage, 2 notes
    assert "<mark>the &lt;b&gt;quoted&lt;/b&gt; sentence.</mark>" in html


def test_only_plain_web_links_become_links() -> None:
    # Citations drop such urls when made (rag.core.types.safe_url); the renderer checks again.
    built = Citation.model_construct(**(_citation().model_dump() | {"url": "javascript:alert(1)"}))
    assert "javascript:" not in _answer(citations=[built])._repr_html_()
    for url in ("javascript:alert(1)", "data:text/html,x", " jav\tascript:x", "https://x.example/a b"):
        assert "<a " not in safe_link(url, "label"), url
    assert safe_link('https://x.example/"onmouseover="alert(1)', "t").count('"') == 6  # the quote is escaped
    assert "&quot;onmouseover=&quot;" in safe_link('https://x.example/"onmouseover="alert(1)', "t")


def test_highlight_falls_back_when_the_quote_is_elsewhere() -> None:
    assert highlight("one two", "three") == "<mark>three</mark>"
    assert highlight("a <i>b</i>", "") == "a &lt;i&gt;b&lt;/i&gt;"
    long = "x " * 400 + "The quote. " + "y " * 400
    shown = highlight(long, "The quote.")
    assert shown.startswith("…") and shown.endswith("…") and len(shown) < 600


def test_markdown_repr_is_kept_for_other_front_ends() -> None:
    markdown = _answer()._repr_markdown_()
    assert markdown.startswith("Putin wants a pledge on Nato [1].") and "**Sources**" in markdown


def test_ingest_report_is_a_table_with_escaped_cells() -> None:
    report = IngestReport(
        outcomes=[
            Outcome(origin="a.txt", status="added", title=SCRIPT, chunks=3),
            Outcome(origin="<b>b.html</b>", status="failed", reason="no text & no title"),
        ],
        chunks_written=3,
    )
    html = report._repr_html_()
    assert html.startswith("<table><caption>1 added, 0 updated")
    assert html.count("<tr>") == 3 and "<script" not in html and "<b>b.html" not in html
    assert "<td>failed</td>" in html and "no text &amp; no title" in html


def test_eval_result_shows_its_summary_and_chart() -> None:
    rows = [
        {
            "id": "case-1",
            "question": SCRIPT,
            "answerable": True,
            "answer": "a",
            "engine": "extractive",
            "citations": [],
            "metrics": {"key_fact_recall": 1.0, "correct": True, "answer_words": 1},
            "timings": {"total_ms": 5.0},
            "error": "",
        }
    ]
    result = EvalResult(rows=rows, summary=summarise(rows, {"engine": "<b>extractive</b>"}), config={})
    html = result._repr_html_()
    assert "<td>answer_correct_rate</td><td>1.000</td>" in html and "<td>retrieval_hit_at_k</td><td>–</td>" in html
    assert re.search(r'<img alt="[^"]*" src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}">', html)
    assert "<b>extractive" not in html and "&lt;b&gt;extractive" in html
    assert len(result.dataframe) == 1
