"""IT courses: seats, wait-list and cancellation on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.db.models import Course, CourseSession, Enrolment
from bot.db.session import session_scope
from bot.services.booking import InvalidInputError
from bot.services.courses import (
    AlreadyEnrolledError,
    EnrolmentAlreadyCancelledError,
    EnrolmentNotFoundError,
    SessionNotFoundError,
    SessionStartedError,
    cancel_enrolment,
    enrol,
    enrolments_for_contact,
    enrolments_on_day,
    upcoming_sessions,
    waitlist_length,
    waitlist_position,
)
from bot.services.validation import NAME_BAD_CHARS, NAME_HAS_CPR, NAME_TOO_LONG
from tests.fixtures_db import add_branch, add_course_session, future


def phone(n: int) -> str:
    return f"2{n:07d}"


def sign_up(url: str, session_id: int, n: int) -> Enrolment:
    with session_scope(url) as session:
        return enrol(session, session_id, f"Deltager {chr(65 + n % 26)}", phone(n))


def seats_taken(url: str, session_id: int) -> int:
    with session_scope(url) as session:
        return session.get(CourseSession, session_id).seats_taken


def statuses(url: str, session_id: int) -> dict[str, str]:
    with session_scope(url) as session:
        rows = session.scalars(select(Enrolment).where(Enrolment.session_id == session_id))
        return {e.contact: e.status for e in rows}


def test_upcoming_sessions_filters(db_url: str) -> None:
    add_branch(db_url, "nord", "Bibliotek Nord")
    a = add_course_session(db_url, seats=10, starts_at=future(2, 10))
    b = add_course_session(db_url, seats=5, starts_at=future(5, 13), branch_id="nord")
    with session_scope(db_url) as session:
        session.add(Course(id="ipad", title="iPad for begyndere", topic="tablet_phone"))
    c = add_course_session(db_url, seats=8, starts_at=future(6, 10), course_id="ipad")
    add_course_session(db_url, seats=8, starts_at=future(-1, 10))  # yesterday
    sign_up(db_url, a, 1)
    with session_scope(db_url) as session:
        assert [s.id for s in upcoming_sessions(session)] == [a, b, c]
        assert [s.id for s in upcoming_sessions(session, topic="mitid")] == [a, b]
        assert [s.id for s in upcoming_sessions(session, branch_id="nord")] == [b]
        window = upcoming_sessions(session, date_from=future(5).date(), date_to=future(6).date())
        assert [s.id for s in window] == [b, c]
        assert [s.id for s in upcoming_sessions(session, course_id="ipad")] == [c]
        first = upcoming_sessions(session)[0]
        assert (first.seats_left, first.course.title, first.branch.name) == (
            9,
            "MitID for begyndere",
            "Hovedbiblioteket",
        )


def test_full_session_waitlists_in_order(db_url: str) -> None:
    sid = add_course_session(db_url, seats=2)
    results = [sign_up(db_url, sid, n) for n in range(5)]
    assert [e.status for e in results] == ["enrolled"] * 2 + ["waitlisted"] * 3
    assert seats_taken(db_url, sid) == 2
    with session_scope(db_url) as session:
        fresh = [session.get(Enrolment, e.id) for e in results]
        assert [waitlist_position(session, e) for e in fresh] == [None, None, 1, 2, 3]
        assert waitlist_length(session, sid) == 3


def test_cancelling_a_seat_moves_the_first_in_line_up(db_url: str) -> None:
    sid = add_course_session(db_url, seats=2)
    a, _b, c, d = (sign_up(db_url, sid, n) for n in range(4))
    with session_scope(db_url) as session:
        result = cancel_enrolment(session, a.reference.lower(), phone(0))
        assert result.cancelled.status == "cancelled"
        assert result.promoted is not None and result.promoted.id == c.id
        assert result.promoted.status == "enrolled" and result.promoted.promoted_at is not None
    assert seats_taken(db_url, sid) == 2
    with session_scope(db_url) as session:
        assert waitlist_position(session, session.get(Enrolment, d.id)) == 1


def test_cancelling_a_waitlist_place_promotes_nobody(db_url: str) -> None:
    sid = add_course_session(db_url, seats=1)
    _a, b, c = (sign_up(db_url, sid, n) for n in range(3))
    with session_scope(db_url) as session:
        assert cancel_enrolment(session, b.reference, phone(1)).promoted is None
    with session_scope(db_url) as session:
        assert waitlist_position(session, session.get(Enrolment, c.id)) == 1
    assert seats_taken(db_url, sid) == 1


def test_cancelling_without_waitlist_frees_the_seat(db_url: str) -> None:
    sid = add_course_session(db_url, seats=3)
    a = sign_up(db_url, sid, 0)
    assert seats_taken(db_url, sid) == 1
    with session_scope(db_url) as session:
        assert cancel_enrolment(session, a.reference, phone(0)).promoted is None
        with pytest.raises(EnrolmentAlreadyCancelledError):
            cancel_enrolment(session, a.reference, phone(0))
    assert seats_taken(db_url, sid) == 0
    # The same person may sign up again after cancelling.
    assert sign_up(db_url, sid, 0).status == "enrolled"


def test_same_contact_cannot_enrol_twice(db_url: str) -> None:
    sid = add_course_session(db_url, seats=1)
    with session_scope(db_url) as session:
        enrol(session, sid, "Anna Jensen", "Anna@Example.dk")
    for contact in ("anna@example.dk", "ANNA@EXAMPLE.DK"):
        with pytest.raises(AlreadyEnrolledError), session_scope(db_url) as session:
            enrol(session, sid, "Anna Jensen", contact)
    sign_up(db_url, sid, 1)  # wait-listed
    with pytest.raises(AlreadyEnrolledError), session_scope(db_url) as session:
        enrol(session, sid, "Anden Person", phone(1))
    assert seats_taken(db_url, sid) == 1
    assert len(statuses(db_url, sid)) == 2


def test_duplicate_index_backs_up_the_check(db_url: str) -> None:
    sid = add_course_session(db_url, seats=5)
    sign_up(db_url, sid, 0)
    with pytest.raises(IntegrityError), session_scope(db_url) as session:
        session.add(
            Enrolment(
                reference="ZZZ-ZZZ",
                session_id=sid,
                name="Snyd",
                contact_kind="phone",
                contact=phone(0),
                status="waitlisted",
            )
        )


def test_seat_counter_cannot_exceed_seats(db_url: str) -> None:
    sid = add_course_session(db_url, seats=1)
    sign_up(db_url, sid, 0)
    with pytest.raises(IntegrityError), session_scope(db_url) as session:
        session.get(CourseSession, sid).seats_taken = 2


def test_enrol_errors(db_url: str) -> None:
    started = add_course_session(db_url, seats=5, starts_at=future(-1))
    with session_scope(db_url) as session:
        with pytest.raises(SessionNotFoundError):
            enrol(session, 424242, "Anna Jensen", phone(1))
        with pytest.raises(SessionNotFoundError):
            enrol(session, "abc", "Anna Jensen", phone(1))  # type: ignore[arg-type]
        with pytest.raises(SessionStartedError):
            enrol(session, started, "Anna Jensen", phone(1))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x" * 500, NAME_TOO_LONG),
        ("Robert'); DROP TABLE bookings;--", NAME_BAD_CHARS),
        ("<script>alert(1)</script>", NAME_BAD_CHARS),
        ("Anna 0101901234", NAME_HAS_CPR),
    ],
)
def test_bad_names_write_nothing(db_url: str, name: str, message: str) -> None:
    sid = add_course_session(db_url, seats=5)
    with pytest.raises(InvalidInputError) as error, session_scope(db_url) as session:
        enrol(session, sid, name, phone(1))
    assert error.value.message == message
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count(Enrolment.id))) == 0
    assert seats_taken(db_url, sid) == 0


def test_cancel_enrolment_hides_whether_reference_exists(db_url: str) -> None:
    sid = add_course_session(db_url, seats=5)
    reference = sign_up(db_url, sid, 0).reference
    messages = set()
    for ref, contact in [(reference, phone(9)), ("XYZ-789", phone(0)), (reference, "x")]:
        with pytest.raises(EnrolmentNotFoundError) as error, session_scope(db_url) as session:
            cancel_enrolment(session, ref, contact)
        messages.add(error.value.message)
    assert len(messages) == 1
    assert statuses(db_url, sid) == {phone(0): "enrolled"}


def test_cannot_cancel_after_start(db_url: str) -> None:
    sid = add_course_session(db_url, seats=5, starts_at=future(2))
    reference = sign_up(db_url, sid, 0).reference
    with pytest.raises(SessionStartedError), session_scope(db_url) as session:
        cancel_enrolment(session, reference, phone(0), now=future(3))
    assert statuses(db_url, sid) == {phone(0): "enrolled"}


def test_listing_by_day_and_contact(db_url: str) -> None:
    sid = add_course_session(db_url, seats=1, starts_at=future(4, 10))
    sign_up(db_url, sid, 0)
    sign_up(db_url, sid, 1)
    with session_scope(db_url) as session:
        day = enrolments_on_day(session, future(4).date())
        assert [(e.contact, e.status) for e in day] == [
            (phone(0), "enrolled"),
            (phone(1), "waitlisted"),
        ]
        assert enrolments_on_day(session, future(5).date()) == []
        mine = enrolments_for_contact(session, phone(1))
        assert [e.course_session.id for e in mine] == [sid]
