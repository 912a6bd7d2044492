"""One crash is not an outage: kill -9 each process of a supervised stack in the middle of a
booking form, and check what the citizen and staff get while it is down, that the supervisor
(bot/tools/supervisor.py, what `make run` runs) brings it back, and that the form goes on at
the question it was at.

One stack for the module, on free 127.0.0.1 ports in a temp dir, with its own databases (the
trackers are in its SQL tracker store). The supervisor is held while a test looks at the
outage it caused, so nothing races the restart; every wait polls with a generous timeout.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import websockets

from bot.gateway.chat import NO_ANSWER, UNAVAILABLE
from bot.tools.supervisor import RestartPolicy, Supervisor, SupervisorThread
from tests.chat_support import buttons_of, new_session, press, text_of
from tests.fixtures_live import LiveAssistant, running_assistant
from tests.handoff_support import (
    StaffLogin,
    avoid_midnight_gap,
    end_open_handoffs,
    ensure_staff,
    sign_everyone_out,
    staff_login,
    write_library,
)

pytestmark = pytest.mark.live

# Rasa loads its model in 20-60 s on the test machine; far more is allowed for a busy one.
BACK_TIMEOUT = 360.0


@dataclass
class Supervised:
    live: LiveAssistant
    thread: SupervisorThread

    @property
    def url(self) -> str:
        return self.live.url

    def kill(self, name: str) -> None:
        """kill -9 the process group of one process, as the OOM killer or a crash would."""
        process = self.live.stack.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)

    def wait_until(
        self, what: str, done: Callable[[], bool], timeout: float = BACK_TIMEOUT
    ) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if self.thread.error is not None:
                raise AssertionError(f"the supervisor stopped: {self.thread.error}")
            if time.monotonic() > deadline:
                print(self.live.logs())
                raise AssertionError(f"{what} not within {timeout:.0f} s")
            time.sleep(0.5)

    def wait_back(self, name: str, restarts_before: int) -> None:
        restarts = self.thread.supervisor.restarts
        self.wait_until(f"{name} restarted", lambda: restarts.get(name, 0) > restarts_before)
        self.wait_until("the whole stack healthy again", self.live.stack.healthy)

    def restarts(self, name: str) -> int:
        return self.thread.supervisor.restarts.get(name, 0)

    def post_chat(self, session: str, text: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/api/chat", json={"session_id": session, "text": text}, timeout=60
        )

    def transcript(self, session: str) -> list[dict]:
        return httpx.get(f"{self.url}/api/conversation/{session}", timeout=30).json()["messages"]


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervised]:
    var_dir = tmp_path_factory.mktemp("resilience")
    env = {
        # Staff are always at work, so a handoff does not depend on the hour the test runs.
        "BORGER_LIBRARY_CONFIG": str(write_library(var_dir / "library.yml", "always")),
        "BORGER_STAFF_COOKIE_SECURE": "0",
    }
    with running_assistant(var_dir, **env) as live:
        with open(live.log_dir / "runner.log", "a", encoding="utf-8") as out:
            policy = RestartPolicy.from_settings(live.settings)
            thread = SupervisorThread(Supervisor(live.stack, policy, out=out)).start()
            try:
                yield Supervised(live, thread)
            finally:
                thread.stop()  # before running_assistant stops the stack, or it restarts it
        end_open_handoffs(live.settings.database_url)
        sign_everyone_out(live.settings.database_url)


def to_name_question(supervised: Supervised, session: str) -> None:
    """A booking of IT help at Hovedbiblioteket, a slot chosen: the form asks for the name."""
    live = supervised.live
    reply = live.chat(session, "Jeg vil gerne have hjælp til MitID på torsdag")
    assert reply["topic"] == "it_help", text_of(reply)
    reply = press(live, session, reply, "Hovedbiblioteket")
    slots = [b for b in buttons_of(reply) if '"help_slot"' in b["payload"]]
    assert slots, text_of(reply)
    reply = live.chat(session, slots[0]["payload"])
    assert "navn" in text_of(reply).lower(), text_of(reply)


def finish_form(supervised: Supervised, session: str) -> None:
    """The form goes on where it was: name, then phone, then the confirmation question."""
    live = supervised.live
    reply = live.chat(session, "Karen Jensen")
    assert "telefonnummer" in text_of(reply).lower(), text_of(reply)
    reply = live.chat(session, "22 33 44 55")
    assert "Skal jeg booke tiden?" in text_of(reply), text_of(reply)
    assert "stoppet" in text_of(live.chat(session, "glem det"))


@pytest.fixture
def anna(supervised: Supervised) -> Iterator[StaffLogin]:
    avoid_midnight_gap()
    db = supervised.live.settings.database_url
    ensure_staff(db, "anna", "Anna Holm")
    login = staff_login(supervised.url, "anna")
    yield login
    login.client.close()
    sign_everyone_out(db)


def test_rasa_killed_mid_form(supervised: Supervised, anna: StaffLogin) -> None:
    # A chat with staff before the crash: it must go on without Rasa.
    staffed = new_session()
    handoff = supervised.live.chat(staffed, "kan jeg tale med en medarbejder")["handoff"]
    assert handoff and handoff["state"] == "queued", handoff
    ticket_id = handoff["ticket_id"]
    assert anna.post(f"/api/staff/tickets/{ticket_id}/take").status_code == 200

    booking = new_session()
    to_name_question(supervised, booking)
    before = supervised.restarts("rasa")
    with supervised.thread.held():
        supervised.kill("rasa")

        # The citizen gets the polite "try again shortly", and what they typed is kept.
        response = supervised.post_chat(booking, "Karen Jensen")
        assert response.status_code == 503, response.text
        assert text_of(response.json()) == UNAVAILABLE
        last_two = supervised.transcript(booking)[-2:]
        assert [(m["sender"], m["text"]) for m in last_two] == [
            ("citizen", "Karen Jensen"), ("bot", UNAVAILABLE)
        ]

        health = httpx.get(f"{supervised.url}/healthz", timeout=30)
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["checks"] == {
            "gateway": True, "database": True, "rasa": False, "actions": True
        }

        # The staff console and the live handoff keep working.
        assert anna.client.get("/api/staff/tickets").status_code == 200
        summary = anna.client.get(f"/api/staff/tickets/{ticket_id}/summary")
        assert summary.status_code == 200 and summary.json()["available"] is False
        answer = supervised.live.chat(staffed, "Er du der stadig?")
        assert answer["messages"] == [] and answer["handoff"]["state"] == "with_staff"
        reply = anna.post(f"/api/staff/tickets/{ticket_id}/reply", {"text": "Ja, jeg er her."})
        assert reply.status_code == 200, reply.text
        assert supervised.transcript(staffed)[-1]["text"] == "Ja, jeg er her."
        closed = anna.post(f"/api/staff/tickets/{ticket_id}/close", {"outcome": "resolved"})
        assert closed.status_code == 200, closed.text

    # While the restarted Rasa loads its model, every turn is either answered or gets the
    # same polite 503 (other chats, each new: the booking must not move on, and no chat may
    # reach the per-session rate limit).
    def answered_or_polite() -> bool:
        response = supervised.post_chat(new_session(), "hej")
        assert response.status_code in (200, 503), response.text
        if response.status_code == 503:
            assert text_of(response.json()) == UNAVAILABLE
        return supervised.live.stack.healthy()

    supervised.wait_until("Rasa answering again", answered_or_polite)
    supervised.wait_back("rasa", before)
    finish_form(supervised, booking)


def test_action_server_killed_mid_form(supervised: Supervised) -> None:
    booking = new_session()
    to_name_question(supervised, booking)
    before = supervised.restarts("actions")
    with supervised.thread.held():
        supervised.kill("actions")
        # Rasa answers, but no action can run: the citizen is told something went wrong and
        # offered a person, not shown an error page.
        reply = supervised.live.chat(booking, "Karen Jensen")
        assert text_of(reply) == NO_ANSWER, text_of(reply)
        assert supervised.transcript(booking)[-2]["text"] == "Karen Jensen"
        health = httpx.get(f"{supervised.url}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        assert health.json()["checks"]["actions"] is False

    supervised.wait_back("actions", before)
    finish_form(supervised, booking)


def test_gateway_killed_mid_form_and_the_socket_reconnects(supervised: Supervised) -> None:
    booking = new_session()
    to_name_question(supervised, booking)
    seen = len(supervised.transcript(booking))
    ws_url = supervised.url.replace("http", "ws", 1) + f"/api/ws/{booking}"
    before = supervised.restarts("gateway")

    async def socket_dies_with_the_gateway() -> None:
        async with websockets.connect(f"{ws_url}?after={seen}", open_timeout=30) as socket:
            with supervised.thread.held():
                await asyncio.to_thread(supervised.kill, "gateway")
                with pytest.raises(websockets.exceptions.ConnectionClosed):
                    await asyncio.wait_for(socket.recv(), 30)
                with pytest.raises(httpx.TransportError):
                    httpx.get(f"{supervised.url}/healthz", timeout=10)

    asyncio.run(socket_dies_with_the_gateway())
    supervised.wait_back("gateway", before)

    async def reconnected() -> list[dict]:
        # The widget reconnects with the last message it has; nothing is missed or repeated.
        async with websockets.connect(f"{ws_url}?after={seen}", open_timeout=30) as socket:
            reply = await asyncio.to_thread(supervised.live.chat, booking, "Karen Jensen")
            assert "telefonnummer" in text_of(reply).lower(), text_of(reply)
            events = []
            while len([e for e in events if e.get("type") == "message"]) < 2:
                events.append(json.loads(await asyncio.wait_for(socket.recv(), 30)))
            return [e["message"] for e in events if e.get("type") == "message"]

    messages = asyncio.run(reconnected())
    assert [m["seq"] for m in messages] == [seen + 1, seen + 2]
    assert messages[0]["sender"] == "citizen" and messages[0]["text"] == "Karen Jensen"
    assert "telefonnummer" in messages[1]["text"].lower()
    reply = supervised.live.chat(booking, "22 33 44 55")
    assert "Skal jeg booke tiden?" in text_of(reply), text_of(reply)
    assert "stoppet" in text_of(supervised.live.chat(booking, "glem det"))
