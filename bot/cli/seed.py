"""`python -m bot seed`: fill the demo library (bot/services/demo_data.py)."""

from __future__ import annotations

import argparse
from typing import IO, Any

from bot.cli.common import CommandError
from bot.db.models import local_now
from bot.db.session import session_scope
from bot.services.articles import ArticleService
from bot.services.demo_conversations import seed_demo_conversations
from bot.services.demo_data import SEED_DAYS, has_data, seed_demo
from bot.services.knowledge import load_articles
from bot.services.library import load_library


def add_seed_parser(commands: Any) -> None:
    seed = commands.add_parser("seed", help="fill the demo library from config/library.yml")
    mode = seed.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="seed even if data exists")
    mode.add_argument("--if-empty", action="store_true", help="quietly skip if data exists")
    seed.add_argument(
        "--conversations", type=int, default=0, metavar="N",
        help="also N demo conversations over the last 30 days (for the insight page)",
    )
    seed.set_defaults(func=cmd_seed)


def cmd_seed(args: argparse.Namespace, out: IO[str]) -> int:
    library = load_library(args.settings.library_config)
    today = local_now().date()
    with session_scope(args.settings.database_url) as session:
        if has_data(session) and not args.force:
            if args.if_empty:
                print("Database already has data; not seeding.", file=out)
                return 0
            raise CommandError("The database already has data; use --force to seed anyway.")
        counts = seed_demo(session, library, today)
        if args.conversations > 0:
            articles = ArticleService.from_settings(args.settings)
            demo = seed_demo_conversations(
                session, articles.articles() or load_articles(), args.conversations,
                branches=tuple(b.id for b in library.branches),
            )
            print(
                f"Seeded {demo.conversations} demo conversation(s) with {demo.messages} "
                f"message(s) and {demo.tickets} handoff(s).",
                file=out,
            )
    print(
        f"Seeded {counts.branches} branch(es), {counts.slots} IT help slot(s) for the next "
        f"{SEED_DAYS} days, {counts.courses} course(s), {counts.sessions} course session(s) "
        f"with {counts.enrolments} demo enrolment(s).",
        file=out,
    )
    return 0
