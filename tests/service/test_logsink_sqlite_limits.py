"""SQLite builds that allow fewer variables per statement still take whole batches."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.common.db import create_engine
from services.logsink.store import RecordStore, records
from tests.service.logsink_support import sql_rows


def test_batch_is_stored_where_sqlite_allows_only_999_variables(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")

    def old_sqlite_limit(dbapi_connection: Any, _record: Any) -> None:
        # The default before SQLite 3.32: fewer than a 100-row statement needs.
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)

    sa.event.listen(engine, "connect", old_sqlite_limit)
    store = RecordStore(engine)
    store.migrate()
    now_us = 1_800_000_000_000_000

    def rows(ids: range) -> list[dict[str, Any]]:
        return sql_rows((f"r{i}" for i in ids), now_us)

    first = store.insert_batch("default", rows(range(40, 45)), None, now_us, lambda _: [])
    stored = store.insert_batch("default", rows(range(250)), None, now_us, lambda _: [])
    assert first == {f"r{i}" for i in range(40, 45)}
    assert stored == {f"r{i}" for i in range(250)} - first
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(records)) == 250
    engine.dispose()
