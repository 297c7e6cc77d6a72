"""Background shipper of call records to LogSink, modelled on OpenTelemetry's BatchProcessor.

The application thread only appends to a bounded deque (:meth:`Shipper.enqueue`). One
worker thread, woken when a batch is full or every ``interval`` seconds, sends batches
on one long-lived ``StreamRecords`` stream and waits for their acknowledgements, matched
by ``batch_id`` (a few batches may be in flight at once). What cannot be delivered is
never dropped silently:

* LogSink unreachable, or a stream broken before an ack → the un-acknowledged batches
  and whatever is queued go to the disk spool; the worker reconnects with exponential
  backoff and jitter (honouring a server-sent ``RetryInfo`` delay) and replays the
  spool oldest first, deleting each file only after its ack. Storage is idempotent by
  ``request_id`` on the server, so a batch replayed after a lost ack is stored once.
* Queue full (the worker cannot keep up) → the application thread moves the whole
  queue into one spool file and carries on.
* Spool full too, or a non-retryable error (bad API key, ...) → the records are
  dropped, counted in :attr:`Shipper.dropped` and logged.

Records the server rejects individually (invalid fields) are counted in ``rejected``
and logged with their reason; resending them unchanged would not help.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from llmops.spool import Spool
from llmops.v1 import common_pb2, logsink_pb2, logsink_pb2_grpc

logger = logging.getLogger(__name__)

# The codes OpenTelemetry's OTLP exporter retries: transient by definition.
RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)

# How long a closing shipper waits for LogSink to end the stream after the half-close
# (every batch is acknowledged by then, so it only has to return); also bounded by the
# time left of close(timeout).
STREAM_CLOSE_TIMEOUT = 1.0

Metadata = Sequence[tuple[str, str]]


@dataclass
class ShipperStats:
    """Counters since the shipper started (records, not batches)."""

    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    spooled: int = 0
    dropped: int = 0


@dataclass
class _Batch:
    batch_id: str
    records: list[common_pb2.CallRecord]
    spool_path: Path | None
    done: threading.Event = field(default_factory=threading.Event)
    ack: logsink_pb2.StreamRecordsResponse | None = None
    error: _StreamError | None = None


class _StreamError(Exception):
    def __init__(
        self, code: grpc.StatusCode, details: str, retry_delay: float | None = None
    ) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.retry_delay = retry_delay


class _RecordStream:
    """One ``StreamRecords`` call: a request queue in, a reader thread resolving acks."""

    _CLOSE = object()

    def __init__(self, stub: logsink_pb2_grpc.LogSinkServiceStub, metadata: Metadata) -> None:
        self._requests: deque[Any] = deque()
        self._have_request = threading.Condition()
        self._lock = threading.Lock()
        self._batches: dict[str, _Batch] = {}
        self._error: _StreamError | None = None
        self._call = stub.StreamRecords(self._request_iterator(), metadata=metadata)
        self._reader = threading.Thread(target=self._read, name="llmops-shipper-acks", daemon=True)
        self._reader.start()

    def send(self, batch: _Batch) -> None:
        with self._lock:
            if self._error is not None:
                raise self._error
            self._batches[batch.batch_id] = batch
        request = logsink_pb2.StreamRecordsRequest(batch_id=batch.batch_id, records=batch.records)
        with self._have_request:
            self._requests.append(request)
            self._have_request.notify()

    def close(self, timeout: float) -> None:
        """Half-close, then let LogSink end the call with its status within ``timeout``.

        Cancelling straight away would show every shipper restart as a CANCELLED call
        on the server; cancel only when LogSink does not answer the half-close in time.
        """
        with self._have_request:
            self._requests.append(self._CLOSE)
            self._have_request.notify()
        self._reader.join(timeout)
        if self._reader.is_alive():
            self._call.cancel()

    def cancel(self) -> None:
        """Abandon a broken or silent stream now; its un-acknowledged batches are kept."""
        with self._have_request:
            self._requests.append(self._CLOSE)
            self._have_request.notify()
        self._call.cancel()

    def _request_iterator(self) -> Any:
        while True:
            with self._have_request:
                while not self._requests:
                    self._have_request.wait()
                request = self._requests.popleft()
            if request is self._CLOSE:
                return
            yield request

    def _read(self) -> None:
        error = _StreamError(grpc.StatusCode.UNAVAILABLE, "LogSink closed the stream")
        try:
            for ack in self._call:
                with self._lock:
                    batch = self._batches.pop(ack.batch_id, None)
                if batch is not None:
                    batch.ack = ack
                    batch.done.set()
        except grpc.RpcError as exc:
            error = _StreamError(exc.code(), exc.details() or "", _retry_delay(exc))
        with self._lock:
            self._error = error
            orphans = list(self._batches.values())
            self._batches.clear()
        # Unblock the request iterator thread grpc runs for this call.
        with self._have_request:
            self._requests.append(self._CLOSE)
            self._have_request.notify()
        for batch in orphans:
            batch.error = error
            batch.done.set()


def _retry_delay(exc: grpc.RpcError) -> float | None:
    """The server's ``google.rpc.RetryInfo`` delay, when it sent one."""
    try:
        status = rpc_status.from_call(exc)
    except ValueError:
        return None
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.ToTimedelta().total_seconds()
    return None


