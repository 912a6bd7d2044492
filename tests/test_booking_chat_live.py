"""Booking IT help and signing up for courses through /api/chat on the real assistant.

The `live` fixture seeds the demo library (3 branches, IT help slots for the next 14 days,
course sessions, one of them with a single seat left), so the paths below use what the bot
offers as buttons, like a citizen would.
"""

from __future__ import annotations

import re
import time

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.db.models import (
    BOOKING_BOOKED,
    BOOKING_CANCELLED,
    ENROLMENT_ENROLLED,
    ENROLMENT_WAITLISTED,
    Booking,
    CourseSession,
    Enrolment,
)
from bot.db.session import session_scope
from bot.services.validation import CONTACT_INVALID, NAME_BAD_CHARS, NAME_TOO_LONG
from tests.chat_support import (
    REFERENCE,
    buttons_of,
    new_session,
    press,
    text_of,
    unique_phone,
)
from tests.fixtures_mail import Mailbox

pytestmark = pytest.mark.live

def slot_buttons(reply: dict) -> list[dict]:
    return [b for b in buttons_of(reply) if '"help_slot"' in b["payload"]]


def booking_status(live, reference: str) -> tuple[str, int]:
    with session_scope(live.settings.database_url) as db:
        booking = db.scalars(select(Booking).where(Booking.reference == reference)).one()
        return booking.status, booking.slot_id


def enrolment_status(live, reference: str) -> str:
    with session_scope(live.settings.database_url) as db:
        return db.scalar(select(Enrolment.status).where(Enrolment.reference == reference))


def to_slot_question(live, session: str) -> dict:
    """Start a booking at Hovedbiblioteket about MitID on Thursday; returns the slot offer."""
    reply = live.chat(session, "Jeg vil gerne have hjælp til MitID på torsdag")
    assert reply["topic"] == "it_help"
    assert len(buttons_of(reply)) == 3, text_of(reply)  # the three branches
    reply = press(live, session, reply, "Hovedbiblioteket")
    assert "torsdag" in text_of(reply), text_of(reply)
    assert slot_buttons(reply), text_of(reply)
    return reply


def to_confirmation(live, session: str, contact: str | None = None) -> tuple[dict, str]:
    reply = to_slot_question(live, session)
    offer = slot_buttons(reply)[0]
    if "ingen ledige tider" not in text_of(reply):
        assert "torsdag" in offer["title"]  # the offer is narrowed to the day asked for
    reply = live.chat(session, offer["payload"])
    assert "navn" in text_of(reply).lower()
    reply = live.chat(session, "Karen Jensen")
    assert "telefonnummer" in text_of(reply).lower()
    reply = live.chat(session, contact or unique_phone())
    assert "Skal jeg booke tiden?" in text_of(reply), text_of(reply)
    assert [b["title"] for b in buttons_of(reply)] == ["Ja, book tiden", "Nej, ret noget"]
    return reply, offer["title"]


def test_mitid_on_thursday_is_booked_and_cancelling_frees_the_slot(live) -> None:
    session = new_session()
    phone = unique_phone()
    reply, _ = to_confirmation(live, session, contact=phone)
    reply = press(live, session, reply, "Ja, book tiden")
    assert reply["topic"] == "it_help"
    match = REFERENCE.search(text_of(reply))
    assert match, text_of(reply)
    reference = match.group()
    status, _slot_id = booking_status(live, reference)
    assert status == BOOKING_BOOKED

    reply = live.chat(session, "jeg vil aflyse min tid")
    assert "bookingnummer" in text_of(reply)
    reply = live.chat(session, reference.lower().replace("-", " "))
    reply = live.chat(session, phone.replace(" ", ""))
    assert "aflyst" in text_of(reply)
    status, slot_id = booking_status(live, reference)
    assert status == BOOKING_CANCELLED

    # The freed slot is offered again.
    other = new_session()
    offer = to_slot_question(live, other)
    assert any(f'"help_slot": "{slot_id}"' in b["payload"] for b in slot_buttons(offer))
    assert "ikke gemt" in text_of(live.chat(other, "stop"))


