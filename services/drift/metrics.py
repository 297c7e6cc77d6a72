"""Prometheus metrics of drift checks, with a bounded number of monitors.

Monitor ids are chosen by callers (LogSink names them "<model>/<prompt_template>"),
so a label per monitor could grow without bound. Only the first ``max_monitors``
monitors checked by this process get their own gauge series; beyond the cap a
warning is logged once and the others are not exported per monitor (the alarm
counter, labelled by tenant only, still counts them).
"""

from __future__ import annotations

import logging
import threading

from prometheus_client import Counter, Gauge, Histogram

logger = logging.getLogger(__name__)

DRIFT_DISTANCE = Gauge(
    "llmops_drift_distance",
    "Cosine distance between the recent window centroid and the baseline centroid, "
    "at the last drift check",
    ["tenant", "monitor"],
)
DRIFT_P_VALUE = Gauge(
    "llmops_drift_p_value",
    "p-value of the MMD permutation test at the last drift check",
    ["tenant", "monitor"],
)
DRIFT_ALARMS = Counter(
    "llmops_drift_alarms_total", "Drift checks that found the window drifted", ["tenant"]
)
EMBEDDING_BATCH_TEXTS = Histogram(
    "llmops_drift_embedding_batch_texts",
    "Texts per batch the micro-batcher handed to the embedding model",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
EMBEDDING_SECONDS = Histogram(
    "llmops_drift_embedding_seconds",
    "Time the embedding model took per batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class DriftMetrics:
    """Updates the drift gauges for at most ``max_monitors`` (tenant, monitor) pairs."""

    def __init__(self, max_monitors: int) -> None:
        self._max_monitors = max_monitors
        self._exported: set[tuple[str, str]] = set()
        self._warned = False
        self._lock = threading.Lock()

    def record_check(
        self, tenant: str, monitor_id: str, distance: float, p_value: float, drifted: bool
    ) -> None:
        """Export the result of one drift check."""
        if drifted:
            DRIFT_ALARMS.labels(tenant).inc()
        key = (tenant, monitor_id)
        with self._lock:
            if key not in self._exported:
                if len(self._exported) >= self._max_monitors:
                    if not self._warned:
                        self._warned = True
                        logger.warning(
                            "drift gauges are capped at %d monitors; further monitors are "
                            "not exported per monitor (LLMOPS_DRIFT_MAX_METRIC_MONITORS)",
                            self._max_monitors,
                        )
                    return
                self._exported.add(key)
        DRIFT_DISTANCE.labels(tenant, monitor_id).set(distance)
        DRIFT_P_VALUE.labels(tenant, monitor_id).set(p_value)

    def forget(self, tenant: str, monitor_id: str) -> None:
        """Drop a deleted monitor's series and free its slot."""
        key = (tenant, monitor_id)
        with self._lock:
            if key not in self._exported:
                return
            self._exported.discard(key)
        DRIFT_DISTANCE.remove(tenant, monitor_id)
        DRIFT_P_VALUE.remove(tenant, monitor_id)
