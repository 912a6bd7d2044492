"""Known conversations for the insight and missed-question tests: messages shaped exactly as
the gateway stores them (bot/gateway/chat.py ``_store_bot``, ``_store_citizen``; the builders
are bot/services/demo_conversations.py's)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.db.models import ChatMessage, Conversation, HandoffTicket
from bot.db.session import session_scope
from bot.services.demo_conversations import (  # noqa: F401 - the tests' message builders
    Message,
    answer,
    ask,
    clarify,
    not_understood,
    press,
    utc,
)

FORNY, MISTET = "koerekort-forny", "koerekort-mistet"


def conversation(
    url: str,
    conversation_id: str,
    local_start: datetime,
    *messages: Message,
    channel: str = "web",
    branch: str | None = None,
    ticket: tuple[str, int | None] | None = None,
    step: timedelta = timedelta(seconds=10),
) -> None:
    """One conversation started at ``local_start``, its messages ``step`` apart, and
    optionally a handoff ticket: ("live"|"kiosk", seconds until taken), ("timeout", None)
    (a queued chat that became a callback request) or ("left", None) (left the queue)."""
    started = utc(local_start)
    with session_scope(url) as session:
        session.add(Conversation(
            id=conversation_id, channel=channel, branch_id=branch, created_at=started,
            updated_at=started,
        ))
        session.flush()
        for seq, (sender, text, payload) in enumerate(messages, start=1):
            session.add(ChatMessage(
                conversation_id=conversation_id, seq=seq, sender=sender, text=text,
                payload=payload, created_at=started + seq * step,
            ))
        if ticket is None:
            return
        kind, wait = ticket
        created = started + (len(messages) + 1) * step
        values: dict[str, Any] = {
            "kind": "live", "status": "closed", "expires_at": created + timedelta(seconds=300),
        }
        if kind == "kiosk":
            values = {"kind": "kiosk", "status": "closed"}
        elif kind == "timeout":
            values.update(kind="callback", status="open")
        elif kind == "left":
            values.update(status="cancelled", closed_at=created + timedelta(seconds=30))
        session.add(HandoffTicket(
            conversation_id=conversation_id, branch_id=branch, reason="requested",
            created_at=created, updated_at=created,
            taken_at=created + timedelta(seconds=wait) if wait is not None else None,
            **values,
        ))
