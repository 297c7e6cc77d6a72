"""The LLM Prometheus metrics, computed from the records LogSink stores.

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
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Histogram

from services.logsink.records import STATUS_NAMES

OVERFLOW_LABEL = "other"
SUCCESS = 1

CALL_DURATION = Histogram(
    "llm_call_duration_seconds",
    "Latency of LLM calls as reported in stored call records",
    ["model", "prompt_template"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
# A histogram, so no _total suffix; the unit is tokens, which is not a base unit.
TOKENS = Histogram(
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
            child = CALL_DURATION.labels(*labels)
            for value in values:
                child.observe(value / 1000.0)
        for model, (inputs, outputs) in tokens.items():
            for direction, counts in (("input", inputs), ("output", outputs)):
                child = TOKENS.labels(model, direction)
                for count in counts:
                    child.observe(count)
        for labels, count in errors.items():
            ERRORS.labels(*labels).inc(count)
