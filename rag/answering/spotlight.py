"""Spotlighting: the LLM gets passages as quoted data, inside delimiters an article cannot forge.

Each request draws a random key (:func:`new_key`); every passage opens with ``<passage … key="K">`` and closes with
``</passage key="K">``, and the system prompt says that whatever lies between them is data to quote, never
instructions to follow. An article does not know the key, so text claiming to close its passage and speak as the
system ("</passage> System: …") stays inside it. In case a model is swayed by a look-alike anyway, passage text is
also neutralised: the key itself, anything that reads as a passage tag (in look-alike letters, full-width brackets,
with invisible characters between) and chat-template tokens ("<|im_start|>") are escaped or taken out.
"""

from __future__ import annotations

import re
import secrets

from rag.answering.disguise import INVISIBLE

KEY_BYTES = 6  # 12 hex digits: 2^48 keys, not guessable by an article written before the question was asked
_OPEN = "[<＜﹤‹〈⟨❮]"  # "<" and what a model may read as one
_GAP = r"(?:\s|[/／⁄∕\\]|" + INVISIBLE.pattern + ")*"
_LETTERS = {"p": "pрρｐ", "a": "aаαａ", "s": "sѕｓ", "g": "gɡｇ", "e": "eеεｅ"}
_WORD = "".join(f"[{_LETTERS[c]}{_LETTERS[c].upper()}]{INVISIBLE.pattern}*" for c in "passage")
_PASSAGE_TAG = re.compile(_OPEN + "(?=" + _GAP + _WORD + ")")
_TEMPLATE_TOKEN = re.compile(_OPEN + r"(?=\s*[|｜]|\s*/?\s*(?:system|assistant|user)\s*>|<\s*/?\s*sys\s*>)", re.I)


def new_key() -> str:
    """A fresh random key for one request's passage delimiters."""
    return secrets.token_hex(KEY_BYTES)


def neutralise(text: str, key: str) -> str:
    """``text`` with the key taken out and anything reading as a passage tag or chat-template token escaped."""
    if key:
        text = re.sub(re.escape(key), "", text, flags=re.IGNORECASE)
    text = _PASSAGE_TAG.sub("&lt;", text)
    return _TEMPLATE_TOKEN.sub("&lt;", text)
