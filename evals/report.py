"""Eval outputs a person can read: results.jsonl, summary.json, report.md and a chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.chart import chart_figure
from evals.runner import EvalResult
from rag.core.html import metric as _fmt


def write_outputs(result: EvalResult, out: Path, title: str = "newsrag eval") -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for row in result.rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(result.summary, indent=2), encoding="utf-8")
    chart = write_chart(result.summary, out / "chart.png", title)
    (out / "report.md").write_text(report_markdown(result, title, chart), encoding="utf-8")


def write_chart(summary: dict[str, Any], path: Path, title: str) -> str:
    chart_figure(summary, title).savefig(path, dpi=110)
    return path.name


def report_markdown(result: EvalResult, title: str, chart: str) -> str:
    s = result.summary
    lines = [f"# {title}", "", f"![metrics]({chart})", "", "| metric | value |", "| --- | --- |"]
    for key, value in s.items():
        if key != "config" and not isinstance(value, list | dict):
            lines.append(f"| {key} | {_fmt(value)} |")
    lines += ["", "Config: " + ", ".join(f"{k}={v}" for k, v in s.get("config", {}).items()), ""]
    if s.get("per_week"):
        lines += ["## By week", "", *_table(s["per_week"]), ""]
    failed = [r for r in result.rows if _failed(r)]
    lines += [f"## Cases that failed ({len(failed)})", ""]
    for r in failed:
        lines.append(f"- **{r['id']}** {r['question']}  ")
        lines.append(f"  answer: {r['answer'][:300] or '(none)'}  ")
        lines.append(f"  expected: {r['gold'][:200]}  {r['error']}")
    return "\n".join(lines) + "\n"


def _table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown table lines for a list of flat dicts: the columns of the first row that some row has a value for
    (an open run's weeks have no ``mc_accuracy``)."""
    columns = [c for c in rows[0] if any(row.get(c) is not None for row in rows)]
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return lines


def _failed(row: dict[str, Any]) -> bool:
    metrics = row["metrics"]
    return bool(row["error"]) or any(
        metrics.get(k) is False for k in ("correct", "refusal_ok", "contains_gold", "forbidden_ok")
    )


def compare(dir_a: Path, dir_b: Path) -> str:
    """A Markdown side-by-side of two eval runs: metrics, then the cases whose outcome changed."""
    sa = json.loads((dir_a / "summary.json").read_text())
    sb = json.loads((dir_b / "summary.json").read_text())
    lines = [f"| metric | {dir_a.name} | {dir_b.name} | change |", "| --- | --- | --- | --- |"]
    for key in [k for k in sa if k != "config"] + [k for k in sb if k not in sa and k != "config"]:
        a, b = sa.get(key), sb.get(key)
        if isinstance(a, list | dict) or isinstance(b, list | dict):  # per_week and the like: see report.md
            continue
        delta = f"{b - a:+.3f}" if isinstance(a, int | float) and isinstance(b, int | float) else ""
        lines.append(f"| {key} | {_fmt(a)} | {_fmt(b)} | {delta} |")
    rows_a = {r["id"]: r for r in _rows(dir_a)}
    changed = []
    for rb in _rows(dir_b):
        ra = rows_a.get(rb["id"])
        if ra is not None and _failed(ra) != _failed(rb):
            changed.append(f"- {rb['id']}: {'fixed' if _failed(ra) else 'broke'} — {rb['question']}")
    lines += ["", f"Cases that changed: {len(changed)}", *changed]
    return "\n".join(lines) + "\n"


def _rows(directory: Path) -> list[dict[str, Any]]:
    text = (directory / "results.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
