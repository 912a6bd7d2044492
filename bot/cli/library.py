"""Commands for the library's data: schema, branches, IT help slots, courses and their
sessions, the day's bookings (list, CSV export) and the retention purge."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.common import (
    CommandError,
    clock_arg,
    date_arg,
    datetime_arg,
    positive_arg,
    weekdays_arg,
)
from bot.db.models import HELP_TOPICS, Branch, Course, local_now
from bot.db.session import session_scope, upgrade_database
from bot.services.booking import bookings_on_day, open_slots, purge_bookings, slot_times
from bot.services.courses import add_session, enrolments_on_day, purge_enrolments
from bot.services.library import load_library

EXPORT_COLUMNS = ("time", "branch", "kind", "reference", "name", "contact", "status", "detail")


def add_parsers(commands: Any) -> None:
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

    add_slots_parser(commands)
    add_course_parsers(commands)
    add_bookings_parser(commands)


def add_purge_parser(commands: Any) -> None:
    purge = commands.add_parser("purge", help="delete old bookings and enrolments")
    purge.add_argument(
        "--older-than-days",
        type=int,
        default=None,
        help="default: BORGER_RETENTION_DAYS (90)",
    )
    purge.set_defaults(func=cmd_purge)


def add_slots_parser(commands: Any) -> None:
    slots = commands.add_parser("slots", help="IT help slots").add_subparsers(
        dest="action", required=True
    )
    opener = slots.add_parser("open", help="open IT help slots (existing ones are kept)")
    opener.add_argument("--branch", required=True)
    opener.add_argument("--from", dest="date_from", type=date_arg, required=True)
    opener.add_argument("--to", dest="date_to", type=date_arg, required=True)
    opener.add_argument("--weekdays", type=weekdays_arg, default=list(range(7)))
    opener.add_argument("--start", type=clock_arg, required=True, help="e.g. 10:00")
    opener.add_argument("--end", type=clock_arg, required=True, help="e.g. 12:00")
    opener.add_argument("--minutes", type=positive_arg, default=30)
    opener.set_defaults(func=cmd_slots_open)


def add_course_parsers(commands: Any) -> None:
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
    add.add_argument("--start", type=datetime_arg, required=True, help="'2026-12-03 10:00'")
    add.add_argument("--minutes", type=positive_arg, default=120)
    add.add_argument("--seats", type=positive_arg, required=True)
    add.set_defaults(func=cmd_session_add)


def add_bookings_parser(commands: Any) -> None:
    bookings = commands.add_parser("bookings", help="bookings and enrolments").add_subparsers(
        dest="action", required=True
    )
    listing = bookings.add_parser("list", help="bookings and enrolments of one day")
    listing.add_argument("--date", type=date_arg, required=True)
    listing.add_argument("--branch")
    listing.set_defaults(func=cmd_bookings_list)
    export = bookings.add_parser("export", help="CSV of one day's bookings and enrolments")
    export.add_argument("--date", type=date_arg, required=True)
    export.add_argument("--branch")
    export.add_argument("--out", required=True, help="file name, or - for standard output")
    export.set_defaults(func=cmd_bookings_export)


def cmd_db(args: argparse.Namespace, out: IO[str]) -> int:
    upgrade_database(args.settings.database_url)
    print("Database is up to date.", file=out)
    return 0


def _require_branch(session: Session, branch_id: str) -> Branch:
    branch = session.get(Branch, branch_id)
    if branch is None:
        known = ", ".join(session.scalars(select(Branch.id).order_by(Branch.id))) or "none"
        raise CommandError(f"Unknown branch {branch_id!r} (known: {known}).")
    return branch


def cmd_branch_add(args: argparse.Namespace, out: IO[str]) -> int:
    with session_scope(args.settings.database_url) as session:
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
    closed = _closed_days(args.settings.library_config)
    times = slot_times(
        args.date_from, args.date_to, args.weekdays, args.start, args.end, args.minutes, closed
    )
    with session_scope(args.settings.database_url) as session:
        _require_branch(session, args.branch)
        created, existing = open_slots(session, args.branch, times)
    print(
        f"Opened {created} new slot(s) at {args.branch}; {existing} already existed.",
        file=out,
    )
    return 0


def _closed_days(library_config: Path) -> frozenset[date]:
    try:
        return load_library(library_config).closed_days
    except OSError:
        return frozenset()


def cmd_course_add(args: argparse.Namespace, out: IO[str]) -> int:
    with session_scope(args.settings.database_url) as session:
        if session.get(Course, args.id) is not None:
            raise CommandError(f"Course {args.id!r} already exists.")
        session.add(
            Course(id=args.id, title=args.title, topic=args.topic, description=args.description)
        )
    print(f"Added course {args.id} ({args.title}).", file=out)
    return 0


def cmd_session_add(args: argparse.Namespace, out: IO[str]) -> int:
    with session_scope(args.settings.database_url) as session:
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
    with session_scope(args.settings.database_url, read_only=True) as session:
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
    with session_scope(args.settings.database_url, read_only=True) as session:
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
    days = args.older_than_days
    if days is None:
        days = args.settings.retention_days
    if days < 0:
        raise CommandError("--older-than-days cannot be negative.")
    cutoff = local_now() - timedelta(days=days)
    with session_scope(args.settings.database_url) as session:
        bookings = purge_bookings(session, cutoff)
        enrolments = purge_enrolments(session, cutoff)
    print(
        f"Deleted {bookings} booking(s) and {enrolments} enrolment(s) that ended before "
        f"{cutoff:%Y-%m-%d %H:%M} ({days} days ago).",
        file=out,
    )
    return 0
