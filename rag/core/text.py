"""Text helpers shared by the answer engines and the citation checker: sentences and content words."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktSentenceTokenizer


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string (long word lists read better that way)."""
    return frozenset(words.split())


# --- sentences ---------------------------------------------------------------------------------------------------
_ABBREVIATIONS = (
    "mr mrs ms dr st jr sr prof gen col lt sgt capt cmdr rep sen gov pres rev hon mt ft "
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun "
    "u.s u.k u.n e.u u.a.e no nos vs etc inc ltd co corp dept est approx fig e.g i.e a.m p.m"
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")


@functools.cache
def _punkt() -> PunktSentenceTokenizer:
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer  # nltk is slow to import

    params = PunktParameters()
    params.abbrev_types = set(_ABBREVIATIONS.split())
    return PunktSentenceTokenizer(params)


def split_sentences(text: str) -> list[str]:
    """Split an answer into sentences, line by line, with Punkt plus news abbreviations (Mr, Dr, U.S., Aug., No.).

    List bullets ("- ", "1. ") are dropped. Markers stay inside their sentence; marker clusters that open a sentence
    (e.g. "war. [1] Next") are moved to the end of the previous sentence, except at the very start of the text.
    """
    return list(_split_sentences(text))


# The same passages come back for question after question: their sentences are split once.
@functools.lru_cache(maxsize=8192)
def _split_sentences(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for line in text.splitlines():
        for sentence in _punkt().tokenize(_BULLET.sub("", line)):
            sentence = sentence.strip()
            lead = re.match(r"(?:\[\d+\]\s*)+", sentence)
            if lead and out:
                out[-1] = f"{out[-1]} {lead[0].strip()}"
                sentence = sentence[lead.end() :].strip()
            if sentence:
                out.append(sentence)
    return tuple(out)


# A table row as ingest writes it: Word and HTML cells joined by " | ", Markdown's pipes, tabs.
_TABLE_ROW = re.compile(r"\S\s*\|\s*\S|\t")


def is_table_row(line: str) -> bool:
    return bool(_TABLE_ROW.search(line))


# --- support -----------------------------------------------------------------------------------------------------
_EXTRA_STOP = (
    "mr mrs ms dr said says say told also would could may might per cent percent according yes "
    "source sources passage passages article articles reference references"
)
_STOP = set(STOPWORDS_EN_PLUS) | set(_EXTRA_STOP.split())
_TOKEN = re.compile(r"(\d+(?:[.,]\d+)*)(\s*(?:%|per\s*cent|percent))?|([a-z]+(?:'[a-z]+)*)")


@functools.cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


# Irregular past forms a stemmer cannot join to their verbs ("met" and "meet" must match).
_IRREGULAR = dict(
    pair.split(":")
    for pair in [
        "met:meet",
        "won:win",
        "lost:lose",
        "took:take",
        "gave:give",
        "made:make",
        "held:hold",
        "began:begin",
        "ran:run",
        "sent:send",
        "told:tell",
        "paid:pay",
        "sold:sell",
        "bought:buy",
        "brought:bring",
        "fought:fight",
        "thought:think",
        "left:leave",
        "struck:strike",
        "spoke:speak",
        "chose:choose",
        "fell:fall",
        "rose:rise",
        "grew:grow",
        "knew:know",
        "drew:draw",
        "went:go",
        "came:come",
        "saw:see",
        "got:get",
        "led:lead",
        "fled:flee",
        "hit:hit",
        "set:set",
        "cut:cut",
        "shot:shoot",
        "stood:stand",
        "wrote:write",
        "kept:keep",
        "sought:seek",
        "built:build",
        "spent:spend",
        "froze:freeze",
    ]
)
# Words a question uses to ask for a kind of answer, not to name its topic.
_QUESTION_WORDS = re.compile(r"\bhow (long|many|much|far|old|big|large|high|often)\b", re.IGNORECASE)


def content_words(text: str) -> tuple[set[str], set[str]]:
    """(stemmed content words, numbers) of a text. "1,000" == "1000"; "25%" == "25 per cent" != "25"."""
    words, numbers = [], set()
    for m in _TOKEN.finditer(text.lower().replace("’", "'")):
        if m[1]:
            numbers.add(m[1].replace(",", "") + ("%" if m[2] else ""))
        elif (w := m[3]) not in _STOP and len(w) > 1:  # Snowball strips a possessive "'s"
            words.append(_IRREGULAR.get(w, w))
    return set(_stemmer().stemWords(words)), numbers


def content_terms(text: str) -> list[str]:
    """Stemmed content words and normalised numbers of ``text``, as one list of terms."""
    words, numbers = content_words(_QUESTION_WORDS.sub(" ", text))
    return sorted(words | numbers)


MIN_OVERLAP = 12


def rejoin(pieces: list[str]) -> str:
    """Overlapping consecutive pieces of one text (an article's chunks) joined back into the text.

    Each piece may begin with the end of the one before it (the chunk overlap): that part is dropped. An overlap
    counts from ``MIN_OVERLAP`` characters, so that a shared letter or space is not taken for one; pieces that do
    not overlap are joined with a space (the splitter cut at whitespace).
    """
    text = ""
    for piece in pieces:
        longest = min(len(text), len(piece))
        overlap = next((k for k in range(longest, MIN_OVERLAP - 1, -1) if text.endswith(piece[:k])), 0)
        text += piece[overlap:] if overlap else (" " if text else "") + piece
    return text


def like_pattern(text: str) -> str:
    """An SQL ``LIKE ? ESCAPE '\\'`` pattern matching ``text`` anywhere, its own % and _ taken literally."""
    return "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
