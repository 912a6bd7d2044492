"""Scoring the answer engine on the article-level hold-out (tests/holdout/).

`articles.yml` holds single questions labelled with the article that should answer them
(`a|b` when two are equally right, `none` when nothing should); `conversations.yml` holds
short conversations whose later turns lean on the earlier ones. Both are split once into a
dev half (for choosing methods and thresholds) and a test half (read only by `make eval` and
`make test`).

The NLU's opinion comes from a callable (`IntentOf`): in-process, from the Rasa server, or
absent (retrieval alone). A question the NLU sends to another flow is played as the chat plays
it: a "stop" with no stop word of its own, a question read as a wish to book or sign up, and a
plain question read as a wish for a person, a complaint or the course list are answered when
the actions answer them (docs/answers.md, point 5); every other flow counts as a miss.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.config import PROJECT_ROOT
from bot.language.wishes import (
    SERVICE_SUBJECT,
    asks_rather_than_wishes,
    plain_question,
    reply_lead,
    wants_stop,
)
from bot.services.answering import (
    AnswerEngine,
    Context,
    Decision,
    Outcome,
    content_words,
    intent_hint,
)
from bot.services.answers import (
    clear_question_decision,
    misread_question_decision,
    read_reply,
    short_reply_decision,
)
from bot.services.courses import COURSE_LIST_ANSWERS
from bot.services.retrieval import Retriever

HOLDOUT_DIR = PROJECT_ROOT / "tests" / "holdout"


@dataclass(frozen=True)
class Parse:
    intent: str | None
    confidence: float = 0.0
    ranking: tuple[tuple[str, float], ...] = ()


IntentOf = Callable[[str], Parse]
# Intents whose turns the knowledge answer handles (data/rules/knowledge.yml).
KNOWLEDGE_INTENTS_EXTRA = {"out_of_scope", "nlu_fallback", "follow_up", "inform"}
# Flows whose first turn answers a plain question one article clearly answers instead: the
# forms with a start button (actions/forms/base.py), the handoff (actions/handoff.py) and the
# course list (actions/courses.py, which keeps the course articles it answers itself).
FORMS_THAT_ANSWER_QUESTIONS = {"book_it_help", "sign_up_course"}
# Every form but the callback answers a first message with no word of an appointment or a
# course in it (bot.language.wishes.SERVICE_SUBJECT, actions/forms/base.py answers_instead).
FORMS_WITH_A_SUBJECT = FORMS_THAT_ANSWER_QUESTIONS | {
    "cancel_booking", "move_booking", "my_bookings", "cancel_enrolment",
}
FLOWS_THAT_ANSWER_QUESTIONS = {"request_human", "complain", "list_courses"}
# A yes or no that goes on with a question ("nej, jeg mener mit pas") has it answered
# (action_yes_or_no) when anything answers it; otherwise it hears "Er der andet …?".
YES_OR_NO = {"affirm", "deny"}
# Every form's first turn answers a short reply the NLU read only weakly as its wish, when the
# conversation answers it (actions/forms/base.py, bot.services.answers.short_reply_decision).
FORM_INTENTS = {
    "book_it_help", "cancel_booking", "move_booking", "my_bookings", "sign_up_course",
    "cancel_enrolment", "request_callback",
}


@dataclass(frozen=True)
class Case:
    text: str
    labels: frozenset[str]
    split: str

    @property
    def in_scope(self) -> bool:
        return "none" not in self.labels


def _holdout(stem: str, path: Path | None) -> list[dict]:
    """The cases of one file, or of every ``<stem>*.yml`` of the hold-out (articles.yml holds
    both halves; articles_dev2.yml and the like add dev cases written later)."""
    paths = [path] if path else sorted(HOLDOUT_DIR.glob(f"{stem}*.yml"))
    return [d for p in paths for d in yaml.safe_load(p.read_text(encoding="utf-8")) or []]


def load_cases(split: str | None = None, path: Path | None = None) -> list[Case]:
    raw = _holdout("articles", path)
    cases = [Case(d["text"], frozenset(str(d["article"]).split("|")), d["split"]) for d in raw]
    return [c for c in cases if split is None or c.split == split]


def load_conversations(split: str | None = None, path: Path | None = None) -> list[dict]:
    return [c for c in _holdout("conversations", path) if split is None or c["split"] == split]


@dataclass
class Report:
    name: str
    in_scope: int = 0
    top1: int = 0
    top3: int = 0
    answered_right: int = 0
    answered_wrong: int = 0
    clarified: int = 0
    clarified_right: int = 0
    fallback: int = 0
    elsewhere: int = 0
    out_of_scope: int = 0
    declined: int = 0
    oos_answered: int = 0
    misses: list[str] = field(default_factory=list)
    routed: Counter = field(default_factory=Counter)

    def share(self, count: int) -> float:
        return count / self.in_scope if self.in_scope else 0.0

    def figures(self) -> dict[str, float]:
        return {
            "top1": self.share(self.top1),
            "top3": self.share(self.top3),
            "answered_right": self.share(self.answered_right),
            "wrong": self.share(self.answered_wrong),
            "clarified": self.share(self.clarified),
            "fallback": self.share(self.fallback),
            "elsewhere": self.share(self.elsewhere),
            "none_declined": self.declined / self.out_of_scope if self.out_of_scope else 0.0,
            "none_answered": self.oos_answered / self.out_of_scope if self.out_of_scope else 0.0,
        }

    def line(self) -> str:
        f = self.figures()
        return (
            f"{self.name:28s} top-1 {f['top1']:.3f}  top-3 {f['top3']:.3f}  "
            f"answered right {f['answered_right']:.3f}  wrong {f['wrong']:.3f}  "
            f"clarified {f['clarified']:.3f}  fallback {f['fallback']:.3f}  "
            f"other flow {f['elsewhere']:.3f}  | none: declined {f['none_declined']:.2f} "
            f"answered {f['none_answered']:.2f}  (n={self.in_scope}+{self.out_of_scope})"
        )


def retrieval_report(name: str, retriever: Retriever, cases: list[Case]) -> Report:
    """Ranking quality of a retriever alone (no NLU, no thresholds)."""
    report = Report(name)
    for case in cases:
        if not case.in_scope:
            continue
        report.in_scope += 1
        ranked = [article_id for article_id, _ in retriever.ranked(case.text)[:3]]
        report.top1 += bool(ranked) and ranked[0] in case.labels
        report.top3 += bool(case.labels & set(ranked))
    return report


def engine_report(
    name: str,
    engine: AnswerEngine,
    cases: list[Case],
    intent_of: IntentOf | None,
    intent_topics: Mapping[str, str],
) -> Report:
    report = Report(name)
    for case in cases:
        parse = intent_of(case.text) if intent_of else Parse(None)
        decision = _decide(engine, case.text, parse, intent_topics, Context())
        _count(report, case, decision, parse)
    return report


def _decide(
    engine: AnswerEngine,
    text: str,
    parse: Parse,
    intent_topics: Mapping[str, str],
    context: Context,
) -> Decision | None:
    """What the chat would do: None when the NLU sends the turn to another flow."""
    intent = parse.intent
    question, context = read_reply(text, context)
    if intent in FORM_INTENTS:
        short = short_reply_decision(text, context, parse.confidence, engine)
        if short is not None:
            return short
    if intent in YES_OR_NO:
        # As action_yes_or_no: a plain yes or no, or one with nothing of a subject, hears
        # "Er der andet …?"; a question after the yes or no, or a message with no yes or no
        # in it at all ("pas"), is answered like any question when anything fits.
        lead = reply_lead(text)[0]
        if (lead and question == text) or (not lead and not content_words(text)):
            return None
        decision = engine.decide(question, None, 0.0, context)
        return None if decision.outcome is Outcome.NONE else decision
    text = question
    if intent == "stop" and not wants_stop(text, intent):
        intent = None  # action_nothing_to_stop answers it like any question
    if (intent in FORMS_WITH_A_SUBJECT and not SERVICE_SUBJECT.search(text)) or (
        intent in FORMS_THAT_ANSWER_QUESTIONS and asks_rather_than_wishes(text)
    ):
        return clear_question_decision(text, context, engine)
    if intent == "frustrated":
        # action_handoff answers a plain question the NLU read as frustration.
        return misread_question_decision(text, context, engine) if plain_question(text) else None
    if intent in FLOWS_THAT_ANSWER_QUESTIONS:
        decision = clear_question_decision(text, context, engine)
        if intent == "list_courses" and decision and decision.article.id in COURSE_LIST_ANSWERS:
            return None
        return decision
    if intent is not None and not (
        intent.startswith("ask_") or intent in KNOWLEDGE_INTENTS_EXTRA
    ):
        return None
    topic, confidence = intent_hint(intent, parse.confidence, parse.ranking, intent_topics)
    return engine.decide(text, topic, confidence, context)


def _count(report: Report, case: Case, decision: Decision | None, parse: Parse) -> None:
    if not case.in_scope:
        report.out_of_scope += 1
        if decision is None or decision.outcome is Outcome.NONE:
            report.declined += 1
        elif decision.outcome is Outcome.ANSWER:
            report.oos_answered += 1
            report.misses.append(f"[none answered] {case.text!r} -> {decision.article.id}")
        return
    report.in_scope += 1
    if decision is None:
        report.elsewhere += 1
        report.routed[parse.intent] += 1
        report.misses.append(f"[other flow: {parse.intent}] {case.text!r}")
        return
    ranked = [article.id for article, _ in decision.ranked]
    report.top1 += bool(ranked) and ranked[0] in case.labels
    report.top3 += bool(case.labels & set(ranked[:3]))
    if decision.outcome is Outcome.ANSWER:
        if decision.article.id in case.labels:
            report.answered_right += 1
        else:
            report.answered_wrong += 1
            report.misses.append(
                f"[wrong] {case.text!r} -> {decision.article.id} (want {'|'.join(case.labels)})"
            )
    elif decision.outcome is Outcome.CLARIFY:
        report.clarified += 1
        report.clarified_right += bool(case.labels & {a.id for a in decision.choices})
    else:
        report.fallback += 1
        report.misses.append(f"[fallback] {case.text!r} (want {'|'.join(case.labels)})")


@dataclass
class ConversationReport:
    turns: int = 0
    right: int = 0
    clarified: int = 0
    wrong: int = 0
    misses: list[str] = field(default_factory=list)

    def line(self) -> str:
        share = self.right / self.turns if self.turns else 0.0
        return (
            f"conversations: follow-up turns answered right {share:.3f} "
            f"({self.right}/{self.turns}), clarified {self.clarified}, wrong {self.wrong}"
        )


def conversation_report(
    engine: AnswerEngine,
    conversations: list[dict],
    intent_of: IntentOf | None,
    intent_topics: Mapping[str, str],
    overview_topic: Callable[[str], str | None],
) -> ConversationReport:
    """Plays each conversation; scores the turns after the first (the follow-ups). The context
    carried from turn to turn is what the chat keeps: the topic and the article shown."""
    report = ConversationReport()
    for conversation in conversations:
        context = Context()
        for position, turn in enumerate(conversation["turns"]):
            text = str(turn["text"])
            labels = set(str(turn["article"]).split("|"))
            tile = overview_topic(read_reply(text, context)[0])
            if tile is not None:
                context = Context(topic=tile)
                continue
            parse = intent_of(text) if intent_of else Parse(None)
            decision = _decide(engine, text, parse, intent_topics, context)
            answered = decision.article if decision else None
            if position > 0:
                report.turns += 1
                if answered is not None and answered.id in labels:
                    report.right += 1
                elif decision is not None and decision.outcome is Outcome.CLARIFY:
                    report.clarified += 1
                    report.misses.append(f"[clarify] {text!r} want {labels}")
                else:
                    report.wrong += answered is not None
                    got = answered.id if answered else (decision.outcome if decision else "flow")
                    report.misses.append(f"[{got}] {text!r} want {labels}")
            if answered is not None:
                context = Context(topic=answered.topic, article_id=answered.id)
            elif decision is not None and decision.outcome is Outcome.CLARIFY:
                context = Context(
                    topic=decision.choices[0].topic,
                    article_id=context.article_id,
                    offered=tuple(article.id for article in decision.choices),
                )
    return report
