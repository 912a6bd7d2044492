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

from actions.forms.base import AskText, ReaskingFormValidationAction
from actions.forms.readers import PROBLEM, contact_answer, find_reference, is_payload, latest_text

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


class ActionAskLookupContact(AskText):
    slot = "lookup_contact"

    def question(self, tracker: Tracker) -> str:
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
            return self.with_both(reference, found["lookup_contact"], dispatcher, tracker)
        return found

    @abstractmethod
    def with_both(
        self, reference: str, contact: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Act once both the reference and the contact are known."""
