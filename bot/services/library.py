"""The library's branches and opening hours, from the library config (settings.library_config;
the demo library in config/library.yml when none is given).

Times in the file and in these functions are local Copenhagen time. Functions accept naive
datetimes (taken as local time) or aware ones (converted to Copenhagen time first).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.core.config import DEFAULT_LIBRARY_CONFIG

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DANISH_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
DANISH_MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
_SEARCH_DAYS = 60  # how far ahead next_staffed_opening looks
_MAX_CLOSED_DAYS_SHOWN = 6


@dataclass(frozen=True)
class Hours:
    """Opening hours on one weekday, [opens, closes)."""

    opens: time
    closes: time

    def contains(self, moment: time) -> bool:
        return self.opens <= moment < self.closes


@dataclass(frozen=True)
class Branch:
    id: str
    name: str
    address: str
    aliases: tuple[str, ...] = ()
    staffed: dict[int, Hours] = field(default_factory=dict)  # weekday (0 = Monday) -> hours
    self_service: dict[int, Hours] = field(default_factory=dict)

    @property
    def street(self) -> str:
        return self.address.split(",")[0].strip()


@dataclass(frozen=True)
class Library:
    name: str
    phone: str
    email: str
    website: str
    timezone: str
    branches: tuple[Branch, ...]
    closed_days: frozenset[date]

    def branch(self, branch_id: str) -> Branch | None:
        return next((b for b in self.branches if b.id == branch_id), None)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# --- loading ----------------------------------------------------------------------------

_cache: dict[Path, tuple[int, Library]] = {}
_cache_lock = threading.Lock()


def _parse_time(text: str) -> time:
    hours, _, minutes = str(text).strip().replace(".", ":").partition(":")
    return time(int(hours), int(minutes or 0))


def _parse_hours(raw: dict[str, str] | None) -> dict[int, Hours]:
    result: dict[int, Hours] = {}
    for key, span in (raw or {}).items():
        opens, _, closes = str(span).partition("-")
        result[WEEKDAY_KEYS.index(key.strip().lower()[:3])] = Hours(
            _parse_time(opens), _parse_time(closes)
        )
    return result


def _parse_branch(raw: dict[str, Any]) -> Branch:
    return Branch(
        id=str(raw["id"]),
        name=str(raw["name"]),
        address=str(raw.get("address", "")),
        aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        staffed=_parse_hours(raw.get("staffed")),
        self_service=_parse_hours(raw.get("self_service")),
    )


def _parse(raw: dict[str, Any]) -> Library:
    info = raw.get("library") or {}
    return Library(
        name=str(info.get("name", "")),
        phone=str(info.get("phone", "")),
        email=str(info.get("email", "")),
        website=str(info.get("website", "")),
        timezone=str(info.get("timezone", "Europe/Copenhagen")),
        branches=tuple(_parse_branch(b) for b in raw.get("branches") or ()),
        closed_days=frozenset(date.fromisoformat(str(d)) for d in raw.get("closed_days") or ()),
    )


def load_library(path: Path | str = DEFAULT_LIBRARY_CONFIG) -> Library:
    """The parsed library config, re-read only when the file changes (path + mtime)."""
    path = Path(path).resolve()
    mtime = path.stat().st_mtime_ns
    with _cache_lock:
        cached = _cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    library = _parse(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    with _cache_lock:
        _cache[path] = (mtime, library)
    return library


# --- finding a branch in free text ------------------------------------------------------


def _fold(text: str, *, digraphs: bool) -> str:
    text = text.casefold()
    if digraphs:
        text = text.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    else:
        text = text.replace("æ", "ae").replace("ø", "o").replace("å", "a").replace("aa", "a")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _variants(text: str) -> set[str]:
    # "nørre" may be typed "norre" or "noerre"; fold both ways and match either.
    return {_fold(text, digraphs=True), _fold(text, digraphs=False)}


def _mentions(haystacks: set[str], needle: str) -> bool:
    # Whole words only; a trailing genitive "s" ("Strandbys bibliotek") is fine.
    pattern = re.compile(rf"(?<!\w){re.escape(needle)}s?(?!\w)")
    return bool(needle) and any(pattern.search(h) for h in haystacks)


def find_branch(text: str, library: Library | None = None) -> Branch | None:
    """The branch named in a free-text message ("på Strandby Bibliotek"), or None.

    The longest matching name or alias wins, so "Bibliotek Nord" beats a shorter alias of
    another branch that happens to occur in the same message.
    """
    if not text:
        return None
    library = library or load_library()
    haystacks = _variants(text)
    best_length, best = 0, None
    for branch in library.branches:
        for alias in (branch.name, branch.id, *branch.aliases):
            for needle in _variants(alias):
                if len(needle) > best_length and _mentions(haystacks, needle):
                    best_length, best = len(needle), branch
    return best


# --- opening hours ----------------------------------------------------------------------


def _local(moment: datetime, library: Library) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(library.tz).replace(tzinfo=None)


def _branches(library: Library, branch_id: str | None) -> tuple[Branch, ...]:
    if branch_id is None:
        return library.branches
    branch = library.branch(branch_id)
    if branch is None:
        raise KeyError(f"unknown branch {branch_id!r}")
    return (branch,)


def is_staffed_open(
    at: datetime, branch_id: str | None = None, library: Library | None = None
) -> bool:
    """Whether staff are at work at ``at`` (in the branch, or in any branch when None).

    Raises KeyError for a branch id that is not in the config."""
    library = library or load_library()
    local = _local(at, library)
    if local.date() in library.closed_days:
        return False
    for branch in _branches(library, branch_id):
        hours = branch.staffed.get(local.weekday())
        if hours and hours.contains(local.time()):
            return True
    return False


def next_staffed_opening(
    after: datetime, branch_id: str | None = None, library: Library | None = None
) -> datetime | None:
    """The first moment at or after ``after`` when staff are at work; ``after`` itself if
    they are now. Same kind of datetime as given (naive local, or aware in library time).
    None when nothing is staffed in the next 60 days."""
    library = library or load_library()
    local = _local(after, library)
    if is_staffed_open(local, branch_id, library):
        return after
    candidates = []
    for offset in range(_SEARCH_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        if day in library.closed_days:
            continue
        for branch in _branches(library, branch_id):
            hours = branch.staffed.get(day.weekday())
            opening = datetime.combine(day, hours.opens) if hours else None
            if opening and opening > local:
                candidates.append(opening)
        if candidates:
            break
    if not candidates:
        return None
    result = min(candidates)
    return result.replace(tzinfo=library.tz) if after.tzinfo else result


def _format_clock(moment: time) -> str:
    # Danish style: "10", "10.30".
    return f"{moment.hour}" if moment.minute == 0 else f"{moment.hour}.{moment.minute:02d}"


def _format_days(first: int, last: int) -> str:
    if first == 0 and last == 6:
        return "alle dage"
    if first == last:
        return DANISH_WEEKDAYS[first]
    return f"{DANISH_WEEKDAYS[first]}-{DANISH_WEEKDAYS[last]}"


def format_week(hours: dict[int, Hours]) -> str:
    """Danish week hours with equal consecutive days grouped: "mandag-onsdag 10-18, ..."."""
    groups: list[tuple[int, int, Hours]] = []
    for day in range(7):
        today = hours.get(day)
        if today is None:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == today:
            groups[-1] = (groups[-1][0], day, today)
        else:
            groups.append((day, day, today))
    return ", ".join(
        f"{_format_days(first, last)} {_format_clock(h.opens)}-{_format_clock(h.closes)}"
        for first, last, h in groups
    )


def format_branch_hours(branch: Branch) -> str:
    parts = []
    if branch.staffed:
        parts.append(f"betjent {format_week(branch.staffed)}")
    if branch.self_service:
        parts.append(f"åbent bibliotek {format_week(branch.self_service)}")
    hours = "; ".join(parts) or "ingen faste åbningstider"
    return f"{branch.name} ({branch.street}): {hours}."


def _format_dates(days: list[date]) -> str:
    """Danish list of dates, grouped by month: "24. og 31. december 2026 samt 1. januar 2027"."""
    groups: list[list[date]] = []
    for day in days:
        if groups and (groups[-1][0].year, groups[-1][0].month) == (day.year, day.month):
            groups[-1].append(day)
        else:
            groups.append([day])
    texts = []
    for group in groups:
        numbers = [f"{d.day}." for d in group]
        listed = numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} og {numbers[-1]}"
        texts.append(f"{listed} {DANISH_MONTHS[group[0].month - 1]} {group[0].year}")
    return " samt ".join(texts)


def format_closed_days(library: Library, today: date | None = None) -> str:
    today = today or datetime.now(library.tz).date()
    upcoming = sorted(d for d in library.closed_days if d >= today)[:_MAX_CLOSED_DAYS_SHOWN]
    if not upcoming:
        return ""
    return f"Alle afdelinger holder lukket {_format_dates(upcoming)}."


def format_opening_hours(
    branch: Branch | None = None,
    library: Library | None = None,
    *,
    today: date | None = None,
) -> str:
    """Danish opening hours of one branch (or all), staffed and self-service, one branch a
    line, followed by upcoming days when the whole library is closed."""
    library = library or load_library()
    branches = (branch,) if branch else library.branches
    lines = [format_branch_hours(b) for b in branches]
    closed = format_closed_days(library, today)
    if closed:
        lines.append(closed)
    return "\n".join(lines)
