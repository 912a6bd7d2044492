"""Commands for citizens' data: the retention purge, the CPR scrub of stored data, erasure and
export on request (GDPR art. 17 and 15) and transcripts with contact details masked."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from bot.cli.common import CommandError
from bot.core.config import Settings
from bot.db.session import session_scope
from bot.services.notify import Notifier, send_reminders
from bot.services.privacy import (
    CitizenQuery,
    dumps,
    erase_citizen,
    export_citizen,
    masked_transcripts,
    purge,
    scrub_cpr,
)
from bot.services.staff_auth import AccountError, normalize_username


def settings_for(args: argparse.Namespace) -> Settings:
    """The CLI's settings (bot/cli/__init__.py, --database-url applied) with
    --tracker-database-url on top."""
    settings: Settings = args.settings
    tracker_url = getattr(args, "tracker_database_url", None)
    if tracker_url:
        return settings.model_copy(update={"tracker_database_url": tracker_url})
    return settings


def _tracker_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tracker-database-url",
        help="Rasa's tracker store (default: BORGER_TRACKER_DATABASE_URL or var/tracker.db)",
    )


def add_privacy_parsers(commands: Any) -> None:
    purge_parser = commands.add_parser(
        "purge",
        help="delete personal data past its retention: bookings, enrolments, transcripts "
        "(with feedback), Rasa trackers, handoff tickets",
    )
    purge_parser.add_argument(
        "--older-than-days",
        type=int,
        default=None,
        help="one period for everything (default: BORGER_RETENTION_DAYS for bookings, "
        "BORGER_TRANSCRIPT_RETENTION_DAYS, BORGER_TICKET_RETENTION_DAYS)",
    )
    _tracker_option(purge_parser)
    purge_parser.set_defaults(func=cmd_purge)

    scrub = commands.add_parser(
        "scrub-cpr", help="redact CPR numbers already stored (transcripts, notes, trackers)"
    )
    _tracker_option(scrub)
    scrub.set_defaults(func=cmd_scrub)

    citizen = commands.add_parser(
        "citizen", help="one citizen's data on request (GDPR)"
    ).add_subparsers(dest="action", required=True)
    for name, helptext, func in (
        ("export", "everything stored about a citizen, as JSON (art. 15)", cmd_export),
        ("erase", "delete everything stored about a citizen (art. 17)", cmd_erase),
    ):
        sub = citizen.add_parser(name, help=helptext)
        sub.add_argument("--contact", required=True, help="phone number or e-mail address")
        sub.add_argument("--name", help="only bookings made in this name")
        sub.add_argument("--staff", required=True, help="your staff user name (audit log)")
        _tracker_option(sub)
        if name == "export":
            sub.add_argument("--out", default="-", help="file name, or - for standard output")
        sub.set_defaults(func=func)

    reminders = commands.add_parser(
        "reminders", help="booking reminders"
    ).add_subparsers(dest="action", required=True)
    reminders.add_parser(
        "send", help="remind by e-mail (or SMS) everyone booked for tomorrow (the gateway "
        "does this every hour)"
    ).set_defaults(func=cmd_reminders)

    transcripts = commands.add_parser(
        "transcripts", help="transcripts for analytics"
    ).add_subparsers(dest="action", required=True)
    export = transcripts.add_parser(
        "export", help="JSON lines, contact details and CPR numbers masked, no session ids"
    )
    export.add_argument("--out", default="-", help="file name, or - for standard output")
    export.set_defaults(func=cmd_transcripts_export)


def cmd_purge(args: argparse.Namespace, out: IO[str]) -> int:
    if args.older_than_days is not None and args.older_than_days < 0:
        raise CommandError("--older-than-days cannot be negative.")
    report = purge(settings_for(args), older_than_days=args.older_than_days)
    print(f"Deleted {report.summary()}.", file=out)
    print("Cut-offs: " + ", ".join(f"{k} {v}" for k, v in report.cutoffs.items()), file=out)
    return 0


def cmd_scrub(args: argparse.Namespace, out: IO[str]) -> int:
    counts = scrub_cpr(settings_for(args))
    changed = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    print(f"Redacted CPR numbers in {changed}.", file=out)
    return 0


def _query(args: argparse.Namespace) -> tuple[CitizenQuery, str]:
    try:
        staff = normalize_username(args.staff)
        return CitizenQuery.parse(args.contact, args.name), staff
    except (ValueError, AccountError) as exc:
        raise CommandError(str(exc)) from exc


def _write(text: str, target: str, out: IO[str]) -> None:
    if target == "-":
        print(text, file=out)
        return
    with open(target, "w", encoding="utf-8") as stream:
        stream.write(text + "\n")


def cmd_export(args: argparse.Namespace, out: IO[str]) -> int:
    query, staff = _query(args)
    data = export_citizen(settings_for(args), query, staff)
    _write(dumps(data), args.out, out)
    if args.out != "-":
        counts = ", ".join(f"{len(v)} {k}" for k, v in data.items() if isinstance(v, list))
        print(f"Wrote {counts} to {args.out}.", file=out)
    return 0


def cmd_erase(args: argparse.Namespace, out: IO[str]) -> int:
    query, staff = _query(args)
    counts = erase_citizen(settings_for(args), query, staff)
    print("Erased " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()) + ".",
          file=out)
    return 0


def cmd_transcripts_export(args: argparse.Namespace, out: IO[str]) -> int:
    lines = [json.dumps(t, ensure_ascii=False) for t in masked_transcripts(settings_for(args))]
    _write("\n".join(lines), args.out, out)
    if args.out != "-":
        print(f"Wrote {len(lines)} conversation(s) to {args.out}.", file=out)
    return 0


def cmd_reminders(args: argparse.Namespace, out: IO[str]) -> int:
    settings = settings_for(args)
    with session_scope(settings.database_url) as session:
        sent = send_reminders(session, Notifier(settings))
    print(f"Sent {sent} reminder(s).", file=out)
    return 0
