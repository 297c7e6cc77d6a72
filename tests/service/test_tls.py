"""TLS and mutual TLS come from settings alone."""

from __future__ import annotations

import datetime
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.server import running_server
from services.common.settings import CommonSettings
from tests.service.test_bootstrap import SPEC

Key = ec.EllipticCurvePrivateKey


def _issue(
    name: str, issuer: tuple[x509.Name, Key] | None, *, ca: bool = False
) -> tuple[x509.Certificate, Key]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256()), key


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, bytes]:
    ca_cert, ca_key = _issue("llmops test CA", None, ca=True)
    server_cert, server_key = _issue("localhost", (ca_cert.subject, ca_key))
    client_cert, client_key = _issue("client", (ca_cert.subject, ca_key))
    files = {
        "ca": _pem(ca_cert),
        "server_cert": _pem(server_cert),
        "server_key": _key_pem(server_key),
        "client_cert": _pem(client_cert),
        "client_key": _key_pem(client_key),
    }
    for name, data in files.items():
        (tmp_path / f"{name}.pem").write_bytes(data)
    return files


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
