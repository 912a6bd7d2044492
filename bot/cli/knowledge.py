"""`python -m bot knowledge ...`: the article store and the Markdown files in knowledge/.

    python -m bot knowledge import              # knowledge/*.md into the app database
    python -m bot knowledge export              # the app database back to knowledge/*.md
    python -m bot knowledge export --out /tmp/k # somewhere else, e.g. to diff first

Import adds new files and updates articles nobody has changed in the console; an article
changed in the console is kept (export it, review the diff, commit). `make run` imports.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO, Any

from bot.cli.common import CommandError
from bot.services.articles import ArticleService
from bot.services.knowledge import ArticleError


def add_knowledge_parsers(commands: Any) -> None:
    knowledge = commands.add_parser(
        "knowledge", help="the knowledge articles: import from / export to knowledge/*.md"
    ).add_subparsers(dest="action", required=True)
    imp = knowledge.add_parser("import", help="knowledge/*.md into the app database")
    imp.add_argument("--from", dest="directory", type=Path, help="default: BORGER_KNOWLEDGE_DIR")
    imp.set_defaults(func=cmd_knowledge_import)
    exp = knowledge.add_parser("export", help="the app database into knowledge/*.md")
    exp.add_argument("--out", dest="directory", type=Path, help="default: BORGER_KNOWLEDGE_DIR")
    exp.set_defaults(func=cmd_knowledge_export)


def _service(args: argparse.Namespace) -> ArticleService:
    return ArticleService.from_settings(args.settings)


def cmd_knowledge_import(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        counts = _service(args).import_directory(args.directory)
    except ArticleError as exc:
        raise CommandError(str(exc)) from exc
    print(
        f"Articles: {counts['added']} added, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['kept_console_edit']} kept as changed in "
        "the console (export them to update the files).",
        file=out,
    )
    return 0


def cmd_knowledge_export(args: argparse.Namespace, out: IO[str]) -> int:
    written = _service(args).export_directory(args.directory)
    if not written:
        raise CommandError("The article store is empty: run python -m bot knowledge import.")
    print(f"Wrote {len(written)} article(s) to {written[0].parent.parent}.", file=out)
    return 0
