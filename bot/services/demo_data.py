"""The demo library `python -m bot seed` fills in: branches from config/library.yml, IT help
slots in staffed hours for the next two weeks, six courses with sessions and a few demo
enrolments (so that one session is nearly full and the wait-list can be shown).

Service code: the caller's session decides the transaction, as everywhere in bot/services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Branch, Course, local_now
from bot.services.booking import open_slots, slot_times
from bot.services.courses import add_session, enrol
from bot.services.library import Hours, Library

SEED_DAYS = 14
SEED_SLOT_MINUTES = 30
DEMO_SESSION_MINUTES = 120

# (id, title, topic, description)
DEMO_COURSES = (
    (
        "mitid-begyndere",
        "MitID for begyndere",
        "mitid",
        "Kom godt i gang med MitID-appen: oprettelse, log ind og godkendelse.",
    ),
    (
        "digital-post-seniorer",
        "Digital Post for seniorer",
        "digital_post",
        "Læs, besvar og gem din Digitale Post på mit.dk og i appen.",
    ),
    (
        "ipad-begyndere",
        "iPad for begyndere",
        "tablet_phone",
        "Tænd, sluk, apps, opdateringer og de vigtigste indstillinger på din iPad.",
    ),
    (
        "smartphone-begyndere",
        "Smartphone for begyndere",
        "tablet_phone",
        "Brug din Android-telefon eller iPhone trygt: opkald, beskeder, billeder og apps.",
    ),
    (
        "borger-dk-selvbetjening",
        "Selvbetjening på borger.dk",
        "borger_dk",
        "Find og udfyld de mest brugte selvbetjeningsløsninger, fx flytning og pension.",
    ),
    (
        "sikker-paa-nettet",
        "Sikker på nettet",
        "andet",
        "Genkend svindel-sms'er og falske mails, og lav gode adgangskoder.",
    ),
)

# (course index, branch id, days from today, start hour, seats, demo enrolments)
DEMO_SESSIONS = (
    (0, "hovedbiblioteket", 3, 10, 12, 11),  # the nearly full one
    (0, "strandby", 10, 10, 8, 0),
    (1, "hovedbiblioteket", 5, 13, 10, 4),
    (1, "nord", 12, 13, 8, 0),
    (2, "hovedbiblioteket", 7, 10, 10, 2),
    (3, "strandby", 9, 13, 8, 1),
    (4, "nord", 8, 10, 8, 0),
    (5, "hovedbiblioteket", 13, 14, 15, 3),
)

DEMO_NAMES = (
    "Karen Jensen",
    "Bent Nielsen",
    "Inge Hansen",
    "Jørgen Pedersen",
    "Birthe Andersen",
    "Poul Christensen",
    "Hanne Larsen",
    "Erik Sørensen",
    "Lis Rasmussen",
    "Ole Jørgensen",
    "Grethe Petersen",
    "Aase Madsen",
)


def has_data(session: Session) -> bool:
    return any(
        session.scalar(select(func.count()).select_from(model)) for model in (Branch, Course)
    )


def _seed_branches(session: Session, library: Library) -> int:
    created = 0
    for branch in library.branches:
        if session.get(Branch, branch.id) is None:
            session.add(Branch(id=branch.id, name=branch.name, address=branch.address))
            created += 1
    session.flush()
    return created


def _seed_slots(session: Session, library: Library, today: date) -> int:
    created = 0
    last = today + timedelta(days=SEED_DAYS - 1)
    now = local_now()
    for branch in library.branches:
        for weekday, hours in branch.staffed.items():
            times = slot_times(
                today,
                last,
                [weekday],
                hours.opens,
                hours.closes,
                SEED_SLOT_MINUTES,
                library.closed_days,
            )
            created += open_slots(session, branch.id, [t for t in times if t[0] > now])[0]
    return created


def _next_open_day(library: Library, branch_id: str, day: date) -> tuple[date, Hours] | None:
    branch = library.branch(branch_id)
    if branch is None:
        return None
    for offset in range(14):
        candidate = day + timedelta(days=offset)
        hours = branch.staffed.get(candidate.weekday())
        if hours and candidate not in library.closed_days:
            return candidate, hours
    return None


def _seed_courses(session: Session, library: Library, today: date) -> tuple[int, int, int]:
    courses = sessions = enrolments = 0
    for course_id, title, topic, description in DEMO_COURSES:
        if session.get(Course, course_id) is None:
            session.add(Course(id=course_id, title=title, topic=topic, description=description))
            courses += 1
    session.flush()
    for index, branch_id, days, hour, seats, taken in DEMO_SESSIONS:
        found = _next_open_day(library, branch_id, today + timedelta(days=days))
        if found is None or session.get(Branch, branch_id) is None:
            continue
        day, hours = found
        starts = datetime.combine(day, time(max(hour, hours.opens.hour)))
        if starts + timedelta(minutes=DEMO_SESSION_MINUTES) > datetime.combine(day, hours.closes):
            starts = datetime.combine(day, hours.opens)  # keep the course inside staffed hours
        course_session, created = add_session(
            session, DEMO_COURSES[index][0], branch_id, starts, DEMO_SESSION_MINUTES, seats
        )
        if created:
            sessions += 1
            enrolments += _seed_enrolments(session, course_session.id, taken)
    return courses, sessions, enrolments


def _seed_enrolments(session: Session, session_id: int, count: int) -> int:
    for n in range(count):
        # 8-digit numbers in the 20 00 00 xx range: clearly fake, still valid Danish numbers.
        enrol(session, session_id, DEMO_NAMES[n % len(DEMO_NAMES)], f"200000{n:02d}")
    return count



@dataclass(frozen=True)
class SeedCounts:
    branches: int
    slots: int
    courses: int
    sessions: int
    enrolments: int


def seed_demo(session: Session, library: Library, today: date) -> SeedCounts:
    """Add whatever of the demo library is missing; existing rows are kept as they are."""
    branches = _seed_branches(session, library)
    slots = _seed_slots(session, library, today)
    courses, sessions, enrolments = _seed_courses(session, library, today)
    return SeedCounts(branches, slots, courses, sessions, enrolments)
