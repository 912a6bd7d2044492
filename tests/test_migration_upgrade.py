"""Upgrading a database made by the previous release, with data in it, loses nothing.

The database is built the way the code before issue 11 built it: its migrations (0001, 0002:
the Python 3.10 / SQLAlchemy 1.4 release's head) and rows written with plain SQL, as that
code's tables hold them. Then the current code upgrades it to head, on SQLite and PostgreSQL,
and every row must still be there, unchanged, and readable through today's models.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from bot.db.models import (
    AuditEvent,
    Booking,
    ChatMessage,
    Conversation,
    CourseSession,
    Enrolment,
    HandoffNote,
    HandoffTicket,
    StaffSession,
    StaffUser,
)
from bot.db.session import current_revision, get_engine, session_scope, upgrade_database
from tests.test_migrations import head

PREVIOUS_RELEASE_HEAD = "0002"
T0 = datetime(2026, 11, 2, 9, 30)
LATER = T0 + timedelta(days=30)

# Table -> rows, in foreign-key order. Values as the old code stored them (naive datetimes,
# JSON as text, statuses from its vocabulary).
ROWS: dict[str, list[dict[str, Any]]] = {
    "branches": [
        {"id": "hovedbiblioteket", "name": "Hovedbiblioteket", "address": "Torvegade 12"},
        {"id": "nord", "name": "Bibliotek Nord", "address": "Nordvej 3"},
    ],
    "help_slots": [
        {"id": 1, "branch_id": "hovedbiblioteket", "starts_at": LATER,
         "ends_at": LATER + timedelta(minutes=30), "capacity": 1},
        {"id": 2, "branch_id": "nord", "starts_at": LATER + timedelta(days=1),
         "ends_at": LATER + timedelta(days=1, minutes=30), "capacity": 1},
    ],
    "bookings": [
        {"id": 1, "reference": "ABC-234", "slot_id": 1, "topic": "mitid", "name": "Karen Jensen",
         "contact_kind": "phone", "contact": "22334455", "status": "booked", "created_at": T0,
         "cancelled_at": None},
        {"id": 2, "reference": "DEF-567", "slot_id": 2, "topic": "andet", "name": "Bent Nielsen",
         "contact_kind": "email", "contact": "bent@example.dk", "status": "cancelled",
         "created_at": T0, "cancelled_at": T0 + timedelta(hours=1)},
    ],
    "courses": [
        {"id": "mitid-begyndere", "title": "MitID for begyndere", "description": "Kom i gang.",
         "topic": "mitid"},
    ],
    "course_sessions": [
        {"id": 1, "course_id": "mitid-begyndere", "branch_id": "hovedbiblioteket",
         "starts_at": LATER, "ends_at": LATER + timedelta(hours=2), "seats": 1, "seats_taken": 1},
    ],
    "enrolments": [
        {"id": 1, "reference": "GHJ-234", "session_id": 1, "name": "Inge Hansen",
         "contact_kind": "phone", "contact": "22334466", "status": "enrolled", "created_at": T0,
         "queued_at": None, "promoted_at": None, "cancelled_at": None},
        {"id": 2, "reference": "KMN-345", "session_id": 1, "name": "Ole Jørgensen",
         "contact_kind": "email", "contact": "ole@example.dk", "status": "waitlisted",
         "created_at": T0, "queued_at": T0, "promoted_at": None, "cancelled_at": None},
    ],
    "conversations": [
        {"id": "chat-a", "channel": "web", "branch_id": None, "topic": "mitid", "state": "bot",
         "assigned_staff": None, "created_at": T0, "updated_at": T0},
        {"id": "chat-b", "channel": "web", "branch_id": None, "topic": "staff",
         "state": "with_staff", "assigned_staff": "anna", "created_at": T0, "updated_at": T0},
        {"id": "kiosk-c", "channel": "kiosk", "branch_id": "nord", "topic": None,
         "state": "closed", "assigned_staff": None, "created_at": T0, "updated_at": T0},
    ],
    "chat_messages": [
        {"id": 1, "conversation_id": "chat-a", "seq": 1, "sender": "bot", "text": "Hej!",
         "payload": json.dumps({"buttons": [{"title": "MitID", "payload": "/ask_mitid"}],
                                "welcome": True}), "created_at": T0},
        {"id": 2, "conversation_id": "chat-a", "seq": 2, "sender": "citizen", "text": "MitID",
         "payload": json.dumps({"button_payload": "/ask_mitid"}), "created_at": T0},
        {"id": 3, "conversation_id": "chat-b", "seq": 1, "sender": "staff", "text": "Hej!",
         "payload": json.dumps({"staff_id": 1, "staff_name": "Anna Holm"}), "created_at": T0},
        {"id": 4, "conversation_id": "chat-b", "seq": 2, "sender": "system",
         "text": "[CPR-nummer fjernet]", "payload": None, "created_at": T0},
    ],
    "staff_users": [
        {"id": 1, "username": "anna", "name": "Anna Holm", "password_hash": "$argon2id$v=19$x",
         "created_at": T0, "last_login_at": T0, "disabled_at": None},
    ],
    "staff_sessions": [
        {"id": "f" * 64, "staff_id": 1, "csrf_token": "c" * 43, "created_at": T0,
         "last_seen_at": T0, "expires_at": T0 + timedelta(hours=12), "revoked_at": None},
    ],
    "handoff_tickets": [
        {"id": 1, "kind": "live", "status": "with_staff", "conversation_id": "chat-b",
         "branch_id": None, "topic": "mitid", "reason": "requested", "name": None,
         "contact_kind": None, "contact": None, "description": None, "staff_id": 1,
         "outcome": None, "created_at": T0, "updated_at": T0, "taken_at": T0, "closed_at": None,
         "expires_at": T0 + timedelta(minutes=5), "respond_by": None},
        {"id": 2, "kind": "callback", "status": "open", "conversation_id": "chat-a",
         "branch_id": None, "topic": "digital_post", "reason": "callback",
         "name": "Karen Jensen", "contact_kind": "phone", "contact": "22334455",
         "description": "Hjælp til Digital Post", "staff_id": None, "outcome": None,
         "created_at": T0, "updated_at": T0, "taken_at": None, "closed_at": None,
         "expires_at": None, "respond_by": T0 + timedelta(days=1)},
        {"id": 3, "kind": "kiosk", "status": "closed", "conversation_id": "kiosk-c",
         "branch_id": "nord", "topic": None, "reason": "kiosk", "name": None,
         "contact_kind": None, "contact": None, "description": None, "staff_id": 1,
         "outcome": "resolved", "created_at": T0, "updated_at": T0, "taken_at": T0,
         "closed_at": T0, "expires_at": None, "respond_by": None},
    ],
    "handoff_notes": [
        {"id": 1, "ticket_id": 2, "staff_id": 1, "text": "Ring efter kl. 10.", "created_at": T0},
    ],
    "audit_events": [
        {"id": 1, "created_at": T0, "action": "login", "staff_id": 1, "username": "anna",
         "ip": "127.0.0.1", "ticket_id": None, "conversation_id": None, "detail": None},
        {"id": 2, "created_at": T0, "action": "close", "staff_id": 1, "username": "anna",
         "ip": None, "ticket_id": 3, "conversation_id": "kiosk-c",
         "detail": json.dumps({"outcome": "resolved"})},
    ],
}
KEYS = {"staff_sessions": "id", "branches": "id", "courses": "id", "conversations": "id"}


def _insert_with_plain_sql(url: str) -> None:
    with get_engine(url).begin() as conn:
        for table, rows in ROWS.items():
            columns = list(rows[0])
            names = ", ".join(columns)
            values = ", ".join(f":{c}" for c in columns)
            conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({values})"), rows)
        if conn.dialect.name == "postgresql":
            # Explicit ids do not move PostgreSQL's sequences; the old code never wrote ids.
            for table, rows in ROWS.items():
                if KEYS.get(table, "id") == "id" and isinstance(rows[0]["id"], int):
                    conn.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :n)"),
                        {"n": max(r["id"] for r in rows)},
                    )


def _snapshot(url: str) -> dict[str, list[tuple]]:
    """The rows as the previous release wrote them (its columns only: later migrations may
    add columns, e.g. 0003's reminder_sent_at and ended_at)."""
    with get_engine(url).connect() as conn:
        return {
            table: [
                tuple(row)
                for row in conn.execute(
                    text(
                        f"SELECT {', '.join(rows[0])} FROM {table} "
                        f"ORDER BY {KEYS.get(table, 'id')}"
                    )
                )
            ]
            for table, rows in ROWS.items()
        }


def test_upgrade_from_the_previous_release_keeps_every_row(empty_url: str) -> None:
    upgrade_database(empty_url, PREVIOUS_RELEASE_HEAD)
    _insert_with_plain_sql(empty_url)
    before = _snapshot(empty_url)
    assert sum(len(rows) for rows in before.values()) == sum(len(r) for r in ROWS.values())

    upgrade_database(empty_url)

    assert current_revision(empty_url) == head()
    assert _snapshot(empty_url) == before
    with session_scope(empty_url, read_only=True) as session:
        booking = session.execute(
            select(Booking).where(Booking.reference == "ABC-234")
        ).scalar_one()
        assert booking.slot.branch.name == "Hovedbiblioteket"
        assert booking.slot.starts_at == LATER
        course_session = session.get(CourseSession, 1)
        assert course_session is not None and course_session.seats_left == 0
        statuses = session.execute(select(Enrolment.status).order_by(Enrolment.id)).scalars()
        assert list(statuses) == ["enrolled", "waitlisted"]
        welcome = session.execute(
            select(ChatMessage).where(ChatMessage.conversation_id == "chat-a", ChatMessage.seq == 1)
        ).scalar_one()
        assert welcome.payload == json.loads(ROWS["chat_messages"][0]["payload"])
        conversation = session.get(Conversation, "chat-b")
        assert conversation is not None and [m.seq for m in conversation.messages] == [1, 2]
        live = session.get(HandoffTicket, 1)
        assert live is not None and live.staff is not None and live.staff.name == "Anna Holm"
        note = session.execute(select(HandoffNote)).scalar_one()
        assert note.staff is not None and note.staff.username == "anna"
        assert session.execute(select(StaffSession)).scalar_one().staff.active
        anna = session.get(StaffUser, 1)
        assert anna is not None and anna.role == "staff"  # accounts from before roles: staff
        detail = session.execute(select(AuditEvent.detail).where(AuditEvent.id == 2)).scalar_one()
        assert detail == {"outcome": "resolved"}

    # New rows after the upgrade take fresh ids and fit the old ones.
    with session_scope(empty_url) as session:
        session.add(ChatMessage(conversation_id="chat-a", seq=3, sender="bot", text="Svar."))
        session.flush()
        assert session.execute(select(ChatMessage.id).where(ChatMessage.seq == 3)).scalar_one() > 4
