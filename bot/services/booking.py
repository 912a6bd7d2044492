"""IT help ("Digital hjælp") bookings: find free slots, book, cancel and move.

Functions take a SQLAlchemy session and never commit: the caller's ``session_scope`` decides.
Every write happens inside a SAVEPOINT, so a failed call leaves no half-written rows even if
the caller catches the error and commits other work.

Errors are :class:`BookingError` subclasses whose ``.message`` is Danish and safe to show to
the citizen.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import (
    BOOKING_BOOKED,
    BOOKING_CANCELLED,
    HELP_TOPICS,
    Booking,
    HelpSlot,
    local_now,
    utc_now,
)
from bot.services.validation import contact_problem, name_problem, normalize_contact, normalize_name

# No 0/O, 1/I/L: references are read aloud over the phone and typed from paper.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6
_REFERENCE_ATTEMPTS = 20
_FREE_SLOT_BATCH = 200



class BookingError(Exception):
    """A booking problem the citizen can act on; ``message`` is Danish."""

    default_message = "Der opstod en fejl ved bookingen. Prøv venligst igen."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidInputError(BookingError):
    default_message = "Oplysningerne kunne ikke godkendes. Tjek dem og prøv igen."


class SlotNotFoundError(BookingError):
    default_message = "Den valgte tid findes ikke. Vælg venligst en anden tid."


class SlotTakenError(BookingError):
    default_message = (
        "Den tid er desværre lige blevet booket af en anden. Vælg venligst en anden tid."
    )


class SlotInPastError(BookingError):
    default_message = "Den tid er allerede passeret. Vælg venligst en senere tid."


class BookingNotFoundError(BookingError):
    # Deliberately the same for an unknown reference and a wrong contact, so that guessing
    # references reveals nothing.
    default_message = (
        "Vi kunne ikke finde en booking med det bookingnummer og det telefonnummer eller "
        "den e-mail. Tjek begge dele og prøv igen."
    )


class AlreadyCancelledError(BookingError):
    default_message = "Den booking er allerede aflyst."


class BookingInPastError(BookingError):
    default_message = "Tiden er allerede begyndt eller overstået, så bookingen kan ikke ændres."


class SameSlotError(BookingError):
    default_message = "Du har allerede booket netop den tid."


class DateQuery(Protocol):
    """What free_slots needs from the Danish date parser."""

    def matches(self, when: datetime) -> bool: ...


@dataclass(frozen=True)
class Contact:
    kind: str  # "phone" or "email"
    value: str


# --- references -------------------------------------------------------------------------


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{chars[:3]}-{chars[3:]}"


def normalize_reference(text: str) -> str | None:
    """The canonical "ABC-234" form of what the citizen typed ("abc 234", "ABC234"), or None
    when it cannot be a reference."""
    if not isinstance(text, str):
        return None
    chars = re.sub(r"[\s\-_.]", "", text).upper()
    if len(chars) != REFERENCE_LENGTH or any(c not in REFERENCE_ALPHABET for c in chars):
        return None
    return f"{chars[:3]}-{chars[3:]}"


def _is_violation_of(exc: IntegrityError, fragment: str) -> bool:
    # SQLite names the column ("bookings.reference"), PostgreSQL the constraint
    # ("uq_bookings_reference"); the fragments used here occur in both.
    return fragment in str(exc.orig)


def insert_with_reference[T](session: Session, model: Any, build: Callable[[str], T]) -> T:
    """Insert the row made by ``build(reference)`` inside a SAVEPOINT, retrying on the
    (astronomically rare) reference clash. Other IntegrityErrors propagate, with the
    savepoint rolled back."""
    for _ in range(_REFERENCE_ATTEMPTS):
        reference = new_reference()
        if session.scalar(select(exists().where(model.reference == reference))):
            continue
        try:
            with session.begin_nested():
                row = build(reference)
                session.add(row)
        except IntegrityError as exc:
            if _is_violation_of(exc, "reference"):
                continue
            raise
        return row
    raise RuntimeError("could not find a free reference")


# --- validation -------------------------------------------------------------------------


def validated_name(name: str) -> str:
    problem = name_problem(name)
    clean = normalize_name(name)
    if problem or clean is None:
        raise InvalidInputError(problem)
    return clean


def validated_contact(contact: str) -> Contact:
    problem = contact_problem(contact)
    pair = normalize_contact(contact)
    if problem or pair is None:
        raise InvalidInputError(problem)
    return Contact(*pair)


def _validated_topic(topic: str | None) -> str:
    topic = (topic or "andet").strip().lower()
    if topic not in HELP_TOPICS:
        raise InvalidInputError("Vælg venligst, hvad du vil have hjælp til.")
    return topic


def contact_matches(kind: str, stored: str, given: Contact) -> bool:
    # E-mail local parts are case-insensitive in practice; phones are digits.
    return kind == given.kind and stored.casefold() == given.value.casefold()


def _as_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- queries ----------------------------------------------------------------------------


def _active_booking_exists() -> Any:
    return exists().where(Booking.slot_id == HelpSlot.id, Booking.status == BOOKING_BOOKED)


def free_slots(
    session: Session,
    branch_id: str | None = None,
    after: datetime | None = None,
    limit: int | None = 5,
    query: DateQuery | None = None,
) -> list[HelpSlot]:
    """Unbooked slots starting after ``after`` (default: now), earliest first.

    ``query`` filters in Python with ``query.matches(starts_at)`` (e.g. "på torsdag").
    """
    stmt = (
        select(HelpSlot)
        .where(HelpSlot.starts_at > (after or local_now()), ~_active_booking_exists())
        .order_by(HelpSlot.starts_at, HelpSlot.branch_id, HelpSlot.id)
    )
    if branch_id:
        stmt = stmt.where(HelpSlot.branch_id == branch_id)
    stmt = _narrow_to_query_dates(stmt, query)
    if query is None:
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(session.scalars(stmt))
    return _filter_slots(session, stmt, limit, query)


def _narrow_to_query_dates(stmt: Any, query: DateQuery | None) -> Any:
    # Optional speed-up: bot.language.datetime_da.WhenQuery also exposes its calendar range, so the
    # database can skip days that .matches() would reject anyway.
    date_from, date_to = getattr(query, "date_from", None), getattr(query, "date_to", None)
    if isinstance(date_from, date):
        stmt = stmt.where(HelpSlot.starts_at >= datetime.combine(date_from, time.min))
    if isinstance(date_to, date):
        day_after = datetime.combine(date_to + timedelta(days=1), time.min)
        stmt = stmt.where(HelpSlot.starts_at < day_after)
    return stmt


def _filter_slots(session: Session, stmt: Any, limit: int | None, query: DateQuery) -> list:
    found: list[HelpSlot] = []
    offset = 0
    while limit is None or len(found) < limit:
        batch = list(session.scalars(stmt.offset(offset).limit(_FREE_SLOT_BATCH)))
        found.extend(slot for slot in batch if query.matches(slot.starts_at))
        if len(batch) < _FREE_SLOT_BATCH:
            break
        offset += _FREE_SLOT_BATCH
    return found if limit is None else found[:limit]


def bookings_for_contact(
    session: Session, contact: str, *, now: datetime | None = None
) -> list[Booking]:
    """The citizen's upcoming active bookings, earliest first."""
    given = validated_contact(contact)
    stmt = (
        select(Booking)
        .join(Booking.slot)
        .where(
            Booking.status == BOOKING_BOOKED,
            Booking.contact_kind == given.kind,
            func.lower(Booking.contact) == given.value.lower(),
            HelpSlot.starts_at > (now or local_now()),
        )
        .order_by(HelpSlot.starts_at)
    )
    return list(session.scalars(stmt))


