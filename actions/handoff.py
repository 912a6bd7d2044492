"""Handoff to library staff: the decision (live queue or callback) and the callback form.

``action_handoff`` runs when the citizen asks for a person, complains or brings a personal
case, or when the bot failed to understand twice in a row. It says what happens next, then:

- staff are signed in and the library is staffed: it sends the marker
  ``{"handoff": "request", "reason": ..., "topic": ...}`` (a ``custom`` message in Rasa's REST
  output), which the gateway turns into a queue entry (bot/gateway/chat.py);
- otherwise it offers a callback; "Ja, kontakt mig" starts ``callback_form``.

The callback form (name, phone or e-mail, a short description) writes the ticket when the
description arrives and sends ``{"handoff": "callback", "ticket_id": ...}`` so the gateway can
tell staff consoles at once. Thin over bot/handoff.py, like the booking actions over
bot/booking.py.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import (
    FINISH,
    PROBLEM,
    STOP_BUTTON,
    ReaskingFormValidationAction,
    contact_answer,
    is_payload,
    latest_intent,
    latest_text,
    name_answer,
)
from actions.knowledge import previous_reply_kind
from bot.config import get_settings
from bot.handoff import HandoffService, response_promise
from bot.library import load_library
from bot.privacy import redact_cpr
from bot.validation import format_phone

log = logging.getLogger(__name__)

# Words that say the citizen has had enough of the bot (the intent is still request_human).
_FRUSTRATED = re.compile(
    r"håbløs|haabloes|ubrugelig|gider\s+(?:altså\s+)?ikke|spild\s+af\s+tid|irriter|"
    r"forstår\s+(?:mig\s+)?ikke|forstaar\s+ikke|virker\s+(?:bare\s+)?ikke|træt\s+af|"
    r"elendig|\bdum\b|tre\s+gange|igen\s+og\s+igen|slet\s+ikke",
    re.IGNORECASE,
)

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
CALLBACK_BUTTONS = [
    {"title": "Ja, kontakt mig", "payload": "/request_callback"},
    {"title": "Nej tak", "payload": "/deny"},
]
ASK_DESCRIPTION = (
    "Beskriv kort, hvad du gerne vil have hjælp til, så medarbejderen er forberedt. "
    "(Skriv ikke dit CPR-nummer.)"
)
DESCRIPTION_MISSING = "Skriv med et par ord, hvad du gerne vil have hjælp til."
CALLBACK_CONFIRMED = (
    "Tak, {name}. Din henvendelse er sendt til biblioteket (nr. {ticket_id}). "
    "En medarbejder kontakter dig {promise} på {contact}."
)
CALLBACK_FAILED = (
    "Beklager, din henvendelse kunne ikke gemmes på grund af en teknisk fejl. "
    "Ring til biblioteket på {phone}, så hjælper vi dig."
)
DESCRIPTION_MIN_CHARS = 3


def handoff_reason(intent: str, text: str, previous_kind: str | None = None) -> str:
    if intent == "complain":
        return "complaint"
    if intent == "frustrated":
        return "frustrated"
    if intent == "nlu_fallback" or previous_kind == "not_understood":
        return "fallback"
    if _FRUSTRATED.search(text or ""):
        return "frustrated"
    return "requested"


def _service() -> HandoffService:
    return HandoffService(get_settings().database_url)


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reason = handoff_reason(
            latest_intent(tracker), latest_text(tracker), previous_reply_kind(tracker)
        )
        opening = OPENINGS[reason]
        topic = _ticket_topic(tracker.get_slot("topic"))
        service = _service()
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
            _, promise = response_promise()
            why = ", fordi biblioteket er lukket" if not open_now else ""
            dispatcher.utter_message(
                text=OFFER_CALLBACK.format(opening=opening, why=why, promise=promise),
                buttons=CALLBACK_BUTTONS,
            )
        return []


class ActionAskCallbackDescription(Action):
    def name(self) -> str:
        return "action_ask_callback_description"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=ASK_DESCRIPTION, buttons=[STOP_BUTTON])
        return []


class ValidateCallbackForm(ReaskingFormValidationAction):
    """Name, contact and a description; the ticket is written when the description arrives."""

    hints = {"callback_description": DESCRIPTION_MISSING}

    def name(self) -> str:
        return "validate_callback_form"

    def extract_citizen_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return name_answer(latest_text(tracker), "citizen_name")

    def extract_citizen_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return contact_answer(latest_text(tracker), "citizen_contact")

    def extract_callback_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        if is_payload(text) or len(text.strip()) < DESCRIPTION_MIN_CHARS:
            return {PROBLEM: DESCRIPTION_MISSING}
        # The gateway redacts CPR numbers before Rasa sees the text; this is the second lock.
        description, _ = redact_cpr(text)
        name = str(tracker.get_slot("citizen_name") or "")
        contact = str(tracker.get_slot("citizen_contact") or "")
        kind = "email" if "@" in contact else "phone"
        try:
            ticket, promise = _service().create_callback(
                tracker.sender_id, name, kind, contact, description,
                topic=_ticket_topic(tracker.get_slot("topic")),
            )
        except Exception:  # noqa: BLE001 - tell the citizen how to reach us instead
            log.exception("could not store a callback request")
            dispatcher.utter_message(text=CALLBACK_FAILED.format(phone=load_library().phone))
            return {FINISH: "failed"}
        shown = format_phone(contact) if kind == "phone" else contact
        dispatcher.utter_message(
            text=CALLBACK_CONFIRMED.format(
                name=name.split()[0] if name else "", ticket_id=ticket["id"], promise=promise,
                contact=shown,
            )
        )
        dispatcher.utter_message(json_message={"handoff": "callback", "ticket_id": ticket["id"]})
        return {FINISH: "done"}


def _ticket_topic(topic: Any) -> str | None:
    # "staff" says nothing about the question; staff want the subject the bot last answered.
    return str(topic) if topic and topic not in ("staff", "smalltalk", "out_of_scope") else None
