"""Branches and opening hours from config/library.yml."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.services.library import (
    find_branch,
    format_opening_hours,
    format_week,
    is_staffed_open,
    load_library,
    next_staffed_opening,
)

# 2026-12-01 is a Tuesday.
TUESDAY = date(2026, 12, 1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def test_loads_demo_library() -> None:
    library = load_library()
    assert library.name == "Kildeby Bibliotekerne"
    assert [b.id for b in library.branches] == ["hovedbiblioteket", "nord", "strandby"]
    assert date(2026, 12, 24) in library.closed_days
    nord = library.branch("nord")
    assert nord is not None and nord.address.startswith("Nørrevang 3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("strandby", "strandby"),
        ("Strandby Bibliotek", "strandby"),
        ("hvornår åbner I på hovedbiblioteket?", "hovedbiblioteket"),
        ("HOVEDBIBLIOTEKET", "hovedbiblioteket"),
        ("jeg kommer fra Nørre", "nord"),
        ("noerre", "nord"),
        ("norre", "nord"),
        ("Bibliotek Nord, tak", "nord"),
        ("Strandbys bibliotek", "strandby"),
        ("centralbiblioteket", "hovedbiblioteket"),
    ],
)
def test_find_branch(text: str, expected: str) -> None:
    branch = find_branch(text)
    assert branch is not None and branch.id == expected


@pytest.mark.parametrize("text", ["", "hvornår har I åbent", "nordisk mytologi", "strandbyen"])
def test_find_branch_none(text: str) -> None:
    assert find_branch(text) is None


def test_staffed_open() -> None:
    assert is_staffed_open(at(TUESDAY, 10, 0), "hovedbiblioteket")
    assert not is_staffed_open(at(TUESDAY, 18, 0), "hovedbiblioteket")  # closing time excluded
    assert not is_staffed_open(at(TUESDAY, 9, 59), "hovedbiblioteket")
    assert not is_staffed_open(at(TUESDAY, 11, 0), "nord")  # Nord staffed 13-18 on Tuesdays
    assert is_staffed_open(at(TUESDAY, 11, 0))  # some branch is
    assert not is_staffed_open(at(date(2026, 12, 6), 12, 0))  # Sunday: no staff anywhere
    assert not is_staffed_open(at(date(2026, 12, 24), 12, 0))  # closed day (Thursday)


def test_staffed_open_accepts_aware_datetimes() -> None:
    # 09:30 UTC is 10:30 in Copenhagen in winter.
    assert is_staffed_open(datetime(2026, 12, 1, 9, 30, tzinfo=UTC), "hovedbiblioteket")


def test_unknown_branch_is_an_error() -> None:
    with pytest.raises(KeyError):
        is_staffed_open(at(TUESDAY, 12), "atlantis")


def test_next_staffed_opening() -> None:
    open_now = at(TUESDAY, 11)
    assert next_staffed_opening(open_now, "hovedbiblioteket") == open_now
    assert next_staffed_opening(at(TUESDAY, 11), "nord") == at(TUESDAY, 13)
    # Tuesday evening at Nord -> Thursday 10:00.
    assert next_staffed_opening(at(TUESDAY, 19), "nord") == at(date(2026, 12, 3), 10)
    # Saturday evening, any branch -> Monday 10:00 at Hovedbiblioteket.
    assert next_staffed_opening(at(date(2026, 12, 5), 15)) == at(date(2026, 12, 7), 10)
    # Christmas: 24-26 December closed, the 27th is a Sunday -> Monday 28th.
    assert next_staffed_opening(at(date(2026, 12, 23), 19)) == at(date(2026, 12, 28), 10)


def test_next_staffed_opening_keeps_timezone_kind() -> None:
    result = next_staffed_opening(datetime(2026, 12, 1, 19, 0, tzinfo=UTC))
    assert result is not None and result.tzinfo is not None
    assert result.replace(tzinfo=None) == at(date(2026, 12, 2), 10)


def test_format_week_groups_equal_days() -> None:
    hovedbiblioteket = load_library().branch("hovedbiblioteket")
    assert hovedbiblioteket is not None
    assert format_week(hovedbiblioteket.staffed) == (
        "mandag-onsdag 10-18, torsdag 10-19, fredag 10-17, lørdag 10-14"
    )
    assert format_week(hovedbiblioteket.self_service) == "alle dage 8-22"


def test_format_opening_hours_one_branch() -> None:
    text = format_opening_hours(find_branch("nord"), today=date(2026, 12, 1))
    assert text.startswith("Bibliotek Nord (Nørrevang 3): betjent tirsdag 13-18, torsdag 10-15;")
    assert "åbent bibliotek mandag-fredag 7-21, lørdag-søndag 9-17." in text
    assert "24., 25., 26. og 31. december 2026 samt 1. januar 2027" in text


def test_format_opening_hours_all_branches() -> None:
    lines = format_opening_hours(today=date(2027, 2, 1)).splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "Hovedbiblioteket",
        "Bibliotek Nord",
        "Strandby Bibliotek",
    ]  # no closed days ahead: no closing line


def test_cache_reloads_when_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "library.yml"
    config = """
library: {name: Testby Bibliotek, timezone: Europe/Copenhagen}
branches:
  - {id: lille, name: Lille Bibliotek, address: "Vej 1, 9999 By", staffed: {mon: "9:30-12"}}
"""
    path.write_text(config, encoding="utf-8")
    first = load_library(path)
    assert load_library(path) is first  # cached
    path.write_text(config.replace("Testby", "Andeby"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = load_library(path)
    assert second.name == "Andeby Bibliotek"
    branch = second.branch("lille")
    assert branch is not None
    assert (
        format_opening_hours(branch, second) == "Lille Bibliotek (Vej 1): betjent mandag 9.30-12."
    )
