"""SQL storage of experiments, exposures and outcomes (SQLAlchemy 2 Core).

Every table carries ``tenant`` and every query filters on it. Times are integer
UTC microseconds since the epoch: exact, ordered the same way on SQLite and
PostgreSQL, and free of time-zone conversions. Variants and metric specs are JSON
text, read and written only as a whole with their experiment.

Exposures are keyed by (tenant, experiment, version, user) and inserted with
``ON CONFLICT DO NOTHING``, so the first write wins and replays are harmless;
call outcomes are keyed by (tenant, request_id) the same way, which makes
LogSink's at-least-once forwarding idempotent.

All methods are blocking; the engine calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from services.common.db import migrate, tenant_column
from services.common.errors import AlreadyExists, InvalidArgument, NotFound
from services.experiment.model import Experiment, MetricKind, MetricSpec, Status, Variant
from services.experiment.results import UnitValues

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_experiment"

metadata = sa.MetaData()

experiments = sa.Table(
    "experiment_experiments",
    metadata,
    tenant_column(),
    sa.Column("id", sa.String(128), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("variants", sa.Text, nullable=False),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("control_variant", sa.String(128), nullable=False),
    sa.Column("primary_metric", sa.Text, nullable=True),
    sa.Column("guardrail_metrics", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("start_time_us", sa.BigInteger, nullable=False),
    sa.Column("stop_time_us", sa.BigInteger, nullable=False),
    sa.Column("create_time_us", sa.BigInteger, nullable=False),
    sa.Column("update_time_us", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("tenant", "id"),
    sa.Index("ix_experiment_experiments_created", "tenant", "create_time_us", "id"),
)

exposures = sa.Table(
    "experiment_exposures",
    metadata,
    tenant_column(),
    sa.Column("experiment_id", sa.String(128), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("user_id", sa.String(256), nullable=False),
    sa.Column("variant", sa.String(128), nullable=False),
    sa.Column("first_time_us", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("tenant", "experiment_id", "version", "user_id"),
)

outcomes = sa.Table(
    "experiment_outcomes",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    tenant_column(),
    sa.Column("experiment_id", sa.String(128), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("variant", sa.String(128), nullable=False),
    sa.Column("user_id", sa.String(256), nullable=False),
    sa.Column("metric", sa.String(128), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("time_us", sa.BigInteger, nullable=False),
    sa.Index("ix_experiment_outcomes_metric", "tenant", "experiment_id", "version", "metric"),
)

call_outcomes = sa.Table(
    "experiment_call_outcomes",
    metadata,
    tenant_column(),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("experiment_id", sa.String(128), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("variant", sa.String(128), nullable=False),
    # The user, or "request:<id>" for a call without one: the unit of analysis.
    sa.Column("unit_id", sa.String(256), nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    # Billed cost in USD micros; NULL when the provider reported none.
    sa.Column("cost_micros", sa.BigInteger, nullable=True),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("error", sa.SmallInteger, nullable=False),
    sa.Column("time_us", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("tenant", "request_id"),
    sa.Index("ix_experiment_call_outcomes_experiment", "tenant", "experiment_id", "version"),
)

# Automatic metric name -> column of experiment_call_outcomes.
CALL_METRIC_COLUMNS = {
    "latency_ms": call_outcomes.c.latency_ms,
    "cost_micros": call_outcomes.c.cost_micros,
    "input_tokens": call_outcomes.c.input_tokens,
    "output_tokens": call_outcomes.c.output_tokens,
    "error": call_outcomes.c.error,
}


@dataclass(frozen=True)
class ExposureRow:
    """The first assignment of a user to a variant of one experiment version."""

    tenant: str
    experiment_id: str
    version: int
    user_id: str
    variant: str
    first_time_us: int


@dataclass(frozen=True)
class OutcomeRow:
    """One app-reported metric value."""

    tenant: str
    experiment_id: str
    version: int
    variant: str
    user_id: str
    metric: str
    value: float
    time_us: int


@dataclass(frozen=True)
class CallOutcomeRow:
    """Automatic metrics of one forwarded call record."""

    tenant: str
    request_id: str
    experiment_id: str
    version: int
    variant: str
    unit_id: str
    latency_ms: float
    cost_micros: int | None
    input_tokens: int
    output_tokens: int
    error: int
    time_us: int


class ExperimentStore:
    """Experiments, exposures and outcomes in one SQL database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # SQLite ignores FOR UPDATE and starts transactions deferred, so two threads
        # could read the same row and the later write would drop the earlier change.
        # Updates are rare; serialising them in process costs nothing.
        self._update_lock = threading.Lock()

    def migrate(self) -> None:
        """Create or upgrade this service's tables."""
        migrate(self._engine, MIGRATIONS_DIR, VERSION_TABLE)

    def close(self) -> None:
        """Release pooled connections."""
        self._engine.dispose()

    # Experiments

    def create(self, tenant: str, experiment: Experiment) -> None:
        """Insert a new experiment; ALREADY_EXISTS when the id is taken."""
        try:
            with self._engine.begin() as connection:
                connection.execute(experiments.insert().values(_to_row(tenant, experiment)))
        except IntegrityError:
            raise AlreadyExists(f"experiment {experiment.id!r} already exists") from None

    def get(self, tenant: str, experiment_id: str) -> Experiment:
        """One experiment; NOT_FOUND when this tenant has none by that id."""
        with self._engine.connect() as connection:
            return _get(connection, tenant, experiment_id, for_update=False)

    def update(
        self, tenant: str, experiment_id: str, change: Callable[[Experiment], Experiment]
    ) -> Experiment:
        """Read, change and write one experiment in a single transaction.

        ``change`` maps the current experiment to the new one (and may raise); the row
        is locked meanwhile on PostgreSQL, so concurrent updates apply one after the
        other instead of losing each other's changes.
        """
        with self._update_lock, self._engine.begin() as connection:
            current = _get(connection, tenant, experiment_id, for_update=True)
            updated = change(current)
            connection.execute(
                experiments.update()
                .where(experiments.c.tenant == tenant, experiments.c.id == experiment_id)
                .values(_to_row(tenant, updated))
            )
            return updated

    def list_page(
        self, tenant: str, status: Status, page_size: int, page_token: str
    ) -> tuple[list[Experiment], str]:
        """A page of experiments, newest first, and the token of the next page."""
        query = sa.select(experiments).where(experiments.c.tenant == tenant)
        if status is not Status.UNSPECIFIED:
            query = query.where(experiments.c.status == int(status))
        if page_token:
            created, last_id = _decode_token(page_token)
            query = query.where(
                sa.or_(
                    experiments.c.create_time_us < created,
                    sa.and_(experiments.c.create_time_us == created, experiments.c.id < last_id),
                )
            )
        query = query.order_by(experiments.c.create_time_us.desc(), experiments.c.id.desc())
        with self._engine.connect() as connection:
            rows = connection.execute(query.limit(page_size + 1)).mappings().all()
        page = [_from_row(row) for row in rows[:page_size]]
        next_token = ""
        if len(rows) > page_size:
            last = page[-1]
            next_token = _encode_token(last.create_time_us, last.id)
        return page, next_token

    # Exposures

    def record_exposures(self, rows: Sequence[ExposureRow]) -> None:
        """Insert first assignments; a user already exposed keeps the first row."""
        if not rows:
            return
        with self._engine.begin() as connection:
            connection.execute(
                _insert_ignoring_duplicates(connection, exposures), [asdict(r) for r in rows]
            )

    def exposure_counts(self, tenant: str, experiment_id: str, version: int) -> dict[str, int]:
        """Users exposed per variant in one experiment version."""
        query = (
            sa.select(exposures.c.variant, sa.func.count())
            .where(
                exposures.c.tenant == tenant,
                exposures.c.experiment_id == experiment_id,
                exposures.c.version == version,
            )
            .group_by(exposures.c.variant)
        )
        with self._engine.connect() as connection:
            return {variant: int(count) for variant, count in connection.execute(query)}

    # Outcomes

    def record_outcomes(self, rows: Sequence[OutcomeRow]) -> None:
        """Insert app-reported outcomes (every report counts; they are not deduplicated)."""
        if not rows:
            return
        with self._engine.begin() as connection:
            connection.execute(outcomes.insert(), [asdict(r) for r in rows])

    def record_call_outcomes(self, rows: Sequence[CallOutcomeRow]) -> int:
        """Insert call metrics, skipping request ids already stored; returns rows inserted."""
        if not rows:
            return 0
        with self._engine.begin() as connection:
            statement = _insert_ignoring_duplicates(connection, call_outcomes).returning(
                call_outcomes.c.request_id
            )
            inserted = connection.execute(statement, [asdict(r) for r in rows]).all()
        return len(inserted)

    def unit_values(
        self, tenant: str, experiment_id: str, version: int, metric: str
    ) -> dict[str, UnitValues]:
        """Per variant: each unit's mean value of ``metric``, ordered by first appearance.

        Randomisation is by user, so a user's repeated events are averaged into one
        observation; treating them as independent would understate the variance.
        """
        if metric in CALL_METRIC_COLUMNS:
            column = CALL_METRIC_COLUMNS[metric]
            table, unit, time = call_outcomes, call_outcomes.c.unit_id, call_outcomes.c.time_us
            conditions: list[Any] = [column.is_not(None)]
        else:
            column = outcomes.c.value
            table, unit, time = outcomes, outcomes.c.user_id, outcomes.c.time_us
            conditions = [outcomes.c.metric == metric]
        first_seen = sa.func.min(time)
        query = (
            sa.select(table.c.variant, sa.func.avg(column), first_seen)
            .where(
                table.c.tenant == tenant,
                table.c.experiment_id == experiment_id,
                table.c.version == version,
                *conditions,
            )
            .group_by(table.c.variant, unit)
            .order_by(first_seen)
        )
        values: dict[str, list[float]] = defaultdict(list)
        times: dict[str, list[int]] = defaultdict(list)
        with self._engine.connect() as connection:
            for variant, value, seen in connection.execute(query):
                values[variant].append(float(value))
                times[variant].append(int(seen))
        return {
            variant: UnitValues(np.asarray(values[variant]), np.asarray(times[variant]))
            for variant in values
        }


