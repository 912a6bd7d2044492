"""The handoff to staff as one state machine: the ticket, the conversation and what the
citizen sees, and every transition allowed between them.

A ticket is one request for a person; its ``kind`` says how staff answer it:

- ``live``: a web chat in the queue (``queued``) until a staff member takes it
  (``with_staff``); it ends ``returned_to_bot``, ``closed`` (with an outcome) or ``cancelled``
  (the citizen left). Nobody taking it in time turns it into a ``callback`` ticket.
- ``callback``: the library contacts the citizen later: ``pending_details`` while the bot
  still collects name and contact (after a queue timeout), ``open`` until staff close it.
- ``kiosk``: "Kald en medarbejder" at a foyer kiosk; staff walk over (``with_staff``).

Each ticket state names the conversation state it puts the chat in (``queued`` and
``with_staff`` route the citizen's messages to staff instead of Rasa) and the state of the
chat API's ``handoff`` object (:data:`CITIZEN_STATES`). :data:`TRANSITIONS` is the only list
of what may happen; :func:`transition` refuses everything else with a Danish reason. The
database (bot/db/models.py) checks the same vocabularies with CHECK constraints.

Pure: no database, no I/O, so every allowed and every refused transition is testable alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    LIVE = "live"
    CALLBACK = "callback"
    KIOSK = "kiosk"


class Status(StrEnum):
    QUEUED = "queued"
    WITH_STAFF = "with_staff"
    PENDING_DETAILS = "pending_details"
    OPEN = "open"
    RETURNED = "returned_to_bot"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ConversationState(StrEnum):
    """``Conversation.state``: who answers the citizen's next message."""

    BOT = "bot"
    QUEUED = "queued"
    WITH_STAFF = "with_staff"
    CLOSED = "closed"  # ended by staff or by the kiosk reset; nothing more is answered


class CitizenState(StrEnum):
    """``handoff.state`` in the chat API and the widget."""

    QUEUED = "queued"
    WITH_STAFF = "with_staff"
    CALLBACK = "callback"
    CLOSED = "closed"
    RETURNED = "returned_to_bot"


class Event(StrEnum):
    ENQUEUE = "enqueue"  # the bot hands a web chat to the live queue
    KIOSK_CALL = "kiosk_call"  # "Kald en medarbejder" at a kiosk
    TAKE = "take"  # a staff member takes the chat or the kiosk call
    RETURN = "return"  # staff give the chat back to the assistant
    CLOSE = "close"  # staff close with an outcome
    CITIZEN_LEAVES = "citizen_leaves"  # "Forlad køen"
    TIMEOUT = "timeout"  # nobody took the queued chat in time: call the citizen back
    ABANDONED = "abandoned"  # a queued chat whose conversation has ended
    DETAILS = "details"  # the callback form has name, contact and description


# Statuses in which a ticket still needs staff; the two "in progress" ones at most once per
# conversation (a partial unique index in the database).
ACTIVE_STATUSES = (Status.QUEUED, Status.WITH_STAFF, Status.PENDING_DETAILS, Status.OPEN)
IN_PROGRESS_STATUSES = (Status.QUEUED, Status.WITH_STAFF)
FINAL_STATUSES = (Status.RETURNED, Status.CLOSED, Status.CANCELLED)
# Conversation states in which the citizen's messages go to staff, not to Rasa.
STAFF_ROUTED = (ConversationState.QUEUED, ConversationState.WITH_STAFF)


@dataclass(frozen=True)
class State:
    """A ticket state and what it means for the conversation and for the citizen.

    ``conversation`` None: the ticket does not steer the chat (a callback, a kiosk call:
    the citizen goes on with the assistant meanwhile)."""

    kind: Kind
    status: Status
    conversation: ConversationState | None
    citizen: CitizenState | None  # None: the citizen's widget shows nothing for it

    @property
    def key(self) -> tuple[Kind, Status]:
        return self.kind, self.status


_S = State
STATES: dict[tuple[Kind, Status], State] = {
    s.key: s
    for s in (
        _S(Kind.LIVE, Status.QUEUED, ConversationState.QUEUED, CitizenState.QUEUED),
        _S(Kind.LIVE, Status.WITH_STAFF, ConversationState.WITH_STAFF, CitizenState.WITH_STAFF),
        _S(Kind.LIVE, Status.RETURNED, ConversationState.BOT, CitizenState.RETURNED),
        _S(Kind.LIVE, Status.CLOSED, ConversationState.CLOSED, CitizenState.CLOSED),
        _S(Kind.LIVE, Status.CANCELLED, ConversationState.BOT, CitizenState.RETURNED),
        _S(Kind.CALLBACK, Status.PENDING_DETAILS, ConversationState.BOT, CitizenState.CALLBACK),
        _S(Kind.CALLBACK, Status.OPEN, None, CitizenState.CALLBACK),
        _S(Kind.CALLBACK, Status.CLOSED, None, CitizenState.CLOSED),
        _S(Kind.KIOSK, Status.QUEUED, None, None),
        _S(Kind.KIOSK, Status.WITH_STAFF, None, None),
        _S(Kind.KIOSK, Status.CLOSED, None, None),
    )
}


@dataclass(frozen=True)
class Transition:
    source: tuple[Kind, Status] | None  # None: the ticket is created by this event
    event: Event
    target: tuple[Kind, Status]

    @property
    def state(self) -> State:
        return STATES[self.target]


def _t(source: tuple[Kind, Status] | None, event: Event, target: tuple[Kind, Status]):
    return Transition(source, event, target)


