"""Issue 13's findings, each repeated as an attack on the gateway and refused (in-process:
tests/security_support.py). The flood, the logs and Rasa's tracker are checked against the
real three processes in tests/test_security_live.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient, WebSocketDenialResponse, WebSocketDisconnect

from bot.db.models import AuditEvent, HandoffTicket, StaffSession, utc_now
from bot.db.session import session_scope
from bot.gateway.hub import STAFF_CHANNEL, citizen_channel
from bot.services.handoff import HandoffService
from bot.services.staff_auth import set_disabled
from tests.security_support import ORIGIN, gateway, session_id, sign_in, start

EVIL = "https://evil.example"


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with gateway(tmp_path, monkeypatch) as test_client:
        yield test_client


def denied(client: TestClient, path: str, **kwargs) -> int:
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(
        path, **kwargs
    ):
        pass
    return refused.value.status_code


# --- 1. the staff event feed and live chats ---------------------------------------------------


def test_no_citizen_id_names_the_staff_channel(client: TestClient) -> None:
    for name in ("staff", "staff:console", "staff%3Aconsole", "x" * 21):
        assert denied(client, f"/api/ws/{name}") in (404, 422)
    with pytest.raises(ValueError):
        citizen_channel(STAFF_CHANNEL)
    sid = start(client)
    hub = client.app.state.hub
    with client.websocket_connect(f"/api/ws/{sid}", headers={"Origin": ORIGIN}):
        assert hub.subscriber_count(citizen_channel(sid)) == 1
        assert hub.subscriber_count(STAFF_CHANNEL) == 0
        assert hub.subscriber_count(sid) == 0  # no bare ids: every channel is namespaced


def test_other_sites_cannot_open_the_chat_socket_or_read_transcripts(client: TestClient) -> None:
    sid = start(client)
    assert denied(client, f"/api/ws/{sid}", headers={"Origin": EVIL}) == 403
    assert client.get(f"/api/conversation/{sid}", headers={"Origin": EVIL}).status_code == 403
    for path, body in (
        ("/api/chat", {"session_id": sid, "text": "hej"}),
        ("/api/handoff/cancel", {"session_id": sid}),
        ("/api/feedback", {"session_id": sid, "seq": 1, "rating": "up"}),
    ):
        response = client.post(path, json=body, headers={"Origin": EVIL})
        assert response.status_code == 403, path
        assert "ikke må bruge chatten" in response.json()["detail"]
    assert client.get(f"/api/conversation/{sid}", headers={"Origin": ORIGIN}).status_code == 200


def test_short_session_ids_are_refused_everywhere(client: TestClient) -> None:
    for sid in ("a", "staff", "x" * 21):
        assert client.post("/api/chat", json={"session_id": sid, "text": "hej"}).status_code == 422
        assert client.get(f"/api/conversation/{sid}").status_code == 422
        for path in ("/api/session/start", "/api/session/end", "/api/session/delete",
                     "/api/handoff/cancel"):
            assert client.post(path, json={"session_id": sid}).status_code == 422, path
    assert client.post("/api/chat", json={"session_id": "a" * 22, "text": "hej"}).status_code == 503


# --- closed sessions --------------------------------------------------------------------------


def test_a_kiosk_session_closed_at_reset_answers_nothing(client: TestClient) -> None:
    sid = start(client, channel="kiosk", branch_id="hovedbiblioteket")
    assert client.post("/api/session/end", json={"session_id": sid}).status_code == 200
    assert client.get(f"/api/conversation/{sid}").status_code == 409
    chat = client.post("/api/chat", json={"session_id": sid, "text": "hvad skrev den forrige?"})
    assert chat.status_code == 409 and "afsluttet" in chat.json()["detail"]
    assert client.post(
        "/api/feedback", json={"session_id": sid, "seq": 1, "rating": "up"}
    ).status_code == 409
    assert client.post(
        "/api/kiosk/call", json={"session_id": sid, "branch_id": "hovedbiblioteket"}
    ).status_code == 409
    assert denied(client, f"/api/ws/{sid}") == 409


def test_slet_samtalen_deletes_and_the_id_is_dead(client: TestClient) -> None:
    sid = start(client)
    client.post("/api/chat", json={"session_id": sid, "text": "mit nummer er 22 33 44 55"})
    deleted = client.post("/api/session/delete", json={"session_id": sid})
    assert deleted.status_code == 200 and "slettet" in deleted.json()["message"]
    assert client.get(f"/api/conversation/{sid}").status_code == 409
    assert client.post("/api/session/delete", json={"session_id": session_id()}).status_code == 404


# --- 2. quotas and rate limits ------------------------------------------------------------------


def test_chat_rate_limit_per_session_is_a_polite_429(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway(tmp_path, monkeypatch, BORGER_RATE_LIMIT_SESSION="5") as client:
        sid = start(client)
        codes = [
            client.post("/api/chat", json={"session_id": sid, "text": f"hej {i}"}).status_code
            for i in range(8)
        ]
        assert codes == [503] * 5 + [429] * 3
        refused = client.post("/api/chat", json={"session_id": sid, "text": "hej"})
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "Vent et øjeblik" in refused.json()["detail"]
        # Another citizen is answered as before.
        other = start(client)
        answered = client.post("/api/chat", json={"session_id": other, "text": "hej"})
        assert answered.status_code == 503
        assert client.post(
            "/api/feedback", json={"session_id": sid, "seq": 1, "rating": "up"}
        ).status_code == 200  # feedback has its own bucket


def test_address_limit_and_trusted_proxies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"BORGER_RATE_LIMIT_ADDRESS": "6", "BORGER_TRUSTED_PROXIES": "10.9.9.9"}
    with gateway(tmp_path, monkeypatch, client=("10.9.9.9", 1), **env) as client:
        flood = [
            client.post(
                "/api/chat",
                json={"session_id": session_id(), "text": "hej"},
                headers={"X-Forwarded-For": "203.0.113.5"},
            ).status_code
            for _ in range(8)
        ]
        assert flood.count(429) == 2, flood  # many sessions, one client: its address counts
        # Behind the trusted proxy, another client has its own budget ...
        other = client.post(
            "/api/chat", json={"session_id": session_id(), "text": "hej"},
            headers={"X-Forwarded-For": "203.0.113.6"},
        )
        assert other.status_code == 503
        # ... and a client cannot buy a fresh one by writing its own X-Forwarded-For: the
        # right-most address the proxy added is the one that counts.
        spoofed = client.post(
            "/api/chat", json={"session_id": session_id(), "text": "hej"},
            headers={"X-Forwarded-For": "198.51.100.77, 203.0.113.5"},
        )
        assert spoofed.status_code == 429


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway(tmp_path, monkeypatch, BORGER_RATE_LIMIT_ADDRESS="3") as client:
        codes = [
            client.post(
                "/api/chat", json={"session_id": session_id(), "text": "hej"},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            ).status_code
            for i in range(5)
        ]
        assert codes == [503, 503, 503, 429, 429]
        # The staff audit log records the real peer, not the spoofed value.
        csrf = client.get("/api/staff/csrf").json()["csrf"]
        client.post(
            "/api/staff/login", json={"username": "anna", "password": "gæt-et-kodeord"},
            headers={"X-CSRF-Token": csrf, "Origin": ORIGIN, "X-Forwarded-For": "1.2.3.4"},
        )
        with session_scope(client.app.state.settings.database_url) as session:
            ips = session.execute(select(AuditEvent.ip)).scalars().all()
        assert ips == ["10.1.1.1"]


def test_websocket_connects_and_open_sockets_are_limited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"BORGER_MAX_SOCKETS_PER_ADDRESS": "2", "BORGER_RATE_LIMIT_SESSION": "3"}
    with gateway(tmp_path, monkeypatch, **env) as client:
        first, second, third = start(client), start(client), start(client)
        with client.websocket_connect(f"/api/ws/{first}"), \
                client.websocket_connect(f"/api/ws/{second}"):
            assert denied(client, f"/api/ws/{third}") == 429
        with client.websocket_connect(f"/api/ws/{third}"):
            pass  # a closed socket frees its place
        # Reconnecting one session again and again is a flood of its own.
        for _ in range(2):
            with client.websocket_connect(f"/api/ws/{first}"):
                pass
        assert denied(client, f"/api/ws/{first}") == 429


def test_feedback_and_kiosk_calls_are_limited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway(tmp_path, monkeypatch, BORGER_RATE_LIMIT_SESSION="2") as client:
        sid = start(client, channel="kiosk", branch_id="hovedbiblioteket")
        body = {"session_id": sid, "seq": 1, "rating": "up"}
        codes = [client.post("/api/feedback", json=body).status_code for _ in range(3)]
        assert codes[-1] == 429
        call = {"session_id": sid, "branch_id": "hovedbiblioteket"}
        codes = [client.post("/api/kiosk/call", json=call).status_code for _ in range(3)]
        assert codes[-1] == 429 and "Retry-After" in client.post(
            "/api/kiosk/call", json=call
        ).headers


def test_kiosks_are_known_by_their_own_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"BORGER_KIOSK_KEYS": "hovedbiblioteket:foyer-key-1 nord:nord-key-2"}
    with gateway(tmp_path, monkeypatch, **env) as client:
        assert client.get("/kiosk?branch=hovedbiblioteket").status_code == 403
        assert client.get("/kiosk?branch=hovedbiblioteket&key=nord-key-2").status_code == 403
        page = client.get("/kiosk?branch=hovedbiblioteket&key=foyer-key-1")
        assert page.status_code == 200 and "foyer-key-1" in page.text
        keyed = client.get("/kiosk?key=nord-key-2")  # the key names the branch
        assert keyed.status_code == 200 and "Bibliotek Nord" in keyed.text
        sid = session_id()
        fake = {"session_id": sid, "channel": "kiosk", "branch_id": "hovedbiblioteket"}
        assert client.post("/api/session/start", json=fake).status_code == 403
        start(client, sid, channel="kiosk", branch_id="hovedbiblioteket",
              kiosk_key="foyer-key-1")
        call = {"session_id": sid, "branch_id": "hovedbiblioteket"}
        assert client.post("/api/kiosk/call", json=call).status_code == 403  # no key
        wrong = {**call, "kiosk_key": "nord-key-2"}
        assert client.post("/api/kiosk/call", json=wrong).status_code == 403
        assert client.post(
            "/api/kiosk/call", json={**call, "kiosk_key": "foyer-key-1"}
        ).status_code == 200


def test_one_open_live_queue_ticket_per_session(client: TestClient) -> None:
    url = client.app.state.settings.database_url
    sid = start(client)
    service = HandoffService(client.app.state.settings)
    first = service.enqueue(sid)
    again = service.enqueue(sid)
    assert again.ticket["id"] == first.ticket["id"] and not again.new_ticket
    with session_scope(url) as session:
        assert len(session.execute(select(HandoffTicket)).scalars().all()) == 1


# --- 4. the staff WebSocket after logout, disable and expiry ----------------------------------


def _console(client: TestClient, headers: dict[str, str]):
    socket = client.websocket_connect("/api/staff/ws", headers={"Origin": ORIGIN})
    ws = socket.__enter__()
    ws.send_json({"type": "hello", "csrf": headers["X-CSRF-Token"]})
    assert ws.receive_json()["type"] == "hello"
    assert ws.receive_json()["type"] == "queue"
    return socket, ws


def test_staff_socket_closes_on_logout(client: TestClient) -> None:
    headers = sign_in(client)
    socket, ws = _console(client, headers)
    try:
        assert client.post("/api/staff/logout", headers=headers).status_code == 200
        assert ws.receive_json() == {"type": "signed_out"}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
    finally:
        socket.__exit__(None, None, None)


@pytest.mark.parametrize("how", ["disabled", "expired"])
def test_staff_socket_commands_need_a_valid_session(client: TestClient, how: str) -> None:
    headers = sign_in(client)
    socket, ws = _console(client, headers)
    url = client.app.state.settings.database_url
    try:
        if how == "disabled":
            set_disabled(url, "anna", True)
        else:
            with session_scope(url) as session:
                session.execute(update(StaffSession).values(expires_at=utc_now()))
        ws.send_json({"type": "watch", "conversation_id": session_id(), "after": 0})
        assert ws.receive_json() == {"type": "signed_out"}
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()
    finally:
        socket.__exit__(None, None, None)


# --- smaller findings -------------------------------------------------------------------------


def test_console_pages_only_under_staff_with_their_headers(client: TestClient) -> None:
    for path in ("/static/staff/console.html", "/static/staff/login.html", "/static/staff/"):
        assert client.get(path).status_code == 404, path
    assert client.get("/static/staff/console.js").status_code == 200  # its script still loads
    login = client.get("/staff/login")
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "framing"),
    [
        ("/", "frame-ancestors 'self'"),
        ("/privatliv", "frame-ancestors 'self'"),
        ("/tilgaengelighed", "frame-ancestors 'self'"),
        ("/kiosk?branch=hovedbiblioteket", "frame-ancestors 'none'"),
        ("/staff/login", "frame-ancestors 'none'"),
        ("/widget.js", "frame-ancestors 'none'"),
        ("/widget.css", "frame-ancestors 'none'"),
        ("/api/widget/config", "frame-ancestors 'none'"),
    ],
)
def test_every_page_has_security_headers(client: TestClient, path: str, framing: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert framing in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_widget_may_be_framed_by_the_allowed_library_sites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"BORGER_ALLOWED_ORIGINS": "https://kildeby-bib.dk"}
    with gateway(tmp_path, monkeypatch, **env) as client:
        csp = client.get("/").headers["content-security-policy"]
        framing = csp.split("frame-ancestors")[1]
        assert framing.startswith(" 'self'") and "https://kildeby-bib.dk" in framing
        assert "kildeby-bib.dk" not in client.get("/kiosk").headers["content-security-policy"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"session_id": "%s", "text": "\\ud800"}', "ugyldige tegn"),
        (b"[" * 50_000 + b"]" * 50_000, "for stor"),
        (b"[" * 10_000 + b"]" * 10_000, "dybt"),
        (b'{"a":' * 30 + b"1" + b"}" * 30, "dybt"),
        (b"\xff\xfe{}", "JSON"),
    ],
)
def test_malformed_json_is_a_clear_4xx(client: TestClient, body: bytes, words: str) -> None:
    if b"%s" in body:
        body = body.replace(b"%s", session_id().encode())
    response = client.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert words in response.json()["detail"]


def test_huge_numbers_are_a_clear_4xx(client: TestClient) -> None:
    headers = sign_in(client)
    sid = start(client)
    twenty = 10**20
    assert client.get(f"/api/conversation/{sid}?after={twenty}").status_code == 422
    assert client.post(
        "/api/feedback", json={"session_id": sid, "seq": twenty, "rating": "up"}
    ).status_code == 422
    assert client.get(f"/api/staff/tickets/{twenty}").status_code == 422
    assert client.post(f"/api/staff/tickets/{twenty}/take", headers=headers).status_code == 422
    assert denied(client, f"/api/ws/{sid}?after={twenty}") in (400, 422)


def test_body_size_is_checked_while_reading(client: TestClient) -> None:
    def chunks():
        for _ in range(100):
            yield b"x" * 10_000  # 1 MB, no Content-Length (chunked)

    response = client.post("/api/chat", content=chunks())
    assert response.status_code == 413
    declared = client.post("/api/chat", content=b"x" * (5 * 1024 * 1024))
    assert declared.status_code == 413


def test_openapi_lists_no_staff_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/chat" in paths
    assert not [p for p in paths if p.startswith(("/api/staff", "/staff"))]


# --- 7. bad input on every endpoint ---------------------------------------------------------

CITIZEN_POSTS = [
    "/api/chat", "/api/session/start", "/api/session/end", "/api/session/delete",
    "/api/feedback", "/api/handoff/cancel", "/api/kiosk/call",
]
STAFF_POSTS = [
    "/api/staff/login", "/api/staff/logout", "/api/staff/tickets/1/take",
    "/api/staff/tickets/1/reply", "/api/staff/tickets/1/return", "/api/staff/tickets/1/close",
    "/api/staff/tickets/1/notes",
]


def _bad_bodies(sid: str) -> list[tuple[str, bytes, str]]:
    ctype = "application/json"
    return [
        ("10,000 characters", json.dumps(
            {"session_id": sid, "text": "å" * 10_000, "seq": 1, "rating": "up"}).encode(), ctype),
        ("html and script", json.dumps(
            {"session_id": sid, "text": "<script>alert(1)</script><img src=x onerror=alert(1)>",
             "username": "<b>x</b>", "password": "<script>", "branch_id": "<script>"}
        ).encode(), ctype),
        ("null bytes", json.dumps({"session_id": sid, "text": "hej\x00med\x00nul"}).encode(),
         ctype),
        ("invalid utf-8", b'{"session_id": "\xc3\x28", "text": "\xff"}', ctype),
        ("deeply nested", b"[" * 30_000 + b"]" * 30_000, ctype),
        ("5 MB", b"{" + b" " * (5 * 1024 * 1024) + b"}", ctype),
        ("wrong content type", b"session_id=x&text=hej", "application/x-www-form-urlencoded"),
    ]


def test_bad_input_everywhere_gets_a_4xx_or_a_polite_reply(client: TestClient) -> None:
    headers = sign_in(client)
    sid = start(client)
    results = []
    for path in CITIZEN_POSTS + STAFF_POSTS:
        for label, body, ctype in _bad_bodies(sid):
            response = client.post(
                path, content=body, headers={**headers, "Content-Type": ctype}
            )
            results.append((path, label, response.status_code))
            assert response.status_code < 500 or (
                path == "/api/chat" and response.status_code == 503
                and "Prøv igen" in response.json()["messages"][-1]["text"]
            ), (path, label, response.status_code, response.text[:200])
            # A clear reason in Danish, or (where the bad part was a field nobody reads) the
            # ordinary answer: JSON either way, never a stack trace.
            data = response.json()
            assert isinstance(data, dict), (path, label)
            if response.status_code >= 400:
                assert isinstance(data.get("detail") or data.get("messages"), (str, list))
    # Still answering afterwards.
    assert client.get("/api/widget/config").status_code == 200
    assert client.get("/api/staff/me").status_code in (200, 401)
    assert len(results) == len(CITIZEN_POSTS + STAFF_POSTS) * 7
