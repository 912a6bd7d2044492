"""Known conversations for the insight and missed-question tests: messages shaped exactly as
the gateway stores them (bot/gateway/chat.py ``_store_bot``, ``_store_citizen``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from bot.db.models import LOCAL_TZ, ChatMessage, Conversation, HandoffTicket
from bot.db.session import session_scope

FORNY, MISTET = "koerekort-forny", "koerekort-mistet"
Message = tuple[str, str, dict[str, Any] | None]


def utc(local: datetime) -> datetime:
    """Naive Copenhagen wall-clock time as the naive UTC the stamps are stored in."""
    return local.replace(tzinfo=LOCAL_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def ask(text: str = "Hvordan fornyer jeg mit kørekort?") -> Message:
    return ("citizen", text, None)


def answer(article_id: str, feedback: str | None = None, topic: str = "koerekort") -> Message:
    payload: dict[str, Any] = {
        "buttons": [], "topic": topic, "kind": "answer",
        "article": {"id": article_id, "title": article_id, "source": "https://x.dk/a/b",
                    "reviewed": "2026-12-01"},
    }
    if feedback:
        payload["feedback"] = feedback
    return ("bot", f"Svar fra {article_id}", payload)


def clarify(*choices: str) -> Message:
    buttons = [{"title": c, "payload": f'/show_article{{"article_id":"{c}"}}'} for c in choices]
    buttons.append({"title": "Noget andet", "payload": "/something_else"})
    payload = {"buttons": buttons, "topic": "koerekort", "kind": "clarify",
               "choices": list(choices)}
    return ("bot", "Jeg er ikke helt sikker på, hvad du mener. Mener du …?", payload)


def not_understood(feedback: str | None = None) -> Message:
    payload: dict[str, Any] = {"buttons": [], "topic": "out_of_scope", "kind": "not_understood"}
    if feedback:
        payload["feedback"] = feedback
    return ("bot", "Det har jeg desværre ikke et godt svar på.", payload)


def press(article_id: str | None = None, title: str = "Noget andet") -> Message:
    """A button press, stored with the button's title as text."""
    if article_id is None:
        return ("citizen", title, {"button_payload": "/something_else"})
    payload = f'/show_article{{"article_id":"{article_id}"}}'
    return ("citizen", article_id, {"button_payload": payload})


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
