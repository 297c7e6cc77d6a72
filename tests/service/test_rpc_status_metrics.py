"""``llmops_rpc_*`` record the status a streaming RPC really ended with, over real gRPC.

When a client cancels a stream, or lets its deadline pass, while the handler waits for
the next request, grpc.aio ends the request stream just as a half-close does and the
handler returns normally. These tests abandon the streaming RPCs of LogSink and
GuardrailService that way and read the Prometheus registry before and after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from llmops.v1 import guardrail_pb2, guardrail_pb2_grpc, logsink_pb2
from prometheus_client import REGISTRY

from services.common.server import running_server
from services.guardrail.servicer import SPEC as GUARDRAIL
from services.guardrail.settings import GuardrailSettings
from tests.service.logsink_support import LogSink, batch, logsink, make_settings, record
from tests.support.policies import pattern_only_policies

LOGSINK_SERVICE = "llmops.v1.LogSinkService"
GUARDRAIL_SERVICE = "llmops.v1.GuardrailService"
CODES = ("OK", "CANCELLED", "DEADLINE_EXCEEDED", "UNKNOWN", "INTERNAL")


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[LogSink]:
    settings = make_settings(f"sqlite:///{tmp_path / 'logsink.db'}", "local", tmp_path, None)
    async with logsink(settings) as running:
        yield running


@pytest.fixture
async def guardrail(tmp_path: Path) -> AsyncIterator[guardrail_pb2_grpc.GuardrailServiceStub]:
    settings = GuardrailSettings(
        guardrail_policy_file=pattern_only_policies(tmp_path),
        pseudonym_secret="rpc-metrics-test-secret-0123456789",
    )
    async with (
        running_server(GUARDRAIL, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        yield guardrail_pb2_grpc.GuardrailServiceStub(channel)


def _counts(service: str, method: str) -> dict[str, float]:
    """Completed calls by code; the counter and the histogram always agree."""
    counts = {}
    for code in CODES:
        labels = {"service": service, "method": method, "code": code}
        total = REGISTRY.get_sample_value("llmops_rpc_requests_total", labels) or 0.0
        timed = REGISTRY.get_sample_value("llmops_rpc_duration_seconds_count", labels) or 0.0
        assert total == timed
        counts[code] = total
    return counts


async def _recorded(
    service: str, method: str, abandon: Callable[[], Any], calls: int
) -> dict[str, float]:
    """Run ``abandon`` ``calls`` times; the codes the server recorded for those calls."""
    before = _counts(service, method)
    for _ in range(calls):
        await abandon()
    for _ in range(500):
        after = _counts(service, method)
        added = {code: after[code] - before[code] for code in CODES}
        if sum(added.values()) >= calls:
            return {code: n for code, n in added.items() if n}
        await asyncio.sleep(0.01)
    raise AssertionError(f"the server recorded fewer than {calls} {method} calls")


def _chunk(text: str) -> guardrail_pb2.CheckOutputStreamRequest:
    return guardrail_pb2.CheckOutputStreamRequest(chunk=text)


async def test_record_stream_cancelled_while_waiting_for_a_batch_counts_cancelled(
    sink: LogSink,
) -> None:
    async def abandon() -> None:
        call = sink.stub.StreamRecords(timeout=30)
        await call.write(batch("b0", [record()]))
        assert (await call.read()).stored == 1
        call.cancel()

    assert await _recorded(LOGSINK_SERVICE, "StreamRecords", abandon, 5) == {"CANCELLED": 5}


async def test_write_stream_cancelled_counts_cancelled(sink: LogSink) -> None:
    async def abandon() -> None:
        call = sink.stub.WriteRecords(timeout=30)
        await call.write(logsink_pb2.WriteRecordsRequest(records=[record()]))
        await asyncio.sleep(0.02)
        call.cancel()

    assert await _recorded(LOGSINK_SERVICE, "WriteRecords", abandon, 5) == {"CANCELLED": 5}


async def test_record_stream_past_its_deadline_counts_deadline_exceeded(sink: LogSink) -> None:
    async def abandon() -> None:
        call = sink.stub.StreamRecords(timeout=0.5)
        await call.write(batch("b0", [record()]))
        assert (await call.read()).stored == 1
        assert await call.code() is grpc.StatusCode.DEADLINE_EXCEEDED

    recorded = await _recorded(LOGSINK_SERVICE, "StreamRecords", abandon, 2)
    assert recorded == {"DEADLINE_EXCEEDED": 2}


async def test_output_stream_cancelled_before_its_first_chunk_counts_cancelled(
    guardrail: guardrail_pb2_grpc.GuardrailServiceStub,
) -> None:
    async def abandon() -> None:
        call = guardrail.CheckOutputStream(timeout=30)
        await asyncio.sleep(0.01)
        call.cancel()

    recorded = await _recorded(GUARDRAIL_SERVICE, "CheckOutputStream", abandon, 20)
    assert recorded == {"CANCELLED": 20}


async def test_output_stream_cancelled_between_chunks_counts_cancelled_without_errors(
    guardrail: guardrail_pb2_grpc.GuardrailServiceStub, caplog: pytest.LogCaptureFixture
) -> None:
    async def abandon() -> None:
        call = guardrail.CheckOutputStream(timeout=30)
        await call.write(_chunk("The answer is 42. "))
        await call.read()
        call.cancel()

    with caplog.at_level(logging.ERROR):
        recorded = await _recorded(GUARDRAIL_SERVICE, "CheckOutputStream", abandon, 50)
    assert recorded == {"CANCELLED": 50}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_output_stream_past_its_deadline_counts_deadline_exceeded(
    guardrail: guardrail_pb2_grpc.GuardrailServiceStub,
) -> None:
    async def abandon() -> None:
        call = guardrail.CheckOutputStream(timeout=0.2)
        await call.write(_chunk("The answer is 42. "))
        await call.read()
        assert await call.code() is grpc.StatusCode.DEADLINE_EXCEEDED

    recorded = await _recorded(GUARDRAIL_SERVICE, "CheckOutputStream", abandon, 5)
    assert recorded == {"DEADLINE_EXCEEDED": 5}


async def test_completed_streams_count_ok(
    sink: LogSink, guardrail: guardrail_pb2_grpc.GuardrailServiceStub
) -> None:
    async def record_stream() -> None:
        acks = await sink.stream([batch("b0", [record()]), batch("b1", [record()])])
        assert [a.stored for a in acks] == [1, 1]

    async def write_stream() -> None:
        request = logsink_pb2.WriteRecordsRequest(records=[record()])
        assert (await sink.stub.WriteRecords(iter([request]), timeout=30)).stored == 1

    async def output_stream() -> None:
        chunks = [_chunk("The answer "), _chunk("is 42.")]
        responses = [r async for r in guardrail.CheckOutputStream(iter(chunks), timeout=30)]
        assert "".join(r.release_text for r in responses) == "The answer is 42."

    assert await _recorded(LOGSINK_SERVICE, "StreamRecords", record_stream, 3) == {"OK": 3}
    assert await _recorded(LOGSINK_SERVICE, "WriteRecords", write_stream, 3) == {"OK": 3}
    recorded = await _recorded(GUARDRAIL_SERVICE, "CheckOutputStream", output_stream, 20)
    assert recorded == {"OK": 20}
