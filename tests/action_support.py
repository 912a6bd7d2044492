"""Running the real rasa-sdk actions in-process against a temp SQLite app database.

Trackers come from small JSON fixtures in tests/fixtures/trackers/ (latest_message with text
and intent, slots, active_loop, requested_slot); a test overrides what it varies. Slot values
"SLOT", "SESSION" and "REF" in a fixture are placeholders the test fills in.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from bot.core.config import load_settings
from bot.db.models import Branch, local_now
from bot.db.session import session_scope
from bot.services.library import load_library

ROOT = Path(__file__).resolve().parent.parent
TRACKERS = Path(__file__).resolve().parent / "fixtures" / "trackers"
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
REFERENCE = re.compile(r"\b[A-Z2-9]{3}-[A-Z2-9]{3}\b")


@dataclass
class Result:
    events: list[dict[str, Any]]
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def slots(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("text") or "") for m in self.messages)

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [b for m in self.messages for b in m.get("buttons") or []]


def load_tracker(
    name: str,
    text: str | None = None,
    intent: str | None = None,
    confidence: float = 0.95,
    **slots: Any,
) -> Tracker:
    data = json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8"))
    message = dict(data.get("latest_message") or {})
    if text is not None:
        message["text"] = text
    if intent is not None:
        message["intent"] = intent
    message["intent"] = {"name": message.get("intent"), "confidence": confidence}
    all_slots = {slot: None for slot in DOMAIN["slots"]} | dict(data.get("slots") or {}) | slots
    all_slots["requested_slot"] = data.get("requested_slot")
    loop = data.get("active_loop")
    events: list[dict[str, Any]] = []
    if loop:
        events.append({"event": "active_loop", "name": loop})
    events.append({"event": "user", "text": message.get("text"), "parse_data": message})
    return Tracker(
        data.get("sender_id", "test"),
        all_slots,
        message,
        events,
        False,
        None,
        {"name": loop} if loop else {},
        "action_listen",
    )


def run_action(action: Action, tracker: Tracker) -> Result:
    dispatcher = CollectingDispatcher()
    outcome = action.run(dispatcher, tracker, DOMAIN)
    if asyncio.iscoroutine(outcome):
        outcome = asyncio.run(outcome)
    return Result(events=list(outcome or []), messages=dispatcher.messages)


@contextmanager
def use_database(url: str) -> Iterator[None]:
    """Run the actions on this database (what BORGER_DATABASE_URL does for the server)."""
    previous = config.settings
    config.use(load_settings(database_url=url))
    try:
        yield
    finally:
        config.use(previous)


def seed_branches(url: str) -> None:
    with session_scope(url) as session:
        for branch in load_library().branches:
            if session.get(Branch, branch.id) is None:
                session.add(Branch(id=branch.id, name=branch.name, address=branch.address))


def next_weekday(weekday: int, hour: int, minute: int = 0, weeks: int = 0) -> datetime:
    """The next date (tomorrow at the earliest) on ``weekday`` at hour:minute, local time."""
    day = local_now().date() + timedelta(days=1)
    day += timedelta(days=(weekday - day.weekday()) % 7 + 7 * weeks)
    return datetime(day.year, day.month, day.day, hour, minute)
