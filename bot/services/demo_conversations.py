"""Demo conversations for the insight page (`python -m bot seed --conversations N`, which
`make run` uses on a new database): a month of plausible chats stored exactly as the gateway
stores them (bot/gateway/chat.py), so the "Indsigt" page has something to show.

The message builders here are also what the insight tests build their known conversations
from: one definition of what a stored knowledge turn looks like.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.db.models import LOCAL_TZ, ChatMessage, Conversation, HandoffTicket, local_now
from bot.services.knowledge import Article

Message = tuple[str, str, dict[str, Any] | None]

# Questions no article answers (other authorities, other services): "not understood".
UNANSWERED = (
    "Hvor kan jeg få et fiskekort?",
    "Kan I hjælpe mig med min selvangivelse?",
    "Hvordan søger jeg om boligstøtte?",
    "Hvor længe har genbrugspladsen åbent?",
    "Min hund har spist mit førerbevis",
    "Kan jeg printe mit boardingpas hos jer?",
    "Hvordan klager jeg over min skat?",
    "Hvad koster et parkeringskort i kommunen?",
)


def utc(local: datetime) -> datetime:
    """Naive Copenhagen wall-clock time as the naive UTC the stamps are stored in."""
    return local.replace(tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def ask(text: str = "Hvordan fornyer jeg mit kørekort?") -> Message:
    return ("citizen", text, None)


def answer(
    article_id: str,
    feedback: str | None = None,
    topic: str = "koerekort",
    title: str | None = None,
) -> Message:
    payload: dict[str, Any] = {
        "buttons": [], "topic": topic, "kind": "answer",
        "article": {"id": article_id, "title": title or article_id,
                    "source": "https://www.borger.dk/a/b", "reviewed": "2026-12-01"},
    }
    if feedback:
        payload["feedback"] = feedback
    return ("bot", f"Svar fra {article_id}", payload)


def clarify(*choices: str, topic: str = "koerekort") -> Message:
    buttons = [{"title": c, "payload": f'/show_article{{"article_id":"{c}"}}'} for c in choices]
    buttons.append({"title": "Noget andet", "payload": "/something_else"})
    payload = {"buttons": buttons, "topic": topic, "kind": "clarify", "choices": list(choices)}
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


@dataclass(frozen=True)
class DemoCounts:
    conversations: int
    messages: int
    tickets: int


def _when(rng: random.Random, now: datetime, days: int) -> datetime:
    """A local moment in the last ``days`` days, mostly in the day, some evenings and nights."""
    day = (now - timedelta(days=rng.randrange(days))).date()
    hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 3, 5, 8, 12, 14, 14, 13, 13, 13,
                                          12, 10, 9, 8, 7, 6, 4, 3, 2])[0]
    moment = datetime(day.year, day.month, day.day, hour, rng.randrange(60))
    return min(moment, now - timedelta(minutes=30))


def _turn(rng: random.Random, articles: list[Article]) -> list[Message]:
    """One question and how it went."""
    article = rng.choice(articles)
    question = rng.choice(article.questions or (article.title,))
    shown = answer(article.id, None, article.topic, article.title)
    roll = rng.random()
    if roll < 0.12:
        return [ask(rng.choice(UNANSWERED)), not_understood()]
    if roll < 0.22:
        other = rng.choice(articles)
        choices = [article.id, other.id] if other.id != article.id else [article.id]
        if rng.random() < 0.3:
            return [ask(question), clarify(*choices, topic=article.topic), press()]
        return [ask(question), clarify(*choices, topic=article.topic), press(article.id), shown]
    feedback = rng.choices([None, "up", "down"], weights=[70, 24, 6])[0]
    return [ask(question), answer(article.id, feedback, article.topic, article.title)]


def seed_demo_conversations(
    session: Session,
    articles: dict[str, Article],
    count: int = 400,
    days: int = 30,
    branches: tuple[str, ...] = ("hovedbiblioteket", "nord", "strandby"),
    seed: int = 10,
) -> DemoCounts:
    """``count`` conversations over the last ``days`` days; ids start with "demo-"."""
    rng = random.Random(seed)
    now = local_now()
    pool = [a for a in articles.values() if a.topic != "out_of_scope"] or list(articles.values())
    conversations, messages, tickets = [], [], []
    for number in range(count):
        local = _when(rng, now, days)
        started = utc(local)
        kiosk = rng.random() < 0.2
        conversation_id = f"demo-{number:05d}"
        conversations.append({
            "id": conversation_id, "channel": "kiosk" if kiosk else "web",
            "branch_id": rng.choice(branches) if kiosk else None, "state": "closed",
            "created_at": started, "updated_at": started,
        })
        turns = [m for _ in range(rng.choice((1, 1, 1, 2, 2, 3))) for m in _turn(rng, pool)]
        for seq, (sender, text, payload) in enumerate(turns, start=1):
            messages.append({
                "conversation_id": conversation_id, "seq": seq, "sender": sender, "text": text,
                "payload": payload, "created_at": started + timedelta(seconds=25 * seq),
            })
        if rng.random() < 0.08:
            created = started + timedelta(seconds=25 * (len(turns) + 1))
            wait = rng.choice((20, 45, 60, 90, 120, 150, 200, 280, 420, None))
            tickets.append({
                "kind": "kiosk" if kiosk else "live",
                "status": "cancelled" if wait is None else "closed",
                "conversation_id": conversation_id, "branch_id": conversations[-1]["branch_id"],
                "reason": "requested", "created_at": created, "updated_at": created,
                "taken_at": created + timedelta(seconds=wait) if wait is not None else None,
                "closed_at": created + timedelta(seconds=(wait or 60) + 300),
                "outcome": "resolved" if wait is not None else None,
                "expires_at": None if kiosk else created + timedelta(seconds=300),
            })
    session.execute(insert(Conversation), conversations)
    session.execute(insert(ChatMessage), messages)
    if tickets:
        session.execute(insert(HandoffTicket), tickets)
    return DemoCounts(len(conversations), len(messages), len(tickets))
