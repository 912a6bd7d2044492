"""The staff's insight into how the assistant does ("Indsigt"), for a period, channel and branch.

Everything is read from what the gateway already stores: the transcript (bot messages carry
``kind``, ``topic``, ``article``, ``feedback``; button presses ``button_payload``), the handoff
tickets, bookings and course sessions. The heavy part, the messages, is aggregated in SQL by
the hour (JSON fields read with SQLAlchemy's portable JSON accessors, so SQLite and PostgreSQL
run the same queries); only the knowledge turns and the conversations are walked in Python.

Definitions (also shown on the page):

- *outcomes* count citizen questions by how they ended: ``answered`` (an article straight
  away), ``clarified`` (an article chosen from a "Mener du …?"), ``not_understood``, and
  ``handoff`` (requests for a person: live chats, callbacks, kiosk calls);
- *containment* = (answered + clarified) / all four: the share the assistant handled itself;
- *outside staffed hours*: the share of conversations started when no staff were on duty (for a
  kiosk, at its own branch; for the web chat, at any branch);
- a handoff is *taken in time* when staff took it before the queue timeout turned it into a
  callback request.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.core.handoff_states import Kind, Status
from bot.db.models import (
    BOOKING_CANCELLED,
    ENROLMENT_CANCELLED,
    LOCAL_TZ,
    Booking,
    ChatMessage,
    Conversation,
    CourseSession,
    Enrolment,
    HandoffTicket,
    HelpSlot,
    local_now,
)
from bot.db.session import session_scope
from bot.services.handoff import TOPIC_LABELS
from bot.services.library import Library, is_staffed_open

CHANNELS = ("web", "kiosk")
DEFAULT_DAYS = 30
MAX_DAYS = 366
WEEKDAYS_DA = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
OUTCOME_LABELS = {
    "answered": "Besvaret af assistenten",
    "clarified": "Besvaret efter »Mener du …?«",
    "not_understood": "Ikke forstået",
    "handoff": "Givet videre til en medarbejder",
}


@dataclass(frozen=True)
class Period:
    """Local calendar days ``first``..``last`` (inclusive), optionally one channel or branch."""

    first: date
    last: date
    channel: str | None = None
    branch: str | None = None

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, today: date | None = None, **filters: Any):
        today = today or local_now().date()
        return cls(today - timedelta(days=days - 1), today, **filters)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in naive UTC, the convention of the stamps it filters."""
        start = datetime.combine(self.first, time.min, LOCAL_TZ)
        end = datetime.combine(self.last + timedelta(days=1), time.min, LOCAL_TZ)
        return _naive_utc(start), _naive_utc(end)

    def local_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in naive local time, the convention of appointment times."""
        return (
            datetime.combine(self.first, time.min),
            datetime.combine(self.last + timedelta(days=1), time.min),
        )


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def to_local(moment: datetime) -> datetime:
    """A naive UTC stamp as naive Copenhagen wall-clock time."""
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_TZ).replace(tzinfo=None)


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (the value below which ``share`` of the values lie)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _hour_bucket(session: Session, column: Any) -> ColumnElement:
    """The UTC hour a stamp falls in, as text 'YYYY-MM-DD HH' on either engine."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def _payload(name: str) -> ColumnElement:
    return ChatMessage.payload[name].as_string()


@dataclass
class _Turns:
    """The knowledge turns of the period, walked in conversation order."""

    outcomes: Counter = field(default_factory=Counter)
    articles: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))


