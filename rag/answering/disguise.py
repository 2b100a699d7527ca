"""What a disguised text reads as: the normal form the instruction patterns and payload checks are matched on.

A model reads through disguises a regex would not: full-width letters, invisible characters and Unicode tag
characters, HTML entities ("&#73;gnore"), Cyrillic and Greek letters that look Latin ("іgnore" with a Cyrillic і),
letters spaced out ("i g n o r e") and digits standing for letters ("1gn0r3"). :func:`canonical` undoes all but the
last, keeping case; :func:`normalise` also folds case, accents and spaces; :func:`deleet` reads digits inside words
as the letters they stand for, for a second look at a sentence that has such words.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Cyrillic and Greek letters that look like Latin ones (Unicode's confusables for these scripts, trimmed to the
# letters a reader cannot tell apart). NFKC leaves them alone: they are different letters, not variants.
_LOOKALIKES = str.maketrans(
    "аАВвеЕһНіІјЈкКмМоОрРсСтТуУхХѕЅԁԛԝ"  # Cyrillic
    "αΑβΒεΕζΖηΗιΙκΚμΜνΝοΟρΡτΤυΥχΧγ"  # Greek
    "ıɑɡʟ",  # Latin letters outside ASCII that pass for ASCII ones
    "aABBeEhHiIjJkKmMoOpPcCtTyYxXsSdqwaAbBeEzZnHiIkKuMvNoOpPtTuYxXyiagL",
)
_TAG_ASCII = {cp: cp - 0xE0000 for cp in range(0xE0020, 0xE007F)}  # invisible "tag" letters spell ASCII
TAGS = re.compile("[\U000e0000-\U000e007f]")
# Characters that show nothing: zero-width spaces and joiners, direction marks, soft hyphens, variation selectors,
# fillers, tags. A regex, not unicodedata.category() per character: this runs on every retrieved sentence.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U000e0000-\U000e0fff]"
)
_ACCENTS = re.compile("[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
SPACED_OUT = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][ ._*·-]){3,}[^\W\d_](?![^\W\d_])")  # "i g n o r e"
_SPACED_GAP = re.compile(r"[ ._*·-]")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});?", re.IGNORECASE)


def canonical(text: str) -> str:
    """``text`` with its disguises undone, case kept (see the module docstring)."""
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m[0]), text)
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text).translate(_TAG_ASCII))
    text = _ACCENTS.sub("", unicodedata.normalize("NFKD", text)).translate(_LOOKALIKES)
    return SPACED_OUT.sub(lambda m: _SPACED_GAP.sub("", m[0]), text)


def normalise(text: str) -> str:
    """What the patterns are matched against: disguises undone, lower case, accents dropped, spaces collapsed."""
    return " ".join(canonical(text).casefold().split())


# Digits and signs that stand for letters, read so only inside a word that also has letters: "1gn0r3", "th15",
# "4ll" (but "2025", "A320" keep their meaning in the normal form; this is a second look, not the normal form).
_LEET = str.maketrans("0134578@$", "oieastbas")
_LEET_WORD = re.compile(r"(?=[\w@$]*[^\W\d_])(?=[\w@$]*[\d@$])[\w@$]{2,}")


def has_leet(text: str) -> bool:
    """Whether ``text`` (normalised) has a word mixing letters with digits or signs that stand for letters."""
    return bool(_LEET_WORD.search(text))


def deleet(text: str) -> str:
    """``text`` (normalised) with the digits inside its words read as letters: "1gn0r3 4ll" -> "ignore all"."""
    return _LEET_WORD.sub(lambda m: m[0].translate(_LEET), text)
