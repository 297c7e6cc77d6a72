"""DriftService's domain logic: monitors, baselines, windows and drift checks.

No gRPC here: the servicer converts protos to these calls and back, and domain
errors (``services.common.errors``) become status codes in the interceptor.
Blocking work (SQL, object store, the statistics) runs in worker threads; the
embedding model runs in the micro-batcher's own thread.

A window is called **drifted** when both hold (see docs/drift.md):

* the MMD permutation test rejects "same distribution" at level alpha
  (p_value < alpha): the window is unlikely under the baseline; and
* the centroid cosine distance exceeds the threshold calibrated from the
  baseline's own half-splits for these sample sizes: the average answer moved
  further than sampling noise moves it 99% of the time.

The test alone would flag real but negligible differences once samples are
large; the distance alone has no stated error rate. Together a false alarm
needs both to fire on noise, so the false-positive rate stays below alpha.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.drift import stats
from services.drift.batcher import MicroBatcher
from services.drift.metrics import DriftMetrics
from services.drift.settings import DriftSettings
from services.drift.store import (
    MONITOR_ID_MAX_CHARS,
    REQUEST_ID_MAX_CHARS,
    Baseline,
    BaselineRef,
    DriftStore,
    MonitorRow,
)

MIN_BASELINE_SIZE = 500
"""Smallest baseline accepted (seed design: smaller ones give false positives)."""
TEST_NAME = "mmd_permutation"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Example:
    """A text near a centroid, with its cosine distance to it."""

    text: str
    distance: float


@dataclass(frozen=True)
class DriftReport:
    """The verdict of one drift check."""

    monitor_id: str
    drifted: bool
    distance: float
    distance_threshold: float
    p_value: float
    alpha: float
    test: str
    statistic: float
    baseline_size: int
    window_size: int
    baseline_examples: list[Example]
    window_examples: list[Example]
    check_time: datetime

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stored as the monitor's last check)."""
        document = asdict(self)
        document["check_time"] = self.check_time.isoformat()
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> DriftReport:
        """Inverse of :meth:`to_json`."""
        values = dict(document)
        values["check_time"] = datetime.fromisoformat(values["check_time"])
        values["baseline_examples"] = [Example(**e) for e in values["baseline_examples"]]
        values["window_examples"] = [Example(**e) for e in values["window_examples"]]
        return cls(**values)


@dataclass(frozen=True)
class MonitorInfo:
    """A monitor's state."""

    monitor_id: str
    baseline_size: int
    baseline_time: datetime | None
    window_size: int
    window_capacity: int
    distance_threshold: float
    """Calibrated threshold for a full window; 0 without a baseline."""
    last_check: DriftReport | None


@dataclass(frozen=True)
class ObserveResult:
    """What an Observe call did."""

    accepted: int
    skipped_empty: int
    window_size: int
    duplicates: int
    """Texts whose request id the window already held (or the request repeated)."""


@dataclass(frozen=True)
class Scores:
    """Distances of texts to a baseline centroid, and the outlier threshold."""

    distances: list[float]
    outlier_threshold: float


