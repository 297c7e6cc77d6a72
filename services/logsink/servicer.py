"""LogSinkService servicer: proto <-> domain; the engine does the work in worker threads."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from llmops.v1 import logsink_pb2, logsink_pb2_grpc

from services.common.db import create_engine
from services.common.errors import InvalidArgument
from services.common.internal import InternalCredentials
from services.common.objectstore import open_object_store
from services.common.server import ServiceSpec
from services.common.tenancy import current_tenant
from services.common.timestamps import to_micros
from services.logsink.engine import (
    BatchResult,
    LogSinkEngine,
    Outcome,
    PreparedBatch,
    Retention,
    now_us,
)
from services.logsink.forwarder import Forwarder
from services.logsink.metrics import LlmMetrics
from services.logsink.outbox import COST, DRIFT, EXPERIMENT, ForwardPlan
from services.logsink.records import VALID_STATUSES, Limits
from services.logsink.redaction import build_redactor
from services.logsink.settings import LogSinkSettings, TextMode
from services.logsink.store import RecordFilter, RecordStore, TenantScope

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_OUTCOMES = {
    Outcome.DUPLICATE: logsink_pb2.RECORD_OUTCOME_DUPLICATE,
    Outcome.REJECTED: logsink_pb2.RECORD_OUTCOME_REJECTED,
}


class LogSinkServicer(logsink_pb2_grpc.LogSinkServiceServicer):
    """Thin: decodes requests, awaits the engine off the event loop, encodes replies."""

    def __init__(self, engine: LogSinkEngine, on_stored: Callable[[], None]) -> None:
        self._engine = engine
        self._on_stored = on_stored

    async def _pipeline(
        self, requests: AsyncIterator[Any]
    ) -> AsyncIterator[tuple[Any, BatchResult]]:
        """Each request with its result once durable, in order, three batches in flight.

        Batch N+2 is validated, redacted and compressed while batch N+1's segment is
        written to the object store and batch N commits to SQL (each in a thread; the
        database driver, Zstandard and I/O release the GIL). Between two steps a queue
        holds one batch: when SQL or the object store is slow, the steps before it wait,
        the stream is no longer read, and gRPC flow control slows the client, so memory
        stays bounded by about five batches per stream.
        """
        tenant = current_tenant()
        prepared: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
        written: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)

        def prepare(request: Any) -> tuple[Any, PreparedBatch]:
            return request, self._engine.prepare(tenant, request.records)

        def write(item: tuple[Any, PreparedBatch]) -> tuple[Any, PreparedBatch]:
            self._engine.write_texts(item[1])
            return item

        steps = [
            asyncio.create_task(_step(requests, prepare, prepared)),
            asyncio.create_task(_step(_drain(prepared), write, written)),
        ]
        try:
            async for request, batch in _drain(written):
                result = await asyncio.to_thread(self._engine.commit, batch)
                if result.stored:
                    self._on_stored()
                yield request, result
        finally:
            for step in steps:
                step.cancel()
            await asyncio.gather(*steps, return_exceptions=True)

    async def WriteRecords(
        self,
        request_iterator: AsyncIterator[logsink_pb2.WriteRecordsRequest],
        context: grpc.aio.ServicerContext,
    ) -> logsink_pb2.WriteRecordsResponse:
        summary = logsink_pb2.WriteRecordsResponse()
        async for request, result in self._pipeline(request_iterator):
            offset = summary.received
            summary.received += len(request.records)
            summary.stored += result.stored
            summary.duplicates += result.duplicates
            # Indexes count across the whole stream, the only order the client knows.
            summary.rejected.extend(
                _result(r.index + offset, r.request_id, r.outcome, r.reason)
                for r in result.results
                if r.outcome is Outcome.REJECTED
            )
        return summary

    async def StreamRecords(
        self,
        request_iterator: AsyncIterator[logsink_pb2.StreamRecordsRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[logsink_pb2.StreamRecordsResponse]:
        async for request, result in self._pipeline(request_iterator):
            yield logsink_pb2.StreamRecordsResponse(
                batch_id=request.batch_id,
                stored=result.stored,
                duplicates=result.duplicates,
                rejected=result.rejected,
                results=[
                    _result(r.index, r.request_id, r.outcome, r.reason) for r in result.results
                ],
            )

    async def ListRecords(
        self, request: logsink_pb2.ListRecordsRequest, context: grpc.aio.ServicerContext
    ) -> logsink_pb2.ListRecordsResponse:
        where = _filter(request.filter, "filter")
        if request.page_size < 0:
            raise InvalidArgument("page_size", "must not be negative")
        page_size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        fingerprint = _fingerprint(request.filter)
        after = _decode_token(request.page_token, fingerprint) if request.page_token else None
        page, cursor = await asyncio.to_thread(
            self._engine.page, current_tenant(), where, page_size, after, request.include_text
        )
        return logsink_pb2.ListRecordsResponse(
            records=page,
            next_page_token=_encode_token(cursor, fingerprint) if cursor else "",
        )

    async def GetRecord(
        self, request: logsink_pb2.GetRecordRequest, context: grpc.aio.ServicerContext
    ) -> logsink_pb2.GetRecordResponse:
        if not request.request_id:
            raise InvalidArgument("request_id", "required")
        if "\x00" in request.request_id:
            # PostgreSQL text cannot hold NUL; no stored record has one.
            raise InvalidArgument("request_id", "must not contain NUL characters")
        found = await asyncio.to_thread(
            self._engine.get, current_tenant(), request.request_id, request.include_text
        )
        response = logsink_pb2.GetRecordResponse(record=found.record)
        response.ingest_time.FromMicroseconds(found.ingest_us)
        return response

    async def GetStats(
        self, request: logsink_pb2.GetStatsRequest, context: grpc.aio.ServicerContext
    ) -> logsink_pb2.GetStatsResponse:
        where = _filter(request.filter, "filter")
        dimensions = set(request.group_by)
        known = {logsink_pb2.STATS_GROUP_BY_MODEL, logsink_pb2.STATS_GROUP_BY_PROMPT_TEMPLATE}
        if not dimensions <= known:
            raise InvalidArgument("group_by", "must be MODEL or PROMPT_TEMPLATE")
        groups = await asyncio.to_thread(
            self._engine.stats,
            current_tenant(),
            where,
            logsink_pb2.STATS_GROUP_BY_MODEL in dimensions,
            logsink_pb2.STATS_GROUP_BY_PROMPT_TEMPLATE in dimensions,
        )
        return logsink_pb2.GetStatsResponse(
            groups=[
                logsink_pb2.StatsGroup(
                    model=g.model,
                    prompt_template=g.prompt_template,
                    count=g.count,
                    error_count=g.error_count,
                    error_rate=g.error_count / g.count,
                    latency_p50_ms=g.latency_p50_ms,
                    latency_p95_ms=g.latency_p95_ms,
                    latency_p99_ms=g.latency_p99_ms,
                    input_tokens=g.input_tokens,
                    output_tokens=g.output_tokens,
                    cache_read_input_tokens=g.cache_read_input_tokens,
                    reasoning_output_tokens=g.reasoning_output_tokens,
                )
                for g in groups
            ]
        )

    async def PurgeRecords(
        self, request: logsink_pb2.PurgeRecordsRequest, context: grpc.aio.ServicerContext
    ) -> logsink_pb2.PurgeRecordsResponse:
        if not request.HasField("before"):
            raise InvalidArgument("before", "required")
        deleted, segments = await asyncio.to_thread(
            self._engine.purge,
            TenantScope(tenant=current_tenant()),
            to_micros(request.before, "before"),
        )
        return logsink_pb2.PurgeRecordsResponse(deleted_records=deleted, deleted_segments=segments)


def _result(index: int, request_id: str, outcome: Outcome, reason: str) -> logsink_pb2.RecordResult:
    return logsink_pb2.RecordResult(
        request_id=request_id, index=index, outcome=_OUTCOMES[outcome], reason=reason
    )


def _filter(message: logsink_pb2.RecordFilter, field: str) -> RecordFilter:
    time_range = message.time_range
    start = (
        to_micros(time_range.start_time, f"{field}.time_range.start_time")
        if time_range.HasField("start_time")
        else None
    )
    end = (
        to_micros(time_range.end_time, f"{field}.time_range.end_time")
        if time_range.HasField("end_time")
        else None
    )
    if start is not None and end is not None and end <= start:
        raise InvalidArgument(f"{field}.time_range", "end_time must be after start_time")
    if message.status and message.status not in VALID_STATUSES:
        raise InvalidArgument(f"{field}.status", f"unknown status {message.status}")
    for name in ("model", "prompt_template", "user_id", "experiment_id", "variant"):
        if "\x00" in getattr(message, name):
            # PostgreSQL text cannot hold NUL; no stored record has one.
            raise InvalidArgument(f"{field}.{name}", "must not contain NUL characters")
    return RecordFilter(
        start_us=start,
        end_us=end,
        model=message.model,
        prompt_template=message.prompt_template,
        status=message.status,
        user_id=message.user_id,
        experiment_id=message.experiment_id,
        variant=message.variant,
    )


def _fingerprint(message: logsink_pb2.RecordFilter) -> str:
    # Deterministic serialization: the same filter always gives the same bytes.
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()[:16]


def _encode_token(cursor: tuple[int, int], fingerprint: str) -> str:
    """An opaque keyset cursor: the last (timestamp, id) seen, bound to the filter."""
    document = json.dumps({"t": cursor[0], "i": cursor[1], "f": fingerprint})
    return base64.urlsafe_b64encode(document.encode()).decode()


def _decode_token(token: str, fingerprint: str) -> tuple[int, int]:
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        cursor = (int(document["t"]), int(document["i"]))
        same_filter = document["f"] == fingerprint
    except (ValueError, TypeError, KeyError, OverflowError):
        raise InvalidArgument("page_token", "malformed page token") from None
    # Both are BIGINT columns: a forged value outside them fails in the driver.
    if not all(-(2**63) <= value < 2**63 for value in cursor):
        raise InvalidArgument("page_token", "malformed page token")
    if not same_filter:
        raise InvalidArgument("page_token", "page token belongs to a different filter")
    return cursor


async def _step(
    items: AsyncIterator[Any], work: Callable[[Any], Any], out: asyncio.Queue[Any]
) -> None:
    """Put ``work(item)`` (run in a thread) for each item into ``out``, in order, then None.

    A failure, of ``work`` or of ``items``, is put into ``out`` instead and ends the step:
    the results before it still come out first, then the RPC fails with it.
    """
    try:
        async for item in items:
            await out.put(await asyncio.to_thread(work, item))
    except Exception as exc:
        await out.put(exc)
        return
    await out.put(None)


async def _drain(queue: asyncio.Queue[Any]) -> AsyncIterator[Any]:
    """What a :func:`_step` put into ``queue``, raising the failure it ended with."""
    while (item := await queue.get()) is not None:
        if isinstance(item, Exception):
            raise item
        yield item


async def _periodic(interval: float, job: Callable[[], Awaitable[Any]], name: str) -> None:
    while True:
        try:
            await job()
        except Exception:
            logger.exception("%s failed; next run in %.0f s", name, interval)
        await asyncio.sleep(interval)


async def create_servicer(
    settings: LogSinkSettings,
) -> tuple[LogSinkServicer, Callable[[], Awaitable[None]]]:
    """Open storage, migrate, start the forwarder and retention job."""
    sql = create_engine(settings.database_url)
    store = RecordStore(sql)
    await asyncio.to_thread(store.migrate)
    objects = open_object_store(settings)
    addresses = {
        COST: settings.cost_address,
        EXPERIMENT: settings.experiment_address,
        DRIFT: settings.drift_address,
    }
    engine = LogSinkEngine(
        store,
        objects,
        limits=Limits(
            max_text_bytes=settings.max_text_bytes,
            max_future_us=int(settings.max_future_seconds * 1_000_000),
        ),
        text_mode=settings.text_mode,
        redactor=build_redactor(settings) if settings.text_mode is TextMode.REDACTED else None,
        forward=ForwardPlan(
            cost=bool(settings.cost_address),
            experiment=bool(settings.experiment_address),
            drift_sample_rate=settings.drift_sample_rate if settings.drift_address else 0.0,
        ),
        metrics=LlmMetrics(settings.metrics_max_label_values),
    )
    forwarder = Forwarder(
        store,
        addresses,
        timeout_seconds=settings.forward_timeout_seconds,
        max_backoff_seconds=settings.forward_max_backoff_seconds,
        interval_seconds=settings.forward_interval_seconds,
        credentials=InternalCredentials.from_settings(settings),
    )
    tasks = []
    if any(addresses.values()):
        tasks.append(asyncio.create_task(forwarder.run(), name="logsink-forwarder"))
    retention = Retention(settings.retention_days, settings.retention_overrides)
    if retention.enabled:

        async def retain() -> None:
            await asyncio.to_thread(retention.run, engine, now_us())

        tasks.append(
            asyncio.create_task(
                _periodic(settings.retention_interval_seconds, retain, "retention"),
                name="logsink-retention",
            )
        )

    async def close() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await forwarder.close()
        sql.dispose()

    return LogSinkServicer(engine, forwarder.wake), close


SPEC = ServiceSpec(
    name="logsink",
    service_name=logsink_pb2.DESCRIPTOR.services_by_name["LogSinkService"].full_name,
    settings_cls=LogSinkSettings,
    add_to_server=logsink_pb2_grpc.add_LogSinkServiceServicer_to_server,
    factory=create_servicer,
)
