"""One citizen turn: check, redact, store, ask Rasa, store the answer, reply with its topic.

While a conversation is with staff (queued or taken, see bot/services/handoff.py) the citizen's
messages are stored and published to the staff console instead of going to Rasa; the bot stays
silent.
Rasa asks for a person with a ``{"handoff": "request"}`` custom message (actions/handoff.py),
which is turned into a queue entry here. Every state change is committed before it is
published (``publish_change``), so a reconnecting client catches up from the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from bot.core.config import Settings
from bot.core.handoff_states import ConversationState, routes_to_staff
from bot.core.topics import TOPICS, topic_for
from bot.db.models import Conversation
from bot.db.session import session_scope
from bot.db.transcripts import add_message, add_messages, get_or_create_conversation, transcript
from bot.gateway.errors import GatewayError
from bot.gateway.guard import ENDED
from bot.gateway.hub import STAFF_CHANNEL, Hub, citizen_channel
from bot.gateway.metrics import GatewayMetrics
from bot.gateway.rasa_client import AssistantUnavailable, RasaClient
from bot.language.privacy import redact_cpr
from bot.services.handoff import CANCEL_PAYLOAD, Change, HandoffService
from bot.services.handoff.views import callback_view
from bot.services.transcripts import message_to_dict

log = logging.getLogger(__name__)

# Hub "session" events after which a citizen's socket is closed.
ENDED_STATES = ("closed", "deleted")

CPR_NOTICE = (
    "Du skal ikke skrive dit CPR-nummer her. Jeg har fjernet det fra beskeden, "
    "så det ikke bliver gemt."
)
UNAVAILABLE = (
    "Beklager, jeg kan ikke svare lige nu på grund af en teknisk fejl. Din besked er gemt. "
    "Prøv igen om lidt, eller ring til biblioteket."
)
NO_ANSWER = (
    "Beklager, noget gik galt, og jeg kunne ikke finde et svar lige nu. Prøv igen om lidt, "
    "eller få hjælp af en medarbejder."
)
STAFF_BUTTON = {"title": "Tal med en medarbejder", "payload": "/request_human"}
# Sent to Rasa (not stored) when a queued chat times out: starts the callback form.
CALLBACK_TRIGGER = "/request_callback"
# Sent to Rasa (not stored) after two thumbs-down in a row: apologise and offer a person.
FRUSTRATION_TRIGGER = "/frustrated"


@dataclass
class ChatReply:
    session_id: str
    topic: str
    messages: list[dict[str, Any]]
    handoff: dict[str, Any] | None = None
    status_code: int = 200
    extra: dict[str, Any] = field(default_factory=dict)
    # What the turn came to, for /metrics (bot/gateway/metrics.py OUTCOMES); not sent.
    outcome: str = "reply"

    def to_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "topic": self.topic,
            "messages": self.messages,
            "handoff": self.handoff,
            **self.extra,
        }


def _handoff_markers(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The actions' ``json_message={"handoff": ...}`` markers, which arrive as "custom"."""
    return [
        m["custom"]
        for m in messages
        if isinstance(m.get("custom"), dict) and m["custom"].get("handoff")
    ]


def _normalise(message: dict[str, Any]) -> dict[str, Any] | None:
    text = message.get("text")
    if not text:
        return None
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in message.get("buttons") or []
    ]
    return {"text": str(text), "buttons": buttons}


