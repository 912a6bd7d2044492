"""Handing a conversation to library staff: the queue, taking a chat, replies, handing it back,
closing with an outcome, callback tickets, kiosk calls, queue timeouts and the audit trail.

Everything is in the database (bot.db.models: HandoffTicket, HandoffNote, AuditEvent and the
conversation's ``state``), one transaction per call, so any gateway instance, the action server
and a restarted gateway all see the same queue. Every message a state change produces (the
"you are number 2 in the queue" line, a staff reply) is stored in the transcript inside the
same transaction; the caller publishes the returned :class:`Change` only after the commit.

Times: audit stamps are naive UTC (``utc_now``); ``respond_by`` is naive local time, like the
library's opening hours it is computed from.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import (
    TICKET_CANCELLED,
    TICKET_CLOSED,
    TICKET_OPEN,
    TICKET_PENDING_DETAILS,
    TICKET_QUEUED,
    TICKET_RETURNED,
    TICKET_WITH_STAFF,
    Conversation,
    HandoffNote,
    HandoffTicket,
    StaffUser,
    local_now,
    utc_now,
)
from bot.db.session import session_scope
from bot.db.transcripts import add_message, get_or_create_conversation, transcript
from bot.language.privacy import redact_cpr
from bot.services.library import (
    DANISH_MONTHS,
    DANISH_WEEKDAYS,
    Library,
    is_staffed_open,
    load_library,
    next_staffed_opening,
)
from bot.services.staff_auth import record_audit, staff_online
from bot.services.transcripts import iso_utc, message_to_dict, staff_message_dict

T = TypeVar("T")

TIMEOUT_ENV = "BORGER_HANDOFF_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT_SECONDS = 300
# Used for the waiting-time estimate until there is some history to average.
DEFAULT_WAIT_MINUTES = 2
_WAIT_HISTORY = 20
MAX_REPLY_CHARS = 2000
MAX_NOTE_CHARS = 2000
MAX_DESCRIPTION_CHARS = 1000
CLOSED_CALLBACKS_SHOWN_DAYS = 14

# The citizen-facing states of the Chat API's `handoff` object.
CITIZEN_STATES = ("queued", "with_staff", "callback", "closed", "returned_to_bot")

REASONS: dict[str, str] = {
    "requested": "Bad om en medarbejder",
    "frustrated": "Utilfreds med assistenten",
    "fallback": "Assistenten forstod ikke spørgsmålet",
    "complaint": "Klage eller personlig sag",
    "callback": "Bad om at blive kontaktet",
    "kiosk": "Kald fra kiosk",
}
OUTCOMES: dict[str, str] = {
    "resolved": "Løst",
    "referred": "Henvist videre",
    "callback_agreed": "Aftalt at kontakte borgeren",
    "no_response": "Borgeren svarede ikke",
    "other": "Andet",
}
KIND_LABELS = {"live": "Chat", "callback": "Kontakt borgeren", "kiosk": "Kiosk"}
STATUS_LABELS = {
    TICKET_QUEUED: "Venter",
    TICKET_WITH_STAFF: "I gang",
    TICKET_PENDING_DETAILS: "Mangler kontaktoplysninger",
    TICKET_OPEN: "Åben",
    TICKET_RETURNED: "Givet tilbage til assistenten",
    TICKET_CLOSED: "Afsluttet",
    TICKET_CANCELLED: "Borgeren forlod køen",
}
TOPIC_LABELS = {
    "mitid": "MitID",
    "nemid": "NemID",
    "digital_post": "Digital Post",
    "flytning": "Flytning",
    "koerekort": "Kørekort",
    "skole": "Skole",
    "dagtilbud": "Dagtilbud",
    "it_help": "it-hjælp",
    "courses": "Kurser",
    "opening_hours": "Åbningstider",
    "staff": "Medarbejder",
    "smalltalk": "Småsnak",
    "out_of_scope": "Andet",
}

# What the citizen is told, in the transcript, at each step.
CANCEL_PAYLOAD = "/cancel_handoff"
CANCEL_BUTTON = {"title": "Forlad køen", "payload": CANCEL_PAYLOAD}
QUEUE_TEXT = (
    "Du er nummer {position} i køen. Forventet ventetid: ca. {minutes} min. "
    "Skriv gerne dit spørgsmål imens – medarbejderen kan se hele samtalen."
)
TAKEN_TEXT = "{name} fra biblioteket har overtaget samtalen og svarer dig her."
RETURNED_TEXT = (
    "{name} har givet samtalen tilbage til den digitale assistent. "
    "Du kan stille et nyt spørgsmål, når du vil."
)
CLOSED_TEXT = (
    "{name} har afsluttet samtalen. Tak for din henvendelse – "
    "du er altid velkommen til at skrive igen."
)
CANCELLED_TEXT = (
    "Du har forladt køen. Du kan fortsætte med at skrive med den digitale assistent."
)
TIMEOUT_TEXT = (
    "Der var desværre ingen ledig medarbejder inden for {minutes} min. "
    "I stedet kan en medarbejder kontakte dig {promise}."
)
KIOSK_CALLED = (
    "En medarbejder har fået besked og kommer hen til dig så hurtigt som muligt. "
    "Bliv gerne ved skærmen."
)
KIOSK_ALREADY_CALLED = (
    "En medarbejder har allerede fået besked og kommer hen til dig så hurtigt som muligt."
)
# What the kiosk screen says when staff take its call, and when the call is closed before
# anyone came (tagged ``kiosk`` in the transcript: the kiosk shows them by its call button).
KIOSK_COMING = "En medarbejder er på vej: {first_name} kommer hen til dig ved skærmen."
KIOSK_CLOSED_UNANSWERED = (
    "Dit kald er lukket, uden at en medarbejder nåede hen til dig. Gå hen til skranken, "
    "eller tryk på »Kald en medarbejder« igen."
)
KIOSK_NO_STAFF = (
    "Der er ingen medarbejdere på {branch} lige nu. Personalet er her igen {when}. "
    "Du kan også ringe til biblioteket på {phone}."
)


class HandoffError(Exception):
    """A staff action that cannot be done; ``message`` is Danish and safe to show."""

    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass
class Change:
    """The result of a state change, to publish after the commit (in this order)."""

    ticket: dict[str, Any]
    conversation_id: str | None
    messages: list[dict[str, Any]] = field(default_factory=list)  # transcript messages
    handoff: dict[str, Any] | None = None  # the citizen's new `handoff` object, if it changed
    new_ticket: bool = False  # a new request: staff consoles ring


def timeout_seconds() -> int:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{TIMEOUT_ENV} must be a whole number of seconds, got {raw!r}") from exc
    return max(value, 1)


# --- when the library answers ----------------------------------------------------------


def _clock(moment: time) -> str:
    return f"{moment.hour}" if moment.minute == 0 else f"{moment.hour}.{moment.minute:02d}"


def _day_span(library: Library, day: date) -> tuple[time, time] | None:
    """Earliest staffed opening and latest staffed closing over all branches on a day."""
    if day in library.closed_days:
        return None
    spans = [b.staffed[day.weekday()] for b in library.branches if day.weekday() in b.staffed]
    if not spans:
        return None
    return min(s.opens for s in spans), max(s.closes for s in spans)


def _day_phrase(day: date, today: date) -> str:
    named = f"{DANISH_WEEKDAYS[day.weekday()]} den {day.day}. {DANISH_MONTHS[day.month - 1]}"
    if day == today:
        return "i dag"
    if day == today + timedelta(days=1):
        return f"i morgen, {named},"
    return named


def response_promise(
    now: datetime | None = None, library: Library | None = None
) -> tuple[datetime | None, str]:
    """When staff will answer a callback request: (deadline, Danish phrase).

    Open now: "i dag inden kl. 18". Otherwise the next staffed day, e.g.
    "i morgen, torsdag den 26. november, mellem kl. 10 og 19"."""
    library = library or load_library()
    now = now or local_now()
    if is_staffed_open(now, None, library):
        span = _day_span(library, now.date())
        assert span is not None  # open now implies a staffed span today
        return datetime.combine(now.date(), span[1]), f"i dag inden kl. {_clock(span[1])}"
    opening = next_staffed_opening(now, None, library)
    if opening is None:
        return None, "så hurtigt som muligt"
    span = _day_span(library, opening.date())
    closes = span[1] if span else time(23, 59)
    phrase = _day_phrase(opening.date(), now.date())
    return (
        datetime.combine(opening.date(), closes),
        f"{phrase} mellem kl. {_clock(opening.time())} og {_clock(closes)}",
    )


# --- the service ------------------------------------------------------------------------


class HandoffService:
    def __init__(self, database_url: str | None = None) -> None:
        self.url = database_url

    # -- availability --

    def library_open(self, now: datetime | None = None) -> bool:
        return is_staffed_open(now or local_now())

    def staff_online(self) -> bool:
        return staff_online(self.url)

    def live_available(self) -> bool:
        """Staff are signed in and the library is staffed: a chat can go to the queue."""
        return self.library_open() and self.staff_online()

    # -- helpers --

    def _transaction(self, work: Callable[[Session], T], attempts: int = 3) -> T:
        # A unique index may refuse one of two racing writers (transcript order is already
        # safe: add_message locks the conversation row); a fresh transaction usually succeeds.
        for attempt in range(attempts):
            try:
                with session_scope(self.url) as session:
                    return work(session)
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _position(session: Session, ticket: HandoffTicket) -> int:
        ahead = session.execute(
            select(func.count()).where(
                HandoffTicket.kind == "live",
                HandoffTicket.status == TICKET_QUEUED,
                (HandoffTicket.created_at < ticket.created_at)
                | (
                    (HandoffTicket.created_at == ticket.created_at)
                    & (HandoffTicket.id < ticket.id)
                ),
            )
        ).scalar_one()
        return ahead + 1

    @staticmethod
    def _average_wait_minutes(session: Session) -> float:
        rows = session.execute(
            select(HandoffTicket.created_at, HandoffTicket.taken_at)
            .where(HandoffTicket.kind == "live", HandoffTicket.taken_at.is_not(None))
            .order_by(HandoffTicket.taken_at.desc())
            .limit(_WAIT_HISTORY)
        ).all()
        if not rows:
            return DEFAULT_WAIT_MINUTES
        seconds = sum((taken - created).total_seconds() for created, taken in rows) / len(rows)
        return max(seconds / 60, 0.5)

    def _citizen_object(self, session: Session, ticket: HandoffTicket) -> dict[str, Any]:
        """The Chat API's `handoff` object for this ticket."""
        position = minutes = None
        if ticket.kind == "callback":
            state = "closed" if ticket.status == TICKET_CLOSED else "callback"
        elif ticket.status == TICKET_QUEUED:
            state = "queued"
            position = self._position(session, ticket)
            minutes = max(1, math.ceil(position * self._average_wait_minutes(session)))
        elif ticket.status == TICKET_WITH_STAFF:
            state = "with_staff"
        elif ticket.status == TICKET_CLOSED:
            state = "closed"
        else:  # returned_to_bot, cancelled
            state = "returned_to_bot"
        return {
            "state": state,
            "ticket_id": ticket.id,
            "position": position,
            "estimated_wait_minutes": minutes,
            "staff_name": ticket.staff.name if ticket.staff and state == "with_staff" else None,
        }

    def _ticket_dict(
        self, session: Session, ticket: HandoffTicket, library: Library | None = None
    ) -> dict[str, Any]:
        library = library or load_library()
        branch = library.branch(ticket.branch_id) if ticket.branch_id else None
        conversation = (
            session.get(Conversation, ticket.conversation_id) if ticket.conversation_id else None
        )
        return {
            "id": ticket.id,
            "kind": ticket.kind,
            "kind_label": KIND_LABELS.get(ticket.kind, ticket.kind),
            "status": ticket.status,
            "status_label": STATUS_LABELS.get(ticket.status, ticket.status),
            "conversation_id": ticket.conversation_id,
            "channel": conversation.channel if conversation else None,
            "branch_id": ticket.branch_id,
            "branch_name": branch.name if branch else None,
            "topic": ticket.topic,
            "topic_label": TOPIC_LABELS.get(ticket.topic or "", ticket.topic),
            "reason": ticket.reason,
            "reason_label": REASONS.get(ticket.reason, ticket.reason),
            "name": ticket.name,
            "contact_kind": ticket.contact_kind,
            "contact": ticket.contact,
            "description": ticket.description,
            "staff_id": ticket.staff_id,
            "staff_name": ticket.staff.name if ticket.staff else None,
            "outcome": ticket.outcome,
            "outcome_label": OUTCOMES.get(ticket.outcome or "", ticket.outcome),
            "created_at": iso_utc(ticket.created_at),
            "taken_at": iso_utc(ticket.taken_at),
            "closed_at": iso_utc(ticket.closed_at),
            "expires_at": iso_utc(ticket.expires_at),
            "respond_by": ticket.respond_by.isoformat() if ticket.respond_by else None,
            "position": (
                self._position(session, ticket)
                if ticket.kind == "live" and ticket.status == TICKET_QUEUED
                else None
            ),
        }

    def _system(self, session: Session, conversation_id: str, text: str, **payload: Any) -> dict:
        return message_to_dict(add_message(session, conversation_id, "system", text, payload))

    @staticmethod
    def _ticket(session: Session, ticket_id: int) -> HandoffTicket:
        ticket = session.get(HandoffTicket, ticket_id)
        if ticket is None:
            raise HandoffError("Henvendelsen findes ikke.", 404)
        return ticket

    @staticmethod
    def _staff(session: Session, staff_id: int) -> StaffUser:
        staff = session.get(StaffUser, staff_id)
        if staff is None or not staff.active:
            raise HandoffError("Medarbejderen findes ikke.", 403)
        return staff

    @staticmethod
    def _require_assigned(ticket: HandoffTicket, staff: StaffUser) -> None:
        if ticket.status != TICKET_WITH_STAFF:
            raise HandoffError("Samtalen er ikke i gang hos en medarbejder.")
        if ticket.staff_id != staff.id:
            name = ticket.staff.name if ticket.staff else "en anden medarbejder"
            raise HandoffError(f"Samtalen er taget af {name}.", 403)

    # -- queue --

    def enqueue(
        self,
        conversation_id: str,
        reason: str = "requested",
        topic: str | None = None,
        channel: str = "web",
    ) -> Change:
        """Put a chat in the live queue (idempotent: an active request is returned as is)."""
        reason = reason if reason in REASONS else "requested"

        def work(session: Session) -> Change:
            conversation = get_or_create_conversation(session, conversation_id, channel=channel)
            active = self._active_ticket(session, conversation_id)
            if active is not None:
                return Change(
                    self._ticket_dict(session, active),
                    conversation_id,
                    handoff=self._citizen_object(session, active),
                )
            now = utc_now()
            ticket = HandoffTicket(
                kind="live",
                status=TICKET_QUEUED,
                conversation_id=conversation_id,
                branch_id=conversation.branch_id,
                topic=_subject(topic) or _subject(conversation.topic),
                reason=reason,
                created_at=now,
                expires_at=now + timedelta(seconds=timeout_seconds()),
            )
            session.add(ticket)
            conversation.state = "queued"
            conversation.assigned_staff = None
            session.flush()
            handoff = self._citizen_object(session, ticket)
            text = QUEUE_TEXT.format(
                position=handoff["position"], minutes=handoff["estimated_wait_minutes"]
            )
            message = self._system(session, conversation_id, text, buttons=[CANCEL_BUTTON])
            return Change(
                self._ticket_dict(session, ticket),
                conversation_id,
                [message],
                handoff,
                new_ticket=True,
            )

        try:
            return self._transaction(work)
        except IntegrityError:
            # Lost a race with a second request for the same chat: answer with the winner.
            with session_scope(self.url) as session:
                active = self._active_ticket(session, conversation_id)
                if active is None:
                    raise
                return Change(
                    self._ticket_dict(session, active),
                    conversation_id,
                    handoff=self._citizen_object(session, active),
                )

    @staticmethod
    def _active_ticket(session: Session, conversation_id: str) -> HandoffTicket | None:
        return session.execute(
            select(HandoffTicket).where(
                HandoffTicket.conversation_id == conversation_id,
                HandoffTicket.status.in_((TICKET_QUEUED, TICKET_WITH_STAFF)),
            )
        ).scalar_one_or_none()

    def kiosk_call(self, conversation_id: str, branch_id: str) -> tuple[bool, str, Change | None]:
        """"Kald en medarbejder" at a kiosk: (ok, Danish message, change to publish)."""
        library = load_library()
        branch = library.branch(branch_id)
        if branch is None:
            raise HandoffError("Filialen findes ikke.", 422)
        now = local_now()
        if not is_staffed_open(now, branch_id, library):
            opening = next_staffed_opening(now, branch_id, library)
            when = "senere"
            if opening:
                day = _day_phrase(opening.date(), now.date()).rstrip(",")
                when = f"{day} kl. {_clock(opening.time())}"
            return False, KIOSK_NO_STAFF.format(
                branch=branch.name, when=when, phone=library.phone
            ), None

        def work(session: Session) -> tuple[bool, str, Change | None]:
            conversation = get_or_create_conversation(
                session, conversation_id, channel="kiosk", branch_id=branch_id
            )
            if not conversation.branch_id:
                conversation.branch_id = branch_id
            active = self._active_ticket(session, conversation_id)
            if active is not None:
                return True, KIOSK_ALREADY_CALLED, None
            ticket = HandoffTicket(
                kind="kiosk",
                status=TICKET_QUEUED,
                conversation_id=conversation_id,
                branch_id=branch_id,
                topic=conversation.topic,
                reason="kiosk",
            )
            session.add(ticket)
            session.flush()
            change = Change(self._ticket_dict(session, ticket, library), None, new_ticket=True)
            return True, KIOSK_CALLED, change

        try:
            return self._transaction(work)
        except IntegrityError:
            return True, KIOSK_ALREADY_CALLED, None

    def current(self, conversation_id: str) -> dict[str, Any] | None:
        """The `handoff` object while a chat is queued or with staff, else None."""
        with session_scope(self.url, read_only=True) as session:
            ticket = self._active_ticket(session, conversation_id)
            if ticket is None or ticket.kind != "live":
                return None
            return self._citizen_object(session, ticket)

    def latest(self, conversation_id: str) -> dict[str, Any] | None:
        """The `handoff` object of the conversation's newest live or callback ticket, whatever
        its state: a reconnecting client learns what changed while it was away."""
        with session_scope(self.url, read_only=True) as session:
            ticket = session.execute(
                select(HandoffTicket)
                .where(
                    HandoffTicket.conversation_id == conversation_id,
                    HandoffTicket.kind.in_(("live", "callback")),
                )
                .order_by(HandoffTicket.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            return self._citizen_object(session, ticket) if ticket else None

    def queued_objects(self) -> list[tuple[str, dict[str, Any]]]:
        """(conversation id, `handoff` object) of every queued chat: positions move on."""
        with session_scope(self.url, read_only=True) as session:
            tickets = session.execute(
                select(HandoffTicket)
                .where(HandoffTicket.kind == "live", HandoffTicket.status == TICKET_QUEUED)
                .order_by(HandoffTicket.created_at, HandoffTicket.id)
            ).scalars()
            return [
                (t.conversation_id, self._citizen_object(session, t))
                for t in tickets
                if t.conversation_id
            ]

    # -- staff actions --

    def take(self, ticket_id: int, staff_id: int, ip: str | None = None) -> Change:
        def work(session: Session) -> Change:
            staff = self._staff(session, staff_id)
            ticket = self._ticket(session, ticket_id)
            conversation = (
                session.get(Conversation, ticket.conversation_id)
                if ticket.conversation_id
                else None
            )
            if ticket.status == TICKET_QUEUED and ticket.kind == "live" and (
                conversation is None or conversation.state == "closed"
            ):
                ticket.status, ticket.closed_at = TICKET_CANCELLED, utc_now()
                if conversation is not None:
                    conversation.assigned_staff = None
                session.commit()
                raise HandoffError("Borgeren har forladt chatten.", 410)
            now = utc_now()
            # Conditional update: of two staff clicking at once, exactly one gets the chat.
            taken = session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.id == ticket_id, HandoffTicket.status == TICKET_QUEUED)
                .values(status=TICKET_WITH_STAFF, staff_id=staff.id, taken_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                session.refresh(ticket)
                if ticket.status == TICKET_WITH_STAFF and ticket.staff:
                    raise HandoffError(f"Samtalen er allerede taget af {ticket.staff.name}.")
                raise HandoffError("Henvendelsen venter ikke længere.")
            session.refresh(ticket)
            record_audit(
                session, "take", staff_id=staff.id, username=staff.username, ip=ip,
                ticket_id=ticket.id, conversation_id=ticket.conversation_id,
            )
            messages = []
            handoff = None
            if ticket.kind == "live" and conversation is not None:
                conversation.state = "with_staff"
                conversation.assigned_staff = staff.username
                messages.append(
                    self._system(
                        session, conversation.id, TAKEN_TEXT.format(name=staff.name),
                        staff_name=staff.name,
                    )
                )
                handoff = self._citizen_object(session, ticket)
            elif ticket.kind == "kiosk" and conversation is not None:
                first_name = staff.name.split()[0]
                messages.append(self._system(
                    session, conversation.id, KIOSK_COMING.format(first_name=first_name),
                    kiosk="coming", staff_name=first_name,
                ))
            return Change(
                self._ticket_dict(session, ticket), ticket.conversation_id, messages, handoff
            )

        return self._transaction(work)

    def reply(self, ticket_id: int, staff_id: int, text: str) -> Change:
        """A staff message to the citizen, stored in the transcript before delivery."""
        text = (text or "").strip()
        if not text:
            raise HandoffError("Beskeden er tom.", 422)
        if len(text) > MAX_REPLY_CHARS:
            raise HandoffError(f"Beskeden er for lang (højst {MAX_REPLY_CHARS} tegn).", 413)
        # Staff may paste from a case system; CPR numbers are never stored, whoever types them.
        text, _ = redact_cpr(text)

        def work(session: Session) -> Change:
            staff = self._staff(session, staff_id)
            ticket = self._ticket(session, ticket_id)
            if ticket.kind != "live" or not ticket.conversation_id:
                raise HandoffError("Der kan kun skrives i chat-samtaler.", 422)
            self._require_assigned(ticket, staff)
            message = add_message(
                session, ticket.conversation_id, "staff", text,
                {"staff_id": staff.id, "staff_name": staff.name},
            )
            return Change(
                self._ticket_dict(session, ticket), ticket.conversation_id,
                [message_to_dict(message)],
            )

        return self._transaction(work)

    def return_to_bot(self, ticket_id: int, staff_id: int, ip: str | None = None) -> Change:
        return self._finish(ticket_id, staff_id, TICKET_RETURNED, None, ip)

    def close(
        self, ticket_id: int, staff_id: int, outcome: str, ip: str | None = None
    ) -> Change:
        if outcome not in OUTCOMES:
            raise HandoffError("Vælg et resultat for henvendelsen.", 422)
        return self._finish(ticket_id, staff_id, TICKET_CLOSED, outcome, ip)

    def _finish(
        self, ticket_id: int, staff_id: int, status: str, outcome: str | None, ip: str | None
    ) -> Change:
        def work(session: Session) -> Change:
            staff = self._staff(session, staff_id)
            ticket = self._ticket(session, ticket_id)
            if ticket.kind == "live":
                self._require_assigned(ticket, staff)
            elif status == TICKET_RETURNED:
                raise HandoffError("Kun chat-samtaler kan gives tilbage til assistenten.", 422)
            elif ticket.status in (TICKET_CLOSED, TICKET_CANCELLED):
                raise HandoffError("Henvendelsen er allerede afsluttet.")
            now = utc_now()
            ticket.status, ticket.outcome, ticket.closed_at = status, outcome, now
            if ticket.staff_id is None:
                ticket.staff = staff
            record_audit(
                session, "close" if status == TICKET_CLOSED else "return_to_bot",
                staff_id=staff.id, username=staff.username, ip=ip, ticket_id=ticket.id,
                conversation_id=ticket.conversation_id, detail={"outcome": outcome},
            )
            messages, handoff = [], None
            conversation = (
                session.get(Conversation, ticket.conversation_id)
                if ticket.conversation_id
                else None
            )
            if ticket.kind == "kiosk" and conversation is not None and ticket.taken_at is None:
                # Nobody went over: the citizen at the screen must not be left waiting.
                messages.append(
                    self._system(session, conversation.id, KIOSK_CLOSED_UNANSWERED, kiosk="closed")
                )
            if ticket.kind == "live" and conversation is not None:
                conversation.assigned_staff = None
                if status == TICKET_CLOSED:
                    conversation.state = "closed"
                    text = CLOSED_TEXT.format(name=staff.name)
                else:
                    conversation.state = "bot"
                    text = RETURNED_TEXT.format(name=staff.name)
                messages.append(self._system(session, conversation.id, text))
                session.flush()
                handoff = self._citizen_object(session, ticket)
            return Change(
                self._ticket_dict(session, ticket), ticket.conversation_id, messages, handoff
            )

        return self._transaction(work)

    def cancel_by_citizen(self, conversation_id: str) -> Change | None:
        """The citizen leaves the queue (or the chat with staff); None if nothing was active."""

        def work(session: Session) -> Change | None:
            ticket = self._active_ticket(session, conversation_id)
            if ticket is None or ticket.kind != "live":
                return None
            ticket.status, ticket.closed_at = TICKET_CANCELLED, utc_now()
            conversation = session.get(Conversation, conversation_id)
            if conversation is not None:
                conversation.state, conversation.assigned_staff = "bot", None
            record_audit(
                session, "citizen_cancel", ticket_id=ticket.id, conversation_id=conversation_id
            )
            message = self._system(session, conversation_id, CANCELLED_TEXT)
            session.flush()
            return Change(
                self._ticket_dict(session, ticket), conversation_id, [message],
                self._citizen_object(session, ticket),
            )

        return self._transaction(work)

    def add_note(self, ticket_id: int, staff_id: int, text: str) -> dict[str, Any]:
        text = (text or "").strip()
        if not text:
            raise HandoffError("Noten er tom.", 422)
        if len(text) > MAX_NOTE_CHARS:
            raise HandoffError(f"Noten er for lang (højst {MAX_NOTE_CHARS} tegn).", 413)
        text, _ = redact_cpr(text)

        def work(session: Session) -> dict[str, Any]:
            staff = self._staff(session, staff_id)
            ticket = self._ticket(session, ticket_id)
            note = HandoffNote(ticket_id=ticket.id, staff_id=staff.id, text=text)
            session.add(note)
            session.flush()
            record_audit(
                session, "note", staff_id=staff.id, username=staff.username,
                ticket_id=ticket.id, conversation_id=ticket.conversation_id,
            )
            return _note_dict(note, staff.name)

        return self._transaction(work)

    # -- timeouts and callbacks --

    def next_expiry(self) -> datetime | None:
        with session_scope(self.url, read_only=True) as session:
            return session.execute(
                select(func.min(HandoffTicket.expires_at)).where(
                    HandoffTicket.kind == "live", HandoffTicket.status == TICKET_QUEUED
                )
            ).scalar_one()

    def expire_due(self, now: datetime | None = None) -> list[Change]:
        """Turn every queued chat nobody took in time into a callback request."""
        now = now or utc_now()
        with session_scope(self.url, read_only=True) as session:
            due = session.execute(
                select(HandoffTicket.id).where(
                    HandoffTicket.kind == "live",
                    HandoffTicket.status == TICKET_QUEUED,
                    HandoffTicket.expires_at <= now,
                )
            ).scalars().all()
        changes = []
        for ticket_id in due:
            change = self._expire(ticket_id)
            if change is not None:
                changes.append(change)
        return changes

    def _expire(self, ticket_id: int) -> Change | None:
        deadline, promise = response_promise()

        def work(session: Session) -> Change | None:
            ticket = session.get(HandoffTicket, ticket_id)
            conversation = (
                session.get(Conversation, ticket.conversation_id)
                if ticket and ticket.conversation_id
                else None
            )
            gone = conversation is None or conversation.state == "closed"
            values: dict[str, Any] = (
                {"status": TICKET_CANCELLED, "closed_at": utc_now()}
                if gone
                else {"kind": "callback", "status": TICKET_PENDING_DETAILS, "respond_by": deadline}
            )
            # Conditional: another gateway instance, or a staff member taking it, may be first.
            changed = session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.id == ticket_id, HandoffTicket.status == TICKET_QUEUED)
                .values(updated_at=utc_now(), **values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed != 1 or ticket is None:
                return None
            session.refresh(ticket)
            record_audit(
                session, "queue_timeout", ticket_id=ticket.id,
                conversation_id=ticket.conversation_id,
            )
            if gone:
                return Change(self._ticket_dict(session, ticket), None)
            conversation.state, conversation.assigned_staff = "bot", None
            minutes = max(1, round(timeout_seconds() / 60))
            message = self._system(
                session, conversation.id, TIMEOUT_TEXT.format(minutes=minutes, promise=promise)
            )
            return Change(
                self._ticket_dict(session, ticket), conversation.id, [message],
                self._citizen_object(session, ticket),
            )

        return self._transaction(work)

    def create_callback(
        self,
        conversation_id: str | None,
        name: str,
        contact_kind: str,
        contact: str,
        description: str,
        topic: str | None = None,
        reason: str = "callback",
    ) -> tuple[dict[str, Any], str]:
        """Store a callback request (the form's answers); returns (ticket, Danish promise).

        Completes the conversation's ticket that is waiting for these details (a queue
        timeout), otherwise opens a new one."""
        description, _ = redact_cpr((description or "").strip()[:MAX_DESCRIPTION_CHARS])
        name, _ = redact_cpr(name.strip())
        deadline, promise = response_promise()

        def work(session: Session) -> dict[str, Any]:
            ticket = None
            if conversation_id:
                conversation = get_or_create_conversation(session, conversation_id)
                ticket = session.execute(
                    select(HandoffTicket)
                    .where(
                        HandoffTicket.conversation_id == conversation_id,
                        HandoffTicket.status == TICKET_PENDING_DETAILS,
                    )
                    .order_by(HandoffTicket.id.desc())
                    .limit(1)
                ).scalar_one_or_none()
                topic_value = _subject(topic) or _subject(conversation.topic)
                branch_id = conversation.branch_id
            else:
                topic_value, branch_id = _subject(topic), None
            if ticket is None:
                ticket = HandoffTicket(
                    kind="callback",
                    conversation_id=conversation_id,
                    branch_id=branch_id,
                    reason=reason if reason in REASONS else "callback",
                )
                session.add(ticket)
            ticket.status = TICKET_OPEN
            ticket.topic = ticket.topic or topic_value
            ticket.name, ticket.contact_kind, ticket.contact = name, contact_kind, contact
            ticket.description = description
            ticket.respond_by = deadline
            session.flush()
            record_audit(
                session, "callback_created", ticket_id=ticket.id, conversation_id=conversation_id
            )
            return self._ticket_dict(session, ticket)

        return self._transaction(work), promise

    # -- reading --

    def tickets(self) -> dict[str, list[dict[str, Any]]]:
        """What the console lists: the live queue (chats and kiosk calls, waiting or in
        progress) and the callback tickets (open ones, and those closed recently)."""
        recent = utc_now() - timedelta(days=CLOSED_CALLBACKS_SHOWN_DAYS)
        library = load_library()
        with session_scope(self.url, read_only=True) as session:
            queue = session.execute(
                select(HandoffTicket)
                .where(
                    HandoffTicket.kind.in_(("live", "kiosk")),
                    HandoffTicket.status.in_((TICKET_QUEUED, TICKET_WITH_STAFF)),
                )
                .order_by(HandoffTicket.created_at, HandoffTicket.id)
            ).scalars().all()
            callbacks = session.execute(
                select(HandoffTicket)
                .where(
                    HandoffTicket.kind == "callback",
                    HandoffTicket.status.in_((TICKET_PENDING_DETAILS, TICKET_OPEN))
                    | (HandoffTicket.closed_at >= recent),
                )
                .order_by(HandoffTicket.created_at.desc(), HandoffTicket.id.desc())
            ).scalars().all()
            return {
                "queue": [self._ticket_dict(session, t, library) for t in queue],
                "callbacks": [self._ticket_dict(session, t, library) for t in callbacks],
            }

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        with session_scope(self.url, read_only=True) as session:
            return self._ticket_dict(session, self._ticket(session, ticket_id))

    def ticket_detail(
        self, ticket_id: int, staff_id: int, username: str, ip: str | None = None
    ) -> dict[str, Any]:
        """A ticket with its notes and the full transcript; the reading is audited."""

        def work(session: Session) -> dict[str, Any]:
            ticket = self._ticket(session, ticket_id)
            notes = session.execute(
                select(HandoffNote)
                .where(HandoffNote.ticket_id == ticket.id)
                .order_by(HandoffNote.created_at, HandoffNote.id)
            ).scalars()
            messages = []
            if ticket.conversation_id:
                messages = [
                    staff_message_dict(m)
                    for m in transcript(session, ticket.conversation_id)
                ]
                record_audit(
                    session, "view_transcript", staff_id=staff_id, username=username, ip=ip,
                    ticket_id=ticket.id, conversation_id=ticket.conversation_id,
                )
            return {
                "ticket": self._ticket_dict(session, ticket),
                "notes": [_note_dict(n, n.staff.name if n.staff else None) for n in notes],
                "messages": messages,
            }

        return self._transaction(work)

    def messages_after(
        self,
        conversation_id: str,
        after: int,
        staff_id: int,
        username: str,
        ip: str | None = None,
    ) -> list[dict[str, Any]]:
        """Transcript catch-up for the console's WebSocket; the reading is audited."""

        def work(session: Session) -> list[dict[str, Any]]:
            if session.get(Conversation, conversation_id) is None:
                raise HandoffError("Samtalen findes ikke.", 404)
            record_audit(
                session, "view_transcript", staff_id=staff_id, username=username, ip=ip,
                conversation_id=conversation_id, detail={"after": after},
            )
            return [
                staff_message_dict(m)
                for m in transcript(session, conversation_id, after_seq=after)
            ]

        return self._transaction(work)


def _subject(topic: str | None) -> str | None:
    # "staff", "smalltalk" and "out_of_scope" say nothing about what the citizen needs.
    return topic if topic and topic not in ("staff", "smalltalk", "out_of_scope") else None


def _note_dict(note: HandoffNote, staff_name: str | None) -> dict[str, Any]:
    return {
        "id": note.id,
        "ticket_id": note.ticket_id,
        "text": note.text,
        "staff_name": staff_name,
        "created_at": iso_utc(note.created_at),
    }
