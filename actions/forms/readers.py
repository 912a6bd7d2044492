"""Reading what the citizen wrote: the latest message, button payloads, yes/no/stop, names,
contacts, references and "den første" — pure functions over text and the tracker.

An ``extract_<slot>`` method (actions/forms/base.py) returns the slots it found, or one of two
keys the form loop understands: ``PROBLEM`` (a Danish reason to show before asking again) or
``FINISH`` (end the form now with this outcome).
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Tracker

from bot.language.wishes import PAYLOAD, STOP, STOP_WORD, is_payload
from bot.services.booking import normalize_reference
from bot.services.validation import (
    CONTACT_INVALID,
    EMAIL_CANDIDATE,
    NAME_MISSING,
    PHONE_CANDIDATE,
    contact_problem,
    contacts_in,
    name_problem,
    normalize_name,
)

PROBLEM = "__problem__"
FINISH = "__finish__"

_AFFIRM = re.compile(
    r"^\W*(?:ja|jo|jep|jeps|ok|okay|yes|gerne|korrekt|det\s+er\s+rigtigt|det\s+passer|fint"
    r"|book|tilmeld)\b",
    re.IGNORECASE,
)
_DENY = re.compile(r"^\W*(?:nej|nix|nope|ikke\s+rigtigt|forkert|ret)\b", re.IGNORECASE)


def latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "").strip()


def latest_intent(tracker: Tracker) -> str:
    return str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "")


def payload_value(text: str, key: str) -> str | None:
    """The value of ``key`` in a button payload like ``/inform{"help_slot":"12"}``."""
    match = PAYLOAD.match(text or "")
    if not match or not match["json"]:
        return None
    try:
        data = json.loads(match["json"])
    except ValueError:
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return None if value is None else str(value)


_HUMAN_WORD = re.compile(
    r"medarbejder|menneske|person|personale|bibliotekar|ringe|tale\s+med|snakke\s+med", re.I
)


# The intents that start a form, the form each starts, and the button that starts it.
FORM_WISHES: dict[str, tuple[str, str]] = {
    "book_it_help": ("booking_form", "Book en ny tid"),
    "cancel_booking": ("cancel_booking_form", "Aflys en tid"),
    "move_booking": ("move_booking_form", "Flyt en tid"),
    "my_bookings": ("my_bookings_form", "Se mine aftaler"),
    "sign_up_course": ("course_signup_form", "Tilmeld dig et kursus"),
    "cancel_enrolment": ("cancel_enrolment_form", "Afmeld et kursus"),
}
# Said together with a stop word ("glem det, jeg vil hellere booke en ny"), these name the wish.
_WISH_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("book_it_help", re.compile(r"\bbook\w*|\bny\s+tid\b|\bbestil\w*", re.IGNORECASE)),
    ("move_booking", re.compile(r"\bflyt\w*|\bryk\w*|\bændr\w*", re.IGNORECASE)),
    ("sign_up_course", re.compile(r"\btilmeld\w*", re.IGNORECASE)),
)
WISH_CONFIDENCE = 0.7

def other_wish(text: str, intent: str, confidence: float, form: str) -> str | None:
    """The intent of another form the citizen now wants instead of this one, if any.

    A plain stop ("annuller", "glem det") names no other wish: it just stops."""
    if STOP.match(text or ""):
        return None
    wish = FORM_WISHES.get(intent)
    if wish and wish[0] != form and confidence >= WISH_CONFIDENCE and not is_payload(text):
        return intent
    if STOP_WORD.search(text or ""):
        for candidate, pattern in _WISH_WORDS:
            if pattern.search(text) and FORM_WISHES[candidate][0] != form:
                return candidate
    return None


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


def confidence(tracker: Tracker) -> float:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return float(intent.get("confidence") or 0.0)


_NAME_PREFIX = re.compile(
    r"^\s*(?:(?:ja,?\s+)?(?:jeg\s+hedder|mit\s+navn\s+er|navnet\s+er|navn\s*:|det\s+er))\s+",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    {"ja", "nej", "ok", "okay", "hej", "tak", "jo", "hvad", "hvorfor", "hvem", "nix", "godt",
     "fint", "måske", "ved ikke", "ja tak", "nej tak", "hallo"}
)  # fmt: skip
# A lookahead, so candidates may overlap: in "flyt tid KTR-7PQ" the word pair "tid KTR" must
# not swallow the "KTR" of the real reference.
_REFERENCE = re.compile(
    r"(?<![A-Za-z0-9])(?=([A-Za-z0-9]{3}[ \-_.]?[A-Za-z0-9]{3})(?![A-Za-z0-9]))"
)
MAX_NAME_WORDS = 6


def find_contact(text: str) -> str | None:
    """The first valid e-mail or Danish phone number in the text, normalised."""
    found = contacts_in(text)
    return found[0][1] if found else None


def contact_answer(text: str, slot: str) -> dict[str, Any]:
    found = find_contact(text)
    if found:
        return {slot: found}
    return {PROBLEM: contact_problem(text) or CONTACT_INVALID}


def _without_contact(text: str) -> str:
    text = EMAIL_CANDIDATE.sub(" ", text)
    return PHONE_CANDIDATE.sub(" ", text)


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
        raw = match.group(1)
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
# "2", "nr. 2", "den anden", "den sidste": a place in the last offer. "den 3." is not one:
# that is how Danes write a day of the month (bot/language/datetime_da.py reads it).
_ORDINAL = re.compile(
    r"^\W*(?:ja,?\s+)?(?:tak,?\s+)?"
    r"(?:(?:(?:nr\.?|nummer|tid|hold)\s*)?(?P<n>[1-9])\.?"
    r"|(?:(?:den|det)\s+)?(?:(?P<word>første|forste|anden|andet|tredje|fjerde|femte|sjette"
    r"|syvende|ottende)|(?P<last>sidste)))"
    r"(?:\s+(?:tid|tidspunkt|hold|kursus|tak|den|det))*\W*$",
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


def previous_reply(tracker: Tracker) -> dict[str, Any]:
    """What the knowledge reply to the previous message said of itself (kind, topic, article,
    choices: actions/replies.py), or {} when it was no knowledge reply."""
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users > 1:
                return {}
        elif event.get("event") == "bot" and users == 1:
            custom = (event.get("data") or {}).get("custom") or {}
            if isinstance(custom, dict) and isinstance(custom.get("borger"), dict):
                return custom["borger"]
    return {}


def previous_reply_kind(tracker: Tracker) -> str | None:
    """The ``kind`` of the knowledge reply to the previous message, if it was one."""
    return previous_reply(tracker).get("kind")


def offered_choices(tracker: Tracker) -> tuple[str, ...]:
    """The articles a "Mener du …?" in reply to the previous message offered."""
    reply = previous_reply(tracker)
    choices = reply.get("choices") if reply.get("kind") == "clarify" else None
    return tuple(c for c in choices if isinstance(c, str)) if isinstance(choices, list) else ()
