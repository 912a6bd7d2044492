"""The caching tracker store against Rasa's own SQLTrackerStore on the same turns: the same
rows in the database, the same tracker read back, and a reload whenever anyone else changed
the conversation's rows (another Rasa server, a deletion, the CPR scrub)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from danish_nlu.tracker_cache import CachingSQLTrackerStore, reload_would_match

DOMAIN = Domain.from_dict(
    {
        "intents": ["ask_mitid"],
        "slots": {"topic": {"type": "text", "mappings": [{"type": "custom"}]}},
    }
)


def run(coroutine):  # noqa: ANN001, ANN201 - a test helper around asyncio
    return asyncio.run(coroutine)


def store(path: Path, kind: type[SQLTrackerStore] = CachingSQLTrackerStore) -> SQLTrackerStore:
    return kind(domain=DOMAIN, dialect="sqlite", db=str(path))


def turn(tracker: DialogueStateTracker, number: int) -> None:
    """One turn's events, as the processor adds them to the tracker it retrieved."""
    tracker.update(
        UserUttered(f"spørgsmål {number}", intent={"name": "ask_mitid", "confidence": 0.9})
    )
    tracker.update(ActionExecuted("action_answer_knowledge"))
    tracker.update(SlotSet("topic", f"mitid-{number}"))
    tracker.update(BotUttered(f"svar {number}"))
    tracker.update(ActionExecuted("action_listen"))


async def play(tracker_store: SQLTrackerStore, sender: str, turns: int) -> None:
    for number in range(turns):
        tracker = await tracker_store.get_or_create_tracker(sender)
        if number == 0:
            tracker.update(ActionExecuted("action_session_start"))
            tracker.update(SessionStarted())
        turn(tracker, number)
        await tracker_store.save(tracker)


def rows(path: Path) -> list[tuple]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        found = connection.execute(
            sa.text("SELECT sender_id, type_name, intent_name, action_name, data FROM events")
        ).all()
    engine.dispose()
    return [tuple(row) for row in found]


def without_times(found: list[tuple]) -> list[tuple]:
    """Rows with the event timestamps left out (two runs never share them)."""
    def strip(data: str) -> dict:
        return {k: v for k, v in json.loads(data).items() if k != "timestamp"}

    return [(*row[:4], strip(row[4])) for row in found]


def dialogue(tracker: DialogueStateTracker) -> dict:
    return tracker.as_dialogue().as_dict()


def test_the_same_rows_and_the_same_tracker_as_rasas_own_store(tmp_path: Path) -> None:
    cached, plain = store(tmp_path / "cached.db"), store(tmp_path / "plain.db", SQLTrackerStore)
    run(play(cached, "anna", 6))
    run(play(plain, "anna", 6))
    assert without_times(rows(tmp_path / "cached.db")) == without_times(rows(tmp_path / "plain.db"))
    # Read back by a fresh store of each kind and by the caching store itself.
    fresh = run(store(tmp_path / "cached.db", SQLTrackerStore).retrieve("anna"))
    assert dialogue(run(cached.retrieve("anna"))) == dialogue(fresh)
    timeless = [{k: v for k, v in e.items() if k != "timestamp"} for e in dialogue(fresh)["events"]]
    from_plain = dialogue(run(plain.retrieve("anna")))["events"]
    assert timeless == [{k: v for k, v in e.items() if k != "timestamp"} for e in from_plain]


