"""Helpers shared by the handoff and staff console tests (plain functions, no fixtures)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import select, update

from bot.core.config import PROJECT_ROOT, load_settings
from bot.core.handoff_states import IN_PROGRESS_STATUSES, Status
from bot.db.models import (
    Conversation,
    HandoffTicket,
    StaffSession,
    local_now,
    utc_now,
)
from bot.db.session import session_scope
from bot.services.staff_auth import AccountError, cookie_name, create_staff

DEFAULT_LIBRARY = PROJECT_ROOT / "config" / "library.yml"
STAFF_PASSWORD = "korrekt-hest-batteri"
_ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def write_library(path: Path, staffed: str) -> Path:
    """A copy of the demo library config whose staff are always ("always") or never ("never")
    at work, so tests do not depend on the time of day they run at."""
    config = yaml.safe_load(DEFAULT_LIBRARY.read_text(encoding="utf-8"))
    for branch in config["branches"]:
        branch["staffed"] = {day: "00:00-23:59" for day in _ALL_DAYS} if staffed == "always" else {}
    config["closed_days"] = []
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def avoid_midnight_gap() -> None:
    """An "always" library is closed from 23:59 to midnight; wait that minute out."""
    now = local_now()
    if now.hour == 23 and now.minute >= 58:
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
        time.sleep((midnight - now).total_seconds() + 2)


def ensure_staff(url: str, username: str, name: str, role: str = "staff") -> None:
    """Create the account unless an earlier test did (the live database is shared)."""
    with contextlib.suppress(AccountError):
        create_staff(url, username, name, STAFF_PASSWORD, role=role)


def add_staff(url: str, username: str = "anna", name: str = "Anna Holm") -> int:
    return create_staff(url, username, name, STAFF_PASSWORD).id


# --- the live stack, configured for handoff tests ---------------------------------------


@dataclass
class StaffLogin:
    client: httpx.Client
    csrf: str
    cookie: str  # "name=value", for WebSocket handshakes

    def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return self.client.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})


def staff_login(base_url: str, username: str, password: str = STAFF_PASSWORD) -> StaffLogin:
    client = httpx.Client(base_url=base_url, timeout=30)
    token = client.get("/api/staff/csrf").json()["csrf"]
    response = client.post(
        "/api/staff/login",
        json={"username": username, "password": password},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    name = cookie_name(load_settings().staff_cookie_secure)
    return StaffLogin(client, response.json()["csrf"], f"{name}={client.cookies.get(name)}")


def sign_everyone_out(url: str) -> None:
    """So that later tests do not find staff "signed in" (handoff would queue their chats)."""
    with session_scope(url) as session:
        session.execute(
            update(StaffSession).where(StaffSession.revoked_at.is_(None)).values(
                revoked_at=utc_now()
            )
        )


def end_open_handoffs(url: str) -> None:
    """Cancel every chat still queued or with staff, so the next test module starts with an
    empty queue (and no leftover chat times out into a callback in someone else's test)."""
    with session_scope(url) as session:
        tickets = session.execute(
            select(HandoffTicket).where(
                HandoffTicket.status.in_(IN_PROGRESS_STATUSES)
            )
        ).scalars().all()
        for ticket in tickets:
            ticket.status, ticket.closed_at = Status.CANCELLED, utc_now()
            conversation = session.get(Conversation, ticket.conversation_id or "")
            if conversation is not None and conversation.state in ("queued", "with_staff"):
                conversation.state, conversation.assigned_staff = "bot", None


def restart(live: Any, *names: str) -> None:
    for name in names:
        live.stack.stop_one(name)
    live.stack.start(only=names)
    live.stack.wait_healthy()


@contextmanager
def configured_stack(live: Any, names: tuple[str, ...], **env: str) -> Iterator[None]:
    """Restart some of the live processes with extra environment, and back afterwards."""
    previous = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        restart(live, *names)
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        restart(live, *names)


# --- reading a live chat's WebSocket events -----------------------------------------------

Event = dict[str, Any]


async def recv_until(
    socket: Any, predicate: Callable[[Event], bool], timeout: float = 30
) -> list[Event]:
    """Events up to and including the first that matches."""
    events: list[Event] = []
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        events.append(event)
        if predicate(event):
            return events


def is_message(sender: str, contains: str = "") -> Callable[[Event], bool]:
    def check(event: Event) -> bool:
        message = event.get("message") or {}
        return (
            event.get("type") == "message"
            and message.get("sender") == sender
            and contains in message.get("text", "")
        )

    return check


def is_handoff(state: str) -> Callable[[Event], bool]:
    return lambda e: e.get("type") == "handoff" and e["handoff"]["state"] == state
