"""Engines, sessions and migrations for the app database (SQLite by default, or PostgreSQL).

Use one session per request or action::

    with session_scope() as session:
        booking = book_slot(session, slot_id, name, contact, topic)

SQLite transactions start with ``BEGIN IMMEDIATE``: the write lock is taken up front, so a
transaction that reads and then writes can never lose its snapshot half-way (which under WAL
fails at once with "database is locked", whatever the busy timeout). Writers queue on the
busy timeout instead. Pure readers can ask for ``session_scope(read_only=True)`` to get a
deferred transaction that never blocks writers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.core.config import PROJECT_ROOT, Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "borger_sqlite_begin"

_engines: dict[str, Engine] = {}
_sessionmakers: dict[str, sessionmaker] = {}
_lock = threading.Lock()
# PostgreSQL pool sizes for the engines made from now on; set once by each entry point.
_pool = {"pool_size": 10, "max_overflow": 20}


def configure(settings: Settings) -> None:
    """Take the pool sizes from the settings (the entry point calls this once at start)."""
    _pool.update(pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _ensure_sqlite_dir(url: str) -> None:
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that BEGIN, SAVEPOINT and
        # transactional DDL behave as SQLAlchemy expects (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, **overrides: Any) -> Engine:
    """A new engine with this project's settings (not cached; see :func:`get_engine`)."""
    parsed = make_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(url)
        options["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
        if _sqlite_file(url) is None:
            options["poolclass"] = StaticPool  # in-memory: every session must see one DB
    else:
        options["pool_pre_ping"] = True
        options.update(_pool)
    options.update(overrides)
    if "poolclass" in overrides:
        options.pop("pool_size", None)
        options.pop("max_overflow", None)
    engine = create_engine(url, **options)
    if parsed.get_backend_name() == "sqlite":
        _install_sqlite_events(engine)
    return engine


def get_engine(url: str) -> Engine:
    """The process-wide engine for ``url``, created once per URL."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def get_sessionmaker(url: str) -> sessionmaker:
    engine = get_engine(url)
    with _lock:
        factory = _sessionmakers.get(url)
        if factory is None:
            factory = _sessionmakers[url] = sessionmaker(
                bind=engine, expire_on_commit=False
            )
        return factory


def dispose_engine(url: str) -> None:
    """Close the pooled connections of one URL's engine and forget it (tests, shutdown)."""
    with _lock:
        engine = _engines.pop(url, None)
        _sessionmakers.pop(url, None)
    if engine is not None:
        engine.dispose()


def dispose_all_engines() -> None:
    with _lock:
        urls = list(_engines)
    for url in urls:
        dispose_engine(url)


@contextmanager
def session_scope(url: str, *, read_only: bool = False) -> Iterator[Session]:
    """A session that commits on success, rolls back on error and is always closed.

    ``read_only=True`` promises not to write: on SQLite it opens a deferred transaction so
    that the reader never waits for, or blocks, a writer.
    """
    factory = get_sessionmaker(url)
    session: Session = factory()
    if read_only:
        session.connection(execution_options={_BEGIN_OPTION: "DEFERRED"})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # Passed as an attribute, not a main option: ini interpolation would mangle '%' in
    # passwords, and env.py would otherwise fall back to the settings' URL.
    if url:
        config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (creates the SQLite directory)."""
    from alembic import command

    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade_database(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