def bookings_on_day(
    session: Session, day: date, branch_id: str | None = None, *, include_cancelled: bool = True
) -> list[Booking]:
    start = datetime.combine(day, time.min)
    stmt = (
        select(Booking)
        .join(Booking.slot)
        .where(HelpSlot.starts_at >= start, HelpSlot.starts_at < start + timedelta(days=1))
        .order_by(HelpSlot.starts_at, HelpSlot.branch_id, Booking.id)
    )
    if branch_id:
        stmt = stmt.where(HelpSlot.branch_id == branch_id)
    if not include_cancelled:
        stmt = stmt.where(Booking.status == BOOKING_BOOKED)
    return list(session.scalars(stmt))


# --- booking, cancelling, moving --------------------------------------------------------


def _bookable_slot(session: Session, slot_id: Any, now: datetime) -> HelpSlot:
    slot_pk = _as_id(slot_id)
    slot = session.get(HelpSlot, slot_pk) if slot_pk is not None else None
    if slot is None:
        raise SlotNotFoundError()
    if slot.starts_at <= now:
        raise SlotInPastError()
    # An early, friendly answer; the unique index is what actually settles a race.
    taken = exists().where(Booking.slot_id == slot.id, Booking.status == BOOKING_BOOKED)
    if session.scalar(select(taken)):
        raise SlotTakenError()
    return slot


def _insert_booking(
    session: Session, slot: HelpSlot, name: str, contact: Contact, topic: str
) -> Booking:
    def build(reference: str) -> Booking:
        return Booking(
            reference=reference,
            slot_id=slot.id,  # not slot=: a rolled-back savepoint must not touch slot.bookings
            topic=topic,
            name=name,
            contact_kind=contact.kind,
            contact=contact.value,
            status=BOOKING_BOOKED,
            created_at=utc_now(),
        )

    try:
        return insert_with_reference(session, Booking, build)
    except IntegrityError as exc:
        if _is_violation_of(exc, "slot"):
            raise SlotTakenError() from exc
        raise