LIVE_QUEUED = (Kind.LIVE, Status.QUEUED)
LIVE_WITH_STAFF = (Kind.LIVE, Status.WITH_STAFF)
CALLBACK_PENDING = (Kind.CALLBACK, Status.PENDING_DETAILS)
CALLBACK_OPEN = (Kind.CALLBACK, Status.OPEN)
KIOSK_QUEUED = (Kind.KIOSK, Status.QUEUED)
KIOSK_WITH_STAFF = (Kind.KIOSK, Status.WITH_STAFF)

TRANSITIONS: tuple[Transition, ...] = (
    _t(None, Event.ENQUEUE, LIVE_QUEUED),
    _t(LIVE_QUEUED, Event.TAKE, LIVE_WITH_STAFF),
    _t(LIVE_QUEUED, Event.CITIZEN_LEAVES, (Kind.LIVE, Status.CANCELLED)),
    _t(LIVE_QUEUED, Event.ABANDONED, (Kind.LIVE, Status.CANCELLED)),
    _t(LIVE_QUEUED, Event.TIMEOUT, CALLBACK_PENDING),
    _t(LIVE_WITH_STAFF, Event.RETURN, (Kind.LIVE, Status.RETURNED)),
    _t(LIVE_WITH_STAFF, Event.CLOSE, (Kind.LIVE, Status.CLOSED)),
    _t(LIVE_WITH_STAFF, Event.CITIZEN_LEAVES, (Kind.LIVE, Status.CANCELLED)),
    _t(None, Event.DETAILS, CALLBACK_OPEN),
    _t(CALLBACK_PENDING, Event.DETAILS, CALLBACK_OPEN),
    _t(CALLBACK_PENDING, Event.CLOSE, (Kind.CALLBACK, Status.CLOSED)),
    _t(CALLBACK_OPEN, Event.CLOSE, (Kind.CALLBACK, Status.CLOSED)),
    _t(None, Event.KIOSK_CALL, KIOSK_QUEUED),
    _t(KIOSK_QUEUED, Event.TAKE, KIOSK_WITH_STAFF),
    _t(KIOSK_QUEUED, Event.CLOSE, (Kind.KIOSK, Status.CLOSED)),
    _t(KIOSK_WITH_STAFF, Event.CLOSE, (Kind.KIOSK, Status.CLOSED)),
)
_BY_SOURCE: dict[tuple[tuple[Kind, Status] | None, Event], Transition] = {
    (t.source, t.event): t for t in TRANSITIONS
}

# Why a transition is refused, in Danish for staff (and the HTTP status it answers with).
_FINISHED = ("Henvendelsen er allerede afsluttet.", 409)
_ONLY_CHATS_RETURN = ("Kun chat-samtaler kan gives tilbage til assistenten.", 422)
_NOT_WITH_STAFF = ("Samtalen er ikke i gang hos en medarbejder.", 409)
_REFUSALS: dict[Event, tuple[str, int]] = {
    Event.TAKE: ("Henvendelsen venter ikke længere.", 409),
    Event.RETURN: _ONLY_CHATS_RETURN,
    Event.CLOSE: _FINISHED,
    Event.CITIZEN_LEAVES: ("Samtalen venter ikke på en medarbejder.", 409),
    Event.TIMEOUT: ("Henvendelsen venter ikke længere.", 409),
    Event.ABANDONED: ("Henvendelsen venter ikke længere.", 409),
    Event.DETAILS: ("Henvendelsen venter ikke på kontaktoplysninger.", 409),
    Event.ENQUEUE: ("Samtalen er allerede sendt videre til en medarbejder.", 409),
    Event.KIOSK_CALL: ("En medarbejder har allerede fået besked.", 409),
}


class TransitionRefused(Exception):
    """An event the ticket's state does not allow; ``message`` is Danish and safe to show."""

    def __init__(
        self, source: tuple[Kind, Status] | None, event: Event, message: str, status_code: int
    ) -> None:
        super().__init__(message)
        self.source, self.event = source, event
        self.message, self.status_code = message, status_code


def state_of(kind: str, status: str) -> State:
    """The state of a stored ticket (KeyError for a combination the machine does not have)."""
    return STATES[Kind(kind), Status(status)]


def transition(kind: str | None, status: str | None, event: Event) -> Transition:
    """The transition ``event`` makes from a ticket in (kind, status), or None/None for a new
    ticket; raises TransitionRefused for anything not in TRANSITIONS."""
    source = (Kind(kind), Status(status)) if kind is not None and status is not None else None
    found = _BY_SOURCE.get((source, event))
    if found is None:
        message, code = _refusal(source, event)
        raise TransitionRefused(source, event, message, code)
    return found


def _refusal(source: tuple[Kind, Status] | None, event: Event) -> tuple[str, int]:
    kind, status = source if source is not None else (None, None)
    if event is Event.RETURN and kind is not Kind.LIVE:
        return _ONLY_CHATS_RETURN
    if event in (Event.RETURN, Event.CLOSE) and kind is Kind.LIVE:
        return _NOT_WITH_STAFF
    if status in FINAL_STATUSES:
        return _FINISHED
    return _REFUSALS[event]


def allowed_events(kind: str, status: str) -> tuple[Event, ...]:
    """What may happen next to a ticket in this state (the console's buttons)."""
    source = (Kind(kind), Status(status))
    return tuple(t.event for t in TRANSITIONS if t.source == source)


def next_conversation_state(current: str | None, state: State) -> ConversationState:
    """The conversation's state once its ticket is in ``state``: a closed conversation stays
    closed (the chat has ended, whatever happens to its ticket); a ticket that does not steer
    the chat leaves it as it is."""
    now = ConversationState(current or ConversationState.BOT)
    if now is ConversationState.CLOSED or state.conversation is None:
        return now
    return state.conversation


def routes_to_staff(conversation_state: str | None) -> bool:
    """Whether the citizen's message goes to staff instead of to Rasa."""
    return conversation_state in STAFF_ROUTED
