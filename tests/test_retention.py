"""Retention and erasure on both engines: `python -m bot purge`, "Slet samtalen", the erasure
and export of one citizen's data (GDPR art. 17/15), the CPR scrub of stored data and the
masked transcripts for analytics. Rasa's tracker table is created with Rasa's columns in the
same database (bot/db/tracker_store.py); the live test in test_security_live.py checks the
real tracker store Rasa writes."""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text, update

from bot.cli import main
from bot.core.config import Settings, load_settings
from bot.db.models import (
    AuditEvent,
    Booking,
    ChatMessage,
    Conversation,
    Enrolment,
    HandoffNote,
    HandoffTicket,
    utc_now,
)
from bot.db.session import dispose_engine, get_engine, session_scope, upgrade_database
from bot.db.tracker_store import TRACKER_EVENTS, TRACKER_METADATA, tracker_senders
from bot.db.transcripts import add_message, get_or_create_conversation
from bot.language.privacy import REDACTED
from bot.services.booking import book_slot
from bot.services.courses import enrol
from bot.services.handoff import HandoffService
from bot.services.privacy import delete_conversation, purge
from tests.fixtures_db import add_course_session, add_slot, future

CPR = "01 01 90 12 34"


def settings_for(url: str) -> Settings:
    return load_settings(database_url=url, tracker_database_url=url)


def add_tracker(url: str, sender_id: str, age_days: float, text_value: str = "hej") -> None:
    TRACKER_METADATA.create_all(get_engine(url))
    stamp = time.time() - age_days * 86400
    with get_engine(url).begin() as conn:
        for offset, event in enumerate(("action", "user", "bot")):
            data = {"event": event, "timestamp": stamp + offset, "text": text_value}
            conn.execute(
                insert(TRACKER_EVENTS).values(
                    sender_id=sender_id, type_name=event, timestamp=stamp + offset,
                    data=json.dumps(data),
                )
            )


def add_chat(url: str, conversation_id: str, age_days: float, *texts: str) -> None:
    with session_scope(url) as session:
        get_or_create_conversation(session, conversation_id)
        for value in texts:
            add_message(session, conversation_id, "citizen", value)
        bot = add_message(session, conversation_id, "bot", "Svar", {"feedback": "up"})
        bot.payload = {"feedback": "up"}
    then = utc_now() - timedelta(days=age_days)
    with session_scope(url) as session:
        session.execute(
            update(Conversation).where(Conversation.id == conversation_id)
            .values(updated_at=then, created_at=then)
        )


def add_ticket(url: str, conversation_id: str | None, age_days: float, **values: str) -> int:
    then = utc_now() - timedelta(days=age_days)
    with session_scope(url) as session:
        ticket = HandoffTicket(
            kind=values.pop("kind", "callback"), status=values.pop("status", "closed"),
            conversation_id=conversation_id, reason="callback", created_at=then, **values,
        )
        session.add(ticket)
        session.flush()
        session.add(HandoffNote(ticket_id=ticket.id, text="Ringet op"))
        ticket_id = ticket.id
    with session_scope(url) as session:
        session.execute(
            update(HandoffTicket).where(HandoffTicket.id == ticket_id).values(updated_at=then)
        )
    return ticket_id


def count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def tracker_rows(url: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(TRACKER_EVENTS)).scalar_one()


def test_purge_keeps_what_is_young_and_deletes_the_rest(db_url: str) -> None:
    settings = settings_for(db_url)
    add_chat(db_url, "old-chat", 40, "hvordan fornyer jeg mit pas")
    add_chat(db_url, "new-chat", 2, "hej")
    add_tracker(db_url, "old-chat", 40)
    add_tracker(db_url, "new-chat", 2)
    add_ticket(db_url, None, 100)
    add_ticket(db_url, "new-chat", 5)

    report = purge(settings)  # defaults: transcripts 30 days, tickets 90 days
    assert (report.conversations, report.messages, report.feedback) == (1, 2, 1)
    assert (report.trackers, report.tickets, report.notes) == (1, 1, 1)
    assert tracker_senders(db_url) == {"new-chat"}
    with session_scope(db_url) as session:
        assert session.execute(select(Conversation.id)).scalars().all() == ["new-chat"]
    assert count(db_url, HandoffTicket) == 1