class Shipper:
    """Ships :class:`CallRecord` messages to LogSink in the background.

    ``channel_factory`` builds the channel to LogSink; it is called in the worker (and
    again after a fork, since a gRPC channel cannot cross one). ``spool_dir=None``
    disables the disk spool: undeliverable records then wait in memory, bounded by
    ``max_queue``.
    """

    def __init__(
        self,
        channel_factory: Callable[[], grpc.Channel],
        *,
        metadata: Metadata = (),
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = 256 * 1024 * 1024,
        max_queue: int = 8192,
        batch_size: int = 256,
        max_batch_bytes: int = 2 * 1024 * 1024,
        interval: float = 1.0,
        max_in_flight: int = 4,
        ack_timeout: float = 10.0,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        if batch_size < 1 or max_queue < batch_size:
            raise ValueError("need 1 <= batch_size <= max_queue")
        self._channel_factory = channel_factory
        self._metadata = tuple(metadata)
        self._spool = Spool(spool_dir, spool_max_bytes) if spool_dir is not None else None
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._max_batch_bytes = max_batch_bytes
        self._interval = interval
        self._max_in_flight = max_in_flight
        self._ack_timeout = ack_timeout
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self.stats = ShipperStats()
        self._init_state()
        self._closed = False
        self._start_worker()
        atexit.register(self._atexit)
        reference = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _reinit_in_child(reference))

    @property
    def dropped(self) -> int:
        """Records lost because the spool was full or LogSink refused them for good."""
        return self.stats.dropped

    @property
    def queued(self) -> int:
        return len(self._queue)

    def enqueue(self, record: common_pb2.CallRecord) -> None:
        """Hand one record over; never blocks on the network. Safe from any thread."""
        queue = self._queue
        if len(queue) >= self._max_queue or self._closed:
            self._overflow(record)
            return
        queue.append(record)
        if len(queue) >= self._batch_size:
            self._wake.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything enqueued so far (spool included) is acknowledged.

        Returns False if that did not happen within ``timeout``; the records are then
        still queued or spooled and will be shipped later.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if not self._progress.acquire(timeout=max(0.0, remaining)):
                return False
            try:
                if self._drained():
                    return True
                if remaining <= 0 or not self._worker.is_alive():
                    return False
                self._cycled.clear()
                self._wake.set()
            finally:
                self._progress.release()
            # Not Condition.wait: re-taking the lock after it would wait out a whole
            # cycle, which lasts up to ack_timeout while LogSink hangs, past ``timeout``.
            self._cycled.wait(min(remaining, self._interval))

    def close(self, timeout: float = 10.0) -> bool:
        """Flush within ``timeout``, spool what is left, stop the worker. Idempotent."""
        if self._closed:
            return self._drained()
        delivered = self.flush(timeout)
        self._closed = True
        join_timeout = max(1.0, timeout)
        self._stop_by = time.monotonic() + join_timeout
        self._stopping = True
        self._wake.set()
        self._worker.join(join_timeout)
        atexit.unregister(self._atexit)
        return delivered

    def _init_state(self) -> None:
        self._queue: deque[common_pb2.CallRecord] = deque()
        self._wake = threading.Event()
        self._progress = threading.Lock()
        self._cycled = threading.Event()
        self._counter_lock = threading.Lock()
        self._overflow_lock = threading.Lock()
        self._batch_ids = itertools.count()
        self._in_flight: deque[_Batch] = deque()
        self._stream: _RecordStream | None = None
        self._channel: grpc.Channel | None = None
        self._stub: logsink_pb2_grpc.LogSinkServiceStub | None = None
        self._retry_at = 0.0
        self._failures = 0
        self._stop_by = 0.0
        self._stopping = False

    def _start_worker(self) -> None:
        self._worker = threading.Thread(target=self._run, name="llmops-shipper", daemon=True)
        self._worker.start()

    def _atexit(self) -> None:
        self.close(timeout=5.0)

    def _count(self, name: str, n: int) -> None:
        with self._counter_lock:
            setattr(self.stats, name, getattr(self.stats, name) + n)

    def _drained(self) -> bool:
        spool_empty = self._spool is None or self._spool.size_bytes == 0
        return not self._queue and not self._in_flight and spool_empty

    def _overflow(self, record: common_pb2.CallRecord) -> None:
        """Queue full: move it to the spool in one file rather than drop anything."""
        with self._overflow_lock:
            records = [record]
            while self._queue and len(records) < self._max_queue:
                records.append(self._queue.popleft())
        self._park(records)
        self._wake.set()

    def _park(self, records: list[common_pb2.CallRecord]) -> None:
        """Keep undeliverable records for later: spool, else memory, else count a drop."""
        if self._spool is not None:
            if self._spool.write(records):
                self._count("spooled", len(records))
                return
            reason = "spool full"
        else:
            room = self._max_queue - len(self._queue)
            self._queue.extendleft(reversed(records[:room]))
            records = records[room:]
            reason = "queue full and no spool"
        if records:
            self._drop(len(records), reason)

    def _drop(self, n: int, reason: str) -> None:
        self._count("dropped", n)
        logger.error(
            "llmops shipper dropped %d records (%s); %d dropped in total",
            n,
            reason,
            self.stats.dropped,
        )

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            stopping = self._stopping
            # Holding the lock for the whole cycle means flush() only ever sees the state
            # between cycles, never a batch that has left the queue but is not in flight.
            with self._progress:
                try:
                    self._cycle(final=stopping)
                except Exception:
                    logger.exception("llmops shipper cycle failed; records are kept")
                self._cycled.set()
            if stopping:
                break
        with self._progress:
            self._shutdown()
            self._cycled.set()

    def _cycle(self, final: bool) -> None:
        if time.monotonic() < self._retry_at:
            if self._spool is not None:
                self._spool_queue()
            return
        try:
            self._replay_spool()
            self._ship_queue(final)
        except _StreamError as error:
            self._on_failure(error)
            if final and self._spool is not None:
                self._spool_queue()

    def _replay_spool(self) -> None:
        if self._spool is None:
            return
        for path in self._spool.oldest():
            try:
                records = self._spool.read(path)
            except DecodeError:
                logger.error("llmops shipper: unreadable spool file %s removed", path.name)
                self._spool.delete(path)
                continue
            if records is not None:
                self._send(records, path)
        self._await_all()

    def _ship_queue(self, final: bool) -> None:
        # Partial batches go out on every wake-up: the interval bounds a record's delay.
        while batch := self._take_batch():
            self._send(batch, None)
            if not final and len(self._queue) < self._batch_size:
                break
        self._await_all()

    def _take_batch(self) -> list[common_pb2.CallRecord]:
        records: list[common_pb2.CallRecord] = []
        size = 0
        while len(records) < self._batch_size:
            # popleft, not peek-then-pop: an overflowing app thread may empty the queue
            # between the two.
            try:
                record = self._queue.popleft()
            except IndexError:
                break
            record_size = record.ByteSize()
            if records and size + record_size > self._max_batch_bytes:
                self._queue.appendleft(record)
                break
            records.append(record)
            size += record_size
        return records

    def _spool_queue(self) -> None:
        while batch := self._take_batch():
            self._park(batch)

    def _send(self, records: list[common_pb2.CallRecord], spool_path: Path | None) -> None:
        batch = _Batch(f"{os.getpid()}-{next(self._batch_ids)}", records, spool_path)
        try:
            while len(self._in_flight) >= self._max_in_flight:
                self._await_oldest()
        finally:
            # In flight from here on, so a failure while waiting keeps its records too.
            self._in_flight.append(batch)
        self._open_stream().send(batch)

    def _open_stream(self) -> _RecordStream:
        if self._stream is None:
            if self._stub is None:
                self._channel = self._channel_factory()
                self._stub = logsink_pb2_grpc.LogSinkServiceStub(self._channel)
            self._stream = _RecordStream(self._stub, self._metadata)
        return self._stream

    def _await_all(self) -> None:
        while self._in_flight:
            self._await_oldest()

    def _await_oldest(self) -> None:
        batch = self._in_flight[0]
        if not batch.done.wait(self._ack_timeout):
            raise _StreamError(grpc.StatusCode.DEADLINE_EXCEEDED, "no acknowledgement in time")
        if batch.error is not None:
            raise batch.error
        self._in_flight.popleft()
        self._on_ack(batch)

    def _on_ack(self, batch: _Batch) -> None:
        ack = batch.ack
        assert ack is not None
        if self._failures:
            logger.warning("llmops shipper: LogSink reachable again, resuming")
            self._failures = 0
        self._count("stored", ack.stored)
        self._count("duplicates", ack.duplicates)
        if ack.rejected:
            self._count("rejected", ack.rejected)
            for result in ack.results:
                if result.outcome == logsink_pb2.RECORD_OUTCOME_REJECTED:
                    logger.warning(
                        "LogSink rejected record %s: %s", result.request_id, result.reason
                    )
        if batch.spool_path is not None and self._spool is not None:
            self._spool.delete(batch.spool_path)

    def _on_failure(self, error: _StreamError) -> None:
        """Drop the stream, keep (or, if not retryable, count) what was not acknowledged."""
        if self._stream is not None:
            self._stream.cancel()
            self._stream = None
        unacked = list(self._in_flight)
        self._in_flight.clear()
        retryable = error.code in RETRYABLE_CODES
        for batch in unacked:
            if retryable:
                if batch.spool_path is None:
                    self._park(batch.records)
            else:
                if batch.spool_path is not None and self._spool is not None:
                    self._spool.delete(batch.spool_path)
                self._drop(len(batch.records), f"LogSink refused them: {error.code.name}")
        self._failures += 1
        backoff = min(self._max_backoff, self._initial_backoff * 2 ** (self._failures - 1))
        # Full jitter keeps many clients from reconnecting in lockstep after an outage.
        delay = random.uniform(0, backoff)
        if error.retry_delay is not None:
            delay = max(delay, error.retry_delay)
        self._retry_at = time.monotonic() + delay
        log = logger.warning if self._failures == 1 else logger.debug
        log(
            "llmops shipper: LogSink stream failed (%s: %s); retrying in %.2f s, "
            "undelivered records are %s",
            error.code.name,
            error.details,
            delay,
            "spooled" if self._spool is not None else "kept in memory",
        )

    def _shutdown(self) -> None:
        """Worker exit: keep anything undelivered on disk, then release the channel."""
        if self._in_flight:
            self._on_failure(_StreamError(grpc.StatusCode.CANCELLED, "shipper closing"))
        if self._spool is not None:
            self._spool_queue()
        if self._stream is not None:
            remaining = self._stop_by - time.monotonic()
            self._stream.close(max(0.0, min(STREAM_CLOSE_TIMEOUT, remaining)))
            self._stream = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._queue:
            logger.error(
                "llmops shipper closed with %d undelivered records in memory", len(self._queue)
            )

    def _reinit_after_fork(self) -> None:
        # The parent still owns (and will ship) its queued records and spool files it
        # is replaying; the child starts empty with fresh locks, threads and channel.
        self._init_state()
        self.stats = ShipperStats()
        if self._spool is not None:
            self._spool = Spool(self._spool.directory, self._spool.max_bytes)
        if not self._closed:
            self._start_worker()


def _reinit_in_child(reference: weakref.ref[Shipper]) -> None:
    shipper = reference()
    if shipper is not None:
        shipper._reinit_after_fork()
