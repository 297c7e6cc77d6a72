"""Prometheus export of a shipper's counts, for applications that serve metrics.

The client library itself does not depend on ``prometheus_client``; importing this
module does (``pip install 'llmops-client[prometheus]'``)::

    from prometheus_client import REGISTRY
    from llmops.prometheus import ShipperCollector

    REGISTRY.register(ShipperCollector(monitor.shipper))

Every outcome of :class:`llmops.shipper.ShipperStats` becomes a counter
``llmops_client_records_<outcome>_total``; the shipped alert
``ShipperDroppingRecords`` watches ``llmops_client_records_dropped_total``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from llmops.shipper import ShipperStats

OUTCOMES = ("stored", "duplicates", "rejected", "spooled", "dropped")


class _HasStats(Protocol):
    stats: ShipperStats


class ShipperCollector(Collector):
    """Exports a shipper's counts (records, not batches) as Prometheus counters."""

    def __init__(self, shipper: _HasStats) -> None:
        self._shipper = shipper

    def collect(self) -> Iterator[CounterMetricFamily]:
        stats = self._shipper.stats
        for outcome in OUTCOMES:
            yield CounterMetricFamily(
                f"llmops_client_records_{outcome}",
                f"Call records the llmops shipper {outcome} (records, not batches)",
                value=getattr(stats, outcome),
            )