class DriftEngine:
    """Monitors of one process; all state lives in the store, baselines are cached.

    Its methods run on the event loop, which is also the only place the baseline
    cache is touched, so the cache needs no lock.
    """

    def __init__(
        self,
        store: DriftStore,
        batcher: MicroBatcher,
        settings: DriftSettings,
        metrics: DriftMetrics,
    ) -> None:
        self._store = store
        self._batcher = batcher
        self._settings = settings
        self._metrics = metrics
        self._cache: OrderedDict[tuple[str, str, str], Baseline] = OrderedDict()

    async def observe(
        self,
        tenant: str,
        monitor_id: str,
        texts: Sequence[str],
        request_ids: Sequence[str] = (),
    ) -> ObserveResult:
        """Embed non-empty texts and append them to the monitor's window.

        With ``request_ids`` (one per text; "" for none), a text whose id the window
        already holds, or that an earlier text of the request carries, is skipped
        before embedding: LogSink delivers at least once, and a redelivered text
        counted twice would bias the window.
        """
        check_monitor_id(monitor_id)
        self._check_count(texts, "texts")
        ids = _request_ids(texts, request_ids)
        non_empty = [i for i, text in enumerate(texts) if text.strip()]
        keyed = [request_id for i in non_empty if (request_id := ids[i]) is not None]
        seen: set[str] = set()
        if keyed:
            seen = await asyncio.to_thread(
                self._store.observed_request_ids, tenant, monitor_id, keyed
            )
        fresh: list[int] = []
        for i in non_empty:
            request_id = ids[i]
            if request_id is not None:
                if request_id in seen:
                    continue
                seen.add(request_id)
            fresh.append(i)
        vectors = await self._batcher.encode([texts[i] for i in fresh])
        appended = await asyncio.to_thread(
            self._store.append_window,
            tenant,
            monitor_id,
            [self._stored_text(texts[i]) for i in fresh],
            vectors,
            self._settings.drift_window_size,
            [ids[i] for i in fresh],
        )
        skipped_empty = len(texts) - len(non_empty)
        return ObserveResult(
            accepted=appended.added,
            skipped_empty=skipped_empty,
            window_size=appended.window_size,
            # Includes texts a concurrent call with the same ids inserted first.
            duplicates=len(non_empty) - appended.added,
        )

    async def set_baseline(
        self, tenant: str, monitor_id: str, texts: Sequence[str], field_name: str
    ) -> tuple[MonitorInfo, int]:
        """Embed and calibrate a baseline; returns the monitor and the empty texts skipped.

        ``field_name`` names the request field the texts came from, for errors.
        """
        check_monitor_id(monitor_id)
        kept = self._non_empty(texts, field_name)
        if len(kept) < MIN_BASELINE_SIZE:
            missing = MIN_BASELINE_SIZE - len(kept)
            raise FailedPrecondition(
                f"a baseline needs at least {MIN_BASELINE_SIZE} non-empty texts; got "
                f"{len(kept)}, {missing} more needed",
                {"needed": str(missing), "minimum": str(MIN_BASELINE_SIZE)},
            )
        vectors = await self._batcher.encode(kept)
        calibration = await asyncio.to_thread(
            stats.calibrate,
            vectors,
            self._settings.drift_calibration_rounds,
            np.random.default_rng(stats.data_seed(vectors)),
        )
        baseline = Baseline(uuid.uuid4().hex, vectors, [self._stored_text(t) for t in kept])
        await asyncio.to_thread(self._store.set_baseline, tenant, monitor_id, baseline, calibration)
        self._remember((tenant, monitor_id, baseline.baseline_id), baseline)
        return await self.get_monitor(tenant, monitor_id), len(texts) - len(kept)

    async def check(self, tenant: str, monitor_id: str, alpha: float) -> DriftReport:
        """Compare the recent window with the baseline (see the module docstring)."""
        check_monitor_id(monitor_id)
        alpha = self._alpha(alpha)
        ref = await self._baseline_ref(tenant, monitor_id)
        texts, vectors = await asyncio.to_thread(
            self._store.load_window, tenant, monitor_id, self._settings.drift_window_size
        )
        needed = self._settings.drift_min_window_size
        if len(texts) < needed:
            raise FailedPrecondition(
                f"the window holds {len(texts)} texts; a drift check needs at least "
                f"{needed}, {needed - len(texts)} more to observe",
                {"needed": str(needed - len(texts)), "minimum": str(needed)},
            )
        baseline = await self._baseline(tenant, monitor_id, ref)
        report = await asyncio.to_thread(
            compare,
            monitor_id,
            baseline,
            ref.calibration,
            texts,
            vectors,
            alpha,
            self._settings,
        )
        await asyncio.to_thread(self._store.save_last_check, tenant, monitor_id, report.to_json())
        self._metrics.record_check(
            tenant, monitor_id, report.distance, report.p_value, report.drifted
        )
        return report

    async def score(self, tenant: str, monitor_id: str, texts: Sequence[str]) -> Scores:
        """Cosine distance of each text to the baseline centroid (0 for empty texts)."""
        check_monitor_id(monitor_id)
        self._check_count(texts, "texts")
        ref = await self._baseline_ref(tenant, monitor_id)
        baseline = await self._baseline(tenant, monitor_id, ref)
        positions = [i for i, text in enumerate(texts) if text.strip()]
        vectors = await self._batcher.encode([texts[i] for i in positions])
        distances = [0.0] * len(texts)
        for position, distance in zip(
            positions, stats.distances_to(vectors, stats.centroid(baseline.embeddings)), strict=True
        ):
            distances[position] = float(distance)
        return Scores(distances, ref.calibration.outlier_threshold)

    async def get_monitor(self, tenant: str, monitor_id: str) -> MonitorInfo:
        """One monitor; NOT_FOUND when unknown."""
        check_monitor_id(monitor_id)
        row = await asyncio.to_thread(self._store.get_monitor, tenant, monitor_id)
        if row is None:
            raise NotFound(f"monitor {monitor_id!r} not found", {"monitor_id": monitor_id})
        return self._info(row)

    async def list_monitors(
        self, tenant: str, page_size: int, page_token: str
    ) -> tuple[list[MonitorInfo], str]:
        """A page of monitors ordered by id, and the token of the next page ("" at the end)."""
        if page_size < 0:
            raise InvalidArgument("page_size", "must not be negative")
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = _decode_token(page_token)
        rows = await asyncio.to_thread(self._store.list_monitors, tenant, after, size + 1)
        next_token = _encode_token(rows[size - 1].monitor_id) if len(rows) > size else ""
        return [self._info(row) for row in rows[:size]], next_token

    async def delete_monitor(self, tenant: str, monitor_id: str) -> None:
        """Delete a monitor with its baseline and window; NOT_FOUND when unknown."""
        check_monitor_id(monitor_id)
        if not await asyncio.to_thread(self._store.delete_monitor, tenant, monitor_id):
            raise NotFound(f"monitor {monitor_id!r} not found", {"monitor_id": monitor_id})
        for key in [k for k in self._cache if k[:2] == (tenant, monitor_id)]:
            del self._cache[key]
        self._metrics.forget(tenant, monitor_id)

    # Helpers -------------------------------------------------------------------

    async def _baseline_ref(self, tenant: str, monitor_id: str) -> BaselineRef:
        row = await asyncio.to_thread(self._store.get_monitor, tenant, monitor_id)
        if row is None:
            raise NotFound(f"monitor {monitor_id!r} not found", {"monitor_id": monitor_id})
        if row.baseline is None:
            raise FailedPrecondition(
                f"monitor {monitor_id!r} has no baseline yet; call SetBaseline first",
                {"monitor_id": monitor_id},
            )
        return row.baseline

    async def _baseline(self, tenant: str, monitor_id: str, ref: BaselineRef) -> Baseline:
        key = (tenant, monitor_id, ref.baseline_id)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        baseline = await asyncio.to_thread(
            self._store.load_baseline, tenant, monitor_id, ref.baseline_id
        )
        self._remember(key, baseline)
        return baseline

    def _remember(self, key: tuple[str, str, str], baseline: Baseline) -> None:
        # A new baseline replaces the monitor's old one in the cache.
        for old in [k for k in self._cache if k[:2] == key[:2] and k != key]:
            del self._cache[old]
        self._cache[key] = baseline
        self._cache.move_to_end(key)
        while len(self._cache) > self._settings.drift_baseline_cache_size:
            self._cache.popitem(last=False)

    def _info(self, row: MonitorRow) -> MonitorInfo:
        capacity = self._settings.drift_window_size
        ref = row.baseline
        return MonitorInfo(
            monitor_id=row.monitor_id,
            baseline_size=ref.size if ref else 0,
            baseline_time=ref.time if ref else None,
            window_size=row.window_size,
            window_capacity=capacity,
            distance_threshold=ref.calibration.distance_threshold(ref.size, capacity)
            if ref
            else 0.0,
            last_check=DriftReport.from_json(row.last_check) if row.last_check else None,
        )

    def _alpha(self, alpha: float) -> float:
        if alpha == 0.0:
            return self._settings.drift_default_alpha
        if not 0.0 < alpha < 1.0:
            raise InvalidArgument("alpha", "must be between 0 and 1 (0 for the default)")
        resolution = 1.0 / (self._settings.drift_permutations + 1)
        if alpha <= resolution:
            raise InvalidArgument(
                "alpha",
                f"must exceed {resolution:.4g}, the smallest p-value "
                f"{self._settings.drift_permutations} permutations can give",
            )
        return alpha

    def _check_count(self, texts: Sequence[str], field_name: str) -> None:
        limit = self._settings.drift_max_texts_per_request
        if len(texts) > limit:
            raise InvalidArgument(
                field_name, f"at most {limit} texts per request; got {len(texts)}"
            )

    def _non_empty(self, texts: Sequence[str], field_name: str) -> list[str]:
        self._check_count(texts, field_name)
        return [text for text in texts if text.strip()]

    def _stored_text(self, text: str) -> str:
        return text[: self._settings.drift_stored_text_chars]


