"""Handoff to staff through the real gateway, Rasa and action server (API and WebSockets).

The stack is restarted for this module with a library that is always staffed (tests must not
depend on the hour they run at), plain-http cookies and a generous per-address login limit.
The browser side of the console is tested in tests/test_staff_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import select

from bot.db.models import AuditEvent, ChatMessage, HandoffTicket
from bot.db.session import session_scope
from tests.handoff_support import (
    STAFF_PASSWORD,
    Event,
    StaffLogin,
    avoid_midnight_gap,
    configured_stack,
    end_open_handoffs,
    ensure_staff,
    is_handoff,
    is_message,
    recv_until,
    sign_everyone_out,
    staff_login,
    write_library,
)

pytestmark = pytest.mark.live



@dataclass
class HandoffStack:
    live: Any
    library: Path

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def ws(self) -> str:
        return self.live.url.replace("http", "ws", 1)

    @property
    def db(self) -> str:
        return self.live.settings.database_url

    def chat(self, session_id: str, text: str) -> dict:
        return self.live.chat(session_id, text)


@pytest.fixture(scope="module")
def stack(live: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandoffStack]:
    library = write_library(tmp_path_factory.mktemp("handoff") / "library.yml", "always")
    env = {
        "BORGER_LIBRARY_CONFIG": str(library),
        "BORGER_STAFF_COOKIE_SECURE": "0",
        # The lock-out per user name is under test here (the shared stack turns it off).
        "BORGER_LOGIN_MAX_FAILURES": "5",
        "BORGER_LOGIN_MAX_FAILURES_PER_IP": "1000",
    }
    with configured_stack(live, ("actions", "gateway"), **env):
        end_open_handoffs(live.settings.database_url)
        yield HandoffStack(live, library)
        sign_everyone_out(live.settings.database_url)
        end_open_handoffs(live.settings.database_url)


@pytest.fixture
def anna(stack: HandoffStack) -> Iterator[StaffLogin]:
    avoid_midnight_gap()
    ensure_staff(stack.db, "anna", "Anna Holm")
    login = staff_login(stack.url, "anna")
    yield login
    login.client.close()
    sign_everyone_out(stack.db)


def new_session() -> str:
    return uuid.uuid4().hex


async def staff_socket(stack: HandoffStack, login: StaffLogin) -> Any:
    socket = await websockets.connect(
        f"{stack.ws}/api/staff/ws", origin=stack.url, additional_headers={"Cookie": login.cookie},
        open_timeout=10,
    )
    await socket.send(json.dumps({"type": "hello", "csrf": login.csrf}))
    await recv_until(socket, lambda e: e["type"] == "queue")
    return socket


def transcript(stack: HandoffStack, session_id: str) -> list[dict]:
    return httpx.get(f"{stack.url}/api/conversation/{session_id}").json()["messages"]


def tracker_texts(stack: HandoffStack, session_id: str) -> list[str]:
    tracker = httpx.get(
        f"{stack.live.settings.rasa_url}/conversations/{session_id}/tracker",
        params={"token": stack.live.settings.rasa_token},
    ).json()
    return [e.get("text") or "" for e in tracker.get("events", []) if e.get("event") == "user"]


# --- access control -------------------------------------------------------------------------


def test_every_staff_endpoint_refuses_a_request_without_a_session(stack: HandoffStack) -> None:
    with httpx.Client(base_url=stack.url) as anonymous:
        page = anonymous.get("/staff", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/staff/login"
        for path in ("/api/staff/me", "/api/staff/tickets", "/api/staff/tickets/1",
                     "/api/staff/tickets/1/summary"):
            response = anonymous.get(path)
            assert response.status_code == 401, path
            assert response.json()["detail"] == "Du er ikke logget ind."
        for action in ("take", "reply", "return", "close", "notes"):
            assert anonymous.post(f"/api/staff/tickets/1/{action}", json={}).status_code == 401
        assert anonymous.post("/api/staff/logout").status_code == 401
        # A forged cookie is no session either.
        anonymous.cookies.set("borger_staff", "forged")
        assert anonymous.get("/api/staff/tickets").status_code == 401

    async def socket_status() -> int:
        try:
            await websockets.connect(f"{stack.ws}/api/staff/ws", origin=stack.url)
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code
        return 101

    assert asyncio.run(socket_status()) == 401


def test_csrf_and_origin_are_checked(stack: HandoffStack, anna: StaffLogin) -> None:
    assert anna.client.get("/api/staff/tickets").status_code == 200
    no_token = anna.client.post("/api/staff/tickets/1/take", json={})
    assert no_token.status_code == 403 and "Sikkerhedstjekket" in no_token.json()["detail"]
    wrong = anna.client.post(
        "/api/staff/tickets/1/take", json={}, headers={"X-CSRF-Token": "x" + anna.csrf}
    )
    assert wrong.status_code == 403
    cross_site = anna.client.post(
        "/api/staff/tickets/1/take", json={},
        headers={"X-CSRF-Token": anna.csrf, "Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    # Sign-in needs its own double-submit token, so a login form elsewhere cannot post here.
    with httpx.Client(base_url=stack.url) as other:
        forged = other.post("/api/staff/login", json={"username": "anna", "password": "x"})
        assert forged.status_code == 403

    async def socket_checks() -> tuple[int, int | None]:
        try:
            await websockets.connect(
                f"{stack.ws}/api/staff/ws", origin="https://evil.example",
                additional_headers={"Cookie": anna.cookie},
            )
            cross = 101
        except websockets.exceptions.InvalidStatus as exc:
            cross = exc.response.status_code
        socket = await websockets.connect(
            f"{stack.ws}/api/staff/ws", origin=stack.url, additional_headers={"Cookie": anna.cookie}
        )
        await socket.send(json.dumps({"type": "hello", "csrf": "wrong"}))
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await asyncio.wait_for(socket.recv(), 10)
        return cross, socket.close_code

    assert asyncio.run(socket_checks()) == (403, 4403)


def test_cookie_is_httponly_and_samesite_strict(stack: HandoffStack) -> None:
    ensure_staff(stack.db, "anna", "Anna Holm")
    with httpx.Client(base_url=stack.url) as client:
        token = client.get("/api/staff/csrf").json()["csrf"]
        response = client.post(
            "/api/staff/login", json={"username": "anna", "password": STAFF_PASSWORD},
            headers={"X-CSRF-Token": token},
        )
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("borger_staff=")
        ).lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert "secure" not in cookie  # BORGER_STAFF_COOKIE_SECURE=0 in this test stack
        csrf = response.json()["csrf"]
        assert client.post("/api/staff/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert client.get("/api/staff/me").status_code == 401
    sign_everyone_out(stack.db)


def test_login_rate_limit(stack: HandoffStack) -> None:
    ensure_staff(stack.db, "bo", "Bo Lund")
    with httpx.Client(base_url=stack.url) as client:
        token = client.get("/api/staff/csrf").json()["csrf"]
        headers = {"X-CSRF-Token": token}
        for _ in range(5):
            response = client.post(
                "/api/staff/login", json={"username": "bo", "password": "forkert-gæt"},
                headers=headers,
            )
            assert response.status_code == 401
        blocked = client.post(
            "/api/staff/login", json={"username": "bo", "password": STAFF_PASSWORD},
            headers=headers,
        )
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert "For mange forkerte forsøg" in blocked.json()["detail"]


# --- live handoff ---------------------------------------------------------------------------


def test_live_handoff_take_reply_hand_back(stack: HandoffStack, anna: StaffLogin) -> None:
    session = new_session()
    stack.chat(session, "Hvordan fornyer jeg mit kørekort?")

    async def scenario() -> dict:
        citizen = await websockets.connect(f"{stack.ws}/api/ws/{session}?after=2")
        staff = await staff_socket(stack, anna)
        reply = await asyncio.to_thread(stack.chat, session, "kan jeg tale med en medarbejder")
        # The bot says what happens next, then the chat is queued; staff consoles hear of it.
        assert "Jeg sender dig videre til en medarbejder" in reply["messages"][0]["text"]
        handoff = reply["handoff"]
        assert handoff["state"] == "queued" and handoff["position"] >= 1
        assert handoff["estimated_wait_minutes"] >= 1 and handoff["staff_name"] is None
        ticket_id = handoff["ticket_id"]
        await recv_until(citizen, is_handoff("queued"))
        queued = await recv_until(
            staff, lambda e: e["type"] == "queue" and e["new_ticket_id"] == ticket_id
        )
        ticket = next(t for t in queued[-1]["queue"] if t["id"] == ticket_id)
        assert ticket["status"] == "queued" and ticket["topic"] == "koerekort"

        assert anna.post(f"/api/staff/tickets/{ticket_id}/take").status_code == 200
        taken = await recv_until(citizen, is_handoff("with_staff"))
        assert taken[-1]["handoff"]["staff_name"] == "Anna Holm"
        assert any(is_message("system", "har overtaget samtalen")(e) for e in taken)
        await staff.send(json.dumps({"type": "watch", "conversation_id": session, "after": 0}))
        await recv_until(staff, lambda e: e["type"] == "watching")

        # Staff reply over the console's socket reaches the citizen live.
        await staff.send(json.dumps(
            {"type": "reply", "ticket_id": ticket_id, "text": "Hej, det er Anna.", "client_id": "1"}
        ))
        await recv_until(staff, lambda e: e["type"] == "ack" and e["ok"])
        await recv_until(citizen, is_message("staff", "Hej, det er Anna."))

        # The citizen's answer goes to staff, not to Rasa; the bot stays silent.
        answer = await asyncio.to_thread(stack.chat, session, "Tak! Mit kørekort er udløbet.")
        assert answer["messages"] == [] and answer["handoff"]["state"] == "with_staff"
        await recv_until(staff, is_message("citizen", "Mit kørekort er udløbet"))

        assert anna.post(f"/api/staff/tickets/{ticket_id}/return").status_code == 200
        back = await recv_until(citizen, is_handoff("returned_to_bot"))
        assert any(is_message("system", "tilbage til den digitale assistent")(e) for e in back)
        await citizen.close()
        await staff.close()
        return await asyncio.to_thread(stack.chat, session, "Hvordan fornyer jeg mit kørekort?")

    bot_again = asyncio.run(scenario())
    assert bot_again["topic"] == "koerekort" and bot_again["handoff"] is None
    assert "forny" in bot_again["messages"][0]["text"].lower()

    messages = transcript(stack, session)
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert [m["sender"] for m in messages] == [
        "citizen", "bot",  # the first question
        "citizen", "bot", "system",  # asks for a person, is told, queued
        "system", "staff", "citizen", "system",  # taken, reply, answer, handed back
        "citizen", "bot",  # the bot answers again
    ]
    assert "Tak! Mit kørekort er udløbet." not in tracker_texts(stack, session)
    with session_scope(stack.db) as db:
        audited = db.execute(
            select(AuditEvent.action).where(AuditEvent.conversation_id == session)
        ).scalars().all()
    assert {"take", "view_transcript", "return_to_bot"} <= set(audited)


def test_staff_close_with_outcome_and_notes(stack: HandoffStack, anna: StaffLogin) -> None:
    session = new_session()
    ticket_id = stack.chat(session, "jeg vil klage over min sagsbehandling")["handoff"]["ticket_id"]
    assert anna.post(f"/api/staff/tickets/{ticket_id}/take").status_code == 200
    note = anna.post(f"/api/staff/tickets/{ticket_id}/notes", {"text": "Henvist til kommunen"})
    assert note.status_code == 200 and note.json()["note"]["staff_name"] == "Anna Holm"
    detail = anna.client.get(f"/api/staff/tickets/{ticket_id}").json()
    assert detail["ticket"]["reason"] == "complaint"
    assert detail["notes"][0]["text"] == "Henvist til kommunen"
    summary = anna.client.get(f"/api/staff/tickets/{ticket_id}/summary").json()
    assert summary["available"] and summary["intents"][-1]["name"] == "complain"
    bad = anna.post(f"/api/staff/tickets/{ticket_id}/close", {"outcome": "nope"})
    assert bad.status_code == 422
    closed = anna.post(f"/api/staff/tickets/{ticket_id}/close", {"outcome": "referred"})
    assert closed.json()["ticket"]["outcome_label"] == "Henvist videre"
    assert transcript(stack, session)[-1]["text"].startswith("Anna Holm har afsluttet samtalen")
    # Notes are internal: never in the citizen's transcript.
    assert "Henvist til kommunen" not in json.dumps(transcript(stack, session))


def test_cpr_number_is_redacted_in_messages_to_staff(stack: HandoffStack, anna: StaffLogin) -> None:
    session = new_session()
    ticket_id = stack.chat(session, "giv mig en medarbejder")["handoff"]["ticket_id"]
    anna.post(f"/api/staff/tickets/{ticket_id}/take")
    reply = stack.chat(session, "Mit cpr er 010190-1234")
    assert "CPR-nummer" in reply["messages"][0]["text"]
    stored = json.dumps(anna.client.get(f"/api/staff/tickets/{ticket_id}").json())
    assert "010190" not in stored and "[CPR-nummer fjernet]" in stored
    assert "010190" not in json.dumps(transcript(stack, session))


def test_second_misunderstanding_in_a_row_goes_to_a_person(
    stack: HandoffStack, anna: StaffLogin
) -> None:
    session = new_session()
    first = stack.chat(session, "blorp fnarg")
    assert first["handoff"] is None and "ikke et godt svar" in first["messages"][0]["text"]
    second = stack.chat(session, "fnurp blik blak")
    # Failed twice, the citizen is offered a person rather than queued unasked.
    assert "forstår desværre ikke" in second["messages"][0]["text"]
    assert second["handoff"] is None
    buttons = [b for m in second["messages"] for b in m["buttons"]]
    yes = next(b["payload"] for b in buttons if "medarbejder" in b["title"])
    third = stack.chat(session, yes)
    assert third["handoff"]["state"] == "queued"
    with session_scope(stack.db) as db:
        tickets = db.execute(
            select(HandoffTicket.id).where(HandoffTicket.conversation_id == session)
        ).all()
    assert len(tickets) == 1


def test_citizen_can_leave_the_queue(stack: HandoffStack, anna: StaffLogin) -> None:
    session = new_session()
    assert stack.chat(session, "kan jeg tale med en medarbejder")["handoff"]["state"] == "queued"
    left = httpx.post(f"{stack.url}/api/handoff/cancel", json={"session_id": session})
    assert left.status_code == 200 and left.json()["handoff"]["state"] == "returned_to_bot"
    again = httpx.post(f"{stack.url}/api/handoff/cancel", json={"session_id": session})
    assert again.status_code == 409
    bad = httpx.post(f"{stack.url}/api/handoff/cancel", json={"session_id": "../x"})
    assert bad.status_code == 422
    # The bot is back.
    assert stack.chat(session, "Hvordan fornyer jeg mit kørekort?")["topic"] == "koerekort"

    # The same with the queue message's own button.
    session = new_session()
    queued = stack.chat(session, "kan jeg tale med en medarbejder")
    assert queued["handoff"]["state"] == "queued"
    button = transcript(stack, session)[-1]["buttons"][0]
    assert button == {"title": "Forlad køen", "payload": "/cancel_handoff"}
    left = stack.chat(session, button["payload"])
    assert left["handoff"]["state"] == "returned_to_bot"
    assert transcript(stack, session)[-2]["text"] == "Forlad køen"


def test_kiosk_call_reaches_the_staff_queue(stack: HandoffStack, anna: StaffLogin) -> None:
    session = new_session()
    response = httpx.post(
        f"{stack.url}/api/kiosk/call",
        json={"session_id": session, "branch_id": "hovedbiblioteket"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "message": "En medarbejder har fået besked og kommer hen til dig så hurtigt som "
        "muligt. Bliv gerne ved skærmen.",
    }
    queue = anna.client.get("/api/staff/tickets").json()["queue"]
    kiosk = next(t for t in queue if t["conversation_id"] == session)
    assert kiosk["kind"] == "kiosk" and kiosk["branch_name"] == "Hovedbiblioteket"
    unknown = httpx.post(
        f"{stack.url}/api/kiosk/call", json={"session_id": session, "branch_id": "atlantis"}
    )
    assert unknown.status_code == 422
    taken = anna.post(f"/api/staff/tickets/{kiosk['id']}/take")
    assert taken.json()["ticket"]["status"] == "with_staff"
    assert anna.post(f"/api/staff/tickets/{kiosk['id']}/close", {"outcome": "resolved"}).is_success


# --- offline: callback ------------------------------------------------------------------------


def test_offline_callback_when_the_library_is_closed(stack: HandoffStack, anna: StaffLogin) -> None:
    write_library(stack.library, "never")
    try:
        session = new_session()
        offer = stack.chat(session, "kan jeg tale med en medarbejder")
        text = offer["messages"][0]["text"]
        assert offer["handoff"] is None
        assert "ingen medarbejdere i chatten lige nu, fordi biblioteket er lukket" in text
        assert "kontakter dig" in text  # when: the next staffed opening (none in this config)
        assert [b["payload"] for b in offer["messages"][0]["buttons"]] == [
            "/request_callback", "/deny"
        ]
        assert "navn" in stack.chat(session, "/request_callback")["messages"][0]["text"]
        assert "telefonnummer" in stack.chat(session, "Karen Jensen")["messages"][0]["text"]
        assert "Beskriv kort" in stack.chat(session, "22 34 56 78")["messages"][0]["text"]
        done = stack.chat(session, "Hjælp til Digital Post for min mor, cpr 0101901234")
    finally:
        write_library(stack.library, "always")
    assert done["handoff"]["state"] == "callback"
    assert done["topic"] == "staff"
    confirmation = done["messages"][-1]["text"]
    ticket_id = done["handoff"]["ticket_id"]
    assert confirmation.startswith("Tak, Karen.") and f"(nr. {ticket_id})" in confirmation
    assert "22 34 56 78" in confirmation
    ticket = next(
        t for t in anna.client.get("/api/staff/tickets").json()["callbacks"]
        if t["id"] == ticket_id
    )
    assert ticket["kind"] == "callback" and ticket["status"] == "open"
    assert (ticket["name"], ticket["contact_kind"], ticket["contact"]) == (
        "Karen Jensen", "phone", "22345678"
    )
    assert "0101901234" not in ticket["description"]
    assert "[CPR-nummer fjernet]" in ticket["description"]


def test_offline_callback_when_no_staff_are_signed_in(stack: HandoffStack) -> None:
    avoid_midnight_gap()
    sign_everyone_out(stack.db)
    session = new_session()
    offer = stack.chat(session, "jeg vil gerne tale med et menneske")
    assert offer["handoff"] is None
    text = offer["messages"][0]["text"]
    assert "ingen medarbejdere i chatten lige nu." in text and "i dag inden kl. 23.59" in text


def test_unanswered_chat_turns_into_a_callback_request(
    stack: HandoffStack, anna: StaffLogin
) -> None:
    with configured_stack(stack.live, ("gateway",), BORGER_HANDOFF_TIMEOUT_SECONDS="3"):
        login = staff_login(stack.url, "anna")  # presence again after the restart
        session = new_session()

        async def scenario() -> list[Event]:
            citizen = await websockets.connect(f"{stack.ws}/api/ws/{session}")
            reply = await asyncio.to_thread(stack.chat, session, "kan jeg tale med en medarbejder")
            assert reply["handoff"]["state"] == "queued"
            events = await recv_until(citizen, is_handoff("callback"), timeout=30)
            events += await recv_until(citizen, is_message("bot", "Hvad er dit navn"), timeout=30)
            await citizen.close()
            return events

        events = asyncio.run(scenario())
        login.client.close()
    assert any(is_message("system", "ingen ledig medarbejder inden for 1 min")(e) for e in events)
    with session_scope(stack.db) as db:
        ticket = db.execute(
            select(HandoffTicket).where(HandoffTicket.conversation_id == session)
        ).scalar_one()
        assert (ticket.kind, ticket.status) == ("callback", "pending_details")
        ticket_id = ticket.id
    stack.chat(session, "Bent Nielsen")
    stack.chat(session, "bent@example.dk")
    done = stack.chat(session, "Jeg kan ikke logge på Digital Post")
    assert done["handoff"] == {
        "state": "callback", "ticket_id": ticket_id, "position": None,
        "estimated_wait_minutes": None, "staff_name": None,
    }
    with session_scope(stack.db) as db:
        ticket = db.get(HandoffTicket, ticket_id)
        assert (ticket.status, ticket.contact) == ("open", "bent@example.dk")


# --- restart --------------------------------------------------------------------------------


def test_gateway_restart_during_a_live_handoff_loses_nothing(
    stack: HandoffStack, anna: StaffLogin
) -> None:
    session = new_session()
    ticket_id = stack.chat(session, "kan jeg tale med en medarbejder")["handoff"]["ticket_id"]
    anna.post(f"/api/staff/tickets/{ticket_id}/take")
    anna.post(f"/api/staff/tickets/{ticket_id}/reply", {"text": "Hej, jeg er her."})
    stack.chat(session, "Godt, jeg har et spørgsmål om MitID")
    before = transcript(stack, session)
    last_seen = before[-1]["seq"]

    stack.live.restart("gateway")

    # Handoff state is in the database: the chat is still with Anna, her session still valid.
    assert anna.client.get("/api/staff/me").status_code == 200
    reply = anna.post(f"/api/staff/tickets/{ticket_id}/reply", {"text": "Fortæl mig mere."})
    assert reply.status_code == 200

    async def scenario() -> tuple[list[Event], list[Event]]:
        # The citizen reconnects from the last message seen and gets what was missed.
        citizen = await websockets.connect(f"{stack.ws}/api/ws/{session}?after={last_seen}")
        missed = await recv_until(citizen, is_message("staff", "Fortæl mig mere."))
        staff = await staff_socket(stack, anna)
        await staff.send(
            json.dumps({"type": "watch", "conversation_id": session, "after": last_seen})
        )
        await recv_until(staff, is_message("staff", "Fortæl mig mere."))
        answer = await asyncio.to_thread(stack.chat, session, "Min MitID-app er låst")
        assert answer["handoff"]["state"] == "with_staff" and answer["messages"] == []
        heard = await recv_until(staff, is_message("citizen", "Min MitID-app er låst"))
        await citizen.close()
        await staff.close()
        return missed, heard

    missed, _ = asyncio.run(scenario())
    assert [e["message"]["seq"] for e in missed if e["type"] == "message"] == [last_seen + 1]
    after = transcript(stack, session)
    assert after[: len(before)] == before
    assert [m["seq"] for m in after] == list(range(1, len(after) + 1))
    assert [m["text"] for m in after[len(before):]] == ["Fortæl mig mere.", "Min MitID-app er låst"]
    assert "Min MitID-app er låst" not in tracker_texts(stack, session)
    with session_scope(stack.db) as db:
        senders = db.execute(
            select(ChatMessage.sender)
            .where(ChatMessage.conversation_id == session)
            .order_by(ChatMessage.seq)
        ).scalars().all()
    assert senders == ["citizen", "bot", "system", "system", "staff", "citizen", "staff", "citizen"]
