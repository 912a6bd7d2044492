"""One HTTP call per chat turn: the bot's messages and the conversation state, together.

The gateway needs, besides the messages, the turn's intent, the active form and the ``topic``
slot (to file the turn under a topic and to know a form is open). Rasa's REST channel returns
only the messages, so the gateway used to read the tracker with a second call, which made
Rasa load and replay the whole conversation session again each turn.

``TurnTrackerStore`` is Rasa's SQL tracker store that, on each save, also keeps the saved
tracker's small state in memory; ``TurnInput`` (``POST /webhooks/turn/webhook``, mounted by
credentials.yml) runs the message like the REST channel and answers with that state. The state
is taken only from a save this process made while handling this very message (the store
notes it under the message's id), so with several Rasa servers sharing the database nothing
stale from another instance is ever read. When no such save is found (another tracker store
configured in endpoints.yml), the channel reads the tracker from the store instead.

Rasa builds this channel once at start; that is where danish_nlu/speedups.py is installed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy
import sqlalchemy.event
import sqlalchemy.pool
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from danish_nlu import speedups
from danish_nlu.tracker_cache import CachingSQLTrackerStore

# Slots the gateway reads; the rest of the tracker stays in Rasa.
GATEWAY_SLOTS = ("topic",)
# Saves whose turn never came to collect them (e.g. a message through the REST channel) must
# not pile up: only the newest few are kept.
_KEPT_STATES = 1024
_saved_states: OrderedDict[str, dict[str, Any]] = OrderedDict()


def turn_state(tracker: DialogueStateTracker) -> dict[str, Any]:
    """What the gateway needs of a tracker: the last intent, the open form, a few slots."""
    intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
    return {
        "intent": intent,
        "active_loop": tracker.active_loop_name,
        "slots": {name: tracker.get_slot(name) for name in GATEWAY_SLOTS},
    }


def _message_id(tracker: DialogueStateTracker) -> str | None:
    latest = tracker.latest_message
    return latest.message_id if latest is not None else None


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # Rasa leaves SQLite in its rollback-journal mode with a full sync: several fsyncs per
    # turn, a fifth of a turn's time on the embedded default (py-spy). WAL with NORMAL sync
    # cannot corrupt the file either and loses nothing when a process crashes; the gateway's
    # own SQLite database runs the same way (bot/db/session.py).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class TurnTrackerStore(CachingSQLTrackerStore):
    """Rasa's SQL tracker store (same table, same settings; see tracker_cache.py) that
    remembers each save's state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 (Rasa's) opens a new SQLite connection for every session of a
            # file database (NullPool), so each turn paid for connecting, the pragmas and,
            # as the last connection closed, a WAL checkpoint: 10 ms of a turn (py-spy). A
            # small pool keeps them open; Rasa uses the store from its event loop's thread.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sqlalchemy.create_engine(
                url,
                poolclass=sqlalchemy.pool.QueuePool,
                pool_size=4,
                max_overflow=4,
                connect_args={"check_same_thread": False},
            )
            sqlalchemy.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker.configure(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        message_id = _message_id(tracker)
        if message_id:
            _saved_states[message_id] = turn_state(tracker)
            _saved_states.move_to_end(message_id)
            while len(_saved_states) > _KEPT_STATES:
                _saved_states.popitem(last=False)


def take_saved_state(message_id: str) -> dict[str, Any] | None:
    return _saved_states.pop(message_id, None)


class TurnInput(InputChannel):
    def __init__(self) -> None:
        speedups.install()

    @classmethod
    def name(cls) -> str:
        return "turn"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        blueprint = Blueprint("borger_turn", __name__)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json or {}
            sender = body.get("sender")
            if not isinstance(sender, str) or not sender:
                return response.json({"error": "sender is required"}, status=400)
            collector = CollectingOutputChannel()
            message = UserMessage(
                body.get("message"),
                collector,
                sender,
                input_channel=body.get("input_channel") or "rest",
                metadata=body.get("metadata"),
            )
            await on_new_message(message)
            state = take_saved_state(message.message_id)
            if state is None:
                tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
                state = turn_state(tracker) if tracker else {}
            return response.json({"messages": collector.messages, **state})

        return blueprint
