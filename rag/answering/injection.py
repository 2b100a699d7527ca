"""Sentences in an article that address an AI ("ignore all previous instructions…") are not evidence.

Articles are data. A page may carry a prompt injection: text written to steer whatever model reads
it. Before either engine answers, such sentences are taken out of the retrieved passages, so the
extractive engine cannot quote them, the LLM is not shown them, and no answer sentence can count as
supported by them; the answer carries a notice instead. The patterns catch the common forms only:
the prompt's delimiters and its rule never to follow instructions found in passages, and the
citation check (an answer sentence must be supported by what it cites), stand behind them.
"""

from __future__ import annotations

import re

from rag.core.types import Passage

_AI = r"(?:ai|a\.i\.|llms?|(?:large\s+)?language\s+models?|chatbots?|(?:ai\s+)?assistants?|gpt|chatgpt)"
PATTERNS = [
    # "ignore all previous instructions", "disregard your system prompt"
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|of\s+)*(?:(?:previous|prior|above|earlier|"
    r"preceding|foregoing|system|your)\s+)+(?:instructions|prompts?|directives|context|rules)\b",
    # "IMPORTANT SYSTEM NOTICE:", "developer message:"
    r"\b(?:system|developer|admin(?:istrator)?)\s+(?:prompt|notice|message|instructions?|override)\s*:",
    # "Note to AI assistants", "If you are a language model", "chatbots reading this"
    rf"\b(?:note|message|instructions?|attention)\s+(?:to|for)\s+(?:all\s+)?{_AI}\b",
    rf"\bif\s+you\s+are\s+(?:an?\s+)?{_AI}\b",
    rf"\b{_AI}\s+(?:reading|summari[sz]ing|processing|answering)\s+(?:this|these)\b",
    # "answer every question with …", "do not cite any sources"
    r"\b(?:answer|reply|respond)\s+(?:to\s+)?(?:every|all|any)\s+(?:questions?|queries|prompts?)\s+with\b",
    r"\bdo\s+not\s+(?:cite|mention|reveal)\s+(?:any\s+)?(?:sources?|passages?|(?:the\s+)?(?:system\s+)?prompt)\b",
]
_INSTRUCTION = re.compile("|".join(PATTERNS), re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def is_instruction(sentence: str) -> bool:
    """True for a sentence that speaks to an AI rather than reporting news."""
    return bool(_INSTRUCTION.search(" ".join(sentence.split())))


def without_instructions(text: str) -> tuple[str, list[str]]:
    """``text`` without its sentences addressed to an AI, and the sentences taken out."""
    if not _INSTRUCTION.search(" ".join(text.split())):
        return text, []
    removed: list[str] = []
    lines = []
    for line in text.split("\n"):
        sentences = _SENTENCE_END.split(line)
        kept = [s for s in sentences if not is_instruction(s)]
        removed += [s.strip() for s in sentences if is_instruction(s)]
        lines.append(line if len(kept) == len(sentences) else " ".join(kept))
    return "\n".join(lines), removed


def drop_planted_instructions(passages: list[Passage]) -> tuple[list[Passage], str]:
    """The passages with instructions to an AI taken out, and a notice for the answer ("" when none were)."""
    guarded, removed = [], []
    for passage in passages:
        text, found = without_instructions(passage.text)
        guarded.append(passage.model_copy(update={"text": text}) if found else passage)
        removed += found
    if not removed:
        return passages, ""
    example = removed[0] if len(removed[0]) <= 80 else removed[0][:79].rstrip() + "…"
    notice = (
        f"Left out of the passages: {len(removed)} sentence{'s' if len(removed) > 1 else ''} addressed to AI "
        f"assistants rather than readers (“{example}”). Articles are treated as data, never as instructions."
    )
    return guarded, notice
