"""`python -m bot <command>`: the staff command line (see bot/cli/__init__.py)."""

from bot.cli import main

raise SystemExit(main())
