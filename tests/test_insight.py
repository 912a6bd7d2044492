"""The insight figures (bot/services/insight.py) against databases filled with known
conversations, on SQLite and PostgreSQL; and the insight query's time over 100,000 stored
messages on PostgreSQL (reported in the test summary)."""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from bot.db.models import (
    Booking,
    ChatMessage,
    Conversation,
    CourseSession,
    HandoffTicket,
    local_now,
)
from bot.db.session import session_scope
from bot.services.insight import InsightService, Period, median, percentile, to_local
from bot.services.library import load_library
from tests.fixtures_db import add_course_session, add_slot
from tests.insight_support import (
    FORNY,
    MISTET,
    answer,
    ask,
    clarify,
    conversation,
    not_understood,
    press,
    utc,
)

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 8)  # Monday to Sunday, CET (UTC+1)
TIMEOUT = 300


def fill_known(url: str) -> None:
    """Seven conversations in the week (three outside staffed hours), one before it."""
    conversation(url, "c0", datetime(2026, 10, 30, 11), ask(), answer(FORNY))  # not counted
    conversation(url, "c1", datetime(2026, 11, 2, 11), ask(), answer(FORNY, "up"))
    conversation(  # 20:00 Monday: every branch has closed
        url, "c2", datetime(2026, 11, 2, 20), ask(), clarify(FORNY, MISTET), press(MISTET),
        answer(MISTET, "down"),
    )
    conversation(  # Tuesday 11:00 at the Nord kiosk: Nord is staffed from 13:00
        url, "c3", datetime(2026, 11, 3, 11), ask(), not_understood(), channel="kiosk",
        branch="nord", ticket=("kiosk", 60),
    )
    conversation(
        url, "c4", datetime(2026, 11, 4, 12), ask(), answer(FORNY, "down"),
        ("system", "Du er nummer 1 i køen.", None), ticket=("live", 120),
    )
    conversation(
        url, "c5", datetime(2026, 11, 5, 14), ask(), not_understood(), ask(), not_understood(),
        ticket=("live", 240),
    )
    conversation(url, "c6", datetime(2026, 11, 6, 10, 30), ask(), answer(MISTET),
                 ticket=("timeout", None))
    conversation(  # Sunday: nobody on duty; a related-article button is no clarification
        url, "c7", datetime(2026, 11, 8, 15), ask(), answer(FORNY), press(MISTET),
        answer(MISTET), ticket=("left", None),
    )


def service(url: str) -> InsightService:
    return InsightService(url, load_library(), TIMEOUT)


def test_the_figures_of_a_known_week(db_url: str) -> None:
    fill_known(db_url)
    figures = service(db_url).figures(Period(FIRST, LAST))
    assert figures["conversations"] == 7
    assert figures["messages"] == 2 + 4 + 2 + 3 + 4 + 2 + 4
    assert [(d["conversations"], d["messages"]) for d in figures["per_day"]] == [
        (2, 6), (1, 2), (1, 3), (1, 4), (1, 2), (0, 0), (1, 4)
    ]
    assert figures["heat_map"][0][11] == figures["heat_map"][0][20] == 1  # Monday
    assert figures["heat_map"][6][15] == 1 and sum(map(sum, figures["heat_map"])) == 7
    assert figures["outside_staffed_hours"] == round(3 / 7, 4)
    assert figures["outcomes"] == {
        "answered": 5, "clarified": 1, "not_understood": 3, "handoff": 5
    }
    assert figures["containment"] == round(6 / 14, 4)
    assert figures["topics"] == {"koerekort": 5, "out_of_scope": 2}
    assert figures["articles"] == {
        FORNY: {"shown": 3, "thumbs_up": 1, "thumbs_down": 1},
        MISTET: {"shown": 3, "thumbs_up": 0, "thumbs_down": 1},
    }
    handoffs = figures["handoffs"]
    assert {k: handoffs[k] for k in ("count", "live", "kiosk", "callback", "left_queue")} == {
        "count": 5, "live": 2, "kiosk": 1, "callback": 1, "left_queue": 1
    }
    assert (handoffs["median_wait_seconds"], handoffs["p90_wait_seconds"]) == (120, 240)
    assert handoffs["taken_in_time"] == round(3 / 5, 4)


def test_channel_and_branch_filters(sqlite_url: str) -> None:
    fill_known(sqlite_url)
    kiosk = service(sqlite_url).figures(Period(FIRST, LAST, channel="kiosk"))
    assert (kiosk["conversations"], kiosk["messages"]) == (1, 2)
    assert kiosk["outside_staffed_hours"] == 1.0
    assert kiosk["outcomes"] == {"answered": 0, "clarified": 0, "not_understood": 1, "handoff": 1}
    web = service(sqlite_url).figures(Period(FIRST, LAST, channel="web"))
    assert web["conversations"] == 6 and web["handoffs"]["kiosk"] == 0
    nord = service(sqlite_url).figures(Period(FIRST, LAST, branch="nord"))
    assert nord["conversations"] == 1 and nord["handoffs"]["count"] == 1


