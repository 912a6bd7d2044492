"""Transcripts keep every message in order, also when several writers append at once."""

from __future__ import annotations

import threading

import pytest

from bot.db.session import session_scope
from bot.db.transcripts import add_message, add_messages, get_or_create_conversation, transcript


def test_messages_are_numbered_in_order(db_url: str) -> None:
    with session_scope(db_url) as session:
        get_or_create_conversation(session, "order-test")
        for sender in ("citizen", "bot", "staff"):
            add_message(session, "order-test", sender, f"fra {sender}")
    with session_scope(db_url) as session:
        stored = transcript(session, "order-test")
        assert [(m.seq, m.sender) for m in stored] == [(1, "citizen"), (2, "bot"), (3, "staff")]
        assert [m.seq for m in transcript(session, "order-test", last=2)] == [2, 3]


def test_concurrent_writers_never_clash(db_url: str) -> None:
    conversation = "race-test"
    with session_scope(db_url) as session:
        get_or_create_conversation(session, conversation)
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            barrier.wait()
            with session_scope(db_url) as session:
                sender = "staff" if number % 2 else "citizen"
                add_message(session, conversation, sender, str(number))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(db_url) as session:
        assert [m.seq for m in transcript(session, conversation)] == list(range(1, 21))


def test_unknown_sender_is_refused(db_url: str) -> None:
    with session_scope(db_url) as session, pytest.raises(ValueError):
        add_message(session, "x", "hacker", "hej")


def test_a_turns_messages_go_in_together_after_the_last(db_url: str) -> None:
    with session_scope(db_url) as session:
        get_or_create_conversation(session, "turn-test")
        add_message(session, "turn-test", "citizen", "hvad koster et pas?")
        added = add_messages(
            session,
            "turn-test",
            [("bot", "Et pas koster ...", {"kind": "answer"}), ("bot", "Andet?", None)],
        )
        assert [m.seq for m in added] == [2, 3]
    with session_scope(db_url) as session:
        stored = transcript(session, "turn-test")
        assert [(m.seq, m.sender, m.text) for m in stored][1:] == [
            (2, "bot", "Et pas koster ..."),
            (3, "bot", "Andet?"),
        ]
        assert stored[1].payload == {"kind": "answer"}
    with pytest.raises(ValueError), session_scope(db_url) as session:
        add_messages(session, "turn-test", [("bot", "ok", None), ("robot", "nej", None)])
    with session_scope(db_url) as session:
        assert len(transcript(session, "turn-test")) == 3  # nothing of a refused batch
