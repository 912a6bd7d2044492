"""`python -m bot staff ...`: staff accounts for the console (registered by bot/cli/__init__.py).

    python -m bot staff add --username anna --name "Anna Holm"        # asks for the password
    python -m bot staff add --role editor --username bo --name "Bo Berg"   # may edit articles
    python -m bot staff role --username anna --role admin                  # also accounts
    printf '%s\\n' "$PASSWORD" | python -m bot staff add --username anna --name "Anna Holm" \\
        --password-stdin
    python -m bot staff list
    python -m bot staff disable --username anna     # also signs the account out everywhere
    python -m bot staff enable --username anna

The password is never an argument: command lines end up in shell history and `ps` output.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import IO, Any

from bot.cli.common import CommandError
from bot.db.models import ROLES
from bot.services.staff_auth import (
    AccountError,
    check_password,
    create_staff,
    list_staff,
    set_disabled,
    set_role,
)

ROLE_HELP = "staff (chats, notes, insight), editor (also articles), admin (also accounts)"


def add_staff_parsers(commands: Any) -> None:
    staff = commands.add_parser("staff", help="staff console accounts").add_subparsers(
        dest="action", required=True
    )
    add = staff.add_parser("add", help="create an account (password from a prompt or stdin)")
    add.add_argument("--username", required=True, help="lower case, e.g. anna")
    add.add_argument("--name", required=True, help="shown to citizens, e.g. 'Anna Holm'")
    add.add_argument("--role", choices=ROLES, default="staff", help=ROLE_HELP)
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(func=cmd_staff_add)
    role = staff.add_parser("role", help="give an account another role")
    role.add_argument("--username", required=True)
    role.add_argument("--role", choices=ROLES, required=True, help=ROLE_HELP)
    role.set_defaults(func=cmd_staff_role)
    staff.add_parser("list", help="list the accounts").set_defaults(func=cmd_staff_list)
    for action, func in (("disable", cmd_staff_disable), ("enable", cmd_staff_enable)):
        parser = staff.add_parser(action, help=f"{action} an account")
        parser.add_argument("--username", required=True)
        parser.set_defaults(func=func)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("No terminal to ask for the password: use --password-stdin.")
    password = getpass.getpass("Password: ")
    try:
        check_password(password)
    except AccountError as exc:
        raise CommandError(str(exc)) from exc
    if getpass.getpass("Repeat the password: ") != password:
        raise CommandError("The passwords differ.")
    return password


def cmd_staff_add(args: argparse.Namespace, out: IO[str]) -> int:
    password = _read_password(args)
    try:
        account = create_staff(
            args.settings.database_url, args.username, args.name, password, role=args.role
        )
    except AccountError as exc:
        raise CommandError(str(exc)) from exc
    role = "" if account.role == "staff" else f" as {account.role}"
    print(f"Added staff account {account.username} ({account.name}){role}.", file=out)
    return 0


def cmd_staff_role(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        account = set_role(args.settings.database_url, args.username, args.role)
    except AccountError as exc:
        raise CommandError(str(exc)) from exc
    print(f"Staff account {account.username} is now {account.role}.", file=out)
    return 0


def cmd_staff_list(args: argparse.Namespace, out: IO[str]) -> int:
    accounts = list_staff(args.settings.database_url)
    if not accounts:
        print("No staff accounts. Add one with: python -m bot staff add", file=out)
        return 0
    for account in accounts:
        last = f"{account.last_login_at:%Y-%m-%d %H:%M} UTC" if account.last_login_at else "never"
        status = "active" if account.active else "disabled"
        print(
            f"{account.username:<20} {account.role:<7} {status:<9} last login {last:<22} "
            f"{account.name}",
            file=out,
        )
    return 0


def _set_disabled(args: argparse.Namespace, out: IO[str], disabled: bool) -> int:
    try:
        account = set_disabled(args.settings.database_url, args.username, disabled)
    except AccountError as exc:
        raise CommandError(str(exc)) from exc
    verb = "Disabled (and signed out)" if disabled else "Enabled"
    print(f"{verb} staff account {account.username}.", file=out)
    return 0


def cmd_staff_disable(args: argparse.Namespace, out: IO[str]) -> int:
    return _set_disabled(args, out, True)


def cmd_staff_enable(args: argparse.Namespace, out: IO[str]) -> int:
    return _set_disabled(args, out, False)