def test_bookings_and_course_seats_per_branch(db_url: str) -> None:
    slot = add_slot(db_url, datetime(2026, 11, 20, 10))
    other = add_slot(db_url, datetime(2026, 11, 20, 11))
    course = add_course_session(db_url, seats=10, starts_at=datetime(2026, 11, 4, 10))
    with session_scope(db_url) as session:
        for reference, slot_id, status in (("AAA-111", slot, "cancelled"), ("BBB-222", other,
                                                                              "booked")):
            session.add(Booking(
                reference=reference, slot_id=slot_id, topic="mitid", name="Bo",
                contact_kind="phone", contact="+4512345678", status=status,
                created_at=utc(datetime(2026, 11, 3, 12)),
            ))
        session.get(CourseSession, course).seats_taken = 4
    rows = service(db_url).figures(Period(FIRST, LAST))["bookings"]
    assert rows == [{
        "branch": "hovedbiblioteket", "branch_name": "Hovedbiblioteket", "booked": 2,
        "cancelled": 1, "sessions": 1, "seats": 10, "seats_taken": 4,
        "enrolments_cancelled": 0, "fill_rate": 0.4,
    }]


def test_percentiles_and_local_days() -> None:
    assert percentile([60, 120, 240], 0.9) == 240 and percentile([], 0.9) is None
    assert median([1, 3, 2, 10]) == 2.5 and median([5]) == 5
    assert to_local(datetime(2026, 7, 1, 22)) == datetime(2026, 7, 2, 0)  # CEST: UTC+2
    period = Period.last_days(30, today=date(2026, 12, 1))
    assert (period.first, len(period.days)) == (date(2026, 11, 2), 30)


# --- 100,000 messages on PostgreSQL ----------------------------------------------------------


def bulk_fill(url: str, messages: int, days: int = 29) -> int:
    """``messages`` messages in conversations of ~10 over the last ``days`` days: questions,
    answers with thumbs, clarifications, not understood; a handoff ticket in every 20th."""
    rng = random.Random(10)
    now = local_now()
    conversations, rows, tickets = [], [], []
    count = 0
    while count < messages:
        number = len(conversations)
        started = utc(now - timedelta(minutes=rng.randrange(days * 24 * 60)))
        conversation_id = f"bulk{number}"
        conversations.append({
            "id": conversation_id, "channel": "kiosk" if number % 7 == 0 else "web",
            "branch_id": "nord" if number % 7 == 0 else None, "state": "bot",
            "created_at": started, "updated_at": started,
        })
        seq = 0
        for _ in range(5):
            for sender, text, payload in (ask(), rng.choice([
                answer(FORNY, rng.choice(["up", "down", None])), answer(MISTET),
                clarify(FORNY, MISTET), not_understood(),
            ])):
                seq += 1
                rows.append({
                    "conversation_id": conversation_id, "seq": seq, "sender": sender,
                    "text": text, "payload": payload,
                    "created_at": started + timedelta(seconds=seq * 20),
                })
        count += seq
        if number % 20 == 0:
            tickets.append({
                "kind": "live", "status": "closed", "conversation_id": conversation_id,
                "reason": "requested", "created_at": started,
                "updated_at": started, "taken_at": started + timedelta(seconds=rng.randrange(600)),
            })
    with session_scope(url) as session:
        session.execute(insert(Conversation), conversations)
        for start in range(0, len(rows), 10_000):
            session.execute(insert(ChatMessage), rows[start:start + 10_000])
        session.execute(insert(HandoffTicket), tickets)
    return count


@pytest.mark.postgres
def test_insight_over_100000_messages_on_postgresql(
    fresh_postgres_url: str, report_figure: Any
) -> None:
    stored = bulk_fill(fresh_postgres_url, 100_000)
    insight = service(fresh_postgres_url)
    insight.figures(Period.last_days(30))  # warm: connection, plans, caches
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        figures = insight.figures(Period.last_days(30))
        timings.append(time.perf_counter() - started)
    assert figures["messages"] == stored
    assert sum(figures["outcomes"].values()) > 0
    best = min(timings)
    report_figure(
        "insight_100k_postgres",
        f"insight query, {stored:,} messages in {figures['conversations']:,} conversations "
        f"on PostgreSQL: best {best * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms",
    )
    assert best < 5.0
