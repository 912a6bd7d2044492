"""When the library answers a callback request, from the staffed opening hours: "i dag inden
kl. 18", or the next staffed day. Times are naive local time, like the opening hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.db.models import local_now
from bot.services.library import (
    DANISH_MONTHS,
    DANISH_WEEKDAYS,
    Library,
    is_staffed_open,
    load_library,
    next_staffed_opening,
)


def clock(moment: time) -> str:
    return f"{moment.hour}" if moment.minute == 0 else f"{moment.hour}.{moment.minute:02d}"


def _day_span(library: Library, day: date) -> tuple[time, time] | None:
    """Earliest staffed opening and latest staffed closing over all branches on a day."""
    if day in library.closed_days:
        return None
    spans = [b.staffed[day.weekday()] for b in library.branches if day.weekday() in b.staffed]
    if not spans:
        return None
    return min(s.opens for s in spans), max(s.closes for s in spans)


def day_phrase(day: date, today: date) -> str:
    named = f"{DANISH_WEEKDAYS[day.weekday()]} den {day.day}. {DANISH_MONTHS[day.month - 1]}"
    if day == today:
        return "i dag"
    if day == today + timedelta(days=1):
        return f"i morgen, {named},"
    return named


def response_promise(
    now: datetime | None = None, library: Library | None = None
) -> tuple[datetime | None, str]:
    """When staff will answer a callback request: (deadline, Danish phrase).

    Open now: "i dag inden kl. 18". Otherwise the next staffed day, e.g.
    "i morgen, torsdag den 26. november, mellem kl. 10 og 19"."""
    library = library or load_library()
    now = now or local_now()
    if is_staffed_open(now, None, library):
        span = _day_span(library, now.date())
        assert span is not None  # open now implies a staffed span today
        return datetime.combine(now.date(), span[1]), f"i dag inden kl. {clock(span[1])}"
    opening = next_staffed_opening(now, None, library)
    if opening is None:
        return None, "så hurtigt som muligt"
    span = _day_span(library, opening.date())
    closes = span[1] if span else time(23, 59)
    phrase = day_phrase(opening.date(), now.date())
    return (
        datetime.combine(opening.date(), closes),
        f"{phrase} mellem kl. {clock(opening.time())} og {clock(closes)}",
    )

