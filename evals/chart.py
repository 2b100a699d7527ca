"""An eval summary as a chart and as an HTML table with that chart, for report files and for notebooks."""

from __future__ import annotations

import base64
import io
from typing import Any

from rag.core.html import escape, metric, table_html

# Metrics shown as rates (0..1), in the order people ask about them.
RATES = [
    "retrieval_hit_at_k",
    "mrr_at_k",
    "key_fact_recall",
    "answer_correct_rate",
    "citation_precision",
    "refusal_accuracy",
    "false_refusal_rate",
    "answer_contains_gold",
    "token_f1",
    "retrieval_gold_at_k",
    "mc_accuracy",
    "short_answer_contains_gold",
    "short_answer_rate",
    "short_answer_precision",
]


def chart_figure(summary: dict[str, Any], title: str) -> Any:
    """The rates of ``summary`` as a horizontal bar chart (a matplotlib ``Figure``).

    Built without pyplot, so it neither needs nor changes a backend: a notebook's inline plots stay as they are,
    and no window opens on a desktop.
    """
    from matplotlib.figure import Figure

    names = [k for k in RATES if summary.get(k) is not None]
    values = [summary[k] for k in names]
    fig = Figure(figsize=(8, 0.45 * len(names) + 1.2))
    ax = fig.subplots()
    bars = ax.barh(names[::-1], values[::-1], color="#3b6ea5")
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in values[::-1]], padding=3)
    ax.set_xlim(0, 1.1)
    ax.set_title(f"{title} (n={summary.get('n')}, p50 {metric(summary.get('latency_p50_ms'))} ms)")
    fig.tight_layout()
    return fig


def summary_html(summary: dict[str, Any], title: str) -> str:
    """The summary's metrics as a table beside its chart (an inline PNG), as Jupyter shows an eval result."""
    png = io.BytesIO()
    chart_figure(summary, title).savefig(png, format="png", dpi=80)
    image = base64.b64encode(png.getvalue()).decode("ascii")
    rows = [(k, metric(v)) for k, v in summary.items() if k != "config" and not isinstance(v, list | dict)]
    config = ", ".join(f"{k}={v}" for k, v in summary.get("config", {}).items())
    return (
        '<div class="newsrag-eval" style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">'
        f"{table_html(('metric', 'value'), rows, caption=title)}"
        f'<img alt="{escape(title)} chart" src="data:image/png;base64,{image}">'
        f"</div><small>config: {escape(config)}</small>"
    )
