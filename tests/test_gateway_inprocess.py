"""The gateway in-process: FastAPI's TestClient, a real SQLite database, and a stand-in for
Rasa (ChatService takes its client), so the chat API, the handoff to staff and the one Danish
error handler are tested without starting Rasa or the action server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.core.config import load_settings
from bot.gateway.app import create_app
from bot.gateway.rasa_client import AssistantUnavailable, TurnResult
from bot.gateway.security import BAD_SESSION_ID
from bot.language.privacy import REDACTED
from tests.handoff_support import STAFF_PASSWORD, add_staff, avoid_midnight_gap, write_library

# Session ids are the citizen's bearer secret: at least 22 characters (bot/gateway/security.py).
LONG_ID = b"a" * 22


def sid(name: str) -> str:
    return f"{name}-in-process-test-session"


@dataclass
class FakeRasa:
    """RasaClient's methods; answers come from ``replies`` (text -> messages, intent)."""

    replies: dict[str, tuple[list[dict[str, Any]], str]] = field(default_factory=dict)
    heard: list[str] = field(default_factory=list)
    prefetched: list[str] = field(default_factory=list)
    down: bool = False

    async def send(self, session_id: str, text: str, metadata: dict[str, Any]) -> TurnResult:
        if self.down:
            raise AssistantUnavailable("connection refused")
        self.heard.append(text)
        messages, intent = self.replies.get(text, ([{"text": "Det ved jeg ikke."}], "nlu_fallback"))
        return TurnResult(messages=messages, intent=intent)

    async def prefetch(self, text: str) -> None:
        self.prefetched.append(text)

    async def tracker(self, session_id: str) -> dict[str, Any]:
        return {"events": [], "slots": {"topic": "mitid"}}

    async def restart(self, session_id: str) -> None:
        return None

    async def intents(self) -> set[str]:
        return {"ask_mitid", "book_it_help", "request_human"}

    async def rasa_ready(self) -> bool:
        return not self.down

    async def actions_ready(self) -> bool:
        return True

    async def rasa_python(self) -> str | None:
        return "3.10.13"

    async def actions_python(self) -> str | None:
        return "3.13.0"

    async def close(self) -> None:
        return None


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa(
        replies={
            "Hvordan får jeg MitID?": ([{"text": "Du får MitID i appen."}], "ask_mitid"),
            "/request_human": (
                [
                    {"text": "Jeg sender dig videre til en medarbejder."},
                    {"custom": {"handoff": "request", "reason": "requested", "topic": None}},
                ],
                "request_human",
            ),
        }
    )


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, rasa: FakeRasa) -> Iterator[TestClient]:
    avoid_midnight_gap()
    settings = load_settings(
        database_url=sqlite_url,
        library_config=write_library(tmp_path / "library.yml", "always"),
        staff_cookie_secure=False,
    )
    with TestClient(create_app(settings, rasa)) as test_client:
        yield test_client