def compare(
    monitor_id: str,
    baseline: Baseline,
    calibration: stats.Calibration,
    texts: Sequence[str],
    vectors: np.ndarray,
    alpha: float,
    settings: DriftSettings,
) -> DriftReport:
    """The drift verdict of a window (texts and embeddings) against a baseline."""
    base = baseline.embeddings
    n, m = len(base), len(vectors)
    # Seeded by the data: the same baseline and window always give the same answer.
    rng = np.random.default_rng(stats.data_seed(base, vectors))
    limit = settings.drift_test_max_samples
    test = stats.mmd_permutation_test(
        _subsample(base, limit, rng),
        _subsample(vectors, limit, rng),
        settings.drift_permutations,
        rng,
    )
    distance = stats.cosine_distance(stats.centroid(base), stats.centroid(vectors))
    threshold = calibration.distance_threshold(n, m)
    k = settings.drift_examples
    return DriftReport(
        monitor_id=monitor_id,
        drifted=test.p_value < alpha and distance > threshold,
        distance=distance,
        distance_threshold=threshold,
        p_value=test.p_value,
        alpha=alpha,
        test=TEST_NAME,
        statistic=test.statistic,
        baseline_size=n,
        window_size=m,
        baseline_examples=[
            Example(baseline.texts[i], d) for i, d in stats.nearest_to_centroid(base, k)
        ],
        window_examples=[Example(texts[i], d) for i, d in stats.nearest_to_centroid(vectors, k)],
        check_time=datetime.now(UTC),
    )


