"""Citizens' data over its lifetime: retention purge, "Slet samtalen", erasure and export on
request (GDPR art. 17 and 15), and the CPR scrub of data stored before the redaction caught
every form.

Two databases are involved: the app database (bookings, transcripts, tickets) and Rasa's
tracker store (bot/db/tracker_store.py), which holds the same conversations as events. Every
function takes both URLs from the caller's settings.

Feedback (thumbs up/down) is stored on the rated bot message, so it goes with the transcript.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot.core.config import Settings
from bot.core.handoff_states import ConversationState, Event, allowed_events, transition
from bot.db.models import (
    ENROLMENT_CANCELLED,
    AccessCode,
    Booking,
    ChatMessage,
    Conversation,
    Enrolment,
    HandoffNote,
    HandoffTicket,
    LookupFailure,
    StaffSession,
    local_now,
    utc_now,
)
from bot.db.session import checkpoint, session_scope
from bot.db.tracker_store import delete_trackers, purge_trackers, scrub_trackers
from bot.language.privacy import redact_cpr, redact_json
from bot.services.booking import purge_bookings
from bot.services.courses import CourseError, cancel_enrolment, purge_enrolments
from bot.services.staff_auth import record_audit
from bot.services.transcripts import iso_utc
from bot.services.validation import contacts_in, mask_contacts, normalize_contact

_BATCH = 500


# --- retention ------------------------------------------------------------------------------


@dataclass
class PurgeReport:
    bookings: int = 0
    enrolments: int = 0
    conversations: int = 0
    messages: int = 0
    feedback: int = 0
    tickets: int = 0
    notes: int = 0
    trackers: int = 0
    tracker_rows: int = 0
    access_codes: int = 0
    lookup_failures: int = 0
    staff_sessions: int = 0
    cutoffs: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.bookings} booking(s) and {self.enrolments} enrolment(s); "
            f"{self.conversations} conversation(s) with {self.messages} message(s) and "
            f"{self.feedback} rating(s); {self.trackers} Rasa tracker(s) with "
            f"{self.tracker_rows} event(s); {self.tickets} handoff ticket(s) with "
            f"{self.notes} note(s); {self.access_codes} one-time code(s), "
            f"{self.lookup_failures} failed look-up(s), {self.staff_sessions} staff session(s)"
        )


def _conversation_ids_older(session: Session, cutoff: datetime) -> list[str]:
    return list(
        session.execute(select(Conversation.id).where(Conversation.updated_at < cutoff)).scalars()
    )


def _delete_transcripts(session: Session, ids: list[str], report: PurgeReport) -> None:
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        in_chunk = ChatMessage.conversation_id.in_(chunk)
        payloads = session.execute(select(ChatMessage.payload).where(in_chunk)).scalars()
        report.feedback += sum(1 for p in payloads if isinstance(p, dict) and p.get("feedback"))
        report.messages += session.execute(delete(ChatMessage).where(in_chunk)).rowcount or 0
        report.conversations += (
            session.execute(delete(Conversation).where(Conversation.id.in_(chunk))).rowcount or 0
        )


def _delete_tickets(session: Session, ticket_ids: list[int], report: PurgeReport) -> None:
    for start in range(0, len(ticket_ids), _BATCH):
        chunk = ticket_ids[start : start + _BATCH]
        report.notes += (
            session.execute(delete(HandoffNote).where(HandoffNote.ticket_id.in_(chunk))).rowcount
            or 0
        )
        report.tickets += (
            session.execute(delete(HandoffTicket).where(HandoffTicket.id.in_(chunk))).rowcount
            or 0
        )


def purge(
    settings: Settings, *, older_than_days: int | None = None, now: datetime | None = None
) -> PurgeReport:
    """Delete personal data past its retention period (``older_than_days`` overrides every
    period, e.g. 0 in a test). Bookings and enrolments count from their appointment, the rest
    from its last change."""
    utc = now or utc_now()
    local = local_now() if now is None else now

    def days(own: int) -> timedelta:
        return timedelta(days=own if older_than_days is None else older_than_days)

    booking_cutoff = local - days(settings.retention_days)
    transcript_cutoff = utc - days(settings.transcript_retention_days)
    ticket_cutoff = utc - days(settings.ticket_retention_days)
    report = PurgeReport(
        cutoffs={
            "bookings": booking_cutoff.isoformat(timespec="minutes"),
            "transcripts": transcript_cutoff.isoformat(timespec="minutes") + "Z",
            "tickets": ticket_cutoff.isoformat(timespec="minutes") + "Z",
        }
    )
    with session_scope(settings.database_url) as session:
        report.bookings = purge_bookings(session, booking_cutoff)
        report.enrolments = purge_enrolments(session, booking_cutoff)
        old_tickets = session.execute(
            select(HandoffTicket.id).where(HandoffTicket.updated_at < ticket_cutoff)
        ).scalars().all()
        _delete_tickets(session, list(old_tickets), report)
        old_conversations = _conversation_ids_older(session, transcript_cutoff)
        _delete_transcripts(session, old_conversations, report)
        # Short-lived security records: one-time codes and failed look-ups of the past day.
        day_ago = utc - timedelta(days=1)
        report.access_codes = (
            session.execute(delete(AccessCode).where(AccessCode.expires_at < day_ago)).rowcount
            or 0
        )
        report.lookup_failures = (
            session.execute(
                delete(LookupFailure).where(LookupFailure.created_at < day_ago)
            ).rowcount
            or 0
        )
        report.staff_sessions = (
            session.execute(delete(StaffSession).where(StaffSession.expires_at < day_ago)).rowcount
            or 0
        )
    cutoff_unix = transcript_cutoff.replace(tzinfo=UTC).timestamp()
    report.trackers, report.tracker_rows = purge_trackers(
        settings.tracker_database_url, cutoff_unix
    )
    # A tracker that is younger than its transcript (clock skew) goes with the transcript.
    report.tracker_rows += delete_trackers(settings.tracker_database_url, old_conversations)
    _checkpoint(settings)
    return report


def _checkpoint(settings: Settings) -> None:
    for url in {settings.database_url, settings.tracker_database_url}:
        checkpoint(url)


# --- "Slet samtalen" ------------------------------------------------------------------------


def delete_conversation(settings: Settings, conversation_id: str) -> bool:
    """The citizen deletes their own conversation: every message and Rasa's tracker.

    The row stays as a closed, empty tombstone, so the id (the citizen's bearer secret) can
    never be used again; it is purged with the other old conversations. A live request in the
    queue is cancelled; a callback request the citizen made stays (it is their request to be
    contacted) but no longer points to the deleted chat. Returns False if there was none."""
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            return False
        for ticket in session.execute(
            select(HandoffTicket).where(HandoffTicket.conversation_id == conversation_id)
        ).scalars():
            # The citizen leaving, as the state machine has it (a live chat in the queue or
            # with staff); other tickets keep their state.
            if Event.CITIZEN_LEAVES in allowed_events(ticket.kind, ticket.status):
                leaving = transition(ticket.kind, ticket.status, Event.CITIZEN_LEAVES)
                ticket.kind, ticket.status = leaving.target
                ticket.closed_at = utc_now()
            ticket.conversation_id = None
        session.execute(delete(ChatMessage).where(ChatMessage.conversation_id == conversation_id))
        conversation.state, conversation.topic = ConversationState.CLOSED, None
        conversation.assigned_staff, conversation.ended_at = None, utc_now()
        # No conversation id in the audit entry: it is the secret that was just retired.
        record_audit(session, "citizen_deleted_conversation")
    delete_trackers(settings.tracker_database_url, [conversation_id])
    _checkpoint(settings)
    return True


# --- erasure and export on request (GDPR art. 17 and 15) ----------------------------------


@dataclass(frozen=True)
class CitizenQuery:
    """Who the request is about: a contact (phone or e-mail) and optionally a name."""

    kind: str
    contact: str
    name: str | None = None

    @classmethod
    def parse(cls, contact: str, name: str | None = None) -> CitizenQuery:
        pair = normalize_contact(contact)
        if pair is None:
            raise ValueError("Give a Danish phone number or an e-mail address.")
        return cls(pair[0], pair[1], " ".join((name or "").split()) or None)


def _same_contact(column: Any, query: CitizenQuery) -> Any:
    return func.lower(column) == query.contact.lower()


def _conversations_mentioning(session: Session, query: CitizenQuery) -> list[str]:
    """Conversations in which the citizen wrote this contact (or a ticket names it)."""
    wanted = (query.kind, query.contact.lower())
    found: set[str] = set()
    rows = session.execute(
        select(ChatMessage.conversation_id, ChatMessage.text).where(
            ChatMessage.sender == "citizen"
        )
    )
    for conversation_id, text in rows:
        if any((k, v.lower()) == wanted for k, v in contacts_in(text)):
            found.add(conversation_id)
    tickets = session.execute(
        select(HandoffTicket.conversation_id).where(
            _same_contact(HandoffTicket.contact, query), HandoffTicket.conversation_id.is_not(None)
        )
    ).scalars()
    found.update(t for t in tickets if t)
    return sorted(found)


def _matching(query: CitizenQuery, model: Any) -> Any:
    condition = _same_contact(model.contact, query)
    if query.name:
        condition = condition & (func.lower(model.name) == query.name.lower())
    return condition


def export_citizen(
    settings: Settings, query: CitizenQuery, staff_username: str
) -> dict[str, Any]:
    """Everything stored about one citizen (art. 15), as JSON-ready data; audited."""
    with session_scope(settings.database_url) as session:
        bookings = session.execute(
            select(Booking).where(_matching(query, Booking)).order_by(Booking.id)
        ).scalars().all()
        enrolments = session.execute(
            select(Enrolment).where(_matching(query, Enrolment)).order_by(Enrolment.id)
        ).scalars().all()
        tickets = session.execute(
            select(HandoffTicket)
            .where(_same_contact(HandoffTicket.contact, query))
            .order_by(HandoffTicket.id)
        ).scalars().all()
        conversations = _conversations_mentioning(session, query)
        data: dict[str, Any] = {
            "request": {"contact": query.contact, "name": query.name},
            "exported_at": iso_utc(utc_now()),
            "bookings": [
                {
                    "reference": b.reference,
                    "name": b.name,
                    "contact": b.contact,
                    "topic": b.topic,
                    "branch": b.slot.branch_id,
                    "starts_at": b.slot.starts_at.isoformat(),
                    "status": b.status,
                    "created_at": iso_utc(b.created_at),
                }
                for b in bookings
            ],
            "course_enrolments": [
                {
                    "reference": e.reference,
                    "name": e.name,
                    "contact": e.contact,
                    "course": e.course_session.course.title,
                    "starts_at": e.course_session.starts_at.isoformat(),
                    "status": e.status,
                    "created_at": iso_utc(e.created_at),
                }
                for e in enrolments
            ],
            "requests_to_staff": [
                {
                    "id": t.id,
                    "kind": t.kind,
                    "status": t.status,
                    "name": t.name,
                    "contact": t.contact,
                    "description": t.description,
                    "created_at": iso_utc(t.created_at),
                    "notes": [
                        n.text
                        for n in session.execute(
                            select(HandoffNote).where(HandoffNote.ticket_id == t.id)
                        ).scalars()
                    ],
                }
                for t in tickets
            ],
            "conversations": [
                {
                    "messages": [
                        {"sender": m.sender, "text": m.text, "created_at": iso_utc(m.created_at)}
                        for m in session.execute(
                            select(ChatMessage)
                            .where(ChatMessage.conversation_id == conversation_id)
                            .order_by(ChatMessage.seq)
                        ).scalars()
                    ]
                }
                for conversation_id in conversations
            ],
        }
        record_audit(
            session, "citizen_exported", username=staff_username,
            detail={"article": "GDPR art. 15", **_counts(data)},
        )
    return data


def _counts(data: dict[str, Any]) -> dict[str, int]:
    keys = ("bookings", "course_enrolments", "requests_to_staff", "conversations")
    return {key: len(data[key]) for key in keys}


def erase_citizen(settings: Settings, query: CitizenQuery, staff_username: str) -> dict[str, int]:
    """Delete everything stored about one citizen (art. 17); audited, without the contact."""
    with session_scope(settings.database_url) as session:
        enrolments = session.execute(select(Enrolment).where(_matching(query, Enrolment)))
        enrolment_ids = []
        for enrolment in enrolments.scalars().all():
            if enrolment.status != ENROLMENT_CANCELLED:
                # Frees the seat and moves the wait-list on, as a cancellation would (a
                # course that has begun keeps its count; nobody can take the seat any more).
                with contextlib.suppress(CourseError):
                    cancel_enrolment(session, enrolment.reference, enrolment.contact)
            enrolment_ids.append(enrolment.id)
        counts = {
            "course_enrolments": session.execute(
                delete(Enrolment).where(Enrolment.id.in_(enrolment_ids))
            ).rowcount
            or 0,
            "bookings": session.execute(
                delete(Booking)
                .where(_matching(query, Booking))
                .execution_options(synchronize_session=False)
            ).rowcount
            or 0,
        }
        conversations = _conversations_mentioning(session, query)
        tickets = session.execute(
            select(HandoffTicket.id).where(
                or_(
                    _same_contact(HandoffTicket.contact, query),
                    HandoffTicket.conversation_id.in_(conversations),
                )
            )
        ).scalars().all()
        report = PurgeReport()
        _delete_tickets(session, list(tickets), report)
        _delete_transcripts(session, conversations, report)
        session.execute(
            delete(AccessCode)
            .where(_same_contact(AccessCode.contact, query))
            .execution_options(synchronize_session=False)
        )
        counts.update(requests_to_staff=report.tickets, conversations=report.conversations)
        record_audit(
            session, "citizen_erased", username=staff_username,
            detail={"article": "GDPR art. 17", **counts},
        )
    counts["tracker_rows"] = delete_trackers(settings.tracker_database_url, conversations)
    _checkpoint(settings)
    return counts


# --- analytics: transcripts without contact details ---------------------------------------


def masked_transcripts(settings: Settings, since: datetime | None = None) -> Iterable[dict]:
    """Transcripts for analytics: contact details and CPR numbers masked, no session ids."""
    with session_scope(settings.database_url, read_only=True) as session:
        stmt = select(Conversation).order_by(Conversation.created_at)
        if since is not None:
            stmt = stmt.where(Conversation.created_at >= since)
        for number, conversation in enumerate(session.execute(stmt).scalars(), start=1):
            messages = []
            for message in conversation.messages:
                payload = message.payload or {}
                messages.append(
                    {
                        "sender": message.sender,
                        "text": mask_contacts(redact_cpr(message.text)[0]),
                        "topic": payload.get("topic"),
                        "kind": payload.get("kind"),
                        "feedback": payload.get("feedback"),
                    }
                )
            yield {
                "conversation": number,
                "channel": conversation.channel,
                "topic": conversation.topic,
                "started": iso_utc(conversation.created_at),
                "messages": messages,
            }


# --- scrubbing data stored before the redaction caught every form --------------------------


def scrub_app_database(url: str) -> dict[str, int]:
    """Redact CPR numbers in transcripts, staff notes and tickets already stored."""
    counts = {"messages": 0, "notes": 0, "tickets": 0}
    with session_scope(url) as session:
        for message in session.execute(select(ChatMessage)).scalars():
            text, found_text = redact_cpr(message.text)
            payload, found_payload = redact_json(message.payload)
            if found_text or found_payload:
                message.text, message.payload = text, payload
                counts["messages"] += 1
        for note in session.execute(select(HandoffNote)).scalars():
            text, found = redact_cpr(note.text)
            if found:
                note.text = text
                counts["notes"] += 1
        for ticket in session.execute(select(HandoffTicket)).scalars():
            description, found_description = redact_cpr(ticket.description or "")
            name, found_name = redact_cpr(ticket.name or "")
            if found_description or found_name:
                ticket.description = description if ticket.description is not None else None
                ticket.name = name if ticket.name is not None else None
                counts["tickets"] += 1
    return counts


def scrub_cpr(settings: Settings) -> dict[str, int]:
    counts = scrub_app_database(settings.database_url)
    counts["tracker_events"] = scrub_trackers(settings.tracker_database_url)
    return counts


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
