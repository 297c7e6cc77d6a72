"""SQL storage of CostService: price overrides, the spend ledger, billed amounts,
billing exports and budgets. SQLAlchemy 2 Core; the same statements run on SQLite
and PostgreSQL. Every table has a ``tenant`` column and every query filters on it
(the only exceptions read all tenants on purpose: start-up and refresh loading).

Time is stored as integer epoch microseconds plus the epoch second of the call's
UTC month, so hour/day/month buckets and 15-minute budget buckets are integer
arithmetic that both databases evaluate the same way, and range scans use one index.
Methods are blocking; the engine calls them off the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from services.common.db import migrate, tenant_column
from services.common.errors import AlreadyExists, NotFound
from services.cost.budgets import BUCKET_SECONDS, Budget, SpendPoint, Window, WindowKind

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_cost"
US_PER_SECOND = 1_000_000

metadata = sa.MetaData()
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

price_overrides = sa.Table(
    "cost_price_overrides",
    metadata,
    tenant_column(),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("effective_from", sa.String(10), nullable=False),
    sa.Column("entry", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant", "model", "effective_from", name="pk_cost_price_overrides"),
)

ledger = sa.Table(
    "cost_ledger",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    tenant_column(),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("timestamp_us", sa.BigInteger, nullable=False),
    sa.Column("month_start", sa.BigInteger, nullable=False),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("provider", sa.String(256), nullable=False),
    sa.Column("user_id", sa.String(256), nullable=False),
    sa.Column("prompt_template", sa.String(256), nullable=False),
    sa.Column("experiment_id", sa.String(256), nullable=False),
    sa.Column("variant", sa.String(256), nullable=False),
    sa.Column("tag", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("batch", sa.Boolean, nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_read_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_creation_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("reasoning_output_tokens", sa.BigInteger, nullable=False),
    sa.Column("estimated_micros", sa.BigInteger, nullable=False),
    sa.Column("billed_micros", sa.BigInteger, nullable=True),
    sa.Column("priced", sa.Boolean, nullable=False),
    sa.UniqueConstraint("tenant", "request_id", name="uq_cost_ledger_request"),
    sa.Index("ix_cost_ledger_time", "tenant", "timestamp_us"),
)

billed_amounts = sa.Table(
    "cost_billed_amounts",
    metadata,
    tenant_column(),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("amount_micros", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("tenant", "request_id", name="pk_cost_billed_amounts"),
)

billing_export = sa.Table(
    "cost_billing_export",
    metadata,
    tenant_column(),
    sa.Column("provider", sa.String(256), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("amount_micros", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("tenant", "provider", "day", "model", name="pk_cost_billing_export"),
)

budgets = sa.Table(
    "cost_budgets",
    metadata,
    tenant_column(),
    sa.Column("id", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("dimension", sa.String(32), nullable=True),
    sa.Column("value", sa.String(256), nullable=False),
    sa.Column("window_kind", sa.String(32), nullable=False),
    sa.Column("window_length", sa.Integer, nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("limit_micros", sa.BigInteger, nullable=False),
    sa.Column("thresholds", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant", "id", name="pk_cost_budgets"),
    sa.UniqueConstraint("tenant", "name", name="uq_cost_budgets_name"),
)

# Budget/spend dimension -> ledger column.
DIMENSION_COLUMNS = {
    "model": ledger.c.model,
    "user": ledger.c.user_id,
    "prompt_template": ledger.c.prompt_template,
    "experiment": ledger.c.experiment_id,
    "variant": ledger.c.variant,
    "tag": ledger.c.tag,
}
_EFFECTIVE = sa.func.coalesce(ledger.c.billed_micros, ledger.c.estimated_micros)
_CHUNK = 500


@dataclass(frozen=True)
class LedgerEntry:
    """One call in the ledger (request_id unique per tenant)."""

    request_id: str
    timestamp: datetime
    model: str
    provider: str
    user_id: str
    prompt_template: str
    experiment_id: str
    variant: str
    tag: str
    status: str
    batch: bool
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    reasoning_output_tokens: int
    estimated_micros: int
    billed_micros: int | None
    priced: bool

    @property
    def dimensions(self) -> dict[str, str]:
        return {
            "model": self.model,
            "user": self.user_id,
            "prompt_template": self.prompt_template,
            "experiment": self.experiment_id,
            "variant": self.variant,
            "tag": self.tag,
        }

    @property
    def effective_micros(self) -> int:
        return self.estimated_micros if self.billed_micros is None else self.billed_micros


@dataclass(frozen=True)
class BilledChange:
    """A ledger entry whose effective cost changed because a billed amount arrived."""

    timestamp: datetime
    dimensions: dict[str, str]
    delta_micros: int


@dataclass(frozen=True)
class SpendAggregate:
    bucket_start: int | None
    group_values: tuple[str, ...]
    cost_micros: int
    estimated_micros: int
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int


@dataclass(frozen=True)
class LedgerDay:
    """Ledger totals of one model on one UTC day (reconciliation input)."""

    day: str
    model: str
    calls: int
    estimated_micros: int
    billed_micros: int
    billed_calls: int
    unpriced_calls: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    reasoning_output_tokens: int


@dataclass(frozen=True)
class ExportRow:
    provider: str
    day: str
    model: str
    input_tokens: int
    output_tokens: int
    amount_micros: int


def epoch_us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def month_start(moment: datetime) -> int:
    first = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(first.timestamp())


def from_epoch_us(value: int) -> datetime:
    return datetime.fromtimestamp(value / US_PER_SECOND, UTC)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class CostStore:
    """All SQL of CostService."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def migrate(self) -> None:
        migrate(self._engine, MIGRATIONS_DIR, VERSION_TABLE)

    def _insert(self, table: sa.Table) -> Any:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    # ----------------------------------------------------------------- prices

    def upsert_prices(
        self, tenant: str, entries: Iterable[tuple[str, date, dict[str, Any]]]
    ) -> int:
        rows = [
            {
                "tenant": tenant,
                "model": model,
                "effective_from": day.isoformat(),
                "entry": json.dumps(entry, sort_keys=True),
                "updated_at": datetime.now(UTC),
            }
            for model, day, entry in entries
        ]
        if not rows:
            return 0
        statement = self._insert(price_overrides)
        statement = statement.on_conflict_do_update(
            index_elements=["tenant", "model", "effective_from"],
            set_={"entry": statement.excluded.entry, "updated_at": statement.excluded.updated_at},
        )
        with self._engine.begin() as connection:
            connection.execute(statement, rows)
        return len(rows)

    def price_overrides(self) -> dict[str, list[dict[str, Any]]]:
        """Every tenant's overrides (loaded at start-up and on refresh)."""
        result: dict[str, list[dict[str, Any]]] = {}
        query = sa.select(price_overrides.c.tenant, price_overrides.c.entry).order_by(
            price_overrides.c.tenant, price_overrides.c.model, price_overrides.c.effective_from
        )
        with self._engine.connect() as connection:
            for tenant, entry in connection.execute(query):
                result.setdefault(tenant, []).append(json.loads(entry))
        return result

    # ----------------------------------------------------------------- ledger

    @contextmanager
    def _ledger_write(self, importing: bool) -> Iterator[Connection]:
        """A transaction ordering ledger inserts against billed-amount imports.

        An insert reads the amounts imported for its requests and an import updates the
        entries already inserted for its own, so each must see every commit of the other
        kind, or an amount imported beside an insert is lost (and two imports of the same
        requests must not compute their corrections from the same old value). Imports
        therefore run alone; inserts run beside each other, never beside an import.
        PostgreSQL: an import locks the ledger SHARE ROW EXCLUSIVE (conflicts with itself
        and with inserts), an insert ROW EXCLUSIVE (what its INSERT takes anyway, taken
        before reading the amounts); imports are rare and short. SQLite: both take the
        database's one write lock first, as a transaction that read first could not
        safely upgrade to writing.
        """
        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                mode = "SHARE ROW EXCLUSIVE" if importing else "ROW EXCLUSIVE"
                connection.execute(sa.text(f"LOCK TABLE {ledger.name} IN {mode} MODE"))
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield connection

    def insert_ledger(self, tenant: str, entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
        """Insert entries whose request_id is new, each with the amount imported for it
        (which wins over the entry's own); returns the entries inserted, as stored."""
        # One order for every writer, so two overlapping batches cannot deadlock on
        # each other's uncommitted request ids.
        ordered = sorted(entries, key=lambda entry: entry.request_id)
        inserted: set[str] = set()
        with self._ledger_write(importing=False) as connection:
            billed: dict[str, int] = {}
            for chunk in _chunks([entry.request_id for entry in ordered]):
                query = sa.select(
                    billed_amounts.c.request_id, billed_amounts.c.amount_micros
                ).where(billed_amounts.c.tenant == tenant, billed_amounts.c.request_id.in_(chunk))
                billed.update({row[0]: row[1] for row in connection.execute(query)})
            ready = [
                replace(entry, billed_micros=billed[entry.request_id])
                if entry.request_id in billed
                else entry
                for entry in ordered
            ]
            for chunk in _chunks(ready):
                rows = [
                    {
                        "tenant": tenant,
                        "request_id": entry.request_id,
                        "timestamp_us": epoch_us(entry.timestamp),
                        "month_start": month_start(entry.timestamp),
                        "model": entry.model,
                        "provider": entry.provider,
                        "user_id": entry.user_id,
                        "prompt_template": entry.prompt_template,
                        "experiment_id": entry.experiment_id,
                        "variant": entry.variant,
                        "tag": entry.tag,
                        "status": entry.status,
                        "batch": entry.batch,
                        "input_tokens": entry.input_tokens,
                        "output_tokens": entry.output_tokens,
                        "cache_read_input_tokens": entry.cache_read_input_tokens,
                        "cache_creation_input_tokens": entry.cache_creation_input_tokens,
                        "reasoning_output_tokens": entry.reasoning_output_tokens,
                        "estimated_micros": entry.estimated_micros,
                        "billed_micros": entry.billed_micros,
                        "priced": entry.priced,
                    }
                    for entry in chunk
                ]
                statement = (
                    self._insert(ledger)
                    .on_conflict_do_nothing(index_elements=["tenant", "request_id"])
                    .returning(ledger.c.request_id)
                )
                inserted.update(row[0] for row in connection.execute(statement, rows))
        return [entry for entry in ready if entry.request_id in inserted]

    def import_billed(self, tenant: str, amounts: Sequence[tuple[str, int]]) -> list[BilledChange]:
        """Store per-request billed amounts and apply them to matching ledger entries.

        Returns one change per matched entry (its effective cost delta) so budgets can
        follow; amounts without a ledger entry wait for their record.
        """
        if not amounts:
            return []
        latest = dict(amounts)
        statement = self._insert(billed_amounts)
        statement = statement.on_conflict_do_update(
            index_elements=["tenant", "request_id"],
            set_={"amount_micros": statement.excluded.amount_micros},
        )
        changes: list[BilledChange] = []
        columns = [ledger.c.request_id, ledger.c.timestamp_us, _EFFECTIVE]
        columns += list(DIMENSION_COLUMNS.values())
        with self._ledger_write(importing=True) as connection:
            connection.execute(
                statement,
                [
                    {"tenant": tenant, "request_id": rid, "amount_micros": m}
                    for rid, m in latest.items()
                ],
            )
            for chunk in _chunks(list(latest)):
                query = sa.select(*columns).where(
                    ledger.c.tenant == tenant, ledger.c.request_id.in_(chunk)
                )
                for row in connection.execute(query).all():
                    request_id, timestamp_us, effective, *values = row
                    connection.execute(
                        ledger.update()
                        .where(ledger.c.tenant == tenant, ledger.c.request_id == request_id)
                        .values(billed_micros=latest[request_id])
                    )
                    changes.append(
                        BilledChange(
                            timestamp=from_epoch_us(timestamp_us),
                            dimensions=dict(zip(DIMENSION_COLUMNS, values, strict=True)),
                            delta_micros=latest[request_id] - effective,
                        )
                    )
        return changes

    def query_spend(
        self,
        tenant: str,
        start: datetime | None,
        end: datetime | None,
        group_by: Sequence[str],
        granularity: str | None,
        filters: Sequence[tuple[str, str]],
    ) -> list[SpendAggregate]:
        """Spend grouped by time bucket (hour/day/month UTC, or None) and dimensions."""
        bucket: Any
        if granularity == "hour":
            bucket = ledger.c.timestamp_us // (3600 * US_PER_SECOND) * 3600
        elif granularity == "day":
            bucket = ledger.c.timestamp_us // (86_400 * US_PER_SECOND) * 86_400
        elif granularity == "month":
            bucket = ledger.c.month_start
        else:
            bucket = None
        groups = [DIMENSION_COLUMNS[name] for name in group_by]
        keys = ([bucket.label("bucket")] if bucket is not None else []) + groups
        query = (
            sa.select(
                *keys,
                sa.func.sum(_EFFECTIVE),
                sa.func.sum(
                    sa.case((ledger.c.billed_micros.is_(None), ledger.c.estimated_micros), else_=0)
                ),
                sa.func.count(),
                sa.func.sum(ledger.c.input_tokens),
                sa.func.sum(ledger.c.output_tokens),
                sa.func.sum(ledger.c.cache_read_input_tokens),
            )
            .where(ledger.c.tenant == tenant, *self._time_filter(start, end))
            .where(*(DIMENSION_COLUMNS[name] == value for name, value in filters))
        )
        if keys:
            query = query.group_by(*keys).order_by(*keys)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        offset = 1 if bucket is not None else 0
        return [
            SpendAggregate(
                bucket_start=int(row[0]) if bucket is not None else None,
                group_values=tuple(row[offset : offset + len(groups)]),
                cost_micros=int(row[-6] or 0),
                estimated_micros=int(row[-5] or 0),
                calls=int(row[-4]),
                input_tokens=int(row[-3] or 0),
                output_tokens=int(row[-2] or 0),
                cache_read_input_tokens=int(row[-1] or 0),
            )
            for row in rows
            if row[-4]
        ]

    @staticmethod
    def _time_filter(start: datetime | None, end: datetime | None) -> list[Any]:
        conditions = []
        if start is not None:
            conditions.append(ledger.c.timestamp_us >= epoch_us(start))
        if end is not None:
            conditions.append(ledger.c.timestamp_us < epoch_us(end))
        return conditions

    def spend_points(
        self, since: datetime, tenants: Sequence[str], dimensions: Sequence[str]
    ) -> list[SpendPoint]:
        """Spend of ``tenants`` since ``since`` in budget buckets.

        Grouped only by the ``dimensions`` some budget uses: a ledger with many users
        but only tenant-wide and per-model budgets aggregates to a few rows per bucket.
        """
        if not tenants:
            return []
        bucket = ledger.c.timestamp_us // (BUCKET_SECONDS * US_PER_SECOND) * BUCKET_SECONDS
        names = sorted(set(dimensions))
        columns = [DIMENSION_COLUMNS[name] for name in names]
        query = (
            sa.select(ledger.c.tenant, bucket.label("bucket"), *columns, sa.func.sum(_EFFECTIVE))
            .where(ledger.c.tenant.in_(tenants), ledger.c.timestamp_us >= epoch_us(since))
            .group_by(ledger.c.tenant, bucket, *columns)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            SpendPoint(
                tenant=row[0],
                bucket=int(row[1]),
                dimensions=dict(zip(names, row[2:-1], strict=True)),
                micros=int(row[-1] or 0),
            )
            for row in rows
        ]

    # ------------------------------------------------------------ reconciliation

    def ledger_days(
        self, tenant: str, start: datetime | None, end: datetime | None
    ) -> list[LedgerDay]:
        day = ledger.c.timestamp_us // (86_400 * US_PER_SECOND)
        failed = sa.case((ledger.c.status.in_(("error", "timeout")), 1), else_=0)
        query = (
            sa.select(
                day.label("day"),
                ledger.c.model,
                sa.func.count(),
                sa.func.sum(ledger.c.estimated_micros),
                sa.func.sum(sa.func.coalesce(ledger.c.billed_micros, 0)),
                sa.func.count(ledger.c.billed_micros),
                sa.func.sum(sa.case((ledger.c.priced.is_(False), 1), else_=0)),
                sa.func.sum(failed),
                sa.func.sum(ledger.c.input_tokens),
                sa.func.sum(ledger.c.output_tokens),
                sa.func.sum(ledger.c.cache_read_input_tokens),
                sa.func.sum(ledger.c.reasoning_output_tokens),
            )
            .where(ledger.c.tenant == tenant, *self._time_filter(start, end))
            .group_by(day, ledger.c.model)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            LedgerDay(
                day=datetime.fromtimestamp(int(row[0]) * 86_400, UTC).date().isoformat(),
                model=row[1],
                calls=int(row[2]),
                **{
                    name: int(value or 0)
                    for name, value in zip(
                        (
                            "estimated_micros",
                            "billed_micros",
                            "billed_calls",
                            "unpriced_calls",
                            "failed_calls",
                            "input_tokens",
                            "output_tokens",
                            "cache_read_input_tokens",
                            "reasoning_output_tokens",
                        ),
                        row[3:],
                        strict=True,
                    )
                },
            )
            for row in rows
        ]

    def replace_export(self, tenant: str, rows: Sequence[ExportRow]) -> int:
        """Store export rows; a row for the same provider, day and model replaces the old one."""
        if not rows:
            return 0
        statement = self._insert(billing_export)
        statement = statement.on_conflict_do_update(
            index_elements=["tenant", "provider", "day", "model"],
            set_={
                name: getattr(statement.excluded, name)
                for name in ("input_tokens", "output_tokens", "amount_micros")
            },
        )
        with self._engine.begin() as connection:
            connection.execute(statement, [{"tenant": tenant, **row.__dict__} for row in rows])
        return len(rows)

    def export_rows(
        self, tenant: str, first_day: str | None, end_day: str | None
    ) -> list[ExportRow]:
        query = sa.select(
            billing_export.c.provider,
            billing_export.c.day,
            billing_export.c.model,
            billing_export.c.input_tokens,
            billing_export.c.output_tokens,
            billing_export.c.amount_micros,
        ).where(billing_export.c.tenant == tenant)
        if first_day is not None:
            query = query.where(billing_export.c.day >= first_day)
        if end_day is not None:
            query = query.where(billing_export.c.day < end_day)
        with self._engine.connect() as connection:
            return [ExportRow(*row) for row in connection.execute(query)]

    # ---------------------------------------------------------------- budgets

    def create_budget(self, budget: Budget) -> None:
        row = {
            "tenant": budget.tenant,
            "id": budget.id,
            "name": budget.name,
            "dimension": budget.dimension,
            "value": budget.value,
            "window_kind": budget.window.kind.value,
            "window_length": budget.window.length,
            "time_zone": budget.window.time_zone,
            "limit_micros": budget.limit_micros,
            "thresholds": json.dumps(list(budget.thresholds_percent)),
            "created_at": datetime.now(UTC),
        }
        with self._engine.begin() as connection:
            exists = connection.execute(
                sa.select(budgets.c.id).where(
                    budgets.c.tenant == budget.tenant, budgets.c.name == budget.name
                )
            ).first()
            if exists:
                raise AlreadyExists(f"a budget named {budget.name!r} already exists")
            try:
                connection.execute(budgets.insert().values(**row))
            except sa.exc.IntegrityError:
                raise AlreadyExists(f"a budget named {budget.name!r} already exists") from None

    def delete_budget(self, tenant: str, budget_id: str) -> None:
        with self._engine.begin() as connection:
            deleted = connection.execute(
                budgets.delete().where(budgets.c.tenant == tenant, budgets.c.id == budget_id)
            ).rowcount
        if not deleted:
            raise NotFound(f"budget {budget_id!r} not found")

    def budget_exists(self, tenant: str, budget_id: str) -> bool:
        query = sa.select(budgets.c.id).where(budgets.c.tenant == tenant, budgets.c.id == budget_id)
        with self._engine.connect() as connection:
            return connection.execute(query).first() is not None

    def all_budgets(self) -> list[Budget]:
        """Every tenant's budgets (loaded at start-up and on refresh)."""
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(budgets).order_by(budgets.c.tenant, budgets.c.name))
            return [
                Budget(
                    id=row.id,
                    tenant=row.tenant,
                    name=row.name,
                    dimension=row.dimension,
                    value=row.value,
                    window=Window(WindowKind(row.window_kind), row.window_length, row.time_zone),
                    limit_micros=row.limit_micros,
                    thresholds_percent=tuple(json.loads(row.thresholds)),
                )
                for row in rows
            ]
