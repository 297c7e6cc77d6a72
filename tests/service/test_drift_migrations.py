"""DriftService's Alembic migrations produce exactly the tables store.py declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.db import create_engine
from services.common.objectstore import LocalObjectStore
from services.drift.store import DriftStore, metadata


def test_migrations_match_the_declared_schema(database_url: str, tmp_path: Path) -> None:
    engine = create_engine(database_url)
    try:
        store = DriftStore(engine, LocalObjectStore(tmp_path / "objects"))
        store.migrate()
        store.migrate()  # a second start-up finds the schema at head
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                diff
                for diff in compare_metadata(context, metadata)
                if not (diff[0] == "remove_table" and not diff[1].name.startswith("drift_"))
            ]
        assert differences == []
    finally:
        engine.dispose()
