"""The extractive answer engine: no LLM, just the best sentences of the retrieved passages, cited.

Every sentence of the top passages is scored against the question by
  * dense similarity (the same embedder as retrieval: cosine of question and sentence), and
  * lexical coverage (the IDF-weighted share of the question's content words the sentence contains),
plus small boosts when the sentence has the kind of thing the question asks for (a number for
"how many", a date for "when"). The best few sentences, up to ~80 words, form the answer, each
followed by the citation of its passage. When even the best sentence scores under the calibrated
threshold, the engine refuses instead of answering.

Dates (issue #35): among sentences on a par (naming the same short answer, or scoring alike), the newest article's
leads, and an undated one follows the dated; when two dated reports of one story name different answers of the
asked kind, the newer leads and the older is marked as earlier reporting (``Sentence.earlier``).
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from rag.answering import confidence
from rag.answering.candidates import Candidate, Commonness, is_place, vote
from rag.answering.choices import MultipleChoice, match, pick, supports
from rag.answering.entities import warm
from rag.answering.question import AnswerType, QuestionAnalysis, analyse
from rag.core.dates import date_to_timestamp
from rag.core.text import (
    content_terms,
    content_words,
    is_table_row,
    mostly_non_latin,
    split_sentences,
    word_count,
    word_set,
)
from rag.core.types import Passage

MAX_SENTENCES = 3
MAX_WORDS = 80
MIN_SENTENCE_WORDS = 4
DENSE_WEIGHT = 0.55
LEXICAL_WEIGHT = 0.45
# Calibrated (`newsrag bench calibrate`, all 26 RealTimeQA dev weeks) on 214 answerable questions (asked
# of their own week, whose articles hold the answer) and 210 unanswerable ones (asked of a week 13 weeks
# away, whose articles do not): 0.45 is the lowest threshold refusing at least 90% of the unanswerable
# ones (it refuses 92.4%, and answers 83.6% of the answerable). Chosen on one half of the weeks and
# checked on the other: 0.43 → 87.5% answered, 83.8% refused; 0.46 → 79.1% answered, 95.4% refused.
# NEWSRAG_MIN_RELEVANCE changes it.
DEFAULT_MIN_SCORE = 0.48
# A further sentence must score this share of the best one to join the answer.
KEEP_RATIO = 0.75
REDUNDANT_COSINE = 0.9
TYPE_BOOST = 0.08
# Sentences embedded per question (the rest are ranked out by word overlap and passage rank first).
# Embedding is most of an answer's time; 12 instead of 16 cut p95 by a fifth and changed 1 of 330
# RealTimeQA answers (seed suite unchanged).
MAX_EMBEDDED = 12
RANK_PRIOR = 0.1
MAX_OPTION_SENTENCES = 24
# A picked option's supporting sentence must score at least this for the question's stem.
MIN_OPTION_SUPPORT = 0.3
# Articles published at most this many days before the newest retrieved one are the latest reporting, read first
# when a question asks about the present. On the RealTimeQA dev weeks (pools of 20 passages), an option picked from
# their sentences alone, else from all, was right for 145 of 330 questions against 141 from all (first 13 weeks +3,
# last 13 +1; 148 when every question reads them first, and 7 or 14 days changed one question); a short answer voted
# by them alone, else by all, for 55 against 50 (+1, +4). Every question reading them first cost the typed suite,
# whose questions span months of articles, 2 of 40 short answers (a recent article on another story won).
RECENT_DAYS = 10
CACHE_SIZE = 20_000
# Short answers: the best sentences (by word overlap and passage rank) that vote, and how clearly one must win.
# 40 rather than 60: every voting sentence goes through the entity recogniser; 40 give 1 right short answer in
# 330 RealTimeQA questions fewer than 60, in two thirds of the time.
VOTE_SENTENCES = 40
VOTE_MARGIN = 1.0
# Candidates returned with their confidence (the winner and the next ones).
MAX_CANDIDATES = 3
# Sentences naming the short answer that lead the answer.
SUPPORT_SENTENCES = 2
# A sentence is about the question when it holds this (IDF-weighted) share of the asking sentence's focus words.
MIN_FOCUS = 0.5
# "Which two…?": the answers are looked for among this many best candidates of the asked kind.
TOGETHER_CANDIDATES = 6
_LISTED = re.compile(r"\s*(?:,|,? and|&|,? as well as)\s+(?:the\s+)?")
# A further sentence of an answer comes from a passage naming at least this share of the question's names.
MIN_NAMED = 0.5
# A further sentence of an answer to a question that names nothing holds this share of its focus words.
MIN_FOCUS_UNNAMED = 0.25
# A sentence this close after one quoted, in its passage, goes on with its story.
FOLLOWING = 2
# Capitalised words of a question that name no story: days, months, titles.
_NOT_NAMES = word_set(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july august "
    "september october november december president prime minister secretary senator governor mayor king queen "
    "pope prince princess sen rep gov gen dr mr mrs ms"
)
# How much the previous question's words count in a follow-up, against the follow-up's own.
CONTEXT_WEIGHT = 0.3
# A sentence without what a typed question asks for ("how many" → a number) can hardly answer it.
TYPE_MISS_FACTOR = 0.85
# Share of the score lost when the question's names appear in none of the passages.
MISSING_NAME_PENALTY = 0.15
# Sentences scoring within this of the best are on a par, and the newest article's leads among them. Scores run
# from the relevance threshold (0.48) to about 1; holding the asked kind of thing adds TYPE_BOOST (0.08). On the typed
# and numbers suites the two best sentences of a question are 0.09 apart at the median and 0.04 at the first
# quartile: 0.03 is a difference the scorer hardly means, and it changed the lead sentence of 1 of their 83 questions
# (the same short answers and key facts; 0.05 would have changed 2, 0.08 7).
NEAR_EQUAL = 0.03
# Two dated reports naming different answers of the asked kind are one story told as it developed (a death toll
# that rose, a date that moved) when published at most this many days apart; further apart, they are likely about
# different events (last year's race and this year's), and the vote decides as for any other question.
STORY_DAYS = 30
DAY = 86_400
EPOCH = date(1970, 1, 1).toordinal()
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip
# Words that write a number or its scale, as digits and one word: "ten" and "10", "$2bn" and "$2 billion" agree.
_SPELLED = {
    word: str(n)
    for n, word in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"), 1
    )
} | {"bn": "billion", "tn": "trillion", "trn": "trillion"}

_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|"
    r"millions?|billions?|half|halved|thirds?|quarters?|fifths?|tenths?|doubled?|tripled?|twice|per ?cent)\b",
    re.IGNORECASE,
)
_DURATION = re.compile(r"\b(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b", re.IGNORECASE)
_ANAPHOR = re.compile(
    r"^[“\"']?(the (two|three|pair|move|deal|measure|plan|meeting|talks|leaders?)|he|she|it|they|this|that|these|"
    r"those|his|her|their|its)\b",
    re.IGNORECASE,
)
SHORT_WORDS = 10
# A Markdown table's rule line.
_RULE = re.compile(r"[|\s:\-]+")
_PROPER = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][a-zA-Z-]+")
# Dotted identifiers name one thing as a proper name does, whatever their case: a host (k.root-servers.net), a file
# (macros.ghc), a package (python3.11). Their parts are common words or single letters the terms leave out.
_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z][\w-]*(?:\.[\w-]+)+(?<![.-])")
_ABBREVIATION = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?")  # U.S, e.g, a.m: not identifiers
_DATE = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d|\b(19|20)\d\d\b|"
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|tonight|"
    r"spring|summer|autumn|fall|winter|(next|last|this) (week|month|year))\b",
    re.IGNORECASE,
)


_MEASURES = (AnswerType.number, AnswerType.date, AnswerType.duration)


@dataclass
class Sentence:
    text: str
    passage: int  # index into the passages list
    position: int  # position within its passage
    context: str = ""  # the sentence before it in the passage
    score: float = 0.0  # how well it answers: relevance, raised or lowered by whether it holds what is asked
    relevance: float = 0.0  # how much it is about the question (dense and lexical), whatever it holds
    dense: float = 0.0
    lexical: float = 0.0
    terms: frozenset[str] = frozenset()  # content terms of the sentence and, if it leans on it, the one before
    show_context: bool = False  # set when chosen: the answer quotes the preceding sentence too
    earlier: str = ""  # set when chosen: the day of an older report than the answer's lead ("3 March"), see extract
    row: bool = False  # a table row, whose context is its table's header row
    # Its passage's title and source (a paper's name, a message's sender): a question naming them names the passage
    # ("What did Björn Persson say about FHS?" of his message), though its text need not.
    byline: str = ""

    @property
    def dependent(self) -> bool:
        """Leans on the sentence before it ("The two met...", "He added...") to make sense."""
        return bool(self.context) and (
            self.row or bool(_ANAPHOR.match(self.text)) or word_count(self.text) < SHORT_WORDS
        )

    @property
    def window(self) -> str:
        if self.row:
            return f"{self.context}: {self.text}"  # "Operator | Fare cut: Tidewater | a fifth"
        return f"{self.context} {self.text}" if self.dependent else self.text

    @property
    def answer_text(self) -> str:
        return self.window if self.show_context else self.text


@dataclass
class Extract:
    """The chosen sentences (best first) or a refusal, with the best score seen and the short answer, if any."""

    sentences: list[Sentence]
    best_score: float
    refused: bool
    short: Candidate | None = None  # the answer the sentences name, when one clearly wins the vote, confidently
    # The vote's winner (first, stated or not) and the next candidates, with their confidence and its signals.
    candidates: list[tuple[Candidate, float, dict[str, float]]] = field(default_factory=list)


def _type_match(question: str, sentence: str) -> bool | None:
    """Whether the sentence holds what the question asks for (a number, a duration, a date); None: untyped."""
    q = question.lower()
    if re.search(r"\bhow long\b", q):
        return bool(_NUMBER.search(sentence) and _DURATION.search(sentence))
    if re.search(r"\bhow (many|much|high|far|old|big|large)\b|\bwhat (percentage|share|number)\b", q):
        return bool(_NUMBER.search(sentence))
    if re.search(r"^\s*when\b|\bwhat (date|day|year|month|time)\b", q):
        return bool(_DATE.search(sentence))
    return None


def _weights(question: str) -> tuple[float, float]:
    """(dense weight, lexical weight) of a sentence's relevance to ``question``.

    A question mostly in another script than Latin is read by its words alone, the dense weight going to the lexical
    side: the default embedder is English, and its similarity there is no evidence. On a Russian article it gave 0.77
    to the sentence answering and 0.63 to every sentence for a question about football; on a Japanese one, 0.37 to
    0.73 to every sentence, holding the question's words or not.
    """
    return (0.0, DENSE_WEIGHT + LEXICAL_WEIGHT) if mostly_non_latin(question) else (DENSE_WEIGHT, LEXICAL_WEIGHT)


def _names(text: str) -> set[str]:
    """The names in a question: its capitalised words past its start, lower-cased."""
    text = text.strip()
    return {m.group(0).lower() for m in _PROPER.finditer(text)} | {
        m.group(0).lower() for m in _IDENTIFIER.finditer(text) if not _ABBREVIATION.fullmatch(m.group(0))
    }


def _missing_names(question: str, sentences: list[Sentence]) -> float:
    """The share of names in the question (capitalised words past its start) found in no sentence."""
    names = _names(question)
    if not names:
        return 0.0
    text = " ".join([s.text for s in sentences] + list({s.byline for s in sentences})).lower()
    return sum(name not in text for name in names) / len(names)


class ExtractiveEngine:
    """Selects and cites the sentences that best answer a question."""

    def __init__(
        self,
        embedder: BaseEmbedding,
        min_score: float = DEFAULT_MIN_SCORE,
        commonness: Commonness | None = None,
        min_confidence: float | None = None,
    ) -> None:
        """``commonness`` says how widespread a candidate answer is in the whole index (see :func:`vote`);
        ``min_confidence``: a short answer is stated from this confidence up (default: the fitted model's)."""
        self.embedder = embedder
        self.min_score = min_score
        self.commonness = commonness
        self.model = confidence.load()
        self.min_confidence = self.model.threshold if min_confidence is None else min_confidence
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def warm(self) -> None:
        """Load the entity recogniser and the place names now (about a second each), not on the first question."""
        warm(["Warm up in Paris."])
        is_place("Paris")

    def candidates(self, passages: list[Passage]) -> list[Sentence]:
        """The sentences of the passages that may answer, each with the one it may lean on.

        A table row ("Tidewater | Hampton | a fifth") is a sentence however short, and leans on its table's first
        row, the header, whose words say what its cells are.
        """
        out = []
        for i, passage in enumerate(passages):
            previous = header = ""
            byline = f"{passage.title} {passage.source}"
            for j, text in enumerate(split_sentences(passage.text)):
                row = is_table_row(text)
                if not row:
                    header = ""
                elif _RULE.fullmatch(text):
                    continue  # a Markdown table's |---|---| line
                elif not header:
                    header = text
                else:
                    out.append(Sentence(text, i, j, context=header, row=True, byline=byline))
                if not row and word_count(text) >= MIN_SENTENCE_WORDS:
                    out.append(Sentence(text, i, j, context=previous, byline=byline))
                previous = text
        return out

    def score(
        self, question: str, sentences: list[Sentence], context: str = "", always: frozenset[int] = frozenset()
    ) -> np.ndarray:
        """Scores sentences in place; returns their embeddings (rows aligned with ``sentences``).

        ``context`` is the previous question of a conversation: its words help a little (a follow-up
        like "what did Zelensky say about them?" is about them) but the new question leads.
        ``always`` are sentence indices embedded and scored even when outside the shortlist.
        """
        own = set(content_terms(question))
        weight = dict.fromkeys(set(content_terms(context)) - own, CONTEXT_WEIGHT) | dict.fromkeys(own, 1.0)
        terms = set(weight)
        sentence_terms = [set(content_terms(s.text)) for s in sentences]
        context_terms = [set(content_terms(s.context)) if s.dependent else set() for s in sentences]
        n = len(sentences)
        idf = {t: weight[t] * math.log(1 + (n + 1) / (1 + sum(t in st for st in sentence_terms))) for t in terms}
        total = sum(idf.values()) or 1.0
        for s, st, ct in zip(sentences, sentence_terms, context_terms, strict=True):
            s.terms = frozenset(st | ct)
            # Words found only in the preceding sentence count half: they are context, not the claim.
            s.lexical = (sum(idf[t] for t in terms & st) + 0.5 * sum(idf[t] for t in (terms & ct) - st)) / total
        # Embedding is the cost: only a shortlist, by word overlap and passage rank, is embedded.
        shortlist = sorted(
            range(n), key=lambda i: sentences[i].lexical + RANK_PRIOR / (1 + sentences[i].passage), reverse=True
        )[:MAX_EMBEDDED]
        shortlist += sorted(always - set(shortlist))
        picked = [sentences[i] for i in shortlist]
        # The question's vector is the one retrieval computed (the embedder keeps recent ones).
        q_vec = np.asarray(self.embedder.get_query_embedding(question), dtype=np.float32)
        vectors = self._embed([s.text for s in picked] + [s.window for s in picked if s.dependent])
        own_vecs = vectors[: len(picked)]
        window_sims = iter(vectors[len(picked) :] @ q_vec)
        s_vecs = np.zeros((n, vectors.shape[1]), dtype=np.float32)
        penalty = MISSING_NAME_PENALTY * _missing_names(question, sentences)
        dense_weight, lexical_weight = _weights(question)
        for s in sentences:
            s.score = -1.0  # not shortlisted: never chosen
        for i, s, vec in zip(shortlist, picked, own_vecs, strict=True):
            s_vecs[i] = vec
            s.dense = float(np.dot(q_vec, vec))
            if s.dependent:
                s.dense = max(s.dense, float(next(window_sims)))
            s.relevance = s.score = dense_weight * s.dense + lexical_weight * s.lexical - penalty
            match = _type_match(question, s.window)
            if match is True:
                s.relevance = s.score = s.score + TYPE_BOOST
            elif match is False:
                s.score *= TYPE_MISS_FACTOR  # ranked lower, but no less about the question (see extract)
        return s_vecs

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings of texts, from a bounded in-memory cache where possible (passages recur often)."""
        # Read from the cache once: evicting (here or in another request's thread) must not lose a hit.
        found = {t: v for t in dict.fromkeys(texts) if (v := self._cache.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            for text, vec in zip(missing, self.embedder.get_text_embedding_batch(missing), strict=True):
                found[text] = self._cache[text] = np.asarray(vec, dtype=np.float32)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])

    def choose(self, choice: MultipleChoice, passages: list[Passage]) -> tuple[int, Sentence] | None:
        """The option the passages clearly support best and the sentence supporting it, or None."""
        sentences = self.candidates(passages)
        if not sentences:
            return None
        # Sentences naming an option are scored even outside the shortlist, the best-ranked first, within a bound.
        holds = frozenset(
            [i for i, s in enumerate(sentences) if any(match(o, s.window) for o in choice.options)][
                :MAX_OPTION_SENTENCES
            ]
        )
        self.score(choice.stem, sentences, always=holds)
        # Asked about the present ("this week", "recently"), the latest reporting first: an option that the recent
        # articles alone clearly support is picked over the one all of them support (older pages name yesterday's
        # candidates, holders, winners). A question about the past reads every article alike.
        for tier in _latest_first(passages) if analyse(choice.stem).about_now else [None]:
            scored = [(s.window, _vote_weight(s) if tier is None or s.passage in tier else 0.0) for s in sentences]
            support = supports(choice.options, scored)
            winner = pick(support)
            if winner is None or support[winner][1] is None or support[winner][0] < MIN_OPTION_SUPPORT:
                continue
            sentence = sentences[support[winner][1]]
            sentence.show_context = sentence.dependent
            return winner, sentence
        return None

    def extract(self, question: str, passages: list[Passage], context: str = "") -> Extract:
        sentences = self.candidates(passages)
        if not sentences:
            return Extract([], 0.0, True)
        vectors = self.score(question, sentences, context)
        order = sorted(range(len(sentences)), key=lambda i: sentences[i].score, reverse=True)
        best = sentences[order[0]].score
        # Refused on evidence, not on type: a sentence about the question that lacks the number or date asked for
        # ranks lower, but it still shows the articles cover the question (the best sentence then answers, unbolded).
        evidence = max(s.relevance for s in sentences)
        if evidence < self.min_score:
            return Extract([], evidence, True)
        analysis = analyse(question)
        on_focus = _OnFocus(analysis, f"{question} {context}", passages)
        # Asked about the present ("this week", "recently"), the latest reporting first, as for options: a short
        # answer that the recent articles alone settle wins.
        for tier in _latest_first(passages) if analysis.about_now else [None]:
            found = self.vote(analysis, sentences, tier, on_focus.passage)
            if tier is None or _winner([c for c in found if c.focused]):
                break
        # The short answer is one a sentence about the focus names: votes from sentences on the topic at large rank
        # sentences well but pick the wrong thing too often. It is stated (bold) only when confident enough.
        winner = _winner([c for c in found if c.focused])
        if analysis.several > 1:
            winner = _together(analysis.several, found, sentences) or winner
        # Two dated reports of one story naming different answers: the newer leads, the older is earlier reporting.
        days = [_published(p) // DAY for p in passages]
        conflict = _disagreement(analysis, found, winner, sentences, days, KEEP_RATIO * best)
        winner = conflict.newer if conflict else winner
        rated = self.rate(analysis, found, winner, sentences, order[0], evidence)
        short = winner if winner is not None and rated[0][1] >= self.min_confidence else None
        # A number or date named only off the focus ("On what date is the summit?" beside the date of a statement)
        # does not lead: the best sentence does.
        lead = winner or (None if analysis.answer_type in _MEASURES else _winner(found))
        order = _newest_first(order, sentences, days)
        head, support = _head(lead, short, conflict, sentences, order, days)
        order = list(dict.fromkeys(head + order))
        chosen = _choose(sentences, order, vectors, KEEP_RATIO * best, lambda s, picked: on_focus(s, winner, picked),
                         set(support) if winner is not None else set())  # fmt: skip
        if conflict:
            conflict.mark(sentences, chosen, days)
        return Extract([sentences[i] for i in chosen], evidence, False, short, rated if winner else [])

    def rate(
        self,
        analysis: QuestionAnalysis,
        found: list[Candidate],
        winner: Candidate | None,
        sentences: list[Sentence],
        best: int,
        evidence: float,
    ) -> list[tuple[Candidate, float, dict[str, float]]]:
        """The winner (first) and the next candidates of the asked kind, with their confidence and its signals."""
        fitting = [c for c in found if c.fits]
        ranked = ([winner] if winner else []) + [c for c in fitting if winner is None or c.key != winner.key]
        total = sum(c.score for c in fitting) or 1.0
        out = []
        for c in ranked[:MAX_CANDIDATES]:
            rival = max((o.score for o in fitting if o.key != c.key), default=0.0)
            signals = {
                "share": min(1.0, c.score / total),
                "margin": max(-5.0, min(5.0, math.log((c.score + 1e-3) / (rival + 1e-3)))),
                "focused": math.log1p(len(c.focused)),
                "named_by": math.log1p(len(c.sentences)),
                "support": max((_vote_weight(sentences[i]) for i in c.focused), default=0.0),
                "evidence": evidence,
                "in_best": float(c.text.lower() in sentences[best].window.lower()),
                "words": float(len(c.text.split())),
                "commonness": c.commonness if c.commonness is not None else self._commonness(c.text),
                f"kind_{analysis.answer_type.value}": 1.0,
            }
            out.append((c, self.model.confidence(signals), signals))
        return out

    def _commonness(self, text: str) -> float:
        return self.commonness(text) if self.commonness else 0.0

    def vote(
        self,
        analysis: QuestionAnalysis,
        sentences: list[Sentence],
        passages: set[int] | None = None,
        on_topic: Callable[[Sentence], bool] | None = None,
    ) -> list[Candidate]:
        """Candidate answers named by the best sentences (of ``passages`` only, when given): those of the asked
        type first, best first.

        ``Candidate.sentences`` index ``sentences``; ``Candidate.focused`` are those about the question's focus
        (and, with ``on_topic``, from a passage about what the question names).
        """
        if not analysis.typed:
            return []
        voters = [i for i in range(len(sentences)) if passages is None or sentences[i].passage in passages]
        # Where some passages are about what the question names, only they vote: another story's bridge, or another
        # row of a table, names things of the same kind that must not add up against the right one.
        if on_topic is not None and (about := [i for i in voters if on_topic(sentences[i])]):
            voters = about
        ranked = sorted(voters, key=lambda i: _vote_weight(sentences[i]), reverse=True)[:VOTE_SENTENCES]
        found = vote(
            analysis,
            [sentences[i].text for i in ranked],
            [_vote_weight(sentences[i]) for i in ranked],
            self.commonness,
        )
        for candidate in found:
            candidate.sentences = [ranked[j] for j in candidate.sentences]
            candidate.focused = [i for i in candidate.sentences if _about(analysis, sentences[i])]
        return found


def _choose(
    sentences: list[Sentence],
    order: list[int],
    vectors: np.ndarray,
    keep: float,
    on_focus: Callable[[Sentence, list[Sentence]], bool],
    support: set[int],
) -> list[int]:
    """The answer's sentences, in ``order``: after the first, those scoring ``keep`` or more and about the question's
    focus (the short answer's ``support`` always), within MAX_WORDS and MAX_SENTENCES, none repeating another."""
    chosen: list[int] = []
    words = 0
    for i in order:
        s = sentences[i]
        if any(j == i or sentences[j].text == s.text or (sentences[j].show_context and sentences[j].context == s.text)
               for j in chosen):  # fmt: skip
            continue  # said already: by a sentence two overlapping chunks share, or as another's context
        s.show_context = s.dependent and not any(
            sentences[j].passage == s.passage and sentences[j].position == s.position - 1 for j in chosen
        )
        n_words = word_count(s.answer_text)
        if chosen and i not in support and (s.score < keep or not on_focus(s, [sentences[j] for j in chosen])):
            continue
        if chosen and words + n_words > MAX_WORDS:
            continue
        if any(float(np.dot(vectors[i], vectors[j])) > REDUNDANT_COSINE for j in chosen):
            continue
        chosen.append(i)
        words += n_words
        if len(chosen) == MAX_SENTENCES:
            break
    return chosen


def _head(
    lead: Candidate | None,
    short: Candidate | None,
    conflict: _Conflict | None,
    sentences: list[Sentence],
    order: list[int],
    days: list[int],
) -> tuple[list[int], list[int]]:
    """The sentences that open the answer, and those of them naming the lead candidate (kept whatever they score).

    A stated short answer's sentences lead, the newest first among those on a par; an unstated one's best sentence
    follows the best sentence, as does a winner named only by sentences on the topic at large. When reports disagree,
    the newer's latest statement leads, stated or not, and the older's follows.
    """
    if lead is None:
        return [], []
    named = sorted(lead.focused or lead.sentences, key=lambda i: sentences[i].score, reverse=True)
    named = _newest_first(named, sentences, days)
    if conflict is not None:
        support = list(dict.fromkeys([conflict.lead, *named]))[: SUPPORT_SENTENCES if short else 1]
        return [*support, conflict.earlier], support
    support = named[: SUPPORT_SENTENCES if short else 1]
    return (support if short else [order[0], *support]), support


def _newest_first(indices: list[int], sentences: list[Sentence], days: list[int]) -> list[int]:
    """``indices`` (best first) with those scoring within NEAR_EQUAL of the first put newest first: among sentences
    on a par, the latest report leads and an undated one follows the dated, each group as scored. A sentence scoring
    further below the best keeps its place, however new."""
    if not indices:
        return indices
    floor = sentences[indices[0]].score - NEAR_EQUAL
    par = [i for i in indices if sentences[i].score >= floor]
    return sorted(par, key=lambda i: -days[sentences[i].passage]) + [i for i in indices if sentences[i].score < floor]


@dataclass
class _Conflict:
    """Two dated reports of one story naming different answers of the asked kind (a death toll of 10, then 25)."""

    newer: Candidate
    older: Candidate
    lead: int  # the newer's latest statement (an index into the sentences), which leads the answer
    earlier: int  # the older's, which follows it, marked as earlier reporting

    def mark(self, sentences: list[Sentence], chosen: list[int], days: list[int]) -> None:
        """Mark the chosen sentences naming the older answer and not the newer, from older articles, with their
        article's day."""
        newest = days[sentences[self.lead].passage]
        for i in chosen:
            if i in self.older.focused and i not in self.newer.sentences and 0 < days[sentences[i].passage] < newest:
                sentences[i].earlier = day_label(days[sentences[i].passage], newest)


def _disagreement(
    analysis: QuestionAnalysis,
    found: list[Candidate],
    winner: Candidate | None,
    sentences: list[Sentence],
    days: list[int],
    keep: float,
) -> _Conflict | None:
    """The winner and the first candidate contradicting it, when each is stated by a dated sentence about the
    question's focus that may join the answer (scoring ``keep`` or more) and names no other fitting answer (a list
    of shows, or "an 8.8 earthquake, among the ten largest", sets nothing against anything), the two holding
    the same focus words and published on different days at most STORY_DAYS apart; the candidates are of one kind
    and not one thing written two ways ("ten" and "10 people")."""
    if winner is None or analysis.several > 1:
        return None
    fitting = [c for c in found if c.fits]

    def latest(c: Candidate) -> int | None:
        stated = [
            i
            for i in c.focused
            if days[sentences[i].passage] and sentences[i].score >= keep
            and all(_agree(o, c) for o in fitting if i in o.sentences)
        ]  # fmt: skip
        return max(stated, key=lambda i: (days[sentences[i].passage], sentences[i].score), default=None)

    if (w := latest(winner)) is None:
        return None
    focus = analysis.focus & sentences[w].terms
    for rival in fitting:
        if rival.kind != winner.kind or _agree(rival, winner) or (r := latest(rival)) is None:
            continue
        gap = days[sentences[r].passage] - days[sentences[w].passage]
        if gap and abs(gap) <= STORY_DAYS and analysis.focus & sentences[r].terms == focus:
            return _Conflict(rival, winner, r, w) if gap > 0 else _Conflict(winner, rival, w, r)
    return None


def _agree(a: Candidate, b: Candidate) -> bool:
    """Whether two candidates may name one thing: the words of one (numbers as digits) are all in the other's
    ("Musk" and "Elon Musk", "ten" and "10 people", "12 May" and "May 12, 2025"); amounts by their numbers alone
    ("8.8 earthquake" and "8.8-magnitude")."""
    (words_a, numbers_a), (words_b, numbers_b) = _value(a.text), _value(b.text)
    if a.kind in (AnswerType.number, AnswerType.duration) and numbers_a and numbers_b:
        return numbers_a <= numbers_b or numbers_b <= numbers_a
    return words_a | numbers_a <= words_b | numbers_b or words_b | numbers_b <= words_a | numbers_a


def _value(text: str) -> tuple[set[str], set[str]]:
    """The words and numbers of a candidate, numbers written in words as digits."""
    return content_words(re.sub(r"[a-z]+", lambda m: _SPELLED.get(m[0], m[0]), text.lower()))


def day_label(day: int, newest: int) -> str:
    """A day (days since the epoch) as news writes it, "3 March", with its year when ``newest``'s year differs."""
    at, then = date.fromordinal(EPOCH + day), date.fromordinal(EPOCH + newest)
    return f"{at.day} {_MONTHS[at.month - 1]}" + (f" {at.year}" if at.year != then.year else "")


def _winner(found: list[Candidate]) -> Candidate | None:
    """The candidate of the asked kind that clearly wins the vote, if one does."""
    fitting = [c for c in found if c.fits]
    if not fitting or (len(fitting) > 1 and fitting[0].score <= VOTE_MARGIN * fitting[1].score):
        return None
    return fitting[0]


def _together(count: int, found: list[Candidate], sentences: list[Sentence]) -> Candidate | None:
    """Several answers at once ("Which two states sold the winning tickets?"): the best sentence about the focus
    that names ``count`` candidates of the asked kind, and those candidates in its order ("Missouri and Texas")."""
    fitting = [c for c in found if c.fits and c.focused][:TOGETHER_CANDIDATES]
    for i in sorted({i for c in fitting for i in c.focused}, key=lambda i: sentences[i].score, reverse=True):
        text = sentences[i].text.lower()
        # (A longer name is credited with the sentences of the names inside it: keep those the sentence spells.)
        named = [c for c in fitting if i in c.sentences and c.text.lower() in text]
        # "Texas" inside "Texas Lottery" in the same sentence is one thing named, not two.
        named = [c for c in named if not any(c is not o and f" {c.key} " in f" {o.key} " for o in named)]
        at = {c.key: text.find(c.text.lower()) for c in named}
        chosen = sorted(named[:count], key=lambda c: at[c.key])
        # Named together ("in Missouri and Texas"), not merely in one sentence: only then are they the answer.
        gaps = [text[at[a.key] + len(a.text) : at[b.key]] for a, b in zip(chosen, chosen[1:], strict=False)]
        if len(chosen) < count or not all(_LISTED.fullmatch(gap) for gap in gaps):
            continue
        names = [c.text for c in chosen]
        return Candidate(
            text=f"{', '.join(names[:-1])} and {names[-1]}",
            kind=chosen[0].kind,
            score=sum(c.score for c in chosen),
            sentences=[i],
            fits=True,
            focused=[i],
        )
    return None


class _OnFocus:
    """Whether a sentence is about what the question is about: to vote for the short answer as a sentence about
    its focus, and to join the answer after the first sentence.

    An answer about one bridge must not recite another city's bridge: when the question names things ("the Zabuvon
    Bridge in Kalimas"), such a sentence must come from a passage naming at least half of them, and itself name
    them, hold the question's focus words or name the short answer; without names, the focus words decide.
    """

    def __init__(self, analysis: QuestionAnalysis, asked: str, passages: list[Passage]) -> None:
        self.analysis = analysis
        self.names = _names(asked) - _NOT_NAMES  # "on Monday", "President Trump": a day or a title names no story
        self._about_names = [self._named(f"{p.title} {p.source} {p.text}".lower()) >= MIN_NAMED for p in passages]

    def _named(self, text: str) -> float:
        return sum(name in text for name in self.names) / len(self.names) if self.names else 1.0

    def passage(self, s: Sentence) -> bool:
        """Whether the sentence's passage names the question's names (or the question names nothing); a table row
        must name them itself: the other rows of the table are about other things."""
        if s.row and self._named(s.text.lower()) < MIN_NAMED:
            return False
        return self._about_names[s.passage]

    def __call__(self, s: Sentence, short: Candidate | None = None, chosen: Sequence[Sentence] = ()) -> bool:
        if not self.passage(s):
            return False
        # The sentences right after one already quoted, in the same passage, go on with its story.
        if any(c.passage == s.passage and 0 < s.position - c.position <= FOLLOWING for c in chosen):
            return True
        window = s.window.lower()
        if short is not None and short.text.lower() in window:
            return True
        if self.names:
            return self._named(window) >= MIN_NAMED or _about(self.analysis, s)
        # Nothing named: the focus words alone tell the question's story, and a quarter of them is enough.
        return _about(self.analysis, s, MIN_FOCUS_UNNAMED)


def _latest_first(passages: list[Passage]) -> list[set[int] | None]:
    """What to read in turn: the passages published within RECENT_DAYS of the newest dated one, then all (None).
    All alone when no passage has a date, or when every passage is that recent."""
    published = [_published(p) for p in passages]
    newest = max(published, default=0)
    recent = {i for i, at in enumerate(published) if at and newest - at <= RECENT_DAYS * 86_400}
    return [recent, None] if recent and len(recent) < len(passages) else [None]


def _published(passage: Passage) -> int:
    try:
        return date_to_timestamp(passage.published_at)
    except ValueError:  # an index written before dates were normalised
        return 0


def _vote_weight(s: Sentence) -> float:
    """How much a sentence's candidates count: its score where it was scored in full, else its word overlap
    with the question and its passage's rank."""
    return s.score if s.score > 0 else LEXICAL_WEIGHT * s.lexical + RANK_PRIOR / (1 + s.passage)


def _about(analysis: QuestionAnalysis, s: Sentence, share: float = MIN_FOCUS) -> bool:
    """Whether the sentence (with the one it leans on) holds ``share`` of the question's focus words."""
    if not analysis.focus:
        return True
    return len(analysis.focus & s.terms) / len(analysis.focus) >= share
