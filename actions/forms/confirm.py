"""The confirm-then-write step: the summary a citizen checks, then "ja" writes, "nej" lets
them correct, anything else asks again. Nothing is written before the "ja".

A form's ``extract_<x>_confirmed`` method is one call::

    return confirm_then_write(tracker, "booking_confirmed", "Svar ... skal jeg booke tiden?",
                              write=lambda: self.book(dispatcher, tracker))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.readers import PROBLEM, is_affirm, is_deny, latest_intent, latest_text
from bot.services.validation import format_phone


def ask_to_confirm(
    dispatcher: CollectingDispatcher,
    facts: dict[str, str],
    question: str,
    yes: str,
    note: str = "",
) -> None:
    """The summary a citizen checks before anything is written, with yes/no buttons."""
    lines = "\n".join(f"• {label}: {value}" for label, value in facts.items())
    dispatcher.utter_message(
        text=f"Tjek venligst, at det er rigtigt:\n{lines}{note}\n{question}",
        buttons=[
            {"title": yes, "payload": "/affirm"},
            {"title": "Nej, ret noget", "payload": "/deny"},
        ],
    )


def contact_label(contact: str | None) -> str:
    """A contact as the citizen would write it (phone numbers in pairs of digits)."""
    contact = contact or ""
    return format_phone(contact) if contact.isdigit() else contact


def confirm_then_write(
    tracker: Tracker,
    slot: str,
    unclear: str,
    write: Callable[[], dict[str, Any]],
    on_deny: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The answer to the summary question in ``slot``: ``write()`` on yes; on no the slot is
    cleared (plus ``on_deny()``) so the form asks what to change; otherwise ``unclear``."""
    if tracker.get_slot("requested_slot") != slot:
        return {}
    text, intent = latest_text(tracker), latest_intent(tracker)
    if is_deny(text, intent):
        return {slot: None, **(on_deny() if on_deny else {})}
    if not is_affirm(text, intent):
        return {PROBLEM: unclear}
    return write()
