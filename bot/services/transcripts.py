"""Transcript messages as the widget, the kiosk and the staff console read them (JSON views)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.db.models import ChatMessage
from bot.db.session import session_scope
from bot.db.transcripts import transcript


def iso_utc(moment: datetime | None) -> str | None:
    """A naive UTC audit stamp as ISO 8601 with the "Z" the browsers need."""
    return moment.isoformat() + "Z" if moment else None


def message_to_dict(message: ChatMessage) -> dict[str, Any]:
    payload = message.payload or {}
    result = {
        "seq": message.seq,
        "sender": message.sender,
        "text": message.text,
        "buttons": payload.get("buttons", []),
        "created_at": iso_utc(message.created_at),
    }
    if payload.get("article"):
        result["article"] = payload["article"]  # the knowledge article the message shows
    if payload.get("kiosk"):
        result["kiosk"] = payload["kiosk"]  # "coming" / "closed": news of a kiosk call
    return result


def staff_message_dict(message: ChatMessage) -> dict[str, Any]:
    """message_to_dict plus the author's name, for the console (citizens never see it)."""
    result = message_to_dict(message)
    result["staff_name"] = (message.payload or {}).get("staff_name")
    return result


def messages_after(url: str | None, conversation_id: str, after: int = 0) -> list[dict[str, Any]]:
    """The citizen's own transcript after sequence number ``after`` (catch-up, page reload)."""
    with session_scope(url, read_only=True) as session:
        return [message_to_dict(m) for m in transcript(session, conversation_id, after_seq=after)]


# Topics a bot reply can have that say nothing about what the citizen asked.
_NOT_A_SUBJECT = ("staff", "smalltalk", "out_of_scope")


def conversation_subjects(
    url: str | None, conversation_id: str, topic_labels: dict[str, str]
) -> dict[str, list[str]]:
    """What the citizen asked about, in words: the topics of the assistant's replies (Danish
    labels) and the titles of the articles it showed, in the order they came up."""
    topics: list[str] = []
    articles: list[str] = []
    with session_scope(url, read_only=True) as session:
        for message in transcript(session, conversation_id):
            payload = message.payload or {}
            if message.sender != "bot" or payload.get("welcome"):
                continue
            topic = payload.get("topic")
            label = topic_labels.get(topic or "")
            if label and topic not in _NOT_A_SUBJECT and label not in topics:
                topics.append(label)
            title = (payload.get("article") or {}).get("title")
            if title and title not in articles:
                articles.append(title)
    return {"topics": topics, "articles": articles}
