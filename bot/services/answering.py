"""Deciding what to answer: one article, a clarifying question, or an honest "I don't know".

The NLU's intent is one opinion about the topic; the retriever (bot/retrieval.py) ranks every
article across all topics. The engine combines them:

1. The retriever's scores, as a distribution over articles, get a mild prior towards the
   intent's topic: a confident article in another topic still wins, so one word that belongs
   to another topic cannot drag the question there, nor can the NLU's topic keep it.
2. A follow-up ("hvad koster det så?", "gælder det også for børn?", or a short "mistet" after
   the Kørekort tile) is read against the conversation: the current article's title and topic
   are added to the query, and articles of the current topic get a prior.
3. The best article answers only when it is clearly ahead; when two or three are close the
   citizen is asked "Mener du …?"; when nothing fits the engine says so. A confidently wrong
   answer is the worst outcome, so the thresholds are set on the hold-out's dev half.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.language.danish import content_lemmas, subject_lemmas
from bot.language.text import fold
from bot.services.knowledge import Article
from bot.services.retrieval import Ranking, Retriever


class Outcome(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    NONE = "none"


@dataclass(frozen=True)
class Thresholds:
    # The best article answers when its share is at least `answer`, it leads the second by
    # at least `margin` and it is similar enough to the question (`similar`); otherwise the
    # articles with a share of at least `clarify` are offered as choices, provided the best
    # is at least `related` similar; below that nothing fits.
    answer: float = 0.45
    margin: float = 0.0
    similar: float = 0.885
    clarify: float = 0.12
    related: float = 0.87
    # A follow-up is short, so less similar to any article in absolute terms; its context
    # vouches for it instead.
    follow_up_similar: float = 0.86
    # How much the intent's topic (times the NLU's confidence) and, for a follow-up, the
    # conversation's topic multiply an article's score.
    intent_prior: float = 1.0
    context_prior: float = 2.0
    # A follow-up often asks a detail of the article just shown ("hvad koster det så?").
    article_prior: float = 1.0
    # How much more the articles of a clarifying question just asked weigh in the reply.
    offered_prior: float = 10.0
    max_choices: int = 3


@dataclass(frozen=True)
class Context:
    """What the conversation is about so far (the Rasa slots `topic` and `article_id`)."""

    topic: str | None = None
    article_id: str | None = None
    # The articles of a "Mener du …?" just asked: a typed reply ("kørekortet") picks among them.
    offered: tuple[str, ...] = ()
    # The articles the citizen just turned down ("nej, jeg mener …"): never shown again now.
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """What to do, with the best few articles and their shares (for the record and for
    measuring top-3 recall); ``offered`` is how many of them a clarification shows."""

    outcome: Outcome
    ranked: list[tuple[Article, float]] = field(default_factory=list)
    follow_up: bool = False
    offered: int = 0

    @property
    def article(self) -> Article | None:
        return self.ranked[0][0] if self.outcome is Outcome.ANSWER and self.ranked else None

    @property
    def choices(self) -> list[Article]:
        if self.outcome is not Outcome.CLARIFY:
            return []
        return [article for article, _ in self.ranked[: self.offered]]


# Content words so general that they do not say what a message is about on their own.
_GENERIC = {
    "koste", "pris", "betale", "gebyr", "tid", "lang", "lange", "hvor", "gaelde", "gratis",
    "online", "nettet",
    "selv", "hurtig", "hurtigt", "dag", "dage", "uge", "uger", "sted", "kunne", "skulle",
    "goere", "goe", "faa", "bruge", "stadig", "hvornaar", "hvordan", "ting", "noget", "tage",
    "gaa", "komme", "virke", "aar", "ha", "medbringe",
    "derned", "dernede", "derhen", "deroppe", "derovre", "derude", "derinde",
}
# Who a question is for says nothing about what it is about: "gælder det også for min mand?"
# and "og til min datter på 10?" lean on the previous answer as much as a bare "og hvad så?".
_PEOPLE = {
    "barn", "boern", "datter", "soen", "mand", "kone", "hustru", "mor", "far", "foraeldre",
    "foraelder", "bror", "soester", "barnebarn", "nabo", "familie", "kaereste",
    "svigermor", "svigerfar", "oldefar", "oldemor", "bedstemor", "bedstefar",
}
# Children often have rules and articles of their own (a child's passport, MitID for
# under-15s), so "og til min datter på 10?" may change the article; a spouse or a parent
# asks about the same thing for someone else ("gælder det også for min mand?").
_CHILDREN = {"barn", "boern", "datter", "soen", "barnebarn"}
# Words that could be about several of our subjects: "jeg har mistet mit kort" may be the
# health card, the driving licence or a NemID key card. A message made only of these (and
# generic words) is asked about, never answered with a guess, unless the conversation says
# which one.
_VAGUE = {
    "miste", "kort", "kode", "app", "appen", "vaek", "vaekke", "ny", "nytte", "bestille",
    "glemme", "hjaelp", "brug", "problem", "fejl", "virke", "login", "logge",
}
# How many times the article prior a "den" or "det" for it gives the article just shown.
POINTING_BACK_WEIGHT = 3.0
# Up to this many words, a message in the middle of a conversation is read against it
# ("mistet" after the Kørekort tile, "17 år", "og hvad med sfo?").
SHORT_MESSAGE_WORDS = 3
# Up to this many, it also stays in the conversation's topic (AnswerEngine.decide).
KEYWORD_REPLY_WORDS = 2


@dataclass(frozen=True)
class Aspect:
    """A detail a follow-up may ask about any subject ("hvad koster det så?"), and the words
    by which an article's text shows that it answers it."""

    name: str
    asked: re.Pattern[str]
    answered: re.Pattern[str]


