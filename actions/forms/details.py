"""Name and one contact (phone or e-mail): what the booking, sign-up and callback forms collect,
and the questions that ask for them."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms.base import AskText
from actions.forms.readers import contact_answer, find_contact, latest_text, name_answer


class CitizenDetailsMixin:
    """Reads ``citizen_name`` and ``citizen_contact``; a contact given with the name is kept."""

    def extract_citizen_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "citizen_name":
            return {}
        return name_answer(latest_text(tracker))

    def extract_citizen_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        text = latest_text(tracker)
        if requested == "citizen_contact":
            return contact_answer(text, "citizen_contact")
        if requested == "citizen_name":
            # Someone who gives name and number in one go ("Ib Hansen, 22 33 44 55").
            found = find_contact(text)
            return {"citizen_contact": found} if found else {}
        return {}


ASK_NAME = "Hvad er dit navn? (Kun for- og efternavn – jeg skal ikke bruge dit CPR-nummer.)"
ASK_CONTACT = "Hvilket telefonnummer (8 cifre) eller hvilken e-mail kan vi kontakte dig på?"


class ActionAskCitizenName(AskText):
    slot = "citizen_name"

    def question(self, tracker: Tracker) -> str:
        return ASK_NAME


class ActionAskCitizenContact(AskText):
    slot = "citizen_contact"

    def question(self, tracker: Tracker) -> str:
        return ASK_CONTACT
