"""The handoff state machine (bot/core/handoff_states.py) alone: no database.

Every (state, event) pair is tried: the ones in the table go where the table says, with the
conversation and the citizen's view that state names; every other pair is refused with a
Danish reason and a 4xx status.
"""

from __future__ import annotations

import itertools

import pytest

from bot.core.handoff_states import (
    STATES,
    TRANSITIONS,
    CitizenState,
    ConversationState,
    Event,
    Kind,
    Status,
    TransitionRefused,
    allowed_events,
    next_conversation_state,
    routes_to_staff,
    state_of,
    transition,
)

C, S = ConversationState, CitizenState
LIVE, CALLBACK, KIOSK = Kind.LIVE, Kind.CALLBACK, Kind.KIOSK

# What the table must say, written out once more by hand: (source, event) -> target.
EXPECTED = {
    (None, Event.ENQUEUE): (LIVE, Status.QUEUED),
    ((LIVE, Status.QUEUED), Event.TAKE): (LIVE, Status.WITH_STAFF),
    ((LIVE, Status.QUEUED), Event.CITIZEN_LEAVES): (LIVE, Status.CANCELLED),
    ((LIVE, Status.QUEUED), Event.ABANDONED): (LIVE, Status.CANCELLED),
    ((LIVE, Status.QUEUED), Event.TIMEOUT): (CALLBACK, Status.PENDING_DETAILS),
    ((LIVE, Status.WITH_STAFF), Event.RETURN): (LIVE, Status.RETURNED),
    ((LIVE, Status.WITH_STAFF), Event.CLOSE): (LIVE, Status.CLOSED),
    ((LIVE, Status.WITH_STAFF), Event.CITIZEN_LEAVES): (LIVE, Status.CANCELLED),
    (None, Event.DETAILS): (CALLBACK, Status.OPEN),
    ((CALLBACK, Status.PENDING_DETAILS), Event.DETAILS): (CALLBACK, Status.OPEN),
    ((CALLBACK, Status.PENDING_DETAILS), Event.CLOSE): (CALLBACK, Status.CLOSED),
    ((CALLBACK, Status.OPEN), Event.CLOSE): (CALLBACK, Status.CLOSED),
    (None, Event.KIOSK_CALL): (KIOSK, Status.QUEUED),
    ((KIOSK, Status.QUEUED), Event.TAKE): (KIOSK, Status.WITH_STAFF),
    ((KIOSK, Status.QUEUED), Event.CLOSE): (KIOSK, Status.CLOSED),
    ((KIOSK, Status.WITH_STAFF), Event.CLOSE): (KIOSK, Status.CLOSED),
}
SOURCES = [None, *STATES]
ALL_PAIRS = list(itertools.product(SOURCES, Event))
REFUSED = [pair for pair in ALL_PAIRS if pair not in EXPECTED]


def _ids(pair: tuple) -> str:
    source, event = pair
    return f"{'new' if source is None else '/'.join(source)}-{event}"


def test_the_table_is_the_expected_one() -> None:
    assert {(t.source, t.event): t.target for t in TRANSITIONS} == EXPECTED
    assert len(ALL_PAIRS) == len(EXPECTED) + len(REFUSED)


@pytest.mark.parametrize("pair", list(EXPECTED), ids=_ids)
def test_every_allowed_transition(pair: tuple) -> None:
    source, event = pair
    kind, status = source if source else (None, None)
    found = transition(kind, status, event)
    assert found.target == EXPECTED[pair]
    assert found.state is STATES[found.target]
    if source is not None:
        assert event in allowed_events(*source)


@pytest.mark.parametrize("pair", REFUSED, ids=_ids)
def test_every_refused_transition(pair: tuple) -> None:
    source, event = pair
    kind, status = source if source else (None, None)
    with pytest.raises(TransitionRefused) as refused:
        transition(kind, status, event)
    assert refused.value.event is event and refused.value.source == source
    assert 400 <= refused.value.status_code < 500
    assert refused.value.message.endswith(".") and refused.value.message[0].isupper()
    if source is not None:
        assert event not in allowed_events(*source)


@pytest.mark.parametrize(
    ("kind", "status", "event", "message"),
    [
        (LIVE, Status.QUEUED, Event.RETURN, "Samtalen er ikke i gang hos en medarbejder."),
        (LIVE, Status.CLOSED, Event.CLOSE, "Samtalen er ikke i gang hos en medarbejder."),
        (CALLBACK, Status.OPEN, Event.RETURN, "Kun chat-samtaler kan gives tilbage"),
        (KIOSK, Status.QUEUED, Event.RETURN, "Kun chat-samtaler kan gives tilbage"),
        (CALLBACK, Status.CLOSED, Event.CLOSE, "Henvendelsen er allerede afsluttet."),
        (KIOSK, Status.CLOSED, Event.CLOSE, "Henvendelsen er allerede afsluttet."),
        (LIVE, Status.WITH_STAFF, Event.TAKE, "Henvendelsen venter ikke længere."),
        (CALLBACK, Status.OPEN, Event.TAKE, "Henvendelsen venter ikke længere."),
    ],
)
def test_staff_are_told_why(kind: Kind, status: Status, event: Event, message: str) -> None:
    with pytest.raises(TransitionRefused) as refused:
        transition(kind, status, event)
    assert refused.value.message.startswith(message)


@pytest.mark.parametrize(
    ("kind", "status", "conversation", "citizen"),
    [
        (LIVE, Status.QUEUED, C.QUEUED, S.QUEUED),
        (LIVE, Status.WITH_STAFF, C.WITH_STAFF, S.WITH_STAFF),
        (LIVE, Status.RETURNED, C.BOT, S.RETURNED),
        (LIVE, Status.CLOSED, C.CLOSED, S.CLOSED),
        (LIVE, Status.CANCELLED, C.BOT, S.RETURNED),
        (CALLBACK, Status.PENDING_DETAILS, C.BOT, S.CALLBACK),
        (CALLBACK, Status.OPEN, None, S.CALLBACK),
        (CALLBACK, Status.CLOSED, None, S.CLOSED),
        (KIOSK, Status.QUEUED, None, None),
        (KIOSK, Status.WITH_STAFF, None, None),
        (KIOSK, Status.CLOSED, None, None),
    ],
)
def test_each_state_names_the_conversation_and_the_citizen_view(
    kind: Kind, status: Status, conversation: C | None, citizen: S | None
) -> None:
    state = state_of(kind, status)
    assert (state.conversation, state.citizen) == (conversation, citizen)


def test_every_target_is_a_known_state_and_every_state_is_reachable() -> None:
    targets = {t.target for t in TRANSITIONS}
    assert targets <= set(STATES)
    assert targets == set(STATES)


def test_a_closed_conversation_stays_closed() -> None:
    returned = state_of(LIVE, Status.RETURNED)
    assert next_conversation_state(C.CLOSED, returned) is C.CLOSED
    assert next_conversation_state(C.WITH_STAFF, returned) is C.BOT
    assert next_conversation_state(None, state_of(LIVE, Status.QUEUED)) is C.QUEUED
    assert next_conversation_state(C.BOT, state_of(CALLBACK, Status.OPEN)) is C.BOT


def test_only_queued_and_taken_chats_route_to_staff() -> None:
    assert [s for s in C if routes_to_staff(s)] == [C.QUEUED, C.WITH_STAFF]
    assert not routes_to_staff(None)


def test_unknown_kinds_and_statuses_are_errors() -> None:
    with pytest.raises(ValueError):
        transition("telepathy", "queued", Event.TAKE)
    with pytest.raises(KeyError):
        state_of("kiosk", "open")
