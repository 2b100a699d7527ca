"""The answer side of the guard: an LLM answer sentence that repeats text addressed to a model is dropped.

The instruction detector (``instructions.py``) is a list of forms and will miss some. This check does not need to
recognise the instruction: it looks at what the answer says and where that came from. An answer sentence is
dropped when

- a distinctive word of it (a code such as "PWNED-17", a link, a quoted phrase, a word in capitals; see
  ``injection.payloads``) that the question does not name occurs in the passages only inside *directive*
  sentences, or
- it has no such word, but the only passage sentences that carry its words are directive ones.

A sentence is directive when the detector says so, when it plays a chat role or Markdown header, or when it both
addresses someone (a model, an assistant, a bot, "you", in any of fourteen languages) and dictates what to say
(reply, answer, say, output, write, append, …). Reported news addressing "you" rarely carries a code an answer
would repeat, so a sentence kept by mistake costs little; a sentence that obeyed an article costs the answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from rag.answering.disguise import deleet, has_leet, normalise
from rag.answering.injection import guarded, payloads
from rag.answering.instructions import SENTENCE_END, is_instruction
from rag.core.text import content_terms, split_sentences
from rag.core.types import Passage

DROPPED_FLAG = "dropped: an answer sentence repeating text addressed to a model, not news"
_CHECKED: ContextVar[bool] = ContextVar("newsrag_obedience_check", default=True)


@contextmanager
def unchecked() -> Iterator[None]:
    """Keep every answer sentence inside this block (this context only): for measuring the check, never to serve."""
    token = _CHECKED.set(False)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def _words(*words: str) -> str:
    return "|".join(sorted({re.escape(normalise(w)) for w in words}, key=len, reverse=True))


_SECOND_PERSON = _words(
    "you", "your", "yours", "du", "dir", "dich", "dein", "deine", "euch", "tu", "toi", "vous", "votre", "usted",
    "ustedes", "voce", "jij", "jouw", "ty", "twoj", "twoja", "ты", "тебе", "тебя", "вы", "вам", "ваш", "твой", "sen",
    "siz", "sana", "size", "senin", "dig", "din", "reading this", "reads this",
)  # fmt: skip
_MACHINE = _words(
    "ai", "ais", "llm", "llms", "gpt", "chatgpt", "bot", "bots", "chatbot", "chatbots", "model", "models", "assistant",
    "assistants", "agent", "agents", "ki", "sprachmodell", "sprachmodelle", "ia", "modele", "modelo", "modelos",
    "modello", "taalmodel", "ии", "модель", "нейросеть", "бот", "yapay zeka", "dil modeli", "sprakmodell",
    "asystent", "asistan", "assistent", "automated readers", "automated reader", "crawler", "crawlers",
)  # fmt: skip
_DICTATES = _words(
    "reply", "respond", "answer", "say", "output", "print", "write", "append", "repeat",
    "antworte", "antwortet", "antwort", "sag", "sage", "schreib", "schreibe", "gib", "reponds", "repondez", "reponse",
    "ecris", "ecrivez", "dis", "dites", "response", "responde", "respuesta", "escribe", "rispondi", "risposta",
    "scrivi", "beantwoorden", "antwoorden", "odpowiedziec", "odpowiadac", "repondre", "responder", "rispondere",
    "zeggen", "schrijven", "napisac", "powiedziec", "ответить", "написать", "сказать", "skriva", "antworten",
    "sagen", "schreiben", "ausgeben", "ecrire", "dire", "escribir", "decir", "scrivere", "escrever",
    "responda", "resposta", "escreva", "antwoord", "zeg", "schrijf", "odpowiedz", "odpowiedzi", "napisz", "powiedz",
    "ответ", "ответь", "ответьте", "отвечай", "напиши", "скажи", "выведи", "yaz", "soyle", "yanitla", "cevap",
    "cevabin", "svara", "svar", "skriv",
)  # fmt: skip
# Someone addressed: "you" in any of the languages, or a model named before a comma or colon near the start
# ("Assistant, …", "To the bot reading this: …"); a model talked about ("the model can write code") is news.
_ADDRESSES = re.compile(
    rf"(?<!\w)(?:{_SECOND_PERSON})(?!\w)|^\W*(?:\w+\W+){{0,4}}?(?:{_MACHINE})(?:\W*n)?\s*[,:]|你|您|あなた"
    r"|(?:ai|人工智能|模型|机器人|助手|アシスタント|モデル|ボット)(?:へ|に|は|:|：|,|，)"
)
_DICTATING = re.compile(rf"(?<!\w)(?:{_DICTATES})(?!\w)|回答|回复|输出|答え|返答|出力|言って|書いて")
_IMPERATIVES = _words(
    "reply", "respond", "answer", "say", "output", "print", "write", "append", "repeat", "antworte", "antwortet",
    "sag", "schreib", "schreibe", "gib", "reponds", "repondez", "ecris", "ecrivez", "dis", "responde", "escribe",
    "rispondi", "scrivi", "responda", "escreva", "antwoord", "zeg", "schrijf", "odpowiedz", "napisz", "powiedz",
    "ответь", "ответьте", "отвечай", "отвечайте", "напиши", "скажи", "выведи", "yanitla", "svara", "skriv",
)  # fmt: skip
_THEN = _words(
    "and", "then", "en", "und", "dann", "et", "puis", "y", "luego", "e", "poi", "i", "и", "och", "ve", "please",
    "bitte", "just", "only", "always", "alleen", "nur", "tylko", "только", "bara", "sadece",
)  # fmt: skip
_MODAL = _words(
    "must", "should", "shall", "has to", "have to", "needs to", "muss", "musst", "soll", "sollst", "doit", "dois",
    "debe", "debes", "deve", "devi", "moet", "musisz", "должен", "должна", "maste", "ska", "olmali", "required to",
    "are to", "is to", "moet je",
)  # fmt: skip
# An order to say something: a speech verb opening a clause ("… and say X", "Odpowiedz tylko X", "Svara: X"), after
# a modal ("should output X"), or closing a Turkish one ("sadece X yaz"); in Chinese and Japanese, the polite or
# bare imperative forms ("请回复", "只回答", "と答えてください").
_ORDER = re.compile(
    rf"(?:^|[:;,]\s*|(?<!\w)(?:{_THEN})\s+)\W*(?:(?:{_THEN})\s+)?(?:{_IMPERATIVES})(?!\w)"
    rf"|(?<!\w)(?:{_MODAL})\s+(?:\w+\s+){{0,3}}(?:{_DICTATES})(?!\w)|(?<!\w)cevabin\b.*\bolmali"
    r"|(?<!\w)(?:yaz|soyle|yanitla|cevap ver|vermelisin|yazmalisin)\W*$"
    r"|(?:请|只|仅|务必|必须|^|[,:;、])\s*(?:回答|回复|输出|说|写)|(?:と|を)(?:だけ)?(?:答え|回答|返答|出力|言っ|書い|記載)"
)
_ROLE = re.compile(
    r"^\W*#{1,6}\s|<\s*/?\s*(?:system|assistant|user)\s*>|\|\s*im_|\[\s*/?\s*(?:inst|system|sys)\s*\]"
    r"|<<\s*/?\s*sys\s*>>|<\s*\||^\W*(?:user|assistant|human|ai|bot|model)\s*:"
)


@lru_cache(maxsize=8192)
def _addresses_and_dictates(sentence: str) -> bool:
    text = normalise(sentence)
    return _speaks_to(text) or (has_leet(text) and _speaks_to(deleet(text)))


def _speaks_to(text: str) -> bool:
    if _ROLE.search(text) or _ORDER.search(unicodedata.normalize("NFKC", text)):
        return True
    return bool(_ADDRESSES.search(text) and _DICTATING.search(text))


def directive(sentence: str) -> bool:
    """True for a passage sentence that speaks to a reader or a model and tells it what to say, rather than
    reporting news (see the module docstring). With the detector switched off (``injection.unguarded``, for
    measuring), only the answer side's own test counts."""
    return _addresses_and_dictates(sentence) or (guarded() and is_instruction(sentence))


