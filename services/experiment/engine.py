"""ExperimentService's domain logic: no gRPC, awaited by the servicer.

Blocking SQL and CPU-heavy statistics run in worker threads (``asyncio.to_thread``)
so the event loop keeps serving Assign. Assign itself touches no database on the
common path: the experiment comes from a short-lived in-process cache and the
exposure goes to the :class:`~services.experiment.exposures.ExposureRecorder`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.common.errors import InvalidArgument, NotFound
from services.common.tenancy import current_tenant
from services.experiment.assignment import Assigner
from services.experiment.exposures import ExposureRecorder
from services.experiment.model import (
    FAILED_CALL_STATUSES,
    CallStatus,
    Experiment,
    Status,
    Variant,
    apply_update,
    new_experiment,
    validate_id,
    validate_metric_name,
    validate_user_id,
    with_status,
)
from services.experiment.results import Results, compute_results
from services.experiment.store import CallOutcomeRow, ExperimentStore, ExposureRow, OutcomeRow

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
DEFAULT_ALPHA = 0.05


def now_us() -> int:
    """Current UTC time in microseconds since the epoch."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Assignment:
    """One user's variant; ``control_fallback`` when the experiment is not running."""

    user_id: str
    variant: Variant
    bucket: float
    control_fallback: bool


@dataclass(frozen=True)
class OutcomeInput:
    """An app-reported outcome as received; ``time_us`` 0 means now."""

    experiment_id: str
    variant: str
    user_id: str
    metric: str
    value: float
    time_us: int


@dataclass(frozen=True)
class CallInput:
    """The parts of a forwarded call record that experiments use."""

    request_id: str
    experiment_id: str
    variant: str
    user_id: str
    status: CallStatus
    latency_ms: float
    cost_micros: int | None
    input_tokens: int
    output_tokens: int
    time_us: int


@dataclass(frozen=True)
class CallOutcomeCounts:
    """What RecordCallOutcomes did with a batch."""

    recorded: int
    duplicates: int
    ignored: int


@dataclass(frozen=True)
class _Cached:
    experiment: Experiment
    assigner: Assigner
    loaded_at: float


