"""Run a suite against a NewsRAG and score every case; the CLI, Python and CI all use this."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import evals.metrics as m
from evals.chart import summary_html
from evals.suite import Case
from rag.answering.answerer import QuestionError
from rag.core.types import Answer


@dataclass
class EvalResult:
    """Per-case rows and the summary over them."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def dataframe(self) -> Any:
        """One row per case, metrics as columns (pandas)."""
        import pandas as pd

        flat = [
            {"id": r["id"], "question": r["question"], "answer": r["answer"], "engine": r["engine"]}
            | r["metrics"]
            | {"latency_ms": r["timings"].get("total_ms")}
            for r in self.rows
        ]
        return pd.DataFrame(flat)

    def __repr__(self) -> str:
        rates = ", ".join(f"{k}={v:.3f}" for k, v in self.summary.items() if isinstance(v, float))
        return f"EvalResult({len(self.rows)} cases: {rates})"

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the summary's metrics beside their chart."""
        engine = self.config.get("engine") or self.summary.get("config", {}).get("engine")
        return summary_html(self.summary, f"newsrag eval ({self.summary.get('n')} cases, {engine})")


def _question(case: Case, with_choices: bool) -> str:
    if not (with_choices and case.choices):
        return case.question
    options = "; ".join(f"{'ABCD'[i] if i < 4 else i + 1}) {c}" for i, c in enumerate(case.choices))
    return f"{case.question} Options: {options}"


def score_case(
    case: Case, answer: Answer | None, error: str, max_words: int | None, with_choices: bool = False
) -> dict[str, Any]:
    """The metrics of one case (None where a metric does not apply: ``mc_correct`` only when the options were asked)."""
    text = answer.text if answer else ""
    refused = bool(answer and answer.refused) or bool(error)
    passages = [p.text for p in answer.passages] if answer else []
    cited = [c.text for c in answer.citations] if answer else []
    rank = m.first_hit_rank(passages, case.evidence) if case.evidence else None
    recall = m.key_fact_recall(text, case.key_facts) if case.answerable else None
    out: dict[str, Any] = {
        "retrieval_hit": (rank is not None) if case.evidence else None,
        "reciprocal_rank": (1 / rank if rank else 0.0) if case.evidence else None,
        "key_fact_recall": recall,
        "correct": (recall == 1.0) if recall is not None else None,
        "citation_precision": m.citation_precision(cited, case.evidence) if case.evidence else None,
        "refusal_ok": (refused and not cited) if not case.answerable else None,
        "false_refusal": refused if case.answerable else None,
        "answer_words": len(text.split()),
        "forbidden_ok": not any(f.lower() in text.lower() for f in case.forbidden) if case.forbidden else None,
    }
    if case.gold:
        out["contains_gold"] = m.contains_gold(text, case.gold, max_words)
        out["token_f1"] = m.token_f1(m.truncate_words(text, max_words) if max_words else text, case.gold)
        out["retrieval_gold"] = any(m.contains_gold(p, case.gold) for p in passages)
        # Refused though a passage shown holds the right choice: the refusals that cost an answer.
        out["refused_gold_retrieved"] = refused if out["retrieval_gold"] else None
        # The short answer alone (the name, number or date the extractive engine leads with), when it gave one.
        short = answer.short_answer if answer and not answer.refused else None
        out["short_answered"] = bool(short)
        out["short_contains_gold"] = bool(short) and m.contains_gold(short or "", case.gold)
        if with_choices and case.choices:
            named = m.named_choice(text, case.choices)
            gold_index = case.choices.index(case.gold) if case.gold in case.choices else None
            out["mc_correct"] = named is not None and named == gold_index
    return out


