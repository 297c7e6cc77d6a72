"""Drift gauges are exported for a bounded number of monitors."""

from __future__ import annotations

import logging
import uuid

import pytest
from prometheus_client import REGISTRY

from services.drift.metrics import DriftMetrics


def _gauge(name: str, tenant: str, monitor: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"tenant": tenant, "monitor": monitor})


def test_check_sets_gauges_and_counts_alarms() -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    metrics = DriftMetrics(max_monitors=5)
    metrics.record_check(tenant, "gpt-4o/answer", distance=0.2, p_value=0.001, drifted=True)
    metrics.record_check(tenant, "gpt-4o/answer", distance=0.01, p_value=0.6, drifted=False)
    assert _gauge("llmops_drift_distance", tenant, "gpt-4o/answer") == pytest.approx(0.01)
    assert _gauge("llmops_drift_p_value", tenant, "gpt-4o/answer") == pytest.approx(0.6)
    assert REGISTRY.get_sample_value("llmops_drift_alarms_total", {"tenant": tenant}) == 1


def test_monitors_beyond_the_cap_are_not_exported_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    metrics = DriftMetrics(max_monitors=2)
    with caplog.at_level(logging.WARNING):
        for i in range(5):
            metrics.record_check(tenant, f"m{i}", distance=0.1, p_value=0.5, drifted=True)
    assert _gauge("llmops_drift_distance", tenant, "m1") is not None
    assert _gauge("llmops_drift_distance", tenant, "m2") is None
    assert sum("capped" in r.getMessage() for r in caplog.records) == 1
    # Alarms are still counted for monitors without gauges.
    assert REGISTRY.get_sample_value("llmops_drift_alarms_total", {"tenant": tenant}) == 5


def test_forgetting_a_monitor_frees_its_slot() -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    metrics = DriftMetrics(max_monitors=1)
    metrics.record_check(tenant, "a", distance=0.1, p_value=0.5, drifted=False)
    metrics.forget(tenant, "a")
    assert _gauge("llmops_drift_distance", tenant, "a") is None
    metrics.record_check(tenant, "b", distance=0.3, p_value=0.2, drifted=False)
    assert _gauge("llmops_drift_distance", tenant, "b") == pytest.approx(0.3)
