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

from bot.answers import confident_answer
from bot.booking import normalize_reference
from bot.config import get_settings
from bot.db import session_scope
from bot.topics import FORM_TOPICS, INTENT_TOPICS
from bot.validation import (
    CONTACT_INVALID,
    NAME_MISSING,
    contact_problem,
    format_phone,
    name_problem,
    normalize_email,
    normalize_name,
    normalize_phone,
)

PROBLEM = "__problem__"
FINISH = "__finish__"
MAX_ATTEMPTS = 3
REQUESTED_SLOT = "requested_slot"
ATTEMPTS_SLOT = "form_attempts"
OUTCOME_SLOT = "form_outcome"
# The staff handoff (actions/handoff.py), run after a form the citizen left to ask for a person.

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
TO_STAFF = "Jeg stopper her, så du kan få hjælp af en medarbejder. Der er ikke gemt noget."
NOT_UNDERSTOOD = "Det forstod jeg ikke helt."
OFFER_STAFF = (
    "Det driller lidt. Du kan prøve igen, stoppe, eller få hjælp af en medarbejder på biblioteket."
)

_STOP = re.compile(
    r"^\W*(?:nej,?\s+)?(?:stop(?:p|\s+det|\s+nu)?|glem\s+det|annuller(?:\s+det)?|afbryd"
    r"|fortryd|drop\s+det|lad\s+v(?:æ|ae)re|jeg\s+vil\s+ikke\s+alligevel|ikke\s+alligevel"
    r"|nej\s+tak,?\s+alligevel\s+ikke)\W*$",
    re.IGNORECASE,
)
_AFFIRM = re.compile(
    r"^\W*(?:ja|jo|jep|jeps|ok|okay|yes|gerne|korrekt|det\s+er\s+rigtigt|det\s+passer|fint"
    r"|book|tilmeld)\b",
    re.IGNORECASE,
)
_DENY = re.compile(r"^\W*(?:nej|nix|nope|ikke\s+rigtigt|forkert|ret)\b", re.IGNORECASE)
_PAYLOAD = re.compile(r"^/(?P<intent>\w+)(?P<json>\{.*\})?\s*$", re.DOTALL)


def latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "").strip()


def latest_intent(tracker: Tracker) -> str:
    return str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "")


def payload_value(text: str, key: str) -> str | None:
    """The value of ``key`` in a button payload like ``/inform{"help_slot":"12"}``."""
    match = _PAYLOAD.match(text or "")
    if not match or not match["json"]:
        return None
    try:
        data = json.loads(match["json"])
    except ValueError:
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return None if value is None else str(value)


def is_payload(text: str) -> bool:
    return bool(_PAYLOAD.match(text or ""))


# The NLU's "stop" only counts with one of these words in the message: a name such as
# "Robert'); DROP TABLE ..." must be re-asked, not taken as "drop det".
_STOP_WORD = re.compile(
    r"\b(?:stop\w*|glem|annuller\w*|afbryd\w*|fortryd\w*|fortrudt|drop\s+det|lad\s+v(?:æ|ae)re"
    r"|alligevel|afslut\w*|gider\s+ikke|ikke\s+mere|stands)\b",
    re.IGNORECASE,
)
_HUMAN_WORD = re.compile(
    r"medarbejder|menneske|person|personale|bibliotekar|ringe|tale\s+med|snakke\s+med", re.I
)


def wants_stop(text: str, intent: str, confidence: float = 1.0) -> bool:
    if _STOP.match(text or ""):
        return True
    return intent == "stop" and confidence >= 0.6 and bool(_STOP_WORD.search(text or ""))


def wants_human(text: str, intent: str, confidence: float = 1.0) -> bool:
    if text.strip() == "/request_human":
        return True
    return intent == "request_human" and confidence >= 0.6 and bool(_HUMAN_WORD.search(text))


def is_affirm(text: str, intent: str) -> bool:
    if intent == "affirm":
        return True
    return bool(_AFFIRM.match(text or "")) and not _DENY.match(text or "")


def is_deny(text: str, intent: str) -> bool:
    return intent == "deny" or bool(_DENY.match(text or ""))


