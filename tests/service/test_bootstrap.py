"""The shared bootstrap: health, reflection, tenancy, auth, error mapping, metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from prometheus_client import REGISTRY

from services.common.server import BuiltServer, running_server
from services.common.settings import CommonSettings
from services.common.tenancy import hash_api_key
from tests.support.echo import SERVICE, SPEC


@pytest.fixture
async def echo() -> AsyncIterator[tuple[BuiltServer, grpc.aio.Channel]]:
    async with (
        running_server(SPEC, CommonSettings()) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        yield built, channel


def _unary(channel: grpc.aio.Channel, name: str) -> Any:
    return channel.unary_unary(f"/{SERVICE}/{name}")


def _error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info


async def _drain(call: Any, into: list[bytes]) -> None:
    async for message in call:
        into.append(message)


def _count(method: str, code: str) -> float:
    value = REGISTRY.get_sample_value(
        "llmops_rpc_requests_total", {"service": SERVICE, "method": method, "code": code}
    )
    return value or 0.0


async def _count_reaching(method: str, code: str, expected: float) -> float:
    """The counter once it reaches ``expected``, or after 2 s: the server counts a call
    after its status went out, so the client may see the status first."""
    for _ in range(200):
        if (value := _count(method, code)) >= expected:
            return value
        await asyncio.sleep(0.01)
    return _count(method, code)


async def test_health_reports_serving_for_server_and_service(echo: Any) -> None:
    _, channel = echo
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE):
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_service_health_and_reflection(echo: Any) -> None:
    _, channel = echo
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for response in stub.ServerReflectionInfo(iter([request]), timeout=5):
        names = {s.name for s in response.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names


async def test_tenant_defaults_and_follows_metadata(echo: Any) -> None:
    _, channel = echo
    assert await _unary(channel, "Tenant")(b"", timeout=5) == b"default"
    reply = await _unary(channel, "Tenant")(b"", metadata=(("x-llmops-tenant", "acme"),), timeout=5)
    assert reply == b"acme"


async def test_malformed_tenant_is_invalid_argument(echo: Any) -> None:
    _, channel = echo
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _unary(channel, "Tenant")(b"", metadata=(("x-llmops-tenant", "../x"),), timeout=5)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_domain_error_maps_to_status_with_error_info(echo: Any) -> None:
    _, channel = echo
    before = _count("Invalid", "INVALID_ARGUMENT")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _unary(channel, "Invalid")(b"", timeout=5)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "model: unknown model"
    info = _error_info(caught.value)
    assert (info.reason, info.domain, info.metadata["field"]) == (
        "INVALID_ARGUMENT",
        "llmops.dev",
        "model",
    )
    assert await _count_reaching("Invalid", "INVALID_ARGUMENT", before + 1) == before + 1


async def test_unexpected_exception_is_generic_internal_and_server_survives(echo: Any) -> None:
    _, channel = echo
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _unary(channel, "Crash")(b"", timeout=5)
    assert caught.value.code() is grpc.StatusCode.INTERNAL
    assert "secret" not in (caught.value.details() or "")
    assert await _unary(channel, "Tenant")(b"", timeout=5) == b"default"


async def test_abort_keeps_its_code_in_status_and_metrics(echo: Any) -> None:
    _, channel = echo
    before = _count("Abort", "NOT_FOUND")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _unary(channel, "Abort")(b"", timeout=5)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "nothing here"
    assert await _count_reaching("Abort", "NOT_FOUND", before + 1) == before + 1


async def test_generated_base_unimplemented_stays_unimplemented(echo: Any) -> None:
    _, channel = echo
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _unary(channel, "Unimplemented")(b"", timeout=5)
    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert await _count_reaching("Unimplemented", "UNIMPLEMENTED", 1) >= 1


async def test_server_stream_sees_tenant_then_mapped_error(echo: Any) -> None:
    _, channel = echo
    call = channel.unary_stream(f"/{SERVICE}/Stream")(
        b"", metadata=(("x-llmops-tenant", "acme"),), timeout=5
    )
    received: list[bytes] = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _drain(call, received)
    assert received == [b"acme"] * 3
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_client_stream_and_bidi_stream_see_tenant(echo: Any) -> None:
    _, channel = echo
    metadata = (("x-llmops-tenant", "acme"),)
    collected = await channel.stream_unary(f"/{SERVICE}/Collect")(
        iter([b"a", b"b"]), metadata=metadata, timeout=5
    )
    assert collected == b"a,b@acme"
    chat = channel.stream_stream(f"/{SERVICE}/Chat")(
        iter([b"x", b"y"]), metadata=metadata, timeout=5
    )
    assert [m async for m in chat] == [b"x@acme", b"y@acme"]


async def test_in_flight_call_finishes_during_graceful_stop() -> None:
    built_cm = running_server(SPEC, CommonSettings())
    built = await built_cm.__aenter__()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel:
        call = asyncio.ensure_future(_unary(channel, "Slow")(b"", timeout=5))
        await asyncio.sleep(0.1)
        await built_cm.__aexit__(None, None, None)
        assert await call == b"done"


@pytest.fixture
def keyed_settings(tmp_path: Path) -> CommonSettings:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"acme": [hash_api_key("acme-key")], "globex": []}))
    return CommonSettings(api_keys_file=keys)


async def test_api_key_decides_tenant(keyed_settings: CommonSettings) -> None:
    async with (
        running_server(SPEC, keyed_settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        tenant = _unary(channel, "Tenant")
        assert await tenant(b"", metadata=(("authorization", "Bearer acme-key"),)) == b"acme"
        assert await tenant(b"", metadata=(("x-api-key", "acme-key"),)) == b"acme"


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ((), grpc.StatusCode.UNAUTHENTICATED),
        ((("x-api-key", "wrong"),), grpc.StatusCode.UNAUTHENTICATED),
        (
            (("x-api-key", "acme-key"), ("x-llmops-tenant", "globex")),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
    ],
    ids=["missing-key", "unknown-key", "other-tenant"],
)
async def test_api_key_rejections(
    keyed_settings: CommonSettings, metadata: tuple[tuple[str, str], ...], code: grpc.StatusCode
) -> None:
    async with (
        running_server(SPEC, keyed_settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _unary(channel, "Tenant")(b"", metadata=metadata, timeout=5)
        assert caught.value.code() is code
        health = health_pb2_grpc.HealthStub(channel)
        response = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
