"""IT courses in the chat: list upcoming sessions, sign up (or join the wait-list), cancel.

Thin over bot/services/courses.py; one database session per action via ``session_scope``. When a
citizen cancels, the service moves the first on the wait-list up in the same transaction;
the cancelling citizen is only told that their own sign-up is cancelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import config
from actions.booking import CHANGE_BUTTONS, branch_name
from actions.forms.base import ReaskingFormValidationAction, button, db_session, read_db_session
from actions.forms.confirm import ask_to_confirm, confirm_then_write, contact_label
from actions.forms.details import CitizenDetailsMixin
from actions.forms.lookup import LookupForm
from actions.forms.readers import (
    FINISH,
    PROBLEM,
    is_deny,
    is_payload,
    latest_intent,
    latest_text,
    payload_value,
    pick_offered,
)
from actions.replies import answer_instead
from bot.db.models import ENROLMENT_WAITLISTED, CourseSession, local_now
from bot.language.datetime_da import format_slot, parse_when
from bot.services.booking import BookingError
from bot.services.courses import (
    COURSE_LIST_ANSWERS,
    AlreadyEnrolledError,
    CourseError,
    EnrolmentAlreadyCancelledError,
    EnrolmentNotFoundError,
    SessionNotFoundError,
    SessionStartedError,
    TooManyWaitlistPlacesError,
    cancel_enrolment,
    enrol,
    upcoming_sessions,
    waitlist_position,
)
from bot.services.library import find_branch

SHOW_COURSES_BUTTON = {"title": "Se bibliotekets it-kurser", "payload": "/list_courses"}
MAX_LISTED = 8
MAX_BUTTONS = 6
INTRO = (
    "Biblioteket holder gratis it-kurser (\u201dLær mere om it\u201d) for begyndere – små hold, "
    "rolig tempo og plads til spørgsmål."
)
REFERENCE_PROBLEM = (
    "Det ligner ikke et tilmeldingsnummer. Det har 6 tegn, fx ABC-234 – du fik det, da du "
    "tilmeldte dig."
)

# Words in a message -> which courses it is about.
_COURSE_WORDS: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), filters)
    for pattern, filters in (
        (r"mit\s?-?id|nem\s?-?id", {"topic": "mitid"}),
        (r"digital\w*\s?post|e-?boks|mit\.dk", {"topic": "digital_post"}),
        (r"ipad|tablet", {"course_id": "ipad-begyndere"}),
        (r"smartphone|telefon|mobil|iphone|android", {"course_id": "smartphone-begyndere"}),
        (r"borger\s?\.?\s?dk|selvbetjening", {"topic": "borger_dk"}),
        (r"svindel|sikker|sikkerhed|adgangskode|nettet", {"topic": "andet"}),
    )
)


@dataclass
class CourseFilter:
    topic: str | None = None
    course_id: str | None = None
    branch_id: str | None = None
    date_from: Any = None
    date_to: Any = None

    @property
    def empty(self) -> bool:
        return not any((self.topic, self.course_id, self.branch_id, self.date_from, self.date_to))


def course_filter(text: str, now: datetime | None = None) -> CourseFilter:
    """Topic, course, branch and date words in a message ("iPad-kursus i Strandby i december")."""
    found = CourseFilter()
    if not text or is_payload(text):
        return found
    for pattern, filters in _COURSE_WORDS:
        if pattern.search(text):
            found.topic = filters.get("topic")
            found.course_id = filters.get("course_id")
            break
    branch = find_branch(text, config.library)
    found.branch_id = branch.id if branch else None
    query = parse_when(text, now or local_now())
    if query is not None:
        found.date_from, found.date_to = query.date_from, query.date_to
    return found


def sessions_for(session: Any, wanted: CourseFilter) -> list[CourseSession]:
    return upcoming_sessions(
        session,
        topic=wanted.topic,
        branch_id=wanted.branch_id,
        date_from=wanted.date_from,
        date_to=wanted.date_to,
        course_id=wanted.course_id,
    )


def seats_text(course_session: CourseSession) -> str:
    left = course_session.seats_left
    if left <= 0:
        return "fuldt hold – du kan komme på venteliste"
    return "1 ledig plads" if left == 1 else f"{left} ledige pladser"


def session_line(course_session: CourseSession) -> str:
    return (
        f"• {course_session.course.title} – {branch_name(course_session.branch_id)}, "
        f"{format_slot(course_session.starts_at)}: {seats_text(course_session)}"
    )


def session_button(course_session: CourseSession, intent: str = "inform") -> dict[str, str]:
    start = course_session.starts_at
    full = " – venteliste" if course_session.seats_left <= 0 else ""
    title = f"{course_session.course.title} {start.day}/{start.month}{full}"
    return button(title, intent, course_session=course_session.id)


class ActionListCourses(Action):
    """ "Hvilke kurser har I?": a short intro and the upcoming sessions with seats left,
    narrowed by topic, branch and date words in the message."""

    def name(self) -> str:
        return "action_list_courses"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        answered = answer_instead(
            dispatcher, tracker, SHOW_COURSES_BUTTON, own_articles=COURSE_LIST_ANSWERS
        )
        if answered is not None:
            return answered
        text = latest_text(tracker)
        wanted = course_filter(text)
        with read_db_session() as session:
            found = sessions_for(session, wanted)
            note = ""
            if not found and not wanted.empty:
                note = "Jeg fandt ingen kommende hold, der passer til det, du skrev. "
                found = sessions_for(session, CourseFilter())
            lines = [session_line(s) for s in found[:MAX_LISTED]]
            buttons = [session_button(s, "sign_up_course") for s in found[:MAX_BUTTONS]]
        if not lines:
            dispatcher.utter_message(
                text=f"{INTRO}\nDer er desværre ingen kommende hold lige nu. Spørg gerne "
                "personalet, hvornår der kommer nye.",
            )
            return [SlotSet("topic", "courses")]
        heading = "Her er de næste hold:" if not note else f"{note}Her er alle de næste hold:"
        dispatcher.utter_message(
            text=f"{INTRO}\n{heading}\n"
            + "\n".join(lines)
            + "\nTryk på et hold for at tilmelde dig.",
            buttons=[*buttons, {"title": "Afmeld et kursus", "payload": "/cancel_enrolment"}],
        )
        return [SlotSet("topic", "courses")]


def _session_info(session_id: Any) -> CourseSession | None:
    try:
        pk = int(session_id)
    except (TypeError, ValueError):
        return None
    with read_db_session() as session:
        course_session = session.get(CourseSession, pk)
        if course_session is not None:
            session.expunge(course_session)
        return course_session


class ValidateCourseSignupForm(CitizenDetailsMixin, ReaskingFormValidationAction):
    opportunistic_slots = ("course_session", "citizen_contact")
    hints = {"course_session": "Vælg et af holdene."}
    start_button = {"title": "Tilmeld dig et kursus", "payload": "/sign_up_course"}

    def name(self) -> str:
        return "validate_course_signup_form"

    def extract_course_session(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        requested = tracker.get_slot("requested_slot")
        if requested not in (None, "course_session"):
            return {}
        chosen = payload_value(text, "course_session")
        if chosen is None and requested == "course_session":
            chosen = pick_offered(text, tracker.get_slot("offered"))
        now = local_now()
        if chosen is not None:
            course_session = _session_info(chosen)
            if course_session is None:
                return {PROBLEM: SessionNotFoundError.default_message}
            if course_session.starts_at <= now:
                return {PROBLEM: "Det hold er allerede begyndt. Vælg venligst et andet hold."}
            return {"course_session": str(course_session.id)}
        wanted = course_filter(text)
        if wanted.empty:
            return {}
        with read_db_session() as session:
            found = sessions_for(session, wanted)
            if len(found) == 1:
                return {"course_session": str(found[0].id), "when_text": text}
        return {"when_text": text}

    def extract_enrol_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return confirm_then_write(
            tracker,
            "enrol_confirmed",
            "Svar venligst ja eller nej: skal jeg tilmelde dig?",
            write=lambda: self._enrol(dispatcher, tracker),
        )

    @staticmethod
    def _enrol(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        try:
            with db_session() as session:
                enrolment = enrol(
                    session,
                    int(tracker.get_slot("course_session")),
                    tracker.get_slot("citizen_name") or "",
                    tracker.get_slot("citizen_contact") or "",
                    max_waitlist=config.settings.max_waitlist_per_contact,
                )
                course_session = enrolment.course_session
                title = course_session.course.title
                when = format_slot(course_session.starts_at)
                where = branch_name(course_session.branch_id)
                reference = enrolment.reference
                place = (
                    waitlist_position(session, enrolment)
                    if enrolment.status == ENROLMENT_WAITLISTED
                    else None
                )
        except (SessionNotFoundError, SessionStartedError) as exc:
            dispatcher.utter_message(text=exc.message)
            return {"course_session": None, "enrol_confirmed": None}
        except (AlreadyEnrolledError, TooManyWaitlistPlacesError) as exc:
            dispatcher.utter_message(text=exc.message)
            return {FINISH: "failed"}
        except (BookingError, ValueError, TypeError) as exc:
            return {PROBLEM: getattr(exc, "message", CourseError.default_message)}
        if place is None:
            text = (
                f"Du er tilmeldt {title} {when} på {where}. Dit tilmeldingsnummer er "
                f"{reference} – skriv det ned, du skal bruge det, hvis du vil afmelde dig."
            )
        else:
            text = (
                f"Holdet {title} {when} på {where} er fuldt, så du står nu på ventelisten som "
                f"nummer {place}. Bliver der en plads ledig, rykker du automatisk op. Dit "
                f"tilmeldingsnummer er {reference}."
            )
        dispatcher.utter_message(
            text=text, buttons=[{"title": "Afmeld igen", "payload": "/cancel_enrolment"}]
        )
        return {FINISH: "done"}

    def corrections(
        self, text: str, intent: str, tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> dict[str, Any] | None:
        if is_payload(text) or pick_offered(text, tracker.get_slot("offered")):
            return None
        if not (is_deny(text, intent) or re.search(r"\b(?:ret|anden|andet|hellere)\b", text, re.I)):
            return None
        changes: dict[str, Any] = {}
        if tracker.get_slot("course_session") and re.search(
            r"hold|kursus|kurset|dag|tid|tidspunkt", text, re.I
        ):
            changes.update(course_session=None, enrol_confirmed=None, when_text=None)
        if tracker.get_slot("citizen_name") and re.search(r"\bnavn", text, re.I):
            changes.update(citizen_name=None, enrol_confirmed=None)
        if tracker.get_slot("citizen_contact") and re.search(
            r"telefon|nummer|mail|kontakt", text, re.I
        ):
            changes.update(citizen_contact=None, enrol_confirmed=None)
        if not changes:
            return None
        dispatcher.utter_message(text="Selvfølgelig, det retter vi.")
        return changes


class ActionAskCourseSession(Action):
    def name(self) -> str:
        return "action_ask_course_session"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        wanted = course_filter(tracker.get_slot("when_text") or "")
        with read_db_session() as session:
            found = sessions_for(session, wanted)
            text = "Hvilket hold vil du tilmelde dig?"
            if not found and not wanted.empty:
                text = "Jeg fandt ingen hold, der passer til det. Her er alle de næste hold:"
                found = sessions_for(session, CourseFilter())
            lines = [session_line(s) for s in found[:MAX_LISTED]]
            buttons = [session_button(s) for s in found[:MAX_LISTED]]
            offered = [s.id for s in found[:MAX_LISTED]]
        if not found:
            dispatcher.utter_message(
                text="Der er desværre ingen kommende hold lige nu.",
                buttons=[{"title": "Stop", "payload": "/stop"}],
            )
            return [SlotSet("offered", None)]
        dispatcher.utter_message(text=text + "\n" + "\n".join(lines), buttons=buttons)
        return [SlotSet("offered", offered)]


class ActionAskEnrolConfirmed(Action):
    def name(self) -> str:
        return "action_ask_enrol_confirmed"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if is_deny(latest_text(tracker), latest_intent(tracker)):
            dispatcher.utter_message(
                text="Hvad vil du gerne rette?",
                buttons=[
                    {"title": "Hold", "payload": "ret hold"},
                    *CHANGE_BUTTONS[3:],
                    {"title": "Ja, tilmeld mig", "payload": "/affirm"},
                ],
            )
            return []
        course_session = _session_info(tracker.get_slot("course_session"))
        if course_session is None:
            what = "(ukendt hold)"
            full = False
        else:
            with read_db_session() as session:
                fresh = session.get(CourseSession, course_session.id)
                what = (
                    f"{fresh.course.title}, {format_slot(fresh.starts_at)} på "
                    f"{branch_name(fresh.branch_id)}"
                )
                full = fresh.seats_left <= 0
        note = "\nHoldet er fuldt, så du kommer på venteliste." if full else ""
        facts = {
            "Kursus": what,
            "Navn": tracker.get_slot("citizen_name") or "",
            "Kontakt": contact_label(tracker.get_slot("citizen_contact")),
        }
        ask_to_confirm(
            dispatcher, facts, "Skal jeg tilmelde dig?", yes="Ja, tilmeld mig", note=note
        )
        return []


class ValidateCancelEnrolmentForm(LookupForm):
    reference_problem = REFERENCE_PROBLEM

    def name(self) -> str:
        return "validate_cancel_enrolment_form"

    def with_both(
        self, reference: str, contact: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        try:
            with db_session() as session:
                result = cancel_enrolment(session, reference, contact)
                course_session = result.cancelled.course_session
                what = (
                    f"{course_session.course.title} {format_slot(course_session.starts_at)} "
                    f"på {branch_name(course_session.branch_id)}"
                )
        except EnrolmentNotFoundError as exc:
            return self.not_found(exc.message, contact, dispatcher, tracker)
        except (EnrolmentAlreadyCancelledError, SessionStartedError) as exc:
            dispatcher.utter_message(text=exc.message)
            return {FINISH: "failed"}
        dispatcher.utter_message(
            text=f"Din tilmelding {reference} til {what} er nu afmeldt. Tak fordi du gav besked "
            "– så kan en anden få pladsen."
        )
        return {FINISH: "done"}