def button(title: str, payload_intent: str, **values: Any) -> dict[str, str]:
    data = json.dumps({k: str(v) for k, v in values.items()}, ensure_ascii=False)
    return {"title": title, "payload": f"/{payload_intent}{data if values else ''}"}


class ReaskingFormValidationAction(FormValidationAction):
    """Base of every ``validate_<form>`` action; see the module docstring."""

    # Slots taken from any message of the form when the text contains them.
    opportunistic_slots: tuple[str, ...] = ()
    # Shown after NOT_UNDERSTOOD when an answer to this slot could not be read.
    hints: dict[str, str] = {}

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
        if intent.startswith("ask_") and _confidence(tracker) >= ASIDE_CONFIDENCE:
            answer = confident_answer(text, INTENT_TOPICS.get(intent))
            if answer is not None:
                dispatcher.utter_message(text=answer.text)
                return True
        return False

    # --- the loop -------------------------------------------------------------------------

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
        if requested is not None and wants_stop(text, intent, _confidence(tracker)):
            dispatcher.utter_message(text=STOPPED)
            return self.stop_events(domain, "stopped")
        if requested is not None and wants_human(text, intent, _confidence(tracker)):
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
    # Imported here: actions.handoff builds its callback form on this module.
    from actions.handoff import ActionHandoff

    return list(await _maybe_await(ActionHandoff().run(dispatcher, tracker, domain)) or [])


def _confidence(tracker: Tracker) -> float:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return float(intent.get("confidence") or 0.0)


async def _maybe_await(value: Any) -> Any:
    if hasattr(value, "__await__"):
        return await value
    return value


# --- free-text readers shared by the forms -------------------------------------------------

_EMAIL = re.compile(r"[^\s,;:<>()\[\]]+@[^\s,;:<>()\[\]]+")
_PHONE = re.compile(r"(?:\+|00)?\d[\d \-./()]{6,}\d")
_NAME_PREFIX = re.compile(
    r"^\s*(?:(?:ja,?\s+)?(?:jeg\s+hedder|mit\s+navn\s+er|navnet\s+er|navn\s*:|det\s+er))\s+",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    {"ja", "nej", "ok", "okay", "hej", "tak", "jo", "hvad", "hvorfor", "hvem", "nix", "godt",
     "fint", "måske", "ved ikke", "ja tak", "nej tak", "hallo"}
)  # fmt: skip
_REFERENCE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{3})[ \-_.]?([A-Za-z0-9]{3})(?![A-Za-z0-9])")
MAX_NAME_WORDS = 6


def find_contact(text: str) -> str | None:
    """The first valid e-mail or Danish phone number in the text, normalised."""
    for match in _EMAIL.finditer(text or ""):
        email = normalize_email(match.group().strip(".,!"))
        if email:
            return email
    for match in _PHONE.finditer(text or ""):
        phone = normalize_phone(match.group().strip())
        if phone:
            return phone
    return None


def contact_answer(text: str, slot: str) -> dict[str, Any]:
    found = find_contact(text)
    if found:
        return {slot: found}
    return {PROBLEM: contact_problem(text) or CONTACT_INVALID}


def _without_contact(text: str) -> str:
    text = _EMAIL.sub(" ", text)
    return _PHONE.sub(" ", text)


def name_answer(text: str, slot: str = "citizen_name") -> dict[str, Any]:
    """The citizen's name from an answer to "Hvad er dit navn?" (contact details removed)."""
    if "?" in text or is_payload(text):
        return {PROBLEM: NAME_MISSING}
    candidate = _NAME_PREFIX.sub("", _without_contact(text)).strip(" ,;:!")
    not_a_name = candidate.casefold() in _NOT_NAMES or len(candidate.split()) > MAX_NAME_WORDS
    if not_a_name and len(candidate) <= 100:  # a too long name gets its own explanation
        return {PROBLEM: NAME_MISSING}
    problem = name_problem(candidate)
    if problem:
        return {PROBLEM: problem}
    return {slot: normalize_name(candidate)}


