"""Scale-out for real on loopback: two gateways, two Rasa servers and two action servers
behind HAProxy (deploy/haproxy.cfg, run by bot/tools/cluster.py), sharing PostgreSQL (app
data and trackers) and Redis (Rasa's lock store, the gateways' pub/sub and rate limits).

Which instance serves a turn is not left to chance where a test depends on it: the test takes
the other instance out of HAProxy's rotation (its runtime API, as a rolling restart does) or
talks to one gateway directly, and HAProxy's own counters show who served.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import select, update

from bot.core.config import load_settings
from bot.db.models import BOOKING_BOOKED, Booking, HelpSlot, local_now
from bot.db.session import dispose_engine, session_scope
from bot.services.staff_auth import cookie_name
from bot.tools.cluster import Cluster
from bot.tools.runner import prepare_database
from tests.chat_support import REFERENCE, buttons_of, text_of
from tests.handoff_support import (
    STAFF_PASSWORD,
    avoid_midnight_gap,
    end_open_handoffs,
    ensure_staff,
    is_handoff,
    is_message,
    recv_until,
    sign_everyone_out,
    write_library,
)

pytestmark = [pytest.mark.live, pytest.mark.postgres]

CITIZENS = 50


@pytest.fixture(scope="module")
def cluster(
    postgres_server: Any, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    if not load_settings().model_path.exists():
        pytest.fail("No trained model: run 'make train' (make test does it first).")
    work = tmp_path_factory.mktemp("scaleout")
    settings = load_settings(
        var_dir=work,
        database_url=postgres_server.create_database("scale_app"),
        tracker_database_url=postgres_server.create_database("scale_tracker"),
        redis_url=redis_url,
        rasa_token=secrets.token_hex(16),
        # 50 chats at once on two cores: a turn may wait a while for its Rasa server.
        rasa_timeout=120,
        # Staff always at work, so handoff does not depend on the hour the test runs at.
        library_config=write_library(work / "library.yml", "always"),
        staff_cookie_secure=False,
        # Every test client is 127.0.0.1 (see tests/fixtures_live.py).
        rate_limit_address=0,
        login_max_failures=1000,
        login_max_failures_per_ip=1000,
    )
    prepare_database(settings)
    cluster = Cluster(settings, work)
    try:
        with cluster:
            yield cluster
    except Exception:
        print(cluster.logs())
        raise
    finally:
        dispose_engine(settings.database_url)


def chat(base_url: str, session: str, text: str) -> httpx.Response:
    response = httpx.post(
        f"{base_url}/api/chat", json={"session_id": session, "text": text}, timeout=180
    )
    assert response.status_code == 200, response.text
    return response


def press(reply: dict, title_part: str) -> str:
    return next(b["payload"] for b in buttons_of(reply) if title_part in b["title"])


def slot_payloads(reply: dict) -> list[str]:
    return [b["payload"] for b in buttons_of(reply) if '"help_slot"' in b["payload"]]


def served(cluster: Cluster, backend: str) -> dict[int, int]:
    """Requests HAProxy has sent to each instance of ``backend`` so far."""
    assert cluster.balancer is not None
    rows = cluster.balancer.servers()
    return {i: int(rows[cluster.server(backend, i)]["stot"]) for i in (1, 2)}


@contextlib.contextmanager
def only(cluster: Cluster, backend: str, index: int) -> Iterator[None]:
    """Only instance ``index`` of ``backend`` in HAProxy's rotation meanwhile."""
    other = 3 - index
    cluster.set_state(backend, other, "maint")
    try:
        yield
    finally:
        cluster.set_state(backend, other, "ready")


def transcript(cluster: Cluster, session: str) -> list[dict]:
    return httpx.get(f"{cluster.url}/api/conversation/{session}", timeout=30).json()["messages"]


def tracker_texts(cluster: Cluster, session: str) -> list[str]:
    tracker = httpx.get(
        f"{cluster.rasa_url}/conversations/{session}/tracker",
        params={"token": cluster.settings.rasa_token}, timeout=30,
    ).json()
    return [e.get("text") or "" for e in tracker["events"] if e["event"] == "user"]


# --- the load balancer ----------------------------------------------------------------------


def test_consecutive_requests_alternate_between_the_gateways(cluster: Cluster) -> None:
    answered = [httpx.get(f"{cluster.url}/healthz", timeout=30) for _ in range(4)]
    assert all(r.status_code == 200 for r in answered), [r.text for r in answered]
    by = [r.headers["x-served-by"] for r in answered]
    assert set(by) == {"gw1", "gw2"}, by
    checks = answered[0].json()["checks"]
    assert checks == {"gateway": True, "database": True, "rasa": True, "actions": True}


