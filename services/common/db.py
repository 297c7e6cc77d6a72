"""SQL engines and per-service schema migrations (SQLite by default, PostgreSQL at scale).

Rules every service's tables follow:

* **Every table has a ``tenant`` column** (use :func:`tenant_column`), and every
  query filters on it, so isolating tenants is a check, never a migration.
* Each service owns its tables and migrates them itself with Alembic from
  ``services/<name>/migrations/`` (``env.py`` + ``versions/``), recording its
  revision in its own version table ``alembic_version_<name>``. Services sharing
  one database therefore migrate independently.
* Migrations run at start-up, possibly by several processes at once (five services,
  or replicas of one). :func:`migrate` serialises them: a PostgreSQL advisory lock
  held for the migration transaction, or an exclusive file lock next to a SQLite
  database.

A service's ``migrations/env.py`` is three lines::

    from services.common.db import run_migrations
    from services.cost.models import metadata
    run_migrations(metadata)

and its start-up calls ``migrate(engine, MIGRATIONS_DIR, "alembic_version_cost")``.
New revisions: ``alembic_config(url, MIGRATIONS_DIR, "alembic_version_cost")`` with
``alembic.command.revision(cfg, message=..., autogenerate=True)``.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine, make_url

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    # Raised unwrapped where a service talks to the driver itself (LogSink's COPY).
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)
"""What a database that cannot take a request now raises: lost or refused connections,
a locked SQLite file, a PostgreSQL deadlock or serialization failure. Every service
answers these with UNAVAILABLE, which clients retry (services.common.interceptors)."""


def describe_database_error(exc: BaseException) -> str:
    """The driver's error class and the first line of its message, for a log line.

    SQLAlchemy's own message adds the SQL statement and its parameters, which may hold
    user data; the driver's first line says what failed ("database is locked",
    "server closed the connection unexpectedly") without them.
    """
    driver_error = getattr(exc, "orig", None) or exc
    lines = str(driver_error).strip().splitlines()
    return f"{type(driver_error).__name__}: {lines[0][:200] if lines else ''}"


# Any constant shared by every llmops process works; this is "llmops" in ASCII.
_PG_MIGRATION_LOCK_KEY = 0x6C6C6D6F7073
_SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """Route plain ``postgresql://`` / ``postgres://`` URLs to the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, **kwargs)
    sa.event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes a writer wait
    # for the lock instead of failing at once when several processes share the file.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def tenant_column() -> sa.Column[str]:
    """The ``tenant`` column every table carries (indexed: every query filters on it)."""
    return sa.Column("tenant", sa.String(64), nullable=False, index=True)


def alembic_config(url: str, script_location: Path | str, version_table: str) -> Config:
    """An Alembic config for one service's migrations folder, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    # ConfigParser interpolation would treat '%' in passwords as syntax.
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    config.set_main_option("version_table", version_table)
    return config


def migrate(engine: Engine, script_location: Path | str, version_table: str) -> None:
    """Upgrade one service's tables to ``head``, safely beside concurrent migrators."""
    url = engine.url.render_as_string(hide_password=False)
    config = alembic_config(url, script_location, version_table)
    with _file_lock(engine), engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Released when the migration transaction commits or rolls back.
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """Exclusive lock on ``<database>.migrate.lock`` for file-backed SQLite databases."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_migrations(target_metadata: sa.MetaData) -> None:
    """The body of every service's Alembic ``env.py`` (online mode only)."""
    config = context.config
    version_table = config.get_main_option("version_table")
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection, target_metadata, version_table)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as own_connection:
        _run(own_connection, target_metadata, version_table)
        own_connection.commit()
    engine.dispose()


def _run(connection: Connection, target_metadata: sa.MetaData, version_table: str | None) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=version_table or "alembic_version",
        # SQLite can only alter tables by copying them; batch mode does that.
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=_only_own_tables,
    )
    with context.begin_transaction():
        context.run_migrations()


def _only_own_tables(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate must not propose dropping tables that other services own."""
    return not (type_ == "table" and reflected and compare_to is None)
