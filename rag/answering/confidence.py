"""How likely a short answer is right: a logistic model over the signals of the vote that chose it.

The bold short answer is what a reader trusts first, so it is stated only when this confidence clears a
threshold chosen for precision; below it, the answer leads with its best sentence and the candidate is
still returned (``Answer.candidates``) with its confidence. The model's weights and the threshold are
fitted by `newsrag bench short-answers` on the RealTimeQA dev weeks (fitted on one half of the weeks,
checked on the other) and shipped as data in ``rag/assets/short-answer-model.json``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MODEL_PATH = Path(__file__).resolve().parent.parent / "assets" / "short-answer-model.json"
# The signals of a candidate, all returned with it (``AnswerCandidate.signals``).
SIGNALS = (
    "share",  # the candidate's share of the votes of all candidates of the asked kind
    "margin",  # log ratio of its votes to the best other candidate's
    "focused",  # log(1 + sentences about the question's focus that name it)
    "named_by",  # log(1 + sentences that name it)
    "support",  # the best relevance of a sentence about the focus that names it
    "evidence",  # the best relevance of any sentence (how well the passages cover the question)
    "in_best",  # 1 when the best-scored sentence names it
    "words",  # its length in words
    "commonness",  # how widespread it is in the whole index (0: rare)
)
# The signals the model reads: how clearly the vote was won, by how many sentences about the focus, and how good
# the best of them is. Of six models tried on the RealTimeQA dev weeks (all signals with three strengths of
# regularisation, and three subsets), this one held its precision best from one half of the weeks to the other
# (bench/HISTORY.md); models reading more signals fitted one half better and the other worse.
MODEL_SIGNALS = ("margin", "focused", "support")


def features(signals: Mapping[str, float]) -> list[float]:
    """The model's input: its signals, in order."""
    return [float(signals.get(name, 0.0)) for name in MODEL_SIGNALS]


@dataclass(frozen=True)
class ConfidenceModel:
    """A fitted logistic model: standardised features, weights, bias, and the threshold chosen for precision."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    provenance: str = ""

    def confidence(self, signals: Mapping[str, float]) -> float:
        """The probability, as fitted, that a candidate with these signals is the right answer."""
        x = features(signals)
        z = self.bias + sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.mean, self.scale, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, object]:
        return {
            "signals": list(MODEL_SIGNALS),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
            "threshold": self.threshold,
            "provenance": self.provenance,
        }


@functools.cache
def load(path: Path = MODEL_PATH) -> ConfidenceModel:
    """The shipped model (read once); a clear error if the file does not fit this code's signals."""
    data = json.loads(path.read_text(encoding="utf-8"))
    expected = list(MODEL_SIGNALS)
    if data.get("signals") != expected:
        raise ValueError(f"{path} was fitted on other signals ({data.get('signals')}); refit it")
    return ConfidenceModel(
        mean=tuple(data["mean"]),
        scale=tuple(data["scale"]),
        weights=tuple(data["weights"]),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
        provenance=str(data.get("provenance", "")),
    )