class ExperimentEngine:
    """Experiments CRUD, assignment, outcomes and results for the calling tenant."""

    def __init__(
        self,
        store: ExperimentStore,
        recorder: ExposureRecorder,
        cache_seconds: float,
        min_samples_per_variant: int,
        mixing_sd: float,
        max_batch_users: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._recorder = recorder
        self._cache_seconds = cache_seconds
        self._min_samples = min_samples_per_variant
        self._mixing_sd = mixing_sd
        self._max_batch_users = max_batch_users
        self._clock = clock
        self._cache: dict[tuple[str, str], _Cached] = {}

    # Experiments

    async def create(self, experiment: Experiment) -> Experiment:
        """Validate and store a new experiment."""
        tenant = current_tenant()
        created = new_experiment(experiment, now_us())
        await asyncio.to_thread(self._store.create, tenant, created)
        self._remember(tenant, created)
        return created

    async def get(self, experiment_id: str) -> Experiment:
        """The stored experiment (always read from the database)."""
        validate_id(experiment_id, "id")
        tenant = current_tenant()
        experiment = await asyncio.to_thread(self._store.get, tenant, experiment_id)
        self._remember(tenant, experiment)
        return experiment

    async def list_experiments(
        self, status: Status, page_size: int, page_token: str
    ) -> tuple[list[Experiment], str]:
        """A page of experiments, newest first."""
        if page_size < 0:
            raise InvalidArgument("page_size", "must not be negative")
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        return await asyncio.to_thread(
            self._store.list_page, current_tenant(), status, size, page_token
        )

    async def update(
        self, patch: Experiment, paths: Sequence[str], new_version: bool
    ) -> Experiment:
        """Apply a field-mask update under the lifecycle and versioning rules."""
        validate_id(patch.id, "experiment.id")
        tenant = current_tenant()

        def change(current: Experiment) -> Experiment:
            return apply_update(current, patch, paths, new_version, now_us())

        updated = await asyncio.to_thread(self._store.update, tenant, patch.id, change)
        self._remember(tenant, updated)
        return updated

    async def stop(self, experiment_id: str) -> Experiment:
        """Stop an experiment for good; stopping it again is a no-op (safe to retry)."""
        validate_id(experiment_id, "id")
        tenant = current_tenant()

        def change(current: Experiment) -> Experiment:
            if current.status is Status.STOPPED:
                return current
            stamp = now_us()
            stopped = with_status(current, Status.STOPPED, stamp)
            return dataclasses.replace(stopped, update_time_us=stamp)

        stopped = await asyncio.to_thread(self._store.update, tenant, experiment_id, change)
        self._remember(tenant, stopped)
        return stopped

    # Assignment

    async def assign(self, experiment_id: str, user_id: str) -> tuple[Status, Assignment]:
        """Assign one user and record the exposure if the experiment is running."""
        validate_id(experiment_id, "experiment_id")
        validate_user_id(user_id, "user_id")
        tenant = current_tenant()
        cached = await self._cached(tenant, experiment_id)
        assignment = await self._assign(tenant, cached, user_id, now_us())
        return cached.experiment.status, assignment

    async def assign_batch(
        self, experiment_id: str, user_ids: Sequence[str]
    ) -> tuple[Status, list[Assignment]]:
        """Assign many users of one experiment, in request order."""
        validate_id(experiment_id, "experiment_id")
        if len(user_ids) > self._max_batch_users:
            raise InvalidArgument("user_ids", f"at most {self._max_batch_users} per call")
        for i, user_id in enumerate(user_ids):
            validate_user_id(user_id, f"user_ids[{i}]")
        tenant = current_tenant()
        cached = await self._cached(tenant, experiment_id)
        stamp = now_us()
        assignments = [await self._assign(tenant, cached, u, stamp) for u in user_ids]
        return cached.experiment.status, assignments

    async def _assign(self, tenant: str, cached: _Cached, user_id: str, stamp: int) -> Assignment:
        experiment = cached.experiment
        index, bucket = cached.assigner.assign(user_id)
        if experiment.status is not Status.RUNNING:
            return Assignment(user_id, experiment.control, bucket, True)
        variant = experiment.variants[index]
        await self._recorder.record(
            ExposureRow(tenant, experiment.id, experiment.version, user_id, variant.name, stamp)
        )
        return Assignment(user_id, variant, bucket, False)

    async def _cached(self, tenant: str, experiment_id: str) -> _Cached:
        cached = self._cache.get((tenant, experiment_id))
        if cached is not None and self._clock() - cached.loaded_at < self._cache_seconds:
            return cached
        experiment = await asyncio.to_thread(self._store.get, tenant, experiment_id)
        return self._remember(tenant, experiment)

    def _remember(self, tenant: str, experiment: Experiment) -> _Cached:
        key = (tenant, experiment.id)
        previous = self._cache.get(key)
        if previous is not None and previous.experiment.weights == experiment.weights:
            # Same weights, same thresholds. (Not the version: a DRAFT's weights change
            # without a new version.)
            assigner = previous.assigner
        else:
            assigner = Assigner(experiment.id, experiment.weights)
        cached = _Cached(experiment, assigner, self._clock())
        self._cache[key] = cached
        return cached

    # Outcomes

    async def record_outcomes(self, outcomes: Sequence[OutcomeInput]) -> int:
        """Store app-reported outcomes; the whole batch is refused if one is invalid."""
        tenant = current_tenant()
        stamp = now_us()
        experiments: dict[str, Experiment] = {}
        rows = []
        for i, outcome in enumerate(outcomes):
            field = f"outcomes[{i}]"
            validate_id(outcome.experiment_id, f"{field}.experiment_id")
            validate_user_id(outcome.user_id, f"{field}.user_id")
            validate_metric_name(outcome.metric, f"{field}.metric")
            if not math.isfinite(outcome.value):
                raise InvalidArgument(f"{field}.value", "must be a finite number")
            experiment = experiments.get(outcome.experiment_id)
            if experiment is None:
                experiment = await asyncio.to_thread(self._store.get, tenant, outcome.experiment_id)
                experiments[outcome.experiment_id] = experiment
            if experiment.variant_named(outcome.variant) is None:
                raise InvalidArgument(
                    f"{field}.variant",
                    f"experiment {experiment.id!r} has no variant {outcome.variant!r}",
                )
            rows.append(
                OutcomeRow(
                    tenant,
                    experiment.id,
                    experiment.version,
                    outcome.variant,
                    outcome.user_id,
                    outcome.metric,
                    outcome.value,
                    outcome.time_us or stamp,
                )
            )
        await asyncio.to_thread(self._store.record_outcomes, rows)
        return len(rows)

    async def record_call_outcomes(self, calls: Sequence[CallInput]) -> CallOutcomeCounts:
        """Store automatic metrics of forwarded calls; idempotent by request_id.

        Calls without an experiment, for an unknown experiment or variant, without a
        request id, with an unset status or an impossible latency (not finite, negative)
        are counted as ignored, never refused:
        LogSink forwards every record and must not be stuck on one it cannot place.
        """
        tenant = current_tenant()
        stamp = now_us()
        experiments: dict[str, Experiment | None] = {}
        rows: dict[str, CallOutcomeRow] = {}
        ignored = 0
        repeated = 0
        for call in calls:
            if not call.experiment_id or not call.request_id or not call.variant:
                ignored += 1
                continue
            if call.status is CallStatus.UNSPECIFIED or len(call.request_id) > 128:
                ignored += 1
                continue
            if "\x00" in call.request_id:
                # PostgreSQL text cannot hold NUL; LogSink never stores such an id.
                ignored += 1
                continue
            if not (math.isfinite(call.latency_ms) and call.latency_ms >= 0):
                # A NaN would fail the batch (SQLite) or every later mean (PostgreSQL).
                ignored += 1
                continue
            if call.experiment_id not in experiments:
                experiments[call.experiment_id] = await self._find(tenant, call.experiment_id)
            experiment = experiments[call.experiment_id]
            if experiment is None or experiment.variant_named(call.variant) is None:
                ignored += 1
                continue
            if call.request_id in rows:
                repeated += 1
                continue
            unit = (
                call.user_id[:256].replace("\x00", "\ufffd")
                if call.user_id
                else f"request:{call.request_id}"
            )
            rows[call.request_id] = CallOutcomeRow(
                tenant=tenant,
                request_id=call.request_id,
                experiment_id=experiment.id,
                version=experiment.version,
                variant=call.variant,
                unit_id=unit,
                latency_ms=call.latency_ms,
                cost_micros=call.cost_micros,
                input_tokens=call.input_tokens,
                output_tokens=call.output_tokens,
                error=int(call.status in FAILED_CALL_STATUSES),
                time_us=call.time_us or stamp,
            )
        inserted = await asyncio.to_thread(self._store.record_call_outcomes, list(rows.values()))
        return CallOutcomeCounts(inserted, repeated + len(rows) - inserted, ignored)

    async def _find(self, tenant: str, experiment_id: str) -> Experiment | None:
        try:
            return (await self._cached(tenant, experiment_id)).experiment
        except NotFound:
            return None

    # Results

    async def results(
        self, experiment_id: str, metric: str, alpha: float, min_samples: int
    ) -> Results:
        """Statistics of one metric for the experiment's current version."""
        validate_id(experiment_id, "experiment_id")
        if alpha == 0:
            alpha = DEFAULT_ALPHA
        if not 0 < alpha < 1:
            raise InvalidArgument("alpha", "must be between 0 and 1 (0 means 0.05)")
        if min_samples < 0:
            raise InvalidArgument("min_samples_per_variant", "must not be negative")
        min_samples = min_samples or self._min_samples
        tenant = current_tenant()
        experiment = await asyncio.to_thread(self._store.get, tenant, experiment_id)
        if not metric:
            if experiment.primary_metric is None:
                raise InvalidArgument("metric", "the experiment has no primary metric; name one")
            metric = experiment.primary_metric.name
        validate_metric_name(metric, "metric")
        spec = experiment.metric_spec(metric)
        # Exposures this replica still buffers belong in the sample-ratio check.
        await self._recorder.flush()

        def compute() -> Results:
            version = experiment.version
            observations = self._store.unit_values(tenant, experiment.id, version, metric)
            counts = self._store.exposure_counts(tenant, experiment.id, version)
            return compute_results(
                experiment, spec, observations, counts, alpha, min_samples, self._mixing_sd
            )

        return await asyncio.to_thread(compute)
