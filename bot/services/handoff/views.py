"""The handoff JSON the widget, the kiosk and the staff console read: its one owner.

- :func:`citizen_view`: the chat API's ``handoff`` object (``state`` from the state table in
  bot/core/handoff_states.py, place in the queue, estimated wait, the staff member's name);
- :func:`ticket_view`: a ticket as the console lists it, with Danish labels;
- :func:`note_view`: an internal note.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.handoff_states import CitizenState, Kind, Status, state_of
from bot.db.models import Conversation, HandoffNote, HandoffTicket
from bot.services.handoff.texts import (
    KIND_LABELS,
    OUTCOMES,
    REASONS,
    STATUS_LABELS,
    TOPIC_LABELS,
)
from bot.services.library import Library
from bot.services.transcripts import iso_utc

# Used for the waiting-time estimate until there is some history to average.
DEFAULT_WAIT_MINUTES = 2
_WAIT_HISTORY = 20


def queue_position(session: Session, ticket: HandoffTicket) -> int:
    ahead = session.execute(
        select(func.count()).where(
            HandoffTicket.kind == Kind.LIVE,
            HandoffTicket.status == Status.QUEUED,
            (HandoffTicket.created_at < ticket.created_at)
            | ((HandoffTicket.created_at == ticket.created_at) & (HandoffTicket.id < ticket.id)),
        )
    ).scalar_one()
    return ahead + 1


def average_wait_minutes(session: Session) -> float:
    rows = session.execute(
        select(HandoffTicket.created_at, HandoffTicket.taken_at)
        .where(HandoffTicket.kind == Kind.LIVE, HandoffTicket.taken_at.is_not(None))
        .order_by(HandoffTicket.taken_at.desc())
        .limit(_WAIT_HISTORY)
    ).all()
    if not rows:
        return DEFAULT_WAIT_MINUTES
    seconds = sum((taken - created).total_seconds() for created, taken in rows) / len(rows)
    return max(seconds / 60, 0.5)


def handoff_object(
    state: CitizenState,
    ticket_id: int | None,
    position: int | None = None,
    minutes: int | None = None,
    staff_name: str | None = None,
) -> dict[str, Any]:
    return {
        "state": str(state),
        "ticket_id": ticket_id,
        "position": position,
        "estimated_wait_minutes": minutes,
        "staff_name": staff_name if state is CitizenState.WITH_STAFF else None,
    }


def citizen_view(session: Session, ticket: HandoffTicket) -> dict[str, Any]:
    """The chat API's ``handoff`` object for a live or callback ticket."""
    state = state_of(ticket.kind, ticket.status).citizen
    if state is None:
        raise ValueError(f"a {ticket.kind} ticket has no citizen view")
    position = minutes = None
    if state is CitizenState.QUEUED:
        position = queue_position(session, ticket)
        minutes = max(1, math.ceil(position * average_wait_minutes(session)))
    staff_name = ticket.staff.name if ticket.staff else None
    return handoff_object(state, ticket.id, position, minutes, staff_name)


def callback_view(ticket_id: int | None) -> dict[str, Any]:
    """The ``handoff`` object of a callback request the action server has just stored."""
    return handoff_object(CitizenState.CALLBACK, ticket_id)


def ticket_view(session: Session, ticket: HandoffTicket, library: Library) -> dict[str, Any]:
    branch = library.branch(ticket.branch_id) if ticket.branch_id else None
    conversation = (
        session.get(Conversation, ticket.conversation_id) if ticket.conversation_id else None
    )
    queued_chat = ticket.kind == Kind.LIVE and ticket.status == Status.QUEUED
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
        "position": queue_position(session, ticket) if queued_chat else None,
    }


def note_view(note: HandoffNote, staff_name: str | None) -> dict[str, Any]:
    return {
        "id": note.id,
        "ticket_id": note.ticket_id,
        "text": note.text,
        "staff_name": staff_name,
        "created_at": iso_utc(note.created_at),
    }
