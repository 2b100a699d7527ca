"""The recency prior (rag/answering/recency.py): ages in buckets, the fit, the re-ranking, and the shipped model."""

from __future__ import annotations

from datetime import date

import pytest

from evals.recency import fit
from rag.answering.recency import AGE_EDGES, RecencyPrior, age_bucket, features
from rag.core.types import Passage

AS_OF = date(2025, 10, 3)


@pytest.mark.parametrize(
    ("published", "bucket"),
    [("2025-10-03", 0), ("2025-09-26", 0), ("2025-09-25", 1), ("2025-09-10", 2), ("2025-07-20", 3),
     ("2025-01-01", 4), ("2019-05-01", len(AGE_EDGES)), ("2025-10-05", 0), ("", None), ("not a date", None)],
)  # fmt: skip
def test_age_buckets(published: str, bucket: int | None) -> None:
    assert age_bucket(published, AS_OF) == bucket


def test_features_have_the_rank_and_one_age_column() -> None:
    dated, undated = features(3, "2025-09-30", AS_OF), features(0, "", AS_OF)
    assert dated[0] > 0 and sum(dated[1:]) == 1 and dated[1] == 1
    assert undated[0] == 0 and undated[-1] == 1 and sum(undated[1:-1]) == 0


def test_the_fit_learns_that_newer_and_higher_ranked_passages_hold_the_answer_more_often() -> None:
    rows = []
    for rank in range(20):
        for published, share in (("2025-10-01", 0.4), ("2023-01-01", 0.1)):
            # Passages further down hold the answer less often; recent ones more often, at every rank.
            holding = round(10 * share * (1 - rank / 25))
            rows += [(features(rank, published, AS_OF), True)] * holding
            rows += [(features(rank, published, AS_OF), False)] * (10 - holding)
    prior = fit(rows)
    assert prior.weights[0] < 0  # log rank
    assert prior.weights[1] > prior.weights[1 + len(AGE_EDGES)]  # this week over older than a year
    assert prior.probability(0, "2025-10-01", AS_OF) > prior.probability(0, "2023-01-01", AS_OF)


def _passage(n: int, published: str) -> Passage:
    return Passage(chunk_id=f"c{n}", article_id=f"a{n}", text=f"passage {n}", title=f"t{n}", published_at=published)


def test_rerank_orders_by_the_model_and_keeps_every_passage() -> None:
    prior = RecencyPrior(weights=(-1.0, 2.0, 1.0, 0.5, 0.0, -0.5, -1.0, -0.5), bias=-1.0)
    passages = [_passage(0, "2020-01-01"), _passage(1, "2025-10-02"), _passage(2, "")]
    ranked = prior.rerank(passages, AS_OF)
    assert [p.chunk_id for p in ranked][0] == "c1" and sorted(p.chunk_id for p in ranked) == ["c0", "c1", "c2"]
