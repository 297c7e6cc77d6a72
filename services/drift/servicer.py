"""DriftService servicer: decodes requests and hands them to the engine (proto <-> domain)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import grpc
from google.protobuf import timestamp_pb2
from llmops.v1 import drift_pb2, drift_pb2_grpc

from services.common.db import create_engine
from services.common.embeddings import get_encoder
from services.common.errors import InvalidArgument
from services.common.internal import InternalCredentials
from services.common.objectstore import open_object_store
from services.common.server import ServiceSpec
from services.common.tenancy import current_tenant
from services.drift.batcher import MicroBatcher
from services.drift.engine import DriftEngine, DriftReport, MonitorInfo, check_monitor_id
from services.drift.metrics import DriftMetrics
from services.drift.records import LogSinkRecords
from services.drift.settings import DriftSettings, resolve_device
from services.drift.store import DriftStore

logger = logging.getLogger(__name__)


class DriftServicer(drift_pb2_grpc.DriftServiceServicer):
    """Thin adapter: every RPC awaits one engine call."""

    def __init__(self, engine: DriftEngine, records: LogSinkRecords) -> None:
        self._engine = engine
        self._records = records

    async def Observe(
        self, request: drift_pb2.ObserveRequest, context: grpc.aio.ServicerContext
    ) -> drift_pb2.ObserveResponse:
        result = await self._engine.observe(
            current_tenant(), request.monitor_id, request.texts, request.request_ids
        )
        return drift_pb2.ObserveResponse(
            accepted=result.accepted,
            skipped_empty=result.skipped_empty,
            window_size=result.window_size,
            duplicates=result.duplicates,
        )

    async def SetBaseline(
        self, request: drift_pb2.SetBaselineRequest, context: grpc.aio.ServicerContext
    ) -> drift_pb2.SetBaselineResponse:
        tenant = current_tenant()
        source = request.WhichOneof("source")
        if source == "texts":
            texts, field = list(request.texts.texts), "texts.texts"
        elif source == "records":
            check_monitor_id(request.monitor_id)
            texts = await self._records.response_texts(request.records, tenant)
            field = "records"
        else:
            raise InvalidArgument("source", "set either texts or records")
        monitor, skipped = await self._engine.set_baseline(tenant, request.monitor_id, texts, field)
        return drift_pb2.SetBaselineResponse(monitor=_monitor(monitor), skipped_empty=skipped)

    async def CheckDrift(
        self, request: drift_pb2.CheckDriftRequest, context: grpc.aio.ServicerContext
    ) -> drift_pb2.CheckDriftResponse:
        report = await self._engine.check(current_tenant(), request.monitor_id, request.alpha)
        return _report(report)

    async def ScoreTexts(
        self, request: drift_pb2.ScoreTextsRequest, context: grpc.aio.ServicerContext
    ) -> drift_pb2.ScoreTextsResponse:
        scores = await self._engine.score(current_tenant(), request.monitor_id, request.texts)
        return drift_pb2.ScoreTextsResponse(
            distances=scores.distances, outlier_threshold=scores.outlier_threshold
        )

    async def ListMonitors(
        self, request: drift_pb2.ListMonitorsRequest, context: grpc.aio.ServicerContext
    ) -> drift_pb2.ListMonitorsResponse:
        monitors, next_token = await self._engine.list_monitors(
            current_tenant(), request.page_size, request.page_token
        )
        return drift_pb2.ListMonitorsResponse(
            monitors=[_monitor(m) for m in monitors], next_page_token=next_token
        )

    async def GetMonitor(
        self, request: drift_pb2.GetMonitorRequest, context: grpc.aio.ServicerContext
    ) -> drift_pb2.GetMonitorResponse:
        monitor = await self._engine.get_monitor(current_tenant(), request.monitor_id)
        return drift_pb2.GetMonitorResponse(monitor=_monitor(monitor))

    async def DeleteMonitor(
        self, request: drift_pb2.DeleteMonitorRequest, context: grpc.aio.ServicerContext
    ) -> drift_pb2.DeleteMonitorResponse:
        await self._engine.delete_monitor(current_tenant(), request.monitor_id)
        return drift_pb2.DeleteMonitorResponse()


def _report(report: DriftReport) -> drift_pb2.CheckDriftResponse:
    check_time = timestamp_pb2.Timestamp()
    check_time.FromDatetime(report.check_time)
    return drift_pb2.CheckDriftResponse(
        monitor_id=report.monitor_id,
        drifted=report.drifted,
        distance=report.distance,
        distance_threshold=report.distance_threshold,
        p_value=report.p_value,
        alpha=report.alpha,
        test=report.test,
        statistic=report.statistic,
        baseline_size=report.baseline_size,
        window_size=report.window_size,
        baseline_examples=[
            drift_pb2.DriftExample(text=e.text, distance=e.distance)
            for e in report.baseline_examples
        ],
        window_examples=[
            drift_pb2.DriftExample(text=e.text, distance=e.distance) for e in report.window_examples
        ],
        check_time=check_time,
    )


def _monitor(monitor: MonitorInfo) -> drift_pb2.Monitor:
    message = drift_pb2.Monitor(
        monitor_id=monitor.monitor_id,
        baseline_size=monitor.baseline_size,
        window_size=monitor.window_size,
        window_capacity=monitor.window_capacity,
        distance_threshold=monitor.distance_threshold,
    )
    if monitor.baseline_time is not None:
        message.baseline_time.FromDatetime(monitor.baseline_time)
    if monitor.last_check is not None:
        message.last_check.CopyFrom(_report(monitor.last_check))
    return message


async def create_servicer(
    settings: DriftSettings,
) -> tuple[DriftServicer, Callable[[], Awaitable[None]]]:
    """Open the database and object store, load the model, and build the servicer."""
    import torch

    device = resolve_device(settings.drift_device, torch.cuda.is_available())
    engine = create_engine(settings.database_url)
    try:
        store = DriftStore(engine, open_object_store(settings))
        await asyncio.to_thread(store.migrate)
        # Loading the model takes seconds; the event loop stays free meanwhile.
        encoder = await asyncio.to_thread(get_encoder, device)
    except BaseException:
        engine.dispose()
        raise
    logger.info("embedding model loaded", extra={"device": device})
    batcher = MicroBatcher(
        encoder.encode, settings.drift_batch_size, settings.drift_batch_wait_ms / 1000.0
    )
    records = LogSinkRecords(
        settings.drift_logsink_address,
        settings.drift_logsink_timeout_seconds,
        settings.drift_max_texts_per_request,
        InternalCredentials.from_settings(settings),
    )
    drift = DriftEngine(store, batcher, settings, DriftMetrics(settings.drift_max_metric_monitors))

    async def close() -> None:
        await batcher.close()
        await records.close()
        engine.dispose()

    return DriftServicer(drift, records), close


SPEC = ServiceSpec(
    name="drift",
    service_name=drift_pb2.DESCRIPTOR.services_by_name["DriftService"].full_name,
    settings_cls=DriftSettings,
    add_to_server=drift_pb2_grpc.add_DriftServiceServicer_to_server,
    factory=create_servicer,
)