def test_a_booking_form_keeps_its_state_while_its_turns_alternate_instances(
    cluster: Cluster,
) -> None:
    """Every turn on another gateway and another Rasa server (and action server) than the
    one before: the form's state lives in the shared tracker store, not in a process."""
    session = uuid.uuid4().hex
    turn = 0

    def say(text: str) -> dict:
        nonlocal turn
        turn += 1
        gateway, rasa, actions = 1 + turn % 2, 2 - turn % 2, 1 + turn % 2
        before = served(cluster, "rasa")
        with only(cluster, "rasa", rasa), only(cluster, "actions", actions):
            reply = chat(cluster.gateway_url(gateway), session, text).json()
        after = served(cluster, "rasa")
        assert after[rasa] > before[rasa] and after[3 - rasa] == before[3 - rasa]
        return reply

    reply = say("Jeg vil gerne have hjælp til MitID på torsdag")
    assert reply["topic"] == "it_help", text_of(reply)
    reply = say(press(reply, "Hovedbiblioteket"))
    assert "torsdag" in text_of(reply), text_of(reply)
    reply = say(slot_payloads(reply)[0])
    assert "navn" in text_of(reply).lower(), text_of(reply)
    reply = say("Karen Jensen")
    assert "telefonnummer" in text_of(reply).lower(), text_of(reply)
    reply = say("22 33 44 55")
    assert "Skal jeg booke tiden?" in text_of(reply), text_of(reply)
    reply = say(press(reply, "Ja, book tiden"))
    match = REFERENCE.search(text_of(reply))
    assert match, text_of(reply)
    with session_scope(cluster.settings.database_url) as db:
        booking = db.scalars(select(Booking).where(Booking.reference == match.group())).one()
        assert (booking.status, booking.name) == (BOOKING_BOOKED, "Karen Jensen")
    messages = transcript(cluster, session)
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert [m["sender"] for m in messages] == ["citizen", "bot"] * 6


# --- handoff across gateways ----------------------------------------------------------------