def chat(client: TestClient, session_id: str, text: str) -> dict[str, Any]:
    response = client.post("/api/chat", json={"session_id": session_id, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def test_healthz_reports_checks_and_pythons(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checks"] == {"gateway": True, "database": True, "rasa": True, "actions": True}
    assert body["python"]["rasa"] == "3.10.13" and body["python"]["actions"] == "3.13.0"


def test_a_turn_is_answered_tagged_and_stored(client: TestClient) -> None:
    reply = chat(client, sid("s1"), "Hvordan får jeg MitID?")
    assert reply["topic"] == "mitid"
    assert reply["messages"][0]["text"] == "Du får MitID i appen."
    assert reply["handoff"] is None
    stored = client.get(f"/api/conversation/{sid('s1')}").json()["messages"]
    assert [(m["sender"], m["text"]) for m in stored] == [
        ("citizen", "Hvordan får jeg MitID?"),
        ("bot", "Du får MitID i appen."),
    ]


def test_cpr_numbers_never_reach_rasa_or_the_transcript(client: TestClient, rasa: FakeRasa) -> None:
    reply = chat(client, sid("s2"), "mit cpr er 010190-1234")
    assert rasa.heard == [f"mit cpr er {REDACTED}"]
    assert "CPR-nummer" in reply["messages"][0]["text"]
    texts = [m["text"] for m in client.get(f"/api/conversation/{sid('s2')}").json()["messages"]]
    assert not any("1234" in t for t in texts)


def test_a_question_gets_its_head_start_but_a_button_does_not(
    client: TestClient, rasa: FakeRasa
) -> None:
    """The action server hears the words as they arrive (its embedding then runs while Rasa
    reads them), redacted like everything else; a button's payload is never ranked."""
    chat(client, sid("s9"), "mit cpr er 010190-1234, hvordan får jeg MitID?")
    chat(client, sid("s9"), "/request_human")
    assert rasa.prefetched == [f"mit cpr er {REDACTED}, hvordan får jeg MitID?"]


def test_no_head_start_when_it_is_turned_off(
    sqlite_url: str, tmp_path: Path, rasa: FakeRasa
) -> None:
    settings = load_settings(
        database_url=sqlite_url,
        library_config=write_library(tmp_path / "library.yml", "always"),
        prefetch_answers=False,
    )
    with TestClient(create_app(settings, rasa)) as client:
        chat(client, sid("s10"), "Hvordan får jeg MitID?")
    assert rasa.heard == ["Hvordan får jeg MitID?"] and rasa.prefetched == []


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{", 400, "ikke gyldig JSON"),
        (b"[]", 400, "JSON-objekt"),
        (b'{"text": "hej"}', 422, "session_id mangler"),
        (b'{"session_id": "a b", "text": "hej"}', 422, "bogstaver, tal"),
        (b'{"session_id": "%s", "text": "  "}' % LONG_ID, 422, "Beskeden er tom"),
        (b'{"session_id": "%s", "text": "%s"}' % (LONG_ID, b"x" * 2001), 413, "for lang"),
    ],
)
def test_bad_chat_requests_get_a_danish_reason(
    client: TestClient, body: bytes, status: int, words: str
) -> None:
    response = client.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_one_danish_error_handler_for_every_layer(client: TestClient) -> None:
    # FastAPI's own validation, a route's refusal, a missing staff session, a service error.
    assert client.get("/api/conversation/ok?after=mange").json() == {
        "detail": "Forespørgslen er ikke gyldig."
    }
    assert client.get("/api/conversation/ikke ok").json() == {"detail": BAD_SESSION_ID}
    assert client.get("/api/staff/tickets").json() == {"detail": "Du er ikke logget ind."}
    refused = client.post("/api/handoff/cancel", json={"session_id": sid("s9")})
    assert refused.status_code == 409
    assert refused.json() == {"detail": "Samtalen venter ikke på en medarbejder."}


def test_rasa_down_gets_a_polite_503_and_the_message_is_kept(
    client: TestClient, rasa: FakeRasa
) -> None:
    rasa.down = True
    response = client.post("/api/chat", json={"session_id": sid("s3"), "text": "hej"})
    assert response.status_code == 503
    assert "teknisk fejl" in response.json()["messages"][0]["text"]
    health = client.get("/healthz")
    assert health.status_code == 503
    # The gateway and its database still serve (staff console, handoffs): degraded, not down.
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"]["rasa"] is False
    # What the load balancer checks: this gateway still serves, so it stays in rotation.
    assert client.get("/livez").json() == {"status": "ok"}
    assert client.get(f"/api/conversation/{sid('s3')}").json()["messages"][0]["text"] == "hej"


def staff_login(client: TestClient) -> dict[str, str]:
    token = client.get("/api/staff/csrf").json()["csrf"]
    response = client.post(
        "/api/staff/login",
        json={"username": "anna", "password": STAFF_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf"]}


def test_handoff_to_staff_and_back(client: TestClient, rasa: FakeRasa, sqlite_url: str) -> None:
    add_staff(sqlite_url)
    reply = chat(client, sid("s4"), "/request_human")
    assert reply["topic"] == "staff" and reply["handoff"]["state"] == "queued"
    assert reply["handoff"]["position"] == 1
    heard = len(rasa.heard)
    # While queued, the citizen's messages go to staff, not to Rasa.
    waiting = chat(client, sid("s4"), "er der nogen?")
    assert waiting["messages"] == [] and waiting["handoff"]["state"] == "queued"
    assert len(rasa.heard) == heard

    csrf = staff_login(client)
    (ticket,) = client.get("/api/staff/tickets").json()["queue"]
    assert client.post(f"/api/staff/tickets/{ticket['id']}/take").status_code == 403  # no CSRF
    taken = client.post(f"/api/staff/tickets/{ticket['id']}/take", headers=csrf)
    assert taken.status_code == 200 and taken.json()["ticket"]["status"] == "with_staff"
    with client.websocket_connect(f"/api/ws/{sid('s4')}?after=0") as socket:
        backlog = [socket.receive_json() for _ in range(6)]
        texts = [e["message"]["text"] for e in backlog if e["type"] == "message"]
        assert texts[-1] == "Anna Holm fra biblioteket har overtaget samtalen og svarer dig her."
        assert backlog[-1]["type"] == "handoff" and backlog[-1]["handoff"]["state"] == "with_staff"
        assert backlog[-1]["handoff"]["staff_name"] == "Anna Holm"
        answer = client.post(
            f"/api/staff/tickets/{ticket['id']}/reply", json={"text": "Hej, Anna her."},
            headers=csrf,
        )
        assert answer.status_code == 200
        event = socket.receive_json()
        assert event["type"] == "message" and event["message"]["text"] == "Hej, Anna her."
    again = client.post(f"/api/staff/tickets/{ticket['id']}/take", headers=csrf)
    assert again.status_code == 409 and "allerede taget af Anna Holm" in again.json()["detail"]
    back = client.post(f"/api/staff/tickets/{ticket['id']}/return", headers=csrf)
    assert back.json()["ticket"]["status"] == "returned_to_bot"
    assert chat(client, sid("s4"), "Hvordan får jeg MitID?")["topic"] == "mitid"  # Rasa again


def test_the_citizen_can_leave_the_queue(client: TestClient, rasa: FakeRasa) -> None:
    chat(client, sid("s5"), "/request_human")
    left = client.post("/api/handoff/cancel", json={"session_id": sid("s5")})
    assert left.status_code == 200 and left.json()["handoff"]["state"] == "returned_to_bot"
    assert chat(client, sid("s5"), "Hvordan får jeg MitID?")["topic"] == "mitid"
