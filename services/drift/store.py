"""Persistence of monitors, baselines and recent windows (SQL + object store).

* ``drift_monitors``: one row per (tenant, monitor): the current baseline's id,
  size, time and calibration, and the last check as JSON.
* ``drift_window``: one row per observed text (its first characters, its
  float32 embedding and the caller's request id, if any), ordered by an
  autoincrement id. The window is a ring: after each append, rows older than the
  newest ``capacity`` are deleted in the same transaction. Rows rather than
  object-store chunks because a ring needs cheap appends and trims with
  transactional ordering, which SQL gives for free; the window is bounded (about
  1.5 KB per text), so it never grows large. A unique index on (tenant, monitor,
  request id) makes a redelivered text a no-op while the first copy is in the
  window; rows without an id hold NULL, which SQLite and PostgreSQL both treat as
  distinct in a unique index.
* A baseline's embeddings (``.npy``, float32) and texts (gzipped JSON) live in the
  object store under a fresh id per baseline, written before the SQL row points at
  them, so a reader never sees a row without its objects. They never change, which
  makes them safe to cache by id.

Every method is blocking; the engine runs them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from services.common.db import migrate, tenant_column
from services.common.embeddings import EMBEDDING_DIM
from services.common.objectstore import ObjectStore
from services.drift.stats import Calibration

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_drift"
MONITOR_ID_MAX_CHARS = 200
REQUEST_ID_MAX_CHARS = 128
"""As LogSink's request_id column, whose ids are the ones forwarded here."""
# Ids per IN (...) lookup: well under SQLite's oldest bound-parameter limit (999).
_LOOKUP_CHUNK = 500

metadata = sa.MetaData()

