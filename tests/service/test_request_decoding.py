"""A request protobuf refuses to parse is INVALID_ARGUMENT naming the field, on every service.

proto3 string fields must hold UTF-8; a client that bypasses its protobuf library (or
a library that does not check) can still send other bytes. These tests send such
requests raw over real gRPC, at any depth of nesting, to services that have no
decoding code of their own, and check that each server keeps serving.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from llmops.v1 import cost_pb2, experiment_pb2, logsink_pb2

from services.common.server import ServiceSpec, running_server
from services.common.settings import CommonSettings
from services.cost.servicer import SPEC as COST
from services.cost.settings import CostSettings
from services.experiment.servicer import SPEC as EXPERIMENT
from services.experiment.settings import ExperimentSettings
from services.logsink.servicer import SPEC as LOGSINK
from tests.service.logsink_support import make_settings, record

BAD_UTF8 = b"\xc3\x28"  # a lead byte followed by a byte that cannot continue it


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited field: a string, bytes or an embedded message."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


@pytest.fixture
async def channels(tmp_path: Path) -> AsyncIterator[dict[str, grpc.aio.Channel]]:
    database = f"sqlite:///{tmp_path / 'llmops.db'}"
    specs: dict[str, tuple[ServiceSpec[Any], CommonSettings]] = {
        "cost": (COST, CostSettings(database_url=database, tiktoken_cache_dir=tmp_path / "tk")),
        "experiment": (EXPERIMENT, ExperimentSettings(database_url=database)),
        "logsink": (LOGSINK, make_settings(database, "local", tmp_path, None)),
    }
    async with contextlib.AsyncExitStack() as stack:
        opened = {}
        for name, (spec, settings) in specs.items():
            built = await stack.enter_async_context(running_server(spec, settings))
            address = f"127.0.0.1:{built.port}"
            opened[name] = await stack.enter_async_context(grpc.aio.insecure_channel(address))
        yield opened


def _rejection(error: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str, str]:
    status = rpc_status.from_call(error)
    assert status is not None, error.details()
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return error.code(), info.metadata["field"], error.details() or ""


async def _unary(channel: grpc.aio.Channel, path: str, payload: bytes) -> grpc.aio.AioRpcError:
    call = channel.unary_unary(path, request_serializer=bytes, response_deserializer=bytes)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(payload, timeout=10)
    return caught.value


async def _drain(call: Any, into: list[bytes]) -> None:
    async for message in call:
        into.append(message)


async def _stream(
    channel: grpc.aio.Channel, path: str, payloads: list[bytes]
) -> grpc.aio.AioRpcError:
    call = channel.stream_stream(path, request_serializer=bytes, response_deserializer=bytes)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _drain(call(iter(payloads), timeout=10), [])
    return caught.value


async def _assert_serving(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    response = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_bad_utf8_in_a_top_level_string_names_the_field(
    channels: dict[str, grpc.aio.Channel],
) -> None:
    count = cost_pb2.CountTokensRequest(model="gpt-4o").SerializeToString() + _field(2, BAD_UTF8)
    error = await _unary(channels["cost"], "/llmops.v1.CostService/CountTokens", count)
    assert _rejection(error) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "text",
        "text: is not valid UTF-8",
    )

    assign = experiment_pb2.AssignRequest(experiment_id="tone").SerializeToString()
    error = await _unary(
        channels["experiment"], "/llmops.v1.ExperimentService/Assign", assign + _field(2, BAD_UTF8)
    )
    assert _rejection(error)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "user_id")

    error = await _unary(
        channels["logsink"], "/llmops.v1.LogSinkService/GetRecord", _field(1, b"req-" + BAD_UTF8)
    )
    assert _rejection(error)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "request_id")

    for channel in channels.values():
        await _assert_serving(channel)


async def test_bad_utf8_in_a_nested_record_names_its_path(
    channels: dict[str, grpc.aio.Channel],
) -> None:
    good = record().SerializeToString()
    bad_model = good + _field(3, BAD_UTF8)
    bad_label = good + _field(15, _field(1, b"team") + _field(2, BAD_UTF8))
    stream_path = "/llmops.v1.LogSinkService/StreamRecords"
    batch = logsink_pb2.StreamRecordsRequest(batch_id="b0").SerializeToString()

    first = batch + _field(2, good) + _field(2, bad_model)
    error = await _stream(channels["logsink"], stream_path, [first])
    assert _rejection(error)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "records[1].model")

    # The first batch is acknowledged; the second fails the stream naming its field.
    ok = logsink_pb2.StreamRecordsRequest(batch_id="b1", records=[record()])
    second = batch + _field(2, bad_label)
    call = channels["logsink"].stream_stream(
        stream_path, request_serializer=bytes, response_deserializer=bytes
    )(iter([ok.SerializeToString(), second]), timeout=10)
    acks: list[bytes] = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _drain(call, acks)
    assert [logsink_pb2.StreamRecordsResponse.FromString(a).batch_id for a in acks] == ["b1"]
    assert _rejection(caught.value)[:2] == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "records[0].metadata",
    )

    await _assert_serving(channels["logsink"])


async def test_bytes_that_are_no_message_are_invalid_argument(
    channels: dict[str, grpc.aio.Channel],
) -> None:
    error = await _unary(channels["cost"], "/llmops.v1.CostService/CountTokens", b"\x0a\xff\xff")
    assert _rejection(error)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "request")
    await _assert_serving(channels["cost"])
