"""Cleaning raw article text: page boilerplate out, a title found, dates made ISO 8601.

Boilerplate is recognised by general rules (what newsletter prompts, photo credits, share and follow
widgets look like on news sites), never by listing particular lines of particular pages.
"""

from __future__ import annotations

import re
import unicodedata

from rag.core.dates import date_to_timestamp, normalise_date

__all__ = ["clean_text", "date_to_timestamp", "is_boilerplate", "normalise_date", "split_title"]

# A UI line is short; a real sentence that happens to start with "Follow" is not dropped.
_UI_MAX_CHARS = 60
_CREDIT = re.compile(
    r"^(?:file\s+)?(?:photos?|images?|pictures?|videos?|illustrations?|graphics?|pic|credit)"
    r"\s*(?::|by\b|-)\s*\S.{0,58}$",
    re.IGNORECASE,
)
_ALWAYS_BOILERPLATE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(sign up|subscribe|register)\b.{0,80}\b(newsletters?|inbox|alerts?|updates|briefing)\b",
        r"^get (our|the) .{0,40}newsletters?\b",
        r"^(copyright\b|©|\(c\)\s)",
        r"\ball rights reserved\b",
        r"^(we|this site) uses? cookies\b",
    )
]
_UI_LINE = re.compile(
    r"^(follow( (topic|us|author|this))?|share( (this|on|article|story))?|read more|read next|"
    r"related( (stories|articles|topics))?|see also|more (from|on|stories)|advertisement|advert|"
    r"sponsored( content)?|click here|listen to (this )?(article|story)|topics?|tags?|"
    r"recommended|trending|most (read|popular)|print|email|tweet|comments?)\b[\w\s&'-]{0,30}:?$",
    re.IGNORECASE,
)
_ONLY_PUNCTUATION = re.compile(r"^\W+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_boilerplate(line: str) -> bool:
    """True for lines that are page furniture rather than article text."""
    if _ONLY_PUNCTUATION.match(line) or _CREDIT.match(line):
        return True
    if any(p.search(line) for p in _ALWAYS_BOILERPLATE):
        return True
    return len(line) <= _UI_MAX_CHARS and bool(_UI_LINE.match(line))


def clean_text(raw: str) -> str:
    """Normalise unicode and whitespace and drop boilerplate lines (and the captions above credits)."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).replace("\u00a0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    kept: list[str] = []
    for i, line in enumerate(lines):
        if not line:
            if kept and kept[-1]:
                kept.append("")
            continue
        if is_boilerplate(line):
            continue
        following = next((n for n in lines[i + 1 :] if n), "")
        # A photo caption sits directly above its credit line ("PHOTO: REUTERS").
        if _CREDIT.match(following) and len(line) < 400:
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def split_title(text: str) -> tuple[str, str]:
    """Title and body of a plain-text article whose first line is its headline.

    A first line that reads like a paragraph is not a headline: the title is then its opening words.
    """
    first, _, rest = text.partition("\n")
    first = first.strip()
    looks_like_headline = len(first) <= 120 or not first.endswith((".", "!", "?"))
    if rest.strip() and 0 < len(first) <= 200 and looks_like_headline:
        return first, rest.strip()
    words = first.split()
    title = " ".join(words[:12]) + ("…" if len(words) > 12 else "")
    return title, text
