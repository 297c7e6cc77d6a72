"""TLS and mutual TLS come from settings alone."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.server import running_server
from services.common.settings import CommonSettings
from tests.support.echo import SPEC


async def _check(port: int, credentials: grpc.ChannelCredentials) -> int:
    async with grpc.aio.secure_channel(
        f"localhost:{port}", credentials, options=(("grpc.ssl_target_name_override", "localhost"),)
    ) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        return int(response.status)


async def test_tls_server_answers_tls_clients(tmp_path: Path, pki: dict[str, bytes]) -> None:
    settings = CommonSettings(
        host="localhost",
        tls_cert_file=tmp_path / "server_cert.pem",
        tls_key_file=tmp_path / "server_key.pem",
    )
    async with running_server(SPEC, settings) as built:
        credentials = grpc.ssl_channel_credentials(root_certificates=pki["ca"])
        assert await _check(built.port, credentials) == health_pb2.HealthCheckResponse.SERVING


async def test_mutual_tls_requires_a_client_certificate(
    tmp_path: Path, pki: dict[str, bytes]
) -> None:
    settings = CommonSettings(
        host="localhost",
        tls_cert_file=tmp_path / "server_cert.pem",
        tls_key_file=tmp_path / "server_key.pem",
        tls_client_ca_file=tmp_path / "ca.pem",
    )
    async with running_server(SPEC, settings) as built:
        with_client_cert = grpc.ssl_channel_credentials(
            root_certificates=pki["ca"],
            private_key=pki["client_key"],
            certificate_chain=pki["client_cert"],
        )
        assert await _check(built.port, with_client_cert) == health_pb2.HealthCheckResponse.SERVING
        without = grpc.ssl_channel_credentials(root_certificates=pki["ca"])
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _check(built.port, without)
        assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
