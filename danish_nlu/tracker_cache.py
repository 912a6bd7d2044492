"""Rasa's SQL tracker store without the reload of the whole session on every turn.

Rasa's ``SQLTrackerStore`` rebuilds the tracker at the start of each turn: it reads every event
of the session, parses their JSON, turns them into ``Event`` objects and replays them; at the
end of the turn it counts the stored events again to know which ones are new. That was a third
of the Rasa server's CPU per turn (py-spy, ``make profile``), growing with the conversation.

``CachingSQLTrackerStore`` keeps the tracker it saved last in memory, per conversation, and
hands the same object back on the next turn when the database still holds exactly what it
saved. Whether it does is one small indexed query: the number of the conversation's rows, the
newest row id and the total length of their data. That catches every other writer there is:
another Rasa server appending events (several instances share the database), the gateway
deleting a conversation or purging old ones, and the CPR scrub rewriting rows in place (its
placeholder is never as long as the number it replaces). Any doubt means a reload, exactly as
Rasa does it, so a cached tracker is always the one a reload would build:

- a tracker is cached only when a reload would give the same events (a reload reads the
  latest session only, so a turn that starts a session is read back on the next one);
- a turn that changed the tracker but never saved it (an error half-way) leaves it longer
  than what was saved, which is noticed and reloaded;
- a new domain (a new model) clears the cache, since trackers carry the domain's slots;
- with an event broker configured the cache is off (Rasa diffs against a retrieved tracker).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

# Conversations kept in memory; the least recently used is dropped first. A tracker of a long
# conversation is a few hundred kB, so this stays well under the server's model in size.
CACHED_CONVERSATIONS = 500


@dataclass(frozen=True)
class StoredMark:
    """What the database held for a conversation when its tracker was cached."""

    rows: int
    last_id: int | None
    data_length: int


@dataclass
class _Cached:
    tracker: DialogueStateTracker
    stored: int  # the tracker's events that are in the database (the first `stored`)
    mark: StoredMark


class CachingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        super().__init__(*args, **kwargs)

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        self._domain = domain or Domain.empty()
        self._cache.clear()

    @property
    def caching(self) -> bool:
        return self.event_broker is None

    # --- reading ----------------------------------------------------------------------------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if not self.caching:
            return await super().retrieve(sender_id)
        with self.session_scope() as session:
            mark = self._mark(session, sender_id)
            cached = self._cache.get(sender_id)
            if (
                cached is not None
                and cached.mark == mark
                and len(cached.tracker.events) == cached.stored
            ):
                self._cache.move_to_end(sender_id)
                return cached.tracker
            self._cache.pop(sender_id, None)
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=False
            ).all()
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row.data) for row in rows], self.domain.slots
        )
        # Kept as read, so that the first save of this turn needs no count of stored events.
        self._remember(tracker, len(tracker.events), mark)
        return tracker

    def _mark(self, session: Any, sender_id: str) -> StoredMark:
        event = self.SQLEvent
        rows, last_id, data_length = session.execute(
            sa.select(
                sa.func.count(event.id),
                sa.func.max(event.id),
                sa.func.coalesce(sa.func.sum(sa.func.length(event.data)), 0),
            ).where(event.sender_id == sender_id)
        ).one()
        return StoredMark(int(rows), last_id, int(data_length))

    # --- writing ----------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        cached = self._cache.get(tracker.sender_id)
        if not self.caching or cached is None or cached.tracker is not tracker:
            # A tracker this store did not hand out (an endpoint built it): Rasa's own way.
            self._cache.pop(tracker.sender_id, None)
            await super().save(tracker)
            return
        events = list(tracker.events)
        new = [self._row(tracker.sender_id, event) for event in events[cached.stored :]]
        with self.session_scope() as session:
            if new:
                # One multi-row insert: the ORM's unit of work per event cost more than the
                # rest of the save (cProfile).
                session.execute(self.SQLEvent.__table__.insert(), new)
            mark = self._mark(session, tracker.sender_id)
            session.commit()
        # The rows must be what was read plus exactly ours (the data is ASCII JSON, so its
        # length in SQL is its length here); a writer in between (a scrub, another server)
        # means the next turn reads the conversation back.
        expected = (cached.mark.rows + len(new), cached.mark.data_length + sum(
            len(row["data"]) for row in new
        ))
        if (mark.rows, mark.data_length) != expected:
            self._cache.pop(tracker.sender_id, None)
            return
        self._remember(tracker, len(events), mark)

    @staticmethod
    def _row(sender_id: str, event: Any) -> dict[str, Any]:
        """One event as Rasa's SQLTrackerStore.save stores it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _remember(self, tracker: DialogueStateTracker, stored: int, mark: StoredMark) -> None:
        if not reload_would_match(tracker):
            self._cache.pop(tracker.sender_id, None)
            return
        self._cache[tracker.sender_id] = _Cached(tracker, stored, mark)
        self._cache.move_to_end(tracker.sender_id)
        while len(self._cache) > CACHED_CONVERSATIONS:
            self._cache.popitem(last=False)


def reload_would_match(tracker: DialogueStateTracker) -> bool:
    """Whether reading the conversation back gives these very events: Rasa reads the events
    stamped no earlier than the latest session start (a new conversation's first event, the
    session-start action, is stamped just before it and is left out)."""
    starts = [event.timestamp for event in tracker.events if isinstance(event, SessionStarted)]
    if not starts:
        return True
    latest = max(starts)
    return all(event.timestamp >= latest for event in tracker.events)
