"""Multiple-choice questions: name the option the retrieved passages support best.

A question may carry its options ("Who won? Options: A) Ruto; B) Odinga; C) ...", or one per line,
"A. Ruto"). An LLM reads them and picks; the extractive engine cannot write a choice, so it scores
each option instead. An option's support is the sum of the stem scores (the same sentence scorer as
open questions) of the sentences that contain it: whole, or most of its content words at a discount.
The engine names the best-supported option when it clearly beats the runner-up, quoting and citing
the sentence that supports it. When none does but the passages are on the question's topic, it names
the option whose completed question ("Who won? Ruto") reads closest to some passage, as a guess, and
says so (:func:`closest`): on the RealTimeQA dev weeks that guess is right for about a third of such
questions, against a quarter by chance.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from rag.core.text import content_terms
from rag.core.types import Passage

LETTERS = "ABCDEFGH"
# Markers of an option list: "A) x", "(b) x", or "C. x" at a line start. Letters must run A, B, C...
_MARKER = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=;))\(?([A-Ha-h])\)\s+|(?m:^[ \t]*([A-Ha-h])[.:]\s+)")
_LEAD_IN = re.compile(r"\s*(?:options|choices|answers)\s*:?\s*$", re.I)
# An option found only as most of its words counts this much of a verbatim one.
PARTIAL_MATCH = 0.6
MIN_COVERAGE = 0.6
# The winner must beat the runner-up by this factor, or the engine does not pick.
MARGIN = 1.1


@dataclass(frozen=True)
class MultipleChoice:
    stem: str
    options: list[str]


def split_options(question: str) -> MultipleChoice | None:
    """The question's stem and options when it carries a lettered list of two or more, else None."""
    markers = [(m.start(), m.end(), (m.group(1) or m.group(2)).upper()) for m in _MARKER.finditer(question)]
    # The option list is the last run of markers lettered A, B, C... in order.
    start = next((i for i in range(len(markers) - 1, -1, -1) if markers[i][2] == "A"), None)
    if start is None:
        return None
    run = [markers[start]]
    for marker in markers[start + 1 :]:
        if marker[2] == LETTERS[len(run)]:
            run.append(marker)
    if len(run) < 2:
        return None
    ends = [m[0] for m in run[1:]] + [len(question)]
    options = [question[m[1] : end].strip().rstrip(";,").strip() for m, end in zip(run, ends, strict=True)]
    stem = _LEAD_IN.sub("", question[: run[0][0]]).strip()
    if not stem or not all(options):
        return None
    return MultipleChoice(stem=stem, options=options)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return " " + " ".join(re.sub(r"[^\w%$]+", " ", text).split()) + " "


def match(option: str, sentence: str) -> float:
    """1 when the sentence contains the option verbatim (normalised), less for most of its words, else 0."""
    if _norm(option).strip() and _norm(option) in _norm(sentence):
        return 1.0
    terms = set(content_terms(option))
    if not terms:
        return 0.0
    coverage = len(terms & set(content_terms(sentence))) / len(terms)
    return PARTIAL_MATCH * coverage if coverage >= MIN_COVERAGE else 0.0


def supports(options: list[str], sentences: list[tuple[str, float]]) -> list[tuple[float, int | None]]:
    """Per option: (support, index of its best supporting sentence) given (sentence text, stem score) pairs.

    Support is summed over the sentences naming the option: an option that many relevant sentences name is
    better supported than one a single sentence names (redundancy, as in AskMSR).
    """
    total = [0.0] * len(options)
    best: list[tuple[float, int | None]] = [(0.0, None)] * len(options)
    for i, (text, score) in enumerate(sentences):
        matches = [match(option, text) for option in options]
        for k, option in enumerate(options):
            # "Leo" inside a sentence that names "Pope Leo XIV" is the longer option, not this one.
            if any(j != k and matches[j] == 1.0 and _norm(option) in _norm(options[j]) for j in range(len(options))):
                continue
            support = max(score, 0.0) * matches[k]
            total[k] += support
            if support > best[k][0]:
                best[k] = (support, i)
    return [(round(total[k], 9), best[k][1]) for k in range(len(options))]


def pick(support: list[tuple[float, int | None]]) -> int | None:
    """The option that clearly wins, if any."""
    ranked = sorted(range(len(support)), key=lambda i: support[i][0], reverse=True)
    if not ranked or support[ranked[0]][0] <= 0:
        return None
    if len(ranked) > 1 and support[ranked[0]][0] < MARGIN * support[ranked[1]][0]:
        return None
    return ranked[0]


def named_option(choice: MultipleChoice, answer: str) -> int | None:
    """The one option a short answer names ("Golden Globe Awards" names "Golden Globes", "Washington" names
    "George Washington"), else None: also when it names several ("Trump" for "Melania Trump", "Ivanka Trump")."""
    named = [k for k, option in enumerate(choice.options) if match(option, answer) or match(answer, option)]
    return named[0] if len(named) == 1 else None


def closest(choice: MultipleChoice, fits: list[float | None]) -> int | None:
    """The option with the best fit (the similarity of the stem completed with it to its closest passage).

    An option the stem itself names is passed over: a quiz does not ask for what it states.
    """
    stem = _norm(choice.stem)
    ranked = [
        (fit, k)
        for k, (option, fit) in enumerate(zip(choice.options, fits, strict=True))
        if fit is not None and _norm(option) not in stem
    ]
    return max(ranked)[1] if ranked else None


S = TypeVar("S")  # the scorer's sentence: a picked option comes with the sentence supporting it


class _Named(Protocol):
    @property
    def text(self) -> str: ...


class Extracted(Protocol[S]):
    """What option picking reads of the relevance gate's extract: refused or not, its sentences, its short answer."""

    @property
    def refused(self) -> bool: ...

    @property
    def sentences(self) -> Sequence[S]: ...

    @property
    def short(self) -> _Named | None: ...


def pick_option(
    choice: MultipleChoice,
    pool: list[Passage],
    choose: Callable[[MultipleChoice, list[Passage]], tuple[int, S] | None],
    extract: Extracted[S],
    *,
    guess: bool,
    best_passage: Callable[[str], Passage | None],
) -> tuple[tuple[int, S] | None, tuple[int, Passage] | None]:
    """(picked, guess): the option the sentences clearly support (``choose``), else the one the extractive engine's
    own short answer names (with the sentence naming it, which leads); failing both, for an on-topic stem and when
    ``guess`` is allowed (the extractive engine; an LLM reads the options itself), a guess.
    """
    picked = choose(choice, pool)
    if picked or not guess:
        return picked, None
    if extract.short and extract.sentences and (own := named_option(choice, extract.short.text)) is not None:
        return (own, extract.sentences[0]), None
    # Also where the short answer is none of the options: on RealTimeQA those are mostly wrong, and the guess
    # is right more often. The quote shows what the passage says.
    return None, None if extract.refused else closest_option(choice, best_passage)


def closest_option(choice: MultipleChoice, best_passage: Callable[[str], Passage | None]) -> tuple[int, Passage] | None:
    """The option whose completed question reads closest to a passage (dense similarity), and that passage."""
    best = [best_passage(f"{choice.stem} {option}") for option in choice.options]
    option = closest(choice, [p.similarity if p else None for p in best])
    if option is None or (passage := best[option]) is None:
        return None
    return option, passage
