"""IT courses ("Lær mere om IT"): sessions with seats, enrolment, wait-list and cancellation.

Why seat counting is race-free on both engines: every write that changes a session's seats
or wait-list (enrol, cancel, promotion) first locks that session's row with
``SELECT ... FOR UPDATE``, so on PostgreSQL they run one at a time per session and each sees
the previous one's committed result (READ COMMITTED re-reads a row after waiting for its
lock). SQLite has no row locks, but bot.db.session starts every write transaction with
``BEGIN IMMEDIATE``, which serialises all writers on the database. On top of that the seat
itself is taken with a conditional ``UPDATE ... SET seats_taken = seats_taken + 1 WHERE
seats_taken < seats`` and the CHECK constraint ``seats_taken <= seats`` rejects any
overbooking that slipped past a future code change.

Taking the session lock first in every path also fixes the lock order, so two cancellations
can never deadlock each other on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import (
    ENROLMENT_CANCELLED,
    ENROLMENT_ENROLLED,
    ENROLMENT_WAITLISTED,
    Course,
    CourseSession,
    Enrolment,
    local_now,
    utc_now,
)
from bot.services.booking import (
    BookingError,
    Contact,
    contact_matches,
    insert_with_reference,
    normalize_reference,
    validated_contact,
    validated_name,
)
from bot.services.validation import normalize_contact

# The course articles the course list itself answers: which courses there are (it lists
# them), what they cost (its intro says they are free) and how to sign up (its buttons). A
# question about another course article ("kan jeg komme uden computer?") that the NLU read as
# a wish to see the list gets that article instead, with a button to the list.
COURSE_LIST_ANSWERS = frozenset({"kurser-laer-mere-om-it", "kurser-pris", "kurser-tilmelding"})


class CourseError(BookingError):
    default_message = "Der opstod en fejl ved tilmeldingen. Prøv venligst igen."


class SessionNotFoundError(CourseError):
    default_message = "Det valgte hold findes ikke. Vælg venligst et andet hold."


class SessionStartedError(CourseError):
    default_message = "Kurset er allerede begyndt, så tilmeldingen kan ikke ændres her."


class AlreadyEnrolledError(CourseError):
    default_message = (
        "Der er allerede en tilmelding til det hold med det telefonnummer eller den e-mail."
    )


class EnrolmentNotFoundError(CourseError):
    # The same message for an unknown reference and a wrong contact, so it reveals nothing.
    default_message = (
        "Vi kunne ikke finde en tilmelding med det nummer og det telefonnummer eller den "
        "e-mail. Tjek begge dele og prøv igen."
    )


class EnrolmentAlreadyCancelledError(CourseError):
    default_message = "Den tilmelding er allerede afmeldt."


@dataclass(frozen=True)
class CancelResult:
    cancelled: Enrolment
    # Whoever got the freed seat from the wait-list, so the caller can tell (or notify) them.
    promoted: Enrolment | None = None


def _as_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _lock_course_session(session: Session, session_id: Any) -> CourseSession | None:
    pk = _as_id(session_id)
    if pk is None:
        return None
    stmt = (
        select(CourseSession)
        .where(CourseSession.id == pk)
        .with_for_update(of=CourseSession)
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


# --- queries ----------------------------------------------------------------------------


def upcoming_sessions(
    session: Session,
    topic: str | None = None,
    branch_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    course_id: str | None = None,
    now: datetime | None = None,
) -> list[CourseSession]:
    """Sessions that have not started, earliest first; see ``CourseSession.seats_left``.

    ``date_from``/``date_to`` are inclusive calendar days.
    """
    stmt = (
        select(CourseSession)
        .join(CourseSession.course)
        .where(CourseSession.starts_at > (now or local_now()))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    if topic:
        stmt = stmt.where(Course.topic == topic)
    if course_id:
        stmt = stmt.where(CourseSession.course_id == course_id)
    if branch_id:
        stmt = stmt.where(CourseSession.branch_id == branch_id)
    if date_from:
        stmt = stmt.where(CourseSession.starts_at >= datetime.combine(date_from, time.min))
    if date_to:
        day_after = datetime.combine(date_to + timedelta(days=1), time.min)
        stmt = stmt.where(CourseSession.starts_at < day_after)
    return list(session.scalars(stmt))


def waitlist_position(session: Session, enrolment: Enrolment) -> int | None:
    """1 for the first in line; None when the enrolment is not on the wait-list."""
    if enrolment.status != ENROLMENT_WAITLISTED:
        return None
    ahead = session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.session_id == enrolment.session_id,
            Enrolment.status == ENROLMENT_WAITLISTED,
            or_(
                Enrolment.queued_at < enrolment.queued_at,
                and_(Enrolment.queued_at == enrolment.queued_at, Enrolment.id < enrolment.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def waitlist_length(session: Session, session_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.session_id == session_id, Enrolment.status == ENROLMENT_WAITLISTED
            )
        )
        or 0
    )


def enrolments_on_day(
    session: Session, day: date, branch_id: str | None = None, *, include_cancelled: bool = True
) -> list[Enrolment]:
    start = datetime.combine(day, time.min)
    stmt = (
        select(Enrolment)
        .join(Enrolment.course_session)
        .where(
            CourseSession.starts_at >= start,
            CourseSession.starts_at < start + timedelta(days=1),
        )
        .order_by(CourseSession.starts_at, CourseSession.id, Enrolment.status, Enrolment.id)
    )
    if branch_id:
        stmt = stmt.where(CourseSession.branch_id == branch_id)
    if not include_cancelled:
        stmt = stmt.where(Enrolment.status != ENROLMENT_CANCELLED)
    return list(session.scalars(stmt))


def enrolments_for_contact(
    session: Session, contact: str, *, now: datetime | None = None
) -> list[Enrolment]:
    """The citizen's active enrolments (including wait-list) in sessions not yet started."""
    given = validated_contact(contact)
    stmt = (
        select(Enrolment)
        .join(Enrolment.course_session)
        .where(
            Enrolment.status != ENROLMENT_CANCELLED,
            Enrolment.contact_kind == given.kind,
            func.lower(Enrolment.contact) == given.value.lower(),
            CourseSession.starts_at > (now or local_now()),
        )
        .order_by(CourseSession.starts_at)
    )
    return list(session.scalars(stmt))


