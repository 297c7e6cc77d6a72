"""``python -m services.common.healthcheck``: the container health check of docker-compose."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from services.common.healthcheck import EXIT_NOT_SERVING, EXIT_SERVING, check, main
from services.common.server import BuiltServer, ServiceSpec, running_server
from services.common.settings import CommonSettings
from tests.support.certs import write_pki

SERVICE = "test.v1.ProbeService"


async def _factory(settings: CommonSettings) -> tuple[object, None]:
    return object(), None


def _add_nothing(servicer: Any, server: grpc.aio.Server) -> None:
    """Health and reflection are all this server needs."""


SPEC = ServiceSpec(
    name="probe",
    service_name=SERVICE,
    settings_cls=CommonSettings,
    add_to_server=_add_nothing,
    factory=_factory,
)


@pytest.fixture
async def server() -> AsyncIterator[BuiltServer]:
    async with running_server(SPEC, CommonSettings()) as built:
        yield built


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serving_server_and_service_pass(server: BuiltServer) -> None:
    address = f"127.0.0.1:{server.port}"
    # check() is blocking and the server runs on this event loop.
    assert await asyncio.to_thread(check, address)
    assert await asyncio.to_thread(check, address, SERVICE)


async def test_unknown_service_fails(server: BuiltServer) -> None:
    assert not await asyncio.to_thread(check, f"127.0.0.1:{server.port}", "llmops.v1.NoService")


async def test_server_in_graceful_shutdown_fails(server: BuiltServer) -> None:
    await server.health.enter_graceful_shutdown()
    assert not await asyncio.to_thread(check, f"127.0.0.1:{server.port}", SERVICE)


def test_nothing_listening_fails_within_the_timeout() -> None:
    assert not check(f"127.0.0.1:{_closed_port()}", timeout=1.0)


async def test_command_exit_codes(server: BuiltServer) -> None:
    async def run(address: str) -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.common.healthcheck",
            address,
            SERVICE,
            "--timeout",
            "2",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return await asyncio.wait_for(process.wait(), timeout=30)

    assert await run(f"127.0.0.1:{server.port}") == EXIT_SERVING
    assert await run(f"127.0.0.1:{_closed_port()}") == EXIT_NOT_SERVING


@pytest.fixture
def pki_files(tmp_path: Path) -> Path:
    """A CA, a server certificate for localhost and a client certificate, as PEM files."""
    write_pki(tmp_path, "probe")
    return tmp_path


async def test_mutual_tls_server_is_checked_with_ca_and_client_certificate(
    pki_files: Path,
) -> None:
    tmp_path = pki_files
    settings = CommonSettings(
        tls_cert_file=tmp_path / "server_cert.pem",
        tls_key_file=tmp_path / "server_key.pem",
        tls_client_ca_file=tmp_path / "ca.pem",
    )
    async with running_server(SPEC, settings) as built:
        address = f"127.0.0.1:{built.port}"
        tls = ["--ca", str(tmp_path / "ca.pem"), "--server-name", "localhost"]
        client = ["--cert", str(tmp_path / "client_cert.pem")]
        client += ["--key", str(tmp_path / "client_key.pem")]
        args = [address, SERVICE, "--timeout", "5"]
        assert await asyncio.to_thread(main, [*args, *tls, *client]) == EXIT_SERVING
        # Without the client certificate the handshake fails; plaintext fails too.
        assert await asyncio.to_thread(main, [*args, *tls]) == EXIT_NOT_SERVING
        assert await asyncio.to_thread(main, args) == EXIT_NOT_SERVING
