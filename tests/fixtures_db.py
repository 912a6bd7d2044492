"""Database fixtures: migrated SQLite files and a real, throw-away PostgreSQL server.

- ``sqlite_url``: a fresh migrated SQLite file per test (copied from one migrated template).
- ``postgres_server``: one PostgreSQL server per test run, started with initdb/pg_ctl in a
  temp dir (through ``runuser -u postgres`` when running as root, since PostgreSQL refuses
  to run as root), listening on 127.0.0.1 only; stopped and deleted at the end.
- ``postgres_url``: one migrated database on that server for the whole run (session scope).
- ``fresh_postgres_url``: a fresh migrated database per test (cloned from a template).
- ``db_url``: parametrised over both engines, fresh per test.
- ``empty_url``: a database with no tables at all, once per engine (migration tests).

Without PostgreSQL binaries the PostgreSQL tests are skipped, except under CI (env CI set),
where that is an error. Figures reported with ``report_figure`` are printed in the terminal
summary whatever the capture mode, and recorded as junit properties.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db.models import Branch, Course, CourseSession, HelpSlot, local_now
from bot.db.session import dispose_all_engines, dispose_engine, session_scope, upgrade_database

_FIGURES: list[str] = []
_db_counter = itertools.count(1)


# --- reporting figures ------------------------------------------------------------------


@pytest.fixture
def report_figure(record_property: Any) -> Any:
    def report(name: str, text: str) -> None:
        record_property(name, text)
        _FIGURES.append(text)

    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.section("database figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


# --- SQLite -----------------------------------------------------------------------------


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_database(_sqlite_url(path))
    dispose_engine(_sqlite_url(path))
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "app.db"
    shutil.copyfile(_sqlite_template, path)
    wal = Path(f"{_sqlite_template}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{path}-wal"))
    url = _sqlite_url(path)
    yield url
    dispose_engine(url)


# --- PostgreSQL -------------------------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _find_pg_bin() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    base_dir: Path
    port: int = 0
    as_user: str | None = None  # run the server binaries as this OS user (when root)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.base_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{tail}"
            )

    def init(self) -> None:
        if self.as_user:
            shutil.chown(self.base_dir, user=self.as_user)
        flags = ["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]
        self._run("initdb", "-D", str(self.data_dir), *flags)

    def start(self) -> None:
        # Durability is pointless for a throw-away server; fsync=off makes it much faster.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        log = str(self.base_dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> Any:
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone() if cursor.description else None
        finally:
            conn.close()

    def create_database(self, name: str, template: str | None = None) -> str:
        suffix = f" TEMPLATE {template}" if template else ""
        # FILE_COPY (PostgreSQL 15+) clones a small template ~5x faster than the default.
        if template and int(self.admin("SHOW server_version_num")[0]) >= 150000:
            suffix += " STRATEGY FILE_COPY"
        self.admin(f"CREATE DATABASE {name}{suffix}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _start_server(bin_dir: Path) -> PostgresServer:
    as_user = "postgres" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="borger-pg-"))
    server = PostgresServer(bin_dir=bin_dir, base_dir=base, as_user=as_user)
    try:
        server.init()
        for attempt in range(3):
            server.port = _free_port()
            try:
                server.start()
                return server
            except RuntimeError:
                if attempt == 2:  # the port may have been grabbed meanwhile; try another
                    raise
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _find_pg_bin()
    if bin_dir is None:
        message = "PostgreSQL binaries (initdb, pg_ctl) not found"
        if _in_ci():
            pytest.fail(f"{message}, and CI is set: the PostgreSQL tests must run in CI")
        pytest.skip(message)
    server = _start_server(bin_dir)
    try:
        server.create_database("borger_template")
        upgrade_database(server.url("borger_template"))
        dispose_engine(server.url("borger_template"))
        yield server
    finally:
        dispose_all_engines()
        try:
            server.stop()
        finally:
            shutil.rmtree(server.base_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """A migrated database shared by the whole test run (tests must clean up after them)."""
    return postgres_server.create_database("borger_session", template="borger_template")


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = f"borger_test_{os.getpid()}_{next(_db_counter)}"
    url = postgres_server.create_database(name, template="borger_template")
    yield url
    dispose_engine(url)
    postgres_server.drop_database(name)


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database, once per engine."""
    fixture = "sqlite_url" if request.param == "sqlite" else "fresh_postgres_url"
    return request.getfixturevalue(fixture)


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'var' / 'empty.db'}"  # the directory does not exist yet
        yield url
        dispose_engine(url)
        return
    server = request.getfixturevalue("postgres_server")
    name = f"borger_empty_{next(_db_counter)}"
    url = server.create_database(name)
    yield url
    dispose_engine(url)
    server.drop_database(name)


# --- data helpers for the DB tests ------------------------------------------------------


def future(days: int = 2, hour: int = 10, minute: int = 0) -> datetime:
    """A local time ``days`` ahead, on a round hour."""
    day = local_now().date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute)


def add_branch(
    url: str, branch_id: str = "hovedbiblioteket", name: str = "Hovedbiblioteket"
) -> str:
    with session_scope(url) as session:
        if session.get(Branch, branch_id) is None:
            session.add(Branch(id=branch_id, name=name, address="Torvegade 12, 4100 Kildeby"))
    return branch_id


def add_slot(
    url: str, starts_at: datetime, branch_id: str = "hovedbiblioteket", minutes: int = 30
) -> int:
    add_branch(url, branch_id)
    with session_scope(url) as session:
        slot = HelpSlot(
            branch_id=branch_id, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes)
        )
        session.add(slot)
        session.flush()
        return slot.id


def add_course_session(
    url: str,
    seats: int,
    starts_at: datetime | None = None,
    course_id: str = "mitid-begyndere",
    branch_id: str = "hovedbiblioteket",
    minutes: int = 120,
) -> int:
    add_branch(url, branch_id)
    starts_at = starts_at or future(days=3)
    with session_scope(url) as session:
        if session.get(Course, course_id) is None:
            session.add(Course(id=course_id, title="MitID for begyndere", topic="mitid"))
            session.flush()
        course_session = CourseSession(
            course_id=course_id,
            branch_id=branch_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            seats=seats,
        )
        session.add(course_session)
        session.flush()
        return course_session.id
