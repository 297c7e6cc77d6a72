"""The LLM Prometheus metrics, computed from the records LogSink stores, and its
ingestion outcomes.

Names, labels and buckets follow the seed design. Label values come from clients,
so each label is capped: after ``max_values`` distinct values per process, new
values are counted under ``"other"`` instead of creating new series. prompt_hash,
request_id and user_id are never labels.

Only records stored for the first time are counted, after their commit, so a
replayed batch does not count twice.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from prometheus_client import REGISTRY, CollectorRegistry, Counter
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from services.logsink.records import STATUS_NAMES

OVERFLOW_LABEL = "other"
SUCCESS = 1


class BatchHistogram(Collector):
    """A labelled Prometheus histogram fed a whole batch of values at once.

    ``prometheus_client.Histogram.observe`` costs a few microseconds per value, which
    at tens of thousands of records per second is a large share of ingestion. Here a
    batch is bucketed with one vectorised ``searchsorted``; the exposition is the
    standard one (cumulative ``le`` buckets, ``_count``, ``_sum``), produced through
    the documented custom-collector API.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = list(labelnames)
        self._bounds = np.asarray(buckets, dtype=np.float64)
        self._le = [floatToGoString(b) for b in buckets] + ["+Inf"]
        self._series: dict[tuple[str, ...], tuple[np.ndarray, list[float]]] = {}
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(self)

    def observe_many(self, labels: tuple[str, ...], values: npt.ArrayLike) -> None:
        """Count ``values`` in the series ``labels``."""
        array = np.asarray(values, dtype=np.float64)
        # Index i is the first bound >= value: Prometheus buckets are "le" (inclusive).
        counts = np.bincount(
            np.searchsorted(self._bounds, array, side="left"), minlength=len(self._le)
        )
        total = float(array.sum())
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = (np.zeros(len(self._le), np.int64), [0.0])
            series[0][:] += counts
            series[1][0] += total

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)
        with self._lock:
            snapshot = [(k, np.cumsum(c), s[0]) for k, (c, s) in self._series.items()]
        for labels, cumulative, total in snapshot:
            family.add_metric(
                list(labels), list(zip(self._le, cumulative.tolist(), strict=True)), total
            )
        yield family


CALL_DURATION = BatchHistogram(
    "llm_call_duration_seconds",
    "Latency of LLM calls as reported in stored call records",
    ["model", "prompt_template"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
# A histogram, so no _total suffix; the unit is tokens, which is not a base unit.
TOKENS = BatchHistogram(
    "llm_tokens",
    "Tokens per LLM call by direction (input includes cached, output includes reasoning)",
    ["model", "direction"],
    buckets=(50, 100, 250, 500, 1000, 2000, 4000, 8000, 16000),
)
ERRORS = Counter(
    "llm_errors",
    "LLM calls that did not succeed, by model and error type (status name when unset)",
    ["model", "error_type"],
)


RECORDS = Counter(
    "logsink_records",
    "Call records received, by outcome: stored (now), duplicate (stored before), "
    "rejected (failed validation; the client's ack names the reason)",
    ["outcome"],
)
REJECTED = Counter(
    "logsink_rejected_records",
    "Call records rejected by validation, by the field the reason names",
    ["field"],
)


def count_outcomes(stored: int, duplicates: int, reject_reasons: Iterable[str]) -> None:
    """Count one batch's outcomes; a reason reads "field: what is wrong"."""
    RECORDS.labels("stored").inc(stored)
    RECORDS.labels("duplicate").inc(duplicates)
    fields: dict[str, int] = defaultdict(int)
    for reason in reject_reasons:
        fields[reason.partition(":")[0]] += 1
    RECORDS.labels("rejected").inc(sum(fields.values()))
    for field, count in fields.items():
        REJECTED.labels(field).inc(count)


class LabelCap:
    """Admits the first ``max_values`` distinct values of a label, then maps to "other"."""

    def __init__(self, max_values: int) -> None:
        self._max = max_values
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self._max:
                self._seen.add(value)
                return value
        return OVERFLOW_LABEL


class LlmMetrics:
    """Updates the three LLM metrics from stored rows (called from ingestion threads)."""

    def __init__(self, max_label_values: int) -> None:
        self._model = LabelCap(max_label_values)
        self._template = LabelCap(max_label_values)
        self._error_type = LabelCap(max_label_values)

    def observe(self, rows: Iterable[dict[str, Any]]) -> None:
        """Count one batch of newly stored rows."""
        # Grouping first means one labels() lookup per series instead of per record.
        latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
        tokens: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        errors: dict[tuple[str, str], int] = defaultdict(int)
        for row in rows:
            model = self._model(row["model"])
            latencies[model, self._template(row["prompt_template"])].append(row["latency_ms"])
            inputs, outputs = tokens[model]
            inputs.append(row["input_tokens"])
            outputs.append(row["output_tokens"])
            if row["status"] != SUCCESS:
                error_type = self._error_type(row["error_type"] or STATUS_NAMES[row["status"]])
                errors[model, error_type] += 1
        for labels, values in latencies.items():
            CALL_DURATION.observe_many(labels, np.asarray(values) / 1000.0)
        for model, (inputs, outputs) in tokens.items():
            TOKENS.observe_many((model, "input"), inputs)
            TOKENS.observe_many((model, "output"), outputs)
        for labels, count in errors.items():
            ERRORS.labels(*labels).inc(count)
