""""Spørgsmål uden godt svar": the citizens' questions the assistant missed, for staff to fix.

A question counts as missed when its answer was

- *not understood* (the assistant said it had no good answer),
- a *"Mener du …?"* the citizen answered with *"Noget andet"*,
- given a *thumbs-down*, or
- followed by a *handoff* to staff (the citizen asked for a person right after the answer).

The texts are CPR-redacted (again: the gateway already did) and phone numbers and e-mail
addresses are masked, so the list can be shown to every staff member. Questions with the same
content words (lemmas, æøå-folded) form one group with a count, when it was last asked, and
articles it may belong to (the choices offered, the article that got the thumbs-down). Staff
add the question as an example to an article, start a new article from it, or dismiss it; the
group then stays hidden until the question is asked again after that.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import (
    MISSED_ACTIONS,
    ChatMessage,
    Conversation,
    HandoffTicket,
    MissedQuestionAction,
)
from bot.db.session import session_scope
from bot.language.danish import content_lemmas
from bot.language.privacy import REDACTED, redact_cpr
from bot.language.text import fold
from bot.services.insight import Period
from bot.services.staff_auth import record_audit
from bot.services.transcripts import iso_utc

REASON_LABELS = {
    "not_understood": "Ikke forstået",
    "something_else": "»Noget andet« efter »Mener du …?«",
    "thumbs_down": "Tommel ned",
    "handoff": "Bad om en medarbejder efter svaret",
}
PHONE_MASK = "[telefonnummer]"
EMAIL_MASK = "[e-mail]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Danish numbers (8 digits, optionally +45/0045, in groups) and longer foreign ones.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?(?:\d[\s.-]?){7,14}\d(?!\w)")
MAX_EXAMPLES = 3


def mask_contacts(text: str) -> str:
    """CPR numbers, e-mail addresses and phone numbers out of a citizen's words."""
    text, _ = redact_cpr(text)
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(PHONE_MASK, text)


def group_key(text: str) -> str:
    """Questions with the same content words share a key (word order, case, æøå spelling
    and small words do not matter)."""
    for placeholder in (PHONE_MASK, EMAIL_MASK, REDACTED):
        text = text.replace(placeholder, " ")
    words = sorted(set(content_lemmas(text))) or fold(text).split()
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:16]


@dataclass
class _Group:
    key: str
    texts: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    suggested: Counter = field(default_factory=Counter)
    count: int = 0
    last_seen: datetime = datetime.min

    def add(self, text: str, reason: str, at: datetime, articles: Iterable[str]) -> None:
        self.texts[text] += 1
        self.reasons[reason] += 1
        self.suggested.update(a for a in articles if a)
        self.count += 1
        self.last_seen = max(self.last_seen, at)

    def to_dict(self) -> dict[str, Any]:
        latest = self.texts.most_common()
        return {
            "key": self.key,
            "text": latest[0][0],
            "count": self.count,
            "last_seen": iso_utc(self.last_seen),
            "reasons": {r: n for r, n in self.reasons.most_common()},
            "reason_labels": [REASON_LABELS[r] for r, _ in self.reasons.most_common()],
            "examples": [text for text, _ in latest[:MAX_EXAMPLES]],
            "suggested": [a for a, _ in self.suggested.most_common(3)],
        }


@dataclass(frozen=True)
class Who:
    staff_id: int
    username: str


