"""One citizen turn: check, redact, store, ask Rasa, store the answer, reply with its topic."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from bot.config import Settings
from bot.db import session_scope
from bot.gateway.hub import Hub
from bot.gateway.rasa_client import AssistantUnavailable, RasaClient
from bot.privacy import redact_cpr
from bot.topics import topic_for
from bot.transcripts import (
    add_message,
    get_or_create_conversation,
    message_to_dict,
    transcript,
)

log = logging.getLogger(__name__)

SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

CPR_NOTICE = (
    "Du skal ikke skrive dit CPR-nummer her. Jeg har fjernet det fra beskeden, "
    "så det ikke bliver gemt."
)
UNAVAILABLE = (
    "Beklager, jeg kan ikke svare lige nu på grund af en teknisk fejl. Din besked er gemt. "
    "Prøv igen om lidt, eller ring til biblioteket."
)
NO_ANSWER = (
    "Beklager, noget gik galt, og jeg kunne ikke finde et svar. Prøv igen, "
    "eller få hjælp af en medarbejder."
)
STAFF_BUTTON = {"title": "Tal med en medarbejder", "payload": "/request_human"}


@dataclass
class ChatReply:
    session_id: str
    topic: str
    messages: list[dict[str, Any]]
    handoff: dict[str, Any] | None = None
    status_code: int = 200
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "topic": self.topic,
            "messages": self.messages,
            "handoff": self.handoff,
            **self.extra,
        }


def _normalise(message: dict[str, Any]) -> dict[str, Any] | None:
    text = message.get("text")
    if not text:
        return None
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in message.get("buttons") or []
    ]
    return {"text": str(text), "buttons": buttons}


class ChatService:
    def __init__(self, settings: Settings, rasa: RasaClient, hub: Hub) -> None:
        self.settings = settings
        self.rasa = rasa
        self.hub = hub
        # One turn at a time per conversation, so the transcript order is the real order.
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, session_id: str, text: str, channel: str = "web") -> ChatReply:
        async with self._locks[session_id]:
            return await self._handle(session_id, text, channel)

    async def _handle(self, session_id: str, text: str, channel: str) -> ChatReply:
        clean, had_cpr = redact_cpr(text.strip())
        await self._publish(
            session_id, await run_in_threadpool(self._store_citizen, session_id, clean, channel)
        )
        notices = [{"text": CPR_NOTICE, "buttons": []}] if had_cpr else []
        try:
            turn = await self.rasa.send(session_id, clean, {"channel": channel})
        except AssistantUnavailable as exc:
            log.warning("Rasa unavailable for a turn: %s", exc)
            messages = [*notices, {"text": UNAVAILABLE, "buttons": []}]
            await self._store_and_publish_bot(session_id, messages, "out_of_scope")
            return ChatReply(session_id, "out_of_scope", messages, status_code=503)
        topic = topic_for(turn.intent, turn.active_loop, turn.slots.get("topic"))
        messages = [m for m in map(_normalise, turn.messages) if m]
        if not messages:
            # Rasa answered but no action produced text: typically a dead action server.
            messages = [{"text": NO_ANSWER, "buttons": [STAFF_BUTTON]}]
        await self._store_and_publish_bot(session_id, notices + messages, topic)
        return ChatReply(session_id, topic, notices + messages)

    async def _store_and_publish_bot(
        self, session_id: str, messages: list[dict[str, Any]], topic: str
    ) -> None:
        stored = await run_in_threadpool(self._store_bot, session_id, messages, topic)
        await self._publish(session_id, *stored)

    async def _publish(self, session_id: str, *messages: dict[str, Any]) -> None:
        for message in messages:
            await self.hub.publish(session_id, {"type": "message", "message": message})

    def _store_citizen(self, session_id: str, text: str, channel: str) -> dict[str, Any]:
        with session_scope(self.settings.database_url) as session:
            get_or_create_conversation(session, session_id, channel=channel)
            payload = None
            if text.startswith("/"):
                # A button press: keep what the citizen saw (its title) in the transcript.
                title = _button_title(transcript(session, session_id, last=10), text)
                if title:
                    payload, text = {"button_payload": text}, title
            return message_to_dict(add_message(session, session_id, "citizen", text, payload))

    def _store_bot(
        self, session_id: str, messages: list[dict[str, Any]], topic: str
    ) -> list[dict[str, Any]]:
        with session_scope(self.settings.database_url) as session:
            conversation = get_or_create_conversation(session, session_id)
            conversation.topic = topic
            return [
                message_to_dict(
                    add_message(
                        session, session_id, "bot", m["text"], {"buttons": m["buttons"]}
                    )
                )
                for m in messages
            ]


def _button_title(messages: list, payload: str) -> str | None:
    for message in reversed(messages):
        if message.sender != "bot":
            continue
        for button in (message.payload or {}).get("buttons", []):
            if button.get("payload") == payload:
                return button.get("title")
    return None
