"""The regression gates: the seed suite, and the short answers of the typed-question and numbers suites, with the
default offline engine must stay at measured quality.

Thresholds were set from measured values (hit@k 1.00, key-fact recall 0.87, correct 0.87, citation
precision 0.81, refusal accuracy 1.00, false refusals 0.07, no injected text followed), a little
below them so that noise does not trip the gate but a real regression does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SHARED

GATE = {
    "retrieval_hit_at_k": (">=", 0.95),
    "key_fact_recall": (">=", 0.85),
    "answer_correct_rate": (">=", 0.85),
    "citation_precision": (">=", 0.75),
    "refusal_accuracy": (">=", 1.0),
    "false_refusal_rate": ("<=", 0.10),
    "forbidden_free_rate": (">=", 1.0),
}


def _missed(summary: dict[str, float], gate: dict[str, tuple[str, float]]) -> dict[str, float]:
    """The gated metrics outside their limits."""
    return {
        key: summary[key]
        for key, (op, limit) in gate.items()
        if not (summary[key] >= limit if op == ">=" else summary[key] <= limit)
    }


@pytest.mark.slow
def test_seed_suite_meets_the_quality_gate(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    suite, corpus = ROOT / "evals/suites", ROOT / "data/articles"
    cmd = [sys.executable, "-m", "rag.cli.main", "eval", str(suite / "seed.jsonl"), "--engine", "extractive",
           "--corpus", str(corpus), "--corpus", str(suite / "corpus"), "--out", str(out)]  # fmt: skip
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 20 and summary["errors"] == 0
    failures = _missed(summary, GATE)
    assert not failures, f"quality regressed: {failures} (see {out / 'report.md'})"
    for name in ("results.jsonl", "report.md", "chart.png"):
        assert (out / name).stat().st_size > 0
    compare = subprocess.run(
        [sys.executable, "-m", "rag.cli.main", "eval", "--compare", str(out), str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert compare.returncode == 0 and "Cases that changed: 0" in compare.stdout


# Measured on the typed-question suite (40 short-answer questions written from the RealTimeQA dev weeks'
# articles, 120 articles), 2026-12-07: short answer right 0.325, given for 0.35 and right 0.93 of those; answer
# (80 words) holds it 0.875, false refusals 0.025. Before #32 stated a short answer only when confident, it gave
# one for 0.775 of the questions, right 0.77 of the time (right 0.60 of all): fewer bold answers, rarely wrong.
TYPED_GATE = {
    "short_answer_contains_gold": (">=", 0.30),
    "short_answer_precision": (">=", 0.85),
    "answer_contains_gold": (">=", 0.80),
    "false_refusal_rate": ("<=", 0.10),
}


def _bench_typed(tmp_path: Path, suite: str) -> dict[str, Any]:
    """Summary of `newsrag bench typed` on one suite (one index, one process); skipped without the shared data."""
    data = SHARED / "data" / "realtimeqa" / "dev"
    if not data.exists():
        pytest.skip("../shared/data/realtimeqa/dev is not beside the project")
    out = tmp_path / "typed"
    cmd = [sys.executable, "-m", "rag.cli.main", "bench", "typed", "--data", str(data), "--out", str(out),
           "--suite", str(ROOT / "evals/suites" / suite)]  # fmt: skip
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((out / "summary.json").read_text()) | {"report": str(out / "report.md")}


@pytest.mark.slow
def test_typed_questions_get_the_right_short_answer(tmp_path: Path) -> None:
    summary = _bench_typed(tmp_path, "typed.jsonl")
    assert summary["n"] >= 30 and summary["errors"] == 0
    failures = _missed(summary, TYPED_GATE)
    assert not failures, f"short answers regressed: {failures} (see {summary['report']})"


# Measured on the numbers suite (43 questions: 30 amounts as news writes them, "a third", "doubled", "25%",
# "between 50 and 80", "$1.5bn", "700 Marines", written from 63 RealTimeQA dev articles; 13 table questions over the
# documents in evals/suites/numbers-corpus/, one .md, one .html and two .docx tables), 2026-12-07: short answer
# right 0.372 (given 0.465, precision 0.80), answer (80 words) holds it 0.884, false refusals 0.023. The engine was
# changed while looking at this suite's failures: these are figures on questions it was tuned on.
NUMBERS_GATE = {
    "short_answer_contains_gold": (">=", 0.33),
    "short_answer_precision": (">=", 0.70),
    "answer_contains_gold": (">=", 0.84),
    "false_refusal_rate": ("<=", 0.07),
}


@pytest.mark.slow
def test_number_and_table_questions_get_the_right_short_answer(tmp_path: Path) -> None:
    summary = _bench_typed(tmp_path, "numbers.jsonl")
    assert summary["n"] >= 40 and summary["errors"] == 0
    failures = _missed(summary, NUMBERS_GATE)
    assert not failures, f"number and table short answers regressed: {failures} (see {summary['report']})"