class InsightService:
    def __init__(self, database_url: str | None, library: Library, timeout_seconds: int) -> None:
        self.url = database_url
        self.library = library
        self.timeout_seconds = timeout_seconds

    @staticmethod
    def _filter(period: Period, stamp: Any) -> list[ColumnElement]:
        """``stamp`` in the period, and the conversation (joined) in its channel and branch."""
        start, end = period.utc_bounds()
        filters = [stamp >= start, stamp < end]
        if period.channel:
            filters.append(Conversation.channel == period.channel)
        if period.branch:
            filters.append(Conversation.branch_id == period.branch)
        return filters

    def _conversation_filter(self, period: Period) -> list[ColumnElement]:
        return self._filter(period, Conversation.created_at)

    def _message_filter(self, period: Period) -> list[ColumnElement]:
        return self._filter(period, ChatMessage.created_at)

    # -- the parts --

    def _conversations(self, session: Session, period: Period) -> dict[str, Any]:
        rows = session.execute(
            select(Conversation.created_at, Conversation.channel, Conversation.branch_id).where(
                *self._conversation_filter(period)
            )
        ).all()
        per_day: Counter = Counter()
        heat: Counter = Counter()
        outside = 0
        for created_at, channel, branch_id in rows:
            local = to_local(created_at)
            per_day[local.date()] += 1
            heat[(local.weekday(), local.hour)] += 1
            at_kiosk = channel == "kiosk" and self.library.branch(branch_id or "") is not None
            if not is_staffed_open(local, branch_id if at_kiosk else None, self.library):
                outside += 1
        return {"count": len(rows), "per_day": per_day, "heat": heat, "outside": outside}

    def _messages_per_day(self, session: Session, period: Period) -> Counter:
        bucket = _hour_bucket(session, ChatMessage.created_at).label("bucket")
        query = (
            select(bucket, func.count())
            .select_from(ChatMessage)
            .join(Conversation, Conversation.id == ChatMessage.conversation_id)
            .where(*self._message_filter(period))
            .group_by(literal_column("bucket"))
        )
        per_day: Counter = Counter()
        for hour, count in session.execute(query):
            moment = datetime.strptime(hour, "%Y-%m-%d %H")
            per_day[to_local(moment).date()] += count
        return per_day

    def _turns(self, session: Session, period: Period) -> _Turns:
        """Outcomes and articles shown, from the bot's knowledge messages and the article
        buttons pressed between them. An answer right after a press of one of a "Mener du …?"
        message's choices is ``clarified``; window functions look back over the knowledge
        messages of each conversation, so no message leaves the database."""
        kind, button = _payload("kind"), _payload("button_payload")
        knowledge = (
            select(
                ChatMessage.sender.label("sender"),
                kind.label("kind"),
                ChatMessage.payload[("article", "id")].as_string().label("article"),
                _payload("feedback").label("feedback"),
                *(
                    func.lag(column, offset)
                    .over(partition_by=ChatMessage.conversation_id, order_by=ChatMessage.seq)
                    .label(name)
                    for column, offset, name in (
                        (ChatMessage.sender, 1, "sender_1"), (kind, 2, "kind_2")
                    )
                ),
            )
            .join(Conversation, Conversation.id == ChatMessage.conversation_id)
            .where(
                *self._message_filter(period),
                (kind.in_(("answer", "clarify", "not_understood")) & (ChatMessage.sender == "bot"))
                | ((ChatMessage.sender == "citizen") & button.like("/show_article%")),
            )
            .subquery()
        )
        k = knowledge.c
        chosen = (k.kind == "answer") & (k.sender_1 == "citizen") & (k.kind_2 == "clarify")
        chosen_flag = case((chosen, 1), else_=0).label("chosen")

        def count(condition: ColumnElement) -> ColumnElement:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        # One pass: a few rows per (kind, chosen, article), summed up here.
        rows = session.execute(
            select(
                k.kind, chosen_flag, k.article, func.count(), count(k.feedback == "up"),
                count(k.feedback == "down"),
            )
            .where(k.sender == "bot")
            .group_by(k.kind, literal_column("chosen"), k.article)
        )
        turns = _Turns()
        for turn_kind, was_chosen, article_id, number, up, down in rows:
            if turn_kind == "answer":
                turns.outcomes["clarified" if was_chosen else "answered"] += number
            elif turn_kind == "not_understood":
                turns.outcomes["not_understood"] += number
            if article_id:
                shown = turns.articles[article_id]
                shown["shown"] += number
                shown["thumbs_up"] += up
                shown["thumbs_down"] += down
        return turns

    def _topics(self, session: Session, period: Period) -> Counter:
        """Conversations per topic the assistant's replies were about."""
        topic = _payload("topic")
        rows = session.execute(
            select(topic, func.count(func.distinct(ChatMessage.conversation_id)))
            .join(Conversation, Conversation.id == ChatMessage.conversation_id)
            .where(*self._message_filter(period), ChatMessage.sender == "bot", topic.is_not(None))
            .group_by(topic)
        ).all()
        return Counter({t: n for t, n in rows if t})

    def _handoffs(self, session: Session, period: Period) -> dict[str, Any]:
        start, end = period.utc_bounds()
        query = select(HandoffTicket).where(
            HandoffTicket.created_at >= start, HandoffTicket.created_at < end
        )
        if period.channel or period.branch:
            query = query.join(Conversation, Conversation.id == HandoffTicket.conversation_id)
            if period.channel:
                query = query.where(Conversation.channel == period.channel)
            if period.branch:
                query = query.where(Conversation.branch_id == period.branch)
        tickets = session.execute(query).scalars().all()
        waits = [
            (t.taken_at - t.created_at).total_seconds()
            for t in tickets
            if t.taken_at is not None and t.kind in (Kind.LIVE, Kind.KIOSK)
        ]
        # Chats that went to the queue: taken, left, or turned into a callback by the timeout.
        queued = [
            t for t in tickets if t.kind in (Kind.LIVE, Kind.KIOSK) or t.expires_at is not None
        ]
        in_time = sum(1 for w in waits if w <= self.timeout_seconds)
        by_kind = Counter()
        for t in tickets:
            if t.kind == Kind.CALLBACK:
                by_kind["callback"] += 1
            elif t.status == Status.CANCELLED and t.taken_at is None:
                by_kind["left_queue"] += 1
            else:
                by_kind[t.kind] += 1
        return {
            "count": len(tickets),
            "live": by_kind["live"],
            "kiosk": by_kind["kiosk"],
            "callback": by_kind["callback"],
            "left_queue": by_kind["left_queue"],
            "taken": len(waits),
            "median_wait_seconds": median(waits),
            "p90_wait_seconds": percentile(waits, 0.9),
            "taken_in_time": _share(in_time, len(queued)),
        }

    def _bookings(self, session: Session, period: Period) -> list[dict[str, Any]]:
        """Per branch: IT-help bookings made in the period (booked / cancelled since) and the
        course sessions from the period's first day on, the coming ones included (seats,
        taken, fill rate, cancelled enrolments): the fill rate staff can still act on."""
        start, end = period.utc_bounds()
        local_start, _ = period.local_bounds()
        branch = HelpSlot.branch_id
        booking_rows = session.execute(
            select(
                branch,
                func.count(),
                func.sum(case((Booking.status == BOOKING_CANCELLED, 1), else_=0)),
            )
            .join(HelpSlot, HelpSlot.id == Booking.slot_id)
            .where(Booking.created_at >= start, Booking.created_at < end)
            .group_by(branch)
        ).all()
        cancelled_enrolments = (
            select(func.count())
            .where(
                Enrolment.session_id == CourseSession.id,
                Enrolment.status == ENROLMENT_CANCELLED,
            )
            .correlate(CourseSession)
            .scalar_subquery()
        )
        session_rows = session.execute(
            select(
                CourseSession.branch_id,
                func.count(),
                func.sum(CourseSession.seats),
                func.sum(CourseSession.seats_taken),
                func.sum(cancelled_enrolments),
            )
            .where(CourseSession.starts_at >= local_start)
            .group_by(CourseSession.branch_id)
        ).all()
        table: dict[str, dict[str, Any]] = {}

        def row(branch_id: str) -> dict[str, Any]:
            found = self.library.branch(branch_id)
            return table.setdefault(branch_id, {
                "branch": branch_id, "branch_name": found.name if found else branch_id,
                "booked": 0, "cancelled": 0, "sessions": 0, "seats": 0, "seats_taken": 0,
                "enrolments_cancelled": 0, "fill_rate": 0.0,
            })

        for branch_id, made, cancelled in booking_rows:
            entry = row(branch_id)
            entry["booked"], entry["cancelled"] = int(made), int(cancelled or 0)
        for branch_id, sessions, seats, taken, gone in session_rows:
            entry = row(branch_id)
            entry.update(
                sessions=int(sessions), seats=int(seats or 0), seats_taken=int(taken or 0),
                enrolments_cancelled=int(gone or 0),
            )
            entry["fill_rate"] = _share(entry["seats_taken"], entry["seats"])
        rows = sorted(table.values(), key=lambda r: r["branch_name"])
        if period.branch:
            rows = [r for r in rows if r["branch"] == period.branch]
        return rows

    # -- everything --

    def figures(self, period: Period, missed: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
        with session_scope(self.url, read_only=True) as session:
            conversations = self._conversations(session, period)
            messages_per_day = self._messages_per_day(session, period)
            turns = self._turns(session, period)
            topics = self._topics(session, period)
            handoffs = self._handoffs(session, period)
            bookings = self._bookings(session, period)
        outcomes = {
            "answered": turns.outcomes["answered"],
            "clarified": turns.outcomes["clarified"],
            "not_understood": turns.outcomes["not_understood"],
            "handoff": handoffs["count"],
        }
        total = sum(outcomes.values())
        per_day = [
            {
                "date": day.isoformat(),
                "conversations": conversations["per_day"][day],
                "messages": messages_per_day[day],
            }
            for day in period.days
        ]
        heat = [
            [conversations["heat"][(weekday, hour)] for hour in range(24)]
            for weekday in range(7)
        ]
        articles = {
            article_id: {
                "shown": counts["shown"],
                "thumbs_up": counts["thumbs_up"],
                "thumbs_down": counts["thumbs_down"],
            }
            for article_id, counts in sorted(
                turns.articles.items(), key=lambda item: (-item[1]["shown"], item[0])
            )
        }
        return {
            "period": {
                "first": period.first.isoformat(),
                "last": period.last.isoformat(),
                "days": len(period.days),
                "channel": period.channel,
                "branch": period.branch,
            },
            "conversations": conversations["count"],
            "messages": sum(messages_per_day.values()),
            "per_day": per_day,
            "heat_map": heat,
            "outside_staffed_hours": _share(conversations["outside"], conversations["count"]),
            "outcomes": outcomes,
            "containment": _share(outcomes["answered"] + outcomes["clarified"], total),
            "topics": dict(topics.most_common()),
            "topic_labels": {t: TOPIC_LABELS.get(t, t) for t in topics},
            "articles": articles,
            "handoffs": handoffs,
            "bookings": bookings,
            "missed": list(missed),
        }
