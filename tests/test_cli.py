"""The staff command line, run in-process against temporary SQLite databases."""

from __future__ import annotations

import csv
import io
import platform
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db.models import (
    Booking,
    Branch,
    Course,
    CourseSession,
    Enrolment,
    HelpSlot,
    local_now,
)
from bot.db.session import dispose_engine, session_scope
from bot.services.booking import book_slot
from bot.services.courses import enrol
from bot.services.library import load_library
from tests.fixtures_db import add_course_session, add_slot, future


def run(url: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--database-url", url, *args], out=out)
    return code, out.getvalue()


def count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_version_names_the_python(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("borgerservice-assistenten ")
    assert f"(Python {platform.python_version()})" in printed
    assert sys.version_info >= (3, 12)


def test_db_upgrade_creates_directory_and_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'app.db'}"
    assert run(url, "db", "upgrade") == (0, "Database is up to date.\n")
    assert run(url, "db", "upgrade")[0] == 0  # idempotent
    assert count(url, Branch) == 0
    dispose_engine(url)


def test_missing_schema_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert run(url, "bookings", "list", "--date", "2026-12-03")[0] == 2
    assert "db upgrade" in capsys.readouterr().err
    dispose_engine(url)


def test_seed_demo_library(sqlite_url: str, capsys: pytest.CaptureFixture) -> None:
    code, output = run(sqlite_url, "seed")
    assert code == 0 and output.startswith("Seeded 3 branch(es)")
    assert count(sqlite_url, Branch) == 3
    assert count(sqlite_url, Course) == 6
    library = load_library()
    now = local_now()
    with session_scope(sqlite_url) as session:
        slots = session.scalars(select(HelpSlot)).all()
        assert slots and all(now < s.starts_at < now + timedelta(days=15) for s in slots)
        for slot in slots:
            branch = library.branch(slot.branch_id)
            assert branch is not None and slot.starts_at.date() not in library.closed_days
            hours = branch.staffed[slot.starts_at.weekday()]
            assert hours.opens <= slot.starts_at.time() and slot.ends_at.time() <= hours.closes
        sessions = session.scalars(select(CourseSession)).all()
        assert all(s.starts_at > now for s in sessions)
        assert any(s.seats_left == 1 for s in sessions)  # the nearly full one
        for s in sessions:
            enrolled = session.scalar(
                select(func.count(Enrolment.id)).where(
                    Enrolment.session_id == s.id, Enrolment.status == "enrolled"
                )
            )
            assert enrolled == s.seats_taken

    # Existing data: plain seed refuses, --if-empty skips quietly, --force adds nothing twice.
    assert run(sqlite_url, "seed")[0] == 1
    assert "--force" in capsys.readouterr().err
    assert run(sqlite_url, "seed", "--if-empty") == (0, "Database already has data; not seeding.\n")
    slot_count = count(sqlite_url, HelpSlot)
    code, output = run(sqlite_url, "seed", "--force")
    assert code == 0 and "Seeded 0 branch(es), 0 IT help slot(s)" in output
    assert count(sqlite_url, HelpSlot) == slot_count
    assert count(sqlite_url, Enrolment) == 21


def test_branch_course_and_session_add(sqlite_url: str, capsys: pytest.CaptureFixture) -> None:
    assert run(sqlite_url, "branch", "add", "--id", "nord", "--name", "Bibliotek Nord")[0] == 0
    assert run(sqlite_url, "branch", "add", "--id", "nord", "--name", "Igen")[0] == 1
    course = ["course", "add", "--id", "ipad", "--title", "iPad for begyndere"]
    assert run(sqlite_url, *course, "--topic", "tablet_phone")[0] == 0
    session = ["session", "add", "--course", "ipad", "--branch", "nord"]
    timing = ["--start", "2026-12-03 10:00", "--minutes", "120", "--seats", "12"]
    code, output = run(sqlite_url, *session, *timing)
    assert code == 0 and output.startswith("Added session")
    code, output = run(sqlite_url, *session, *timing)
    assert code == 0 and output.startswith("Already existed")
    with session_scope(sqlite_url) as s:
        only = s.scalars(select(CourseSession)).one()
        assert (only.starts_at, only.ends_at, only.seats) == (
            datetime(2026, 12, 3, 10),
            datetime(2026, 12, 3, 12),
            12,
        )
    assert run(sqlite_url, "session", "add", "--course", "nope", "--branch", "nord", *timing)[0]
    assert "Unknown course" in capsys.readouterr().err


def test_slots_open_is_idempotent_and_skips_closed_days(sqlite_url: str) -> None:
    run(sqlite_url, "branch", "add", "--id", "hovedbiblioteket", "--name", "Hovedbiblioteket")
    args = [
        "slots", "open", "--branch", "hovedbiblioteket", "--from", "2026-12-14",
        "--to", "2026-12-31", "--weekdays", "tue,thu", "--start", "10:00", "--end", "12:00",
        "--minutes", "30",
    ]  # fmt: skip
    code, output = run(sqlite_url, *args)
    # Tue/Thu: 15, 17, 22, 29 December (24th and 31st are closed days), 4 slots each.
    assert code == 0 and output.startswith("Opened 16 new slot(s)")
    assert run(sqlite_url, *args)[1].startswith("Opened 0 new slot(s) at hovedbiblioteket; 16")
    with session_scope(sqlite_url) as session:
        starts = sorted(session.scalars(select(HelpSlot.starts_at)))
    assert {s.date() for s in starts} == {date(2026, 12, d) for d in (15, 17, 22, 29)}
    assert starts[:4] == [datetime(2026, 12, 15, 10, m) for m in (0, 30)] + [
        datetime(2026, 12, 15, 11, m) for m in (0, 30)
    ]
    # Widening the range adds only the new ones.
    wider = [a if a != "2026-12-14" else "2026-12-07" for a in args]
    assert run(sqlite_url, *wider)[1].startswith("Opened 8 new slot(s)")


def test_slots_open_rejects_bad_input(sqlite_url: str, capsys: pytest.CaptureFixture) -> None:
    base = ["slots", "open", "--from", "2026-12-01", "--to", "2026-12-02"]
    hours = ["--start", "10:00", "--end", "12:00"]
    assert run(sqlite_url, *base, "--branch", "atlantis", *hours)[0] == 1
    assert "Unknown branch" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(sqlite_url, *base, "--branch", "x", "--weekdays", "funday", *hours)


def _fill_day(url: str) -> tuple[str, str]:
    day = future(3)
    slot = add_slot(url, day.replace(hour=10))
    add_slot(url, day.replace(hour=11))
    course_session = add_course_session(url, seats=1, starts_at=day.replace(hour=13))
    with session_scope(url) as session:
        booking = book_slot(session, slot, "Søren Ærø", "22 33 44 55", "mitid")
        enrol(session, course_session, "Anna Jensen", "anna@example.dk")
        enrol(session, course_session, "Bo Hansen", "30 40 50 60")
        return booking.reference, day.date().isoformat()


def test_bookings_list(sqlite_url: str) -> None:
    reference, day = _fill_day(sqlite_url)
    code, output = run(sqlite_url, "bookings", "list", "--date", day)
    assert code == 0
    lines = output.splitlines()
    assert lines[0].startswith("10:00  hovedbiblioteket") and reference in lines[0]
    assert "Søren Ærø <22345678>" not in output and "Søren Ærø <22334455>" in output
    assert "waitlisted" in lines[2] and lines[-1] == "3 row(s)."
    empty = run(sqlite_url, "bookings", "list", "--date", "2030-01-01")[1]
    assert empty.startswith("No bookings")


def test_bookings_export_csv(sqlite_url: str, tmp_path: Path) -> None:
    reference, day = _fill_day(sqlite_url)
    target = tmp_path / "export.csv"
    code, output = run(sqlite_url, "bookings", "export", "--date", day, "--out", str(target))
    assert code == 0 and output.startswith("Wrote 3 row(s)")
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel shows æøå
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["kind"] for r in rows] == ["help", "course", "course"]
    assert rows[0] == {
        "time": f"{day} 10:00",
        "branch": "hovedbiblioteket",
        "kind": "help",
        "reference": reference,
        "name": "Søren Ærø",
        "contact": "22334455",
        "status": "booked",
        "detail": "MitID",
    }
    assert [(r["name"], r["status"]) for r in rows[1:]] == [
        ("Anna Jensen", "enrolled"),
        ("Bo Hansen", "waitlisted"),
    ]
    code, stdout = run(sqlite_url, "bookings", "export", "--date", day, "--out", "-")
    assert code == 0 and stdout.splitlines()[0] == (
        "time,branch,kind,reference,name,contact,status,detail"
    )
    assert len(stdout.splitlines()) == 4


