"""RecordStore against the real databases: concurrent writers of the same ids, SQLite settings."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.common.db import create_engine
from services.logsink.store import SQLITE_WAL_AUTOCHECKPOINT_PAGES, RecordStore, records
from tests.service.logsink_support import sql_rows

NOW_US = 1_800_000_000_000_000


def test_batches_listing_the_same_ids_in_opposite_orders_store_each_once(
    database_url: str,
) -> None:
    # Big enough that the two transactions overlap; upper and lower case sort
    # differently in a linguistic collation than code point by code point, so every
    # writer must pick one order itself, whatever the database's collation.
    ids = [f"{prefix}{i:05d}" for i in range(5000) for prefix in ("a", "B", "é")]
    engine = create_engine(database_url)
    store = RecordStore(engine)
    store.migrate()
    batches = [sql_rows(ids, NOW_US), sql_rows(ids[::-1], NOW_US)]
    start = threading.Barrier(len(batches))

    def insert(rows: list[dict[str, Any]]) -> set[str]:
        start.wait()
        return store.insert_batch("default", rows, None, NOW_US, lambda _: [])

    with ThreadPoolExecutor(len(batches)) as pool:
        first, second = pool.map(insert, batches)
    # Inserted in the order given, the two would deadlock on the unique index and
    # PostgreSQL would abort one of them.
    assert first | second == set(ids)
    assert not first & second
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(records)) == len(ids)
    engine.dispose()


def test_sqlite_connections_sync_every_commit_and_checkpoint_seldom(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'logsink.db'}")
    RecordStore(engine)
    with engine.connect() as conn:
        pragma = conn.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA synchronous").scalar() == 2  # FULL: an ack survives power loss
        assert pragma("PRAGMA wal_autocheckpoint").scalar() == SQLITE_WAL_AUTOCHECKPOINT_PAGES
    engine.dispose()
