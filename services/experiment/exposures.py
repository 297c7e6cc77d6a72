"""Records first assignments off the Assign hot path, without losing any.

Assign only appends to an in-memory buffer; a background task writes the buffer in
batches (``INSERT ... ON CONFLICT DO NOTHING``) every ``flush_interval`` seconds or
as soon as ``batch_size`` rows wait. Guarantees, and their price:

* Graceful stop (SIGTERM/SIGINT): the server first lets in-flight calls finish,
  then :meth:`ExposureRecorder.close` writes everything still buffered. Only a
  crash (SIGKILL, power loss) can lose up to ``flush_interval`` of exposures.
* A failed write (database down) keeps its rows and retries on the next tick,
  logged and counted. The buffer is bounded by ``max_pending``: when it is full,
  Assign waits for the next flush instead of dropping rows, so a long database
  outage slows assignment down rather than losing exposures silently.
* Users already written are remembered (a bounded set), so the steady state of
  returning users costs no database work at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from prometheus_client import Counter, Gauge

from services.experiment.store import ExposureRow

logger = logging.getLogger(__name__)

EXPOSURES_WRITTEN = Counter(
    "llmops_experiment_exposures_written_total", "Exposure rows written to the database"
)
EXPOSURE_WRITE_FAILURES = Counter(
    "llmops_experiment_exposure_write_failures_total", "Failed exposure batch writes (retried)"
)
EXPOSURES_PENDING = Gauge(
    "llmops_experiment_exposures_pending", "Exposures buffered and not yet written"
)

ExposureKey = tuple[str, str, int, str]


def _key(row: ExposureRow) -> ExposureKey:
    return (row.tenant, row.experiment_id, row.version, row.user_id)


class ExposureRecorder:
    """Buffers exposures and writes them in batches from a background task."""

    def __init__(
        self,
        write: Callable[[Sequence[ExposureRow]], None],
        flush_interval: float,
        batch_size: int,
        max_pending: int,
        remembered: int = 1_000_000,
    ) -> None:
        self._write = write
        self._flush_interval = flush_interval
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._remembered = remembered
        # Insertion-ordered: the first assignment of a user in this process wins.
        self._pending: dict[ExposureKey, ExposureRow] = {}
        self._written: set[ExposureKey] = set()
        self._wake = asyncio.Event()
        self._flushed = asyncio.Condition()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        """Start the background writer (inside the running event loop)."""
        self._task = asyncio.create_task(self._run(), name="exposure-recorder")

    async def record(self, row: ExposureRow) -> None:
        """Buffer a first assignment; waits only when the buffer is full."""
        key = _key(row)
        if key in self._written or key in self._pending:
            return
        while len(self._pending) >= self._max_pending and not self._closing:
            self._wake.set()
            async with self._flushed:
                await self._flushed.wait()
        self._pending[key] = row
        EXPOSURES_PENDING.set(len(self._pending))
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        """Exposures buffered and not yet written."""
        return len(self._pending)

    async def flush(self) -> None:
        """Write everything buffered now; raises if the database refuses it."""
        async with self._lock:
            while self._pending:
                keys = list(self._pending)[: self._batch_size]
                rows = [self._pending[k] for k in keys]
                await asyncio.to_thread(self._write, rows)
                for k in keys:
                    del self._pending[k]
                if len(self._written) + len(keys) > self._remembered:
                    # Forgetting only costs a harmless duplicate insert later.
                    self._written.clear()
                self._written.update(keys)
                EXPOSURES_WRITTEN.inc(len(rows))
                EXPOSURES_PENDING.set(len(self._pending))
        async with self._flushed:
            self._flushed.notify_all()

    async def close(self, attempts: int = 3) -> None:
        """Stop the background task and write what is left (retrying a few times)."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for attempt in range(1, attempts + 1):
            try:
                await self.flush()
                return
            except Exception:
                EXPOSURE_WRITE_FAILURES.inc()
                logger.exception("final exposure flush failed (attempt %d)", attempt)
                await asyncio.sleep(0.5 * attempt)
        logger.error("%d exposures could not be written at shutdown", len(self._pending))

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._flush_interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                EXPOSURE_WRITE_FAILURES.inc()
                logger.exception("exposure flush failed; %d rows kept for retry", self.pending)
                async with self._flushed:
                    self._flushed.notify_all()
