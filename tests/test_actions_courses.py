"""The course actions and form validators, run in-process on a temp SQLite database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from actions.courses import (
    ActionAskCourseSession,
    ActionAskEnrolConfirmed,
    ActionListCourses,
    ValidateCancelEnrolmentForm,
    ValidateCourseSignupForm,
    course_filter,
)
from bot.db.models import (
    ENROLMENT_ENROLLED,
    ENROLMENT_WAITLISTED,
    Course,
    CourseSession,
    Enrolment,
)
from bot.db.session import session_scope
from bot.services.courses import enrol
from tests.action_support import (
    REFERENCE,
    load_tracker,
    run_action,
    seed_branches,
    use_database,
)
from tests.fixtures_db import add_course_session, future


@pytest.fixture
def db(sqlite_url: str) -> Iterator[str]:
    seed_branches(sqlite_url)
    with session_scope(sqlite_url) as session:
        session.add(Course(id="ipad-begyndere", title="iPad for begyndere", topic="tablet_phone"))
    with use_database(sqlite_url):
        yield sqlite_url


def fill(url: str, session_id: int, count: int, start: int = 0) -> list[str]:
    with session_scope(url) as session:
        return [
            enrol(session, session_id, "Demo Deltager", f"300000{start + n:02d}").reference
            for n in range(count)
        ]


def status_of(url: str, reference: str) -> str:
    with session_scope(url) as session:
        return session.scalar(select(Enrolment.status).where(Enrolment.reference == reference))


# --- listing --------------------------------------------------------------------------------


def test_list_shows_upcoming_sessions_with_seats_left(db: str) -> None:
    open_id = add_course_session(db, seats=5, starts_at=future(days=3))
    full_id = add_course_session(db, seats=1, starts_at=future(days=4))
    fill(db, full_id, 1)
    result = run_action(ActionListCourses(), load_tracker("list_courses"))
    assert "gratis it-kurser" in result.text  # the short intro line
    assert "5 ledige pladser" in result.text
    assert "venteliste" in result.text
    payloads = [b["payload"] for b in result.buttons]
    assert f'/sign_up_course{{"course_session": "{open_id}"}}' in payloads
    assert result.slots["topic"] == "courses"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("har I et ipad kursus?", {"ipad"}),
        ("hvilke kurser er der i Strandby", {"strandby"}),
        ("kurser om mitid", {"mitid-hoved", "strandby"}),
    ],
)
def test_list_is_filtered_by_words_in_the_message(db: str, text: str, expected: set) -> None:
    ids = {
        "mitid-hoved": add_course_session(db, seats=5, starts_at=future(days=3)),
        "strandby": add_course_session(db, seats=5, starts_at=future(days=5), branch_id="strandby"),
        "ipad": add_course_session(
            db, seats=5, starts_at=future(days=6), course_id="ipad-begyndere"
        ),
    }
    result = run_action(ActionListCourses(), load_tracker("list_courses", text=text))
    listed = {
        name
        for name, pk in ids.items()
        if f'"course_session": "{pk}"' in " ".join(b["payload"] for b in result.buttons)
    }
    assert listed == expected


def test_list_says_so_when_the_filter_finds_nothing(db: str) -> None:
    add_course_session(db, seats=5, starts_at=future(days=3))
    result = run_action(
        ActionListCourses(), load_tracker("list_courses", text="kurser på Bibliotek Nord")
    )
    assert "ingen kommende hold, der passer" in result.text
    assert "ledige pladser" in result.text


def test_the_listing_always_lists_questions_about_courses_go_to_the_knowledge_answer(
    db: str,
) -> None:
    # "koster kurserne noget?" is ask_courses -> action_answer_knowledge now (see
    # tests/test_actions_knowledge.py); the listing action only lists.
    add_course_session(db, seats=5)
    result = run_action(
        ActionListCourses(), load_tracker("list_courses", text="koster kurserne noget")
    )
    assert "Her er de næste hold" in result.text


def test_course_filter_reads_topic_branch_and_date() -> None:
    wanted = course_filter("iPad-kursus på Strandby i næste uge")
    assert wanted.course_id == "ipad-begyndere"
    assert wanted.branch_id == "strandby"
    assert wanted.date_from is not None and wanted.date_to is not None


# --- signing up -----------------------------------------------------------------------------


def test_session_from_a_button(db: str) -> None:
    pk = add_course_session(db, seats=5)
    tracker = load_tracker("course_session", text=f'/inform{{"course_session":"{pk}"}}')
    assert run_action(ValidateCourseSignupForm(), tracker).slots["course_session"] == str(pk)


@pytest.mark.parametrize("text", ['/inform{"course_session":"999999"}', "blabla", "<b>x</b>"])
def test_unknown_session_is_re_asked(db: str, text: str) -> None:
    add_course_session(db, seats=5)
    result = run_action(ValidateCourseSignupForm(), load_tracker("course_session", text=text))
    assert "course_session" not in result.slots
    assert result.slots["form_attempts"] == 1


def test_session_question_lists_sessions_as_buttons(db: str) -> None:
    pk = add_course_session(db, seats=5)
    result = run_action(ActionAskCourseSession(), load_tracker("course_session"))
    assert result.buttons[0]["payload"] == f'/inform{{"course_session": "{pk}"}}'


def test_summary_before_signing_up(db: str) -> None:
    pk = add_course_session(db, seats=1)
    fill(db, pk, 1)
    tracker = load_tracker(
        "course_confirm", text="22334455", intent="inform", course_session=str(pk)
    )
    result = run_action(ActionAskEnrolConfirmed(), tracker)
    assert "MitID for begyndere" in result.text and "venteliste" in result.text
    assert [b["payload"] for b in result.buttons] == ["/affirm", "/deny"]


def test_sign_up_with_seats_left(db: str) -> None:
    pk = add_course_session(db, seats=3)
    result = run_action(
        ValidateCourseSignupForm(), load_tracker("course_confirm", course_session=str(pk))
    )
    assert "Du er tilmeldt" in result.text
    reference = REFERENCE.search(result.text).group()
    assert status_of(db, reference) == ENROLMENT_ENROLLED
    assert result.slots["form_outcome"] == "done"


def test_full_course_puts_the_citizen_on_the_wait_list_with_place(db: str) -> None:
    pk = add_course_session(db, seats=2)
    fill(db, pk, 2)
    with session_scope(db) as session:  # one already waiting
        enrol(session, pk, "Første Venter", "30000099")
    result = run_action(
        ValidateCourseSignupForm(), load_tracker("course_confirm", course_session=str(pk))
    )
    assert "venteliste" in result.text and "nummer 2" in result.text
    assert status_of(db, REFERENCE.search(result.text).group()) == ENROLMENT_WAITLISTED


def test_signing_up_twice_is_explained(db: str) -> None:
    pk = add_course_session(db, seats=3)
    with session_scope(db) as session:
        enrol(session, pk, "Karen Jensen", "22334455")
    result = run_action(
        ValidateCourseSignupForm(), load_tracker("course_confirm", course_session=str(pk))
    )
    assert "allerede en tilmelding" in result.text
    assert result.slots["form_outcome"] == "failed"


@pytest.mark.parametrize(("text", "intent"), [("stop", "stop"), ("glem det", "deny")])
def test_stop_sign_up_writes_nothing(db: str, text: str, intent: str) -> None:
    pk = add_course_session(db, seats=3)
    tracker = load_tracker("course_confirm", text=text, intent=intent, course_session=str(pk))
    result = run_action(ValidateCourseSignupForm(), tracker)
    assert result.slots["form_outcome"] == "stopped"
    with session_scope(db) as session:
        assert session.get(CourseSession, pk).seats_taken == 0


@pytest.mark.parametrize(
    ("text", "slot"),
    [("x" * 500, "citizen_name"), ("Robert'); DROP TABLE enrolments;--", "citizen_name")],
)
def test_bad_names_are_re_asked(db: str, text: str, slot: str) -> None:
    tracker = load_tracker("course_session", text=text, course_session="1")
    tracker.slots["requested_slot"] = slot
    result = run_action(ValidateCourseSignupForm(), tracker)
    assert slot not in result.slots
    assert result.slots["form_attempts"] == 1


# --- cancelling -----------------------------------------------------------------------------


def test_cancelling_moves_the_first_on_the_wait_list_up(db: str) -> None:
    pk = add_course_session(db, seats=1)
    with session_scope(db) as session:
        mine = enrol(session, pk, "Karen Jensen", "22334455").reference
        waiting = enrol(session, pk, "Bent Nielsen", "33445566").reference
    result = run_action(
        ValidateCancelEnrolmentForm(),
        load_tracker("cancel_enrolment_contact", lookup_reference=mine),
    )
    assert "afmeldt" in result.text
    assert "Bent" not in result.text  # nothing about the other citizen
    assert status_of(db, waiting) == ENROLMENT_ENROLLED
    assert result.slots["form_outcome"] == "done"


@pytest.mark.parametrize("contact", ["99999999", "22334455"])
def test_unknown_reference_or_wrong_contact(db: str, contact: str) -> None:
    pk = add_course_session(db, seats=1)
    with session_scope(db) as session:
        mine = enrol(session, pk, "Karen Jensen", "22334455").reference
    reference = mine if contact == "99999999" else "ZZZ-999"
    tracker = load_tracker("cancel_enrolment_contact", text=contact, lookup_reference=reference)
    result = run_action(ValidateCancelEnrolmentForm(), tracker)
    assert "Vi kunne ikke finde en tilmelding" in result.text
    assert result.slots["lookup_reference"] is None
    assert status_of(db, mine) == ENROLMENT_ENROLLED


def test_picking_an_offered_session_by_its_place(db: str) -> None:
    first = add_course_session(db, seats=5, starts_at=future(days=3))
    second = add_course_session(db, seats=5, starts_at=future(days=4))
    offer = run_action(ActionAskCourseSession(), load_tracker("course_session"))
    assert offer.slots["offered"] == [first, second]
    tracker = load_tracker("course_session", text="det andet hold", offered=[first, second])
    assert run_action(ValidateCourseSignupForm(), tracker).slots["course_session"] == str(second)


# --- a question about the courses is answered, not turned into a sign-up ----------------------


@pytest.mark.parametrize(
    "text",
    [
        "skal jeg have min egen ipad med på kurset",
        "koster det noget at gå på jeres kurser?",
        "skal jeg selv have en computer med til kurset?",
    ],
)
def test_a_question_read_as_a_sign_up_is_answered_with_a_button_to_sign_up(
    db: str, text: str
) -> None:
    result = run_action(
        ValidateCourseSignupForm(),
        load_tracker("course_start", text=text, intent="sign_up_course"),
    )
    assert result.slots["requested_slot"] is None  # the form ends before its first question
    assert result.slots["form_outcome"] == "answered"
    assert result.slots["topic"] == "courses" and result.slots["article_id"].startswith("kurser")
    # The way to sign up, once: the article's own button or the form's.
    assert [b["payload"] for b in result.buttons].count("/sign_up_course") == 1


@pytest.mark.parametrize(
    "text",
    [
        "Jeg vil gerne tilmelde mig et kursus",
        "kan I tilmelde mig ipad kurset på tirsdag?",
        "tilmeld mig",
        "/sign_up_course",
    ],
)
def test_a_wish_to_sign_up_starts_the_form(db: str, text: str) -> None:
    result = run_action(
        ValidateCourseSignupForm(),
        load_tracker("course_start", text=text, intent="sign_up_course"),
    )
    assert result.slots.get("form_outcome") != "answered"
    assert "article_id" not in result.slots