@pytest.fixture
def staff_on_gateway_2(cluster: Cluster) -> Iterator[tuple[httpx.Client, str, str]]:
    """Anna signed in on gateway 2: (client, CSRF token, Cookie header for sockets)."""
    avoid_midnight_gap()
    url = cluster.settings.database_url
    ensure_staff(url, "anna", "Anna Holm")
    client = httpx.Client(base_url=cluster.gateway_url(2), timeout=60)
    token = client.get("/api/staff/csrf").json()["csrf"]
    response = client.post(
        "/api/staff/login", json={"username": "anna", "password": STAFF_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    name = cookie_name(cluster.settings.staff_cookie_secure)
    try:
        yield client, response.json()["csrf"], f"{name}={client.cookies.get(name)}"
    finally:
        client.close()
        sign_everyone_out(url)
        end_open_handoffs(url)


def test_citizen_on_one_gateway_and_staff_on_the_other_hold_a_live_handoff(
    cluster: Cluster, staff_on_gateway_2: tuple[httpx.Client, str, str]
) -> None:
    staff_client, csrf, cookie = staff_on_gateway_2
    citizen_url, staff_url = cluster.gateway_url(1), cluster.gateway_url(2)
    session = uuid.uuid4().hex
    chat(citizen_url, session, "Hvordan fornyer jeg mit kørekort?")

    def staff_post(path: str) -> httpx.Response:
        return staff_client.post(path, json={}, headers={"X-CSRF-Token": csrf})

    async def scenario() -> None:
        citizen = await websockets.connect(
            f"{citizen_url.replace('http', 'ws', 1)}/api/ws/{session}?after=2", open_timeout=10
        )
        staff = await websockets.connect(
            f"{staff_url.replace('http', 'ws', 1)}/api/staff/ws", origin=staff_url,
            additional_headers={"Cookie": cookie}, open_timeout=10,
        )
        await staff.send(json.dumps({"type": "hello", "csrf": csrf}))
        await recv_until(staff, lambda e: e["type"] == "queue")

        reply = await asyncio.to_thread(
            chat, citizen_url, session, "kan jeg tale med en medarbejder"
        )
        handoff = reply.json()["handoff"]
        assert handoff["state"] == "queued", reply.json()
        ticket_id = handoff["ticket_id"]
        # Queued on gateway 1; the console on gateway 2 hears of it through Redis.
        await recv_until(
            staff, lambda e: e["type"] == "queue" and e["new_ticket_id"] == ticket_id
        )

        assert staff_post(f"/api/staff/tickets/{ticket_id}/take").status_code == 200
        taken = await recv_until(citizen, is_handoff("with_staff"))
        assert taken[-1]["handoff"]["staff_name"] == "Anna Holm"
        await staff.send(json.dumps({"type": "watch", "conversation_id": session, "after": 0}))
        await recv_until(staff, lambda e: e["type"] == "watching")

        await staff.send(json.dumps(
            {"type": "reply", "ticket_id": ticket_id, "text": "Hej, det er Anna.", "client_id": "1"}
        ))
        await recv_until(staff, lambda e: e["type"] == "ack" and e["ok"])
        await recv_until(citizen, is_message("staff", "Hej, det er Anna."))

        answer = await asyncio.to_thread(chat, citizen_url, session, "Mit kørekort er udløbet.")
        assert answer.json()["messages"] == []
        await recv_until(staff, is_message("citizen", "Mit kørekort er udløbet."))

        assert staff_post(f"/api/staff/tickets/{ticket_id}/return").status_code == 200
        await recv_until(citizen, is_handoff("returned_to_bot"))
        await citizen.close()
        await staff.close()

    asyncio.run(scenario())
    senders = [m["sender"] for m in transcript(cluster, session)]
    assert senders == [
        "citizen", "bot", "citizen", "bot", "system", "system", "staff", "citizen", "system"
    ]
    assert "Mit kørekort er udløbet." not in tracker_texts(cluster, session)


# --- many citizens, one slot ----------------------------------------------------------------


@pytest.fixture
def one_free_slot(cluster: Cluster) -> Iterator[int]:
    """Only one future IT help slot left: every other one is moved ten years back for the
    test (and put back after), so it is neither offered nor bookable."""
    url = cluster.settings.database_url
    shift = timedelta(days=3650)
    now = local_now()
    with session_scope(url) as db:
        slots = db.scalars(
            select(HelpSlot)
            .where(HelpSlot.starts_at > now + timedelta(hours=2))
            .where(HelpSlot.branch_id == "hovedbiblioteket")
            .where(~HelpSlot.bookings.any(Booking.status == BOOKING_BOOKED))
            .order_by(HelpSlot.starts_at)
        ).all()
        assert slots, "the demo library has free slots"
        last = slots[0].id
        hidden = db.scalars(
            select(HelpSlot.id).where(HelpSlot.starts_at > now, HelpSlot.id != last)
        ).all()
        db.execute(
            update(HelpSlot).where(HelpSlot.id.in_(hidden)).values(
                starts_at=HelpSlot.starts_at - shift, ends_at=HelpSlot.ends_at - shift
            )
        )
    try:
        yield last
    finally:
        with session_scope(url) as db:
            db.execute(
                update(HelpSlot).where(HelpSlot.id.in_(hidden)).values(
                    starts_at=HelpSlot.starts_at + shift, ends_at=HelpSlot.ends_at + shift
                )
            )


async def _to_confirmation(
    client: httpx.AsyncClient, number: int, slot_id: int, gate: asyncio.Semaphore
) -> tuple[str, str]:
    """One citizen up to "Skal jeg booke tiden?"; returns the session and the yes payload."""
    session = uuid.uuid4().hex

    async def say(text: str) -> dict:
        response = await client.post("/api/chat", json={"session_id": session, "text": text})
        assert response.status_code == 200, response.text
        return response.json()

    async with gate:
        reply = await say("Jeg vil gerne booke tid til hjælp med MitID på Hovedbiblioteket")
        offered = slot_payloads(reply)
        assert offered and f'"{slot_id}"' in offered[0], text_of(reply)
        reply = await say(offered[0])
        assert "navn" in text_of(reply).lower(), text_of(reply)
        await say("Karen Jensen")
        reply = await say(f"{20_000_000 + number}")  # a phone number of one's own
        assert "Skal jeg booke tiden?" in text_of(reply), text_of(reply)
    return session, press(reply, "Ja, book tiden")


def test_fifty_citizens_booking_the_last_slot_at_once_get_one_booking(
    cluster: Cluster, one_free_slot: int
) -> None:
    before = served(cluster, "rasa")

    async def scenario() -> list[dict]:
        async with httpx.AsyncClient(base_url=cluster.url, timeout=180) as client:
            gate = asyncio.Semaphore(10)
            ready = await asyncio.gather(
                *(_to_confirmation(client, n, one_free_slot, gate) for n in range(CITIZENS))
            )
            # Everyone has been offered the slot; now all say yes at once.
            answers = await asyncio.gather(
                *(
                    client.post("/api/chat", json={"session_id": s, "text": yes})
                    for s, yes in ready
                )
            )
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        # gw1 or gw1_failopen: under this load HAProxy may fail open (deploy/haproxy.cfg).
        assert {a.headers["x-served-by"].split("_")[0] for a in answers} == {"gw1", "gw2"}
        return [a.json() for a in answers]

    replies = asyncio.run(scenario())
    booked = [r for r in replies if REFERENCE.search(text_of(r))]
    assert len(booked) == 1, [text_of(r) for r in booked]
    with session_scope(cluster.settings.database_url) as db:
        bookings = db.scalars(
            select(Booking).where(
                Booking.slot_id == one_free_slot, Booking.status == BOOKING_BOOKED
            )
        ).all()
    assert len(bookings) == 1
    assert bookings[0].reference == REFERENCE.search(text_of(booked[0])).group()
    after = served(cluster, "rasa")
    assert after[1] > before[1] and after[2] > before[2]
    # The load may have made instances miss their checks; the next test wants all of them.
    cluster.wait_all_up(180)


# --- rolling restart and crashes ------------------------------------------------------------


def test_a_rolling_restart_of_a_gateway_keeps_the_conversation(cluster: Cluster) -> None:
    session = uuid.uuid4().hex
    assert chat(cluster.url, session, "Hvordan fornyer jeg mit kørekort?").json()["topic"] == (
        "koerekort"
    )
    cluster.restart("gateways", 1)
    replies = [chat(cluster.url, session, text) for text in ("tak", "hvordan melder jeg flytning")]
    assert {r.headers["x-served-by"] for r in replies} == {"gw1", "gw2"}
    assert [m["sender"] for m in transcript(cluster, session)] == ["citizen", "bot"] * 3


def test_a_new_model_goes_out_one_rasa_server_at_a_time(cluster: Cluster) -> None:
    """docs/deploy.md's rollout: take one Rasa server out, restart it on the (new) model
    file, put it back; the other serves the conversations meanwhile, mid-form too."""
    session = uuid.uuid4().hex
    reply = chat(cluster.url, session, "Jeg vil gerne have hjælp til MitID på fredag").json()
    cluster.set_state("rasa", 1, "maint")
    node = cluster.nodes[0]
    node.stop_one("rasa")
    cluster.wait_state("rasa", 1, "MAINT", timeout=60)
    before = cluster.balancer.servers()["rasa/rasa2"]["stot"] if cluster.balancer else "0"
    reply = chat(cluster.url, session, press(reply, "Hovedbiblioteket")).json()
    assert slot_payloads(reply), text_of(reply)  # the form went on, on rasa2
    after = cluster.balancer.servers()["rasa/rasa2"]["stot"] if cluster.balancer else "0"
    assert int(after) > int(before)
    node.start(only=("rasa",))
    cluster.set_state("rasa", 1, "ready")
    cluster.wait_state("rasa", 1, "UP", timeout=300)
    reply = chat(cluster.url, session, slot_payloads(reply)[0]).json()
    assert "navn" in text_of(reply).lower(), text_of(reply)


def test_killing_a_rasa_server_and_a_gateway_mid_conversation_loses_no_message(
    cluster: Cluster,
) -> None:
    session = uuid.uuid4().hex
    said: list[str] = []

    def say(text: str) -> dict:
        said.append(text)
        return chat(cluster.url, session, text).json()

    reply = say("Jeg vil gerne have hjælp til MitID på fredag")
    reply = say(press(reply, "Hovedbiblioteket"))
    assert slot_payloads(reply), text_of(reply)

    # Mid-form, like a crash: no clean shutdown, and HAProxy has not noticed yet.
    cluster.kill("rasa", 1)
    cluster.kill("gateways", 1)

    reply = say(slot_payloads(reply)[0])
    assert "navn" in text_of(reply).lower(), text_of(reply)
    reply = say("Karen Jensen")
    assert "telefonnummer" in text_of(reply).lower(), text_of(reply)
    reply = say("karen@example.dk")
    assert "Skal jeg booke tiden?" in text_of(reply), text_of(reply)
    reply = say("glem det")
    assert "stoppet" in text_of(reply), text_of(reply)

    messages = transcript(cluster, session)
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert [m["sender"] for m in messages] == ["citizen", "bot"] * len(said)
    typed = [t for t in said if not t.startswith("/")]  # buttons are stored by their title
    assert [m["text"] for m in messages if m["sender"] == "citizen" and m["text"] in typed] == typed
    assert tracker_texts(cluster, session)[-len(said):] == said
    # The health checks take the dead instances out; the survivors stay in.
    cluster.wait_state("rasa", 1, "DOWN", timeout=60)
    cluster.wait_state("gateways", 1, "DOWN", timeout=60)
    servers = cluster.balancer.servers() if cluster.balancer else {}
    assert servers["rasa/rasa2"]["status"] == servers["gateways/gw2"]["status"] == "UP"
