"""Question analysis: what kind of thing a question asks for, and what it is about.

News quizzes ask in many shapes: "Who won…?", "Which country…?", "US figure skater X is famed for his
jumps. What nickname…?", "The prime minister of which country…?". The answer type comes from the
wh-word and the noun it governs ("which *country*" asks for a place, "which *chain*" for an
organisation, "what *nickname*" for a name); the focus is the rest of the asking sentence, whose
words a sentence must share to be about the question ("On what date is the *summit* scheduled?").
Rules, not a model: they are fast, offline and easy to read and extend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rag.core.text import content_terms, split_sentences, word_set


class AnswerType(StrEnum):
    """The kind of thing a question asks for."""

    person = "person"
    place = "place"
    organisation = "organisation"
    name = "name"  # a named thing that is none of the above: a nickname, a film, a storm, a product
    number = "number"
    date = "date"
    duration = "duration"
    other = "other"  # a description, a reason, a list: no short answer is looked for

    @property
    def entity(self) -> bool:
        return self in (AnswerType.person, AnswerType.place, AnswerType.organisation, AnswerType.name)


_PLACE_NOUNS = word_set(
    "country countries nation nations city cities state states region regions island islands capital continent "
    "county province provinces town village territory area place location neighborhood neighbourhood port "
    "borough district destination"
)
_ORG_NOUNS = word_set(
    "company companies brand brands chain retailer airline airlines team teams party organization organisation "
    "group agency network magazine newspaper publication university college school bank firm automaker "
    "carrier club league band manufacturer startup outlet store stores restaurant business businesses studio "
    "broadcaster channel platform service franchise institution department ministry court giant"
)
_PERSON_NOUNS = word_set(
    "person people actor actress singer artist president player leader senator governor politician celebrity "
    "athlete rapper star director author ceo official candidate musician host comedian pope judge justice "
    "king queen prince princess lawmaker billionaire founder executive coach quarterback pitcher golfer "
    "skater swimmer runner writer journalist anchor model designer chef mayor minister secretary nominee "
    "astronaut scientist figure man woman boy girl member legend"
)
_NAME_NOUNS = word_set(
    "nickname name title film movie show series song album book word term phrase app product drug vaccine "
    "storm hurricane virus strain species animal breed game character event award holiday festival "
    "festivals program programme policy law bill act plan initiative ship mission spacecraft color colour "
    "food dish drink tv medication medicine fair"
)
_NUMBER_NOUNS = word_set(
    "percentage percent share number amount age rate price cost level temperature score total figure sum "
    "height length distance speed size count population magnitude toll investment fare fee debt budget value "
    "turnout majority"
)
_DATE_NOUNS = word_set("date day year month time decade century season")
_DURATION = re.compile(r"\bhow long\b|\bfor how many (years|months|weeks|days|hours)\b")
_NUMBER = re.compile(r"\bhow (many|much|high|far|old|big|large|tall|deep|fast|often)\b")
_DATE = re.compile(r"^\s*when\b|\bwhen (did|will|was|is|does|do|are|were|has|had)\b")
_WHO = re.compile(r"\b(who|whom|whose)\b")
_WHERE = re.compile(r"\bwhere\b")
# "which", "what", "what kind of": the governed noun is among the next few words ("which new immigration option").
_WHICH = re.compile(r"\b(?:which|what)\s+(?:(?:is|was|are|were)\s+(?:the|a|an)\s+)?((?:[\w’'-]+\s*){1,5})")
# Where the noun a wh-word governs can no longer be: the verb has begun.
_VERB = word_set("did does do is was are were has have had will would can could should may might")
_NAME_OF = re.compile(r"\bwhat (is|was|are|were)\s+(the|its|his|her|their)\s+(\w+\s+)?(name|nickname|title)\b")
_COUNTED = re.compile(r"\bhow many ((?:[a-z'-]+ ){0,1}[a-z'-]+)")
_MONEY = re.compile(
    r"\b(cost|costs|pay|paid|worth|price|spend|spent|fund|funding|budget|check|checks|cash|salary|fine|sell|sold|"
    r"raise|raised|earn|earned|dollars?|money|deal|bill|tariff|revenue|loss|profit|fee)\b"
)
_CHANGE = re.compile(
    r"\b(rise|rose|risen|fall|fell|fallen|increase|increased|decrease|decreased|drop|dropped|grow|grew|grown|"
    r"climb|climbed|jump|jumped|surge|surged|decline|declined|go up|went up|go down|went down)\b"
)
_ASKING = re.compile(r"\b(who|whom|whose|what|which|where|when|how)\b", re.I)
# "Which two actors…?", "name the three states…": the answer is several things of the asked kind.
_SEVERAL = re.compile(r"\b(?:which|what|who are the|name the)\s+(two|three|four|both)\b")
_COUNTS = {"two": 2, "both": 2, "three": 3, "four": 4}
# The question asks about the present: the latest reporting settles it before older pages do. A newspaper's name
# ("USA Today") and "current" as a noun of finance ("current account") say nothing of when.
_NOW = re.compile(
    r"\b(this (week|weekend|month|year)|recent(ly)?|latest|newly|currently|current(?! accounts?\b)|now"
    r"|(?<!usa )today|yesterday|so far)\b"
)


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks for (``answer_type``) and about (``focus``)."""

    question: str
    asking: str  # the sentence that asks ("What nickname…?" of "X is famed for … What nickname…?")
    answer_type: AnswerType
    focus: frozenset[str]  # stemmed content words of the asking sentence, minus the type's own words
    terms: frozenset[str]  # stemmed content words of the whole question: candidates must bring something new
    noun: str = ""  # the word that decided the type ("country", "nickname"), or ""
    counted: frozenset[str] = frozenset()  # what "how many" counts ("vehicles", "federal workers"), stemmed
    money: bool = False  # "how much" about a cost, a price, a payment: an amount of money is asked for
    by_how_much: bool = False  # "by how much": a change is asked for ("a fifth", "20%", "doubled"), not a level
    several: int = 1  # how many things are asked for ("which two states": 2)
    about_now: bool = False  # "this week", "recently", "latest": the question asks about the present

    @property
    def nickname(self) -> bool:
        return self.noun in ("nickname", "nicknames")

    @property
    def typed(self) -> bool:
        """Whether a short answer of a known kind is looked for."""
        return self.answer_type != AnswerType.other


