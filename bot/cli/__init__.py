"""Staff command line: `python -m bot <command>` (run `python -m bot --help`).

Examples::

    python -m bot db upgrade
    python -m bot seed
    python -m bot knowledge import      # knowledge/*.md into the article store
    python -m bot slots open --branch nord --from 2026-12-01 --to 2026-12-31 \\
        --weekdays tue,thu --start 13:00 --end 17:00 --minutes 30
    python -m bot bookings export --date 2026-12-03 --out dagens-bookinger.csv

One module per group of commands (bot/cli/library.py, staff.py, seed.py, knowledge.py), each
registering its own sub-parsers; they share bot/cli/common.py and never import this module.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import IO

from sqlalchemy.exc import SQLAlchemyError

from bot.cli import knowledge, library, privacy, seed, staff
from bot.cli.common import CommandError, Handler
from bot.core.config import SettingsError, load_settings
from bot.db import session as db
from bot.services.booking import BookingError


def version_text() -> str:
    try:
        version = metadata.version("borgerservice-assistenten")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "unknown"
    return f"borgerservice-assistenten {version} (Python {platform.python_version()})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Borgerservice-assistenten: staff tools"
    )
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL (default: BORGER_DATABASE_URL or var/app.db)"
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    library.add_parsers(commands)
    staff.add_staff_parsers(commands)
    seed.add_seed_parser(commands)
    privacy.add_privacy_parsers(commands)
    knowledge.add_knowledge_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    handler: Handler = args.func
    try:
        # The CLI's one place that reads the environment; --database-url wins over it.
        args.settings = load_settings().with_database(args.database_url)
        db.configure(args.settings)
        return handler(args, out)
    except SettingsError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
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
