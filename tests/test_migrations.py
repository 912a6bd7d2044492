"""Alembic migrations: from an empty database to head and back, on both engines."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import main as alembic_main
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.core.config import PROJECT_ROOT
from bot.db.models import Base
from bot.db.session import (
    alembic_config,
    current_revision,
    dispose_engine,
    downgrade_database,
    get_engine,
    upgrade_database,
)

TABLES = {
    "branches",
    "help_slots",
    "bookings",
    "courses",
    "course_sessions",
    "enrolments",
    "conversations",
    "chat_messages",
}


def table_names(url: str) -> set[str]:
    with get_engine(url).connect() as conn:
        return set(inspect(conn).get_table_names())


def head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_single_linear_history() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    upgrade_database(empty_url)
    assert table_names(empty_url) >= TABLES
    assert current_revision(empty_url) == head()

    downgrade_database(empty_url, "base")
    assert table_names(empty_url) - {"alembic_version"} == set()
    assert current_revision(empty_url) is None

    upgrade_database(empty_url)
    assert table_names(empty_url) >= TABLES


def test_migration_matches_models(empty_url: str) -> None:
    upgrade_database(empty_url)
    with get_engine(empty_url).connect() as conn, warnings.catch_warnings():
        # Neither dialect can reflect the expression index on lower(contact); alembic says so.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def index_definition(url: str, name: str) -> str:
    # Read from the catalogue: SQLAlchemy 1.4 cannot reflect expression indexes on either engine.
    query = (
        "SELECT sql FROM sqlite_master WHERE name = :name"
        if url.startswith("sqlite")
        else "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
    )
    with get_engine(url).connect() as conn:
        return " ".join(str(conn.execute(text(query), {"name": name}).scalar_one()).split())


def test_partial_and_expression_indexes_exist(empty_url: str) -> None:
    upgrade_database(empty_url)
    slot_index = index_definition(empty_url, "uq_bookings_active_slot").lower()
    assert slot_index.startswith("create unique index")
    assert "(slot_id)" in slot_index and "status" in slot_index and "'booked'" in slot_index
    contact_index = index_definition(empty_url, "uq_enrolments_active_contact").lower()
    assert contact_index.startswith("create unique index")
    assert "lower(" in contact_index and "'cancelled'" in contact_index


def test_alembic_command_line_takes_url_from_x_argument(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    alembic_main(["-c", str(PROJECT_ROOT / "alembic.ini"), "-x", f"url={url}", "upgrade", "head"])
    assert table_names(url) >= TABLES
    dispose_engine(url)