def find_reference(text: str, *, whole_answer: bool = True) -> str | None:
    """A booking/enrolment reference ("ABC-234") in the text.

    Six letters inside a sentence are usually a word ("afbryd"), so within a sentence the
    candidate must contain a digit, a separator or be written in capitals; a message that is
    nothing but the six characters counts when ``whole_answer`` is set.
    """
    stripped = (text or "").strip(" .,!")
    for match in _REFERENCE.finditer(text or ""):
        raw = match.group()
        reference = normalize_reference(raw)
        if reference is None:
            continue
        if (
            any(c.isdigit() for c in raw)
            or any(c in "-_." for c in raw)
            or raw.isupper()
            or (whole_answer and stripped == raw)
        ):
            return reference
    return None


_ORDINAL_WORDS = {
    "første": 1, "forste": 1, "anden": 2, "andet": 2, "tredje": 3, "fjerde": 4, "femte": 5,
    "sjette": 6, "syvende": 7, "ottende": 8,
}  # fmt: skip
_ORDINAL = re.compile(
    r"^\W*(?:(?:ja,?\s+)?(?:tak,?\s+)?(?:den|det|nr\.?|nummer|tid|hold)?\s*)"
    r"(?:(?P<n>[1-9])\.?|(?P<word>første|forste|anden|andet|tredje|fjerde|femte|sjette|syvende"
    r"|ottende)|(?P<last>sidste))(?:\s+(?:tid|tidspunkt|hold|kursus|tak|den|det))*\W*$",
    re.IGNORECASE,
)


def pick_offered(text: str, offered: Any) -> str | None:
    """The id the citizen picked by its place in the last offer: "den første", "2", "sidste"."""
    if not isinstance(offered, list) or not offered:
        return None
    match = _ORDINAL.match(text or "")
    if not match:
        return None
    if match["last"]:
        return str(offered[-1])
    index = int(match["n"]) if match["n"] else _ORDINAL_WORDS[match["word"].lower()]
    return str(offered[index - 1]) if 1 <= index <= len(offered) else None


# --- the action that runs after every form -------------------------------------------------


def last_form_name(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events or []):
        if event.get("event") == "active_loop" and event.get("name"):
            return str(event["name"])
    return None


def db_session() -> Any:
    """A database session for one action (a session per action, never a long-lived one)."""
    return session_scope(get_settings().database_url)


def read_db_session() -> Any:
    return session_scope(get_settings().database_url, read_only=True)


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


class CitizenDetailsMixin:
    """Name and one contact (phone or e-mail): what the booking and sign-up forms collect."""

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
        if tracker.get_slot(OUTCOME_SLOT) == "human":
            events.append(SlotSet("topic", "staff"))
        elif form in FORM_TOPICS:
            events.append(SlotSet("topic", FORM_TOPICS[form]))
        return events


# --- questions asked by several forms ------------------------------------------------------

ASK_NAME = "Hvad er dit navn? (Kun for- og efternavn – jeg skal ikke bruge dit CPR-nummer.)"
ASK_CONTACT = "Hvilket telefonnummer (8 cifre) eller hvilken e-mail kan vi kontakte dig på?"
ASK_LOOKUP_CONTACT = (
    "Hvilket telefonnummer eller hvilken e-mail brugte du, da du bookede eller tilmeldte dig?"
)
ASK_REFERENCE = {
    "cancel_booking_form": "Hvad er dit bookingnummer? Det ser sådan ud: ABC-234.",
    "move_booking_form": "Hvad er bookingnummeret på den tid, du vil flytte? Fx ABC-234.",
    "cancel_enrolment_form": "Hvad er dit tilmeldingsnummer? Det ser sådan ud: ABC-234.",
}


class _AskText(Action, ABC):
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


class ActionAskCitizenName(_AskText):
    slot = "citizen_name"

    def question(self, tracker: Tracker) -> str:
        return ASK_NAME


class ActionAskCitizenContact(_AskText):
    slot = "citizen_contact"

    def question(self, tracker: Tracker) -> str:
        return ASK_CONTACT


class ActionAskLookupContact(_AskText):
    slot = "lookup_contact"

    def question(self, tracker: Tracker) -> str:
        return ASK_LOOKUP_CONTACT


class ActionAskLookupReference(_AskText):
    slot = "lookup_reference"

    def question(self, tracker: Tracker) -> str:
        form = (tracker.active_loop or {}).get("name") or ""
        return ASK_REFERENCE.get(form, ASK_REFERENCE["cancel_booking_form"])
