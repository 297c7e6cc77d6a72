"""Delivers outbox entries to CostService, ExperimentService and DriftService.

At-least-once: an entry is deleted only after its target answered OK, and retried
with exponential backoff and jitter otherwise, surviving restarts because it lives
in SQL. Entries already carry the serialized request, so they are sent as bytes
without being parsed again. A request the target rejects as malformed
(INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, OUT_OF_RANGE) would fail the same
way forever: it is dropped, logged and counted instead of blocking the outbox. Any
other failure (the target down, overloaded, misconfigured) is retried.

Several LogSink replicas may deliver the same entry concurrently; receivers are
idempotent by request_id, so the worst case is a duplicate call, never a lost one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from typing import Any

import grpc
from llmops.v1 import cost_pb2, drift_pb2, experiment_pb2
from prometheus_client import Counter, Gauge

from services.common.internal import PLAINTEXT, InternalCredentials
from services.logsink.engine import now_us
from services.logsink.outbox import COST, DRIFT, EXPERIMENT
from services.logsink.store import PendingDelivery, RecordStore

logger = logging.getLogger(__name__)

DELIVERIES = Counter(
    "logsink_forward_deliveries",
    "Outbox delivery attempts by target and result (delivered, retry, dropped)",
    ["target", "result"],
)
BACKLOG = Gauge("logsink_outbox_pending", "Outbox entries waiting for delivery")

_PERMANENT = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.OUT_OF_RANGE,
    }
)
_BASE_BACKOFF_SECONDS = 0.5


def _method(pb2: object, service: str, method: str) -> str:
    descriptor = pb2.DESCRIPTOR.services_by_name[service]  # type: ignore[attr-defined]
    return f"/{descriptor.full_name}/{method}"


_METHODS: dict[str, tuple[str, Any]] = {
    COST: (_method(cost_pb2, "CostService", "RecordSpend"), cost_pb2.RecordSpendResponse),
    EXPERIMENT: (
        _method(experiment_pb2, "ExperimentService", "RecordCallOutcomes"),
        experiment_pb2.RecordCallOutcomesResponse,
    ),
    DRIFT: (_method(drift_pb2, "DriftService", "Observe"), drift_pb2.ObserveResponse),
}


def backoff_seconds(attempts: int, max_seconds: float) -> float:
    """Exponential backoff with full jitter in its upper half, capped at ``max_seconds``."""
    ceiling = min(max_seconds, _BASE_BACKOFF_SECONDS * 2 ** min(attempts, 30))
    return ceiling * random.uniform(0.5, 1.0)


class Forwarder:
    """The outbox worker: one long-lived channel per enabled target."""

    def __init__(
        self,
        store: RecordStore,
        addresses: Mapping[str, str],
        *,
        timeout_seconds: float,
        max_backoff_seconds: float,
        interval_seconds: float,
        batch_limit: int = 64,
        credentials: InternalCredentials = PLAINTEXT,
    ) -> None:
        self._store = store
        self._credentials = credentials
        self._timeout = timeout_seconds
        self._max_backoff = max_backoff_seconds
        self._interval = interval_seconds
        self._limit = batch_limit
        self._wake = asyncio.Event()
        self._channels = {
            target: credentials.channel(address) for target, address in addresses.items() if address
        }
        self._calls = {
            target: channel.unary_unary(
                _METHODS[target][0],
                request_serializer=None,
                response_deserializer=_METHODS[target][1].FromString,
            )
            for target, channel in self._channels.items()
        }

    def wake(self) -> None:
        """New entries were committed: deliver them now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; database errors are logged and retried next round."""
        while True:
            try:
                delivered = await self.deliver_due()
            except Exception:
                logger.exception("outbox pass failed; retrying")
                delivered = 0
            if delivered >= self._limit:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()

    async def deliver_due(self) -> int:
        """One pass over the due entries; returns how many were attempted."""
        due = await asyncio.to_thread(self._store.due_deliveries, now_us(), self._limit)
        await asyncio.gather(*(self._deliver(entry) for entry in due))
        BACKLOG.set(await asyncio.to_thread(self._store.pending_deliveries))
        return len(due)

    async def _deliver(self, entry: PendingDelivery) -> None:
        call = self._calls.get(entry.target)
        if call is None:
            # The target was disabled after the entry was written: nobody will take it.
            await self._drop(entry, "target disabled")
            return
        try:
            await call(
                entry.payload,
                timeout=self._timeout,
                metadata=self._credentials.metadata(entry.tenant),
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in _PERMANENT:
                await self._drop(entry, f"{exc.code().name}: {exc.details()}")
                return
            attempts = entry.attempts + 1
            delay = backoff_seconds(attempts, self._max_backoff)
            logger.warning(
                "delivery to %s failed (%s), attempt %d, retrying in %.1f s",
                entry.target,
                exc.code().name,
                attempts,
                delay,
            )
            DELIVERIES.labels(entry.target, "retry").inc()
            await asyncio.to_thread(
                self._store.retry_later,
                entry.id,
                attempts,
                now_us() + int(delay * 1_000_000),
                f"{exc.code().name}: {exc.details()}",
            )
            return
        DELIVERIES.labels(entry.target, "delivered").inc()
        await asyncio.to_thread(self._store.delivered, entry.id)

    async def _drop(self, entry: PendingDelivery, why: str) -> None:
        logger.error("dropping outbox entry %d for %s: %s", entry.id, entry.target, why)
        DELIVERIES.labels(entry.target, "dropped").inc()
        await asyncio.to_thread(self._store.delivered, entry.id)

    async def close(self) -> None:
        """Close the channels (the loop is cancelled by its owner)."""
        for channel in self._channels.values():
            await channel.close()
