"""The gateway in-process for the security tests: the real FastAPI app on a temp SQLite
database, driven with Starlette's TestClient (HTTP and WebSocket). Rasa is not running: a chat
turn gets the polite "cannot answer right now" reply (503), which is all these tests need —
they test the front door, not the dialogue (tests/test_security_live.py runs the real stack).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.core.config import load_settings
from bot.db.session import dispose_engine, upgrade_database
from bot.gateway.app import create_app
from bot.services.staff_auth import create_staff

STAFF_PASSWORD = "korrekt-hest-batteri"
ORIGIN = "http://testserver"


def session_id() -> str:
    return secrets.token_hex(16)


@contextlib.contextmanager
def gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: tuple[str, int] = ("10.1.1.1", 5000),
    **env: str,
) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    values = {
        "BORGER_VAR_DIR": str(tmp_path),
        "BORGER_DATABASE_URL": url,
        "BORGER_RASA_URL": "http://127.0.0.1:9",  # nobody listens: turns answer 503
        "BORGER_ACTIONS_URL": "http://127.0.0.1:9",
        "BORGER_STAFF_COOKIE_SECURE": "0",
        "BORGER_PURGE_EVERY_HOURS": "0",
        **env,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    upgrade_database(url)
    app = create_app(load_settings())
    with TestClient(app, client=client) as test_client:
        yield test_client
    dispose_engine(url)


def start(client: TestClient, sid: str | None = None, **body: Any) -> str:
    sid = sid or session_id()
    response = client.post("/api/session/start", json={"session_id": sid, **body})
    assert response.status_code == 200, response.text
    return sid


def sign_in(client: TestClient, username: str = "anna") -> dict[str, str]:
    """Sign a staff member in; returns the headers for changing requests."""
    settings = client.app.state.settings
    with contextlib.suppress(ValueError):  # already there
        create_staff(settings.database_url, username, "Anna Holm", STAFF_PASSWORD)
    csrf = client.get("/api/staff/csrf").json()["csrf"]
    response = client.post(
        "/api/staff/login",
        json={"username": username, "password": STAFF_PASSWORD},
        headers={"X-CSRF-Token": csrf, "Origin": ORIGIN},
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf"], "Origin": ORIGIN}
