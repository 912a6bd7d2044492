"""Staff command line: `python -m bot <command>` (run `python -m bot --help`).

Examples::

    python -m bot db upgrade
    python -m bot seed
    python -m bot slots open --branch nord --from 2026-12-01 --to 2026-12-31 \\
        --weekdays tue,thu --start 13:00 --end 17:00 --minutes 30
    python -m bot bookings export --date 2026-12-03 --out dagens-bookinger.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.booking import BookingError, bookings_on_day, open_slots, purge_bookings, slot_times
from bot.cli_staff import add_staff_parsers
from bot.courses import add_session, enrol, enrolments_on_day, purge_enrolments
from bot.db import session_scope, upgrade_database
from bot.library import Hours, Library, load_library
from bot.models import HELP_TOPICS, Branch, Course, local_now

RETENTION_ENV = "BORGER_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 90
SEED_DAYS = 14
SEED_SLOT_MINUTES = 30
DEMO_SESSION_MINUTES = 120

_WEEKDAY_NAMES = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate(("man", "tir", "ons", "tor", "fre", "lør", "søn"))},
}

EXPORT_COLUMNS = ("time", "branch", "kind", "reference", "name", "contact", "status", "detail")


class CommandError(Exception):
    """A problem with the staff's input; printed without a traceback."""


def retention_days() -> int:
    raw = os.environ.get(RETENTION_ENV, "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        return int(raw)
    except ValueError as exc:
        raise CommandError(f"{RETENTION_ENV} must be a whole number, got {raw!r}") from exc


# --- argument types ---------------------------------------------------------------------


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-12-03, got {text!r}") from exc


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text.replace(".", ":"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a time like 10:00, got {text!r}") from exc


def _datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("T", " "))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a local time like '2026-12-03 10:00', got {text!r}"
        ) from exc