def test_change_of_day_before_confirming(live) -> None:
    session = new_session()
    _, first_title = to_confirmation(live, session)
    reply = live.chat(session, "nej, en anden dag")
    assert "Selvfølgelig" in text_of(reply)
    offers = slot_buttons(reply)
    assert offers, text_of(reply)
    chosen_day = first_title.split(" kl.")[0]
    assert all(not b["title"].startswith(chosen_day) for b in offers)
    reply = live.chat(session, offers[0]["payload"])
    assert "Skal jeg booke tiden?" in text_of(reply)  # name and phone are kept
    assert "stoppet" in text_of(live.chat(session, "glem det"))


def test_stop_mid_form_writes_nothing_and_the_chat_goes_on(live) -> None:
    session = new_session()
    live.chat(session, "jeg vil gerne booke tid til IT-hjælp")
    live.chat(session, "Strandby")
    reply = live.chat(session, "stop")
    assert "ikke gemt" in text_of(reply)
    reply = live.chat(session, "hej")
    assert reply["topic"] == "smalltalk"


def test_bad_phone_and_html_or_sql_in_the_name_are_re_asked(live) -> None:
    session = new_session()
    to_slot_question(live, session)
    reply = live.chat(session, "den første")  # typed instead of pressing the first button
    assert "navn" in text_of(reply).lower(), text_of(reply)
    for bad in ("<script>alert('x')</script>", "Robert'); DROP TABLE bookings;--"):
        reply = live.chat(session, bad)
        assert NAME_BAD_CHARS in text_of(reply), text_of(reply)
    reply = live.chat(session, "K" * 500)
    assert NAME_TOO_LONG in text_of(reply)
    live.chat(session, "Karen Jensen")
    reply = live.chat(session, "1234")
    assert CONTACT_INVALID in text_of(reply)
    reply = live.chat(session, "karen@example.dk")
    assert "Skal jeg booke tiden?" in text_of(reply)
    assert "ikke gemt" in text_of(live.chat(session, "annuller"))


def test_unknown_reference_is_explained(live) -> None:
    session = new_session()
    live.chat(session, "jeg vil aflyse min tid")
    reply = live.chat(session, "det ved jeg ikke")
    assert "bookingnummer" in text_of(reply)
    live.chat(session, "ZZZ-999")
    reply = live.chat(session, "22334455")
    assert "Vi kunne ikke finde en booking" in text_of(reply)
    assert "bookingnummer" in text_of(reply)  # asks again
    assert "ikke gemt" in text_of(live.chat(session, "stop"))


def test_courses_are_listed_with_seats_left(live) -> None:
    reply = live.chat(new_session(), "hvilke kurser har I?")
    assert reply["topic"] == "courses"
    text = text_of(reply)
    assert "it-kurser" in text
    assert "MitID for begyndere" in text
    assert re.search(r"\d+ ledige? plads", text)
    assert any(b["payload"].startswith("/sign_up_course") for b in buttons_of(reply))


def _sign_up(live, session: str, payload: str, name: str, contact: str) -> str:
    reply = live.chat(session, payload)
    assert reply["topic"] == "courses"
    assert "navn" in text_of(reply).lower(), text_of(reply)
    live.chat(session, name)
    reply = live.chat(session, contact)
    assert "Skal jeg tilmelde dig?" in text_of(reply), text_of(reply)
    reply = press(live, session, reply, "Ja, tilmeld mig")
    return text_of(reply)


