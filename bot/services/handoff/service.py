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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.config import Settings
from bot.core.handoff_states import (
    IN_PROGRESS_STATUSES,
    ConversationState,
    Event,
    Kind,
    State,
    Status,
    TransitionRefused,
    next_conversation_state,
    transition,
)
from bot.db.models import (
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
from bot.services.handoff.promise import clock, day_phrase, response_promise
from bot.services.handoff.texts import (
    CANCEL_BUTTON,
    CANCELLED_TEXT,
    CLOSED_TEXT,
    KIOSK_ALREADY_CALLED,
    KIOSK_CALLED,
    KIOSK_CLOSED_UNANSWERED,
    KIOSK_COMING,
    KIOSK_NO_STAFF,
    OUTCOMES,
    QUEUE_TEXT,
    REASONS,
    RETURNED_TEXT,
    TAKEN_TEXT,
    TIMEOUT_TEXT,
)
from bot.services.handoff.views import citizen_view, note_view, ticket_view
from bot.services.library import Library, is_staffed_open, load_library, next_staffed_opening
from bot.services.staff_auth import record_audit, staff_online
from bot.services.transcripts import message_to_dict, staff_message_dict

MAX_REPLY_CHARS = 2000
MAX_NOTE_CHARS = 2000
MAX_DESCRIPTION_CHARS = 1000
CLOSED_CALLBACKS_SHOWN_DAYS = 14


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


# --- the service ------------------------------------------------------------------------


class HandoffService:
    """One service per process, built from the settings at the entry point."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.database_url

    @property
    def library(self) -> Library:
        """The library config (re-read when its file changes)."""
        return load_library(self.settings.library_config)

    # -- availability --

    def library_open(self, now: datetime | None = None) -> bool:
        return is_staffed_open(now or local_now(), None, self.library)

    def staff_online(self) -> bool:
        return staff_online(self.url, presence_seconds=self.settings.staff_presence_seconds)

    def live_available(self) -> bool:
        """Staff are signed in and the library is staffed: a chat can go to the queue."""
        return self.library_open() and self.staff_online()

    # -- helpers --

    def _transaction[T](self, work: Callable[[Session], T], attempts: int = 3) -> T:
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

    # -- the state machine (bot/core/handoff_states.py) --

    @staticmethod
    def _move(ticket: HandoffTicket | None, event: Event) -> State:
        """Apply an allowed transition to the ticket (a new one when None), or refuse it."""
        try:
            if ticket is None:
                found = transition(None, None, event)
            else:
                found = transition(ticket.kind, ticket.status, event)
        except TransitionRefused as exc:
            raise HandoffError(exc.message, exc.status_code) from exc
        if ticket is not None:
            ticket.kind, ticket.status = found.target
        return found.state

    @staticmethod
    def _steer(
        conversation: Conversation | None, state: State, staff_username: str | None = None
    ) -> None:
        """Put the conversation in the state the ticket's new state calls for."""
        if conversation is None:
            return
        new = next_conversation_state(conversation.state, state)
        if new != conversation.state or state.conversation is not None:
            conversation.state = new
            with_staff = new == ConversationState.WITH_STAFF
            conversation.assigned_staff = staff_username if with_staff else None

    def _ticket_dict(
        self, session: Session, ticket: HandoffTicket, library: Library | None = None
    ) -> dict[str, Any]:
        return ticket_view(session, ticket, library or self.library)


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
        if ticket.status != Status.WITH_STAFF:
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
                    handoff=citizen_view(session, active),
                )
            now = utc_now()
            state = self._move(None, Event.ENQUEUE)
            ticket = HandoffTicket(
                kind=state.kind,
                status=state.status,
                conversation_id=conversation_id,
                branch_id=conversation.branch_id,
                topic=_subject(topic) or _subject(conversation.topic),
                reason=reason,
                created_at=now,
                expires_at=now + timedelta(seconds=self.settings.handoff_timeout_seconds),
            )
            session.add(ticket)
            self._steer(conversation, state)
            session.flush()
            handoff = citizen_view(session, ticket)
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
                    handoff=citizen_view(session, active),
                )

    @staticmethod
    def _active_ticket(session: Session, conversation_id: str) -> HandoffTicket | None:
        return session.execute(
            select(HandoffTicket).where(
                HandoffTicket.conversation_id == conversation_id,
                HandoffTicket.status.in_(IN_PROGRESS_STATUSES),
            )
        ).scalar_one_or_none()

    def kiosk_call(self, conversation_id: str, branch_id: str) -> tuple[bool, str, Change | None]:
        """"Kald en medarbejder" at a kiosk: (ok, Danish message, change to publish)."""
        library = self.library
        branch = library.branch(branch_id)
        if branch is None:
            raise HandoffError("Filialen findes ikke.", 422)
        now = local_now()
        if not is_staffed_open(now, branch_id, library):
            opening = next_staffed_opening(now, branch_id, library)
            when = "senere"
            if opening:
                day = day_phrase(opening.date(), now.date()).rstrip(",")
                when = f"{day} kl. {clock(opening.time())}"
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
            state = self._move(None, Event.KIOSK_CALL)
            ticket = HandoffTicket(
                kind=state.kind,
                status=state.status,
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
            if ticket is None or ticket.kind != Kind.LIVE:
                return None
            return citizen_view(session, ticket)

    def latest(self, conversation_id: str) -> dict[str, Any] | None:
        """The `handoff` object of the conversation's newest live or callback ticket, whatever
        its state: a reconnecting client learns what changed while it was away."""
        with session_scope(self.url, read_only=True) as session:
            ticket = session.execute(
                select(HandoffTicket)
                .where(
                    HandoffTicket.conversation_id == conversation_id,
                    HandoffTicket.kind.in_((Kind.LIVE, Kind.CALLBACK)),
                )
                .order_by(HandoffTicket.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            return citizen_view(session, ticket) if ticket else None

    def queue_length(self) -> int:
        """Chats waiting in the live queue (the gateway's /metrics)."""
        with session_scope(self.url, read_only=True) as session:
            return session.execute(
                select(func.count())
                .select_from(HandoffTicket)
                .where(HandoffTicket.kind == Kind.LIVE, HandoffTicket.status == Status.QUEUED)
            ).scalar_one()

    def queued_objects(self) -> list[tuple[str, dict[str, Any]]]:
        """(conversation id, `handoff` object) of every queued chat: positions move on."""
        with session_scope(self.url, read_only=True) as session:
            tickets = session.execute(
                select(HandoffTicket)
                .where(HandoffTicket.kind == Kind.LIVE, HandoffTicket.status == Status.QUEUED)
                .order_by(HandoffTicket.created_at, HandoffTicket.id)
            ).scalars()
            return [
                (t.conversation_id, citizen_view(session, t))
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
            if ticket.kind == Kind.LIVE and ticket.status == Status.QUEUED and (
                conversation is None or conversation.state == ConversationState.CLOSED
            ):
                self._steer(conversation, self._move(ticket, Event.ABANDONED))
                ticket.closed_at = utc_now()
                session.commit()
                raise HandoffError("Borgeren har forladt chatten.", 410)
            if ticket.status == Status.WITH_STAFF and ticket.staff:
                raise HandoffError(f"Samtalen er allerede taget af {ticket.staff.name}.")
            try:
                kind, status = transition(ticket.kind, ticket.status, Event.TAKE).target
            except TransitionRefused as exc:
                raise HandoffError(exc.message, exc.status_code) from exc
            now = utc_now()
            # Conditional update: of two staff clicking at once, exactly one gets the chat.
            taken = session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.id == ticket_id, HandoffTicket.status == Status.QUEUED)
                .values(status=status, staff_id=staff.id, taken_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                session.refresh(ticket)
                if ticket.status == Status.WITH_STAFF and ticket.staff:
                    raise HandoffError(f"Samtalen er allerede taget af {ticket.staff.name}.")
                raise HandoffError("Henvendelsen venter ikke længere.")
            session.refresh(ticket)
            record_audit(
                session, "take", staff_id=staff.id, username=staff.username, ip=ip,
                ticket_id=ticket.id, conversation_id=ticket.conversation_id,
            )
            messages = []
            handoff = None
            state = transition(kind, Status.QUEUED, Event.TAKE).state
            if state.conversation is not None and conversation is not None:
                self._steer(conversation, state, staff.username)
                messages.append(
                    self._system(
                        session, conversation.id, TAKEN_TEXT.format(name=staff.name),
                        staff_name=staff.name,
                    )
                )
                handoff = citizen_view(session, ticket)
            elif ticket.kind == Kind.KIOSK and conversation is not None:
                # The kiosk screen hears who is coming (the first name is enough).
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
        text = _staff_text(text, "Beskeden", MAX_REPLY_CHARS)

        def work(session: Session) -> Change:
            staff = self._staff(session, staff_id)
            ticket = self._ticket(session, ticket_id)
            if ticket.kind != Kind.LIVE or not ticket.conversation_id:
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
        return self._finish(ticket_id, staff_id, Event.RETURN, None, ip)

    def close(
        self, ticket_id: int, staff_id: int, outcome: str, ip: str | None = None
    ) -> Change:
        if outcome not in OUTCOMES:
            raise HandoffError("Vælg et resultat for henvendelsen.", 422)
        return self._finish(ticket_id, staff_id, Event.CLOSE, outcome, ip)

    def _finish(
        self, ticket_id: int, staff_id: int, event: Event, outcome: str | None, ip: str | None
    ) -> Change:
        def work(session: Session) -> Change:
            staff = self._staff(session, staff_id)
            ticket = self._ticket(session, ticket_id)
            if ticket.kind == Kind.LIVE:
                self._require_assigned(ticket, staff)
            state = self._move(ticket, event)
            ticket.outcome, ticket.closed_at = outcome, utc_now()
            if ticket.staff_id is None:
                ticket.staff = staff
            record_audit(
                session, "close" if event is Event.CLOSE else "return_to_bot",
                staff_id=staff.id, username=staff.username, ip=ip, ticket_id=ticket.id,
                conversation_id=ticket.conversation_id, detail={"outcome": outcome},
            )
            messages, handoff = [], None
            conversation = (
                session.get(Conversation, ticket.conversation_id)
                if ticket.conversation_id
                else None
            )
            if ticket.kind == Kind.KIOSK and conversation is not None and ticket.taken_at is None:
                # Nobody went over: the citizen at the screen must not be left waiting.
                messages.append(
                    self._system(session, conversation.id, KIOSK_CLOSED_UNANSWERED, kiosk="closed")
                )
            if state.conversation is not None and conversation is not None:
                self._steer(conversation, state)
                done = CLOSED_TEXT if event is Event.CLOSE else RETURNED_TEXT
                text = done.format(name=staff.name)
                messages.append(self._system(session, conversation.id, text))
                session.flush()
                handoff = citizen_view(session, ticket)
            return Change(
                self._ticket_dict(session, ticket), ticket.conversation_id, messages, handoff
            )

        return self._transaction(work)

    def cancel_by_citizen(self, conversation_id: str) -> Change | None:
        """The citizen leaves the queue (or the chat with staff); None if nothing was active."""

        def work(session: Session) -> Change | None:
            ticket = self._active_ticket(session, conversation_id)
            if ticket is None or ticket.kind != Kind.LIVE:
                return None
            state = self._move(ticket, Event.CITIZEN_LEAVES)
            self._steer(session.get(Conversation, conversation_id), state)
            ticket.closed_at = utc_now()
            record_audit(
                session, "citizen_cancel", ticket_id=ticket.id, conversation_id=conversation_id
            )
            message = self._system(session, conversation_id, CANCELLED_TEXT)
            session.flush()
            return Change(
                self._ticket_dict(session, ticket), conversation_id, [message],
                citizen_view(session, ticket),
            )

        return self._transaction(work)

    def add_note(self, ticket_id: int, staff_id: int, text: str) -> dict[str, Any]:
        text = _staff_text(text, "Noten", MAX_NOTE_CHARS)

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
            return note_view(note, staff.name)

        return self._transaction(work)

    # -- timeouts and callbacks --

    def next_expiry(self) -> datetime | None:
        with session_scope(self.url, read_only=True) as session:
            return session.execute(
                select(func.min(HandoffTicket.expires_at)).where(
                    HandoffTicket.kind == Kind.LIVE, HandoffTicket.status == Status.QUEUED
                )
            ).scalar_one()

    def expire_due(self, now: datetime | None = None) -> list[Change]:
        """Turn every queued chat nobody took in time into a callback request."""
        now = now or utc_now()
        with session_scope(self.url, read_only=True) as session:
            due = session.execute(
                select(HandoffTicket.id).where(
                    HandoffTicket.kind == Kind.LIVE,
                    HandoffTicket.status == Status.QUEUED,
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
        deadline, promise = response_promise(library=self.library)

        def work(session: Session) -> Change | None:
            ticket = session.get(HandoffTicket, ticket_id)
            conversation = (
                session.get(Conversation, ticket.conversation_id)
                if ticket and ticket.conversation_id
                else None
            )
            gone = conversation is None or conversation.state == ConversationState.CLOSED
            if ticket is None:
                return None
            event = Event.ABANDONED if gone else Event.TIMEOUT
            try:
                found = transition(ticket.kind, Status.QUEUED, event)
            except TransitionRefused:
                return None
            kind, status = found.target
            values: dict[str, Any] = (
                {"status": status, "closed_at": utc_now()}
                if gone
                else {"kind": kind, "status": status, "respond_by": deadline}
            )
            # Conditional: another gateway instance, or a staff member taking it, may be first.
            changed = session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.id == ticket_id, HandoffTicket.status == Status.QUEUED)
                .values(updated_at=utc_now(), **values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed != 1:
                return None
            session.refresh(ticket)
            record_audit(
                session, "queue_timeout", ticket_id=ticket.id,
                conversation_id=ticket.conversation_id,
            )
            if gone:
                return Change(self._ticket_dict(session, ticket), None)
            self._steer(conversation, found.state)
            minutes = max(1, round(self.settings.handoff_timeout_seconds / 60))
            message = self._system(
                session, conversation.id, TIMEOUT_TEXT.format(minutes=minutes, promise=promise)
            )
            return Change(
                self._ticket_dict(session, ticket), conversation.id, [message],
                citizen_view(session, ticket),
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
        deadline, promise = response_promise(library=self.library)

        def work(session: Session) -> dict[str, Any]:
            ticket = None
            if conversation_id:
                conversation = get_or_create_conversation(session, conversation_id)
                ticket = session.execute(
                    select(HandoffTicket)
                    .where(
                        HandoffTicket.conversation_id == conversation_id,
                        HandoffTicket.status == Status.PENDING_DETAILS,
                    )
                    .order_by(HandoffTicket.id.desc())
                    .limit(1)
                ).scalar_one_or_none()
                topic_value = _subject(topic) or _subject(conversation.topic)
                branch_id = conversation.branch_id
            else:
                topic_value, branch_id = _subject(topic), None
            if ticket is None:
                state = self._move(None, Event.DETAILS)
                ticket = HandoffTicket(
                    kind=state.kind,
                    status=state.status,
                    conversation_id=conversation_id,
                    branch_id=branch_id,
                    reason=reason if reason in REASONS else "callback",
                )
                session.add(ticket)
            else:
                self._move(ticket, Event.DETAILS)
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
        library = self.library
        with session_scope(self.url, read_only=True) as session:
            queue = session.execute(
                select(HandoffTicket)
                .where(
                    HandoffTicket.kind.in_((Kind.LIVE, Kind.KIOSK)),
                    HandoffTicket.status.in_(IN_PROGRESS_STATUSES),
                )
                .order_by(HandoffTicket.created_at, HandoffTicket.id)
            ).scalars().all()
            callbacks = session.execute(
                select(HandoffTicket)
                .where(
                    HandoffTicket.kind == Kind.CALLBACK,
                    HandoffTicket.status.in_((Status.PENDING_DETAILS, Status.OPEN))
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
                "notes": [note_view(n, n.staff.name if n.staff else None) for n in notes],
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


def _staff_text(text: str, what: str, max_chars: int) -> str:
    """A reply or a note as staff typed it, trimmed, checked and with CPR numbers redacted."""
    text = (text or "").strip()
    if not text:
        raise HandoffError(f"{what} er tom.", 422)
    if len(text) > max_chars:
        raise HandoffError(f"{what} er for lang (højst {max_chars} tegn).", 413)
    # Staff may paste from a case system; CPR numbers are never stored, whoever types them.
    return redact_cpr(text)[0]


def _subject(topic: str | None) -> str | None:
    # "staff", "smalltalk" and "out_of_scope" say nothing about what the citizen needs.
    return topic if topic and topic not in ("staff", "smalltalk", "out_of_scope") else None


