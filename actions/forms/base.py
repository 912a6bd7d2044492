"""Shared machinery for the chat forms: free-text extraction, re-asking, stop and staff help.

Every form's ``validate_<form>`` action subclasses :class:`ReaskingFormValidationAction`.
Subclasses write ``extract_<slot>(dispatcher, tracker, domain) -> dict`` methods, in the
rasa-sdk convention, that read the latest message (free text or a button payload such as
``/inform{"branch":"nord"}``) and return the slots they found. Two extra keys are understood:

- ``PROBLEM``: a Danish explanation why the answer was not accepted (from the service layer's
  ``.message``, ``name_problem`` or ``contact_problem``). It is shown, the failed try is
  counted in the ``form_attempts`` slot, and the form asks again. After
  ``MAX_ATTEMPTS`` failed tries in a row the citizen is offered staff help.
- ``FINISH``: end the form now with this outcome (e.g. "done" after a booking was written,
  "failed" when nothing more can be done). The form's slots are cleared.

The requested slot is extracted strictly (a miss is a failed try); the slots listed in
``opportunistic_slots`` are also taken from any message when present, so that "Jeg vil gerne
have hjælp til MitID på torsdag" fills the topic and the wanted day at once.

Why ``run`` is overridden instead of rasa-sdk's default: the default drops every slot that is
not a required slot of the form (the attempt counter, the wanted day), and a run that sets no
slot makes Rasa reject the form, handing the turn to other policies. Here every run sets at
least ``form_attempts``, so the form itself decides what happens to every answer: stop,
correction, re-ask. That keeps rules and stories small and the behaviour testable in Python.
"""


from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import config
from actions.forms.readers import (
    FINISH,
    FORM_WISHES,
    PROBLEM,
    confidence,
    latest_intent,
    latest_text,
    other_wish,
    wants_human,
)
from actions.handoff import ActionHandoff
from actions.replies import answer_instead, answer_short_reply
from bot.core.topics import FORM_TOPICS, INTENT_TOPICS
from bot.language.wishes import SERVICE_SUBJECT, asks_rather_than_wishes, is_payload, wants_stop
from bot.services.answers import confident_answer

MAX_ATTEMPTS = 3
REQUESTED_SLOT = "requested_slot"
ATTEMPTS_SLOT = "form_attempts"
OUTCOME_SLOT = "form_outcome"
# The form's outcome when its first message was a question, answered instead of starting it.
ANSWERED = "answered"

# Slots the forms use besides their required slots; cleared whenever a form ends.
HELPER_SLOTS = ("when_text", "not_day", "branch", "offered")

ASIDE_CONFIDENCE = 0.8
WHY_WE_ASK = (
    "Vi bruger kun dit navn og dit telefonnummer eller din e-mail til netop denne aftale – "
    "fx hvis vi bliver nødt til at aflyse. Vi spørger aldrig om CPR-nummer, og oplysningerne "
    "slettes, når aftalen er overstået."
)
_WHY_CONTACT = re.compile(
    r"\b(?:hvorfor|hvad\s+skal\s+I\s+bruge|hvad\s+bruger\s+I)\b.*\b(?:navn|nummer|telefon|mail"
    r"|oplysninger|det)\b",
    re.IGNORECASE,
)

STAFF_BUTTON = {"title": "Tal med en medarbejder", "payload": "/request_human"}
STOP_BUTTON = {"title": "Stop", "payload": "/stop"}

STOPPED = (
    "Helt i orden – jeg har stoppet, og der er ikke gemt noget. Skriv bare, hvis der er andet."
)
SWITCHED = "Helt i orden – jeg stopper her, og der er ikke ændret noget. Vil du i stedet:"
TO_STAFF = "Jeg stopper her, så du kan få hjælp af en medarbejder. Der er ikke gemt noget."
NOT_UNDERSTOOD = "Det forstod jeg ikke helt."
OFFER_STAFF = (
    "Det driller lidt. Du kan prøve igen, stoppe, eller få hjælp af en medarbejder på biblioteket."
)


def button(title: str, payload_intent: str, **values: Any) -> dict[str, str]:
    data = json.dumps({k: str(v) for k, v in values.items()}, ensure_ascii=False)
    return {"title": title, "payload": f"/{payload_intent}{data if values else ''}"}


