"""SQL storage of call records, text segments and the forwarding outbox (SQLAlchemy Core).

Everything here is synchronous and runs in worker threads; the servicer never calls
it on the event loop. Times are integer microseconds since the epoch in every table,
so comparisons, cursors and retention are exact and identical on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import functools
import itertools
import operator
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine, RowMapping

from services.common.db import migrate, tenant_column

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_logsink"

metadata = sa.MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid); PostgreSQL needs BIGINT.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

records = sa.Table(
    "logsink_records",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    # Not tenant_column(): its single-column index would duplicate the leading column of
    # the two composite indexes below and slow every insert for nothing.
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("ts_us", sa.BigInteger, nullable=False),
    sa.Column("ingest_us", sa.BigInteger, nullable=False),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("provider", sa.String(256), nullable=False),
    sa.Column("prompt_template", sa.String(256), nullable=False),
    sa.Column("prompt_hash", sa.String(64), nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_read_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_creation_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("reasoning_output_tokens", sa.BigInteger, nullable=False),
    sa.Column("usage_estimated", sa.Boolean, nullable=False),
    sa.Column("latency_ms", sa.Double, nullable=False),
    sa.Column("time_to_first_token_ms", sa.Double, nullable=False),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("error_type", sa.String(256), nullable=False),
    sa.Column("error_message", sa.String(500), nullable=False),
    sa.Column("user_id", sa.String(256), nullable=False),
    sa.Column("experiment_id", sa.String(256), nullable=False),
    sa.Column("variant", sa.String(256), nullable=False),
    sa.Column("metadata_json", sa.Text, nullable=True),
    sa.Column("batch", sa.Boolean, nullable=False),
    sa.Column("tag", sa.String(256), nullable=False),
    sa.Column("billed_currency", sa.String(3), nullable=True),
    sa.Column("billed_micros", sa.BigInteger, nullable=True),
    sa.Column("segment_id", sa.BigInteger, nullable=True),
    sa.Column("text_offset", sa.BigInteger, nullable=True),
    sa.Column("text_length", sa.Integer, nullable=True),
    # The record's place in its frame; NULL: the frame holds this record alone (rows
    # written before frames of several records).
    sa.Column("text_index", sa.SmallInteger, nullable=True),
    sa.UniqueConstraint("tenant", "request_id", name="uq_logsink_records_tenant_request"),
    sa.Index("ix_logsink_records_tenant_ts", "tenant", "ts_us", "id"),
    sa.Index("ix_logsink_records_segment", "segment_id"),
)

segments = sa.Table(
    "logsink_segments",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    tenant_column(),
    sa.Column("object_key", sa.String(512), nullable=False),
    # The oldest record timestamp in the segment: a purge only looks at segments that
    # may have lost rows.
    sa.Column("min_ts_us", sa.BigInteger, nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
)

outbox = sa.Table(
    "logsink_outbox",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    tenant_column(),
    sa.Column("target", sa.String(16), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_us", sa.BigInteger, nullable=False, index=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("last_error", sa.String(500), nullable=True),
)


@dataclass(frozen=True)
class RecordFilter:
    """Which records a query covers; empty strings and None do not filter."""

    start_us: int | None = None
    end_us: int | None = None
    model: str = ""
    prompt_template: str = ""
    status: int = 0
    user_id: str = ""
    experiment_id: str = ""
    variant: str = ""


@dataclass(frozen=True)
class TenantScope:
    """Which tenants a purge covers: one tenant, or every tenant except some."""

    tenant: str | None = None
    exclude: frozenset[str] = frozenset()

    def conditions(self, column: sa.ColumnElement[str]) -> list[sa.ColumnElement[bool]]:
        """SQL conditions selecting the scope's rows."""
        if self.tenant is not None:
            return [column == self.tenant]
        return [column.not_in(self.exclude)] if self.exclude else []


@dataclass(frozen=True)
class OutboxEntry:
    """A delivery to one target, written in the same transaction as its records."""

    target: str
    payload: bytes


@dataclass(frozen=True)
class PendingDelivery:
    """An outbox entry due for (re)delivery."""

    id: int
    tenant: str
    target: str
    payload: bytes
    attempts: int


@dataclass(frozen=True)
class StoredText:
    """Where one record's texts are: object key, the frame's byte range, its index there."""

    object_key: str
    offset: int
    length: int
    index: int | None


