"""Each service's Alembic migrations produce exactly the tables its store.py declares.

Services share one database, so another service's tables are not differences;
each service's tables carry its name as a prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from services.common.db import create_engine
from services.common.objectstore import LocalObjectStore
from services.cost import store as cost_store
from services.drift import store as drift_store
from services.experiment import store as experiment_store
from services.logsink import store as logsink_store

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
