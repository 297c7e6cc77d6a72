"""The one server bootstrap every llmops service uses.

A service describes itself with a :class:`ServiceSpec` and its ``__main__`` calls
``serve(SPEC)``. Building and running are separate steps, as in grpc's own examples:
:func:`build_server` binds and registers (port 0 in tests), :func:`start_server`
starts and reports SERVING, and :func:`serve` adds settings, logging, the metrics
endpoint and signal handling around them. Tests use :func:`running_server`.

Shutdown order on SIGTERM/SIGINT: health goes NOT_SERVING (load balancers stop
sending), ``server.stop(grace)`` lets in-flight calls finish, then the service's
close callback flushes whatever it buffers, then the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from services.common.interceptors import interceptors_for
from services.common.logging import configure_logging
from services.common.settings import CommonSettings, SettingsError, load_settings
from services.common.tenancy import ApiKeys

logger = logging.getLogger(__name__)

S = TypeVar("S", bound=CommonSettings)
CloseCallback = Callable[[], Awaitable[None]]
EXIT_CONFIG_ERROR = 2


@dataclass(frozen=True)
class ServiceSpec(Generic[S]):
    """Everything the bootstrap needs to know about one service.

    ``factory`` builds the servicer from settings (opening databases, loading models)
    and may return a close callback that runs after the server has stopped.
    """

    name: str
    """Short name used in logs and the supervisor, e.g. ``"guardrail"``."""
    service_name: str
    """Full proto service name, e.g. ``"llmops.v1.GuardrailService"``."""
    settings_cls: type[S]
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    """The generated ``add_<X>Servicer_to_server`` function."""
    factory: Callable[[S], Awaitable[tuple[Any, CloseCallback | None]]]


@dataclass(frozen=True)
class BuiltServer:
    """A bound, not yet started server and what was built with it."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    servicer: Any
    close: CloseCallback | None


async def build_server(spec: ServiceSpec[S], settings: S, port: int | None = None) -> BuiltServer:
    """Create the servicer and a bound grpc.aio server with health and reflection.

    ``port`` overrides ``settings.port`` (tests pass 0 and read ``BuiltServer.port``).
    """
    api_keys = ApiKeys.load(settings.api_keys_file) if settings.api_keys_file else None
    credentials = _server_credentials(settings)
    servicer, close = await spec.factory(settings)
    server = grpc.aio.server(
        interceptors=interceptors_for(settings.default_tenant, api_keys),
        options=_server_options(settings),
    )
    spec.add_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            spec.service_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    address = f"{_bind_host(settings.host)}:{settings.port if port is None else port}"
    try:
        if credentials is None:
            bound = server.add_insecure_port(address)
        else:
            bound = server.add_secure_port(address, credentials)
    except RuntimeError:
        if close is not None:
            await close()
        raise
    return BuiltServer(server, bound, health_servicer, servicer, close)


async def start_server(spec: ServiceSpec[Any], built: BuiltServer) -> None:
    """Start serving and only then report SERVING, for the server and the service."""
    await built.server.start()
    for name in ("", spec.service_name):
        await built.health.set(name, health_pb2.HealthCheckResponse.SERVING)


async def stop_server(built: BuiltServer, grace: float) -> None:
    """NOT_SERVING first, then let in-flight calls finish, then flush the service."""
    await built.health.enter_graceful_shutdown()
    await built.server.stop(grace)
    if built.close is not None:
        await built.close()


@asynccontextmanager
async def running_server(
    spec: ServiceSpec[S], settings: S, port: int = 0
) -> AsyncIterator[BuiltServer]:
    """A started server on a free port for tests; stopped (1 s grace) on exit."""
    built = await build_server(spec, settings, port=port)
    await start_server(spec, built)
    try:
        yield built
    finally:
        await stop_server(built, grace=1.0)


def serve(spec: ServiceSpec[Any]) -> None:
    """Run one service until SIGTERM/SIGINT; the entry point of ``python -m services.X``."""
    try:
        settings = load_settings(spec.settings_cls)
    except SettingsError as exc:
        print(f"{spec.name}: {exc}", file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    configure_logging(settings, spec.name)
    code = asyncio.run(_serve(spec, settings))
    # The server is stopped and the service has flushed through its close callback.
    # Interpreter finalisation of torch and similar libraries can then take several
    # seconds of a pod's termination grace period while doing nothing useful, so
    # flush what is left and end the process now.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def _serve(spec: ServiceSpec[S], settings: S) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        start_http_server(settings.metrics_port, addr=_metrics_host(settings.host))
        built = await build_server(spec, settings)
    except (OSError, RuntimeError, SettingsError, ValueError) as exc:
        logger.error("%s failed to start: %s", spec.name, exc)
        return 1
    await start_server(spec, built)
    logger.info(
        "%s serving",
        spec.service_name,
        extra={"grpc_port": built.port, "metrics_port": settings.metrics_port},
    )
    await stop.wait()
    logger.info("shutting down, grace %.1f s", settings.grace_seconds)
    await stop_server(built, settings.grace_seconds)
    logger.info("%s stopped", spec.service_name)
    return 0


def _server_options(settings: CommonSettings) -> list[tuple[str, int]]:
    return [
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", int(settings.keepalive_time_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout_seconds * 1000)),
        # Without these the server answers client keepalive pings more often than
        # every 5 minutes, or on idle connections, with GOAWAY (too_many_pings).
        (
            "grpc.http2.min_ping_interval_without_data_ms",
            int(settings.keepalive_min_client_interval_seconds * 1000),
        ),
        ("grpc.keepalive_permit_without_calls", 1),
    ]


def _server_credentials(settings: CommonSettings) -> grpc.ServerCredentials | None:
    """TLS when a certificate is configured; mutual TLS when a client CA is too."""
    if settings.tls_cert_file is None and settings.tls_key_file is None:
        if settings.tls_client_ca_file is not None:
            raise SettingsError("LLMOPS_TLS_CLIENT_CA_FILE needs LLMOPS_TLS_CERT_FILE")
        return None
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        raise SettingsError("LLMOPS_TLS_CERT_FILE and LLMOPS_TLS_KEY_FILE must be set together")
    client_ca = settings.tls_client_ca_file.read_bytes() if settings.tls_client_ca_file else None
    return grpc.ssl_server_credentials(
        [(settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes())],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _metrics_host(host: str) -> str:
    return host.strip("[]")
