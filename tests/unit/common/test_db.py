"""Engines and per-service migrations on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from services.common.db import create_engine, migrate, normalize_url
from tests.fixtures.sample_models import items_a

FIXTURES = Path(__file__).parents[2] / "fixtures"


def _versions(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return {
            table: connection.execute(sa.text(f"SELECT version_num FROM {table}")).scalar_one()
            for table in ("alembic_version_a", "alembic_version_b")
        }


def test_plain_postgresql_urls_use_psycopg() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_engine_creates_folder_and_uses_wal(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/nested/dir/llmops.db")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "nested" / "dir" / "llmops.db").exists()


def test_services_migrate_independently_in_one_database(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine, FIXTURES / "migrations_a", "alembic_version_a")
    migrate(engine, FIXTURES / "migrations_b", "alembic_version_b")
    assert _versions(engine) == {"alembic_version_a": "0001", "alembic_version_b": "0001"}
    with engine.begin() as connection:
        connection.execute(items_a.insert().values(tenant="acme", name="x"))
        assert connection.execute(sa.select(items_a.c.tenant)).scalar_one() == "acme"
    engine.dispose()


def test_migrate_is_idempotent(database_url: str) -> None:
    engine = create_engine(database_url)
    for _ in range(2):
        migrate(engine, FIXTURES / "migrations_a", "alembic_version_a")
    assert "items_a" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_concurrent_first_start_migrations_all_succeed(database_url: str) -> None:
    locations = [("migrations_a", "alembic_version_a"), ("migrations_b", "alembic_version_b")] * 3

    def run(location: tuple[str, str]) -> None:
        engine = create_engine(database_url)
        try:
            migrate(engine, FIXTURES / location[0], location[1])
        finally:
            engine.dispose()

    with ThreadPoolExecutor(len(locations)) as pool:
        list(pool.map(run, locations))
    engine = create_engine(database_url)
    assert _versions(engine) == {"alembic_version_a": "0001", "alembic_version_b": "0001"}
    engine.dispose()
