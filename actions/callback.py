"""The callback form: name, phone or e-mail and a short description; the library contacts the
citizen later. It writes the ticket when the description arrives and sends
``{"handoff": "callback", "ticket_id": ...}`` so the gateway can tell staff consoles at once.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import config
from actions.forms.base import AskText, ReaskingFormValidationAction
from actions.forms.confirm import contact_label
from actions.forms.readers import (
    FINISH,
    PROBLEM,
    contact_answer,
    is_payload,
    latest_text,
    name_answer,
)
from actions.handoff import ticket_topic
from bot.language.privacy import redact_cpr

log = logging.getLogger(__name__)

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


class ActionAskCallbackDescription(AskText):
    slot = "callback_description"

    def question(self, tracker: Tracker) -> str:
        return ASK_DESCRIPTION


class ValidateCallbackForm(ReaskingFormValidationAction):
    """Name, contact and a description; the ticket is written when the description arrives."""

    hints = {"callback_description": DESCRIPTION_MISSING}
    # Asked for by the citizen or by the handoff when nobody is free: never answered instead.
    subject = None

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
            ticket, promise = config.handoff.create_callback(
                tracker.sender_id, name, kind, contact, description,
                topic=ticket_topic(tracker.get_slot("topic")),
            )
        except Exception:  # noqa: BLE001 - tell the citizen how to reach us instead
            log.exception("could not store a callback request")
            dispatcher.utter_message(text=CALLBACK_FAILED.format(phone=config.library.phone))
            return {FINISH: "failed"}
        dispatcher.utter_message(
            text=CALLBACK_CONFIRMED.format(
                name=name.split()[0] if name else "", ticket_id=ticket["id"], promise=promise,
                contact=contact_label(contact),
            )
        )
        dispatcher.utter_message(json_message={"handoff": "callback", "ticket_id": ticket["id"]})
        return {FINISH: "done"}
