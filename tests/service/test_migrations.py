"""Each service's Alembic migrations produce exactly the tables its store.py declares.

Services share one database, so another service's tables are not differences;
each service's tables carry its name as a prefix. An upgrade keeps the rows written
before it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from services.common.db import alembic_config, create_engine
from services.common.objectstore import LocalObjectStore
from services.cost import store as cost_store
from services.drift import store as drift_store
from services.experiment import store as experiment_store
from services.logsink import store as logsink_store
from tests.service.logsink_support import sql_rows

StoreFactory = Callable[[Engine, Path], Any]

STORES: dict[str, tuple[StoreFactory, sa.MetaData]] = {
    "cost": (lambda engine, _: cost_store.CostStore(engine), cost_store.metadata),
    "drift": (
        lambda engine, tmp: drift_store.DriftStore(engine, LocalObjectStore(tmp / "objects")),
        drift_store.metadata,
    ),
    "experiment": (
        lambda engine, _: experiment_store.ExperimentStore(engine),
        experiment_store.metadata,
    ),
    "logsink": (lambda engine, _: logsink_store.RecordStore(engine), logsink_store.metadata),
}


@pytest.mark.parametrize("service", sorted(STORES))
def test_migrations_match_the_declared_schema(
    service: str, database_url: str, tmp_path: Path
) -> None:
    make_store, metadata = STORES[service]
    engine = create_engine(database_url)
    try:
        store = make_store(engine, tmp_path)
        store.migrate()
        store.migrate()  # idempotent: a second start-up finds the schema at head
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                diff
                for diff in compare_metadata(context, metadata)
                if not (diff[0] == "remove_table" and not diff[1].name.startswith(f"{service}_"))
            ]
        assert differences == []
    finally:
        engine.dispose()


def test_logsink_upgrade_keeps_records_written_at_revision_0001(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        config = alembic_config(
            database_url, logsink_store.MIGRATIONS_DIR, logsink_store.VERSION_TABLE
        )
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
            connection.commit()
        rows = sql_rows(["before-upgrade"], 1_800_000_000_000_000)
        old_columns = {k: v for k, v in rows[0].items() if k != "text_index"}
        with engine.begin() as connection:
            assert "text_index" not in {
                c["name"] for c in sa.inspect(connection).get_columns("logsink_records")
            }
            connection.execute(sa.insert(logsink_store.records).values(old_columns))
        store = logsink_store.RecordStore(engine)
        store.migrate()
        found = store.get("default", "before-upgrade")
        assert found is not None
        row, text = found
        assert row["text_index"] is None
        assert text is None
        assert row["model"] == rows[0]["model"]
    finally:
        engine.dispose()
