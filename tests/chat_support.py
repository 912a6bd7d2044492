"""Helpers for the live chat tests: read a /api/chat reply the way a citizen sees it."""

from __future__ import annotations

import re
import uuid

REFERENCE = re.compile(r"\b[A-Z2-9]{3}-[A-Z2-9]{3}\b")


def new_session() -> str:
    return uuid.uuid4().hex


def unique_phone() -> str:
    """A Danish mobile number of its own: the live tests share one stack, and the limit on
    upcoming bookings per phone number must not make a test depend on which ran before it."""
    digits = f"{uuid.uuid4().int % 10**7:07d}"
    return f"2{digits[0]} {digits[1:3]} {digits[3:5]} {digits[5:7]}"


def text_of(reply: dict) -> str:
    return "\n".join(m["text"] for m in reply["messages"])


def buttons_of(reply: dict) -> list[dict]:
    return [b for m in reply["messages"] for b in m["buttons"]]


def articles_of(reply: dict) -> list[str]:
    """Ids of the knowledge articles the reply shows (the chat API's ``article``)."""
    return [m["article"]["id"] for m in reply["messages"] if m.get("article")]


def shown_articles(reply: dict) -> list[str]:
    """Ids of the articles offered as buttons (/show_article payloads)."""
    payloads = " ".join(b["payload"] for b in buttons_of(reply))
    return re.findall(r'"article_id":"([a-z0-9-]+)"', payloads)


def press(live, session: str, reply: dict, title_part: str) -> dict:
    chosen = next(b for b in buttons_of(reply) if title_part in b["title"])
    return live.chat(session, chosen["payload"])