def _add_past_data(url: str, ended_days_ago: int) -> None:
    starts = local_now().replace(microsecond=0) - timedelta(days=ended_days_ago, hours=1)
    slot = add_slot(url, starts)
    course_session = add_course_session(url, seats=5, starts_at=starts, minutes=30)
    with session_scope(url) as session:
        # Written directly: the services (rightly) refuse bookings in the past.
        session.add(
            Booking(
                reference=f"B-{ended_days_ago}",
                slot_id=slot,
                topic="mitid",
                name="Gammel Booking",
                contact_kind="phone",
                contact="22222222",
                status="booked",
            )
        )
        session.add(
            Enrolment(
                reference=f"E-{ended_days_ago}",
                session_id=course_session,
                name="Gammel Tilmelding",
                contact_kind="phone",
                contact="22222222",
                status="enrolled",
            )
        )


def test_purge(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _add_past_data(sqlite_url, 100)
    _add_past_data(sqlite_url, 40)
    _add_past_data(sqlite_url, 5)
    upcoming = add_slot(sqlite_url, future(2))
    with session_scope(sqlite_url) as session:
        book_slot(session, upcoming, "Ny Booking", "22 33 44 55")

    monkeypatch.delenv("BORGER_RETENTION_DAYS", raising=False)
    code, output = run(sqlite_url, "purge")  # default 90 days
    assert code == 0 and output.startswith("Deleted 1 booking(s) and 1 enrolment(s)")
    monkeypatch.setenv("BORGER_RETENTION_DAYS", "30")
    assert run(sqlite_url, "purge")[1].startswith("Deleted 1 booking(s) and 1 enrolment(s)")
    code, output = run(sqlite_url, "purge", "--older-than-days", "0")
    assert output.startswith("Deleted 1 booking(s) and 1 enrolment(s)")
    assert count(sqlite_url, Booking) == 1  # the upcoming one stays
    assert count(sqlite_url, Enrolment) == 0
    assert count(sqlite_url, HelpSlot) == 4  # slots themselves are not personal data


def test_purge_rejects_bad_retention(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BORGER_RETENTION_DAYS", "ninety")
    assert run(sqlite_url, "purge")[0] == 1