def check_monitor_id(monitor_id: str) -> None:
    """Monitor ids are non-empty and at most 200 characters."""
    if not monitor_id:
        raise InvalidArgument("monitor_id", "must not be empty")
    if len(monitor_id) > MONITOR_ID_MAX_CHARS:
        raise InvalidArgument("monitor_id", f"at most {MONITOR_ID_MAX_CHARS} characters")
    if "\x00" in monitor_id:
        # PostgreSQL text cannot hold NUL.
        raise InvalidArgument("monitor_id", "must not contain NUL characters")


def _request_ids(texts: Sequence[str], request_ids: Sequence[str]) -> list[str | None]:
    """One id or None per text; INVALID_ARGUMENT ``request_ids`` when they do not fit."""
    if not request_ids:
        return [None] * len(texts)
    if len(request_ids) != len(texts):
        raise InvalidArgument(
            "request_ids",
            f"must be empty or hold one id per text; got {len(request_ids)} ids "
            f"for {len(texts)} texts",
        )
    for position, request_id in enumerate(request_ids):
        if len(request_id) > REQUEST_ID_MAX_CHARS:
            raise InvalidArgument(
                "request_ids",
                f"at most {REQUEST_ID_MAX_CHARS} characters each; "
                f"request_ids[{position}] has {len(request_id)}",
            )
        if "\x00" in request_id:
            raise InvalidArgument(
                "request_ids", f"request_ids[{position}] must not contain NUL characters"
            )
    return [request_id or None for request_id in request_ids]


def _subsample(vectors: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    if len(vectors) <= limit:
        return vectors
    return vectors[np.sort(rng.choice(len(vectors), size=limit, replace=False))]


def _encode_token(monitor_id: str) -> str:
    return base64.urlsafe_b64encode(monitor_id.encode()).decode()


def _decode_token(token: str) -> str:
    if not token:
        return ""
    try:
        after = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidArgument("page_token", "not a token from a previous response") from None
    if "\x00" in after:
        raise InvalidArgument("page_token", "not a token from a previous response")
    return after
