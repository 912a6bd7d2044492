"""`make eval` plays a hold-out question the way the chat would: the flows whose first turn
answers a plain question (docs/answers.md, point 5) answer it here too, every other flow is a
miss. A made-up engine (tests/test_answering.py's) keeps it free of models and databases."""

from __future__ import annotations

import pytest

from bot.services.answering import AnswerEngine, Context, Outcome
from bot.tools.answer_eval import Parse, _decide
from tests.test_answering import ARTICLES, THRESHOLDS, FixedRetriever

QUESTION = "hvad koster det at forny mit kørekort"


def engine() -> AnswerEngine:
    shares = {"koerekort-forny": 0.8}
    return AnswerEngine(ARTICLES, FixedRetriever({QUESTION: (shares, 0.93)}), THRESHOLDS)


def decide(text: str, intent: str) -> object:
    return _decide(engine(), text, Parse(intent, 0.9), {"ask_koerekort": "koerekort"}, Context())


@pytest.mark.parametrize("intent", ["ask_koerekort", "request_human", "complain", "stop"])
def test_flows_that_answer_a_plain_question_answer_it(intent: str) -> None:
    decision = decide(QUESTION, intent)
    assert decision is not None and decision.outcome is Outcome.ANSWER
    assert decision.article.id == "koerekort-forny"


def test_a_lookup_form_answers_a_question_without_a_booking_in_it() -> None:
    assert decide(QUESTION, "cancel_booking").article.id == "koerekort-forny"
    assert decide("hvad koster det at flytte min tid?", "move_booking") is None


def test_a_form_answers_a_question_but_not_a_wish() -> None:
    assert decide(QUESTION, "book_it_help").article.id == "koerekort-forny"
    assert decide("jeg vil gerne booke en tid til mit kørekort", "book_it_help") is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("stop, glem det", "stop"),  # a real stop
        ("kort", "request_human"),  # too short to be plainly a question
        (QUESTION, "request_callback"),  # a flow that never answers instead
    ],
)
def test_other_flows_are_misses(text: str, intent: str) -> None:
    assert decide(text, intent) is None


def test_the_course_list_keeps_questions_about_courses() -> None:
    shares = {"kurser-pris": 0.8}
    courses = AnswerEngine(ARTICLES, FixedRetriever({QUESTION: (shares, 0.93)}), THRESHOLDS)
    parse = Parse("list_courses", 0.9)
    assert _decide(courses, QUESTION, parse, {}, Context()) is None
    assert decide(QUESTION, "list_courses").article.id == "koerekort-forny"
