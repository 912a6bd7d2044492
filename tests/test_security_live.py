"""Issue 13 against the real three processes, with the production limits on: the flood of
200 messages from one client (429s after the limit while another citizen is answered within
the usual latency; the figures are printed), CPR numbers in every written form through the
whole stack, "Slet samtalen" removing Rasa's tracker rows, no session id or CPR number in the
logs, and a grep of both databases for the test CPR numbers and contact details afterwards.

Its own stack (not the shared ``live`` one): 127.0.0.1 is a trusted proxy here, so each test
client is told apart by the X-Forwarded-For it sends, like clients behind a load balancer.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import func, select, text

from bot.cli import main
from bot.db.session import get_engine
from bot.db.tracker_store import TRACKER_EVENTS
from bot.language.privacy import REDACTED
from tests.chat_support import new_session, text_of
from tests.fixtures_live import LiveAssistant, running_assistant

pytestmark = pytest.mark.live

SESSION_LIMIT = 30
ADDRESS_LIMIT = 300
FLOOD = 200
NBSP, ZWSP = "\u00a0", "\u200b"
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
# A test CPR number that appears nowhere else: date 14.03.78, serial 8765.
CPR_FORMS = [
    "140378-8765", "1403788765", "14 03 78 87 65", "1403 78 8765", "14-03-78-8765",
    "14.03.78-8765", "140378\u20138765", "140378/8765", f"140378{NBSP}8765", "140378  8765",
    f"1403{ZWSP}788765", "140378-8765".translate(FULL_WIDTH),
]
# What would betray a stored or logged form: the ones with separators cannot come from a
# timestamp, a port or an id by chance (bare "8765" could).
CPR_NEEDLES = (
    "140378-8765", "1403788765", "14 03 78", "1403 78", "14-03-78", "14.03.78", "140378/",
    "140378\u2013", "140378\\u2013", "140378  ", "1403\u200b78", "１４０３７８", "８７６５",
    "\\uff18\\uff17\\uff16\\uff15",
)
CONTACT_EMAIL = "sikkerhed.test13@example.dk"
CONTACT_PHONE = "61 23 45 67"


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAssistant]:
    env = {
        "BORGER_RATE_LIMIT_SESSION": str(SESSION_LIMIT),
        "BORGER_RATE_LIMIT_ADDRESS": str(ADDRESS_LIMIT),
        "BORGER_TRUSTED_PROXIES": "127.0.0.1",
    }
    with running_assistant(tmp_path_factory.mktemp("secure-var"), **env) as assistant:
        yield assistant


def as_client(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def _turns(client: httpx.AsyncClient, url: str, address: str, count: int) -> list[float]:
    session, timings = new_session(), []
    for turn in range(count):
        started = time.perf_counter()
        response = await client.post(
            f"{url}/api/chat", headers=as_client(address),
            json={"session_id": session, "text": ("hvornår har I åbent", "tak")[turn % 2]},
        )
        assert response.status_code == 200, response.text
        timings.append(time.perf_counter() - started)
    return timings


async def _flood(client: httpx.AsyncClient, url: str) -> list[int]:
    session = new_session()
    semaphore = asyncio.Semaphore(10)

    async def one(number: int) -> int:
        async with semaphore:
            response = await client.post(
                f"{url}/api/chat", headers=as_client("203.0.113.66"),
                json={"session_id": session, "text": f"spam {number}"},
            )
            if response.status_code == 429:
                assert int(response.headers["Retry-After"]) >= 1
                assert "Vent et øjeblik" in response.json()["detail"]
            return response.status_code

    return await asyncio.gather(*(one(n) for n in range(FLOOD)))


def _ms(values: list[float]) -> str:
    ordered = sorted(v * 1000 for v in values)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms"


def test_a_flood_gets_429s_while_another_citizen_is_answered(
    secure: LiveAssistant, report_figure
) -> None:
    async def run() -> tuple[list[float], list[int], list[float], float]:
        async with httpx.AsyncClient(timeout=60) as client:
            await _turns(client, secure.url, "203.0.113.1", 2)  # warm-up
            baseline = await _turns(client, secure.url, "203.0.113.2", 10)
            started = time.perf_counter()
            codes, during = await asyncio.gather(
                _flood(client, secure.url), _turns(client, secure.url, "203.0.113.3", 10)
            )
            return baseline, codes, during, time.perf_counter() - started

    baseline, codes, during, wall = asyncio.run(run())
    answered, refused = codes.count(200), codes.count(429)
    figures = (
        f"flood: {FLOOD} messages from one client in {wall:.1f} s: {answered} answered, "
        f"{refused} refused with 429 (limit {SESSION_LIMIT}/min per session); another "
        f"citizen before: {_ms(baseline)}, during the flood: {_ms(during)}"
    )
    print(figures)
    report_figure("security_flood", figures)
    assert answered == SESSION_LIMIT and refused == FLOOD - SESSION_LIMIT
    assert set(codes) == {200, 429}
    # "Within its usual latency": refusals are cheap, the other citizen hardly notices.
    assert statistics.median(during) <= 3 * statistics.median(baseline) + 0.5


def test_cpr_numbers_in_every_form_never_reach_storage_or_logs(secure: LiveAssistant) -> None:
    session = new_session()
    for form in CPR_FORMS:
        reply = secure.chat(session, f"mit cpr-nummer er {form}, kan I hjælpe med MitID?",
                            client=httpx.Client(headers=as_client("203.0.113.7")))
        assert "CPR-nummer" in text_of(reply)  # the notice
    stored = httpx.get(f"{secure.url}/api/conversation/{session}").json()["messages"]
    citizen = [m["text"] for m in stored if m["sender"] == "citizen"]
    assert len(citizen) == len(CPR_FORMS)
    assert all(REDACTED in t and not any(n in t for n in CPR_NEEDLES) for t in citizen)
    tracker = httpx.get(
        f"{secure.settings.rasa_url}/conversations/{session}/tracker",
        params={"token": secure.settings.rasa_token},
    ).json()
    texts = [e.get("text") or "" for e in tracker["events"] if e.get("event") == "user"]
    assert texts and all(not any(n in t for n in CPR_NEEDLES) for t in texts)


def test_slet_samtalen_removes_transcript_and_rasa_tracker(secure: LiveAssistant) -> None:
    session = new_session()
    client = httpx.Client(headers=as_client("203.0.113.8"))
    secure.chat(session, f"min e-mail er {CONTACT_EMAIL} og mit nummer {CONTACT_PHONE}",
                client=client)
    secure.chat(session, "hvordan fornyer jeg mit kørekort?", client=client)
    tracker_url = secure.settings.tracker_database_url
    events = TRACKER_EVENTS.c
    with get_engine(tracker_url).connect() as conn:
        count = select(func.count()).where(events.sender_id == session)
        assert conn.execute(count).scalar_one() > 0
    deleted = client.post(f"{secure.url}/api/session/delete", json={"session_id": session})
    assert deleted.status_code == 200
    with get_engine(tracker_url).connect() as conn:
        assert conn.execute(count).scalar_one() == 0
    assert client.get(f"{secure.url}/api/conversation/{session}").status_code == 409
    assert client.post(
        f"{secure.url}/api/chat", json={"session_id": session, "text": "hej igen"}
    ).status_code == 409


def test_the_staff_feed_is_out_of_reach(secure: LiveAssistant) -> None:
    base = secure.url.replace("http", "ws")
    session = new_session()
    secure.chat(session, "hej", client=httpx.Client(headers=as_client("203.0.113.9")))

    async def handshake(path: str, origin: str | None = None) -> int:
        try:
            async with websockets.connect(f"{base}{path}", open_timeout=10, origin=origin) as ws:
                await asyncio.wait_for(ws.recv(), 10)  # the backlog: it is open
                return 101
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code

    assert asyncio.run(handshake("/api/ws/staff")) == 422
    assert asyncio.run(handshake("/api/ws/staff:console")) in (404, 422)
    assert asyncio.run(handshake(f"/api/ws/{session}", origin="https://evil.example")) == 403
    assert asyncio.run(handshake(f"/api/ws/{session}", origin=secure.url)) == 101


def test_logs_hold_no_session_id_and_no_cpr(secure: LiveAssistant) -> None:
    logs = "\n".join(
        path.read_text(errors="replace") for path in Path(secure.log_dir).glob("*.log")
    )
    with get_engine(secure.settings.database_url).connect() as conn:
        sessions = conn.execute(text("SELECT id FROM conversations")).scalars().all()
    assert sessions
    assert not [s for s in sessions if s in logs]
    assert not [n for n in CPR_NEEDLES if n in logs]


def test_databases_hold_no_test_cpr_or_deleted_contact(secure: LiveAssistant) -> None:
    """Last in this module: grep the raw database files (and their -wal files)."""
    files = [Path(secure.settings.var_dir) / name for name in ("app.db", "tracker.db")]
    found = []
    for path in files:
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
            if not candidate.exists():
                continue
            data = candidate.read_bytes()
            for needle in (*CPR_NEEDLES, CONTACT_EMAIL, CONTACT_PHONE, "61234567"):
                for encoded in (needle.encode(), needle.encode("utf-16-le")):
                    if encoded in data:
                        found.append((candidate.name, needle))
    assert files[0].exists() and files[1].exists()
    assert not found, found


def test_purge_with_zero_days_empties_the_real_tracker_store(secure: LiveAssistant) -> None:
    """After the grep: `python -m bot purge --older-than-days 0` against Rasa's own tracker
    store (the SQLite file the running Rasa writes)."""
    out = io.StringIO()
    settings = secure.settings
    code = main(
        ["--database-url", settings.database_url, "purge", "--older-than-days", "0",
         "--tracker-database-url", settings.tracker_database_url],
        out=out,
    )
    assert code == 0, out.getvalue()
    with get_engine(settings.tracker_database_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(TRACKER_EVENTS)).scalar_one() == 0
    with get_engine(settings.database_url).connect() as conn:
        for table in ("conversations", "chat_messages", "handoff_tickets"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table
