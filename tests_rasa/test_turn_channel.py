"""The turn channel's tracker store, inside Rasa's own environment: a save leaves the turn's
state for the one message that made it, and only the newest saves are kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from danish_nlu import turn_channel

DOMAIN = Domain.from_dict(
    {
        "intents": ["book_it_help"],
        "slots": {"topic": {"type": "text", "mappings": [{"type": "custom"}]}},
        "forms": {"it_help_form": {"required_slots": []}},
    }
)


def _tracker(sender: str, message_id: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender,
        [
            UserUttered(
                "jeg vil booke en tid",
                intent={"name": "book_it_help", "confidence": 0.98},
                message_id=message_id,
            ),
            ActiveLoop("it_help_form"),
            SlotSet("topic", "it_help"),
        ],
        slots=DOMAIN.slots,
    )


def _store(tmp_path: Path) -> turn_channel.TurnTrackerStore:
    return turn_channel.TurnTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "trackers.db")
    )


def test_a_save_leaves_the_state_for_its_message(tmp_path: Path) -> None:
    store = _store(tmp_path)
    asyncio.run(store.save(_tracker("anna", "m-1")))
    assert turn_channel.take_saved_state("m-1") == {
        "intent": "book_it_help",
        "active_loop": "it_help_form",
        "slots": {"topic": "it_help"},
    }
    assert turn_channel.take_saved_state("m-1") is None  # taken once
    retrieved = asyncio.run(store.retrieve("anna"))
    assert retrieved is not None and turn_channel.turn_state(retrieved)["intent"] == "book_it_help"


def test_uncollected_states_do_not_pile_up(tmp_path: Path, monkeypatch) -> None:
    store = _store(tmp_path)
    kept = 8
    monkeypatch.setattr(turn_channel, "_KEPT_STATES", kept)
    for number in range(kept + 5):
        asyncio.run(store.save(_tracker(f"s{number}", f"id-{number}")))
    assert len(turn_channel._saved_states) <= kept
    assert turn_channel.take_saved_state("id-0") is None
    assert turn_channel.take_saved_state(f"id-{kept + 4}") is not None


def test_action_replies_are_checked_as_strictly_as_before() -> None:
    import jsonschema
    import pytest
    from rasa.core.actions.action import RemoteAction

    from danish_nlu import speedups

    turn_channel.TurnInput()  # what Rasa does at start
    assert speedups.installed()
    action = RemoteAction("action_answer_knowledge", None)
    good = {"events": [{"event": "slot", "name": "topic", "value": "mitid"}], "responses": []}
    assert action._validate_action_result(good)
    for bad in ({"events": [{"event": "slot", "name": 3}]}, {"responses": "nej"}):
        with pytest.raises(jsonschema.ValidationError) as raised:
            action._validate_action_result(bad)
        with pytest.raises(jsonschema.ValidationError) as plain:
            jsonschema.validate(bad, RemoteAction.action_response_format_spec())
        assert raised.value.message.startswith(plain.value.message)
        assert "Failed to validate Action server response" in raised.value.message


def test_the_sqlite_tracker_database_runs_in_wal_mode(tmp_path: Path) -> None:
    store = _store(tmp_path)
    asyncio.run(store.save(_tracker("bo", "m-wal")))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_event_classes_are_found_as_rasa_finds_them() -> None:
    import pytest
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    from danish_nlu import speedups

    def rasas(type_name: str, default=None):  # Rasa 3.6's loop, as it is
        for cls in all_subclasses(Event):
            if cls.type_name == type_name:
                return cls
        if type_name == "topic":
            return None
        if default is not None:
            return default
        raise ValueError(f"Unknown event name '{type_name}'.")

    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "bot", "action", "slot", "active_loop", "restart"} <= names
    for name in names:
        assert speedups.resolve_by_type(name) is rasas(name)
    assert speedups.resolve_by_type("topic") is None
    assert speedups.resolve_by_type("no-such-event", default=Event) is Event
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        speedups.resolve_by_type("no-such-event")
    # Installed, a tracker read back from its events is the same.
    turn_channel.TurnInput()
    assert speedups.installed()
    tracker = _tracker("cy", "m-events")
    dumped = tracker.current_state(EventVerbosity.ALL)["events"]
    again = DialogueStateTracker.from_dict("cy", dumped, DOMAIN.slots)
    assert again.events == tracker.events
    assert turn_channel.turn_state(again) == turn_channel.turn_state(tracker)


def test_sqlite_connections_are_kept_open_between_turns(tmp_path: Path) -> None:
    import sqlalchemy.event

    store = _store(tmp_path)
    opened: list[object] = []
    sqlalchemy.event.listen(store.engine, "connect", lambda *_: opened.append(1))
    for number in range(5):
        asyncio.run(store.save(_tracker("anna", f"keep-{number}")))
        assert asyncio.run(store.retrieve("anna")) is not None
    assert len(opened) <= 1  # one connection, reused (it was one per session before)
    with store.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
