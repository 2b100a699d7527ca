"""LLM-judged metrics (faithfulness, correctness) with LlamaIndex's evaluators, when an LLM is configured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evals.suite import Case
from rag.core.settings import Settings
from rag.core.types import Answer


def llm_judge(settings: Settings) -> Callable[[Case, Answer], dict[str, Any]]:
    """A judge for the runner; raises a clear error when no LLM is configured."""
    if not settings.llm_configured:
        raise ValueError("--judge needs an LLM: set NEWSRAG_LLM_BASE_URL or OPENAI_API_KEY")
    from llama_index.core.evaluation import CorrectnessEvaluator, FaithfulnessEvaluator

    from rag.answering.llm import build_llm

    llm = build_llm(settings)
    faithfulness = FaithfulnessEvaluator(llm=llm)
    correctness = CorrectnessEvaluator(llm=llm)

    def judge(case: Case, answer: Answer) -> dict[str, Any]:
        if answer.refused:
            return {"judge_faithful": None, "judge_correctness": None}
        contexts = [c.text for c in answer.citations] or [p.text for p in answer.passages]
        try:
            faithful = faithfulness.evaluate(query=case.question, response=answer.text, contexts=contexts)
            correct = correctness.evaluate(
                query=case.question, response=answer.text, reference=case.answer or case.gold
            )
        except Exception as exc:  # a judge failure must not lose the string metrics
            return {"judge_error": f"{type(exc).__name__}: {exc}"}
        return {"judge_faithful": bool(faithful.passing), "judge_correctness": correct.score}

    return judge
