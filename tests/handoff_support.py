"""Helpers shared by the handoff and staff console tests (plain functions, no fixtures)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.models import local_now
from bot.staff_auth import create_staff

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


def add_staff(url: str, username: str = "anna", name: str = "Anna Holm") -> int:
    return create_staff(url, username, name, STAFF_PASSWORD).id