monitors = sa.Table(
    "drift_monitors",
    metadata,
    tenant_column(),
    sa.Column("monitor_id", sa.String(MONITOR_ID_MAX_CHARS), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("baseline_id", sa.String(32), nullable=True),
    sa.Column("baseline_size", sa.Integer, nullable=False, server_default="0"),
    sa.Column("baseline_time", sa.DateTime(timezone=True), nullable=True),
    sa.Column("distance_unit", sa.Float, nullable=True),
    sa.Column("outlier_threshold", sa.Float, nullable=True),
    sa.Column("last_check", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("tenant", "monitor_id", name="pk_drift_monitors"),
)

window = sa.Table(
    "drift_window",
    metadata,
    # SQLite only autoincrements an INTEGER PRIMARY KEY.
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    tenant_column(),
    sa.Column("monitor_id", sa.String(MONITOR_ID_MAX_CHARS), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("embedding", sa.LargeBinary, nullable=False),
    sa.Column("request_id", sa.String(REQUEST_ID_MAX_CHARS), nullable=True),
    sa.Index("ix_drift_window_monitor", "tenant", "monitor_id", "id"),
    sa.Index("uq_drift_window_request", "tenant", "monitor_id", "request_id", unique=True),
)


@dataclass(frozen=True)
class Appended:
    """What an append did: rows added (id conflicts are not) and the window's new size."""

    added: int
    window_size: int


@dataclass(frozen=True)
class BaselineRef:
    """Which baseline a monitor uses, and its calibration."""

    baseline_id: str
    size: int
    time: datetime
    calibration: Calibration


@dataclass(frozen=True)
class MonitorRow:
    """A monitor as stored."""

    monitor_id: str
    created_at: datetime
    baseline: BaselineRef | None
    last_check: dict[str, Any] | None
    window_size: int


@dataclass(frozen=True)
class Baseline:
    """A baseline's embeddings and texts as loaded from the object store."""

    baseline_id: str
    embeddings: np.ndarray
    texts: list[str]


class DriftStore:
    """SQL tables and baseline objects of DriftService."""

    def __init__(self, engine: Engine, objects: ObjectStore) -> None:
        self._engine = engine
        self._objects = objects

    def migrate(self) -> None:
        """Create or upgrade the tables (safe beside other migrating processes)."""
        migrate(self._engine, MIGRATIONS_DIR, VERSION_TABLE)

    # Monitors ----------------------------------------------------------------

    def get_monitor(self, tenant: str, monitor_id: str) -> MonitorRow | None:
        """The monitor, or None when it does not exist for this tenant."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(monitors).where(
                    monitors.c.tenant == tenant, monitors.c.monitor_id == monitor_id
                )
            ).first()
            if row is None:
                return None
            return _monitor_row(row, self._window_sizes(conn, tenant, [monitor_id]))

    def list_monitors(self, tenant: str, after: str, limit: int) -> list[MonitorRow]:
        """Up to ``limit`` monitors with ids greater than ``after``, ordered by id."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(monitors)
                .where(monitors.c.tenant == tenant, monitors.c.monitor_id > after)
                .order_by(monitors.c.monitor_id)
                .limit(limit)
            ).all()
            sizes = self._window_sizes(conn, tenant, [row.monitor_id for row in rows])
            return [_monitor_row(row, sizes) for row in rows]

    def delete_monitor(self, tenant: str, monitor_id: str) -> bool:
        """Delete the monitor, its window and its baseline objects; False if unknown."""
        with self._engine.begin() as conn:
            baseline_id = conn.execute(
                sa.select(monitors.c.baseline_id).where(
                    monitors.c.tenant == tenant, monitors.c.monitor_id == monitor_id
                )
            ).scalar_one_or_none()
            deleted = conn.execute(
                sa.delete(monitors).where(
                    monitors.c.tenant == tenant, monitors.c.monitor_id == monitor_id
                )
            ).rowcount
            conn.execute(
                sa.delete(window).where(
                    window.c.tenant == tenant, window.c.monitor_id == monitor_id
                )
            )
        if baseline_id is not None:
            self._delete_baseline_objects(tenant, monitor_id, baseline_id)
        return bool(deleted)

    def save_last_check(self, tenant: str, monitor_id: str, check: dict[str, Any]) -> None:
        """Remember the result of the latest check (for GetMonitor and ListMonitors)."""
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(monitors)
                .where(monitors.c.tenant == tenant, monitors.c.monitor_id == monitor_id)
                .values(last_check=json.dumps(check))
            )

    # Window --------------------------------------------------------------------

    def observed_request_ids(
        self, tenant: str, monitor_id: str, request_ids: Sequence[str]
    ) -> set[str]:
        """Those of ``request_ids`` whose texts are in the monitor's window."""
        found: set[str] = set()
        unique = sorted(set(request_ids))
        with self._engine.connect() as conn:
            for start in range(0, len(unique), _LOOKUP_CHUNK):
                found.update(
                    conn.execute(
                        sa.select(window.c.request_id).where(
                            window.c.tenant == tenant,
                            window.c.monitor_id == monitor_id,
                            window.c.request_id.in_(unique[start : start + _LOOKUP_CHUNK]),
                        )
                    ).scalars()
                )
        return found

    def append_window(
        self,
        tenant: str,
        monitor_id: str,
        texts: Sequence[str],
        embeddings: np.ndarray,
        capacity: int,
        request_ids: Sequence[str | None] | None = None,
    ) -> Appended:
        """Append texts (creating the monitor if new) and trim to ``capacity``.

        A text whose request id the window already holds is not added: callers
        filter those out before embedding, and the unique index settles races
        between concurrent appends of the same ids.
        """
        ids = request_ids if request_ids is not None else [None] * len(texts)
        with self._engine.begin() as conn:
            self._ensure_monitor(conn, tenant, monitor_id)
            added = 0
            if texts:
                added = len(
                    conn.execute(
                        _insert(conn, window).on_conflict_do_nothing().returning(window.c.id),
                        [
                            {
                                "tenant": tenant,
                                "monitor_id": monitor_id,
                                # PostgreSQL text cannot hold NUL; these texts are
                                # only shown as examples, so a stand-in does no harm.
                                "text": text.replace("\x00", "\ufffd"),
                                "embedding": vector.astype("<f4").tobytes(),
                                "request_id": request_id,
                            }
                            for text, vector, request_id in zip(texts, embeddings, ids, strict=True)
                        ],
                    ).all()
                )
            oldest_kept = conn.execute(
                sa.select(window.c.id)
                .where(window.c.tenant == tenant, window.c.monitor_id == monitor_id)
                .order_by(window.c.id.desc())
                .offset(capacity - 1)
                .limit(1)
            ).scalar_one_or_none()
            if oldest_kept is not None:
                conn.execute(
                    sa.delete(window).where(
                        window.c.tenant == tenant,
                        window.c.monitor_id == monitor_id,
                        window.c.id < oldest_kept,
                    )
                )
            size = self._window_sizes(conn, tenant, [monitor_id]).get(monitor_id, 0)
            return Appended(added, size)

    def load_window(
        self, tenant: str, monitor_id: str, capacity: int
    ) -> tuple[list[str], np.ndarray]:
        """The newest ``capacity`` texts and embeddings of the window, oldest first."""
        with self._engine.connect() as conn:
            newest_first = conn.execute(
                sa.select(window.c.text, window.c.embedding)
                .where(window.c.tenant == tenant, window.c.monitor_id == monitor_id)
                .order_by(window.c.id.desc())
                .limit(capacity)
            ).all()
        rows = newest_first[::-1]
        texts = [row.text for row in rows]
        vectors = np.frombuffer(b"".join(row.embedding for row in rows), dtype="<f4")
        return texts, vectors.reshape(len(rows), EMBEDDING_DIM).astype(np.float32)

    # Baselines -----------------------------------------------------------------

    def set_baseline(
        self, tenant: str, monitor_id: str, baseline: Baseline, calibration: Calibration
    ) -> None:
        """Store the baseline's objects, then point the monitor (created if new) at them."""
        prefix = _baseline_prefix(tenant, monitor_id, baseline.baseline_id)
        buffer = io.BytesIO()
        np.save(buffer, baseline.embeddings.astype("<f4"), allow_pickle=False)
        self._objects.put(f"{prefix}/embeddings.npy", buffer.getvalue())
        self._objects.put(
            f"{prefix}/texts.json.gz", gzip.compress(json.dumps(baseline.texts).encode())
        )
        with self._engine.begin() as conn:
            self._ensure_monitor(conn, tenant, monitor_id)
            previous = conn.execute(
                sa.select(monitors.c.baseline_id)
                .where(monitors.c.tenant == tenant, monitors.c.monitor_id == monitor_id)
                .with_for_update()
            ).scalar_one()
            conn.execute(
                sa.update(monitors)
                .where(monitors.c.tenant == tenant, monitors.c.monitor_id == monitor_id)
                .values(
                    baseline_id=baseline.baseline_id,
                    baseline_size=len(baseline.texts),
                    baseline_time=datetime.now(UTC),
                    distance_unit=calibration.distance_unit,
                    outlier_threshold=calibration.outlier_threshold,
                    # The last check compared against the old baseline.
                    last_check=None,
                )
            )
        if previous is not None:
            self._delete_baseline_objects(tenant, monitor_id, previous)

    def load_baseline(self, tenant: str, monitor_id: str, baseline_id: str) -> Baseline:
        """The baseline's embeddings and texts from the object store."""
        prefix = _baseline_prefix(tenant, monitor_id, baseline_id)
        embeddings = np.load(
            io.BytesIO(self._objects.get(f"{prefix}/embeddings.npy")), allow_pickle=False
        )
        texts = json.loads(gzip.decompress(self._objects.get(f"{prefix}/texts.json.gz")))
        return Baseline(baseline_id, embeddings.astype(np.float32), texts)

    def _delete_baseline_objects(self, tenant: str, monitor_id: str, baseline_id: str) -> None:
        prefix = _baseline_prefix(tenant, monitor_id, baseline_id)
        for name in ("embeddings.npy", "texts.json.gz"):
            try:
                self._objects.delete(f"{prefix}/{name}")
            except Exception:
                # An orphaned object wastes space but breaks nothing: no row names it.
                logger.warning("could not delete baseline object %s/%s", prefix, name)

    # Helpers -------------------------------------------------------------------

    @staticmethod
    def _ensure_monitor(conn: Connection, tenant: str, monitor_id: str) -> None:
        values = {"tenant": tenant, "monitor_id": monitor_id, "created_at": datetime.now(UTC)}
        # Concurrent first Observes of one monitor (several replicas) must not collide.
        conn.execute(_insert(conn, monitors).values(values).on_conflict_do_nothing())

    @staticmethod
    def _window_sizes(conn: Connection, tenant: str, monitor_ids: list[str]) -> dict[str, int]:
        if not monitor_ids:
            return {}
        rows = conn.execute(
            sa.select(window.c.monitor_id, sa.func.count())
            .where(window.c.tenant == tenant, window.c.monitor_id.in_(monitor_ids))
            .group_by(window.c.monitor_id)
        ).all()
        return {row[0]: int(row[1]) for row in rows}


def _insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_nothing`` (both spell it alike)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {conn.dialect.name}")


def _monitor_row(row: sa.Row[Any], window_sizes: dict[str, int]) -> MonitorRow:
    baseline = None
    if row.baseline_id is not None:
        baseline = BaselineRef(
            baseline_id=row.baseline_id,
            size=row.baseline_size,
            time=_utc(row.baseline_time),
            calibration=Calibration(row.distance_unit, row.outlier_threshold),
        )
    return MonitorRow(
        monitor_id=row.monitor_id,
        created_at=_utc(row.created_at),
        baseline=baseline,
        last_check=json.loads(row.last_check) if row.last_check else None,
        window_size=window_sizes.get(row.monitor_id, 0),
    )


def _utc(value: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive (they were stored as UTC).
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _baseline_prefix(tenant: str, monitor_id: str, baseline_id: str) -> str:
    # Monitor ids are free-form strings ("gpt-4o/answer@v3"); a digest is a safe key.
    digest = hashlib.sha256(monitor_id.encode()).hexdigest()[:32]
    return f"{tenant}/drift/{digest}/{baseline_id}"