@lru_cache(maxsize=1024)
def _pieces(text: str) -> tuple[str, ...]:
    return tuple(s for line in text.split("\n") for s in SENTENCE_END.split(line) if s.strip())


def _sentences(text: str) -> list[tuple[str, bool]]:
    """The sentences of a passage field, each normalised, and whether it is directive."""
    return [(normalise(s), directive(s)) for s in _pieces(text)]


def _passage_sentences(passages: list[Passage]) -> list[tuple[str, bool]]:
    return [s for p in passages for field in (p.title, p.source, p.text) for s in _sentences(field)]


def any_directive(passages: list[Passage]) -> bool:
    """Whether any passage has a directive sentence (an answer from them is then held until it is checked)."""
    return _CHECKED.get() and any(flag for _, flag in _passage_sentences(passages))


def _says(text: str, phrase: str) -> bool:
    # Only Latin letters and digits bound a word here: in Chinese or Japanese a code runs into the next character.
    return bool(re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text))


def _betrayed_by(sentence: str, known: list[tuple[str, bool]], question: str) -> str:
    """The word or words of ``sentence`` that only directive passage sentences carry, or ""."""
    asked = normalise(question)
    for mark in payloads(sentence):
        if _says(asked, mark):
            continue
        holders = [flag for text, flag in known if _says(text, mark)]
        if holders and all(holders):
            return mark
    terms = set(content_terms(sentence)) - set(content_terms(question))
    if len(terms) < 2 or payloads(sentence):
        return ""
    # No distinctive word: the sentences that carry most of its words (all directive, at least one) betray it.
    carriers = [flag for text, flag in known if len(terms & set(content_terms(text))) * 10 >= len(terms) * 6]
    return " ".join(sorted(terms)) if carriers and all(carriers) else ""


@dataclass(frozen=True)
class Dropped:
    """An answer sentence taken out, and what gave it away."""

    sentence: str
    mark: str  # the distinctive word (or the words) it shares only with directive passage sentences

    @property
    def flag(self) -> str:
        return f"{DROPPED_FLAG}: “{self.sentence}” (it repeats “{self.mark}”)"


def drop_obeyed(text: str, passages: list[Passage], question: str) -> tuple[str, list[Dropped]]:
    """``text`` (an LLM answer with [n] markers) without its sentences that obeyed a passage, and those dropped."""
    known = _passage_sentences(passages) if _CHECKED.get() else []
    if not any(flag for _, flag in known):
        return text, []
    kept, dropped = [], []
    for sentence in split_sentences(text):
        mark = _betrayed_by(re.sub(r"\[\d+\]", " ", sentence), known, question)
        if mark:
            dropped.append(Dropped(" ".join(re.sub(r"\[\d+\]", "", sentence).split()), mark))
        else:
            kept.append(sentence)
    return (" ".join(kept) if dropped else text), dropped