def test_full_course_wait_list_and_moving_up(live) -> None:
    with session_scope(live.settings.database_url) as db:
        nearly_full = next(
            s
            for s in db.scalars(select(CourseSession).order_by(CourseSession.starts_at))
            if s.seats - s.seats_taken == 1
        )
        session_id = nearly_full.id
    listing = live.chat(new_session(), "hvilke kurser har I?")
    payload = next(
        b["payload"]
        for b in buttons_of(listing)
        if f'"course_session": "{session_id}"' in b["payload"]
    )

    first = new_session()
    text = _sign_up(live, first, payload, "Anna Andersen", "anna@example.dk")
    assert "Du er tilmeldt" in text, text
    anna = REFERENCE.search(text).group()

    second = new_session()
    text = _sign_up(live, second, payload, "Bo Berg", "41 42 43 44")
    assert "venteliste" in text and "nummer 1" in text, text
    bo = REFERENCE.search(text).group()
    assert enrolment_status(live, bo) == ENROLMENT_WAITLISTED

    reply = live.chat(first, "jeg vil afmelde mig kurset")
    assert "tilmeldingsnummer" in text_of(reply)
    live.chat(first, anna)
    reply = live.chat(first, "anna@example.dk")
    assert "afmeldt" in text_of(reply)
    assert "Bo" not in text_of(reply)
    assert enrolment_status(live, bo) == ENROLMENT_ENROLLED


def wait_for_mail(live, address: str, count: int, timeout: float = 15) -> list:
    deadline = time.monotonic() + timeout
    while len(live.mailbox.to(address)) < count:
        assert time.monotonic() < deadline, f"no e-mail to {address}"
        time.sleep(0.1)
    return live.mailbox.to(address)


def test_what_have_i_booked_and_moving_a_booking(live) -> None:
    session = new_session()
    reply, _ = to_confirmation(live, session, contact="mona@example.dk")
    reference = REFERENCE.search(text_of(press(live, session, reply, "Ja, book tiden"))).group()

    # The confirmation arrived at the SMTP server, with the booking as a calendar file.
    [confirmation] = wait_for_mail(live, "mona@example.dk", 1)
    assert reference in Mailbox.body(confirmation)
    event = Calendar.from_ical(Mailbox.calendar(confirmation)).walk("VEVENT")[0]
    assert str(event["uid"]).startswith(reference)

    reply = live.chat(session, "hvad har jeg booket")
    assert "e-mail" in text_of(reply)
    reply = live.chat(session, "mona@example.dk")
    assert reference not in text_of(reply) and "kode" in text_of(reply)  # issue 13
    code = re.search(r"\b(\d{6})\b", Mailbox.body(wait_for_mail(live, "mona@example.dk", 2)[1]))
    reply = live.chat(session, code.group(1))
    assert reference in text_of(reply)

    reply = live.chat(session, "jeg vil flytte min tid")
    assert "bookingnummer" in text_of(reply)
    live.chat(session, reference)
    reply = live.chat(session, "mona@example.dk")
    offers = slot_buttons(reply)
    assert offers, text_of(reply)
    reply = live.chat(session, offers[-1]["payload"])
    assert "Skal jeg flytte" in text_of(reply)
    reply = press(live, session, reply, "Ja, flyt tiden")
    assert "flyttet" in text_of(reply)
    new_reference = REFERENCE.findall(text_of(reply))[-1]
    assert booking_status(live, reference)[0] == BOOKING_CANCELLED
    assert booking_status(live, new_reference)[0] == BOOKING_BOOKED


def test_slot_taken_between_offer_and_confirmation_offers_the_next_ones(live) -> None:
    first, second = new_session(), new_session()
    reply_first, title = to_confirmation(live, first, contact="51525354")
    reply_second, same_title = to_confirmation(live, second, contact="61626364")
    assert same_title == title  # both were offered, and chose, the same slot
    assert REFERENCE.search(text_of(press(live, first, reply_first, "Ja, book tiden")))
    reply = press(live, second, reply_second, "Ja, book tiden")
    assert "booket af en anden" in text_of(reply), text_of(reply)
    assert not REFERENCE.search(text_of(reply))
    offers = slot_buttons(reply)
    assert offers and all(b["title"] != title for b in offers)
    reply = live.chat(second, offers[0]["payload"])
    assert "Skal jeg booke tiden?" in text_of(reply)  # name and phone are kept
    assert REFERENCE.search(text_of(press(live, second, reply, "Ja, book tiden")))
