"""Text helpers shared by the answer engines, the citation checker and the lexical index: sentences, content
words, and the words of scripts written without spaces."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_RUSSIAN

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktSentenceTokenizer


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string (long word lists read better that way)."""
    return frozenset(words.split())


# --- scripts written without spaces ------------------------------------------------------------------------------
# Han, Hiragana, Katakana and Hangul letters (the iteration marks 々〆〇 and the long-vowel mark ー included; the
# middle dot ・ and the kana voicing marks not). A run of them holds several words with no space between.
_CJK = (
    "\u1100-\u11ff\u3005-\u3007\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003134f"
)
_CJK_RUN = re.compile(f"([{_CJK}]+)")


def split_cjk(text: str) -> list[str]:
    """``text`` cut around its runs of CJK letters: the other text at even positions, the runs at odd ones
    (``[text]`` when it has none)."""
    return _CJK_RUN.split(text)


def bigrams(run: str) -> list[str]:
    """The words of a run of CJK letters: its overlapping character bigrams ("スポンサー" → スポ ポン ンサ サー),
    or the one character of a run of one: a word inside the run is found by its bigrams, with no dictionary."""
    return [run] if len(run) < 2 else [run[i : i + 2] for i in range(len(run) - 1)]


def word_count(text: str) -> int:
    """Words of a text: those between spaces, a run of CJK letters counting one per two characters (about the
    length of a Japanese or Chinese word). Text without CJK letters: ``len(text.split())``."""
    return len(_CJK_RUN.sub(lambda m: " w" * max(1, len(m[0]) // 2) + " ", text).split())


def mostly_non_latin(text: str) -> bool:
    """Whether more than half of the letters of ``text`` are of scripts other than Latin (Cyrillic, Greek, Arabic,
    CJK, ...)."""
    letters = [c for c in text if c.isalpha()]
    other = sum(not (c.isascii() or unicodedata.name(c, "").startswith(("LATIN", "FULLWIDTH LATIN"))) for c in letters)
    return other * 2 > len(letters)


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
    Japanese and Chinese sentences end at 。！？ without a space after (not where a quote closes after them: 「…。」と).
    """
    return list(_split_sentences(text))


# The same passages come back for question after question: their sentences are split once.
@functools.lru_cache(maxsize=8192)
def _split_sentences(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for line in text.splitlines():
        for sentence in _cjk_sentences(_punkt().tokenize(_BULLET.sub("", line))):
            sentence = sentence.strip()
            lead = re.match(r"(?:\[\d+\]\s*)+", sentence)
            if lead and out:
                out[-1] = f"{out[-1]} {lead[0].strip()}"
                sentence = sentence[lead.end() :].strip()
            if sentence:
                out.append(sentence)
    return tuple(out)


_CJK_END = re.compile(r"(?<=[。！？])(?=[^。！？」』）】])")


def _cjk_sentences(sentences: list[str]) -> list[str]:
    return [part for sentence in sentences for part in _CJK_END.split(sentence)]


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
# Stop words of other scripts cannot be English words: Russian's ("кто", "где") are dropped too.
_STOP_OTHER = frozenset(STOPWORDS_RUSSIAN)
# Japanese writes its particles, endings and question words mostly in Hiragana (は, の, ですか, いくら): between
# the Kanji and Katakana words they separate them as spaces would.
_HIRAGANA = re.compile("[\u3041-\u3096\u309d-\u309f]+")
# Letters of other scripts than Latin and CJK (Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic, Thai, Georgian...).
_OTHER = "(?=[\u0370-\u1cff\u1f00-\u1fff\u2c00-\u2c5f\u2d00-\u2dff\ua640-\ua6ff\ufb1d-\ufdff\ufe70-\ufeff])[^\\W\\d_]"
_TOKEN = re.compile(
    rf"(\d+(?:[.,]\d+)*)(\s*(?:%|per\s*cent|percent))?|([a-z]+(?:'[a-z]+)*)|([{_CJK}]+)|((?:{_OTHER})+)"
)


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
    """(stemmed content words, numbers) of a text. "1,000" == "1000"; "25%" == "25 per cent" != "25".

    Words of other scripts are kept as written, not stemmed (the stemmer is English's): a Cyrillic, Greek, Arabic...
    word of two letters or more whole, a run of CJK letters as the :func:`bigrams` of its parts between Hiragana.
    """
    words, numbers, unstemmed = [], set(), set()
    for m in _TOKEN.finditer(text.lower().replace("’", "'")):
        number, _, latin, cjk, other = m.groups()
        if number:
            numbers.add(number.replace(",", "") + ("%" if m[2] else ""))
        elif cjk:
            unstemmed.update(b for part in _HIRAGANA.split(cjk) if part for b in bigrams(part))
        elif other:
            if len(other) > 1 and other not in _STOP_OTHER:
                unstemmed.add(other)
        elif latin not in _STOP and len(latin) > 1:  # Snowball strips a possessive "'s"
            words.append(_IRREGULAR.get(latin, latin))
    return set(_stemmer().stemWords(words)) | unstemmed, numbers


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
