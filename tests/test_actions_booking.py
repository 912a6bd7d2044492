"""The IT help booking actions and form validators, run in-process on a temp SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from actions.booking import (
    ActionAskBookingConfirmed,
    ActionAskBranch,
    ActionAskHelpSlot,
    ValidateBookingForm,
    ValidateCancelBookingForm,
    ValidateMoveBookingForm,
    ValidateMyBookingsForm,
)
from actions.forms.base import ActionFinishForm
from actions.forms.readers import find_reference
from bot.db.models import BOOKING_BOOKED, BOOKING_CANCELLED, Booking, HelpSlot, local_now
from bot.db.session import session_scope
from bot.language.datetime_da import MONTH_NAMES, parse_when
from bot.services.booking import book_slot, free_slots
from bot.services.validation import CONTACT_INVALID, NAME_BAD_CHARS, NAME_MISSING, NAME_TOO_LONG
from tests.action_support import (
    REFERENCE,
    load_tracker,
    next_weekday,
    run_action,
    seed_branches,
    use_database,
)
from tests.fixtures_db import add_slot


@pytest.fixture
def db(sqlite_url: str) -> Iterator[str]:
    seed_branches(sqlite_url)
    with use_database(sqlite_url):
        yield sqlite_url


def booking_count(url: str, status: str | None = None) -> int:
    with session_scope(url) as session:
        stmt = select(func.count(Booking.id))
        if status:
            stmt = stmt.where(Booking.status == status)
        return int(session.scalar(stmt) or 0)


def make_booking(url: str, slot_id: int, contact: str = "22334455") -> str:
    with session_scope(url) as session:
        return book_slot(session, slot_id, "Karen Jensen", contact, "mitid").reference


def date_words(moment: datetime) -> str:
    return f"d. {moment.day}. {MONTH_NAMES[moment.month - 1]}"


# --- starting the form ----------------------------------------------------------------------


def test_first_message_fills_topic_and_wanted_day(db: str) -> None:
    result = run_action(ValidateBookingForm(), load_tracker("booking_start"))
    assert result.slots["help_topic"] == "mitid"
    assert result.slots["when_text"] == "Jeg vil gerne have hjælp til MitID på torsdag"
    assert result.slots["form_attempts"] == 0
    assert result.messages == []  # nothing to complain about


@pytest.mark.parametrize(
    ("text", "branch"),
    [
        ("Strandby", "strandby"),
        ("på Strandby Bibliotek", "strandby"),
        ("hovedbiblioteket tak", "hovedbiblioteket"),
        ("Bibliotek Nord", "nord"),
        ('/inform{"branch":"nord"}', "nord"),
    ],
)
def test_branch_from_text_or_button(db: str, text: str, branch: str) -> None:
    result = run_action(ValidateBookingForm(), load_tracker("booking_branch", text=text))
    assert result.slots["branch"] == branch
    assert result.slots["form_attempts"] == 0


def test_branch_question_offers_the_three_branches_as_buttons(db: str) -> None:
    result = run_action(ActionAskBranch(), load_tracker("booking_branch"))
    assert [b["payload"] for b in result.buttons] == [
        '/inform{"branch": "hovedbiblioteket"}',
        '/inform{"branch": "nord"}',
        '/inform{"branch": "strandby"}',
    ]


@pytest.mark.parametrize("text", ["Månebyen", "<script>alert(1)</script>", "' OR 1=1 --"])
def test_unknown_branch_is_explained_and_counted(db: str, text: str) -> None:
    result = run_action(ValidateBookingForm(), load_tracker("booking_branch", text=text))
    assert "branch" not in result.slots
    assert result.slots["form_attempts"] == 1
    assert "afdeling" in result.text


def test_third_failed_try_offers_staff_help(db: str) -> None:
    tracker = load_tracker("booking_branch", text="Månebyen", form_attempts=2)
    result = run_action(ValidateBookingForm(), tracker)
    assert result.slots["form_attempts"] == 3
    assert "/request_human" in [b["payload"] for b in result.buttons]


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ('/inform{"help_topic":"digital_post"}', "digital_post"),
        ("det er min ipad", "tablet_phone"),
        ("noget med borger.dk", "borger_dk"),
        ("min printer driller", "andet"),
    ],
)
def test_help_topic(db: str, text: str, topic: str) -> None:
    tracker = load_tracker("booking_branch", text=text, branch="nord", help_topic=None)
    tracker.slots["requested_slot"] = "help_topic"
    assert run_action(ValidateBookingForm(), tracker).slots["help_topic"] == topic


# --- the time slot --------------------------------------------------------------------------


def test_slot_question_filters_by_the_wanted_day(db: str) -> None:
    wanted = next_weekday(3, 10)  # a Thursday
    other = next_weekday(4, 10)
    add_slot(db, other)
    thursday_slots = [add_slot(db, wanted + timedelta(minutes=30 * i)) for i in range(3)]
    tracker = load_tracker("booking_help_slot", when_text=f"på torsdag {date_words(wanted)}")
    result = run_action(ActionAskHelpSlot(), tracker)
    payloads = [b["payload"] for b in result.buttons]
    assert payloads == [f'/inform{{"help_slot": "{i}"}}' for i in thursday_slots]
    assert "torsdag" in result.text


def test_slot_question_says_so_when_nothing_matches_and_offers_nearest(db: str) -> None:
    friday = next_weekday(4, 10)
    slot_id = add_slot(db, friday)
    thursday = next_weekday(3, 10, weeks=1)
    tracker = load_tracker("booking_help_slot", when_text=f"{date_words(thursday)} kl. 14")
    result = run_action(ActionAskHelpSlot(), tracker)
    assert "ingen ledige tider" in result.text
    assert [b["payload"] for b in result.buttons] == [f'/inform{{"help_slot": "{slot_id}"}}']


def test_danish_time_words_narrow_the_offer(db: str) -> None:
    now = local_now()
    query = parse_when("på torsdag", now)
    assert query is not None
    result = run_action(ValidateBookingForm(), load_tracker("booking_help_slot"))
    assert result.slots == {"when_text": "på torsdag", "not_day": None, "form_attempts": 0}


def test_choosing_a_free_slot(db: str) -> None:
    slot_id = add_slot(db, next_weekday(3, 10))
    text = f'/inform{{"help_slot":"{slot_id}"}}'
    tracker = load_tracker("booking_help_slot", text=text, offered=[slot_id])
    result = run_action(ValidateBookingForm(), tracker)
    assert result.slots["help_slot"] == str(slot_id)


@pytest.mark.parametrize("case", ["taken", "past", "unknown"])
def test_slot_that_cannot_be_booked_is_explained(db: str, case: str) -> None:
    if case == "taken":
        slot_id = add_slot(db, next_weekday(3, 10))
        make_booking(db, slot_id, "99887766")
        words = "booket af en anden"
    elif case == "past":
        slot_id = add_slot(db, local_now() - timedelta(days=1))
        words = "passeret"
    else:
        slot_id, words = 999999, "findes ikke"
    text = f'/inform{{"help_slot":"{slot_id}"}}'
    tracker = load_tracker("booking_help_slot", text=text, offered=[slot_id])
    result = run_action(ValidateBookingForm(), tracker)
    assert "help_slot" not in result.slots
    assert words in result.text
    assert result.slots["form_attempts"] == 1


# --- name and contact -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "problem"),
    [
        ("Karen Jensen", "Karen Jensen", None),
        ("jeg hedder  Bent   Nielsen", "Bent Nielsen", None),
        ("Jørgen D’Angelo-Sørensen", "Jørgen D’Angelo-Sørensen", None),
        ("x" * 500, None, NAME_TOO_LONG),
        ("<b>Karen</b>", None, NAME_BAD_CHARS),
        ("Robert'); DROP TABLE bookings;--", None, NAME_BAD_CHARS),
        ("ja", None, NAME_MISSING),
        ("hvad sker der nu?", None, NAME_MISSING),
    ],
)
def test_name(db: str, text: str, name: str | None, problem: str | None) -> None:
    result = run_action(ValidateBookingForm(), load_tracker("booking_name", text=text))
    assert result.slots.get("citizen_name") == name
    if problem:
        assert problem in result.text
        assert result.slots["form_attempts"] == 1
    assert "CPR" not in result.text or problem is None


def test_name_and_phone_in_one_answer(db: str) -> None:
    result = run_action(
        ValidateBookingForm(), load_tracker("booking_name", text="Karen Jensen, 22 33 44 55")
    )
    assert result.slots["citizen_name"] == "Karen Jensen"
    assert result.slots["citizen_contact"] == "22334455"


@pytest.mark.parametrize(
    ("text", "contact"),
    [
        ("22 33 44 55", "22334455"),
        ("+45 22-33-44-55", "22334455"),
        ("min mail er Karen@Example.DK", "Karen@example.dk"),
        ("1234", None),
        ("karen@", None),
        ("<img src=x onerror=alert(1)>", None),
    ],
)
def test_contact(db: str, text: str, contact: str | None) -> None:
    result = run_action(ValidateBookingForm(), load_tracker("booking_contact", text=text))
    assert result.slots.get("citizen_contact") == contact
    if contact is None:
        assert CONTACT_INVALID in result.text


# --- confirmation and writing ---------------------------------------------------------------


def test_summary_before_anything_is_written(db: str) -> None:
    slot_id = add_slot(db, next_weekday(3, 10))
    tracker = load_tracker("booking_confirm", text="22334455", intent="inform", help_slot=slot_id)
    result = run_action(ActionAskBookingConfirmed(), tracker)
    assert "Karen Jensen" in result.text and "22 33 44 55" in result.text
    assert [b["title"] for b in result.buttons] == ["Ja, book tiden", "Nej, ret noget"]
    assert booking_count(db) == 0


def test_confirmed_booking_is_written_with_a_reference(db: str) -> None:
    slot_id = add_slot(db, next_weekday(3, 10))
    result = run_action(ValidateBookingForm(), load_tracker("booking_confirm", help_slot=slot_id))
    assert REFERENCE.search(result.text)
    assert result.slots["form_outcome"] == "done"
    assert result.slots["requested_slot"] is None
    assert booking_count(db, BOOKING_BOOKED) == 1


def test_slot_taken_between_offer_and_confirmation(db: str) -> None:
    slot_id = add_slot(db, next_weekday(3, 10))
    make_booking(db, slot_id, "99887766")  # someone else was faster
    result = run_action(ValidateBookingForm(), load_tracker("booking_confirm", help_slot=slot_id))
    assert result.slots["help_slot"] is None
    assert "booket af en anden" in result.text
    assert booking_count(db) == 1  # only the other citizen's


@pytest.mark.parametrize("text", ["/deny", "nej"])
def test_no_at_confirmation_asks_what_to_change(db: str, text: str) -> None:
    slot_id = add_slot(db, next_weekday(3, 10))
    tracker = load_tracker("booking_confirm", text=text, intent="deny", help_slot=slot_id)
    result = run_action(ValidateBookingForm(), tracker)
    assert result.slots["booking_confirmed"] is None
    ask = run_action(ActionAskBookingConfirmed(), tracker)
    assert "rette" in ask.text
    assert booking_count(db) == 0


@pytest.mark.parametrize(
    ("text", "cleared"),
    [
        ("nej, en anden dag", "help_slot"),
        ("ret tidspunkt", "help_slot"),
        ("ret navn", "citizen_name"),
        ("ret telefon eller e-mail", "citizen_contact"),
        ("nej, hellere på Strandby", "help_slot"),
    ],
)
def test_changing_ones_mind(db: str, text: str, cleared: str) -> None:
    slot_id = add_slot(db, next_weekday(3, 10))
    tracker = load_tracker("booking_confirm", text=text, intent="inform", help_slot=slot_id)
    result = run_action(ValidateBookingForm(), tracker)
    assert result.slots[cleared] is None
    assert result.slots["booking_confirmed"] is None
    if text == "nej, en anden dag":
        assert result.slots["not_day"] == next_weekday(3, 10).date().isoformat()
    assert booking_count(db) == 0


def test_other_day_is_left_out_of_the_next_offer(db: str) -> None:
    first = add_slot(db, next_weekday(3, 10))
    later = add_slot(db, next_weekday(4, 10))
    tracker = load_tracker("booking_help_slot", not_day=next_weekday(3, 10).date().isoformat())
    payloads = [b["payload"] for b in run_action(ActionAskHelpSlot(), tracker).buttons]
    assert f'/inform{{"help_slot": "{later}"}}' in payloads
    assert f'/inform{{"help_slot": "{first}"}}' not in payloads


@pytest.mark.parametrize("fixture", ["booking_branch", "booking_name", "booking_confirm"])
@pytest.mark.parametrize(
    ("text", "intent"), [("stop", "stop"), ("glem det", "inform"), ("annuller", "cancel_booking")]
)
def test_stop_mid_form_writes_nothing(db: str, fixture: str, text: str, intent: str) -> None:
    result = run_action(ValidateBookingForm(), load_tracker(fixture, text=text, intent=intent))
    assert result.slots["form_outcome"] == "stopped"
    assert result.slots["requested_slot"] is None
    assert "ikke gemt" in result.text
    assert booking_count(db) == 0


def test_asking_for_a_person_mid_form(db: str) -> None:
    tracker = load_tracker(
        "booking_name", text="jeg vil tale med en medarbejder", intent="request_human"
    )
    result = run_action(ValidateBookingForm(), tracker)
    assert result.slots["form_outcome"] == "human"
    assert "medarbejder" in result.text


def test_finish_clears_the_form(db: str) -> None:
    tracker = load_tracker("booking_confirm", help_slot="1", form_outcome="done")
    result = run_action(ActionFinishForm(), tracker)
    assert result.slots["help_slot"] is None and result.slots["citizen_name"] is None
    assert result.slots["topic"] == "it_help"


# --- cancel, move, my bookings --------------------------------------------------------------


def test_cancel_frees_the_slot(db: str) -> None:
    slot_id = add_slot(db, next_weekday(3, 10))
    reference = make_booking(db, slot_id)
    tracker = load_tracker("cancel_booking_contact", lookup_reference=reference)
    result = run_action(ValidateCancelBookingForm(), tracker)
    assert "aflyst" in result.text
    assert result.slots["form_outcome"] == "done"
    assert booking_count(db, BOOKING_CANCELLED) == 1
    with session_scope(db) as session:
        assert slot_id in [s.id for s in free_slots(session, limit=None)]


@pytest.mark.parametrize(
    ("reference", "contact"),
    [("ZZZ-999", "22334455"), (None, "99999999"), (None, "nobody@example.dk")],
)
def test_unknown_reference_or_wrong_contact(db: str, reference: str | None, contact: str) -> None:
    slot_id = add_slot(db, next_weekday(3, 10))
    real = make_booking(db, slot_id)
    tracker = load_tracker(
        "cancel_booking_contact", text=contact, lookup_reference=reference or real
    )
    result = run_action(ValidateCancelBookingForm(), tracker)
    assert "Vi kunne ikke finde en booking" in result.text
    assert result.slots["lookup_reference"] is None
    assert result.slots["form_attempts"] == 1
    assert booking_count(db, BOOKING_BOOKED) == 1


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("ABC-234", "ABC-234"),
        ("abc 234", "ABC-234"),
        ("mit nummer er KTR7PQ", "KTR-7PQ"),
        ("afbryd", None),
        ("hej med dig", None),
        ("'; DROP TABLE bookings; --", None),
    ],
)
def test_reference_reading(db: str, text: str, reference: str | None) -> None:
    result = run_action(
        ValidateCancelBookingForm(),
        load_tracker("cancel_booking_reference", text=text, intent="inform"),
    )
    if text == "afbryd":
        assert result.slots["form_outcome"] == "stopped"
        return
    assert result.slots.get("lookup_reference") == reference
    if reference is None:
        assert "bookingnummer" in result.text


def test_find_reference_needs_a_hint_inside_a_sentence() -> None:
    assert find_reference("jeg vil afbryd nu", whole_answer=True) is None
    assert find_reference("bookingnummer KTR-7PQ tak") == "KTR-7PQ"


def test_move_booking(db: str) -> None:
    old_slot = add_slot(db, next_weekday(3, 10))
    new_slot = add_slot(db, next_weekday(3, 11))
    reference = make_booking(db, old_slot)
    tracker = load_tracker("move_booking_confirm", lookup_reference=reference, help_slot=new_slot)
    result = run_action(ValidateMoveBookingForm(), tracker)
    assert "flyttet" in result.text
    new_reference = REFERENCE.findall(result.text)[-1]
    assert new_reference != reference
    assert booking_count(db, BOOKING_BOOKED) == 1
    assert booking_count(db, BOOKING_CANCELLED) == 1


def test_my_bookings_needs_more_than_a_phone_number(db: str) -> None:
    # Issue 13: a phone number alone used to list that person's bookings; now it cannot
    # (no SMS gateway here), and the answer says honestly that the reference is needed.
    reference = make_booking(db, add_slot(db, next_weekday(3, 10)))
    result = run_action(ValidateMyBookingsForm(), load_tracker("my_bookings_contact"))
    assert reference not in result.text
    assert "bookingnummer" in result.text and "privatliv" in result.text
    assert result.slots["form_outcome"] == "done"


@pytest.mark.parametrize("intent", ["stop", "request_human", "out_of_scope"])
def test_sql_in_the_name_is_re_asked_whatever_the_nlu_guessed(db: str, intent: str) -> None:
    text = "Robert'); DROP TABLE bookings;--"
    result = run_action(
        ValidateBookingForm(), load_tracker("booking_name", text=text, intent=intent)
    )
    assert NAME_BAD_CHARS in result.text
    assert "form_outcome" not in result.slots
    assert booking_count(db) == 0


def test_asking_for_a_person_mid_form_runs_the_handoff(db: str) -> None:
    tracker = load_tracker(
        "booking_name", text="jeg vil tale med en medarbejder", intent="request_human"
    )
    result = run_action(ValidateBookingForm(), tracker)
    assert result.slots["form_outcome"] == "human"
    # No staff are signed in in this database, so the handoff offers a callback.
    assert "medarbejder kontakter dig" in result.text
    finish = run_action(ActionFinishForm(), load_tracker("booking_name", form_outcome="human"))
    assert finish.slots["topic"] == "staff"


def test_a_clock_time_after_a_day_picks_that_slot(db: str) -> None:
    thursday = next_weekday(3, 10)
    add_slot(db, thursday)
    wanted = add_slot(db, thursday + timedelta(minutes=30))
    tracker = load_tracker(
        "booking_help_slot", text="kl. 10.30", when_text=f"på torsdag {date_words(thursday)}"
    )
    result = run_action(ValidateBookingForm(), tracker)
    assert result.slots["help_slot"] == str(wanted)


@pytest.mark.parametrize("fixture", ["booking_name", "booking_contact"])
def test_why_do_you_need_that_is_answered_not_counted(db: str, fixture: str) -> None:
    tracker = load_tracker(fixture, text="hvorfor skal I bruge mit nummer?", intent="out_of_scope")
    result = run_action(ValidateBookingForm(), tracker)
    assert "CPR" in result.text and "aldrig" in result.text
    assert result.slots == {"form_attempts": 0}


def test_a_knowledge_question_mid_form_is_answered(db: str) -> None:
    tracker = load_tracker(
        "booking_branch", text="hvad skal jeg have med til it hjælpen", intent="ask_it_help"
    )
    result = run_action(ValidateBookingForm(), tracker)
    assert result.text and "afdeling" not in result.text
    assert result.slots == {"form_attempts": 0}


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("den første", 0),
        ("2", 1),
        ("nummer 3", 2),
        ("den anden tid", 1),
        ("den sidste", 2),
        ("tak, den tredje", 2),
    ],
)
def test_picking_an_offered_slot_by_its_place(db: str, text: str, index: int) -> None:
    thursday = next_weekday(3, 10)
    ids = [add_slot(db, thursday + timedelta(minutes=30 * i)) for i in range(3)]
    offer = run_action(ActionAskHelpSlot(), load_tracker("booking_help_slot"))
    assert offer.slots["offered"] == ids
    tracker = load_tracker("booking_help_slot", text=text, offered=ids)
    assert run_action(ValidateBookingForm(), tracker).slots["help_slot"] == str(ids[index])


def test_a_place_beyond_the_offer_is_re_asked(db: str) -> None:
    ids = [add_slot(db, next_weekday(3, 10))]
    result = run_action(
        ValidateBookingForm(), load_tracker("booking_help_slot", text="7", offered=ids)
    )
    assert "help_slot" not in result.slots
    assert result.slots["form_attempts"] == 1


@pytest.mark.parametrize(
    "words",
    ["i morgen", "på torsdag", "næste uge", "kl. 14", "om eftermiddagen", "d. 3. december"],
)
def test_every_slot_offered_fits_the_danish_time_asked_for(db: str, words: str) -> None:
    start = local_now().date()
    for days in range(1, 22):
        for hour in (10, 14):
            day = start + timedelta(days=days)
            add_slot(db, datetime(day.year, day.month, day.day, hour))
    query = parse_when(words, local_now())
    assert query is not None
    result = run_action(ActionAskHelpSlot(), load_tracker("booking_help_slot", when_text=words))
    with session_scope(db) as session:
        offered = [session.get(HelpSlot, int(pk)) for pk in result.slots["offered"]]
        starts = [slot.starts_at for slot in offered]
    assert starts, result.text
    if "ingen ledige tider" in result.text:  # e.g. 3 December beyond the seeded weeks
        assert not any(query.matches(s) for s in starts)
    else:
        assert all(query.matches(s) for s in starts), (words, starts)


# --- known defects (issue 8, item 9): each the citizen's words, then what must happen ------


@pytest.mark.parametrize(
    "text",
    [
        "kan jeg flytte min tid ABC-234",
        "flyt tid KTR-7PQ til fredag",
        "jeg vil aflyse min tid abc 234 tak",
    ],
)
def test_a_reference_inside_a_sentence_after_a_short_word_is_found(text: str) -> None:
    assert find_reference(text, whole_answer=False) in ("ABC-234", "KTR-7PQ")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("glem det, jeg vil hellere booke en ny", "stop"),
        ("nej vent, jeg vil hellere booke en helt ny tid", "book_it_help"),
        ("det er forkert, jeg vil hellere flytte tiden", "move_booking"),
    ],
)
def test_the_cancel_form_is_left_when_the_citizen_changes_their_mind(
    db: str, text: str, intent: str
) -> None:
    tracker = load_tracker("cancel_booking_reference", text=text, intent=intent, confidence=0.9)
    result = run_action(ValidateCancelBookingForm(), tracker)
    assert result.slots["requested_slot"] is None
    assert result.slots["form_outcome"] == "stopped"
    assert "ikke ændret" in result.text
    (offer,) = result.buttons
    assert offer["payload"] == f"/{intent if intent != 'stop' else 'book_it_help'}"


@pytest.mark.parametrize("text", ["den 3.", "d. 3", "den 3. tak"])
def test_a_bare_day_of_the_month_is_a_date_in_the_booking_form(db: str, text: str) -> None:
    third = local_now().date().replace(day=3)
    if third < local_now().date():
        third = (third.replace(day=1) + timedelta(days=32)).replace(day=3)
    tracker = load_tracker("booking_help_slot", text=text, intent="inform")
    result = run_action(ValidateBookingForm(), tracker)
    assert "help_slot" not in result.slots or result.slots["help_slot"] is None
    assert parse_when(result.slots["when_text"], local_now()).date_from == third


@pytest.mark.parametrize("text", ["[CPR-nummer fjernet]", "Karen Hansen [CPR-nummer fjernet]"])
def test_a_cpr_number_typed_as_the_name_gets_the_cpr_notice(db: str, text: str) -> None:
    result = run_action(ValidateBookingForm(), load_tracker("booking_name", text=text))
    assert "CPR-nummer" in result.text
    assert "bogstaver" not in result.text
    assert result.slots.get("citizen_name") is None


def test_a_question_read_as_a_booking_is_answered_with_a_button_to_book(db: str) -> None:
    text = "koster det noget at få hjælp til mitid på biblioteket?"
    result = run_action(
        ValidateBookingForm(), load_tracker("booking_start", text=text, intent="book_it_help")
    )
    assert result.slots["requested_slot"] is None and result.slots["form_outcome"] == "answered"
    assert result.slots["article_id"] == "digital-hjaelp"
    assert {"title": "Book en tid", "payload": "/book_it_help"} in result.buttons


def test_a_question_the_engine_is_unsure_of_still_starts_the_booking(db: str) -> None:
    # Only a plainly answered question skips the form: no guessing in front of a wish.
    text = "skal jeg have mitid med når jeg får hjælp?"
    result = run_action(
        ValidateBookingForm(), load_tracker("booking_start", text=text, intent="book_it_help")
    )
    assert result.slots.get("form_outcome") != "answered" and "article_id" not in result.slots


def test_a_form_that_answered_instead_keeps_the_answers_topic() -> None:
    finish = run_action(ActionFinishForm(), load_tracker("booking_start", form_outcome="answered"))
    assert "topic" not in finish.slots  # the answer set it; the form's own topic does not win
    assert finish.slots["form_outcome"] is None


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("skal jeg have min egen ipad med på kurset", True),
        ("koster det noget?", True),
        ("jeg har ingen computer, er det et problem?", True),
        ("Jeg vil gerne have hjælp til MitID på torsdag", False),
        ("kan I booke mig en tid på fredag?", False),
        ("book en tid", False),
        ("tilmeld mig ipad kurset", False),
        ("/book_it_help", False),
        ("jeg vil gerne på kursus, hvad koster det?", False),
    ],
)
def test_a_question_about_a_service_is_told_from_a_wish_to_use_it(text: str, asks: bool) -> None:
    from bot.language.wishes import asks_rather_than_wishes

    assert asks_rather_than_wishes(text) is asks


@pytest.mark.parametrize(
    ("text", "confidence", "answered"),
    [
        ("skrive op", 0.52, "dagtilbud-skriv-op"),  # read weakly as this wish
        ("venteliste", 0.6, "dagtilbud-venteliste"),
        ("skrive op", 0.95, None),  # the NLU is sure: the form goes on
        ("ja tak", 0.5, None),  # nothing of its own to answer
        ("book mig en tid", 0.5, None),  # says the wish in words
    ],
)
def test_a_short_reply_read_weakly_as_a_wish_to_book_is_answered_in_its_topic(
    db: str, text: str, confidence: float, answered: str | None
) -> None:
    # After the day-care tile (topic set, no article shown yet).
    tracker = load_tracker(
        "booking_start", text=text, confidence=confidence, topic="dagtilbud", article_id=None
    )
    result = run_action(ValidateBookingForm(), tracker)
    if answered is None:
        assert "article_id" not in result.slots
        return
    assert result.slots["article_id"] == answered
    assert result.slots["requested_slot"] is None  # the form is left at once
    assert {"title": "Book en tid", "payload": "/book_it_help"} in result.buttons


@pytest.mark.parametrize(
    ("text", "stops"),
    [
        ("stop", True),
        ("glem det, jeg gider ikke alligevel", True),
        ("jeg vil fortryde min booking", True),
        # Asking what happens on changing one's mind is a question, not a wish to stop.
        ("hvad hvis hun fortryder", False),
        ("og hvis jeg fortryder bagefter?", False),
    ],
)
def test_a_stop_read_by_the_nlu_needs_a_wish_to_stop(text: str, stops: bool) -> None:
    from bot.language.wishes import wants_stop

    assert wants_stop(text, "stop", 0.9) is stops


@pytest.mark.parametrize(
    ("form", "text", "answered"),
    [
        # Questions about moving house or Digital Post, read as moving or cancelling a booking.
        (
            ValidateMoveBookingForm,
            "hvordan melder jeg min flytning på borger.dk?",
            "flytning-anmeld",
        ),
        (
            ValidateCancelBookingForm,
            "hvordan kan jeg blive fritaget for digital post?",
            "digital-post-fritagelse",
        ),
        # A wish about something else: no appointment in it.
        (
            ValidateMoveBookingForm,
            "jeg vil gerne flytte til aarhus, hvordan melder jeg min flytning på borger.dk",
            "flytning-anmeld",
        ),
        # About an appointment: the form goes on.
        (ValidateMoveBookingForm, "kan jeg flytte min tid ABC-234?", None),
        (ValidateBookingForm, "jeg vil gerne have en tid til hjælp med min flytning", None),
        (ValidateCancelBookingForm, "hvordan aflyser jeg min tid?", None),
    ],
)
def test_a_message_without_a_booking_in_it_is_answered_not_made_a_form(
    db: str, form: type, text: str, answered: str | None
) -> None:
    tracker = load_tracker(
        "move_booking_start", text=text, confidence=0.7, topic=None, article_id=None
    )
    result = run_action(form(), tracker)
    if answered is None:
        assert "article_id" not in result.slots
        return
    assert result.slots["article_id"] == answered
    assert result.slots["requested_slot"] is None  # the form is left at once
