"""The chat API against the real trained model, with all three processes running."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import websockets

pytestmark = pytest.mark.live


def new_session() -> str:
    return uuid.uuid4().hex


def test_healthz_is_ok_when_all_three_answer(live) -> None:
    response = httpx.get(f"{live.url}/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "gateway": True, "database": True, "rasa": True, "actions": True
    }


def test_healthz_names_each_process_python(live) -> None:
    """Only Rasa stays on Python 3.10; the gateway and the action server run 3.12 or newer."""
    python = httpx.get(f"{live.url}/healthz").json()["python"]
    assert set(python) == {"gateway", "actions", "rasa"}
    for process in ("gateway", "actions"):
        assert tuple(map(int, python[process].split(".")[:2])) >= (3, 12), python
    assert python["rasa"].startswith("3.10."), python


def test_driving_licence_renewal_gets_the_koerekort_answer_with_link(live) -> None:
    reply = live.chat(new_session(), "Hvordan fornyer jeg mit kørekort?")
    assert reply["topic"] == "koerekort"
    assert reply["handoff"] is None
    text = reply["messages"][0]["text"]
    assert "forny" in text.lower()
    assert "https://" in text


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Jeg har mistet min telefon med MitID", "mitid"),
        ("hej", "smalltalk"),
        ("kan jeg tale med en medarbejder", "staff"),
        ("hvad bliver vejret i morgen", "out_of_scope"),
        ("hvornår har biblioteket åbent", "opening_hours"),
    ],
)
def test_every_reply_carries_its_topic(live, text: str, topic: str) -> None:
    assert live.chat(new_session(), text)["topic"] == topic


def test_lost_device_is_not_answered_with_how_to_get_mitid(live) -> None:
    reply = live.chat(new_session(), "Min telefon er blevet stjålet, hvad gør jeg med mit MitID?")
    assert "spær" in reply["messages"][0]["text"].lower()


def test_button_payload_answers_and_transcript_keeps_the_title(live) -> None:
    session = new_session()
    greeting = live.chat(session, "Hej")
    button = next(b for b in greeting["messages"][0]["buttons"] if b["payload"] == "/ask_mitid")
    reply = live.chat(session, button["payload"])
    assert reply["topic"] == "mitid"
    messages = httpx.get(f"{live.url}/api/conversation/{session}").json()["messages"]
    assert [m["sender"] for m in messages] == ["citizen", "bot", "citizen", "bot"]
    assert messages[2]["text"] == "MitID"


def test_cpr_number_is_redacted_before_rasa_and_storage(live) -> None:
    session = new_session()
    reply = live.chat(session, "Mit cpr-nummer er 010190-1234, jeg skal flytte")
    assert "CPR-nummer" in reply["messages"][0]["text"]
    stored = httpx.get(f"{live.url}/api/conversation/{session}").json()["messages"]
    assert "010190" not in json.dumps(stored)
    tracker = httpx.get(
        f"{live.stack.settings.rasa_url}/conversations/{session}/tracker",
        params={"token": live.settings.rasa_token},
    ).json()
    assert "010190" not in json.dumps(tracker)


def test_html_is_kept_as_text(live) -> None:
    session = new_session()
    live.chat(session, "<script>alert('x')</script> hvordan får jeg mitid")
    stored = httpx.get(f"{live.url}/api/conversation/{session}").json()["messages"]
    assert stored[0]["text"] == "<script>alert('x')</script> hvordan får jeg mitid"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "JSON"),
        (json.dumps({"text": "hej"}).encode(), 422, "session_id"),
        (json.dumps({"session_id": "a" * 32, "text": "   "}).encode(), 422, "tom"),
        (json.dumps({"session_id": "a" * 32, "text": "x" * 10_000}).encode(), 413, "for lang"),
        (json.dumps({"session_id": "a b/../", "text": "hej"}).encode(), 422, "session_id"),
        (json.dumps(["hej"]).encode(), 400, "JSON"),
    ],
)
def test_bad_requests_get_a_clear_danish_reason(live, body: bytes, status: int, words: str) -> None:
    response = httpx.post(
        f"{live.url}/api/chat", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert httpx.get(f"{live.url}/healthz").status_code == 200


def test_websocket_catches_up_then_streams_new_messages(live) -> None:
    session = new_session()
    live.chat(session, "hej")
    ws_url = live.url.replace("http", "ws") + f"/api/ws/{session}?after=0"

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with websockets.connect(ws_url, open_timeout=10) as socket:
            backlog = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(2)]
            await asyncio.to_thread(live.chat, session, "Hvordan fornyer jeg mit kørekort?")
            fresh = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(2)]
            return backlog, fresh

    backlog, fresh = asyncio.run(scenario())
    assert [e["message"]["sender"] for e in backlog] == ["citizen", "bot"]
    assert [e["message"]["seq"] for e in fresh] == [3, 4]


def test_dead_action_server_gets_a_polite_answer_and_nothing_is_lost(live) -> None:
    session = new_session()
    live.stack.stop_one("actions")
    try:
        reply = live.chat(session, "Hvordan fornyer jeg mit kørekort?")
        assert "Beklager" in reply["messages"][-1]["text"]
        stored = httpx.get(f"{live.url}/api/conversation/{session}").json()["messages"]
        assert stored[0]["text"] == "Hvordan fornyer jeg mit kørekort?"
    finally:
        live.stack.start(only=("actions",))
        live.stack.wait_healthy()
    assert live.chat(session, "Hvordan fornyer jeg mit kørekort?")["topic"] == "koerekort"