def assemble(raw: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rasa's output as the chat API shows it, and what the turn was.

    The knowledge action follows its text with a ``{"borger": {"kind", "topic", "article"}}``
    custom message (actions/knowledge.py): its ``article`` belongs to the text message just
    before it, and its ``kind`` and ``topic`` describe the turn.
    """
    messages: list[dict[str, Any]] = []
    meta: dict[str, Any] = {}
    for message in raw:
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("borger"), dict):
            meta = custom["borger"]
            if messages and isinstance(meta.get("article"), dict):
                messages[-1]["article"] = meta["article"]
            continue
        normalised = _normalise(message)
        if normalised:
            messages.append(normalised)
    return messages, meta


class ChatService:
    def __init__(
        self,
        settings: Settings,
        rasa: RasaClient,
        hub: Hub,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.rasa = rasa
        self.hub = hub
        self.metrics = metrics
        self.handoff = HandoffService(settings)
        # Set when a chat joins the queue, so the timeout worker recomputes its next wake-up.
        self.queue_changed = asyncio.Event()
        # One turn at a time per conversation, so the transcript order is the real order.
        # Weak values: a lock lives while a turn holds or awaits it, not for every chat ever.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._head_starts: set[asyncio.Task[None]] = set()  # held until done (asyncio's rule)
        self._turns_in_flight = 0

    def _lock(self, session_id: str) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        return lock

    async def handle(self, session_id: str, text: str, channel: str = "web") -> ChatReply:
        started = time.perf_counter()
        self._turns_in_flight += 1
        try:
            async with self._lock(session_id):
                reply = await self._handle(session_id, text, channel)
        finally:
            self._turns_in_flight -= 1
        if self.metrics is not None:
            self.metrics.observe_turn(reply.outcome, time.perf_counter() - started)
        return reply

    async def _handle(self, session_id: str, text: str, channel: str) -> ChatReply:
        clean, had_cpr = redact_cpr(text.strip())
        self._head_start(clean)
        stored, state, channel = await run_in_threadpool(
            self._store_citizen, session_id, clean, channel
        )
        await self._publish(session_id, stored)
        if clean == CANCEL_PAYLOAD:
            return await self._cancel(session_id)
        if routes_to_staff(state):
            return await self._to_staff(session_id, had_cpr)
        notices = [{"text": CPR_NOTICE, "buttons": []}] if had_cpr else []
        return await self._rasa_turn(session_id, clean, channel, notices)

    def _head_start(self, text: str) -> None:
        """Let the action server start embedding the message now, while the message is
        stored and Rasa reads it (``prefetch_answers``): it answers a question sooner.

        Only while this is the one turn in flight: with others running, the cores are busy
        anyway, and the head start would be one more request and, for a turn that never
        reaches the answer engine, work thrown away. A button's payload is never ranked."""
        if not self.settings.prefetch_answers or self._turns_in_flight > 1:
            return
        if text.startswith("/"):
            return
        task = asyncio.create_task(self.rasa.prefetch(text))
        self._head_starts.add(task)
        task.add_done_callback(self._head_starts.discard)

    async def _rasa_turn(
        self, session_id: str, text: str, channel: str, notices: list[dict[str, Any]]
    ) -> ChatReply:
        try:
            turn = await self.rasa.send(session_id, text, {"channel": channel})
        except AssistantUnavailable as exc:
            log.warning("Rasa unavailable for a turn: %s", exc)
            messages = [*notices, {"text": UNAVAILABLE, "buttons": []}]
            await self._store_and_publish_bot(session_id, messages, "out_of_scope")
            return ChatReply(
                session_id, "out_of_scope", messages, status_code=503, outcome="unavailable"
            )
        messages, meta = assemble(turn.messages)
        topic = topic_for(turn.intent, turn.active_loop, turn.slots.get("topic"))
        if meta.get("topic") in TOPICS and not turn.active_loop:
            topic = meta["topic"]
        markers = _handoff_markers(turn.messages)
        if not messages and not markers:
            # Rasa answered but no action produced text: typically a dead action server.
            messages = [{"text": NO_ANSWER, "buttons": [STAFF_BUTTON]}]
        if markers:
            topic = "staff"  # the turn ended in a handoff, whatever the last words were about
        # The bot's "I'm passing you on" is stored before the queue entry it announces.
        await self._store_and_publish_bot(
            session_id, notices + messages, topic, meta.get("kind"), meta.get("choices")
        )
        outcome = "handoff" if markers else meta.get("kind") or (
            "form" if turn.active_loop else "reply"
        )
        reply = ChatReply(session_id, topic, notices + messages, outcome=outcome)
        for marker in markers:
            reply.handoff = await self._apply_marker(session_id, channel, marker) or reply.handoff
        return reply

    async def _apply_marker(
        self, session_id: str, channel: str, marker: dict[str, Any]
    ) -> dict[str, Any] | None:
        kind = marker.get("handoff")
        if kind == "request" and channel == "kiosk":
            # At a kiosk nobody chats: staff walk over to the screen instead.
            branch_id = await run_in_threadpool(self._branch_of, session_id)
            ok, text, change = await run_in_threadpool(
                self.handoff.kiosk_call, session_id, branch_id or ""
            )
            await self._store_and_publish_bot(session_id, [{"text": text, "buttons": []}], "staff")
            if change is not None:
                await self.publish_change(change)
            return None
        if kind == "request":
            change = await run_in_threadpool(
                self.handoff.enqueue,
                session_id,
                str(marker.get("reason") or "requested"),
                marker.get("topic") or None,
                channel,
            )
            await self.publish_change(change)
            self.queue_changed.set()
            return change.handoff
        if kind == "callback":
            # The action server wrote the ticket; staff consoles only need to hear of it.
            handoff = callback_view(marker.get("ticket_id"))
            await self.hub.publish(
                citizen_channel(session_id), {"type": "handoff", "handoff": handoff}
            )
            await self.hub.publish(
                STAFF_CHANNEL, {"type": "queue_changed", "new_ticket_id": marker.get("ticket_id")}
            )
            return handoff
        log.warning("unknown handoff marker %r", marker)
        return None

    async def _to_staff(self, session_id: str, had_cpr: bool) -> ChatReply:
        """A message in a queued or taken chat: it is already stored and published (staff
        consoles watching the chat have it); the bot stays silent."""
        messages: list[dict[str, Any]] = []
        if had_cpr:
            notice = await run_in_threadpool(self._store_system, session_id, CPR_NOTICE)
            await self._publish(session_id, notice)
            messages.append({"text": CPR_NOTICE, "buttons": []})
        await self.hub.publish(STAFF_CHANNEL, {"type": "activity", "conversation_id": session_id})
        handoff = await run_in_threadpool(self.handoff.current, session_id)
        return ChatReply(session_id, "staff", messages, handoff=handoff, outcome="to_staff")

    async def _cancel(self, session_id: str) -> ChatReply:
        change = await run_in_threadpool(self.handoff.cancel_by_citizen, session_id)
        if change is None:
            return ChatReply(session_id, "staff", [])
        await self.publish_change(change)
        messages = [{"text": m["text"], "buttons": m["buttons"]} for m in change.messages]
        return ChatReply(session_id, "staff", messages, handoff=change.handoff)

    async def cancel_handoff(self, session_id: str) -> Change | None:
        """The citizen's "leave the queue" (POST /api/handoff/cancel)."""
        async with self._lock(session_id):
            change = await run_in_threadpool(self.handoff.cancel_by_citizen, session_id)
            if change is not None:
                await self.publish_change(change)
            return change

    async def publish_change(self, change: Change, positions: bool = True) -> None:
        """Deliver a committed handoff change: transcript messages and the new `handoff`
        object to the citizen's channel, a queue notice to staff, new places in the queue."""
        conversation_id = change.conversation_id
        if conversation_id:
            await self._publish(conversation_id, *change.messages)
            if change.handoff is not None:
                await self.hub.publish(
                    citizen_channel(conversation_id),
                    {"type": "handoff", "handoff": change.handoff},
                )
        await self.hub.publish(
            STAFF_CHANNEL,
            {
                "type": "queue_changed",
                "new_ticket_id": change.ticket["id"] if change.new_ticket else None,
            },
        )
        if positions:
            for other, handoff in await run_in_threadpool(self.handoff.queued_objects):
                if other != conversation_id:
                    await self.hub.publish(
                        citizen_channel(other), {"type": "handoff", "handoff": handoff}
                    )

    async def expire_handoffs(self) -> int:
        """Queued chats nobody took in time become callback requests; the bot takes over
        and asks for the contact details (the callback form)."""
        changes = await run_in_threadpool(self.handoff.expire_due)
        for change in changes:
            await self.publish_change(change)
            if change.conversation_id and change.handoff is not None:
                async with self._lock(change.conversation_id):
                    channel = await run_in_threadpool(self._channel_of, change.conversation_id)
                    await self._rasa_turn(change.conversation_id, CALLBACK_TRIGGER, channel, [])
        return len(changes)

    async def offer_person(self, session_id: str) -> list[dict[str, Any]]:
        """The bot's apology and offer of a person, as if the citizen had said they were not
        helped; nothing is sent while the chat is already with staff."""
        async with self._lock(session_id):
            state, channel = await run_in_threadpool(self._state_of, session_id)
            if routes_to_staff(state):
                return []
            reply = await self._rasa_turn(session_id, FRUSTRATION_TRIGGER, channel, [])
            return reply.messages

    def _state_of(self, session_id: str) -> tuple[str, str]:
        with session_scope(self.settings.database_url, read_only=True) as session:
            conversation = session.get(Conversation, session_id)
            if conversation is None:
                return ConversationState.BOT, "web"
            return conversation.state, conversation.channel or "web"

    async def _store_and_publish_bot(
        self,
        session_id: str,
        messages: list[dict[str, Any]],
        topic: str,
        kind: str | None = None,
        choices: list[str] | None = None,
    ) -> None:
        stored = await run_in_threadpool(
            self._store_bot, session_id, messages, topic, kind, choices
        )
        await self._publish(session_id, *stored)

    async def _publish(self, session_id: str, *messages: dict[str, Any]) -> None:
        channel = citizen_channel(session_id)
        for message in messages:
            await self.hub.publish(channel, {"type": "message", "message": message})

    def _store_citizen(
        self, session_id: str, text: str, channel: str
    ) -> tuple[dict[str, Any], str, str]:
        """Store the message; returns it with the conversation's state and channel, read in the
        same transaction so a message is never routed by a stale state. A conversation ended
        at the kiosk reset or deleted by the citizen takes no more messages."""
        with session_scope(self.settings.database_url) as session:
            conversation = get_or_create_conversation(session, session_id, channel=channel)
            if conversation.ended_at is not None:
                raise GatewayError(ENDED, 409)
            payload = None
            if text.startswith("/"):
                # A button press: keep what the citizen saw (its title) in the transcript.
                title = _button_title(transcript(session, session_id, last=10), text)
                if title:
                    payload, text = {"button_payload": text}, title
            message = message_to_dict(add_message(session, session_id, "citizen", text, payload))
            return message, conversation.state, conversation.channel or channel

    def _store_system(self, session_id: str, text: str) -> dict[str, Any]:
        with session_scope(self.settings.database_url) as session:
            return message_to_dict(add_message(session, session_id, "system", text))

    def _branch_of(self, session_id: str) -> str | None:
        with session_scope(self.settings.database_url, read_only=True) as session:
            conversation = session.get(Conversation, session_id)
            return conversation.branch_id if conversation else None

    def _channel_of(self, session_id: str) -> str:
        with session_scope(self.settings.database_url, read_only=True) as session:
            conversation = session.get(Conversation, session_id)
            return conversation.channel if conversation else "web"

    def _store_bot(
        self,
        session_id: str,
        messages: list[dict[str, Any]],
        topic: str,
        kind: str | None = None,
        choices: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Store the bot's messages with what the turn was (``kind``: answer, clarify,
        overview, not_understood), the article shown and the choices offered: the staff's
        insight into answers and clarifications reads them from here."""
        with session_scope(self.settings.database_url) as session:
            conversation = get_or_create_conversation(session, session_id)
            conversation.topic = topic
            rows: list[tuple[str, str, dict[str, Any] | None]] = []
            for message in messages:
                payload: dict[str, Any] = {"buttons": message["buttons"], "topic": topic}
                if message.get("article"):
                    payload["article"] = message["article"]
                if kind:
                    payload["kind"] = kind
                if choices:
                    payload["choices"] = choices
                rows.append(("bot", message["text"], payload))
            return [message_to_dict(m) for m in add_messages(session, session_id, rows)]


def _button_title(messages: list, payload: str) -> str | None:
    for message in reversed(messages):
        if message.sender not in ("bot", "system"):  # system: the queue's "Forlad køen"
            continue
        for button in (message.payload or {}).get("buttons", []):
            if button.get("payload") == payload:
                return button.get("title")
    return None