@dataclass(frozen=True)
class GroupStats:
    """Aggregates of one group of records; latency percentiles in ms."""

    model: str
    prompt_template: str
    count: int
    error_count: int
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    reasoning_output_tokens: int


PERCENTILES = (50, 95, 99)
"""The latency percentiles GetStats reports."""


def percentile_ranks(count: int, percent: int) -> tuple[int, int, float]:
    """Where the ``percent`` percentile of ``count`` sorted values lies.

    Linear interpolation between order statistics (Hyndman-Fan type 7, the definition
    of PostgreSQL's ``percentile_cont`` and numpy's default): rank
    ``percent / 100 * (count - 1)``. Returns the 0-based ranks of the two neighbours
    and the weight of the upper one, in exact integer arithmetic so that SQL (which
    selects the neighbours) and Python (which interpolates) agree on every count.
    """
    exact = percent * (count - 1)
    low = exact // 100
    return low, min(low + 1, count - 1), (exact - 100 * low) / 100


def percentile(values: Sequence[float] | Mapping[int, float], count: int, percent: int) -> float:
    """The ``percent`` percentile of ``count`` sorted values (see :func:`percentile_ranks`).

    ``values`` maps rank to value: the whole sorted list, or only the ranks
    :func:`percentile_ranks` names (what GetStats fetches from SQL). 0.0 when empty.
    """
    if count == 0:
        return 0.0
    low, high, weight = percentile_ranks(count, percent)
    return values[low] + (values[high] - values[low]) * weight


def _percentile_neighbours(
    keys: list[sa.Column[Any]], conditions: list[sa.ColumnElement[bool]]
) -> sa.Select[Any]:
    """(group keys..., rank, latency) of just the order statistics the percentiles need.

    The database ranks each group's latencies with window functions and returns at
    most two rows per percentile and group, so memory stays flat however many records
    the window holds (both SQLite and PostgreSQL sort out of core). The ranks are
    those of :func:`percentile_ranks`, in integer arithmetic on both sides.
    """
    partition = keys or None
    ranked = (
        sa.select(
            *keys,
            records.c.latency_ms,
            (
                sa.func.row_number().over(partition_by=partition, order_by=records.c.latency_ms) - 1
            ).label("rank"),
            sa.func.count().over(partition_by=partition).label("n"),
        )
        .where(*conditions)
        .subquery()
    )
    rank, n = ranked.c["rank"], ranked.c["n"]
    wanted = []
    for percent in PERCENTILES:
        low = (percent * (n - 1)) // 100
        wanted += [rank == low, rank == low + 1]
    grouped = [ranked.c[key.name] for key in keys]
    return sa.select(*grouped, rank, ranked.c.latency_ms).where(sa.or_(*wanted))


