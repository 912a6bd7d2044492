"""Bookings only for their owner (issue 13, item 1): "what have I booked?" by a one-time
code sent to the contact, lock-outs after wrong references or codes, confirmations and
day-before reminders by e-mail with a valid .ics (aiosmtpd as the real SMTP server), the
SMS sender against a local fake provider, and the quotas per contact. The actions run
in-process against a temp SQLite database (tests/action_support.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from actions import config
from actions.booking import (
    ActionAskHelpSlot,
    ValidateBookingForm,
    ValidateCancelBookingForm,
    ValidateMyBookingsForm,
)
from actions.courses import ValidateCourseSignupForm
from actions.forms.lookup import ActionAskLookupContact
from bot.db.models import Booking, Enrolment, local_now
from bot.db.session import session_scope
from bot.services.booking import book_slot
from bot.services.courses import enrol
from bot.services.notify import HttpSmsGateway, Notifier, send_reminders
from tests.action_support import (
    load_tracker,
    next_weekday,
    run_action,
    seed_branches,
    use_database,
)
from tests.fixtures_db import add_course_session, add_slot
from tests.fixtures_mail import Mailbox, SmsGateway

CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def db(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[str]:
    for name in ("BORGER_SMTP_HOST", "BORGER_SMS_GATEWAY_URL"):
        monkeypatch.delenv(name, raising=False)
    # The mail and SMS servers a test asks for set BORGER_SMTP_*/SMS_* first: the actions'
    # settings are built from the environment after them.
    for server in ("mailbox", "sms_gateway"):
        if server in request.fixturenames:
            request.getfixturevalue(server)
    seed_branches(sqlite_url)
    with use_database(sqlite_url):
        yield sqlite_url


def book(url: str, contact: str, days: int = 3, hour: int = 10) -> str:
    slot = add_slot(url, next_weekday((local_now().weekday() + days) % 7, hour))
    with session_scope(url) as session:
        return book_slot(session, slot, "Karen Jensen", contact, "mitid").reference


def my_bookings(text: str, sender: str = "t-mine"):
    tracker = load_tracker("my_bookings_contact", text=text)
    tracker.sender_id = sender
    return run_action(ValidateMyBookingsForm(), tracker)


def test_my_bookings_by_a_code_sent_by_email(db: str, mailbox: Mailbox) -> None:
    mine = book(db, "karen@example.dk")
    someone_elses = book(db, "bo@example.dk", days=4)

    asked = my_bookings("karen@example.dk")
    assert mine not in asked.text and "sendt en kode" in asked.text
    assert "form_outcome" not in asked.slots  # the form goes on: now it wants the code
    question = run_action(ActionAskLookupContact(), load_tracker("my_bookings_contact"))
    assert "kode på 6 cifre" in question.text
    [message] = mailbox.to("karen@example.dk")
    code = CODE.search(Mailbox.body(message)).group(1)

    assert "passer ikke" in my_bookings("000000" if code != "000000" else "111111").text
    assert mine not in my_bookings(code, sender="another-chat").text  # bound to the chat
    listed = my_bookings(code)
    assert mine in listed.text and someone_elses not in listed.text
    assert listed.slots["form_outcome"] == "done"
    assert mine not in my_bookings(code).text  # used up


def test_wrong_codes_lock_the_chat_out(db: str, mailbox: Mailbox) -> None:
    book(db, "karen@example.dk")
    for _ in range(2):  # a code allows three tries; ask for a new one after each three
        my_bookings("karen@example.dk")
        for _ in range(3):
            result = my_bookings("123456")
    assert "for mange forkerte forsøg" in result.text
    assert result.slots["form_outcome"] == "failed"
    # Locked also for a fresh code request from the same chat.
    assert "for mange forkerte forsøg" in my_bookings("karen@example.dk").text


def test_my_bookings_by_sms_when_a_gateway_is_configured(db: str, sms_gateway: SmsGateway) -> None:
    mine = book(db, "22334455")
    assert "sendt en kode" in my_bookings("22 33 44 55").text
    [sms] = sms_gateway.received
    assert sms["to"] == "+4522334455"
    assert mine in my_bookings(CODE.search(sms["text"]).group(1)).text


def test_sms_gateway_refusal_is_reported(sms_gateway: SmsGateway) -> None:
    sms_gateway.status = 500
    assert not HttpSmsGateway(sms_gateway.url, sms_gateway.token, "Bib").send("22334455", "x")
    assert not HttpSmsGateway(sms_gateway.url, "wrong", "Bib").send("22334455", "x")
    sms_gateway.status = 202
    assert HttpSmsGateway(sms_gateway.url, sms_gateway.token, "Bib").send("22334455", "hej")


def test_wrong_references_lock_cancelling_out(db: str) -> None:
    reference = book(db, "22334455")
    for attempt in range(5):
        tracker = load_tracker("cancel_booking_contact", lookup_reference=f"ABC-23{attempt + 2}")
        result = run_action(ValidateCancelBookingForm(), tracker)
    assert "for mange forkerte forsøg" in result.text
    # Even the right reference is refused while locked: the lock is per chat and contact.
    tracker = load_tracker("cancel_booking_contact", lookup_reference=reference)
    right = run_action(ValidateCancelBookingForm(), tracker)
    assert "for mange forkerte forsøg" in right.text
    with session_scope(db) as session:
        assert session.execute(select(Booking.status)).scalar_one() == "booked"


def test_booking_confirmation_has_a_valid_calendar_file(db: str, mailbox: Mailbox) -> None:
    starts = next_weekday(3, 10)
    slot = add_slot(db, starts)
    tracker = load_tracker(
        "booking_confirm", text="ja", intent="affirm", help_slot=str(slot),
        citizen_contact="karen@example.dk",
    )
    result = run_action(ValidateBookingForm(), tracker)
    assert "kalenderfil" in result.text
    [message] = mailbox.to("karen@example.dk")
    reference = re.search(r"[A-Z2-9]{3}-[A-Z2-9]{3}", result.text).group()
    assert reference in Mailbox.body(message)
    event = Calendar.from_ical(Mailbox.calendar(message)).walk("VEVENT")[0]
    assert event.decoded("dtstart").replace(tzinfo=None) == starts
    assert event.decoded("dtend").replace(tzinfo=None) == starts + timedelta(minutes=30)
    assert str(event["uid"]).startswith(reference)


def test_reminders_go_out_the_day_before_once(db: str, mailbox: Mailbox) -> None:
    tomorrow = (local_now() + timedelta(days=1)).replace(hour=11, minute=0, second=0,
                                                         microsecond=0)
    slot = add_slot(db, tomorrow)
    later = add_slot(db, tomorrow + timedelta(days=2))
    phone_only = add_slot(db, tomorrow + timedelta(hours=1))
    with session_scope(db) as session:
        reference = book_slot(session, slot, "Karen Jensen", "karen@example.dk").reference
        book_slot(session, later, "Karen Jensen", "karen@example.dk")
        book_slot(session, phone_only, "Bo Berg", "22334455")
    notifier = Notifier(config.settings)
    with session_scope(db) as session:
        assert send_reminders(session, notifier) == 1  # the phone-only one cannot be reached
    with session_scope(db) as session:
        assert send_reminders(session, notifier) == 0
    [message] = mailbox.to("karen@example.dk")
    assert "i morgen" in message["Subject"] and reference in Mailbox.body(message)
    assert Calendar.from_ical(Mailbox.calendar(message)).walk("VEVENT")


def test_at_most_two_upcoming_bookings_per_contact(db: str) -> None:
    book(db, "22334455", days=2)
    book(db, "22 33 44 55", days=3)
    slot = add_slot(db, next_weekday(4, 14))
    tracker = load_tracker(
        "booking_confirm", text="ja", intent="affirm", help_slot=str(slot),
        citizen_contact="22334455",
    )
    result = run_action(ValidateBookingForm(), tracker)
    assert "højeste antal" in result.text and result.slots["form_outcome"] == "failed"
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 2


def test_a_slot_never_offered_cannot_be_booked(db: str) -> None:
    offered_slot = add_slot(db, next_weekday(3, 10))
    hidden = add_slot(db, next_weekday(3, 11))
    asked = run_action(ActionAskHelpSlot(), load_tracker("booking_help_slot"))
    offered = asked.slots["offered"]
    assert offered_slot in offered
    forged = load_tracker(
        "booking_help_slot", text=f'/inform{{"help_slot":"{hidden + 1000}"}}', offered=offered
    )
    result = run_action(ValidateBookingForm(), forged)
    assert "help_slot" not in result.slots and "vist dig" in result.text
    chosen = load_tracker(
        "booking_help_slot", text=f'/inform{{"help_slot":"{offered_slot}"}}', offered=offered
    )
    assert run_action(ValidateBookingForm(), chosen).slots["help_slot"] == str(offered_slot)


def test_at_most_two_wait_list_places_per_contact(db: str) -> None:
    full = [add_course_session(db, seats=1, starts_at=next_weekday(2, 10 + i)) for i in range(3)]
    with session_scope(db) as session:
        for session_id in full:
            enrol(session, session_id, "Først Kommende", "99887766")
        for session_id in full[:2]:
            enrol(session, session_id, "Karen Jensen", "22334455")
    tracker = load_tracker(
        "course_confirm", text="ja", intent="affirm", course_session=str(full[2]),
        citizen_contact="22334455",
    )
    result = run_action(ValidateCourseSignupForm(), tracker)
    assert "ventelister" in result.text and result.slots["form_outcome"] == "failed"
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Enrolment)) == 5
