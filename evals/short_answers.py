"""Fitting the short answer's confidence on the RealTimeQA dev weeks, and choosing its threshold for precision.

Every open question of every week is asked with the threshold off (the vote's winner always stated), and
its winner's signals are recorded beside whether it holds the right choice. A logistic model over the
signals is fitted on the first half of the weeks and checked on the other half, and the reverse; the
threshold is the lowest confidence from which the fitting half's short answers are right at least
``TARGET_PRECISION`` of the time. The model fitted on all weeks, with its threshold chosen the same way,
is what ships (``rag/assets/short-answer-model.json``); the two half-checks are the honest figures.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evals import metrics as m
from evals.realtimeqa import week_cases, week_index
from rag.answering.confidence import MODEL_SIGNALS, ConfidenceModel, features

TARGET_PRECISION = 0.60
# Ridge on the standardised weights: ~300 rows and 16 features overfit without it.
L2 = 1.0


@dataclass(frozen=True)
class Row:
    """One open question's vote winner (if any): its signals and whether it holds the right choice."""

    week: str
    question: str
    gold: str
    text: str | None
    signals: dict[str, float]
    right: bool
    refused: bool
    gold_retrieved: bool


def interleaved(weeks: Sequence[str]) -> list[str]:
    """The weeks alternately from each half (1, 14, 2, 15, …): a run stopped early still has both halves."""
    half = (len(weeks) + 1) // 2
    first, last = list(weeks[:half]), list(weeks[half:])
    return [w for pair in zip(first, last + [""] * (len(first) - len(last)), strict=True) for w in pair if w]


def collect(
    data_dir: Path, weeks: Sequence[str], index_cache: Path | None, progress: Callable[[str, list[Row]], None]
) -> list[Row]:
    """Every open question of ``weeks``, asked with every winner stated; ``progress`` gets each week's rows."""
    from rag.core.settings import load_settings

    settings = load_settings(engine="extractive", short_answer_confidence=0.0)
    rows = []
    for week in weeks:
        with tempfile.TemporaryDirectory(prefix="newsrag-short-") as tmp:
            newsrag, _ = week_index(data_dir, week, settings, Path(tmp), index_cache)
            for case in week_cases(data_dir, week):
                gold = case.gold or ""
                answer = newsrag.ask(case.question)
                winner = answer.candidates[0] if answer.candidates else None
                rows.append(
                    Row(
                        week=week,
                        question=case.question,
                        gold=gold,
                        text=winner.text if winner else None,
                        signals=winner.signals if winner else {},
                        right=bool(winner) and m.contains_gold(winner.text, gold),
                        refused=answer.refused,
                        gold_retrieved=any(m.contains_gold(p.text, gold) for p in answer.passages),
                    )
                )
        progress(week, [r for r in rows if r.week == week])
    return rows


def fit(rows: Sequence[Row], threshold_target: float = TARGET_PRECISION, provenance: str = "") -> ConfidenceModel:
    """A logistic model (Newton's method, L2 on the weights) over the rows that have a winner, and its threshold."""
    given = [r for r in rows if r.text is not None]
    x = np.array([features(r.signals) for r in given], dtype=float)
    y = np.array([r.right for r in given], dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    penalty = np.diag([0.0] + [L2] * (z.shape[1] - 1))
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    model = ConfidenceModel(
        mean=tuple(mean.tolist()),
        scale=tuple(scale.tolist()),
        weights=tuple(w[1:].tolist()),
        bias=float(w[0]),
        threshold=0.0,
        provenance=provenance,
    )
    threshold = choose_threshold([(model.confidence(r.signals), r.right) for r in given], threshold_target)
    return ConfidenceModel(**{**model.__dict__, "threshold": threshold})


def choose_threshold(scored: Sequence[tuple[float, bool]], target: float) -> float:
    """The lowest confidence from which the short answers given are right at least ``target`` of the time."""
    ranked = sorted(scored, reverse=True)
    best = 1.0
    right = 0
    for n, (confidence, ok) in enumerate(ranked, start=1):
        right += ok
        if right / n >= target:
            best = confidence
    return best  # not rounded: a threshold rounded down would let in answers under it


def check(model: ConfidenceModel, rows: Sequence[Row]) -> dict[str, float]:
    """What stating short answers from the model's threshold gives on ``rows``."""
    n = len(rows) or 1
    stated = [r for r in rows if r.text is not None and model.confidence(r.signals) >= model.threshold]
    given = [r for r in rows if r.text is not None]
    right = sum(r.right for r in stated)
    return {
        "questions": len(rows),
        "short_answer_rate": len(stated) / n,
        "short_answer_precision": right / len(stated) if stated else 0.0,
        "short_answer_right": right / n,
        "winner_rate": len(given) / n,
        "winner_precision": sum(r.right for r in given) / len(given) if given else 0.0,
        "refused_with_gold_retrieved": _share([r.refused for r in rows if r.gold_retrieved]),
    }


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def halves(rows: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    weeks = sorted({r.week for r in rows})
    first = set(weeks[: len(weeks) // 2])
    return [r for r in rows if r.week in first], [r for r in rows if r.week not in first]


def report(rows: Sequence[Row], provenance: str) -> tuple[ConfidenceModel, dict[str, Any]]:
    """The shipped model (fitted on all rows) and the figures: each half fitted and checked on the other."""
    first, last = halves(rows)
    figures: dict[str, Any] = {}
    for name, fitted_on, checked_on in (
        ("fit first half, check last", first, last),
        ("fit last half, check first", last, first),
    ):
        model = fit(fitted_on)
        figures[name] = {
            "threshold": model.threshold,
            "fitted": check(model, fitted_on),
            "checked": check(model, checked_on),
        }
    shipped = fit(rows, provenance=provenance)
    figures["all weeks (shipped)"] = {
        "threshold": shipped.threshold,
        "all": check(shipped, rows),
        "first half": check(shipped, first),
        "last half": check(shipped, last),
    }
    figures["weights"] = dict(zip(MODEL_SIGNALS, shipped.weights, strict=True))
    return shipped, figures


def write(out: Path, rows: Sequence[Row], model: ConfidenceModel, figures: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "rows.jsonl").write_text("\n".join(json.dumps(r.__dict__) for r in rows) + "\n", encoding="utf-8")
    (out / "short-answers.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    (out / "short-answer-model.json").write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
