"""The turn channel's tracker store, inside Rasa's own environment: a save leaves the turn's
state for the one message that made it, and only the newest saves are kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

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
