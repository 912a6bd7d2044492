"""IT help bookings on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.db.models import Booking, local_now
from bot.db.session import session_scope
from bot.services.booking import (
    REFERENCE_ALPHABET,
    AlreadyCancelledError,
    BookingInPastError,
    BookingNotFoundError,
    InvalidInputError,
    SameSlotError,
    SlotInPastError,
    SlotNotFoundError,
    SlotTakenError,
    book_slot,
    bookings_for_contact,
    bookings_on_day,
    cancel_booking,
    free_slots,
    move_booking,
    new_reference,
    normalize_reference,
)
from bot.services.validation import NAME_BAD_CHARS, NAME_HAS_CPR, NAME_TOO_LONG
from tests.fixtures_db import add_branch, add_slot, future

PHONE = "22 33 44 55"


def count_bookings(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count(Booking.id)))


def book(url: str, slot_id: int, name: str = "Anna Jensen", contact: str = PHONE) -> Booking:
    with session_scope(url) as session:
        return book_slot(session, slot_id, name, contact, "mitid")


def test_references_use_unambiguous_alphabet() -> None:
    for _ in range(200):
        reference = new_reference()
        assert len(reference) == 7 and reference[3] == "-"
        assert all(c in REFERENCE_ALPHABET for c in reference.replace("-", ""))
    assert not set("0O1IL") & set(REFERENCE_ALPHABET)


@pytest.mark.parametrize("text", ["abc-234", "ABC234", " abc 234 ", "Abc_234", "abc.234"])
def test_normalize_reference_is_tolerant(text: str) -> None:
    assert normalize_reference(text) == "ABC-234"


@pytest.mark.parametrize("text", ["", "ABC-23", "ABC-2345", "ABO-234", "AB1-234", "ÆØÅ-234"])
def test_normalize_reference_rejects(text: str) -> None:
    assert normalize_reference(text) is None


def test_book_and_list(db_url: str) -> None:
    first = add_slot(db_url, future(2, 10))
    second = add_slot(db_url, future(2, 10, 30))
    add_slot(db_url, future(3, 10), branch_id="nord")
    with session_scope(db_url) as session:
        assert [s.id for s in free_slots(session, branch_id="hovedbiblioteket")] == [first, second]
        booking = book_slot(session, first, "  Anna   Jensen ", "+45 22334455", "digital_post")
        assert booking.name == "Anna Jensen"
        assert (booking.contact_kind, booking.contact) == ("phone", "22334455")
        assert booking.status == "booked" and booking.topic == "digital_post"
        assert normalize_reference(booking.reference) == booking.reference
    with session_scope(db_url) as session:
        free = free_slots(session)
        assert first not in [s.id for s in free] and len(free) == 2
        assert [b.slot_id for b in bookings_for_contact(session, "22-33-44-55")] == [first]
        assert [b.slot_id for b in bookings_on_day(session, future(2).date())] == [first]
        assert bookings_on_day(session, future(2).date(), branch_id="nord") == []


def test_free_slots_order_limit_and_after(db_url: str) -> None:
    ids = [add_slot(db_url, future(2, 9 + i)) for i in range(6)]
    add_slot(db_url, local_now() - timedelta(hours=1))  # past: never offered
    with session_scope(db_url) as session:
        assert [s.id for s in free_slots(session)] == ids[:5]
        assert [s.id for s in free_slots(session, limit=None)] == ids
        assert [s.id for s in free_slots(session, after=future(2, 12), limit=2)] == ids[4:6]


@dataclass
class OnlyHour:
    """Stands in for the Danish date parser: anything with .matches(datetime)."""

    hour: int

    def matches(self, when: datetime) -> bool:
        return when.hour == self.hour


def test_free_slots_with_query(db_url: str) -> None:
    for day in (2, 3, 4):
        for hour in (10, 11):
            add_slot(db_url, future(day, hour))
    with session_scope(db_url) as session:
        found = free_slots(session, query=OnlyHour(11), limit=2)
        assert [s.starts_at for s in found] == [future(2, 11), future(3, 11)]
        assert free_slots(session, query=OnlyHour(7)) == []


@dataclass
class Window:
    """Like bot.language.datetime_da.WhenQuery: a calendar range the database can use directly."""

    date_from: date
    date_to: date

    def matches(self, when: datetime) -> bool:
        return self.date_from <= when.date() <= self.date_to


def test_free_slots_narrows_to_query_dates(db_url: str) -> None:
    ids = {day: add_slot(db_url, future(day, 10)) for day in (2, 3, 4, 5)}
    with session_scope(db_url) as session:
        window = Window(future(3).date(), future(4).date())
        assert [s.id for s in free_slots(session, query=window)] == [ids[3], ids[4]]


def test_taken_past_and_unknown_slots(db_url: str) -> None:
    slot = add_slot(db_url, future(2))
    past = add_slot(db_url, local_now() - timedelta(minutes=5))
    book(db_url, slot)
    with pytest.raises(SlotTakenError) as taken:
        book(db_url, slot, name="Bo Hansen", contact="bo@example.dk")
    assert "booket af en anden" in taken.value.message
    with pytest.raises(SlotInPastError):
        book(db_url, past)
    for unknown in (999_999, "not-a-number", None):
        with pytest.raises(SlotNotFoundError):
            book(db_url, unknown)  # type: ignore[arg-type]
    assert count_bookings(db_url) == 1


def test_unique_index_blocks_a_second_active_booking(db_url: str) -> None:
    """The database itself refuses double booking, even if the service check is bypassed."""
    slot = add_slot(db_url, future(2))
    book(db_url, slot)
    with pytest.raises(IntegrityError), session_scope(db_url) as session:
        session.add(
            Booking(
                reference="ZZZ-ZZZ",
                slot_id=slot,
                topic="mitid",
                name="Snyd",
                contact_kind="phone",
                contact="22222222",
                status="booked",
            )
        )
    assert count_bookings(db_url) == 1


def test_cancel_frees_the_slot(db_url: str) -> None:
    slot = add_slot(db_url, future(2))
    reference = book(db_url, slot, contact="Anna@Example.dk").reference
    messy = reference.lower().replace("-", " ")
    with session_scope(db_url) as session:
        cancelled = cancel_booking(session, messy, "anna@example.DK")
        assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    with session_scope(db_url) as session:
        assert [s.id for s in free_slots(session)] == [slot]
        with pytest.raises(AlreadyCancelledError):
            cancel_booking(session, reference, "anna@example.dk")
    # A cancelled booking does not block a new one for the same slot.
    assert book(db_url, slot, name="Bo Hansen").status == "booked"


def test_cancel_does_not_reveal_whether_a_reference_exists(db_url: str) -> None:
    slot = add_slot(db_url, future(2))
    reference = book(db_url, slot).reference
    messages = set()
    for ref, contact in [
        (reference, "99 88 77 66"),  # right reference, wrong contact
        ("XYZ-789", PHONE),  # unknown reference
        (reference, "nonsense"),
        ("nonsense", PHONE),
    ]:
        with pytest.raises(BookingNotFoundError) as error, session_scope(db_url) as session:
            cancel_booking(session, ref, contact)
        messages.add(error.value.message)
    assert len(messages) == 1
    with session_scope(db_url) as session:
        assert bookings_for_contact(session, PHONE)[0].status == "booked"


def test_cannot_cancel_a_past_booking(db_url: str) -> None:
    slot = add_slot(db_url, future(2))
    reference = book(db_url, slot).reference
    with pytest.raises(BookingInPastError), session_scope(db_url) as session:
        cancel_booking(session, reference, PHONE, now=future(3))


def test_move_booking(db_url: str) -> None:
    old_slot = add_slot(db_url, future(2, 10))
    new_slot = add_slot(db_url, future(2, 11))
    old = book(db_url, old_slot)
    with session_scope(db_url) as session:
        new = move_booking(session, old.reference, PHONE, new_slot)
        assert new.slot_id == new_slot and new.reference != old.reference
        assert (new.name, new.contact, new.topic) == (old.name, old.contact, old.topic)
    with session_scope(db_url) as session:
        statuses = {b.slot_id: b.status for b in bookings_on_day(session, future(2).date())}
        assert statuses == {old_slot: "cancelled", new_slot: "booked"}
        assert [s.id for s in free_slots(session)] == [old_slot]


def test_failed_move_changes_nothing_even_if_caller_commits(db_url: str) -> None:
    old_slot = add_slot(db_url, future(2, 10))
    taken_slot = add_slot(db_url, future(2, 11))
    old = book(db_url, old_slot)
    book(db_url, taken_slot, name="Bo Hansen", contact="bo@example.dk")
    with session_scope(db_url) as session:
        for target, error in [(taken_slot, SlotTakenError), (old_slot, SameSlotError)]:
            with pytest.raises(error):
                move_booking(session, old.reference, PHONE, target)
        # session_scope commits here: the savepoint must have undone everything.
    with session_scope(db_url) as session:
        mine = bookings_for_contact(session, PHONE)
        assert [(b.reference, b.status) for b in mine] == [(old.reference, "booked")]
    assert count_bookings(db_url) == 2


def test_move_with_wrong_contact_is_refused(db_url: str) -> None:
    old_slot = add_slot(db_url, future(2, 10))
    new_slot = add_slot(db_url, future(2, 11))
    old = book(db_url, old_slot)
    with pytest.raises(BookingNotFoundError), session_scope(db_url) as session:
        move_booking(session, old.reference, "99887766", new_slot)


BAD_NAMES = [
    ("x" * 500, NAME_TOO_LONG),
    ("Robert'); DROP TABLE bookings;--", NAME_BAD_CHARS),
    ("<script>alert(1)</script>", NAME_BAD_CHARS),
    ("Anna 010190-1234", NAME_HAS_CPR),
]


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_bad_names_are_rejected_and_nothing_written(db_url: str, name: str, message: str) -> None:
    slot = add_slot(db_url, future(2))
    with pytest.raises(InvalidInputError) as error:
        book(db_url, slot, name=name)
    assert error.value.message == message
    assert count_bookings(db_url) == 0


@pytest.mark.parametrize(
    "contact", ["12345", "anna@", "<script>@x.dk", "0101901234", "'; DROP TABLE bookings;--"]
)
def test_bad_contacts_are_rejected(db_url: str, contact: str) -> None:
    slot = add_slot(db_url, future(2))
    with pytest.raises(InvalidInputError) as error:
        book(db_url, slot, contact=contact)
    assert "telefonnummer" in error.value.message
    assert count_bookings(db_url) == 0


def test_unknown_topic_is_rejected(db_url: str) -> None:
    slot = add_slot(db_url, future(2))
    with pytest.raises(InvalidInputError), session_scope(db_url) as session:
        book_slot(session, slot, "Anna Jensen", PHONE, "hacking")
    with session_scope(db_url) as session:
        assert book_slot(session, slot, "Anna Jensen", PHONE, None).topic == "andet"


def test_branch_helper_is_idempotent(db_url: str) -> None:
    assert add_branch(db_url) == add_branch(db_url) == "hovedbiblioteket"


def test_read_only_session_does_not_block_writers(sqlite_url: str) -> None:
    """On SQLite every session takes the write lock at BEGIN, except read_only ones."""
    slot = add_slot(sqlite_url, future(2))
    done = threading.Event()

    def writer() -> None:
        book(sqlite_url, slot)
        done.set()

    with session_scope(sqlite_url, read_only=True) as reader:
        assert [s.id for s in free_slots(reader)] == [slot]
        thread = threading.Thread(target=writer)
        thread.start()
        assert done.wait(timeout=5), "the writer waited for a read-only session"
        thread.join()
    assert count_bookings(sqlite_url) == 1


def test_session_scope_rolls_back_on_error(db_url: str) -> None:
    slot = add_slot(db_url, future(2))
    with pytest.raises(RuntimeError), session_scope(db_url) as session:
        book_slot(session, slot, "Anna Jensen", PHONE)
        raise RuntimeError("the action crashed after booking")
    assert count_bookings(db_url) == 0
