"""LogSink's Alembic migrations produce exactly the tables store.py declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.db import create_engine
from services.logsink.store import RecordStore, metadata


def test_migrations_match_the_declared_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        store = RecordStore(engine)
        store.migrate()
        store.migrate()  # a second start-up finds the schema at head
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                diff
                for diff in compare_metadata(context, metadata)
                if not (diff[0] == "remove_table" and not diff[1].name.startswith("logsink_"))
            ]
        assert differences == []
    finally:
        engine.dispose()