def summarise(rows: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    def col(name: str) -> list[Any]:
        return [r["metrics"].get(name) for r in rows if r["metrics"].get(name) is not None]

    cited_total = sum(len(r["citations"]) for r in rows if r["metrics"].get("citation_precision") is not None)
    cited_good = sum(
        r["metrics"]["citation_precision"] * len(r["citations"])
        for r in rows
        if r["metrics"].get("citation_precision") is not None
    )
    latencies = [r["timings"]["total_ms"] for r in rows if r["timings"].get("total_ms") is not None]
    summary: dict[str, Any] = {
        "n": len(rows),
        "n_answerable": sum(1 for r in rows if r["answerable"]),
        "retrieval_hit_at_k": m.mean(col("retrieval_hit")),
        "mrr_at_k": m.mean(col("reciprocal_rank")),
        "key_fact_recall": m.mean(col("key_fact_recall")),
        "answer_correct_rate": m.mean(col("correct")),
        "citation_precision": cited_good / cited_total if cited_total else None,
        "refusal_accuracy": m.mean(col("refusal_ok")),
        "false_refusal_rate": m.mean(col("false_refusal")),
        "forbidden_free_rate": m.mean(col("forbidden_ok")),
        "mean_answer_words": m.mean([r["metrics"]["answer_words"] for r in rows]),
        "latency_p50_ms": m.percentile(latencies, 50),
        "latency_p95_ms": m.percentile(latencies, 95),
        "errors": sum(1 for r in rows if r["error"]),
    }
    for name, key in (
        ("answer_contains_gold", "contains_gold"),
        ("token_f1", "token_f1"),
        ("retrieval_gold_at_k", "retrieval_gold"),
        ("mc_accuracy", "mc_correct"),
        ("short_answer_contains_gold", "short_contains_gold"),
        ("short_answer_rate", "short_answered"),
        ("false_refusal_gold_retrieved", "refused_gold_retrieved"),
    ):
        if col(key):
            summary[name] = m.mean(col(key))
    if summary.get("short_answer_rate"):
        # Of the short answers given, the share that is right: what a reader trusting the bold answer gets.
        summary["short_answer_precision"] = summary["short_answer_contains_gold"] / summary["short_answer_rate"]
    summary["config"] = config
    return summary


def run_suite(
    newsrag: Any,
    cases: list[Case],
    *,
    engine: str | None = None,
    top_k: int | None = None,
    with_choices: bool = False,
    max_answer_words: int | None = None,
    judge: Callable[[Case, Answer], dict[str, Any]] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> EvalResult:
    """Ask every case (earlier turns first, for follow-ups) and score the answers."""
    settings = newsrag.settings
    config = {
        "engine": engine or settings.engine,
        "top_k": top_k or settings.top_k,
        "retrieval": settings.retrieval,
        "embedder": settings.embedder,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "min_relevance": settings.min_relevance,
        "llm_model": settings.llm_model if settings.llm_configured else None,
        "with_choices": with_choices,
        "max_answer_words": max_answer_words,
    }
    rows = []
    for case in cases:
        started = time.perf_counter()
        answer, error = _ask(newsrag, case, engine=engine, top_k=top_k, with_choices=with_choices)
        metrics = score_case(case, answer, error, max_answer_words, with_choices)
        if judge is not None and answer is not None and case.answerable:
            metrics |= judge(case, answer)
        row = _row(case, answer, error, metrics, wall_ms=round((time.perf_counter() - started) * 1000, 1))
        rows.append(row)
        if progress:
            progress(row)
    return EvalResult(rows=rows, summary=summarise(rows, config), config=config)


def _ask(
    newsrag: Any, case: Case, *, engine: str | None, top_k: int | None, with_choices: bool
) -> tuple[Answer | None, str]:
    """The case's answer in a new conversation (its earlier turns asked first), or why there is none."""
    try:
        chat = newsrag.chat(engine=engine, top_k=top_k, **({"as_of": case.as_of} if case.as_of else {}))
        for earlier in case.history:
            chat.ask(earlier)
        return chat.ask(_question(case, with_choices)), ""
    except (QuestionError, ValueError, RuntimeError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _row(case: Case, answer: Answer | None, error: str, metrics: dict[str, Any], wall_ms: float) -> dict[str, Any]:
    """One case's row of the results: what was asked, what came back, and its scores."""
    return {
        "id": case.id,
        "question": case.question,
        "answerable": case.answerable,
        "gold": case.gold or case.answer,
        "answer": answer.text if answer else "",
        "engine": answer.engine if answer else "",
        "refused": bool(answer and answer.refused),
        "citations": [c.model_dump(include={"number", "title", "text", "quote", "url"}) for c in answer.citations]
        if answer
        else [],
        "retrieved": [p.model_dump(include={"chunk_id", "title", "text", "score"}) for p in answer.passages]
        if answer
        else [],
        "metrics": metrics,
        "timings": (answer.timings if answer else {}) | {"wall_ms": wall_ms},
        "error": error,
    }
