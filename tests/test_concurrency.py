"""Races at the last free help slot and the last course seat, on SQLite and PostgreSQL.

Every attempt runs in its own thread with its own session and database connection, and all
start together at a barrier. The timing figures are printed in the terminal summary
("database figures") and recorded as junit properties.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from bot.db.models import Booking, CourseSession, Enrolment
from bot.db.session import make_engine, session_scope
from bot.services.booking import SlotTakenError, book_slot
from bot.services.courses import cancel_enrolment, enrol, waitlist_position
from tests.fixtures_db import add_course_session, add_slot, future

ATTEMPTS = 50


@pytest.fixture
def own_sessions(db_url: str) -> Iterator[Callable[[], Any]]:
    """session_scope() twin on an engine without pooling: one real connection per thread."""
    engine = make_engine(db_url, poolclass=NullPool)
    factory = sessionmaker(bind=engine, future=True, expire_on_commit=False)

    @contextmanager
    def scope() -> Iterator[Session]:
        session = factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    yield scope
    engine.dispose()


def race(count: int, attempt: Callable[[int], Any]) -> tuple[list[Any], float]:
    """Run attempt(0..count-1) in threads released together; results or exceptions."""
    results: list[Any] = [None] * count
    started: list[float] = []
    barrier = threading.Barrier(count, action=lambda: started.append(time.perf_counter()))

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = attempt(index)
        except BaseException as exc:  # collected and asserted on by the test
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "an attempt hung"
    return results, time.perf_counter() - started[0]


def engine_name(url: str) -> str:
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


def phone(n: int) -> str:
    return f"3{n:07d}"


def test_last_help_slot(db_url: str, own_sessions: Any, report_figure: Any) -> None:
    slots = [add_slot(db_url, future(2, 10 + i)) for i in range(3)]
    with session_scope(db_url) as session:
        for i, slot in enumerate(slots[:2]):
            book_slot(session, slot, "Allerede Booket", phone(900 + i))
    last = slots[2]

    def attempt(n: int) -> Booking:
        with own_sessions() as session:
            return book_slot(session, last, "Samtidig Borger", phone(n), "mitid")

    results, elapsed = race(ATTEMPTS, attempt)

    winners = [r for r in results if isinstance(r, Booking)]
    taken = [r for r in results if isinstance(r, SlotTakenError)]
    others = [r for r in results if not isinstance(r, (Booking, SlotTakenError))]
    assert others == [], f"unexpected outcomes: {others[:3]}"
    assert (len(winners), len(taken)) == (1, ATTEMPTS - 1)
    with session_scope(db_url) as session:
        active = session.scalars(
            select(Booking).where(Booking.slot_id == last, Booking.status == "booked")
        ).all()
        assert [b.reference for b in active] == [winners[0].reference]
        assert session.scalar(select(func.count(Booking.id))) == 3  # no stray rows
    report_figure(
        f"help_slot_{engine_name(db_url)}",
        f"{engine_name(db_url)}: last help slot, {ATTEMPTS} concurrent attempts in "
        f"{elapsed:.2f} s -> 1 booked, {len(taken)} 'taken'",
    )


def test_last_course_seat(db_url: str, own_sessions: Any, report_figure: Any) -> None:
    seats = 10
    sid = add_course_session(db_url, seats=seats)
    with session_scope(db_url) as session:
        for i in range(seats - 1):
            enrol(session, sid, "Allerede Tilmeldt", phone(900 + i))

    def attempt(n: int) -> Enrolment:
        with own_sessions() as session:
            return enrol(session, sid, "Samtidig Borger", phone(n))

    results, elapsed = race(ATTEMPTS, attempt)

    errors = [r for r in results if not isinstance(r, Enrolment)]
    assert errors == [], f"unexpected outcomes: {errors[:3]}"
    statuses = [r.status for r in results]
    assert statuses.count("enrolled") == 1
    assert statuses.count("waitlisted") == ATTEMPTS - 1
    with session_scope(db_url) as session:
        course_session = session.get(CourseSession, sid)
        assert course_session.seats_taken == seats
        assert_consistent(session, sid)
        waiting = [session.get(Enrolment, r.id) for r in results if r.status == "waitlisted"]
        positions = sorted(waitlist_position(session, e) for e in waiting)
        assert positions == list(range(1, ATTEMPTS))
    report_figure(
        f"course_seat_{engine_name(db_url)}",
        f"{engine_name(db_url)}: last course seat, {ATTEMPTS} concurrent attempts in "
        f"{elapsed:.2f} s -> 1 enrolled, {ATTEMPTS - 1} wait-listed (places 1-{ATTEMPTS - 1})",
    )


def assert_consistent(session: Session, sid: int) -> None:
    course_session = session.get(CourseSession, sid)
    by_status = dict(
        session.execute(
            select(Enrolment.status, func.count(Enrolment.id))
            .where(Enrolment.session_id == sid)
            .group_by(Enrolment.status)
        ).all()
    )
    enrolled = by_status.get("enrolled", 0)
    assert enrolled == course_session.seats_taken <= course_session.seats
    if by_status.get("waitlisted", 0):
        assert enrolled == course_session.seats, "someone waits while a seat is free"


def test_mixed_cancellations_and_enrolments(
    db_url: str, own_sessions: Any, report_figure: Any
) -> None:
    """Cancellations (which promote from the wait-list) racing new enrolments."""
    seats = 5
    sid = add_course_session(db_url, seats=seats)
    with session_scope(db_url) as session:
        existing = [enrol(session, sid, "Tidlig Borger", phone(500 + i)) for i in range(15)]
        refs = [(e.reference, e.contact) for e in existing]  # 5 enrolled, 10 wait-listed
    cancel_seats, cancel_waiting = refs[:4], refs[5:9]
    jobs: list[Callable[[Session], Any]] = [
        *(lambda s, r=r: cancel_enrolment(s, *r) for r in cancel_seats + cancel_waiting),
        *(lambda s, n=n: enrol(s, sid, "Ny Borger", phone(n)) for n in range(ATTEMPTS - 8)),
    ]
    random.Random(7).shuffle(jobs)

    def attempt(n: int) -> Any:
        with own_sessions() as session:
            return jobs[n](session)

    results, elapsed = race(len(jobs), attempt)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], f"unexpected outcomes: {errors[:3]}"
    with session_scope(db_url) as session:
        assert_consistent(session, sid)
        enrolled = session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.session_id == sid, Enrolment.status == "enrolled"
            )
        )
        assert enrolled == seats
    report_figure(
        f"mixed_{engine_name(db_url)}",
        f"{engine_name(db_url)}: {len(jobs)} concurrent cancellations and enrolments on one "
        f"course in {elapsed:.2f} s -> counters consistent",
    )
