"""Answer and retrieval metrics: pure functions on strings, checked against hand-made cases in tests."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Sequence

_PUNCT = re.compile(r"[^\w%$.]+|(?<!\d)\.|\.(?!\d)")
_MARKER = re.compile(r"\[\d+\]")


def normalise(text: str) -> str:
    """Lower case, unified quotes and dashes, citation markers and punctuation out, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text or "").lower().replace("’", "'").replace("–", "-")
    text = _MARKER.sub(" ", text)
    return " ".join(_PUNCT.sub(" ", text).split())


def covers(answer: str, phrasings: Sequence[str]) -> bool:
    """The answer contains one of the acceptable phrasings (case-insensitive, whitespace-normalised)."""
    flat = " ".join(answer.lower().split())
    return any(" ".join(p.lower().split()) in flat for p in phrasings)


def key_fact_recall(answer: str, key_facts: Sequence[Sequence[str]]) -> float | None:
    if not key_facts:
        return None
    return sum(covers(answer, group) for group in key_facts) / len(key_facts)


def has_evidence(passage: str, evidence: Sequence[str]) -> bool:
    flat = " ".join(passage.split()).lower()
    return any(" ".join(e.split()).lower() in flat for e in evidence if e.strip())


def first_hit_rank(passages: Sequence[str], evidence: Sequence[str]) -> int | None:
    """1-based rank of the first passage containing evidence, or None."""
    return next((i for i, p in enumerate(passages, start=1) if has_evidence(p, evidence)), None)


def citation_precision(cited: Sequence[str], evidence: Sequence[str]) -> float | None:
    """Share of cited passages that contain evidence; None when nothing was cited."""
    if not cited:
        return None
    return sum(has_evidence(p, evidence) for p in cited) / len(cited)


def truncate_words(text: str, max_words: int) -> str:
    return " ".join(text.split()[:max_words])


def contains_gold(answer: str, gold: str, max_words: int | None = None) -> bool:
    """The gold text occurs in the (length-capped) answer, both normalised, on word boundaries."""
    if not gold.strip():
        return False
    capped = truncate_words(_MARKER.sub(" ", answer), max_words) if max_words else answer
    return f" {normalise(gold)} " in f" {normalise(capped)} "


def token_f1(answer: str, gold: str) -> float:
    pred, ref = normalise(answer).split(), normalise(gold).split()
    if not pred or not ref:
        return 0.0
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


# An answer that opens by declaring an option ("B) Rome: ...", "Answer: (c)") names that option, whatever
# its supporting quote mentions next.
_DECLARED = re.compile(
    r"\s*(?:\(?([a-h])\)|(?:the\s+)?(?:answer|option|choice)\s*(?:is)?\s*:?\s*\(?([a-h])\b\)?)", re.I
)


def named_choice(answer: str, choices: Sequence[str]) -> int | None:
    """The index of the only choice the answer names, else None.

    An opening declaration ("B) ...", "Answer: C") names its option; otherwise the answer names the
    choices whose text it contains, or a bare letter/number ("B", "option 3").
    """
    declared = _DECLARED.match(answer)
    if declared:
        index = "abcdefgh".index((declared.group(1) or declared.group(2)).lower())
        return index if index < len(choices) else None
    norm = f" {normalise(answer)} "
    named = {i for i, c in enumerate(choices) if normalise(c) and f" {normalise(c)} " in norm}
    # A longer choice that contains a shorter one ("Pope Leo XIV" vs "Leo") names only the longer.
    named = {i for i in named if not any(j != i and normalise(choices[i]) in normalise(choices[j]) for j in named)}
    if not named:
        letter = re.search(
            r"(?:^|\b(?:option|answer|choice)\s*(?:is\s*)?)\(?([a-d1-4])\)?(?:[.):]|\s|$)", answer.strip(), re.I
        )
        if letter:
            key = letter.group(1).lower()
            index = "abcd".index(key) if key.isalpha() else int(key) - 1
            return index if index < len(choices) else None
    return named.pop() if len(named) == 1 else None


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(sorted(values), n=100, method="inclusive")[int(q) - 1])


def mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