class MissedService:
    def __init__(self, database_url: str | None) -> None:
        self.url = database_url

    def _candidates(self, session: Session, period: Period) -> set[str]:
        """Conversations with at least one missed question in the period."""
        start, end = period.utc_bounds()
        kind = ChatMessage.payload["kind"].as_string()
        feedback = ChatMessage.payload["feedback"].as_string()
        missed_message = (ChatMessage.sender == "bot") & (
            kind.in_(("not_understood", "clarify")) | (feedback == "down")
        )
        query = (
            select(ChatMessage.conversation_id)
            .join(Conversation, Conversation.id == ChatMessage.conversation_id)
            .where(ChatMessage.created_at >= start, ChatMessage.created_at < end, missed_message)
        )
        tickets = select(HandoffTicket.conversation_id).join(
            Conversation, Conversation.id == HandoffTicket.conversation_id
        ).where(HandoffTicket.created_at >= start, HandoffTicket.created_at < end)
        if period.channel:
            query = query.where(Conversation.channel == period.channel)
            tickets = tickets.where(Conversation.channel == period.channel)
        if period.branch:
            query = query.where(Conversation.branch_id == period.branch)
            tickets = tickets.where(Conversation.branch_id == period.branch)
        ids = set(session.execute(query.distinct()).scalars())
        return ids | set(session.execute(tickets.distinct()).scalars())

    def _handoff_times(self, session: Session, ids: set[str]) -> dict[str, list[datetime]]:
        times: dict[str, list[datetime]] = {}
        for conversation_id, created_at in session.execute(
            select(HandoffTicket.conversation_id, HandoffTicket.created_at).where(
                HandoffTicket.conversation_id.in_(ids)
            )
        ):
            times.setdefault(conversation_id, []).append(created_at)
        return times

    def groups(self, period: Period) -> list[dict[str, Any]]:
        start, end = period.utc_bounds()
        groups: dict[str, _Group] = {}

        def add(question: ChatMessage | None, reason: str, at: datetime, articles=()) -> None:
            if question is None or not (start <= at < end):
                return
            text = " ".join(mask_contacts(question.text).split())
            if not text:
                return
            key = group_key(text)
            groups.setdefault(key, _Group(key)).add(text, reason, at, articles)

        with session_scope(self.url, read_only=True) as session:
            ids = self._candidates(session, period)
            handoffs = self._handoff_times(session, ids) if ids else {}
            messages = session.execute(
                select(ChatMessage)
                .where(ChatMessage.conversation_id.in_(ids), ChatMessage.sender != "system")
                .order_by(ChatMessage.conversation_id, ChatMessage.seq)
            ).scalars() if ids else []
            by_conversation: dict[str, list[ChatMessage]] = {}
            for message in messages:
                by_conversation.setdefault(message.conversation_id, []).append(message)
            for conversation_id, transcript in by_conversation.items():
                self._walk(transcript, handoffs.get(conversation_id, []), add)
            done = self._done(session, list(groups))
        shown = [
            g for g in groups.values() if g.key not in done or g.last_seen > done[g.key]
        ]
        shown.sort(key=lambda g: (-g.count, -g.last_seen.timestamp(), g.key))
        return [g.to_dict() for g in shown]

    @staticmethod
    def _walk(transcript: list[ChatMessage], handoffs: list[datetime], add: Any) -> None:
        """Find the missed questions of one conversation, in order."""
        question: ChatMessage | None = None  # the citizen's last typed question
        clarified: tuple[ChatMessage | None, list[str]] | None = None
        # The last answer, and how many messages the citizen typed since (a handoff counts
        # against the answer when at most the request for a person came in between).
        answered: tuple[ChatMessage | None, ChatMessage] | None = None
        typed_since = 0
        pending = sorted(handoffs)

        def handoff(at: datetime) -> None:
            nonlocal answered
            if answered is not None and typed_since <= 1:
                add(answered[0], "handoff", at, [payload_article(answered[1])])
            answered = None

        for message in transcript:
            while pending and pending[0] <= message.created_at:
                handoff(pending.pop(0))
            payload = message.payload or {}
            if message.sender == "citizen":
                button = payload.get("button_payload")
                if button == "/something_else" and clarified is not None:
                    add(clarified[0], "something_else", message.created_at, clarified[1])
                if not button:
                    question = message
                    typed_since += 1
                clarified = None
                continue
            kind = payload.get("kind")
            if payload.get("feedback") == "down":
                add(question, "thumbs_down", message.created_at, [payload_article(message)])
            if kind == "not_understood":
                add(question, "not_understood", message.created_at)
            elif kind == "clarify":
                clarified = (question, list(payload.get("choices") or []))
            if kind == "answer":
                answered, typed_since = (question, message), 0
            elif kind in ("clarify", "not_understood"):
                answered = None
        for at in pending:
            handoff(at)

    @staticmethod
    def _done(session: Session, keys: list[str]) -> dict[str, datetime]:
        if not keys:
            return {}
        rows = session.execute(
            select(MissedQuestionAction.group_key, func.max(MissedQuestionAction.created_at))
            .where(MissedQuestionAction.group_key.in_(keys))
            .group_by(MissedQuestionAction.group_key)
        )
        return dict(rows.all())

    def act(self, key: str, action: str, who: Who, article_id: str | None = None) -> None:
        """Record what staff did with a group (it then stays hidden until asked again)."""
        if action not in MISSED_ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        with session_scope(self.url) as session:
            session.add(MissedQuestionAction(
                group_key=key[:64], action=action, article_id=article_id,
                staff_id=who.staff_id, username=who.username,
            ))
            record_audit(
                session, f"missed_{action}"[:32], staff_id=who.staff_id, username=who.username,
                detail={"group": key[:64], "article_id": article_id},
            )


def payload_article(message: ChatMessage) -> str:
    return str(((message.payload or {}).get("article") or {}).get("id") or "")
