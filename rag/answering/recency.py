"""The recency prior: how much more likely a newer passage is to hold the answer, measured, not guessed.

News questions are mostly about the present: of two passages retrieved at about the same rank, the one published
in the days before the question is more often the one that answers it. How much more is measured on the RealTimeQA
dev weeks (`newsrag bench recency`): a logistic model of "this retrieved passage holds the right answer" over its
retrieval rank and its article's age at ``as_of``, fitted on one half of the weeks and checked on the other. When one
is shipped in ``rag/assets/recency-prior.json``, retrieval re-ranks its candidates by that probability. None is: on
the RealTimeQA dev weeks the prior did not beat retrieval's own order on the half it was not fitted on
(bench/results-recency.md), so ``newsrag bench recency --write`` is for archives where it does.

The rank stays in the model, so the prior moves a passage up a few places among passages about as relevant, never
a weak match above a strong one by much; and it is not used at all for a question that names a fixed past period
("in March 2025"), where newer is not better.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rag.core.types import Passage

PRIOR_PATH = Path(__file__).resolve().parent.parent / "assets" / "recency-prior.json"
# Ages in days at as_of, as the buckets' upper bounds; an article older than the last is in the last bucket.
AGE_EDGES = (7, 14, 30, 90, 365)


def age_bucket(published_at: str, as_of: date) -> int | None:
    """The article's age bucket (0: the week before as_of, ..., len(AGE_EDGES): older), None when undated."""
    try:
        published = date.fromisoformat(published_at[:10]) if published_at else None
    except ValueError:
        published = None
    if published is None:
        return None
    age = max((as_of - published).days, 0)
    return next((i for i, edge in enumerate(AGE_EDGES) if age <= edge), len(AGE_EDGES))


def features(rank: int, published_at: str, as_of: date) -> list[float]:
    """The model's input for a passage at ``rank`` (0-based): log rank, one column per age bucket, undated."""
    bucket = age_bucket(published_at, as_of)
    ages = [1.0 if bucket == i else 0.0 for i in range(len(AGE_EDGES) + 1)]
    return [math.log1p(rank), *ages, 1.0 if bucket is None else 0.0]


@dataclass(frozen=True)
class RecencyPrior:
    """Weights of the logistic model over :func:`features` (and a bias)."""

    weights: tuple[float, ...]
    bias: float

    def probability(self, rank: int, published_at: str, as_of: date) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features(rank, published_at, as_of), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def rerank(self, passages: list[Passage], as_of: date) -> list[Passage]:
        """The passages (in retrieval order) by the probability that each holds the answer, best first."""
        chance = {id(p): self.probability(rank, p.published_at, as_of) for rank, p in enumerate(passages)}
        return sorted(passages, key=lambda p: chance[id(p)], reverse=True)

    def to_json(self) -> dict[str, object]:
        return {"weights": list(self.weights), "bias": self.bias, "age_edges_days": list(AGE_EDGES)}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RecencyPrior:
        if list(data.get("age_edges_days", [])) != list(AGE_EDGES):  # type: ignore[call-overload]
            raise ValueError("the prior was fitted with other age buckets: refit it (newsrag bench recency --write)")
        return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]))  # type: ignore[union-attr, arg-type]


@functools.cache
def shipped_prior() -> RecencyPrior | None:
    """The prior in the package's assets, or None when none was fitted (retrieval order is then kept)."""
    if not PRIOR_PATH.exists():
        return None
    data = json.loads(PRIOR_PATH.read_text(encoding="utf-8"))
    return RecencyPrior.from_json(data["model"])


def reranker(as_of: date) -> Callable[[list[Passage]], list[Passage]] | None:
    """What retrieval re-ranks its candidates with for a question asked on ``as_of``, or None without a prior."""
    prior = shipped_prior()
    return None if prior is None else functools.partial(prior.rerank, as_of=as_of)