# A follow-up asking for one of these stays with the article just shown only when that
# article says it; otherwise the topic's articles that do are looked at first ("hvad koster
# det så?" after the article on kinds of day care is about day-care prices). Years are left
# out of durations: in the articles they are mostly ages ("fra 13 år").
ASPECTS = (
    Aspect(
        "price",
        re.compile(r"\b(?:koste\w*|pris\w*|gratis|betal\w*|gebyr\w*)\b", re.IGNORECASE),
        re.compile(r"\d\s*kr\b|\bkr\.|\bkroner\b|\bgratis\b|\bkoste\w*|\bpris\w*|\bgebyr\w*"
                   r"|\bbetal\w*|\btakst\w*", re.IGNORECASE),
    ),
    Aspect(
        "duration",
        re.compile(r"\bhvor\s+lang\s+tid\b|\bhvor\s+l(?:æ|ae)nge\b|\bventetid\w*", re.IGNORECASE),
        re.compile(r"(?:\d+|\b(?:en|et|ét|to|tre|fire|fem|seks|syv|otte|ni|ti|par|få|nogle)"
                   r"(?:\s+halv[t]?)?)\s*(?:timer?|dage?|hverdage|arbejdsdage|uger?|måneder?"
                   r"|maaneder?)\b"
                   r"|\bventetid\w*|\bsamme\s+dag\b|\bmed\s+det\s+samme\b|\bstraks\b",
                   re.IGNORECASE),
    ),
    # "hvad skal jeg have med?": what to bring along.
    Aspect(
        "bring",
        re.compile(r"\b(?:have|ha|tage?)\b(?:\s+\w+){0,3}?\s+med\b\s*(?:[?!.]|$)"
                   r"|\bmedbring\w*", re.IGNORECASE),
        re.compile(r"\btag\w*\b[^.]*\bmed\b|\bmedbring\w*|\bhusk\w*", re.IGNORECASE),
    ),
)


def asked_aspect(text: str) -> Aspect | None:
    return next((aspect for aspect in ASPECTS if aspect.asked.search(text)), None)


def content_words(text: str) -> list[str]:
    words = subject_lemmas(text)
    return [w for w in words if w not in _GENERIC and w not in _PEOPLE and not w.isdigit()]


def is_vague(text: str) -> bool:
    words = content_words(text)
    return bool(words) and all(w in _VAGUE for w in words)


# What makes a message lean on the answer just given, read on folded text: a start that adds
# to it ("hvad (så) med lægen?", "og hvis …"), or a word that stands for the thing just talked
# about: "den", "det" or "dem" as a pronoun ("virker den også på min ipad?", not the article
# of "det gule kort"), or "derned".
_ADDS_TO_IT = re.compile(
    r"^(?:og\s+|men\s+)?(?:hvad\s+(?:saa\s+)?med|hvad\s+hvis|hvis\s+nu|hvad\s+saa)\b"
    r"|^(?:og|men)\s+(?:hvis|til|for|med|hvad)\b"
)
_STANDS_FOR_IT = re.compile(
    r"\b(?:den|det|dem)(?=\s*(?:$|[?!.,]|(?:ogsaa|i|paa|til|for|med|ikke|igen|saa|nu|stadig"
    r"|selv|af|om|hvis|naar|eller|og|mon|egentlig|lige|bare|da|hos|uden|noget)\b))"
    r"|\bder(?:ned|nede|hen|oppe|ovre|ude|inde)\b"
)


def points_back(text: str) -> bool:
    """Leans on what was just said (see above), with at most two words of a subject of its
    own: in a conversation such a message stays in its topic."""
    folded = fold(text).strip()
    return (
        len(folded.split()) <= 12
        and bool(_ADDS_TO_IT.search(folded) or _STANDS_FOR_IT.search(folded))
        and len(content_words(text)) <= 2
    )