class ReaskingFormValidationAction(FormValidationAction):
    """Base of every ``validate_<form>`` action; see the module docstring."""

    # Slots taken from any message of the form when the text contains them.
    opportunistic_slots: tuple[str, ...] = ()
    # Shown after NOT_UNDERSTOOD when an answer to this slot could not be read.
    hints: dict[str, str] = {}
    # Set for a form that questions about its service are mistaken for (booking, courses):
    # such a question is answered, with this button to start the form (see run()).
    start_button: dict[str, str] | None = None
    # What the form is about: a first message with no word of it is answered instead when
    # an article plainly answers it (see run()); None for a form never answered instead.
    subject: re.Pattern[str] | None = SERVICE_SUBJECT

    @abstractmethod
    def name(self) -> str:
        """``validate_<form name>``. Abstract, so that rasa-sdk does not register the base."""

    # --- hooks for subclasses -----------------------------------------------------------

    def corrections(
        self, text: str, intent: str, tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> dict[str, Any] | None:
        """Slot changes when the citizen changes their mind ("nej, en anden dag"), else None."""
        return None

    def answer_aside(
        self, text: str, intent: str, tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> bool:
        """Answer a question asked in the middle of the form; True when answered."""
        if _WHY_CONTACT.search(text):
            dispatcher.utter_message(text=WHY_WE_ASK)
            return True
        if intent.startswith("ask_") and confidence(tracker) >= ASIDE_CONFIDENCE:
            answer = confident_answer(text, INTENT_TOPICS.get(intent), **config.knowledge)
            if answer is not None:
                dispatcher.utter_message(text=answer.text)
                return True
        return False

    def answers_instead(self, text: str) -> bool:
        """Whether the message that started this form may be answered with an article."""
        if is_payload(text):
            return False
        if self.subject is not None and not self.subject.search(text):
            return True
        return self.start_button is not None and asks_rather_than_wishes(text)

    # --- the loop -------------------------------------------------------------------------

    def form_name(self) -> str:
        return self.name().removeprefix("validate_")

    def form_slots(self, domain: DomainDict) -> list[str]:
        return list(self.domain_slots(domain))

    def stop_events(self, domain: DomainDict, outcome: str) -> list[EventType]:
        slots = [*self.form_slots(domain), *HELPER_SLOTS]
        return [
            *(SlotSet(slot, None) for slot in dict.fromkeys(slots)),
            SlotSet(ATTEMPTS_SLOT, 0),
            SlotSet(OUTCOME_SLOT, outcome),
            # Setting requested_slot to None makes Rasa deactivate the form at once.
            SlotSet(REQUESTED_SLOT, None),
        ]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = latest_text(tracker)
        intent = latest_intent(tracker)
        requested = tracker.get_slot(REQUESTED_SLOT)

        # In the first turn (requested is None) the message is the one that started the form.
        if requested is None and self.answers_instead(text):
            # A question about the service, read by the NLU as a wish to use it, or a message
            # about something else the NLU took for this form: answered with its article and
            # a button that starts the form (issue: forms start only on a clear wish).
            answered = answer_instead(dispatcher, tracker, self.start_button)
            if answered is not None:
                return [*answered, *self.stop_events(domain, ANSWERED)]
        if requested is None:
            # A short reply read weakly as this wish ("skrive op" after the day-care tile).
            answered = answer_short_reply(dispatcher, tracker, self.start_button)
            if answered is not None:
                return [*answered, *self.stop_events(domain, ANSWERED)]
        wish = other_wish(text, intent, confidence(tracker), self.form_name())
        if requested is not None and wish is not None:
            # The citizen changed their mind ("glem det, jeg vil hellere booke en ny"): leave
            # this form and offer the other one, which the button starts cleanly.
            dispatcher.utter_message(
                text=SWITCHED, buttons=[{"title": FORM_WISHES[wish][1], "payload": f"/{wish}"}]
            )
            return self.stop_events(domain, "stopped")
        if requested is not None and wants_stop(text, intent, confidence(tracker)):
            dispatcher.utter_message(text=STOPPED)
            return self.stop_events(domain, "stopped")
        if requested is not None and wants_human(text, intent, confidence(tracker)):
            dispatcher.utter_message(text=TO_STAFF)
            handed = await run_handoff(dispatcher, tracker, domain)
            return [*handed, *self.stop_events(domain, "human")]

        changes = self.corrections(text, intent, tracker, dispatcher)
        if changes is not None:
            return [SlotSet(k, v) for k, v in changes.items()] + [SlotSet(ATTEMPTS_SLOT, 0)]

        values: dict[str, Any] = {}
        problem: str | None = None
        for slot in self.form_slots(domain):
            if slot != requested and slot not in self.opportunistic_slots:
                continue
            if slot != requested and tracker.get_slot(slot) is not None:
                continue  # already answered; only corrections change it
            method = getattr(self, f"extract_{slot}", None)
            if method is None:
                continue
            found = dict(await _maybe_await(method(dispatcher, tracker, domain)) or {})
            if FINISH in found:
                return self.stop_events(domain, str(found[FINISH]))
            if slot == requested:
                problem = found.pop(PROBLEM, None) or problem
            else:
                found.pop(PROBLEM, None)
            values.update(found)
            # Later extract methods see what earlier ones found.
            tracker.slots.update(found)

        attempts = 0
        if requested and not values and self.answer_aside(text, intent, tracker, dispatcher):
            # A question in between ("hvorfor skal I have mit nummer?") is answered, not
            # counted as a failed try; the form then asks its question again.
            return [SlotSet(ATTEMPTS_SLOT, int(tracker.get_slot(ATTEMPTS_SLOT) or 0))]
        if requested and (problem or not values):
            attempts = int(tracker.get_slot(ATTEMPTS_SLOT) or 0) + 1
            message = problem or " ".join(filter(None, [NOT_UNDERSTOOD, self.hints.get(requested)]))
            if attempts >= MAX_ATTEMPTS:
                dispatcher.utter_message(
                    text=f"{message}\n\n{OFFER_STAFF}", buttons=[STAFF_BUTTON, STOP_BUTTON]
                )
            else:
                dispatcher.utter_message(text=message)
        return [SlotSet(k, v) for k, v in values.items()] + [SlotSet(ATTEMPTS_SLOT, attempts)]


async def run_handoff(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> list[EventType]:
    """Run the staff handoff action in this turn, in-process.

    A form the citizen leaves to ask for a person ends in the same turn, and the handoff's
    answer (queue or callback offer) comes with it. Running it here rather than as a
    follow-up action keeps the dialogue rules simple: every form still ends with
    action_finish_form and a listen.
    """
    return list(await _maybe_await(ActionHandoff().run(dispatcher, tracker, domain)) or [])




async def _maybe_await(value: Any) -> Any:
    if hasattr(value, "__await__"):
        return await value
    return value


# --- the action that runs after every form -------------------------------------------------


def last_form_name(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events or []):
        if event.get("event") == "active_loop" and event.get("name"):
            return str(event["name"])
    return None


def db_session() -> Any:
    """A database session for one action (a session per action, never a long-lived one)."""
    return config.session()


def read_db_session() -> Any:
    return config.session(read_only=True)


class ActionFinishForm(Action):
    """Runs when a form ends (done, stopped, handed to staff): clears the form slots so that
    a second booking in the same chat starts afresh, and keeps the chat's topic."""

    def name(self) -> str:
        return "action_finish_form"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        form = last_form_name(tracker)
        forms = domain.get("forms") or {}
        slots: list[str] = []
        for name, spec in forms.items():
            if form is None or name == form:
                slots.extend((spec or {}).get("required_slots") or [])
        slots.extend(HELPER_SLOTS)
        events: list[EventType] = [SlotSet(slot, None) for slot in dict.fromkeys(slots)]
        events += [SlotSet(ATTEMPTS_SLOT, 0), SlotSet(OUTCOME_SLOT, None)]
        outcome = tracker.get_slot(OUTCOME_SLOT)
        if outcome == "human":
            events.append(SlotSet("topic", "staff"))
        elif outcome == ANSWERED:
            pass  # the answer set the topic and article of what was asked
        elif form in FORM_TOPICS:
            events.append(SlotSet("topic", FORM_TOPICS[form]))
        return events


class AskText(Action, ABC):
    """A form question with a Stop button; subclasses name the slot and the question."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    @abstractmethod
    def question(self, tracker: Tracker) -> str:
        """The question; abstract so that rasa-sdk does not register this base class."""

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=self.question(tracker), buttons=[STOP_BUTTON])
        return []

