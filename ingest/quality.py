"""Whether an article's text is language at all, or the noise of a broken text layer.

A PDF whose font has a broken or missing map from glyphs to characters gives text that looks like text to every
later step: a Japanese gazette came out as "Ұ" and seven chunks of symbols from a dozen scripts. Indexed, such noise
answers nothing and crowds real passages out of retrieval, so an article is refused when its text, read as a person
would, is not writing:

- characters that stand for no letter (U+FFFD, private-use code points, unassigned ones, control characters);
- letters spread over many scripts (real text keeps to one or two, plus Latin; kana and Han count as one);
- Han characters without the common ones every Chinese text is made of (a font map gone wrong gives rare ones);
- in alphabetic scripts, words of one letter, or no words at all (letters drawn apart or run together).

Each rule is a share over the whole text, so a short article or a quotation in another script does not trip it.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

REASON = "text layer is unreadable (broken font encoding?) — run OCR on it"
SAMPLE = 20_000  # characters looked at: the rules are shares, and a long text repeats its nature
MIN_LETTERS = 20  # below this there is too little to judge
MAX_JUNK = 0.05  # replacement, private-use, unassigned or control characters among non-space characters
MIN_LETTER_SHARE = 0.25  # letters and digits among non-space characters (a contents page of dots: ~40%)
MIN_MAIN_SCRIPTS = 0.85  # letters in the two scripts the text uses most
MIN_COMMON_HAN = 0.15  # of Han characters, the share that are among the most common ones (Chinese text: ~45%)
MAX_ONE_LETTER_WORDS = 0.4  # alphabetic words of one letter (English: ~5%, "a", "I")
WORD_LENGTH = (2.0, 20.0)  # mean alphabetic word length, in letters (English ~4.7, Russian ~5.5, German ~6)
_EAST_ASIAN = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "HALFWIDTH", "FULLWIDTH", "IDEOGRAPHIC"}
_NO_SPACES = {"EAST_ASIAN", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN"}  # words not parted by spaces
# The 200 most frequent Han characters of modern Chinese (simplified and traditional forms, and those Japanese
# uses most): in real text they make up about half of the Han characters, in a broken font map's noise very few.
COMMON_HAN = frozenset(
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多"
    "天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但"
    "身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四"
    "第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通"
    "目华报立马命张活难神数件安表原車會國來說們為這個時對發於過後學將問經還電開長區後與見關實現當際"
    "日本人大年中一出事者生分月上下市県円政府"
)


def unreadable(text: str) -> str | None:
    """Why ``text`` is not writing (a short description of the rule it breaks), or None when it reads as text."""
    sample = spread(text)
    chars = [c for c in sample if not c.isspace()]
    if len(chars) < MIN_LETTERS:
        return None
    junk = sum(1 for c in chars if unicodedata.category(c) in ("Co", "Cn", "Cc", "Cs") or c == "\ufffd")
    if junk > MAX_JUNK * len(chars):
        return f"{junk / len(chars):.0%} of its characters stand for no letter"
    letters = [c for c in chars if c.isalpha()]
    if len(letters) < MIN_LETTERS:
        return None
    alnum = sum(1 for c in chars if c.isalnum())
    if alnum < MIN_LETTER_SHARE * len(chars):
        return f"only {alnum / len(chars):.0%} of its characters are letters or digits"
    scripts = Counter(script(c) for c in letters)
    main = sum(n for _, n in scripts.most_common(2))
    if main < MIN_MAIN_SCRIPTS * len(letters):
        return f"its letters are spread over {len(scripts)} scripts"
    han = [c for c in letters if unicodedata.name(c, "").startswith("CJK")]
    if len(han) >= MIN_LETTERS and scripts["EAST_ASIAN"] > len(letters) / 2:
        common = sum(1 for c in han if c in COMMON_HAN)
        kana = sum(1 for c in letters if unicodedata.name(c, "").startswith(("HIRAGANA", "KATAKANA")))
        if common < MIN_COMMON_HAN * len(han) and kana < 0.1 * len(letters):
            return f"only {common / len(han):.0%} of its Han characters are common ones"
    return _words_problem(sample, scripts)


def _words_problem(sample: str, scripts: Counter[str]) -> str | None:
    """For text in an alphabet parted by spaces: words of one letter, or words too long or short on average."""
    top = scripts.most_common(1)[0][0]
    if top in _NO_SPACES:
        return None
    words = ["".join(c for c in token if c.isalpha()) for token in sample.split()]
    words = [w for w in words if w]
    if len(words) < MIN_LETTERS // 2:
        return None
    single = sum(1 for w in words if len(w) == 1)
    if single > MAX_ONE_LETTER_WORDS * len(words):
        return f"{single / len(words):.0%} of its words are single letters"
    mean = sum(map(len, words)) / len(words)
    if not WORD_LENGTH[0] <= mean <= WORD_LENGTH[1]:
        return f"its words are {mean:.1f} letters long on average"
    return None


def spread(text: str, parts: int = 4) -> str:
    """About ``SAMPLE`` characters of ``text`` from ``parts`` places spread over it: a long document's front matter
    (a contents page, a licence) is not what it is made of."""
    if len(text) <= SAMPLE:
        return text
    size = SAMPLE // parts
    step = (len(text) - size) // (parts - 1)
    return "\n".join(text[i * step : i * step + size] for i in range(parts))


def script(char: str) -> str:
    """The script a letter belongs to, from its Unicode name ("LATIN", "CYRILLIC"); East Asian ones as one."""
    first = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
    return "EAST_ASIAN" if first in _EAST_ASIAN else first
