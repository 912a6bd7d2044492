"""The handoff service (bot/services/handoff.py) on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.config import load_settings
from bot.db.models import AuditEvent, ChatMessage, Conversation, utc_now
from bot.db.session import session_scope
from bot.db.transcripts import add_message, get_or_create_conversation
from bot.language.privacy import REDACTED
from bot.services.handoff import HandoffError, HandoffService, response_promise
from bot.services.library import load_library
from tests.handoff_support import DEFAULT_LIBRARY, add_staff, avoid_midnight_gap, write_library


@pytest.fixture
def always_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_library(tmp_path / "library.yml", "always")
    monkeypatch.setenv("BORGER_LIBRARY_CONFIG", str(path))
    avoid_midnight_gap()
    return path


def chat(url: str, conversation_id: str, *texts: str) -> None:
    with session_scope(url) as session:
        get_or_create_conversation(session, conversation_id)
        for text in texts:
            add_message(session, conversation_id, "citizen", text)


def conversation_state(url: str, conversation_id: str) -> str:
    with session_scope(url) as session:
        return session.get(Conversation, conversation_id).state


def senders(url: str, conversation_id: str) -> list[tuple[str, str]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(ChatMessage.sender, ChatMessage.text)
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.seq)
        ).all()
        return [(s, t) for s, t in rows]


def test_queue_positions_and_idempotent_enqueue(db_url: str, always_open: Path) -> None:
    service = HandoffService(load_settings(database_url=db_url))
    chat(db_url, "c1", "kan jeg tale med en medarbejder")
    first = service.enqueue("c1", "requested", "staff")
    assert first.new_ticket
    assert first.handoff == {
        "state": "queued", "ticket_id": first.ticket["id"], "position": 1,
        "estimated_wait_minutes": 2, "staff_name": None,
    }
    assert first.messages[0]["sender"] == "system"
    assert "nummer 1 i køen" in first.messages[0]["text"]
    assert first.messages[0]["buttons"] == [{"title": "Forlad køen", "payload": "/cancel_handoff"}]
    assert conversation_state(db_url, "c1") == "queued"

    again = service.enqueue("c1", "requested", "staff")
    assert not again.new_ticket and again.messages == []
    assert again.ticket["id"] == first.ticket["id"]

    second = service.enqueue("c2", "frustrated", "mitid")
    assert second.handoff["position"] == 2 and second.handoff["estimated_wait_minutes"] == 4
    assert second.ticket["reason_label"] == "Utilfreds med assistenten"
    assert [t["id"] for t in service.tickets()["queue"]] == [
        first.ticket["id"], second.ticket["id"]
    ]
    assert service.current("c2")["position"] == 2
    assert service.current("nobody") is None


def test_take_reply_and_hand_back_to_the_bot(db_url: str, always_open: Path) -> None:
    service = HandoffService(load_settings(database_url=db_url))
    anna, bo = add_staff(db_url), add_staff(db_url, "bo", "Bo Lund")
    chat(db_url, "c1", "hjælp")
    ticket_id = service.enqueue("c1").ticket["id"]
    behind = service.enqueue("c2")

    taken = service.take(ticket_id, anna, "10.0.0.1")
    assert taken.handoff["state"] == "with_staff" and taken.handoff["staff_name"] == "Anna Holm"
    assert taken.messages[0]["text"].startswith("Anna Holm fra biblioteket har overtaget")
    assert conversation_state(db_url, "c1") == "with_staff"
    assert service.current("c2")["position"] == 1  # moved up
    assert behind.handoff["position"] == 2

    with pytest.raises(HandoffError, match="allerede taget af Anna Holm"):
        service.take(ticket_id, bo)
    with pytest.raises(HandoffError) as not_yours:
        service.reply(ticket_id, bo, "Hej fra Bo")
    assert not_yours.value.status_code == 403

    reply = service.reply(ticket_id, anna, "Hej, mit CPR er 010190-1234? Nej, det er borgerens")
    assert reply.messages[0]["sender"] == "staff"
    assert REDACTED in reply.messages[0]["text"] and "010190" not in reply.messages[0]["text"]

    back = service.return_to_bot(ticket_id, anna)
    assert back.handoff["state"] == "returned_to_bot"
    assert "tilbage til den digitale assistent" in back.messages[0]["text"]
    assert conversation_state(db_url, "c1") == "bot"
    with pytest.raises(HandoffError):
        service.reply(ticket_id, anna, "for sent")
    assert [s for s, _ in senders(db_url, "c1")] == [
        "citizen", "system", "system", "staff", "system"
    ]
    with session_scope(db_url) as session:
        actions = session.execute(select(AuditEvent.action)).scalars().all()
    assert {"take", "return_to_bot"} <= set(actions)


def test_close_needs_a_known_outcome_and_ends_the_conversation(
    db_url: str, always_open: Path
) -> None:
    service = HandoffService(load_settings(database_url=db_url))
    anna = add_staff(db_url)
    ticket_id = service.enqueue("c1").ticket["id"]
    service.take(ticket_id, anna)
    with pytest.raises(HandoffError) as bad:
        service.close(ticket_id, anna, "whatever")
    assert bad.value.status_code == 422
    closed = service.close(ticket_id, anna, "resolved")
    assert closed.handoff["state"] == "closed"
    assert closed.ticket["outcome_label"] == "Løst"
    assert conversation_state(db_url, "c1") == "closed"
    assert service.tickets()["queue"] == []
    assert service.latest("c1")["state"] == "closed"


def test_only_one_of_two_staff_gets_the_chat(db_url: str, always_open: Path) -> None:
    service = HandoffService(load_settings(database_url=db_url))
    staff = [add_staff(db_url, f"s{i}", f"Medarbejder {i}") for i in range(4)]
    ticket_id = service.enqueue("c1").ticket["id"]
    results: list[str] = []
    barrier = threading.Barrier(len(staff))

    def grab(staff_id: int) -> None:
        barrier.wait()
        try:
            service.take(ticket_id, staff_id)
            results.append("won")
        except HandoffError:
            results.append("lost")

    threads = [threading.Thread(target=grab, args=(s,)) for s in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["lost", "lost", "lost", "won"]
    with session_scope(db_url) as session:
        taken = session.execute(
            select(ChatMessage).where(ChatMessage.text.contains("har overtaget"))
        ).scalars().all()
    assert len(taken) == 1


def test_citizen_can_leave_the_queue(sqlite_url: str, always_open: Path) -> None:
    service = HandoffService(load_settings(database_url=sqlite_url))
    ticket_id = service.enqueue("c1").ticket["id"]
    left = service.cancel_by_citizen("c1")
    assert left is not None and left.handoff["state"] == "returned_to_bot"
    assert left.ticket["status"] == "cancelled"
    assert conversation_state(sqlite_url, "c1") == "bot"
    assert service.cancel_by_citizen("c1") is None
    with pytest.raises(HandoffError):
        service.take(ticket_id, add_staff(sqlite_url))


def test_timeout_turns_the_chat_into_a_callback_request(
    db_url: str, always_open: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORGER_HANDOFF_TIMEOUT_SECONDS", "120")
    service = HandoffService(load_settings(database_url=db_url))
    ticket_id = service.enqueue("c1", "requested", "digital_post").ticket["id"]
    expiry = service.next_expiry()
    assert expiry is not None and 110 <= (expiry - utc_now()).total_seconds() <= 120
    assert service.expire_due() == []  # not yet

    (change,) = service.expire_due(now=utc_now() + timedelta(seconds=121))
    assert change.handoff == {
        "state": "callback", "ticket_id": ticket_id, "position": None,
        "estimated_wait_minutes": None, "staff_name": None,
    }
    assert change.ticket["kind"] == "callback" and change.ticket["status"] == "pending_details"
    assert change.messages[0]["text"].startswith(
        "Der var desværre ingen ledig medarbejder inden for 2 min."
    )
    assert "i dag inden kl. 23.59" in change.messages[0]["text"]
    assert conversation_state(db_url, "c1") == "bot"
    assert service.expire_due(now=utc_now() + timedelta(seconds=121)) == []
    assert service.next_expiry() is None

    # The bot's callback form then completes that same ticket.
    ticket, promise = service.create_callback(
        "c1", "Karen Jensen", "phone", "22345678", "Digital Post til min mor, cpr 0101901234"
    )
    assert ticket["id"] == ticket_id and ticket["status"] == "open"
    assert ticket["topic"] == "digital_post"
    assert REDACTED in ticket["description"] and "0101901234" not in ticket["description"]
    assert promise == "i dag inden kl. 23.59"
    assert [t["id"] for t in service.tickets()["callbacks"]] == [ticket_id]


def test_timeout_of_an_abandoned_chat_just_cancels_it(
    sqlite_url: str, always_open: Path
) -> None:
    service = HandoffService(load_settings(database_url=sqlite_url))
    service.enqueue("c1")
    with session_scope(sqlite_url) as session:
        session.get(Conversation, "c1").state = "closed"  # the widget's "end chat"
    (change,) = service.expire_due(now=utc_now() + timedelta(days=1))
    assert change.ticket["status"] == "cancelled" and change.handoff is None


def test_callback_without_a_waiting_ticket_opens_a_new_one(sqlite_url: str) -> None:
    service = HandoffService(load_settings(database_url=sqlite_url))
    chat(sqlite_url, "c9", "ring mig op")
    ticket, _ = service.create_callback(
        "c9", "Bent Nielsen", "email", "bent@example.dk", "Flytning", topic="flytning"
    )
    assert ticket["kind"] == "callback" and ticket["status"] == "open"
    assert ticket["reason"] == "callback" and ticket["respond_by"]
    anna = add_staff(sqlite_url)
    with pytest.raises(HandoffError):
        service.return_to_bot(ticket["id"], anna)
    closed = service.close(ticket["id"], anna, "callback_agreed")
    assert closed.ticket["status"] == "closed" and closed.ticket["staff_name"] == "Anna Holm"
    assert closed.messages == [] and closed.handoff is None


def test_reading_a_transcript_is_audited(db_url: str, always_open: Path) -> None:
    service = HandoffService(load_settings(database_url=db_url))
    anna = add_staff(db_url)
    chat(db_url, "c1", "hej", "jeg vil tale med en person")
    ticket_id = service.enqueue("c1").ticket["id"]
    service.add_note(ticket_id, anna, "Ringede også i går")
    detail = service.ticket_detail(ticket_id, anna, "anna", "10.0.0.5")
    assert [m["text"] for m in detail["messages"]][:2] == ["hej", "jeg vil tale med en person"]
    assert detail["notes"][0]["text"] == "Ringede også i går"
    assert detail["notes"][0]["staff_name"] == "Anna Holm"
    assert [m["seq"] for m in service.messages_after("c1", 2, anna, "anna")] == [3]
    with session_scope(db_url) as session:
        views = session.execute(
            select(AuditEvent).where(AuditEvent.action == "view_transcript")
        ).scalars().all()
    assert len(views) == 2
    assert {(v.staff_id, v.conversation_id) for v in views} == {(anna, "c1")}
    assert views[0].ip == "10.0.0.5"


def test_kiosk_call_when_staffed_and_when_not(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, always_open: Path
) -> None:
    service = HandoffService(load_settings(database_url=sqlite_url))
    ok, message, change = service.kiosk_call("k1", "hovedbiblioteket")
    assert ok and "kommer hen til dig" in message
    assert change is not None and change.new_ticket
    assert change.ticket["kind"] == "kiosk" and change.ticket["branch_name"] == "Hovedbiblioteket"
    ok, message, change = service.kiosk_call("k1", "hovedbiblioteket")
    assert ok and change is None and "allerede" in message
    assert service.tickets()["queue"][0]["kind_label"] == "Kiosk"
    with pytest.raises(HandoffError):
        service.kiosk_call("k2", "atlantis")

    write_library(always_open, "never")  # the service re-reads its library config file
    ok, message, change = service.kiosk_call("k3", "nord")
    assert not ok and change is None
    assert "Der er ingen medarbejdere på Bibliotek Nord lige nu" in message


def test_availability_needs_open_library_and_signed_in_staff(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, always_open: Path
) -> None:
    from bot.services.staff_auth import login
    from tests.handoff_support import STAFF_PASSWORD

    service = HandoffService(load_settings(database_url=sqlite_url))
    assert service.library_open() and not service.live_available()
    add_staff(sqlite_url)
    login(sqlite_url, "anna", STAFF_PASSWORD)
    assert service.live_available()
    write_library(always_open, "never")  # the service re-reads its library config file
    assert not service.live_available()


@pytest.mark.parametrize(
    ("now", "promise"),
    [
        # Wednesday 25 November 2026: Hovedbiblioteket is staffed 10-18.
        (datetime(2026, 11, 25, 11, 0), "i dag inden kl. 18"),
        (datetime(2026, 11, 25, 7, 30), "i dag mellem kl. 10 og 18"),
        (datetime(2026, 11, 25, 21, 0), "i morgen, torsdag den 26. november, mellem kl. 10 og 19"),
        # Saturday after 14: Sunday is not staffed, so Monday.
        (datetime(2026, 11, 28, 15, 0), "mandag den 30. november mellem kl. 10 og 18"),
        # 23 December evening: 24-26 December are closed days.
        # 23 December evening: 24-26 December are closed days and the 27th is a Sunday.
        (datetime(2026, 12, 23, 20, 0), "mandag den 28. december mellem kl. 10 og 18"),
    ],
)
def test_response_promise_follows_the_staffed_hours(now: datetime, promise: str) -> None:
    library = load_library(DEFAULT_LIBRARY)
    deadline, text = response_promise(now, library)
    assert text == promise
    assert deadline is not None and deadline > now
