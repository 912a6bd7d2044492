"""Handoff to library staff: the decision, live queue or callback (the form: actions/callback.py).

``action_handoff`` runs when the citizen asks for a person, complains or brings a personal
case, or when the bot failed to understand twice in a row. It says what happens next, then:

- staff are signed in and the library is staffed: it sends the marker
  ``{"handoff": "request", "reason": ..., "topic": ...}`` (a ``custom`` message in Rasa's REST
  output), which the gateway turns into a queue entry (bot/gateway/chat.py);
- otherwise it offers a callback; "Ja, kontakt mig" starts ``callback_form``.

A form the citizen leaves to ask for a person runs this action in the same turn
(actions/forms/base.py). Thin over bot/services/handoff.py, like the booking actions over
bot/services/booking.py.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import config
from actions.forms.readers import latest_intent, latest_text, previous_reply_kind
from actions.replies import answer_instead, answer_misread_question
from bot.language.wishes import FRUSTRATED, plain_question
from bot.services.handoff import response_promise

log = logging.getLogger(__name__)

OPENINGS = {
    "requested": "Selvfølgelig.",
    "frustrated": "Undskyld, at jeg ikke kunne hjælpe dig bedre.",
    "fallback": "Undskyld, jeg forstår desværre ikke, hvad du mener.",
    "complaint": (
        "Klager og personlige sager kan jeg ikke behandle – det skal en medarbejder se på."
    ),
}
TO_QUEUE = (
    "{opening} Jeg sender dig videre til en medarbejder på biblioteket. Du kommer i kø nu, "
    "og medarbejderen kan se, hvad vi har skrevet sammen."
)
OFFER_CALLBACK = (
    "{opening} Der er ingen medarbejdere i chatten lige nu{why}. Jeg kan sørge for, at en "
    "medarbejder kontakter dig {promise} på telefon eller e-mail. Vil du det?"
)
# A frustrated citizen, or one the bot failed twice, is offered a person rather than queued
# unasked: they may prefer to try again in other words.
OFFER_PERSON = "{opening} Vil du tale med en medarbejder på biblioteket?"
OFFER_PERSON_BUTTONS = [
    {"title": "Ja, tal med en medarbejder", "payload": "/request_human"},
    {"title": "Nej tak, jeg prøver igen", "payload": "/something_else"},
]
OFFERED_REASONS = ("frustrated", "fallback")
# A question one article plainly answers is answered even when the NLU read it as a wish for
# a person or a complaint; the answer keeps a button to a person.
ANSWERABLE_REASONS = ("requested", "complaint")
STAFF_BUTTON = {"title": "Tal med en medarbejder", "payload": "/request_human"}
CALLBACK_BUTTONS = [
    {"title": "Ja, kontakt mig", "payload": "/request_callback"},
    {"title": "Nej tak", "payload": "/deny"},
]


def handoff_reason(intent: str, text: str, previous_kind: str | None = None) -> str:
    if intent == "complain":
        return "complaint"
    if intent == "frustrated":
        return "frustrated"
    if intent == "request_human" and not FRUSTRATED.search(text or ""):
        # Asked outright (or "Ja, tal med en medarbejder" after an offer): no second offer.
        return "requested"
    if intent == "nlu_fallback" or previous_kind == "not_understood":
        return "fallback"
    if FRUSTRATED.search(text or ""):
        return "frustrated"
    return "requested"


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = latest_text(tracker)
        reason = handoff_reason(latest_intent(tracker), text, previous_reply_kind(tracker))
        if reason in ANSWERABLE_REASONS:
            answered = answer_instead(dispatcher, tracker, STAFF_BUTTON)
            if answered is not None:
                return answered
        if reason == "frustrated" and plain_question(text):
            answered = answer_misread_question(dispatcher, tracker, STAFF_BUTTON)
            if answered is not None:
                return answered
        opening = OPENINGS[reason]
        topic = ticket_topic(tracker.get_slot("topic"))
        service = config.handoff
        open_now = service.library_open()
        try:
            available = open_now and service.staff_online()
        except Exception:  # noqa: BLE001 - a database hiccup must still leave the citizen a way on
            log.exception("could not check whether staff are online")
            available = False
        if available and reason in OFFERED_REASONS:
            dispatcher.utter_message(
                text=OFFER_PERSON.format(opening=opening), buttons=OFFER_PERSON_BUTTONS
            )
        elif available:
            dispatcher.utter_message(text=TO_QUEUE.format(opening=opening))
            dispatcher.utter_message(
                json_message={"handoff": "request", "reason": reason, "topic": topic}
            )
        else:
            _, promise = response_promise(library=config.library)
            why = ", fordi biblioteket er lukket" if not open_now else ""
            dispatcher.utter_message(
                text=OFFER_CALLBACK.format(opening=opening, why=why, promise=promise),
                buttons=CALLBACK_BUTTONS,
            )
        return []


def ticket_topic(topic: Any) -> str | None:
    # "staff" says nothing about the question; staff want the subject the bot last answered.
    return str(topic) if topic and topic not in ("staff", "smalltalk", "out_of_scope") else None
