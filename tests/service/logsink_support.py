"""Helpers shared by the LogSink service tests: settings, a running server, records."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from llmops.v1 import common_pb2, logsink_pb2, logsink_pb2_grpc

from services.common.objectstore import ObjectStore, open_object_store
from services.common.server import running_server
from services.logsink.records import Limits, parse
from services.logsink.servicer import SPEC
from services.logsink.settings import LogSinkSettings, TextMode
from tests.conftest import S3Server

BASE_SECONDS = 1_780_000_000  # 2026-05-28, safely in the past of the test clock


def make_settings(
    database_url: str,
    store_kind: str,
    tmp_path: Path,
    s3_server: S3Server | None,
    **overrides: Any,
) -> LogSinkSettings:
    """Settings for one test: its database, a fresh object store, text kept in full."""
    if store_kind == "local":
        store = {"object_store": f"file:{tmp_path / 'objects'}"}
    else:
        assert s3_server is not None
        store = {
            "object_store": f"s3://logsink-{uuid.uuid4().hex[:12]}",
            "s3_endpoint": s3_server.endpoint,
            "s3_access_key": s3_server.access_key,
            "s3_secret_key": s3_server.secret_key,
            "s3_region": s3_server.region,
        }
    values: dict[str, Any] = {
        "database_url": database_url,
        "text_mode": TextMode.FULL,
        **store,
        **overrides,
    }
    return dataclasses.replace(LogSinkSettings(), **values)


@dataclass
class LogSink:
    """A running in-process LogSink and a stub talking to it over loopback."""

    stub: logsink_pb2_grpc.LogSinkServiceStub
    settings: LogSinkSettings
    objects: ObjectStore

    async def stream(
        self, batches: Iterable[logsink_pb2.StreamRecordsRequest], tenant: str = "default"
    ) -> list[logsink_pb2.StreamRecordsResponse]:
        """Send batches on one bidirectional stream; return every ack."""
        call = self.stub.StreamRecords(
            iter(list(batches)), metadata=((("x-llmops-tenant", tenant),)), timeout=60
        )
        return [ack async for ack in call]


@asynccontextmanager
async def logsink(settings: LogSinkSettings) -> AsyncIterator[LogSink]:
    """Start LogSink on a free port with ``settings``."""
    async with (
        running_server(SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        yield LogSink(
            logsink_pb2_grpc.LogSinkServiceStub(channel), settings, open_object_store(settings)
        )


def record(
    request_id: str | None = None,
    *,
    seconds: int = BASE_SECONDS,
    model: str = "gpt-4o-mini",
    prompt_template: str = "support-answer@v1",
    latency_ms: float = 250.0,
    status: int = common_pb2.CALL_STATUS_SUCCESS,
    input_tokens: int = 100,
    output_tokens: int = 20,
    prompt_text: str = "",
    response_text: str = "",
    **fields: Any,
) -> common_pb2.CallRecord:
    """A valid record; keyword arguments override any field."""
    message = common_pb2.CallRecord(
        request_id=str(uuid.uuid4()) if request_id is None else request_id,
        model=model,
        prompt_template=prompt_template,
        latency_ms=latency_ms,
        status=status,
        usage=common_pb2.TokenUsage(input_tokens=input_tokens, output_tokens=output_tokens),
        prompt_text=prompt_text,
        response_text=response_text,
        **fields,
    )
    message.timestamp.seconds = seconds
    return message


def batch(
    batch_id: str, records: Iterable[common_pb2.CallRecord]
) -> logsink_pb2.StreamRecordsRequest:
    """One streamed batch."""
    return logsink_pb2.StreamRecordsRequest(batch_id=batch_id, records=list(records))


def sql_rows(request_ids: Iterable[str], now_us: int) -> list[dict[str, Any]]:
    """The SQL rows of valid records with these ids, as ingestion builds them."""
    limits = Limits(max_text_bytes=1 << 20, max_future_us=0)
    rows = [parse(record(request_id), "default", now_us, limits) for request_id in request_ids]
    assert all(isinstance(row, dict) for row in rows)
    return rows  # type: ignore[return-value]