def test_a_saved_tracker_is_handed_back_without_a_reload(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db")
    run(play(cached, "anna", 2))
    first = run(cached.retrieve("anna"))
    assert run(cached.retrieve("anna")) is first
    turn(first, 2)
    run(cached.save(first))
    assert run(cached.retrieve("anna")) is first
    assert first.get_slot("topic") == "mitid-2"


def test_another_server_writing_the_conversation_forces_a_reload(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    one, two = store(path), store(path)
    run(play(one, "anna", 2))
    held = run(one.retrieve("anna"))
    other = run(two.retrieve("anna"))
    turn(other, 7)
    run(two.save(other))
    again = run(one.retrieve("anna"))
    assert again is not held and again.get_slot("topic") == "mitid-7"
    turn(again, 8)
    run(one.save(again))
    assert [row[4] for row in rows(path)].count(json.dumps(again.events[-1].as_dict())) == 1
    assert dialogue(run(store(path, SQLTrackerStore).retrieve("anna"))) == dialogue(again)


def test_rows_rewritten_or_deleted_elsewhere_are_read_again(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    cached = store(path)
    run(play(cached, "anna", 3))
    run(cached.retrieve("anna"))
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # what the CPR scrub does: rewrite data in place
        row_id, data = connection.execute(
            sa.text("SELECT id, data FROM events WHERE type_name = 'user' LIMIT 1")
        ).one()
        changed = json.loads(data)
        changed["text"] = "[CPR-nummer fjernet]"
        connection.execute(
            sa.text("UPDATE events SET data = :data WHERE id = :id"),
            {"data": json.dumps(changed), "id": row_id},
        )
    texts = [e.text for e in run(cached.retrieve("anna")).events if isinstance(e, UserUttered)]
    assert texts[0] == "[CPR-nummer fjernet]"
    with engine.begin() as connection:  # the gateway deleting the conversation
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'anna'"))
    engine.dispose()
    assert run(cached.retrieve("anna")) is None


def test_a_turn_that_never_saved_is_forgotten(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db")
    run(play(cached, "anna", 2))
    tracker = run(cached.retrieve("anna"))
    turn(tracker, 9)  # the turn failed before its save
    again = run(cached.retrieve("anna"))
    assert again is not tracker and again.get_slot("topic") == "mitid-1"


def test_a_new_session_is_read_back_as_rasa_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    cached = store(path)
    run(play(cached, "anna", 2))
    tracker = run(cached.retrieve("anna"))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    turn(tracker, 5)
    assert not reload_would_match(tracker)
    run(cached.save(tracker))
    again = run(cached.retrieve("anna"))
    assert again is not tracker
    assert dialogue(again) == dialogue(run(store(path, SQLTrackerStore).retrieve("anna")))
    assert sum(isinstance(event, SessionStarted) for event in again.events) == 1


def test_a_new_model_clears_the_cache(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db")
    run(play(cached, "anna", 2))
    held = run(cached.retrieve("anna"))
    cached.domain = DOMAIN  # what Rasa does when a model is loaded
    assert run(cached.retrieve("anna")) is not held


def test_only_the_newest_conversations_stay_in_memory(tmp_path: Path, monkeypatch) -> None:
    from danish_nlu import tracker_cache

    monkeypatch.setattr(tracker_cache, "CACHED_CONVERSATIONS", 3)
    cached = store(tmp_path / "t.db")
    for number in range(6):
        run(play(cached, f"c{number}", 2))
    assert len(cached._cache) <= 3


def test_a_tracker_built_elsewhere_is_saved_as_rasa_saves_it(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    cached = store(path)
    run(play(cached, "anna", 1))
    before = len(rows(path))
    events: list[Event] = list(run(store(path, SQLTrackerStore).retrieve("anna")).events)
    built = DialogueStateTracker.from_events("anna", events, slots=DOMAIN.slots)
    turn(built, 4)
    run(cached.save(built))
    assert run(cached.retrieve("anna")).get_slot("topic") == "mitid-4"
    assert len(rows(path)) == before + 5  # the one turn's events, once


def test_a_write_between_read_and_save_makes_the_next_turn_read_back(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    cached = store(path)
    run(play(cached, "anna", 2))
    tracker = run(cached.retrieve("anna"))
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # the CPR scrub, in the middle of the turn
        connection.execute(
            sa.text("UPDATE events SET data = replace(data, 'svar 0', 'svar 0 (rettet)')")
        )
    engine.dispose()
    turn(tracker, 2)
    run(cached.save(tracker))
    again = run(cached.retrieve("anna"))
    assert again is not tracker
    assert any(getattr(e, "text", "") == "svar 0 (rettet)" for e in again.events)
