"""The shared lookup form: a reference ("ABC-234") and the contact it was made with, then one
action on what they identify (cancel a booking, move it, cancel a course sign-up).

A lookup form subclasses :class:`LookupForm` and writes ``with_both``; the reference is taken
from any message of the form, the contact only when asked for.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import config
from actions.forms.base import AskText, ReaskingFormValidationAction, db_session
from actions.forms.readers import (
    FINISH,
    PROBLEM,
    contact_answer,
    find_reference,
    is_payload,
    latest_text,
)
from bot.services.lookups import (
    LockPolicy,
    lock_keys,
    lock_message,
    locked_minutes,
    pending_codes,
    record_failure,
)

REFERENCE_PROBLEM = (
    "Det ligner ikke et bookingnummer. Et bookingnummer har 6 tegn, fx ABC-234 – du fik det, "
    "da du bookede."
)
ASK_LOOKUP_CONTACT = (
    "Hvilket telefonnummer eller hvilken e-mail brugte du, da du bookede eller tilmeldte dig?"
)
ASK_REFERENCE = {
    "cancel_booking_form": "Hvad er dit bookingnummer? Det ser sådan ud: ABC-234.",
    "move_booking_form": "Hvad er bookingnummeret på den tid, du vil flytte? Fx ABC-234.",
    "cancel_enrolment_form": "Hvad er dit tilmeldingsnummer? Det ser sådan ud: ABC-234.",
}


ASK_CODE = (
    "Skriv den kode på 6 cifre, som vi lige har sendt til dig. (Kan du ikke finde den, så "
    "kig også i din spam-mappe.)"
)


def lock_policy() -> LockPolicy:
    settings = config.settings
    return LockPolicy(settings.lookup_max_failures, settings.lookup_lock_minutes)


def lookup_locked(dispatcher: CollectingDispatcher, keys: list[str]) -> bool:
    """Too many wrong references or codes lately: say so and tell the form to stop."""
    with db_session() as session:
        minutes = locked_minutes(session, keys, lock_policy())
    if minutes:
        dispatcher.utter_message(text=lock_message(minutes, config.library.phone))
    return bool(minutes)


def count_failure(dispatcher: CollectingDispatcher, keys: list[str]) -> bool:
    """Count a wrong reference or code; True when that locked the look-up (said so)."""
    with db_session() as session:
        record_failure(session, keys)
    return lookup_locked(dispatcher, keys)


class ActionAskLookupContact(AskText):
    slot = "lookup_contact"

    def question(self, tracker: Tracker) -> str:
        # "What have I booked?" asks for the code once one was sent for this chat.
        with db_session() as session:
            if pending_codes(session, tracker.sender_id):
                return ASK_CODE
        return ASK_LOOKUP_CONTACT


class ActionAskLookupReference(AskText):
    slot = "lookup_reference"

    def question(self, tracker: Tracker) -> str:
        form = (tracker.active_loop or {}).get("name") or ""
        return ASK_REFERENCE.get(form, ASK_REFERENCE["cancel_booking_form"])



class LookupForm(ReaskingFormValidationAction):
    """Reference + contact, as in cancel and move."""

    # The contact is only taken when asked for, so a form never ends in its first turn
    # (the rules expect "start" and "end" in different turns).
    opportunistic_slots = ("lookup_reference",)
    reference_problem = REFERENCE_PROBLEM

    def extract_lookup_reference(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        requested = tracker.get_slot("requested_slot") == "lookup_reference"
        reference = find_reference(text, whole_answer=requested) if not is_payload(text) else None
        if reference:
            return {"lookup_reference": reference}
        return {PROBLEM: self.reference_problem} if requested else {}

    def extract_lookup_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "lookup_contact":
            return {}
        found = contact_answer(latest_text(tracker), "lookup_contact")
        reference = tracker.get_slot("lookup_reference")
        if found.get("lookup_contact") and reference:
            keys = lock_keys(tracker.sender_id, found["lookup_contact"])
            if lookup_locked(dispatcher, keys):
                return {FINISH: "failed"}
            return self.with_both(reference, found["lookup_contact"], dispatcher, tracker)
        return found

    def not_found(
        self, message: str, contact: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """A reference that does not go with the contact: counted against guessing."""
        if count_failure(dispatcher, lock_keys(tracker.sender_id, contact)):
            return {FINISH: "failed"}
        return {PROBLEM: message, "lookup_reference": None, "lookup_contact": None}

    @abstractmethod
    def with_both(
        self, reference: str, contact: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Act once both the reference and the contact are known."""
