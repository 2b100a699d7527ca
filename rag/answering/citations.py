"""Turn an LLM's raw answer into verified, renumbered citations (pure logic: no I/O, no network, no LLM).

Pipeline (:func:`verify`): every citation style a small model produces is rewritten to canonical ``[n]`` markers
(:func:`normalise_markers`), the answer is split into sentences (:func:`split_sentences`), each sentence keeps the
markers inside it plus any that follow its final punctuation, each cited sentence is scored against the passages it
cites (:func:`support_score`), and citations are renumbered ``1..k`` by first appearance.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel

from rag.core.text import content_words as _content
from rag.core.text import split_sentences


class CitedSentence(BaseModel):
    text: str  # the sentence without its markers
    passages: list[int]  # 1-based passage numbers it cites (after renumbering)
    support: float  # best support score among its cited passages, 0..1 (0 if none cited)
    supported: bool  # False when flagged: a claim citing nothing, or best support < threshold


class VerifiedAnswer(BaseModel):
    text: str  # the answer with canonical markers renumbered 1..k by first appearance; invalid markers removed
    cited: list[int]  # for new number i (1-based), cited[i-1] is the ORIGINAL 1-based passage number
    sentences: list[CitedSentence]
    unsupported: list[str]  # texts of sentences flagged unsupported


# --- markers -----------------------------------------------------------------------------------------------------
_PREFIX = r"(?:(?:source|passage|doc(?:ument)?|article|ref(?:erence)?|context|chunk|citation)s?\s*[:#]?\s*)"
_SEP = r"\s*(?:[,;&]|and)\s*"
_LIST = rf"(?:{_PREFIX}|\^)?\d{{1,3}}(?:(?:{_SEP}|\s*[-–—]\s*){_PREFIX}?\d{{1,3}})*"
# [1] [1,2] [1-3] [Source 2] [source: 2] [doc 1] [^1] 【1】 【1†source】
_BRACKETED = re.compile(rf"\[\s*({_LIST})\s*\]|【\s*({_LIST})\s*(?:†[^】]*)?】", re.I)
# (Source 2) anywhere: the prefix makes it unambiguous.
_PAREN_PREFIXED = re.compile(rf"\(\s*({_PREFIX}\d{{1,3}}(?:(?:{_SEP}|\s*[-–—]\s*){_PREFIX}?\d{{1,3}})*)\s*\)", re.I)
# (1) / (1, 2) only before punctuation, a line end or another marker; 1-2 digits, no ranges ("(2-1)" is a score).
_PAREN_BARE = re.compile(rf"(?<=\S)([ \t]*)\(\s*(\d{{1,2}}(?:{_SEP}\d{{1,2}})*)\s*\)(?=\s*(?:[.,;:!?…]|\[|\(|$))", re.M)
_PIECE = re.compile(rf"(\d+)(?:\s*[-–—]\s*{_PREFIX}?(\d+))?", re.I)
_MARK = re.compile(r"\[(\d+)\]")
_CLUSTER = re.compile(r"\[\d+\](?:[ \t]*\[\d+\])*")
_GONE = "\x00"  # stands where a marker was removed, so whitespace can be tidied around it


def _numbers(group: str, n_passages: int, ranges: bool = True) -> list[int]:
    """Valid passage numbers of one marker group, ranges expanded (clipped to 1..n), duplicates dropped."""
    out: list[int] = []
    for m in _PIECE.finditer(group):
        lo, hi = int(m[1]), int(m[2]) if (m[2] and ranges) else int(m[1])
        lo, hi = min(lo, hi), max(lo, hi)
        out += [i for i in range(max(lo, 1), min(hi, n_passages) + 1) if i not in out]
    return out


def _render(numbers: list[int]) -> str:
    return "".join(f"[{i}]" for i in numbers) or _GONE


def _tidy(text: str) -> str:
    """Dedupe marker clusters, drop placeholders and the stray whitespace they leave; keep newlines and indents."""
    text = _CLUSTER.sub(lambda m: "".join(dict.fromkeys(f"[{i}]" for i in _MARK.findall(m[0]))), text)
    text = re.sub(rf"[ \t]*{_GONE}+[ \t]*(?=[.,;:!?…)]|$)", "", text, flags=re.M)
    text = re.sub(rf"(?<=\S)[ \t]*{_GONE}+[ \t]*", " ", text)
    text = re.sub(rf"{_GONE}+[ \t]*", "", text)  # at a line start: keep the line's indentation
    text = re.sub(r"(?<=[^\s(\[\]【])(?=\[\d+\])", " ", text)  # "war[1]" -> "war [1]"
    text = re.sub(r"(?<=\])[ \t]+(?=[.,;:!?…])", "", text)  # "[1] ." -> "[1]."
    text = re.sub(r"(?<=\S)[ \t]{2,}", " ", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def normalise_markers(text: str, n_passages: int) -> str:
    """Rewrite every citation form into canonical [n] markers; drop numbers outside 1..n_passages.

    Bracketed groups (``[1,2]``, ``[1-3]``, ``[Source 2]``, ``[^1]``, ``【1】``) and prefixed parentheses
    (``(Source 2)``) are always citations. Bare parentheses (``(1)``, ``(1, 2)``) count only when they hold 1-2 digit
    numbers, stand before punctuation/a line end/another marker, and at least one number is in range; otherwise they
    are left as prose (so "(2025)", "(1 of 3)" and "won (2) titles" survive).
    """

    def bare(m: re.Match[str]) -> str:
        nums = _numbers(m[2], n_passages, ranges=False)
        return f" {_render(nums)}" if nums else m[0]

    text = _BRACKETED.sub(lambda m: _render(_numbers(m[1] or m[2], n_passages)), text)
    text = _PAREN_PREFIXED.sub(lambda m: _render(_numbers(m[1], n_passages)), text)
    return _tidy(_PAREN_BARE.sub(bare, text))


def _score(sentence: tuple[set[str], set[str]], passage: tuple[set[str], set[str]], similarity: float | None) -> float:
    words, numbers = sentence
    if not words and not numbers:
        return 1.0
    lexical = (len(words & passage[0]) + len(numbers & passage[1])) / (len(words) + len(numbers))
    number_factor = len(numbers & passage[1]) / len(numbers) if numbers else 1.0
    best = lexical if similarity is None else max(lexical, min(max(similarity, 0.0), 1.0))
    return round(best * number_factor, 4)


def support_score(sentence: str, passage: str, similarity: Callable[[str, str], float] | None = None) -> float:
    """How well ``passage`` supports ``sentence``, 0..1.

    Lexical score: the fraction of the sentence's content words (lowercased, stop words removed, Snowball-stemmed)
    and numbers found in the passage. If ``similarity`` is given, the better of the lexical score and the (clamped)
    similarity is used, so paraphrases can pass. Either way the result is then multiplied by the fraction of the
    sentence's numbers found verbatim in the passage: a wrong figure sinks a sentence even when embeddings like it.
    A sentence without content words or numbers ("Yes.") scores 1.0.
    """
    sim = similarity(sentence, passage) if similarity is not None else None
    return _score(_content(sentence), _content(passage), sim)


# --- verification ------------------------------------------------------------------------------------------------
_REFUSAL = re.compile(
    r"\b(?:i|we)\s+(?:do\s*n[o']t|cannot|can[' ]?t|could\s*n[o']t|am\s+unable\s+to)\s+(?:know|tell|say|find|answer|"
    r"determine|confirm)|\b(?:articles?|passages?|sources?|context|documents?|texts?|information|excerpts?)\b.{0,40}?"
    r"\b(?:do(?:es)?\s*n[o']t|did\s*n[o']t|do(?:es)?\s+not|fails?\s+to)\s+(?:say|mention|specify|state|contain|"
    r"provide|include|describe|indicate|address|cover|give)|\bno\s+(?:information|mention|details?|indication)\b|"
    r"\bnot\s+(?:mentioned|specified|stated|provided|covered|reported)\b|\b(?:unclear|not\s+clear)\s+from\b",
    re.I,
)


def is_refusal(text: str) -> bool:
    """True for "The articles don't say ...", "I don't know." and the like."""
    return bool(_REFUSAL.search(text.replace("’", "'")))


def _is_refusal_or_intro(sentence: str) -> bool:
    """A refusal, or a lead-in such as "Here is what happened:": neither needs a citation."""
    return is_refusal(sentence) or sentence.endswith(":")


def verify(
    text: str,
    passages: list[str],
    threshold: float = 0.35,
    similarity: Callable[[str, str], float] | None = None,
) -> VerifiedAnswer:
    """Normalise, attribute, score and renumber the citations of ``text`` against the 1-based ``passages``.

    A sentence is flagged (``supported=False``, listed in ``unsupported``) when it cites nothing yet has content words
    and is not a refusal ("The articles don't say ...") or an intro ending in ":", or when its best support among its
    cited passages is below ``threshold``. Flagged sentences stay in the text. Markers attached to no sentence are
    dropped. ``support`` is 0.0 for sentences that cite nothing.
    """
    normal = normalise_markers(text, len(passages))
    passage_content: dict[int, tuple[set[str], set[str]]] = {}
    renumber: dict[int, int] = {}
    raw: list[tuple[str, list[int]]] = []
    for sentence in split_sentences(normal):
        original = list(dict.fromkeys(int(i) for i in _MARK.findall(sentence)))
        clean = _tidy(_MARK.sub(_GONE, sentence))
        if not clean:  # only markers and no sentence to own them
            continue
        for i in original:
            renumber.setdefault(i, len(renumber) + 1)
        raw.append((clean, original))

    sentences: list[CitedSentence] = []
    for clean, original in raw:
        content = _content(clean)
        if not original:
            claim = bool(content[0] or content[1]) and not _is_refusal_or_intro(clean)
            sentences.append(CitedSentence(text=clean, passages=[], support=0.0, supported=not claim))
            continue
        best = 0.0
        for i in original:
            if i not in passage_content:
                passage_content[i] = _content(passages[i - 1])
            sim = similarity(clean, passages[i - 1]) if similarity is not None else None
            best = max(best, _score(content, passage_content[i], sim))
        new = [renumber[i] for i in original]
        sentences.append(CitedSentence(text=clean, passages=new, support=best, supported=best >= threshold))

    rewritten = _MARK.sub(lambda m: f"[{renumber[int(m[1])]}]" if int(m[1]) in renumber else _GONE, normal)
    return VerifiedAnswer(
        text=_tidy(rewritten),
        cited=sorted(renumber, key=renumber.__getitem__),
        sentences=sentences,
        unsupported=[s.text for s in sentences if not s.supported],
    )