def _weekdays(text: str) -> list[int]:
    """Weekday numbers (0 = Monday) from "tue,thu", "mon-fri" or Danish "man,ons"."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in _WEEKDAY_NAMES or (last and last not in _WEEKDAY_NAMES):
            raise argparse.ArgumentTypeError(f"unknown weekday in {text!r}; use mon,tue,...")
        start, stop = _WEEKDAY_NAMES[first], _WEEKDAY_NAMES[last or first]
        days.update(range(start, stop + 1))
    return sorted(days)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


# --- parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Borgerservice-assistenten: staff tools"
    )
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL (default: BORGER_DATABASE_URL or var/app.db)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="action", required=True
    )
    db.add_parser("upgrade", help="apply migrations up to the newest").set_defaults(func=cmd_db)

    branch = commands.add_parser("branch", help="library branches").add_subparsers(
        dest="action", required=True
    )
    add = branch.add_parser("add", help="add a branch")
    add.add_argument("--id", required=True, help="slug, e.g. hovedbiblioteket")
    add.add_argument("--name", required=True)
    add.add_argument("--address", default="")
    add.set_defaults(func=cmd_branch_add)

    _add_slots_parser(commands)
    _add_course_parsers(commands)
    _add_bookings_parser(commands)
    add_staff_parsers(commands)

    seed = commands.add_parser("seed", help="fill the demo library from config/library.yml")
    mode = seed.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="seed even if data exists")
    mode.add_argument("--if-empty", action="store_true", help="quietly skip if data exists")
    seed.set_defaults(func=cmd_seed)

    purge = commands.add_parser("purge", help="delete old bookings and enrolments")
    purge.add_argument(
        "--older-than-days",
        type=int,
        default=None,
        help=f"default: {RETENTION_ENV} or {DEFAULT_RETENTION_DAYS}",
    )
    purge.set_defaults(func=cmd_purge)
    return parser


def _add_slots_parser(commands: Any) -> None:
    slots = commands.add_parser("slots", help="IT help slots").add_subparsers(
        dest="action", required=True
    )
    opener = slots.add_parser("open", help="open IT help slots (existing ones are kept)")
    opener.add_argument("--branch", required=True)
    opener.add_argument("--from", dest="date_from", type=_date, required=True)
    opener.add_argument("--to", dest="date_to", type=_date, required=True)
    opener.add_argument("--weekdays", type=_weekdays, default=list(range(7)))
    opener.add_argument("--start", type=_clock, required=True, help="e.g. 10:00")
    opener.add_argument("--end", type=_clock, required=True, help="e.g. 12:00")
    opener.add_argument("--minutes", type=_positive, default=30)
    opener.set_defaults(func=cmd_slots_open)


def _add_course_parsers(commands: Any) -> None:
    course = commands.add_parser("course", help="IT courses").add_subparsers(
        dest="action", required=True
    )
    add = course.add_parser("add", help="add a course")
    add.add_argument("--id", required=True, help="slug, e.g. mitid-begyndere")
    add.add_argument("--title", required=True)
    add.add_argument("--topic", required=True, choices=sorted(HELP_TOPICS))
    add.add_argument("--description", default="")
    add.set_defaults(func=cmd_course_add)

    session = commands.add_parser("session", help="course sessions").add_subparsers(
        dest="action", required=True
    )
    add = session.add_parser("add", help="add a session of a course")
    add.add_argument("--course", required=True)
    add.add_argument("--branch", required=True)
    add.add_argument("--start", type=_datetime, required=True, help="'2026-12-03 10:00'")
    add.add_argument("--minutes", type=_positive, default=120)
    add.add_argument("--seats", type=_positive, required=True)
    add.set_defaults(func=cmd_session_add)


def _add_bookings_parser(commands: Any) -> None:
    bookings = commands.add_parser("bookings", help="bookings and enrolments").add_subparsers(
        dest="action", required=True
    )
    listing = bookings.add_parser("list", help="bookings and enrolments of one day")
    listing.add_argument("--date", type=_date, required=True)
    listing.add_argument("--branch")
    listing.set_defaults(func=cmd_bookings_list)
    export = bookings.add_parser("export", help="CSV of one day's bookings and enrolments")
    export.add_argument("--date", type=_date, required=True)
    export.add_argument("--branch")
    export.add_argument("--out", required=True, help="file name, or - for standard output")
    export.set_defaults(func=cmd_bookings_export)


# --- commands ---------------------------------------------------------------------------


def cmd_db(args: argparse.Namespace, out: IO[str]) -> int:
    upgrade_database(args.database_url)
    print("Database is up to date.", file=out)
    return 0


def _require_branch(session: Session, branch_id: str) -> Branch:
    branch = session.get(Branch, branch_id)
    if branch is None:
        known = ", ".join(session.scalars(select(Branch.id).order_by(Branch.id))) or "none"
        raise CommandError(f"Unknown branch {branch_id!r} (known: {known}).")
    return branch


def cmd_branch_add(args: argparse.Namespace, out: IO[str]) -> int:
    with session_scope(args.database_url) as session:
        if session.get(Branch, args.id) is not None:
            raise CommandError(f"Branch {args.id!r} already exists.")
        session.add(Branch(id=args.id, name=args.name, address=args.address))
    print(f"Added branch {args.id} ({args.name}).", file=out)
    return 0


def cmd_slots_open(args: argparse.Namespace, out: IO[str]) -> int:
    if args.date_to < args.date_from:
        raise CommandError("--to is before --from.")
    if args.end <= args.start:
        raise CommandError("--end must be after --start.")
    closed = _closed_days()
    times = slot_times(
        args.date_from, args.date_to, args.weekdays, args.start, args.end, args.minutes, closed
    )
    with session_scope(args.database_url) as session:
        _require_branch(session, args.branch)
        created, existing = open_slots(session, args.branch, times)
    print(
        f"Opened {created} new slot(s) at {args.branch}; {existing} already existed.",
        file=out,
    )
    return 0


def _closed_days() -> frozenset[date]:
    try:
        return load_library().closed_days
    except OSError:
        return frozenset()


def cmd_course_add(args: argparse.Namespace, out: IO[str]) -> int:
    with session_scope(args.database_url) as session:
        if session.get(Course, args.id) is not None:
            raise CommandError(f"Course {args.id!r} already exists.")
        session.add(
            Course(id=args.id, title=args.title, topic=args.topic, description=args.description)
        )
    print(f"Added course {args.id} ({args.title}).", file=out)
    return 0


def cmd_session_add(args: argparse.Namespace, out: IO[str]) -> int:
    with session_scope(args.database_url) as session:
        if session.get(Course, args.course) is None:
            raise CommandError(f"Unknown course {args.course!r}.")
        _require_branch(session, args.branch)
        course_session, created = add_session(
            session, args.course, args.branch, args.start, args.minutes, args.seats
        )
        session_id = course_session.id
    verb = "Added" if created else "Already existed:"
    print(
        f"{verb} session {session_id} of {args.course} at {args.branch}, "
        f"{args.start:%Y-%m-%d %H:%M}, {args.seats} seats.",
        file=out,
    )
    return 0


# --- listing and export -----------------------------------------------------------------


@dataclass(frozen=True)
class DayRow:
    time: str
    branch: str
    kind: str  # "help" or "course"
    reference: str
    name: str
    contact: str
    status: str
    detail: str  # help topic or course title


def day_rows(session: Session, day: date, branch_id: str | None = None) -> list[DayRow]:
    rows = [
        DayRow(
            f"{b.slot.starts_at:%Y-%m-%d %H:%M}",
            b.slot.branch_id,
            "help",
            b.reference,
            b.name,
            b.contact,
            b.status,
            HELP_TOPICS.get(b.topic, b.topic),
        )
        for b in bookings_on_day(session, day, branch_id)
    ]
    rows += [
        DayRow(
            f"{e.course_session.starts_at:%Y-%m-%d %H:%M}",
            e.course_session.branch_id,
            "course",
            e.reference,
            e.name,
            e.contact,
            e.status,
            e.course_session.course.title,
        )
        for e in enrolments_on_day(session, day, branch_id)
    ]
    return sorted(rows, key=lambda r: (r.time, r.branch, r.kind, r.detail, r.status, r.name))


def cmd_bookings_list(args: argparse.Namespace, out: IO[str]) -> int:
    with session_scope(args.database_url, read_only=True) as session:
        rows = day_rows(session, args.date, args.branch)
    if not rows:
        print(f"No bookings or enrolments on {args.date}.", file=out)
        return 0
    for r in rows:
        print(
            f"{r.time[11:]}  {r.branch:<18} {r.kind:<6} {r.reference}  {r.status:<10} "
            f"{r.name} <{r.contact}>  {r.detail}",
            file=out,
        )
    print(f"{len(rows)} row(s).", file=out)
    return 0


def _spreadsheet_safe(value: str) -> str:
    # A cell starting with = + - @ is run as a formula by Excel/LibreOffice (CSV injection).
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def write_csv(rows: Sequence[DayRow], stream: IO[str]) -> None:
    writer = csv.writer(stream)
    writer.writerow(EXPORT_COLUMNS)
    for r in rows:
        writer.writerow([_spreadsheet_safe(str(getattr(r, column))) for column in EXPORT_COLUMNS])


def cmd_bookings_export(args: argparse.Namespace, out: IO[str]) -> int:
    with session_scope(args.database_url, read_only=True) as session:
        rows = day_rows(session, args.date, args.branch)
    if args.out == "-":
        write_csv(rows, out)
        return 0
    # utf-8-sig: Excel only shows æøå correctly when the file starts with a BOM.
    with open(args.out, "w", encoding="utf-8-sig", newline="") as stream:
        write_csv(rows, stream)
    print(f"Wrote {len(rows)} row(s) to {args.out}.", file=out)
    return 0


def cmd_purge(args: argparse.Namespace, out: IO[str]) -> int:
    days = args.older_than_days if args.older_than_days is not None else retention_days()
    if days < 0:
        raise CommandError("--older-than-days cannot be negative.")
    cutoff = local_now() - timedelta(days=days)
    with session_scope(args.database_url) as session:
        bookings = purge_bookings(session, cutoff)
        enrolments = purge_enrolments(session, cutoff)
    print(
        f"Deleted {bookings} booking(s) and {enrolments} enrolment(s) that ended before "
        f"{cutoff:%Y-%m-%d %H:%M} ({days} days ago).",
        file=out,
    )
    return 0


# --- seed -------------------------------------------------------------------------------

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


def _has_data(session: Session) -> bool:
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


def cmd_seed(args: argparse.Namespace, out: IO[str]) -> int:
    library = load_library()
    today = local_now().date()
    with session_scope(args.database_url) as session:
        if _has_data(session) and not args.force:
            if args.if_empty:
                print("Database already has data; not seeding.", file=out)
                return 0
            raise CommandError("The database already has data; use --force to seed anyway.")
        branches = _seed_branches(session, library)
        slots = _seed_slots(session, library, today)
        courses, sessions, enrolments = _seed_courses(session, library, today)
    print(
        f"Seeded {branches} branch(es), {slots} IT help slot(s) for the next {SEED_DAYS} days, "
        f"{courses} course(s), {sessions} course session(s) with {enrolments} demo "
        "enrolment(s).",
        file=out,
    )
    return 0


# --- entry point ------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, IO[str]], int]


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args, out)
    except CommandError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except BookingError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        detail = getattr(exc, "orig", None) or exc
        print(f"Database error: {detail}", file=sys.stderr)
        print("Has the database been created? Run: python -m bot db upgrade", file=sys.stderr)
        return 2