def book_slot(
    session: Session,
    slot_id: int,
    name: str,
    contact: str,
    topic: str | None = "andet",
    *,
    now: datetime | None = None,
) -> Booking:
    """Book a free help slot. Raises a BookingError (Danish ``.message``) on any problem."""
    clean_name = validated_name(name)
    given = validated_contact(contact)
    clean_topic = _validated_topic(topic)
    slot = _bookable_slot(session, slot_id, now or local_now())
    return _insert_booking(session, slot, clean_name, given, clean_topic)


def _own_active_booking(session: Session, reference: str, contact: str, now: datetime) -> Booking:
    ref = normalize_reference(reference)
    pair = normalize_contact(contact) if isinstance(contact, str) else None
    if ref is None or pair is None:
        raise BookingNotFoundError()
    booking = session.scalars(
        select(Booking)
        .where(Booking.reference == ref)
        .with_for_update(of=Booking)
        .execution_options(populate_existing=True)
    ).first()
    if booking is None or not contact_matches(
        booking.contact_kind, booking.contact, Contact(*pair)
    ):
        raise BookingNotFoundError()
    if booking.status == BOOKING_CANCELLED:
        raise AlreadyCancelledError()
    if booking.slot.starts_at <= now:
        raise BookingInPastError()
    return booking


def _mark_cancelled(booking: Booking) -> None:
    booking.status = BOOKING_CANCELLED
    booking.cancelled_at = utc_now()


def cancel_booking(
    session: Session, reference: str, contact: str, *, now: datetime | None = None
) -> Booking:
    """Cancel the booking if ``contact`` is the one it was made with; returns it."""
    with session.begin_nested():
        booking = _own_active_booking(session, reference, contact, now or local_now())
        _mark_cancelled(booking)
    return booking


def move_booking(
    session: Session,
    reference: str,
    contact: str,
    new_slot_id: int,
    *,
    now: datetime | None = None,
) -> Booking:
    """Book ``new_slot_id`` for the same person and cancel the old booking, atomically.

    Returns the new booking (it has a new reference). On any error neither is changed.
    """
    now = now or local_now()
    with session.begin_nested():
        old = _own_active_booking(session, reference, contact, now)
        if _as_id(new_slot_id) == old.slot_id:
            raise SameSlotError()
        slot = _bookable_slot(session, new_slot_id, now)
        same_person = Contact(old.contact_kind, old.contact)
        new = _insert_booking(session, slot, old.name, same_person, old.topic)
        _mark_cancelled(old)
    return new


# --- staff operations -------------------------------------------------------------------


def slot_times(
    date_from: date,
    date_to: date,
    weekdays: Iterable[int],
    start: time,
    end: time,
    minutes: int,
    skip_days: Iterable[date] = (),
) -> list[tuple[datetime, datetime]]:
    """(starts_at, ends_at) pairs of ``minutes`` each between start and end on the given
    weekdays (0 = Monday) in the date range, both ends included."""
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    days = set(weekdays)
    skip = set(skip_days)
    step = timedelta(minutes=minutes)
    result = []
    day = date_from
    while day <= date_to:
        if day.weekday() in days and day not in skip:
            begin, stop = datetime.combine(day, start), datetime.combine(day, end)
            while begin + step <= stop:
                result.append((begin, begin + step))
                begin += step
        day += timedelta(days=1)
    return result


def open_slots(
    session: Session, branch_id: str, times: Iterable[tuple[datetime, datetime]]
) -> tuple[int, int]:
    """Create the slots that do not exist yet; returns (created, already there)."""
    wanted = list(times)
    if not wanted:
        return 0, 0
    existing = set(
        session.scalars(
            select(HelpSlot.starts_at).where(
                HelpSlot.branch_id == branch_id,
                HelpSlot.starts_at >= min(s for s, _ in wanted),
                HelpSlot.starts_at <= max(s for s, _ in wanted),
            )
        )
    )
    new = [(s, e) for s, e in wanted if s not in existing]
    session.add_all(HelpSlot(branch_id=branch_id, starts_at=s, ends_at=e) for s, e in new)
    session.flush()
    return len(new), len(wanted) - len(new)


def purge_bookings(session: Session, ended_before: datetime) -> int:
    """Delete bookings (personal data) whose slot ended before ``ended_before``."""
    old_slots = select(HelpSlot.id).where(HelpSlot.ends_at < ended_before)
    result = session.execute(
        delete(Booking)
        .where(Booking.slot_id.in_(old_slots))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
