"""Rasa's tracker store, read and cleaned from our side: deleting one conversation's tracker,
purging old ones and scrubbing CPR numbers from stored events.

Rasa's ``SQLTrackerStore`` keeps one row per event in a table ``events`` (sender_id,
type_name, timestamp as Unix seconds, intent_name, action_name, data as JSON text). We only
delete rows or rewrite ``data``; the table itself is Rasa's and is created by Rasa on start,
so every function here is a no-op while it does not exist yet. Works on SQLite and PostgreSQL
(the URL is BORGER_TRACKER_DATABASE_URL, passed in by the caller).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy import inspect as sql_inspect
from sqlalchemy.engine import make_url

from bot.db.session import get_engine
from bot.language.privacy import redact_json

# The columns Rasa 3.6's SQLTrackerStore.SQLEvent declares (rasa/core/tracker_store.py).
TRACKER_METADATA = MetaData()
TRACKER_EVENTS = Table(
    "events",
    TRACKER_METADATA,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
_BATCH = 500


def _has_table(url: str) -> bool:
    parsed = make_url(url)
    database = parsed.database or ""
    on_disk = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if on_disk and not Path(database).exists():
        return False  # Rasa has not started yet; do not create an empty file
    return sql_inspect(get_engine(url)).has_table(TRACKER_EVENTS.name)


def delete_trackers(url: str, sender_ids: Iterable[str]) -> int:
    """Delete every event of these conversations; returns the number of rows deleted."""
    ids = list(dict.fromkeys(sender_ids))
    if not ids or not _has_table(url):
        return 0
    deleted = 0
    with get_engine(url).begin() as conn:
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            result = conn.execute(
                delete(TRACKER_EVENTS).where(TRACKER_EVENTS.c.sender_id.in_(chunk))
            )
            deleted += result.rowcount or 0
    return deleted


def purge_trackers(url: str, before_unix: float) -> tuple[int, int]:
    """Delete whole trackers whose newest event is older than ``before_unix``.

    A tracker is deleted whole, never in part: Rasa replays all events of a conversation, and
    half a tracker would be a broken one. Returns (conversations, rows)."""
    if not _has_table(url):
        return 0, 0
    events = TRACKER_EVENTS.c
    with get_engine(url).connect() as conn:
        old = conn.execute(
            select(events.sender_id)
            .group_by(events.sender_id)
            .having(func.max(func.coalesce(events.timestamp, 0)) < before_unix)
        ).scalars().all()
    return len(old), delete_trackers(url, old)


def tracker_senders(url: str) -> set[str]:
    if not _has_table(url):
        return set()
    with get_engine(url).connect() as conn:
        return set(conn.execute(select(TRACKER_EVENTS.c.sender_id).distinct()).scalars())


def scrub_trackers(url: str) -> int:
    """Redact CPR numbers inside every stored event; returns the number of rows changed."""
    if not _has_table(url):
        return 0
    events = TRACKER_EVENTS.c
    changed, last_id = 0, 0
    engine = get_engine(url)
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                select(events.id, events.data)
                .where(events.id > last_id)
                .order_by(events.id)
                .limit(_BATCH)
            ).all()
            for row_id, data in rows:
                try:
                    value = json.loads(data) if data else None
                except ValueError:
                    continue
                clean, found = redact_json(value)
                if found:
                    conn.execute(
                        update(TRACKER_EVENTS)
                        .where(events.id == row_id)
                        .values(data=json.dumps(clean))
                    )
                    changed += 1
        if len(rows) < _BATCH:
            return changed
        last_id = rows[-1][0]
