"""Conversations and their transcripts in the database: every message is stored, in order,
before delivery. The JSON views of messages are in bot/services/transcripts.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import ChatMessage, Conversation, utc_now

SENDERS = ("citizen", "bot", "staff", "system")


def get_or_create_conversation(
    session: Session, conversation_id: str, channel: str = "web", branch_id: str | None = None
) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        conversation = Conversation(id=conversation_id, channel=channel, branch_id=branch_id)
        session.add(conversation)
        try:
            session.flush()
        except IntegrityError:
            # Another request created it between our read and our insert.
            session.rollback()
            conversation = session.get(Conversation, conversation_id)
    return conversation


def add_message(
    session: Session,
    conversation_id: str,
    sender: str,
    text: str,
    payload: dict[str, Any] | None = None,
) -> ChatMessage:
    """Append a message; the caller's transaction commits it before anything is delivered."""
    return add_messages(session, conversation_id, [(sender, text, payload)])[0]


def add_messages(
    session: Session,
    conversation_id: str,
    messages: list[tuple[str, str, dict[str, Any] | None]],
) -> list[ChatMessage]:
    """Append (sender, text, payload) messages in this order, numbered after the last one."""
    unknown = [sender for sender, _, _ in messages if sender not in SENDERS]
    if unknown:
        raise ValueError(f"unknown sender {unknown[0]!r}")
    # Lock the conversation row first: staff and citizen may write at the same moment (and on
    # several gateway instances), and max(seq) + 1 is only safe while nobody else appends.
    # SQLite already serialises writers (BEGIN IMMEDIATE, see bot/db/session.py).
    conversation = session.execute(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    ).scalar_one_or_none()
    last_seq = session.execute(
        select(func.coalesce(func.max(ChatMessage.seq), 0)).where(
            ChatMessage.conversation_id == conversation_id
        )
    ).scalar_one()
    added = [
        ChatMessage(
            conversation_id=conversation_id,
            seq=last_seq + number,
            sender=sender,
            text=text,
            payload=payload,
        )
        for number, (sender, text, payload) in enumerate(messages, start=1)
    ]
    session.add_all(added)
    if conversation is not None:
        conversation.updated_at = utc_now()
    session.flush()  # one flush for the turn's messages, not one each
    return added


def transcript(
    session: Session, conversation_id: str, after_seq: int = 0, last: int | None = None
) -> list[ChatMessage]:
    """Messages in order; only those after `after_seq`, or only the `last` few."""
    query = select(ChatMessage).where(
        ChatMessage.conversation_id == conversation_id, ChatMessage.seq > after_seq
    )
    if last is not None:
        newest = query.order_by(ChatMessage.seq.desc()).limit(last)
        return list(reversed(session.execute(newest).scalars().all()))
    return list(session.execute(query.order_by(ChatMessage.seq)).scalars())