def _asking_sentence(question: str) -> str:
    """The last sentence that asks (a quiz often sets the scene first), or the whole question."""
    sentences = split_sentences(question) or [question]
    asking = [s for s in sentences if s.rstrip().endswith("?") or _ASKING.search(s)]
    return asking[-1] if asking else question


def answer_type(asking: str) -> tuple[AnswerType, str]:
    """The answer type of an asking sentence, and the word that decided it ("" when the wh-word alone did)."""
    q = " ".join(asking.lower().replace("’", "'").split())
    if _DURATION.search(q):
        return AnswerType.duration, ""
    if _NUMBER.search(q):
        return AnswerType.number, ""
    if named := _NAME_OF.search(q):
        return AnswerType.name, named.group(4)
    for match in _WHICH.finditer(q):
        words = re.findall(r"[a-z][a-z'-]*", match.group(1))
        if words[:3] == ["of", "the", "following"]:
            words = words[3:4]
        if words and words[0] in _VERB:
            continue  # "which of the following did…": no noun to go by
        for word in words[:4]:
            if word in _VERB:
                break
            for nouns, kind in (
                (_PLACE_NOUNS, AnswerType.place),
                (_ORG_NOUNS, AnswerType.organisation),
                (_PERSON_NOUNS, AnswerType.person),
                (_DATE_NOUNS, AnswerType.date),
                (_NUMBER_NOUNS, AnswerType.number),
                (_NAME_NOUNS, AnswerType.name),
            ):
                if word in nouns or (word.endswith("s") and word[:-1] in nouns):
                    return kind, word
        if match.group(0).startswith("which") and words:
            # "Which coin…?", "which sea creature?": a named thing of a kind no list here knows.
            return AnswerType.name, ""
    if _DATE.search(q):
        return AnswerType.date, ""
    if _WHO.search(q):
        return AnswerType.person, ""
    if _WHERE.search(q):
        return AnswerType.place, ""
    return AnswerType.other, ""


def analyse(question: str) -> QuestionAnalysis:
    """The answer type and focus of a question."""
    asking = _asking_sentence(question)
    kind, noun = answer_type(asking)
    focus = set(content_terms(asking)) - set(content_terms(noun))
    lowered = asking.lower()
    counted = _COUNTED.search(lowered)
    several = _SEVERAL.search(lowered)
    return QuestionAnalysis(
        question=question,
        asking=asking,
        answer_type=kind,
        focus=frozenset(focus),
        terms=frozenset(content_terms(question)),
        noun=noun,
        counted=frozenset(content_terms(counted.group(1))) if counted else frozenset(),
        # "How much did the cost of flour rise?" asks for a change (often a percentage), not for money.
        money=bool(re.search(r"\bhow much\b", lowered) and _MONEY.search(lowered) and not _CHANGE.search(lowered)),
        by_how_much=bool(re.search(r"\bby how much\b", lowered)),
        several=_COUNTS[several.group(1)] if several and kind.entity else 1,
        about_now=bool(_NOW.search(question.lower())),
    )