def _insert_ignoring_duplicates(connection: Connection, table: sa.Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"unsupported database {connection.dialect.name}")


def _get(connection: Connection, tenant: str, experiment_id: str, for_update: bool) -> Experiment:
    query = sa.select(experiments).where(
        experiments.c.tenant == tenant, experiments.c.id == experiment_id
    )
    if for_update:
        query = query.with_for_update()
    row = connection.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"experiment {experiment_id!r} not found")
    return _from_row(row)


def _to_row(tenant: str, e: Experiment) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "id": e.id,
        "description": e.description,
        "variants": json.dumps([asdict(v) for v in e.variants]),
        "status": int(e.status),
        "control_variant": e.control_variant,
        "primary_metric": json.dumps(_metric_json(e.primary_metric)) if e.primary_metric else None,
        "guardrail_metrics": json.dumps([_metric_json(m) for m in e.guardrail_metrics]),
        "version": e.version,
        "start_time_us": e.start_time_us,
        "stop_time_us": e.stop_time_us,
        "create_time_us": e.create_time_us,
        "update_time_us": e.update_time_us,
    }


def _metric_json(spec: MetricSpec) -> dict[str, Any]:
    return {"name": spec.name, "kind": int(spec.kind), "higher_is_better": spec.higher_is_better}


def _metric(document: dict[str, Any]) -> MetricSpec:
    return MetricSpec(document["name"], MetricKind(document["kind"]), document["higher_is_better"])


def _from_row(row: Any) -> Experiment:
    primary = row["primary_metric"]
    return Experiment(
        id=row["id"],
        description=row["description"],
        variants=tuple(Variant(**v) for v in json.loads(row["variants"])),
        status=Status(row["status"]),
        control_variant=row["control_variant"],
        primary_metric=_metric(json.loads(primary)) if primary else None,
        guardrail_metrics=tuple(_metric(m) for m in json.loads(row["guardrail_metrics"])),
        version=row["version"],
        start_time_us=row["start_time_us"],
        stop_time_us=row["stop_time_us"],
        create_time_us=row["create_time_us"],
        update_time_us=row["update_time_us"],
    )


def _encode_token(create_time_us: int, experiment_id: str) -> str:
    raw = json.dumps([create_time_us, experiment_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[int, str]:
    try:
        created, experiment_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(created, int) or not isinstance(experiment_id, str):
            raise ValueError(token)
        # Forged values the database would refuse: out of BIGINT, or a NUL PostgreSQL
        # text cannot hold.
        if not -(2**63) <= created < 2**63 or "\x00" in experiment_id:
            raise ValueError(token)
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "not a token from a previous response") from None
    return created, experiment_id