def stands_for_it(text: str) -> bool:
    """Points back with a word for the thing just talked about ("gælder den i sverige?"),
    not only adds to it ("og hvad med mit pas?", which asks about something new)."""
    return points_back(text) and bool(_STANDS_FOR_IT.search(fold(text)))


def looks_like_follow_up(text: str) -> bool:
    """Short, without a subject of its own, or pointing back (see points_back)."""
    words = fold(text).split()
    if len(words) > 12:
        return False
    return len(words) <= SHORT_MESSAGE_WORDS or not content_words(text) or points_back(text)


class AnswerEngine:
    def __init__(
        self,
        articles: Mapping[str, Article],
        retriever: Retriever,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.articles = dict(articles)
        self.retriever = retriever
        self.thresholds = thresholds or Thresholds()

    def ranking(
        self,
        text: str,
        priors: Mapping[str, float] | None = None,
        article_priors: Mapping[str, float] | None = None,
    ) -> Ranking:
        """The retriever's shares times the topic and article priors, renormalised."""
        if hasattr(self.retriever, "rank"):
            base = self.retriever.rank(text)
        else:
            raw = self.retriever.scores(text)
            floor = min(min(raw.values(), default=0.0), 0.0)
            base = Ranking({a: s - floor for a, s in raw.items()}, 1.0)
        shares = dict(base.shares)
        for article_id in shares:
            if priors:
                shares[article_id] *= priors.get(self.articles[article_id].topic, 1.0)
            if article_priors:
                shares[article_id] *= article_priors.get(article_id, 1.0)
        total = sum(shares.values()) or 1.0
        return Ranking({a: v / total for a, v in shares.items()}, base.similarity)

    def decide(
        self,
        text: str,
        intent_topic: str | None = None,
        intent_confidence: float = 0.0,
        context: Context | None = None,
    ) -> Decision:
        t = self.thresholds
        context = context or Context()
        priors: dict[str, float] = {}
        if intent_topic:
            priors[intent_topic] = 1.0 + t.intent_prior * intent_confidence
        rejected = {a: 0.0 for a in context.rejected}
        if context.offered and not rejected:
            # The reply to "Mener du …?": the offered articles weigh far more, so "kørekortet"
            # after "mistet kort" picks the licence among them; a new question of its own
            # still wins on its own strength.
            offered = {a: 1.0 + t.offered_prior for a in context.offered if a in self.articles}
            ranked = self._ordered(self.ranking(text, priors, offered))
            decision = self._decision(ranked, True)
            if decision.outcome is Outcome.ANSWER and decision.article.id in offered:
                return decision
        alone = self._ordered(self.ranking(text, priors, rejected))
        if context.topic:
            # In a conversation every message is read against it: its topic and last article
            # weigh more, and a message with no subject at all ("hvor gør jeg det?") borrows
            # the article's words. Only a question that is clearly about something else on
            # its own changes the subject; a message without a subject of its own never does
            # ("hvad koster det?" after the licence article is not about course prices).
            fresh = self._confident(alone, t.similar)
            # One or two words ("fornyelse" after the Kørekort tile, "friplads" after the
            # school's) are a reply within the conversation, however well another topic's
            # article matches them on their own.
            # Not so after a "no": "nej, jeg mener mit pas" leaves the article and its topic.
            keeps_topic = not content_words(text) or (
                not context.rejected
                and (len(text.split()) <= KEYWORD_REPLY_WORDS or points_back(text))
            )
            if keeps_topic or not (fresh and alone[0][0][0].topic != context.topic):
                return self._decision(self._in_context(text, priors, context, rejected), True)
        decision = self._decision(alone, False)
        # Nothing of a subject ("hvad koster det?" as a first message) is as vague as words
        # that fit several subjects: never answered with a guess.
        if decision.outcome is Outcome.ANSWER and (is_vague(text) or not content_words(text)):
            offered = max(2, sum(1 for _, share in decision.ranked if share >= t.clarify))
            return Decision(Outcome.CLARIFY, decision.ranked, False, offered)
        return decision

    def _in_context(
        self,
        text: str,
        priors: dict[str, float],
        context: Context,
        rejected: Mapping[str, float],
    ) -> tuple[list[tuple[Article, float]], float]:
        t = self.thresholds
        topic_priors = dict(priors)
        topic_priors[context.topic] = priors.get(context.topic, 1.0) * (1.0 + t.context_prior)
        article_priors: dict[str, float] = {}
        current = self.articles.get(context.article_id or "")
        aspect = asked_aspect(text)
        children = set(content_lemmas(text)) & _CHILDREN
        # After a tile there is no article yet: "pris" after the courses tile looks among the
        # topic's articles that name a price, as a follow-up the article does not answer does.
        elsewhere = aspect is not None and (
            current is None or not aspect.answered.search(current.body)
        )
        if elsewhere:
            # The weight the article just shown would get goes to the topic's articles that
            # name what is asked, and the query borrows the topic's words rather than the
            # article's: "hvad skal jeg have med?" after the article on booking digital help
            # is about what to bring, which that article does not say.
            for article in self.articles.values():
                if article.topic == context.topic and aspect.answered.search(article.body):
                    article_priors[article.id] = 1.0 + t.article_prior
            if current is not None:
                # It was just shown and does not say it: showing it again would not help.
                article_priors[current.id] = 1.0 / (1.0 + t.article_prior)
        elif current is not None:
            # "gælder den i sverige?": a "den" or "det" is the article just shown itself;
            # not so in "gælder det også for børn?", where a child may have an article of
            # its own (below), nor in "og hvad med mit pas?", which asks about something new.
            weight = POINTING_BACK_WEIGHT if stands_for_it(text) and not children else 1.0
            article_priors[current.id] = 1.0 + weight * t.article_prior
        # "gælder det også for børn?" keeps its own words: who it is for picks the sibling
        # article (a child's passport), where "hvor gør jeg det?" and "mistet" after the
        # Kørekort tile need the context's words to say what they are about.
        own_words = [w for w in content_words(text) if w not in _VAGUE] + sorted(children)
        # An article that does not say what is asked lends its topic's words, not its title.
        phrase = self._context_phrase(replace(context, article_id=None) if elsewhere else context)
        query = text if own_words else f"{text} {phrase}"
        return self._ordered(self.ranking(query, topic_priors, {**article_priors, **rejected}))

    def _ordered(self, ranking: Ranking) -> tuple[list[tuple[Article, float]], float]:
        ordered = sorted(ranking.shares.items(), key=lambda item: item[1], reverse=True)
        best = [(self.articles[a], s) for a, s in ordered[: self.thresholds.max_choices]]
        return best, ranking.similarity

    def _confident(self, ranked: tuple[list[tuple[Article, float]], float], similar: float) -> bool:
        best, similarity = ranked
        if not best:
            return False
        top, second = best[0][1], best[1][1] if len(best) > 1 else 0.0
        t = self.thresholds
        return top >= t.answer and top - second >= t.margin and similarity >= similar

    def _decision(
        self, ranked: tuple[list[tuple[Article, float]], float], follow_up: bool
    ) -> Decision:
        t = self.thresholds
        best, similarity = ranked
        if not best:
            return Decision(Outcome.NONE)
        if self._confident(ranked, t.follow_up_similar if follow_up else t.similar):
            return Decision(Outcome.ANSWER, best, follow_up)
        offered = sum(1 for _, share in best if share >= t.clarify)
        # A follow-up's context vouches for it here too, by as much as for an answer.
        related = t.related - (t.similar - t.follow_up_similar) if follow_up else t.related
        if offered and similarity >= related:
            return Decision(Outcome.CLARIFY, best, follow_up, offered)
        return Decision(Outcome.NONE, best, follow_up)

    def _context_phrase(self, context: Context) -> str:
        article = self.articles.get(context.article_id or "")
        if article is not None:
            return article.title
        return TOPIC_WORDS.get(context.topic or "", "")


FALLBACK_INTENT = "nlu_fallback"


def intent_hint(
    intent: str | None,
    confidence: float,
    ranking: Sequence[tuple[str, float]] = (),
    intent_topics: Mapping[str, str] | None = None,
) -> tuple[str | None, float]:
    """The topic an NLU result points at, and how strongly, for the engine's prior.

    ``ask_<topic>`` points at its topic and ``out_of_scope`` at the other-authorities
    articles; for ``nlu_fallback`` the best real intent of the ranking is still a weak hint.
    """
    if intent == FALLBACK_INTENT:
        for name, score in ranking:
            if name != FALLBACK_INTENT:
                return intent_hint(name, score, (), intent_topics)
        return None, 0.0
    if intent and intent.startswith("ask_") and intent_topics:
        return intent_topics.get(intent), confidence
    if intent == "out_of_scope":
        return "out_of_scope", confidence
    return None, 0.0


# What a bare topic (a tile press) adds to a follow-up such as "mistet".
TOPIC_WORDS: dict[str, str] = {
    "mitid": "MitID",
    "nemid": "NemID",
    "digital_post": "Digital Post",
    "flytning": "flytning",
    "koerekort": "kørekort",
    "skole": "skole",
    "dagtilbud": "dagtilbud børnehave vuggestue",
    "it_help": "digital hjælp it-hjælp på biblioteket",
    "courses": "it-kurser på biblioteket",
    "opening_hours": "åbningstider",
    "out_of_scope": "",
}
