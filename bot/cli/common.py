"""What the command modules share: the error type printed without a traceback, and the
argument types."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime, time
from typing import IO

Handler = Callable[[argparse.Namespace, IO[str]], int]


class CommandError(Exception):
    """A problem with the staff's input; printed without a traceback."""


WEEKDAY_NAMES = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate(("man", "tir", "ons", "tor", "fre", "lør", "søn"))},
}


def date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-12-03, got {text!r}") from exc


def clock_arg(text: str) -> time:
    try:
        return time.fromisoformat(text.replace(".", ":"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a time like 10:00, got {text!r}") from exc


def datetime_arg(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("T", " "))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a local time like '2026-12-03 10:00', got {text!r}"
        ) from exc


def weekdays_arg(text: str) -> list[int]:
    """Weekday numbers (0 = Monday) from "tue,thu", "mon-fri" or Danish "man,ons"."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAY_NAMES or (last and last not in WEEKDAY_NAMES):
            raise argparse.ArgumentTypeError(f"unknown weekday in {text!r}; use mon,tue,...")
        start, stop = WEEKDAY_NAMES[first], WEEKDAY_NAMES[last or first]
        days.update(range(start, stop + 1))
    return sorted(days)


def positive_arg(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value