def test_purge_with_zero_days_leaves_nothing_older(db_url: str) -> None:
    slot = add_slot(db_url, future(2))
    add_chat(db_url, "a-chat", 0.01, "min mail er anna@example.dk")
    add_tracker(db_url, "a-chat", 0.01)
    add_ticket(db_url, "a-chat", 0.01, status="open", name="Anna", contact_kind="email",
               contact="anna@example.dk")
    with session_scope(db_url) as session:
        book_slot(session, slot, "Anna Andersen", "anna@example.dk")  # upcoming: kept

    out = io.StringIO()
    assert main(
        ["--database-url", db_url, "purge", "--older-than-days", "0",
         "--tracker-database-url", db_url], out=out,
    ) == 0
    assert "1 conversation(s) with 2 message(s) and 1 rating(s)" in out.getvalue()
    assert "1 Rasa tracker(s) with 3 event(s); 1 handoff ticket(s) with 1 note(s)" in (
        out.getvalue()
    )
    for model in (Conversation, ChatMessage, HandoffTicket, HandoffNote):
        assert count(db_url, model) == 0, model
    assert tracker_rows(db_url) == 0
    assert count(db_url, Booking) == 1  # its appointment has not happened yet


def test_delete_conversation_leaves_a_closed_empty_tombstone(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "library.yml"
    config.write_text(
        Path("config/library.yml").read_text().replace('"10:00-18:00"', '"00:00-23:59"'),
        encoding="utf-8",
    )
    monkeypatch.setenv("BORGER_LIBRARY_CONFIG", str(config))
    settings = settings_for(db_url)
    add_chat(db_url, "mine", 0, "jeg bor på Torvegade 1")
    add_tracker(db_url, "mine", 0)
    add_tracker(db_url, "someone-else", 0)
    HandoffService(settings).enqueue("mine")

    assert delete_conversation(settings, "mine")
    assert not delete_conversation(settings, "never-existed")
    with session_scope(db_url) as session:
        conversation = session.get(Conversation, "mine")
        assert conversation.state == "closed" and conversation.messages == []
        ticket = session.execute(select(HandoffTicket)).scalar_one()
        assert (ticket.status, ticket.conversation_id) == ("cancelled", None)
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "citizen_deleted_conversation")
        ).scalar_one()
        assert audit.conversation_id is None
    assert tracker_senders(db_url) == {"someone-else"}


def test_erase_and_export_one_citizen(db_url: str, tmp_path: Path) -> None:
    slot = add_slot(db_url, future(2))
    other_slot = add_slot(db_url, future(3))
    course = add_course_session(db_url, seats=1)
    with session_scope(db_url) as session:
        book_slot(session, slot, "Anna Andersen", "22 33 44 55")
        book_slot(session, other_slot, "Bo Berg", "bo@example.dk")
        enrol(session, course, "Anna Andersen", "22334455")
        enrol(session, course, "Bo Berg", "bo@example.dk")  # wait-listed behind Anna
    add_chat(db_url, "annas-chat", 0, "Ring til mig på +45 22 33 44 55")
    add_chat(db_url, "bos-chat", 0, "bo@example.dk")
    add_tracker(db_url, "annas-chat", 0)
    add_tracker(db_url, "bos-chat", 0)
    add_ticket(db_url, None, 0, status="open", name="Anna", contact_kind="phone",
               contact="22334455")

    def cli(*args: str) -> str:
        out = io.StringIO()
        code = main(["--database-url", db_url, "citizen", *args,
                     "--tracker-database-url", db_url], out=out)
        assert code == 0
        return out.getvalue()

    exported = tmp_path / "anna.json"
    cli("export", "--contact", "22 33 44 55", "--staff", "karen", "--out", str(exported))
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert [b["name"] for b in data["bookings"]] == ["Anna Andersen"]
    assert [e["name"] for e in data["course_enrolments"]] == ["Anna Andersen"]
    assert len(data["requests_to_staff"]) == 1 and data["requests_to_staff"][0]["notes"]
    assert len(data["conversations"]) == 1
    assert "22 33 44 55" in data["conversations"][0]["messages"][0]["text"]

    output = cli("erase", "--contact", "22334455", "--staff", "karen")
    assert "1 bookings" in output and "1 course enrolments" in output
    with session_scope(db_url) as session:
        assert session.execute(select(Booking.name)).scalars().all() == ["Bo Berg"]
        bo = session.execute(select(Enrolment)).scalar_one()
        assert (bo.name, bo.status) == ("Bo Berg", "enrolled")  # took Anna's freed seat
        assert session.execute(select(Conversation.id)).scalars().all() == ["bos-chat"]
        assert session.scalar(select(func.count()).select_from(HandoffTicket)) == 0
        actions = dict(
            session.execute(select(AuditEvent.action, AuditEvent.detail)
                            .where(AuditEvent.username == "karen")).all()
        )
    assert actions["citizen_erased"]["bookings"] == 1
    assert actions["citizen_exported"]["article"] == "GDPR art. 15"
    assert "22334455" not in json.dumps(actions)
    assert tracker_senders(db_url) == {"bos-chat"}


