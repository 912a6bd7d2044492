"""IT help ("Digital hjælp") in the chat: book, cancel, move and list bookings.

Thin over bot/services/booking.py: every action opens its own database session with
``config.session()`` (actions/__init__.py); nothing is written before the citizen has
confirmed, and the service's savepoints make every write all-or-nothing.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select

from actions import config
from actions.forms.base import (
    ATTEMPTS_SLOT,
    STOP_BUTTON,
    ReaskingFormValidationAction,
    button,
    db_session,
    read_db_session,
)
from actions.forms.confirm import ask_to_confirm, confirm_then_write, contact_label
from actions.forms.details import CitizenDetailsMixin
from actions.forms.lookup import LookupForm, count_failure, lookup_locked
from actions.forms.readers import (
    FINISH,
    PROBLEM,
    contact_answer,
    is_deny,
    is_payload,
    latest_intent,
    latest_text,
    payload_value,
    pick_offered,
)
from bot.db.models import (
    BOOKING_BOOKED,
    ENROLMENT_WAITLISTED,
    HELP_TOPICS,
    Booking,
    HelpSlot,
    local_now,
)
from bot.language.datetime_da import WhenQuery, format_date, format_slot, parse_when
from bot.services.booking import (
    AlreadyCancelledError,
    BookingError,
    BookingInPastError,
    BookingNotFoundError,
    SameSlotError,
    SlotInPastError,
    SlotNotFoundError,
    SlotTakenError,
    TooManyBookingsError,
    book_slot,
    bookings_for_contact,
    cancel_booking,
    free_slots,
    move_booking,
)
from bot.services.courses import enrolments_for_contact, waitlist_position
from bot.services.library import find_branch
from bot.services.lookups import (
    CODE_MINUTES,
    check_code,
    issue_code,
    lock_keys,
    looks_like_code,
    pending_codes,
)
from bot.services.notify import Appointment, Notifier

OFFERED_SLOTS = 5
NOT_OFFERED = "Vælg en af de tider, jeg har vist dig, eller skriv en dag eller et tidspunkt."
CONFIRMATION_SENT = " Du får også en bekræftelse med tiden som kalenderfil."

_TOPIC_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (topic, re.compile(pattern, re.IGNORECASE))
    for topic, pattern in (
        ("mitid", r"mit\s?-?id|nem\s?-?id|kodeviser|kodeapp"),
        ("digital_post", r"digital\w*\s?post|e-?boks|mit\.dk"),
        ("borger_dk", r"borger\s?\.?\s?dk|selvbetjening|\bskat|pension|ansøg|ansoeg|blanket"),
        ("tablet_phone", r"ipad|tablet|telefon(?!nummer)|mobil(?!nummer)|smartphone|iphone"
                         r"|android|\bapps?\b"),
        ("andet", r"\bandet\b|computer|\bpc\b|printer|\be-?mail\b|facebook|\bnoget\s+helt\s+andet"),
    )
)  # fmt: skip
_CHANGE = re.compile(
    r"\b(?:ret|rette|ændre|ændr|skift|skifte|hellere|alligevel|anden|andet|andre|ny|nyt)\b",
    re.IGNORECASE,
)
_TIME_WORDS = re.compile(r"\b(?:dag|tid|tiden|tidspunkt|dato|dagen|klokkeslæt|uge)\b", re.I)
_OTHER_DAY = re.compile(r"\b(?:anden|en\s+ny|ny)\s+dag\b", re.IGNORECASE)
_BRANCH_WORDS = re.compile(r"\b(?:afdeling|bibliotek|sted|stedet)\b", re.IGNORECASE)
_NAME_WORDS = re.compile(r"\bnavn", re.IGNORECASE)
_CONTACT_WORDS = re.compile(r"telefon|nummer|mail|kontakt", re.IGNORECASE)
_TOPIC_CHANGE = re.compile(r"\b(?:emne|emnet|hjælp\s+til|handler\s+om)\b", re.IGNORECASE)


def branch_name(branch_id: str | None) -> str:
    branch = config.library.branch(branch_id or "") if branch_id else None
    return branch.name if branch else str(branch_id or "")


def branch_buttons(exclude: str | None = None) -> list[dict[str, str]]:
    return [
        button(branch.name, "inform", branch=branch.id)
        for branch in config.library.branches
        if branch.id != exclude
    ]


def topic_from_text(text: str) -> str | None:
    value = payload_value(text, "help_topic")
    if value in HELP_TOPICS:
        return value
    if is_payload(text):
        return None
    for topic, pattern in _TOPIC_WORDS:
        if pattern.search(text):
            return topic
    return None


def describe_when(query: WhenQuery) -> str:
    """Danish description of what the citizen asked for: "torsdag d. 26. november kl. 14.00"."""
    parts = []
    if query.date_from and query.date_from == query.date_to:
        parts.append(format_date(query.date_from))
    elif query.date_from and query.date_to:
        parts.append(f"mellem {format_date(query.date_from)} og {format_date(query.date_to)}")
    elif query.date_from:
        parts.append(f"fra {format_date(query.date_from)}")
    elif query.date_to:
        parts.append(f"til og med {format_date(query.date_to)}")
    if query.exact_time:
        parts.append(f"kl. {query.exact_time:%H.%M}")
    elif query.time_from and query.time_to:
        parts.append(f"mellem kl. {query.time_from:%H.%M} og {query.time_to:%H.%M}")
    elif query.time_from:
        parts.append(f"fra kl. {query.time_from:%H.%M}")
    elif query.time_to:
        parts.append(f"før kl. {query.time_to:%H.%M}")
    return " ".join(parts) or "det tidspunkt, du skrev"


def _skip_day(tracker: Tracker) -> date | None:
    raw = tracker.get_slot("not_day")
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def offer_slots(
    session: Any,
    branch_id: str | None,
    query: WhenQuery | None,
    skip_day: date | None,
    after: datetime | None = None,
) -> list[HelpSlot]:
    found = free_slots(session, branch_id, after=after, limit=OFFERED_SLOTS + 40, query=query)
    return [s for s in found if s.starts_at.date() != skip_day][:OFFERED_SLOTS]


def slot_button(slot: HelpSlot, with_branch: bool = False) -> dict[str, str]:
    title = format_slot(slot.starts_at)
    if with_branch:
        title += f" ({branch_name(slot.branch_id)})"
    return button(title, "inform", help_slot=slot.id)


def check_slot(slot_id: str, branch_id: str | None) -> dict[str, Any]:
    """The slot the citizen picked, if it can still be booked; else the reason."""
    try:
        pk = int(slot_id)
    except ValueError:
        return {PROBLEM: SlotNotFoundError.default_message}
    with read_db_session() as session:
        slot = session.get(HelpSlot, pk)
        if slot is None:
            return {PROBLEM: SlotNotFoundError.default_message}
        if slot.starts_at <= local_now():
            return {PROBLEM: SlotInPastError.default_message}
        taken = select(Booking.id).where(Booking.slot_id == pk, Booking.status == BOOKING_BOOKED)
        if session.scalar(taken.limit(1)) is not None:
            return {PROBLEM: SlotTakenError.default_message}
        values: dict[str, Any] = {"help_slot": str(pk)}
        if branch_id is not None and slot.branch_id != branch_id:
            values["branch"] = slot.branch_id
        return values


class HelpSlotMixin:
    """Reading the wanted time, shared by the booking and the move form."""

    def extract_help_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        requested = tracker.get_slot("requested_slot")
        now = local_now()
        if requested != "help_slot":
            # A day or time said before the slot question narrows the slots offered later.
            early = requested in (None, "branch", "help_topic")
            if early and not is_payload(text) and parse_when(text, now) is not None:
                return {"when_text": text}
            return {}
        offered = tracker.get_slot("offered")
        chosen = payload_value(text, "help_slot") or pick_offered(text, offered)
        if chosen is not None:
            # Only a slot this chat was shown: a hand-made button payload cannot pick any
            # slot in the calendar (or the ones held back by the date the citizen asked for).
            if not isinstance(offered, list) or chosen not in {str(o) for o in offered}:
                return {PROBLEM: NOT_OFFERED}
            return check_slot(chosen, tracker.get_slot("branch"))
        query = parse_when(text, now) if not is_payload(text) else None
        if query is None:
            branch = find_branch(text, config.library) if not is_payload(text) else None
            chosen_branch = payload_value(text, "branch")
            if chosen_branch and config.library.branch(chosen_branch):
                return {"branch": chosen_branch, "when_text": None}
            if branch is not None:
                return {"branch": branch.id}
            return {}
        earlier = tracker.get_slot("when_text")
        if query.date_from is None and query.date_to is None and earlier:
            # "kl. 10.30" after the Thursday slots were shown means Thursday at 10.30.
            combined = parse_when(f"{earlier} {text}", now)
            if combined is not None and combined.date_from is not None:
                query, text = combined, f"{earlier} {text}"
        if query.exact_time and query.date_from and query.date_from == query.date_to:
            with read_db_session() as session:
                found = offer_slots(session, tracker.get_slot("branch"), query, None)
            if found:
                return {"help_slot": str(found[0].id), "when_text": text}
        return {"when_text": text, "not_day": None}


class ValidateBookingForm(HelpSlotMixin, CitizenDetailsMixin, ReaskingFormValidationAction):
    opportunistic_slots = ("branch", "help_topic", "help_slot", "citizen_contact")
    start_button = {"title": "Book en tid", "payload": "/book_it_help"}
    hints = {
        "branch": "Vælg en af afdelingerne.",
        "help_topic": "Vælg, hvad du vil have hjælp til.",
        "help_slot": "Vælg en af tiderne, eller skriv en dag eller et tidspunkt, fx "
        "'på fredag' eller 'kl. 14'.",
    }

    def name(self) -> str:
        return "validate_booking_form"

    def extract_branch(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        chosen = payload_value(text, "branch")
        if chosen and config.library.branch(chosen):
            return {"branch": chosen}
        branch = find_branch(text, config.library) if not is_payload(text) else None
        if branch is not None:
            return {"branch": branch.id}
        if tracker.get_slot("requested_slot") == "branch" and not is_payload(text):
            return {PROBLEM: "Den afdeling kender jeg ikke. Vælg en af bibliotekets afdelinger."}
        return {}

    def extract_help_topic(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        topic = topic_from_text(text)
        if topic:
            return {"help_topic": topic}
        requested = tracker.get_slot("requested_slot")
        free_text = requested == "help_topic" and not is_payload(text) and "?" not in text
        # A description of something else ("min printer driller") is help with "andet".
        if free_text and len(re.findall(r"[^\W\d_]{2,}", text)) >= 2:
            return {"help_topic": "andet"}
        return {}

    def extract_booking_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return confirm_then_write(
            tracker,
            "booking_confirmed",
            "Svar venligst ja eller nej: skal jeg booke tiden?",
            write=lambda: self._book(dispatcher, tracker),
        )

    @staticmethod
    def _book(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        settings = config.settings
        try:
            with db_session() as session:
                booking = book_slot(
                    session,
                    int(tracker.get_slot("help_slot")),
                    tracker.get_slot("citizen_name") or "",
                    tracker.get_slot("citizen_contact") or "",
                    tracker.get_slot("help_topic") or "andet",
                    max_active=settings.max_bookings_per_contact,
                )
                reference, starts = booking.reference, booking.slot.starts_at
                where = branch_name(booking.slot.branch_id)
                appointment = Appointment.of(booking, config.library)
        except (SlotTakenError, SlotInPastError, SlotNotFoundError) as exc:
            dispatcher.utter_message(text=f"{exc.message} Her er de næste ledige tider.")
            return {"help_slot": None, "booking_confirmed": None}
        except TooManyBookingsError as exc:
            dispatcher.utter_message(text=exc.message)
            return {FINISH: "failed"}
        except (BookingError, ValueError, TypeError) as exc:
            return {PROBLEM: getattr(exc, "message", BookingError.default_message)}
        # After the commit: a slow or failing mail server never undoes a booking.
        notifier = Notifier(settings)
        sent = notifier.can_reach(appointment.contact_kind) and notifier.booking_confirmation(
            appointment
        )
        dispatcher.utter_message(
            text=(
                f"Din tid er booket: {format_slot(starts)} på {where}. "
                f"Dit bookingnummer er {reference}. Skriv det ned – du skal bruge det, hvis du "
                "vil aflyse eller flytte tiden. Husk at tage din telefon eller tablet og dine "
                "koder med." + (CONFIRMATION_SENT if sent else "")
            ),
            buttons=[
                {"title": "Aflys tiden", "payload": "/cancel_booking"},
                {"title": "Flyt tiden", "payload": "/move_booking"},
            ],
        )
        return {FINISH: "done"}

    def corrections(
        self, text: str, intent: str, tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> dict[str, Any] | None:
        if is_payload(text) or pick_offered(text, tracker.get_slot("offered")):
            return None  # "den anden tid" picks the second slot offered
        if not (is_deny(text, intent) or _CHANGE.search(text)):
            return None
        changes: dict[str, Any] = {}
        requested = tracker.get_slot("requested_slot")
        now = local_now()
        query = parse_when(text, now)
        chosen = tracker.get_slot("help_slot")
        if (chosen or requested == "help_slot") and (_TIME_WORDS.search(text) or query):
            changes.update(help_slot=None, booking_confirmed=None)
            changes["when_text"] = text if query else None
            changes["not_day"] = None
            if _OTHER_DAY.search(text):
                changes["not_day"] = self._day_to_skip(tracker, chosen)
        named = find_branch(text, config.library)
        branch = tracker.get_slot("branch")
        if named is not None and named.id != branch:
            changes.update(branch=named.id, help_slot=None, booking_confirmed=None)
        elif branch and _BRANCH_WORDS.search(text) and requested != "branch":
            changes.update(branch=None, help_slot=None, booking_confirmed=None)
        if tracker.get_slot("citizen_name") and _NAME_WORDS.search(text):
            changes.update(citizen_name=None, booking_confirmed=None)
        if tracker.get_slot("citizen_contact") and _CONTACT_WORDS.search(text):
            changes.update(citizen_contact=None, booking_confirmed=None)
        if tracker.get_slot("help_topic") and _TOPIC_CHANGE.search(text):
            changes.update(help_topic=None, booking_confirmed=None)
        if not changes:
            return None
        dispatcher.utter_message(text="Selvfølgelig, det retter vi.")
        return changes

    @staticmethod
    def _day_to_skip(tracker: Tracker, chosen: str | None) -> str | None:
        with read_db_session() as session:
            if chosen:
                slot = session.get(HelpSlot, int(chosen))
                return slot.starts_at.date().isoformat() if slot else None
            when = tracker.get_slot("when_text")
            query = parse_when(when, local_now()) if when else None
            offered = offer_slots(session, tracker.get_slot("branch"), query, None)
            return offered[0].starts_at.date().isoformat() if offered else None


# --- questions ------------------------------------------------------------------------------


class ActionAskBranch(Action):
    def name(self) -> str:
        return "action_ask_branch"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text="Hvilken afdeling vil du helst komme på?", buttons=branch_buttons()
        )
        return []


class ActionAskHelpTopic(Action):
    def name(self) -> str:
        return "action_ask_help_topic"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text="Hvad skal du have hjælp til?",
            buttons=[button(label, "inform", help_topic=key) for key, label in HELP_TOPICS.items()],
        )
        return []


class ActionAskHelpSlot(Action):
    """Offers the next free slots, narrowed to the day/time the citizen asked for."""

    def name(self) -> str:
        return "action_ask_help_slot"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        branch_id = tracker.get_slot("branch")
        when = tracker.get_slot("when_text")
        now = local_now()
        query = parse_when(when, now) if when else None
        skip = _skip_day(tracker)
        where = f" på {branch_name(branch_id)}" if branch_id else ""
        with read_db_session() as session:
            found = offer_slots(session, branch_id, query, skip)
            if query is not None and not found:
                start = query.date_from
                after = datetime.combine(start, datetime.min.time()) if start else None
                after = max(after, now) if after else None
                nearest = offer_slots(session, branch_id, None, skip, after=after)
                if not nearest:
                    nearest = offer_slots(session, branch_id, None, skip)
                text = (
                    f"Der er desværre ingen ledige tider{where} {describe_when(query)}. "
                    "Her er de nærmeste ledige tider:"
                )
                found = nearest
            elif query is not None:
                text = f"Her er de ledige tider{where} {describe_when(query)}:"
            else:
                text = f"Her er de næste ledige tider{where}:"
            buttons = [slot_button(slot) for slot in found]
        if not found:
            dispatcher.utter_message(
                text=(
                    f"Der er desværre ingen ledige tider{where} de næste par uger. Vælg en "
                    "anden afdeling, eller ring til biblioteket."
                ),
                buttons=[*branch_buttons(exclude=branch_id), STOP_BUTTON],
            )
            return [SlotSet("offered", None)]
        dispatcher.utter_message(
            text=f"{text}\nDu kan også skrive en anden dag eller et tidspunkt, fx 'på fredag'.",
            buttons=buttons,
        )
        return [SlotSet("offered", [slot.id for slot in found])]


def _slot_summary(slot_id: Any) -> tuple[str, str]:
    with read_db_session() as session:
        slot = session.get(HelpSlot, int(slot_id))
        if slot is None:
            return "(ukendt tid)", ""
        return format_slot(slot.starts_at), branch_name(slot.branch_id)


CHANGE_BUTTONS = [
    {"title": "Tidspunkt", "payload": "ret tidspunkt"},
    {"title": "Afdeling", "payload": "ret afdeling"},
    {"title": "Emne", "payload": "ret emne"},
    {"title": "Navn", "payload": "ret navn"},
    {"title": "Telefon eller e-mail", "payload": "ret telefon eller e-mail"},
]


class ActionAskBookingConfirmed(Action):
    """The summary before anything is written, or what to change after a "nej"."""

    def name(self) -> str:
        return "action_ask_booking_confirmed"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if is_deny(latest_text(tracker), latest_intent(tracker)):
            dispatcher.utter_message(
                text="Hvad vil du gerne rette?",
                buttons=[*CHANGE_BUTTONS, {"title": "Ja, book tiden", "payload": "/affirm"}],
            )
            return []
        when, where = _slot_summary(tracker.get_slot("help_slot"))
        topic = HELP_TOPICS.get(tracker.get_slot("help_topic") or "andet", "Andet")
        facts = {
            "Tid": when,
            "Sted": where,
            "Hjælp til": topic,
            "Navn": tracker.get_slot("citizen_name") or "",
            "Kontakt": contact_label(tracker.get_slot("citizen_contact")),
        }
        ask_to_confirm(dispatcher, facts, "Skal jeg booke tiden?", yes="Ja, book tiden")
        return []


# --- cancel, move, list ---------------------------------------------------------------------


class ValidateCancelBookingForm(LookupForm):
    def name(self) -> str:
        return "validate_cancel_booking_form"

    def with_both(
        self, reference: str, contact: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        try:
            with db_session() as session:
                booking = cancel_booking(session, reference, contact)
                when, where = (
                    format_slot(booking.slot.starts_at),
                    branch_name(booking.slot.branch_id),
                )
        except BookingNotFoundError as exc:
            return self.not_found(exc.message, contact, dispatcher, tracker)
        except (AlreadyCancelledError, BookingInPastError) as exc:
            dispatcher.utter_message(text=exc.message)
            return {FINISH: "failed"}
        dispatcher.utter_message(
            text=(
                f"Din booking {reference} {when} på {where} er nu aflyst, og tiden er ledig "
                "for andre igen. Du er velkommen til at booke en ny tid."
            ),
            buttons=[{"title": "Book en ny tid", "payload": "/book_it_help"}],
        )
        return {FINISH: "done"}


class ValidateMoveBookingForm(HelpSlotMixin, LookupForm):
    opportunistic_slots = ("lookup_reference",)
    hints = ValidateBookingForm.hints

    def name(self) -> str:
        return "validate_move_booking_form"

    def with_both(
        self, reference: str, contact: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        with read_db_session() as session:
            try:
                mine = bookings_for_contact(session, contact)
            except BookingError as exc:
                return {PROBLEM: exc.message, "lookup_contact": None}
            booking = next((b for b in mine if b.reference == reference), None)
            if booking is None:
                return self.not_found(
                    BookingNotFoundError.default_message, contact, dispatcher, tracker
                )
            dispatcher.utter_message(
                text=f"Jeg fandt din tid {format_slot(booking.slot.starts_at)} på "
                f"{branch_name(booking.slot.branch_id)}."
            )
            return {"lookup_contact": contact, "branch": booking.slot.branch_id}

    def extract_move_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        def another_slot() -> dict[str, Any]:
            dispatcher.utter_message(text="Så vælg en anden tid – eller skriv 'stop'.")
            return {"help_slot": None}

        return confirm_then_write(
            tracker,
            "move_confirmed",
            "Svar venligst ja eller nej: skal jeg flytte tiden?",
            write=lambda: self._move(dispatcher, tracker),
            on_deny=another_slot,
        )

    @staticmethod
    def _move(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        try:
            with db_session() as session:
                new = move_booking(
                    session,
                    tracker.get_slot("lookup_reference") or "",
                    tracker.get_slot("lookup_contact") or "",
                    int(tracker.get_slot("help_slot")),
                )
                reference, starts = new.reference, new.slot.starts_at
                where = branch_name(new.slot.branch_id)
        except (SlotTakenError, SlotInPastError, SlotNotFoundError, SameSlotError) as exc:
            dispatcher.utter_message(text=f"{exc.message} Her er de næste ledige tider.")
            return {"help_slot": None, "move_confirmed": None}
        except BookingError as exc:
            dispatcher.utter_message(text=exc.message)
            return {FINISH: "failed"}
        dispatcher.utter_message(
            text=(
                f"Din tid er flyttet til {format_slot(starts)} på {where}. Dit nye "
                f"bookingnummer er {reference} – det gamle gælder ikke længere."
            )
        )
        return {FINISH: "done"}


class ActionAskMoveConfirmed(Action):
    def name(self) -> str:
        return "action_ask_move_confirmed"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        when, where = _slot_summary(tracker.get_slot("help_slot"))
        dispatcher.utter_message(
            text=f"Skal jeg flytte din tid ({tracker.get_slot('lookup_reference')}) til {when} "
            f"på {where}?",
            buttons=[
                {"title": "Ja, flyt tiden", "payload": "/affirm"},
                {"title": "Nej, en anden tid", "payload": "/deny"},
            ],
        )
        return []


NEEDS_REFERENCE = (
    "Af hensyn til dit privatliv viser jeg kun dine aftaler, når jeg kan sende en kode til "
    "dig, og det kan jeg ikke til {what}. Du fik et bookingnummer, da du bookede – med det og "
    "{contact} kan du aflyse eller flytte tiden her i chatten. Du kan også ringe til "
    "biblioteket på {phone}."
)
CODE_SENT = "Jeg har sendt en kode på 6 cifre til {contact}. Den gælder i {minutes} minutter."
CODE_NOT_SENT = (
    "Beklager, koden kunne ikke sendes lige nu. Prøv igen om lidt, eller ring til "
    "biblioteket på {phone}."
)
CODE_WRONG = "Koden passer ikke. Tjek den, og skriv den igen – den har 6 cifre."
LOOKUP_BUTTONS = [
    {"title": "Aflys en tid", "payload": "/cancel_booking"},
    {"title": "Flyt en tid", "payload": "/move_booking"},
    {"title": "Afmeld et kursus", "payload": "/cancel_enrolment"},
]


class ValidateMyBookingsForm(ReaskingFormValidationAction):
    """What have I booked? The contact, then a one-time code sent to it, then the list.

    A phone number or an e-mail alone is no proof of being its owner, so the list is shown
    only to someone who can read a code sent there (e-mail; SMS when a gateway is set up).
    The pending code lives in the database, bound to this chat (bot/services/lookups.py),
    not in a slot: the tracker never holds it, and the form keeps its one slot."""

    def name(self) -> str:
        return "validate_my_bookings_form"

    def extract_lookup_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "lookup_contact":
            return {}
        text = latest_text(tracker)
        with db_session() as session:
            waiting = bool(pending_codes(session, tracker.sender_id))
        if waiting and looks_like_code(text):
            return self._check_code(text, dispatcher, tracker)
        found = contact_answer(text, "lookup_contact")
        contact = found.get("lookup_contact")
        if not contact:
            return {PROBLEM: CODE_WRONG} if waiting and any(c.isdigit() for c in text) else found
        if lookup_locked(dispatcher, lock_keys(tracker.sender_id, contact)):
            return {FINISH: "failed"}
        kind = "email" if "@" in contact else "phone"
        notifier = Notifier(config.settings)
        phone = config.library.phone
        if not notifier.can_reach(kind):
            what = "et telefonnummer" if kind == "phone" else "e-mail lige nu"
            dispatcher.utter_message(
                text=NEEDS_REFERENCE.format(
                    what=what, contact=contact_label(contact), phone=phone
                ),
                buttons=LOOKUP_BUTTONS,
            )
            return {FINISH: "done"}
        with db_session() as session:
            code = issue_code(session, tracker.sender_id, kind, contact)
        if not notifier.access_code(kind, contact, code):
            dispatcher.utter_message(text=CODE_NOT_SENT.format(phone=phone))
            return {FINISH: "failed"}
        dispatcher.utter_message(
            text=CODE_SENT.format(contact=contact_label(contact), minutes=CODE_MINUTES)
        )
        # Nothing to fill yet: the form asks again, and the question is now for the code.
        return {ATTEMPTS_SLOT: 0}

    def _check_code(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        with db_session() as session:
            code = check_code(session, tracker.sender_id, text)
            contact = code.contact if code else None
        if contact is None:
            if count_failure(dispatcher, lock_keys(tracker.sender_id)):
                return {FINISH: "failed"}
            return {PROBLEM: CODE_WRONG}
        self._list(contact, dispatcher)
        return {FINISH: "done"}

    @staticmethod
    def _list(contact: str, dispatcher: CollectingDispatcher) -> None:
        lines = []
        with read_db_session() as session:
            for booking in bookings_for_contact(session, contact):
                lines.append(
                    f"• It-hjælp {format_slot(booking.slot.starts_at)} på "
                    f"{branch_name(booking.slot.branch_id)} (bookingnummer {booking.reference})"
                )
            for enrolment in enrolments_for_contact(session, contact):
                course_session = enrolment.course_session
                state = "tilmeldt"
                if enrolment.status == ENROLMENT_WAITLISTED:
                    state = f"venteliste nr. {waitlist_position(session, enrolment)}"
                lines.append(
                    f"• Kursus: {course_session.course.title} "
                    f"{format_slot(course_session.starts_at)} på "
                    f"{branch_name(course_session.branch_id)} – {state} "
                    f"(tilmeldingsnummer {enrolment.reference})"
                )
        if not lines:
            dispatcher.utter_message(
                text=(
                    "Jeg kan ikke finde nogen kommende tider eller kurser på "
                    f"{contact_label(contact)}."
                ),
                buttons=[
                    {"title": "Book it-hjælp", "payload": "/book_it_help"},
                    {"title": "Se kurser", "payload": "/ask_courses"},
                ],
            )
        else:
            dispatcher.utter_message(
                text="Det har du booket:\n" + "\n".join(lines), buttons=LOOKUP_BUTTONS
            )