# --- enrol and cancel -------------------------------------------------------------------


def _has_active_enrolment(session: Session, session_id: int, contact: Contact) -> bool:
    stmt = select(Enrolment.id).where(
        Enrolment.session_id == session_id,
        Enrolment.status != ENROLMENT_CANCELLED,
        func.lower(Enrolment.contact) == contact.value.lower(),
    )
    return session.scalar(stmt.limit(1)) is not None


def _take_seat(session: Session, session_id: int) -> bool:
    result = session.execute(
        update(CourseSession)
        .where(CourseSession.id == session_id, CourseSession.seats_taken < CourseSession.seats)
        .values(seats_taken=CourseSession.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _release_seat(session: Session, session_id: int) -> None:
    session.execute(
        update(CourseSession)
        .where(CourseSession.id == session_id, CourseSession.seats_taken > 0)
        .values(seats_taken=CourseSession.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


class TooManyWaitlistPlacesError(CourseError):
    default_message = (
        "Du står allerede på det højeste antal ventelister hos os. Afmeld en af dem, hvis du "
        "vil på ventelisten her – eller vælg et hold med ledige pladser."
    )


def _waitlist_places(session: Session, contact: Contact, now: datetime) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .join(Enrolment.course_session)
        .where(
            Enrolment.status == ENROLMENT_WAITLISTED,
            Enrolment.contact_kind == contact.kind,
            func.lower(Enrolment.contact) == contact.value.lower(),
            CourseSession.starts_at > now,
        )
    )


def enrol(
    session: Session,
    session_id: int,
    name: str,
    contact: str,
    *,
    now: datetime | None = None,
    max_waitlist: int = 0,
) -> Enrolment:
    """Enrol on a course session; when it is full the enrolment is wait-listed instead.

    Check ``enrolment.status`` and :func:`waitlist_position` to tell the citizen which.
    ``max_waitlist`` (0: no limit) caps the wait-list places one contact may hold.
    """
    clean_name = validated_name(name)
    given = validated_contact(contact)
    course_session = _lock_course_session(session, session_id)
    if course_session is None:
        raise SessionNotFoundError()
    if course_session.starts_at <= (now or local_now()):
        raise SessionStartedError("Kurset er allerede begyndt, så du kan ikke tilmelde dig.")
    if _has_active_enrolment(session, course_session.id, given):
        raise AlreadyEnrolledError()
    full = course_session.seats_taken >= course_session.seats
    if full and max_waitlist and _waitlist_places(session, given, now or local_now()) >= (
        max_waitlist
    ):
        raise TooManyWaitlistPlacesError()

    def build(reference: str) -> Enrolment:
        # Inside the savepoint, so a failed insert gives the seat back as well.
        got_seat = _take_seat(session, course_session.id)
        return Enrolment(
            reference=reference,
            session_id=course_session.id,
            name=clean_name,
            contact_kind=given.kind,
            contact=given.value,
            status=ENROLMENT_ENROLLED if got_seat else ENROLMENT_WAITLISTED,
            created_at=utc_now(),
            queued_at=None if got_seat else utc_now(),
        )

    try:
        enrolment = insert_with_reference(session, Enrolment, build)
    except IntegrityError as exc:
        if "active_contact" in str(exc.orig):
            raise AlreadyEnrolledError() from exc
        raise
    finally:
        session.expire(course_session, ["seats_taken"])
    return enrolment


def _own_enrolment(session: Session, reference: str, contact: str) -> Enrolment:
    ref = normalize_reference(reference)
    pair = normalize_contact(contact) if isinstance(contact, str) else None
    if ref is None or pair is None:
        raise EnrolmentNotFoundError()
    enrolment = session.scalars(select(Enrolment).where(Enrolment.reference == ref)).first()
    if enrolment is None or not contact_matches(
        enrolment.contact_kind, enrolment.contact, Contact(*pair)
    ):
        raise EnrolmentNotFoundError()
    return enrolment


def _first_in_line(session: Session, session_id: int) -> Enrolment | None:
    stmt = (
        select(Enrolment)
        .where(Enrolment.session_id == session_id, Enrolment.status == ENROLMENT_WAITLISTED)
        .order_by(Enrolment.queued_at, Enrolment.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


def _give_seat_away(session: Session, session_id: int) -> Enrolment | None:
    promoted = _first_in_line(session, session_id)
    if promoted is None:
        _release_seat(session, session_id)
        return None
    # The freed seat passes straight on, so seats_taken stays the same.
    promoted.status = ENROLMENT_ENROLLED
    promoted.promoted_at = utc_now()
    return promoted


def cancel_enrolment(
    session: Session, reference: str, contact: str, *, now: datetime | None = None
) -> CancelResult:
    """Cancel an enrolment or wait-list place. A freed seat goes to the first on the
    wait-list in the same transaction; ``CancelResult.promoted`` says who."""
    with session.begin_nested():
        found = _own_enrolment(session, reference, contact)
        # Lock the session row before re-reading the enrolment: the lock order every
        # seat-changing path uses (see the module docstring).
        course_session = _lock_course_session(session, found.session_id)
        session.refresh(found)
        if found.status == ENROLMENT_CANCELLED:
            raise EnrolmentAlreadyCancelledError()
        if course_session is None or course_session.starts_at <= (now or local_now()):
            raise SessionStartedError()
        had_seat = found.status == ENROLMENT_ENROLLED
        found.status = ENROLMENT_CANCELLED
        found.cancelled_at = utc_now()
        promoted = _give_seat_away(session, found.session_id) if had_seat else None
        session.flush()
    session.expire(course_session, ["seats_taken"])
    return CancelResult(cancelled=found, promoted=promoted)


# --- staff operations -------------------------------------------------------------------


def add_session(
    session: Session,
    course_id: str,
    branch_id: str,
    starts_at: datetime,
    minutes: int,
    seats: int,
) -> tuple[CourseSession, bool]:
    """Create a course session unless one already starts then; returns (it, created)."""
    existing = session.scalars(
        select(CourseSession).where(
            CourseSession.course_id == course_id,
            CourseSession.branch_id == branch_id,
            CourseSession.starts_at == starts_at,
        )
    ).first()
    if existing is not None:
        return existing, False
    course_session = CourseSession(
        course_id=course_id,
        branch_id=branch_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        seats=seats,
        seats_taken=0,
    )
    session.add(course_session)
    session.flush()
    return course_session, True


def purge_enrolments(session: Session, ended_before: datetime) -> int:
    """Delete enrolments (personal data) of sessions that ended before ``ended_before``.

    ``seats_taken`` of those past sessions is left as it was: a head count for statistics.
    """
    old_sessions = select(CourseSession.id).where(CourseSession.ends_at < ended_before)
    result = session.execute(
        delete(Enrolment)
        .where(Enrolment.session_id.in_(old_sessions))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