def test_scrub_cpr_of_stored_data(db_url: str) -> None:
    with session_scope(db_url) as session:
        get_or_create_conversation(session, "old")
        # Stored as the old, narrower redaction let it through.
        session.add(ChatMessage(conversation_id="old", seq=1, sender="citizen",
                                text=f"mit cpr er {CPR}", payload={"echo": CPR}))
    ticket = add_ticket(db_url, "old", 0, status="open", description=f"cpr {CPR}")
    with session_scope(db_url) as session:
        session.add(HandoffNote(ticket_id=ticket, text="borgerens cpr 0101 90 1234"))
    add_tracker(db_url, "old", 0, text_value=f"mit cpr er {CPR}")

    out = io.StringIO()
    assert main(["--database-url", db_url, "scrub-cpr", "--tracker-database-url", db_url],
                out=out) == 0
    assert "1 messages, 1 notes, 1 tickets, 3 tracker events" in out.getvalue()
    with session_scope(db_url) as session:
        message = session.execute(select(ChatMessage)).scalar_one()
        assert message.text == f"mit cpr er {REDACTED}" and message.payload == {"echo": REDACTED}
        notes = session.execute(select(HandoffNote.text)).scalars().all()
        assert all("1234" not in n for n in notes)
    with get_engine(db_url).connect() as conn:
        assert all("12 34" not in d for d in conn.execute(select(TRACKER_EVENTS.c.data)).scalars())


def test_migration_scrubs_what_was_stored_before(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, "0002")
    with get_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO conversations (id, channel, state, created_at, updated_at)"
                          " VALUES ('c', 'web', 'bot', '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO chat_messages (conversation_id, seq, sender, text,"
                          " created_at) VALUES ('c', 1, 'citizen', 'cpr 01.01.90-1234',"
                          " '2026-01-01')"))
    upgrade_database(url)
    with get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT text FROM chat_messages")).scalar_one() == (
            f"cpr {REDACTED}"
        )
    dispose_engine(url)


def test_transcripts_for_analytics_are_masked(sqlite_url: str) -> None:
    add_chat(sqlite_url, "secret-session-id-0001", 0,
             "ring på 22 33 44 55 eller skriv til anna@example.dk", f"cpr {CPR}")
    out = io.StringIO()
    assert main(["--database-url", sqlite_url, "transcripts", "export"], out=out) == 0
    line = json.loads(out.getvalue().splitlines()[0])
    texts = [m["text"] for m in line["messages"]]
    assert texts[0] == "ring på [telefonnummer] eller skriv til [e-mail]"
    assert texts[1] == f"cpr {REDACTED}"
    assert "secret-session-id-0001" not in out.getvalue()
    assert line["messages"][2]["feedback"] == "up"