class RecordStore:
    """The SQL side of LogSink; every method is scoped to a tenant except the workers'."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")
        if dialect == "sqlite":
            sa.event.listen(engine, "connect", _configure_for_ingestion)

    def migrate(self) -> None:
        """Create or upgrade LogSink's tables."""
        migrate(self._engine, MIGRATIONS_DIR, VERSION_TABLE)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def insert_batch(
        self,
        tenant: str,
        rows: list[dict[str, Any]],
        segment_key: str | None,
        now_us: int,
        outbox_for: Callable[[set[str]], Iterable[OutboxEntry]],
    ) -> set[str]:
        """Store rows once each; returns the request_ids stored now (the rest are duplicates).

        One transaction holds the segment row, the records and the outbox entries that
        ``outbox_for(stored_ids)`` builds, so a delivery exists iff its records do.
        Rows whose ``text_length`` is set point into ``segment_key``, which the caller
        has already written to the object store.
        """
        with self._engine.begin() as conn:
            if segment_key is not None:
                segment_id = conn.execute(
                    segments.insert().returning(segments.c.id),
                    {
                        "tenant": tenant,
                        "object_key": segment_key,
                        "min_ts_us": min(r["ts_us"] for r in rows),
                        "created_us": now_us,
                    },
                ).scalar_one()
                for row in rows:
                    if row["text_length"] is not None:
                        row["segment_id"] = segment_id
            if self.dialect == "postgresql":
                stored = _postgres_insert(conn, rows)
            else:
                stored = _sqlite_insert(conn, tenant, rows)
            entries = [
                {
                    "tenant": tenant,
                    "target": entry.target,
                    "payload": entry.payload,
                    "attempts": 0,
                    "next_attempt_us": now_us,
                    "created_us": now_us,
                }
                for entry in outbox_for(stored)
            ]
            if entries:
                conn.execute(outbox.insert(), entries)
        return stored

    def get(self, tenant: str, request_id: str) -> tuple[RowMapping, StoredText | None] | None:
        """One record's row and where its texts are, or None."""
        query = (
            sa.select(records, segments.c.object_key)
            .select_from(records.outerjoin(segments, records.c.segment_id == segments.c.id))
            .where(records.c.tenant == tenant, records.c.request_id == request_id)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return row, _stored_text(row)

    def page(
        self, tenant: str, where: RecordFilter, limit: int, after: tuple[int, int] | None
    ) -> list[tuple[RowMapping, StoredText | None]]:
        """Up to ``limit`` records, newest first, strictly after the (ts_us, id) cursor."""
        query = (
            sa.select(records, segments.c.object_key)
            .select_from(records.outerjoin(segments, records.c.segment_id == segments.c.id))
            .where(*_conditions(tenant, where))
            .order_by(records.c.ts_us.desc(), records.c.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(sa.tuple_(records.c.ts_us, records.c.id) < sa.tuple_(*after))
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [(row, _stored_text(row)) for row in rows]

    def stats(
        self, tenant: str, where: RecordFilter, by_model: bool, by_template: bool
    ) -> list[GroupStats]:
        """Counts, token sums and exact latency percentiles per group, ordered by group."""
        keys = [
            column
            for column, wanted in (
                (records.c.model, by_model),
                (records.c.prompt_template, by_template),
            )
            if wanted
        ]
        sums = sa.select(
            *keys,
            sa.func.count(),
            sa.func.sum(sa.case((records.c.status != 1, 1), else_=0)),
            sa.func.sum(records.c.input_tokens),
            sa.func.sum(records.c.output_tokens),
            sa.func.sum(records.c.cache_read_input_tokens),
            sa.func.sum(records.c.reasoning_output_tokens),
        ).where(*_conditions(tenant, where))
        if keys:
            sums = sums.group_by(*keys)
        with self._engine.connect() as conn:
            totals = conn.execute(sums).all()
            neighbours = conn.execute(_percentile_neighbours(keys, _conditions(tenant, where)))
            by_rank: dict[tuple[Any, ...], dict[int, float]] = defaultdict(dict)
            for row in neighbours:
                by_rank[tuple(row[: len(keys)])][row.rank] = row.latency_ms
        groups = []
        for row in totals:
            group = tuple(row[: len(keys)])
            count, errors, input_tokens, output_tokens, cached, reasoning = row[len(keys) :]
            if count == 0:
                continue
            p50, p95, p99 = (percentile(by_rank[group], count, p) for p in PERCENTILES)
            named = dict(zip([k.name for k in keys], group, strict=True))
            groups.append(
                GroupStats(
                    model=named.get("model", ""),
                    prompt_template=named.get("prompt_template", ""),
                    count=count,
                    error_count=int(errors or 0),
                    latency_p50_ms=p50,
                    latency_p95_ms=p95,
                    latency_p99_ms=p99,
                    input_tokens=int(input_tokens or 0),
                    output_tokens=int(output_tokens or 0),
                    cache_read_input_tokens=int(cached or 0),
                    reasoning_output_tokens=int(reasoning or 0),
                )
            )
        groups.sort(key=lambda g: (g.model, g.prompt_template))
        return groups

    def delete_before(self, scope: TenantScope, before_us: int) -> int:
        """Delete the records of ``scope`` older than ``before_us``."""
        condition = sa.and_(records.c.ts_us < before_us, *scope.conditions(records.c.tenant))
        with self._engine.begin() as conn:
            return conn.execute(records.delete().where(condition)).rowcount

    def empty_segments(self, scope: TenantScope, before_us: int) -> list[tuple[int, str]]:
        """(id, object key) of segments that could hold old records and hold no live one."""
        live = sa.select(records.c.id).where(records.c.segment_id == segments.c.id).exists()
        query = sa.select(segments.c.id, segments.c.object_key).where(
            segments.c.min_ts_us < before_us, ~live, *scope.conditions(segments.c.tenant)
        )
        with self._engine.connect() as conn:
            return [(row.id, row.object_key) for row in conn.execute(query)]

    def delete_segments(self, ids: Sequence[int]) -> None:
        """Forget segment rows whose objects are gone."""
        with self._engine.begin() as conn:
            conn.execute(segments.delete().where(segments.c.id.in_(ids)))

    def due_deliveries(self, now_us: int, limit: int) -> list[PendingDelivery]:
        """Outbox entries whose next attempt is due, oldest first."""
        query = (
            sa.select(outbox)
            .where(outbox.c.next_attempt_us <= now_us)
            .order_by(outbox.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [
                PendingDelivery(r.id, r.tenant, r.target, r.payload, r.attempts)
                for r in conn.execute(query)
            ]

    def pending_deliveries(self) -> int:
        """Outbox entries not yet delivered (the forwarding backlog)."""
        with self._engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one())

    def delivered(self, delivery_id: int) -> None:
        """Remove a delivered outbox entry."""
        with self._engine.begin() as conn:
            conn.execute(outbox.delete().where(outbox.c.id == delivery_id))

    def retry_later(
        self, delivery_id: int, attempts: int, next_attempt_us: int, error: str
    ) -> None:
        """Record a failed attempt and when to try again."""
        with self._engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == delivery_id)
                .values(attempts=attempts, next_attempt_us=next_attempt_us, last_error=error[:500])
            )


_INSERTED_COLUMNS = [column for column in records.columns if column.name != "id"]
_COLUMN_LIST = ", ".join(column.name for column in _INSERTED_COLUMNS)
_row_values = operator.itemgetter(*(column.name for column in _INSERTED_COLUMNS))
_PG_STAGE = "logsink_stage"
# SQLite copies the WAL back into the database file (a checkpoint) once the WAL holds
# this many pages, in the commit that crosses it. The default, 1,000 pages (4 MB), is
# a checkpoint every few batches here, and each one rewrites the leaves of the unique
# index on random request_ids that every batch touches all over. At 10,000 pages (40 MB
# of WAL) a leaf changed by many batches is copied back once: raw inserts 23-29k rows/s
# instead of 19-24k over 400,000 rows (bench/README.md, "logsink: fewer SQLite
# checkpoints").
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000


def _postgres_insert(conn: sa.Connection, rows: list[dict[str, Any]]) -> set[str]:
    """COPY the batch straight into the table; returns the request_ids stored now.

    COPY is the fastest way into PostgreSQL (about 4 us of client CPU per row here,
    against 25 us for binding the same rows as arrays to one INSERT), but it has no
    ``ON CONFLICT``: when a request_id is already stored (a replay, rare), the COPY
    fails with a unique violation, is rolled back to its savepoint, and the batch goes
    the slower way round, :func:`_postgres_insert_staged`. The direct COPY leaves
    PostgreSQL about a fifth less work per record (bench/README.md, "logsink: direct
    COPY and one Zstandard frame per record").

    Rows go in request_id order, code point by code point (``COLLATE "C"`` in SQL), on
    both ways: concurrent batches with overlapping ids then wait for each other in one
    order and cannot deadlock on the unique index.
    """
    driver = conn.connection.driver_connection
    assert driver is not None, "a connection checked out of the pool has a driver connection"
    rows = sorted(rows, key=operator.itemgetter("request_id"))
    cursor = driver.cursor()
    cursor.execute("SAVEPOINT logsink_copy")
    try:
        _copy(cursor, records.name, rows)
    except psycopg.errors.UniqueViolation:
        cursor.execute("ROLLBACK TO SAVEPOINT logsink_copy")
        return _postgres_insert_staged(cursor, rows)
    return {row["request_id"] for row in rows}


def _postgres_insert_staged(cursor: psycopg.Cursor[Any], rows: list[dict[str, Any]]) -> set[str]:
    """COPY into a session-private staging table, then move the rows with
    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING``; returns the new ids.

    The staging table lives as long as the connection and empties at each commit.
    """
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_PG_STAGE} "
        f"(LIKE {records.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    _copy(cursor, _PG_STAGE, rows)
    cursor.execute(
        f"INSERT INTO {records.name} ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM {_PG_STAGE} "
        'ORDER BY request_id COLLATE "C" '
        "ON CONFLICT (tenant, request_id) DO NOTHING RETURNING request_id"
    )
    return {request_id for (request_id,) in cursor.fetchall()}


def _copy(cursor: psycopg.Cursor[Any], table: str, rows: list[dict[str, Any]]) -> None:
    with cursor.copy(f"COPY {table} ({_COLUMN_LIST}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(_row_values(row))


@functools.cache
def _sqlite_insert_sql(rows: int) -> str:
    placeholders = f"({', '.join('?' * len(_INSERTED_COLUMNS))})"
    return (
        f"INSERT INTO {records.name} ({_COLUMN_LIST}) "
        f"VALUES {', '.join([placeholders] * rows)} "
        "ON CONFLICT (tenant, request_id) DO NOTHING"
    )


# Rows per INSERT statement on SQLite: a batch goes in statements of 1,000 rows, then of
# 100, then one for the rest. Few shapes, because the driver keeps every statement it
# prepared (up to 128), and one of 1,000 rows takes about 3 MB; sizes that exceed the
# connection's limit on variables (32,766 by default since SQLite 3.32, 999 before) are
# left out, down to the largest that fits.
_SQLITE_ROWS_PER_STATEMENT = (1000, 100)


def _sqlite_chunks(count: int, max_rows: int) -> list[int]:
    """Rows per statement for ``count`` rows, largest first (see above)."""
    sizes = [size for size in _SQLITE_ROWS_PER_STATEMENT if size <= max_rows] or [max_rows]
    chunks = []
    for size in sizes:
        full, count = divmod(count, size)
        chunks += [size] * full
    if count:
        chunks.append(count)
    return chunks


def _sqlite_insert(conn: sa.Connection, tenant: str, rows: list[dict[str, Any]]) -> set[str]:
    """Insert in statements of many rows; returns the request_ids stored now.

    The driver releases the GIL for each statement it executes, and taking it back
    waits for the thread that prepares the next batch meanwhile. Many rows per
    statement make that a few waits per batch instead of one per row with executemany:
    100 rows per statement took ingestion from 19.1-19.4k records/s to 26.6-26.9k
    (bench/README.md, "logsink: 100 rows per SQLite statement"), and 1,000 cut the
    commit of a 1,000-record batch by another 10-25% ("logsink: 1,000 rows per SQLite
    statement"); inserting alone is as fast either way. The driver reports only how
    many rows were inserted. When that is all of them -- the usual case -- nothing
    else is needed. Otherwise the new rows are the ones with the highest ids: this
    transaction holds SQLite's single write lock, and a new rowid is always larger
    than every existing one.
    """
    driver = cast(sqlite3.Connection, conn.connection.driver_connection)
    variables = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    values = [_row_values(row) for row in rows]
    inserted = start = 0
    for size in _sqlite_chunks(len(values), max(1, variables // len(_INSERTED_COLUMNS))):
        parameters = tuple(itertools.chain.from_iterable(values[start : start + size]))
        inserted += conn.exec_driver_sql(_sqlite_insert_sql(size), parameters).rowcount
        start += size
    ids = [row["request_id"] for row in rows]
    if inserted == len(rows):
        return set(ids)
    if inserted == 0:
        return set()
    newest = (
        sa.select(records.c.request_id)
        .where(records.c.tenant == tenant, records.c.request_id.in_(ids))
        .order_by(records.c.id.desc())
        .limit(inserted)
    )
    return set(conn.execute(newest).scalars())


def _configure_for_ingestion(dbapi_connection: Any, _record: Any) -> None:
    # The shared default (synchronous=NORMAL) survives a process crash but may lose the
    # last commits on power loss. An acknowledgement promises durability, so LogSink
    # pays one WAL fsync per batch (per batch, not per record: cheap).
    dbapi_connection.execute("PRAGMA synchronous=FULL")
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")


def _stored_text(row: RowMapping) -> StoredText | None:
    if row["text_length"] is None or row["object_key"] is None:
        return None
    return StoredText(row["object_key"], row["text_offset"], row["text_length"], row["text_index"])


def _conditions(tenant: str, where: RecordFilter) -> list[sa.ColumnElement[bool]]:
    conditions = [records.c.tenant == tenant]
    if where.start_us is not None:
        conditions.append(records.c.ts_us >= where.start_us)
    if where.end_us is not None:
        conditions.append(records.c.ts_us < where.end_us)
    if where.status:
        conditions.append(records.c.status == where.status)
    for name in ("model", "prompt_template", "user_id", "experiment_id", "variant"):
        value = getattr(where, name)
        if value:
            conditions.append(records.c[name] == value)
    return conditions
