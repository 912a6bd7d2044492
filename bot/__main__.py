"""`python -m bot <command>`: the staff command line (see bot/cli.py)."""

from bot.cli import main

raise SystemExit(main())
